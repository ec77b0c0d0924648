import io
import math
import os
import sys

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.data import PCA, DataLoader, TensorDataset, load_digits
from fastnn.train import EarlyStopping, History, LambdaCallback, ModelCheckpoint, Trainer


# A loss and an optimizer built from what every branch has (Tensor ops), so the
# Trainer is tested on its own.
def ce(out, y):
    z = out - fastnn.Tensor(out.detach().numpy().max(axis=1, keepdims=True))
    logp = z - z.exp().sum(dim=1, keepdim=True).log()
    oh = np.zeros(out.shape, out.dtype)
    oh[np.arange(len(y.detach().numpy())), y.detach().numpy()] = 1
    return -(logp * fastnn.Tensor(oh)).sum() / len(y.detach().numpy())


class MomentumSGD:
    def __init__(self, params, lr, momentum=0.9):
        self.params = list(params)
        self.param_groups = [{"lr": lr}]
        self.buf = [np.zeros_like(p.detach().numpy()) for p in self.params]
        self.momentum = momentum

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        lr = self.param_groups[0]["lr"]
        for p, v in zip(self.params, self.buf):
            if p.grad is not None:
                v *= self.momentum
                v += p.grad
                p.data -= lr * v

    def state_dict(self):
        return {"buf": [v.copy() for v in self.buf], "lr": self.param_groups[0]["lr"]}

    def load_state_dict(self, s):
        for v, a in zip(self.buf, s["buf"]):
            v[...] = a
        self.param_groups[0]["lr"] = s["lr"]


class Halve:
    """A per-epoch scheduler: lr halves every epoch."""

    def __init__(self, opt):
        self.opt, self.n = opt, 0

    def step(self):
        self.n += 1
        self.opt.param_groups[0]["lr"] *= 0.5

    def state_dict(self):
        return {"n": self.n}

    def load_state_dict(self, s):
        self.n = s["n"]


class Plateau:
    def __init__(self, opt):
        self.opt, self.seen = opt, []

    def step(self, metrics):
        self.seen.append(metrics)


@pytest.fixture(scope="module")
def digits_pca():
    x, y = load_digits()
    perm = np.random.default_rng(0).permutation(len(x))
    tr, te = perm[:1437], perm[1437:]
    xf = x.reshape(len(x), -1)
    pca = PCA(40, whiten=True).fit(xf[tr])
    return pca.transform(xf[tr]), y[tr], pca.transform(xf[te]), y[te]


def _mlp(seed=0, d=40):
    fastnn.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, 10))


def _loaders(data, bs=32, seed=0):
    xtr, ytr, xte, yte = data
    return (DataLoader(TensorDataset(xtr, ytr), bs, shuffle=True, seed=seed),
            DataLoader(TensorDataset(xte, yte), 256))


def test_mlp_on_pca_whitened_digits(digits_pca):
    model = _mlp()
    opt = MomentumSGD(model.parameters(), 0.02)
    t = Trainer(model, ce, opt, progress=False)
    train, val = _loaders(digits_pca)
    h = t.fit(train, 8, val_loader=val)
    assert isinstance(h, History)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(v) == 8 for v in h.history.values())
    assert h.history["loss"][-1] < h.history["loss"][0]
    res = t.evaluate(val)
    assert res["accuracy"] >= 0.93, res
    assert math.isclose(res["accuracy"], h.history["val_accuracy"][-1])
    pred = t.predict(digits_pca[2])
    assert isinstance(pred, fastnn.Tensor) and pred.shape == (len(digits_pca[2]), 10)
    acc = np.mean(pred.detach().numpy().argmax(1) == digits_pca[3])
    assert math.isclose(acc, res["accuracy"])


def test_modes_and_no_grad():
    seen = []

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            seen.append((self.training, fastnn.is_grad_enabled()))
            return self.fc(x)

    x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    y = np.arange(8) % 3
    m = Probe()
    t = Trainer(m, ce, MomentumSGD(m.parameters(), 0.1), progress=False)
    dl = DataLoader(TensorDataset(x, y), 4)
    t.fit(dl, 1, val_loader=dl)
    assert seen == [(True, True)] * 2 + [(False, False)] * 2
    assert m.training
    seen.clear()
    t.predict(x)
    assert seen == [(False, False)] and m.training
    m.eval()
    t.evaluate(dl)
    assert not m.training


def test_lr_history_and_per_epoch_scheduler(digits_pca):
    model = _mlp()
    opt = MomentumSGD(model.parameters(), 0.04)
    sch = Halve(opt)
    t = Trainer(model, ce, opt, scheduler=sch, progress=False)
    h = t.fit(_loaders(digits_pca)[0], 3)
    assert h.history["lr"] == [0.04, 0.02, 0.01]
    assert sch.n == 3


def test_plateau_scheduler_gets_monitored_value(digits_pca):
    model = _mlp()
    opt = MomentumSGD(model.parameters(), 0.02)
    sch = Plateau(opt)
    t = Trainer(model, ce, opt, scheduler=sch, progress=False)
    train, val = _loaders(digits_pca)
    h = t.fit(train, 2, val_loader=val)
    assert sch.seen == h.history["val_loss"]


def test_early_stopping_stops_and_restores_best():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    # Validation labels the model cannot learn from training: val_loss gets worse.
    model = _mlp(0, 5)
    opt = MomentumSGD(model.parameters(), 0.5)
    snapshots = []
    es = EarlyStopping(monitor="val_loss", patience=2)
    snap = LambdaCallback(on_epoch_end=lambda tr, e, logs: snapshots.append(
        {k: v.detach().numpy().copy() for k, v in tr.model.state_dict().items()}))
    t = Trainer(model, ce, opt, callbacks=[snap, es], progress=False)
    xv = rng.normal(size=(32, 5)).astype(np.float32)
    yv = rng.integers(0, 3, 32)
    h = t.fit(DataLoader(TensorDataset(x, y), 16), 50,
              val_loader=DataLoader(TensorDataset(xv, yv), 32))
    n = len(h.history["val_loss"])
    assert n < 50
    best = int(np.argmin(h.history["val_loss"]))
    assert es.best_epoch == best and n == best + 1 + 2 + 1
    assert es.stopped_epoch == n - 1
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), snapshots[best][k])
    assert not np.array_equal(snapshots[-1]["0.weight"], snapshots[best]["0.weight"])


def test_early_stopping_max_mode_for_accuracy():
    assert EarlyStopping(monitor="val_accuracy").mode == "max"
    assert EarlyStopping(monitor="loss").mode == "min"
    with pytest.raises(ValueError):
        EarlyStopping(mode="sideways")
    with pytest.raises(ValueError):
        EarlyStopping(patience=-1)


def test_model_checkpoint_saves_best(tmp_path, digits_pca):
    model = _mlp()
    path = tmp_path / "best.fnn"
    mc = ModelCheckpoint(str(path), monitor="val_accuracy")
    t = Trainer(model, ce, MomentumSGD(model.parameters(), 0.02), callbacks=[mc],
                progress=False)
    train, val = _loaders(digits_pca)
    h = t.fit(train, 3, val_loader=val)
    assert path.exists()
    assert mc.best == max(h.history["val_accuracy"])
    m2 = _mlp(5)
    m2.load_state_dict(fastnn.load(str(path)))
    if mc.best_epoch == 2:
        for k, v in model.state_dict().items():
            np.testing.assert_array_equal(v.detach().numpy(), m2.state_dict()[k].data)
    assert math.isclose(Trainer(m2, ce, MomentumSGD(m2.parameters(), 0.1),
                                progress=False).evaluate(val)["accuracy"], mc.best)
    every = ModelCheckpoint(str(tmp_path / "e{epoch}.fnn"), save_best_only=False)
    Trainer(model, ce, MomentumSGD(model.parameters(), 0.02), callbacks=[every],
            progress=False).fit(train, 2)
    assert (tmp_path / "e1.fnn").exists() and (tmp_path / "e2.fnn").exists()


def test_nan_loss_raises_with_epoch_and_step():
    x = np.ones((8, 4), np.float32)
    x[5] = np.nan
    m = _mlp(0, 4)
    t = Trainer(m, ce, MomentumSGD(m.parameters(), 0.1), progress=False)
    with pytest.raises(RuntimeError, match=r"epoch 1, step 3"):
        t.fit(DataLoader(TensorDataset(x, np.zeros(8, np.int64)), 2), 2)
    assert np.all(np.isfinite(m[0].weight.detach().numpy()))


def test_bad_inputs():
    m = _mlp(0, 4)
    opt = MomentumSGD(m.parameters(), 0.1)
    with pytest.raises(ValueError, match="unknown metric"):
        Trainer(m, ce, opt, metrics=("accuracy", "f7_score"))
    dl = DataLoader(TensorDataset(np.zeros((4, 4), np.float32), np.zeros(4, np.int64)), 2)
    t = Trainer(m, ce, opt, callbacks=[EarlyStopping(monitor="val_lose")], progress=False)
    with pytest.raises(ValueError, match="unknown monitor 'val_lose'"):
        t.fit(dl, 1, val_loader=dl)
    t = Trainer(m, ce, opt, callbacks=[EarlyStopping()], progress=False)
    with pytest.raises(ValueError, match="val_loader"):
        t.fit(dl, 1)
    with pytest.raises(ValueError, match="unknown monitor"):
        Trainer(m, ce, opt, callbacks=[ModelCheckpoint("x", monitor="nope")],
                progress=False).fit(dl, 1)
    with pytest.raises(ValueError):
        Trainer(m, ce, opt, progress=False).fit(dl, -1)
    with pytest.raises(TypeError):
        Trainer(m, ce, object())
    with pytest.raises(ValueError, match="unknown loss"):
        Trainer(m, "hinge_of_doom", opt)


def _digits_small():
    x, y = load_digits()
    return x.reshape(len(x), -1)[:400] / 16.0, y[:400]


def test_checkpoint_resume_is_exact(tmp_path):
    x, y = _digits_small()

    def make():
        m = _mlp(3, 64)
        opt = MomentumSGD(m.parameters(), 0.05)
        return m, opt, Trainer(m, ce, opt, scheduler=Halve(opt), progress=False)

    m1, _, t1 = make()
    t1.fit(DataLoader(TensorDataset(x, y), 32, shuffle=True, seed=4), 4)

    m2, _, t2 = make()
    t2.fit(DataLoader(TensorDataset(x, y), 32, shuffle=True, seed=4), 2)
    t2.save_checkpoint(tmp_path / "ck")
    del m2, t2
    m3, _, t3 = make()
    fastnn.manual_seed(99)                     # the checkpoint restores the RNG state
    assert t3.load_checkpoint(tmp_path / "ck") == 2
    h = t3.fit(DataLoader(TensorDataset(x, y), 32, shuffle=True, seed=4), 2)
    for k, v in m1.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), m3.state_dict()[k].data)
    assert h.history["loss"] == t1.history.history["loss"]
    assert h.epoch == [0, 1, 2, 3]
    assert t3.scheduler.n == 4


def test_progress_bar_output(monkeypatch):
    x, y = _digits_small()
    m = _mlp(0, 64)
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stdout", buf)
    Trainer(m, ce, MomentumSGD(m.parameters(), 0.05), progress="always").fit(
        DataLoader(TensorDataset(x, y), 100), 2)
    Trainer(m, ce, MomentumSGD(m.parameters(), 0.05)).fit(DataLoader(TensorDataset(x, y), 100), 1)
    monkeypatch.undo()
    out = buf.getvalue()
    assert "epoch 1" in out and "epoch 2" in out and "img/s" in out and "loss=" in out
    assert "epoch 3" not in out        # not a TTY: the default bar stays off


def test_tqdm_is_not_imported_by_import_fastnn():
    r = fastnn.testing.run_python("import sys, fastnn, fastnn.train, fastnn.data\n"
                                  "print('tqdm' in sys.modules)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_history_plot(tmp_path):
    h = History()
    for e in range(3):
        h.append(e, {"loss": 1.0 / (e + 1), "val_loss": 1.2 / (e + 1), "accuracy": 0.5 + e / 10,
                     "lr": 0.1})
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install fastnn\[plot\]"):
            h.plot(str(tmp_path / "c.png"))
        return
    p = tmp_path / "c.png"
    h.plot(str(p))
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_plot_without_matplotlib(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from fastnn.train import History\n"
            "h = History(); h.append(0, {'loss': 1.0})\n"
            "try:\n    h.plot('x.png')\nexcept ImportError as e:\n    print('ERR', e)\n")
    r = fastnn.testing.run_python(code)
    assert r.returncode == 0, r.stderr
    assert "ERR" in r.stdout and "pip install fastnn[plot]" in r.stdout
