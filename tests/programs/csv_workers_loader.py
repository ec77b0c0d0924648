# A CSV regression dataset served by worker processes, as the data-loading
# tutorials set it up: a Dataset that parses its rows with the csv module in
# __init__ and returns (features, target) tensors, random_split with integer
# lengths and a seeded Generator, DataLoader(num_workers=2,
# persistent_workers=True, worker_init_fn seeding NumPy from
# torch.initial_seed(), pin_memory=torch.cuda.is_available()), the
# worker's identity from get_worker_info(), and an evaluation loader in the main process.  The shuffled order is a draw, so
# training runs on the unshuffled worker loader and the shuffled one logs
# only what does not depend on it.
import csv
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, get_worker_info, random_split


def write_csv(path, n=240):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * rng.normal(size=n)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"f{i}" for i in range(5)] + ["target"])
        for row, t in zip(x, y):
            w.writerow([f"{v:.6f}" for v in row] + [f"{t:.6f}"])


class CSVDataset(Dataset):
    def __init__(self, path):
        with open(path, newline="") as f:
            reader = csv.reader(f)
            self.header = next(reader)
            rows = [[float(v) for v in r] for r in reader]
        data = torch.tensor(rows, dtype=torch.float32)
        self.x, self.y = data[:, :-1], data[:, -1:]

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        info = get_worker_info()
        worker = -1 if info is None else info.id
        return self.x[idx], self.y[idx], worker


def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2 ** 32
    np.random.seed(worker_seed)


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)


Net = Regressor


def main(workdir):
    path = os.path.join(workdir, "data.csv")
    write_csv(path)
    full = CSVDataset(path)
    train_set, val_set = random_split(full, [200, 40], generator=torch.Generator().manual_seed(0))
    shuffled = DataLoader(train_set, batch_size=32, shuffle=True, num_workers=2,
                          worker_init_fn=seed_worker, generator=torch.Generator().manual_seed(0),
                          pin_memory=torch.cuda.is_available())
    n_rows, n_batches, workers = 0, 0, set()
    for xb, yb, wb in shuffled:
        n_rows += xb.shape[0]
        n_batches += 1
        workers.update(wb.tolist())
    log = [{"header": full.header, "rows": n_rows, "batches": n_batches, "len": len(shuffled),
            "workers": sorted(workers)}]

    ordered_train = torch.utils.data.Subset(full, range(200))
    loader = DataLoader(ordered_train, batch_size=25, num_workers=2, persistent_workers=True,
                        worker_init_fn=seed_worker)
    val_loader = DataLoader(torch.utils.data.Subset(full, range(200, 240)), batch_size=40)
    model = Regressor()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.MSELoss()
    for epoch in range(3):
        model.train()
        for xb, yb, _ in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item()})
        model.eval()
        with torch.no_grad():
            val, in_main = 0.0, True
            for xb, yb, wb in val_loader:
                val += loss_fn(model(xb), yb).item()
                in_main = in_main and bool((wb == -1).all())
        log.append({"epoch": epoch, "val_loss": val, "main_process": in_main})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
