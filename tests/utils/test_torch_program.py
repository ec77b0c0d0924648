"""A small PyTorch-style training program (custom Dataset, DataLoader with
workers, a CNN, save/load of the whole model under safe_globals with
map_location) run with torch and with ``import fastnn as torch``: the same
losses from the same weights, and the reloaded models agree."""
import numpy as np
import pytest

import fastnn
import fastnn.serialization  # noqa: F401  (fastnn.serialization as an attribute)

try:
    import torch as real_torch
except ImportError:  # pragma: no cover - depends on the machine
    real_torch = None


def _make_cnn(torch):
    class CNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
            self.pool = torch.nn.MaxPool2d(2)
            self.flat = torch.nn.Flatten()
            self.fc = torch.nn.Linear(4 * 4 * 4, 10)
            self.hidden = 4

        def forward(self, x):
            return self.fc(self.flat(self.pool(torch.nn.functional.relu(self.conv(x)))))
    return CNN


FastCNN = _make_cnn(fastnn)
FastCNN.__qualname__ = FastCNN.__name__ = "FastCNN"
if real_torch is not None:
    TorchCNN = _make_cnn(real_torch)
    TorchCNN.__qualname__ = TorchCNN.__name__ = "TorchCNN"


def _dataset_class(torch):
    class Digits(torch.utils.data.Dataset):
        def __init__(self, n):
            rng = np.random.default_rng(0)
            self.x = rng.normal(size=(n, 1, 8, 8)).astype(np.float32)
            self.y = rng.integers(0, 10, n)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return torch.from_numpy(self.x[i]), int(self.y[i])
    return Digits


def program(torch, CNN, path, init_state):
    """What a tutorial script does; ``torch`` is the library under test."""
    Digits = _dataset_class(torch)
    model = CNN()
    model.load_state_dict(init_state)
    loader = torch.utils.data.DataLoader(Digits(64), batch_size=16, shuffle=False,
                                         num_workers=2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(2):
        for xb, yb in loader:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    torch.save(model, path)
    nn = torch.nn
    with torch.serialization.safe_globals([CNN, nn.Conv2d, nn.MaxPool2d, nn.Flatten,
                                           nn.Linear]):
        back = torch.load(path, map_location="cpu", weights_only=True)
    back.eval()
    with torch.no_grad():
        out = back(xb)
    return losses, out.numpy(), back.hidden


@pytest.mark.forks
def test_program_runs_the_same_with_fastnn(tmp_path):
    if real_torch is None:
        pytest.skip("PyTorch is not installed")
    real_torch.manual_seed(0)
    init = TorchCNN().state_dict()
    theirs = program(real_torch, TorchCNN, tmp_path / "t.pt",
                     {k: v.clone() for k, v in init.items()})
    ours = program(fastnn, FastCNN, tmp_path / "f.pt", {k: v.numpy() for k, v in init.items()})
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-4)
    assert ours[2] == theirs[2] == 4
