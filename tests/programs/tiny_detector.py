# A tiny one-stage object detector in the YOLO / FCOS style: digits pasted
# at random places on a 16x16 canvas, a conv backbone predicting per grid
# cell an objectness logit, box offsets and class logits; targets assigned
# to the cell holding the box centre (torch.meshgrid grid, integer division,
# index assignment), box IoU by broadcasting torch.max / torch.min with
# clamp(min=0), the GIoU loss, BCE-with-logits objectness with pos_weight,
# cross-entropy on the assigned cells only (boolean-mask indexing), Adam,
# then decoding with sigmoid / exp, score thresholding and a hand-written
# greedy NMS (argsort descending, a while loop over the kept boxes).
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

S, CELL = 4, 4          # a 4x4 grid of 4-pixel cells on the 16x16 canvas


def make_scenes(images, labels, rng, n):
    canvas = np.zeros((n, 1, 16, 16), np.float32)
    boxes = np.zeros((n, 4), np.float32)
    for i in range(n):
        y0, x0 = rng.integers(0, 9, 2)
        canvas[i, 0, y0:y0 + 8, x0:x0 + 8] = images[i, 0]
        boxes[i] = [x0, y0, x0 + 8, y0 + 8]
    return torch.from_numpy(canvas), torch.from_numpy(boxes), torch.from_numpy(labels[:n])


def box_iou(boxes1, boxes2):
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = torch.max(boxes1[:, None, :2], boxes2[:, :2])
    rb = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    return inter / (area1[:, None] + area2 - inter)


def giou_loss(pred, target, eps=1e-7):
    x1, y1, x2, y2 = pred.unbind(dim=-1)
    x1g, y1g, x2g, y2g = target.unbind(dim=-1)
    xkis1, ykis1 = torch.max(x1, x1g), torch.max(y1, y1g)
    xkis2, ykis2 = torch.min(x2, x2g), torch.min(y2, y2g)
    intsctk = torch.zeros_like(x1)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    intsctk[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
    unionk = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk
    iouk = intsctk / (unionk + eps)
    area_c = (torch.max(x2, x2g) - torch.min(x1, x1g)) * (torch.max(y2, y2g) - torch.min(y1, y1g))
    return (1 - (iouk - (area_c - unionk) / (area_c + eps))).mean()


def nms(boxes, scores, iou_threshold):
    order = scores.argsort(descending=True)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(i.item())
        if order.numel() == 1:
            break
        ious = box_iou(boxes[i].unsqueeze(0), boxes[order[1:]])[0]
        order = order[1:][ious <= iou_threshold]
    return torch.tensor(keep, dtype=torch.long)


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.LeakyReLU(0.1), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.LeakyReLU(0.1), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.LeakyReLU(0.1))
        self.head = nn.Conv2d(32, 1 + 4 + num_classes, 1)

    def forward(self, x):
        return self.head(self.backbone(x)).permute(0, 2, 3, 1)    # B, S, S, 15


def decode(out):
    gy, gx = torch.meshgrid(torch.arange(S), torch.arange(S), indexing="ij")
    cx = (gx + torch.sigmoid(out[..., 1])) * CELL
    cy = (gy + torch.sigmoid(out[..., 2])) * CELL
    w, h = torch.exp(out[..., 3]) * 8, torch.exp(out[..., 4]) * 8
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def main(workdir):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    scenes, boxes, classes = make_scenes(d["images"] / 16.0, d["labels"].astype(np.int64), rng, 640)
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    log = []
    for epoch in range(3):
        for i in range(0, 512, 64):
            x, gt, cls = scenes[i:i + 64], boxes[i:i + 64], classes[i:i + 64]
            out = model(x)
            centre = (gt[:, :2] + gt[:, 2:]) / 2
            cell = (centre // CELL).long().clamp(0, S - 1)
            obj_t = torch.zeros(x.size(0), S, S)
            b = torch.arange(x.size(0))
            obj_t[b, cell[:, 1], cell[:, 0]] = 1.0
            pos = obj_t.bool()
            pred_boxes = decode(out)[pos]
            loss_obj = F.binary_cross_entropy_with_logits(out[..., 0], obj_t,
                                                          pos_weight=torch.tensor(8.0))
            loss_box = giou_loss(pred_boxes, gt)
            loss_cls = F.cross_entropy(out[..., 5:][pos], cls)
            loss = loss_obj + loss_box + loss_cls
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(), "obj": loss_obj.item(), "giou": loss_box.item(),
                        "iou": box_iou(pred_boxes.detach(), gt).diagonal().mean().item()})
    with torch.no_grad():
        out = model(scenes[512:576])
        dets = []
        for k in range(8):
            scores = torch.sigmoid(out[k, ..., 0]).flatten()
            bx = decode(out[k:k + 1])[0].reshape(-1, 4)
            keep_mask = scores > 0.3
            keep = nms(bx[keep_mask], scores[keep_mask], 0.5)
            dets.append(len(keep))
        best = decode(out).reshape(64, -1, 4)[torch.arange(64),
                                               torch.sigmoid(out[..., 0]).reshape(64, -1).argmax(1)]
        iou = box_iou(best, boxes[512:576]).diagonal()
    log.append({"test_iou": iou.mean().item(), "hits": int((iou > 0.5).sum().item()),
                "detections": dets})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
