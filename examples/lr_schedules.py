"""Learning-rate schedules from the course notes (step decay, exponential
decay, 1/t decay, cosine annealing, reduce-on-plateau): prints the learning
rate each schedule gives over 12 epochs, then trains the same MLP with two
of them and prints the final losses.

    python examples/lr_schedules.py
"""
import numpy as np

import fastnn
import fastnn.nn as nn
from fastnn import optim
from fastnn.data import DataLoader, Standardize, TensorDataset, load_digits
from fastnn.optim import lr_scheduler
from fastnn.train import Trainer

EPOCHS = 12


def schedules(opt):
    return {
        "StepLR(step=4, gamma=0.5)": lr_scheduler.StepLR(opt, step_size=4, gamma=0.5),
        "ExponentialLR(gamma=0.8)": lr_scheduler.ExponentialLR(opt, gamma=0.8),
        "InverseTimeLR(k=0.5)": lr_scheduler.InverseTimeLR(opt, k=0.5),
        "CosineAnnealingLR(T_max=12)": lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS),
    }


def main():
    names = list(schedules(optim.SGD([fastnn.zeros(1, requires_grad=True)], lr=0.1)))
    print("epoch " + " ".join(f"{n:>28}" for n in names))
    table = []
    for name in names:
        opt = optim.SGD([fastnn.zeros(1, requires_grad=True)], lr=0.1)
        sch = schedules(opt)[name]
        lrs = []
        for _ in range(EPOCHS):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sch.step()
        table.append(lrs)
    for e in range(EPOCHS):
        print(f"{e + 1:5d} " + " ".join(f"{col[e]:28.5f}" for col in table))

    x, y = load_digits()
    x = Standardize().fit_transform(x.reshape(len(x), -1))
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
    for name in ("constant", "StepLR(step=4, gamma=0.5)", "ReduceLROnPlateau"):
        fastnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        if name == "constant":
            sch = None
        elif name == "ReduceLROnPlateau":
            sch = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
        else:
            sch = schedules(opt)[name]
        h = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sch, progress=False).fit(
            loader, EPOCHS)
        print(f"{name:>28}: final training loss {h['loss'][-1]:.4f}, final lr "
              f"{h['lr'][-1]:.5f}")


if __name__ == "__main__":
    main()
