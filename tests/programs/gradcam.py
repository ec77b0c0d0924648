# Grad-CAM on a small CNN, as the pytorch-grad-cam style scripts write it:
# the classifier is trained first (SGD, a few epochs), then a GradCAM class
# keeps the target layer's activations from register_forward_hook and its
# gradients from register_full_backward_hook (and, a second time, from
# tensor.register_hook on the activation), backpropagates the score of a
# class given by a one-hot mask, weights the channels by the spatially
# averaged gradient, F.relu, upsamples with F.interpolate(mode="bilinear",
# align_corners=False) to the image size, and min-max normalises each map.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU())
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                                        nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class GradCAM:
    def __init__(self, model, target_layer):
        self.model = model
        self.activations = None
        self.gradients = None
        self.handles = [target_layer.register_forward_hook(self.save_activation),
                        target_layer.register_full_backward_hook(self.save_gradient)]

    def save_activation(self, module, input, output):
        self.activations = output.detach()

    def save_gradient(self, module, grad_input, grad_output):
        self.gradients = grad_output[0].detach()

    def __call__(self, x, class_idx=None):
        self.model.zero_grad()
        logits = self.model(x)
        if class_idx is None:
            class_idx = logits.argmax(dim=1)
        one_hot = torch.zeros_like(logits)
        one_hot[torch.arange(x.size(0)), class_idx] = 1.0
        logits.backward(gradient=one_hot, retain_graph=False)
        weights = self.gradients.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * self.activations).sum(dim=1, keepdim=True))
        cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
        b = cam.size(0)
        flat = cam.view(b, -1)
        cam_min = flat.min(dim=1, keepdim=True)[0]
        cam_max = flat.max(dim=1, keepdim=True)[0]
        cam = ((flat - cam_min) / (cam_max - cam_min + 1e-7)).view_as(cam)
        return cam, class_idx

    def remove(self):
        for h in self.handles:
            h.remove()


def main(workdir):
    torch.manual_seed(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    labels = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    log = []
    for epoch in range(3):
        for i in range(0, 640, 64):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images[i:i + 64]), labels[i:i + 64])
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item()})
    model.eval()
    cam_layer = model.features[5]          # the last ReLU: its output is the feature map
    gradcam = GradCAM(model, cam_layer)
    x = images[1400:1416]
    cam, cls = gradcam(x)
    cam_t, _ = gradcam(x, class_idx=labels[1400:1416])
    gradcam.remove()
    # the same map with a tensor hook on the activation instead of module hooks
    saved = {}
    h = model.features[:6](x)
    h.register_hook(lambda g: saved.update(grad=g))
    logits = model.classifier(h)
    logits.gather(1, cls.view(-1, 1)).sum().backward()
    w = saved["grad"].mean(dim=(2, 3), keepdim=True)
    cam2 = F.relu((w * h.detach()).sum(1, keepdim=True))
    cam2 = F.interpolate(cam2, scale_factor=2, mode="bilinear", align_corners=False)
    cam2 = cam2 / (cam2.amax(dim=(2, 3), keepdim=True) + 1e-7)
    log.append({"cam_mean": cam.mean().item(), "cam_std": cam.std().item(),
                "cam_true_mean": cam_t.mean().item(), "cam_shape": list(cam.shape),
                "pred": cls.tolist(), "cam_in_range": bool(((cam >= 0) & (cam <= 1)).all()),
                "cam2_mean": cam2.mean().item(),
                "hooks_left": len(cam_layer._forward_hooks) + len(cam_layer._backward_hooks),
                "peak_corr": np.corrcoef(cam.flatten().numpy(), cam2.flatten().numpy())[0, 1]})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
