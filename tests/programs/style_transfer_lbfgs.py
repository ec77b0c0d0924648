# Neural style transfer as in the PyTorch tutorial, on 16x16 digit images: a
# small conv "feature" net (its weights frozen with requires_grad_(False)),
# ContentLoss / StyleLoss modules inserted after chosen layers of a new
# nn.Sequential (the tutorial's get_style_model_and_losses loop over
# children() with isinstance checks), Gram matrices from torch.mm over
# features viewed (b * c, h * w) and divided by their numel, a Normalization
# module with mean/std tensors viewed (-1, 1, 1), and the input image itself
# optimised with optim.LBFGS([input_img]) and a closure that clamps it in
# torch.no_grad(); before it, feature inversion with
# LBFGS(line_search_fn="strong_wolfe") and the optimizer's state counters.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    """The pretrained stand-in: a VGG-like stack of conv / relu / pool."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(inplace=False),
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=False),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(inplace=False),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(inplace=False),
        )


class ContentLoss(nn.Module):
    def __init__(self, target):
        super(ContentLoss, self).__init__()
        # we 'detach' the target content from the tree used
        # to dynamically compute the gradient
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


def gram_matrix(input):
    a, b, c, d = input.size()  # a=batch size(=1), b=number of feature maps
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())  # compute the gram product
    # we 'normalize' the values of the gram matrix
    # by dividing by the number of element in each feature maps.
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super(StyleLoss, self).__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        G = gram_matrix(input)
        self.loss = F.mse_loss(G, self.target)
        return input


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super(Normalization, self).__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


content_layers_default = ["conv_4"]
style_layers_default = ["conv_1", "conv_2", "conv_3", "conv_4"]


def get_style_model_and_losses(cnn, mean, std, style_img, content_img,
                               content_layers=content_layers_default,
                               style_layers=style_layers_default):
    normalization = Normalization(mean, std)
    content_losses = []
    style_losses = []
    model = nn.Sequential(normalization)
    i = 0  # increment every time we see a conv
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = "conv_{}".format(i)
        elif isinstance(layer, nn.ReLU):
            name = "relu_{}".format(i)
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = "pool_{}".format(i)
        else:
            raise RuntimeError("Unrecognized layer: {}".format(layer.__class__.__name__))
        model.add_module(name, layer)
        if name in content_layers:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module("content_loss_{}".format(i), content_loss)
            content_losses.append(content_loss)
        if name in style_layers:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module("style_loss_{}".format(i), style_loss)
            style_losses.append(style_loss)

    # now we trim off the layers after the last content and style losses
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):
            break
    model = model[:(i + 1)]
    return model, style_losses, content_losses


def run_style_transfer(cnn, mean, std, content_img, style_img, input_img, log,
                       num_steps=4, style_weight=1000, content_weight=1):
    model, style_losses, content_losses = get_style_model_and_losses(
        cnn, mean, std, style_img, content_img)
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = optim.LBFGS([input_img])
    run = [0]
    while run[0] <= num_steps:
        def closure():
            # correct the values of updated input image
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0
            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss
            style_score *= style_weight
            content_score *= content_weight
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            log.append({"loss": loss.item(), "style": style_score.item(),
                        "content": content_score.item()})
            return style_score + content_score
        optimizer.step(closure)
    # a last correction...
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return input_img, len(model)


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    imgs = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    big = F.interpolate(imgs[:2], scale_factor=2, mode="bilinear", align_corners=False)
    content_img, style_img = big[0:1], big[1:2].flip(-1)
    net = Net()
    net.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    cnn = net.features.eval()
    cnn.requires_grad_(False)
    mean, std = [0.3], [0.4]
    log = []
    # feature inversion: reconstruct an image from its conv_2 features
    target = cnn[:4](content_img).detach()
    x = torch.full_like(content_img, 0.5).requires_grad_()
    opt = optim.LBFGS([x], lr=1, max_iter=20, history_size=10,
                      line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        tv = (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean()
        loss = F.mse_loss(cnn[:4](x), target) + 1e-3 * tv
        loss.backward()
        return loss

    loss = opt.step(closure)
    log.append({"loss": loss.item(), "n_iter": opt.state[opt._params[0]]["n_iter"],
                    "func_evals": opt.state[opt._params[0]]["func_evals"]})
    input_img = content_img.clone()
    output, n_layers = run_style_transfer(cnn, mean, std, content_img, style_img, input_img,
                                          log)
    log.append({"n_layers": n_layers, "out_mean": output.mean().item(),
                "out_min": output.min().item(), "out_max": output.max().item()})

    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
