"""The Trainer with the real layers, losses and optimisers on the bundled digits."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn import optim
from fastnn.data import PCA, DataLoader, Standardize, TensorDataset, load_digits
from fastnn.optim import lr_scheduler
from fastnn.train import EarlyStopping, Trainer


@pytest.fixture(autouse=True)
def _one_thread():
    fastnn.set_num_threads(1)     # restored by the conftest fixture


def _split():
    x, y = load_digits()
    perm = np.random.default_rng(0).permutation(len(x))
    te, tr = perm[:360], perm[360:]
    return x[tr], y[tr], x[te], y[te]


def test_cnn_reaches_97_percent():
    xtr, ytr, xte, yte = _split()
    s = Standardize().fit(xtr)
    fastnn.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    t = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3),
                progress=False)
    t.fit(DataLoader(TensorDataset(s.transform(xtr), ytr), 32, shuffle=True, seed=0), 12)
    acc = t.evaluate(DataLoader(TensorDataset(s.transform(xte), yte), 360))["accuracy"]
    assert acc >= 0.97, acc


def test_mlp_on_pca_whitened_digits_reaches_93_percent():
    xtr, ytr, xte, yte = _split()
    pca = PCA(40, whiten=True).fit(xtr.reshape(len(xtr), -1))
    ztr, zte = pca.transform(xtr.reshape(len(xtr), -1)), pca.transform(xte.reshape(len(xte), -1))
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(40, 100), nn.ReLU(), nn.Linear(100, 10))
    opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    t = Trainer(model, "cross_entropy", opt, callbacks=[EarlyStopping(patience=3)],
                progress=False)
    val = DataLoader(TensorDataset(zte, yte), 256)
    h = t.fit(DataLoader(TensorDataset(ztr, ytr), 32, shuffle=True, seed=0), 15, val_loader=val)
    acc = t.evaluate(val)["accuracy"]
    assert acc >= 0.93, acc
    assert acc == pytest.approx(max(h.history["val_accuracy"][:np.argmin(h["val_loss"]) + 1]),
                                abs=0.03)


def _resume_setup(x, y):
    fastnn.manual_seed(5)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sch = lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    t = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sch, progress=False)
    return model, t, DataLoader(TensorDataset(x, y), 50, shuffle=True, seed=3)


def test_resume_with_adam_steplr_dropout_is_exact(tmp_path):
    x, y = load_digits()
    x = x.reshape(len(x), -1)[:500] / 16.0
    y = y[:500]
    m1, t1, dl1 = _resume_setup(x, y)
    t1.fit(dl1, 4)

    m2, t2, dl2 = _resume_setup(x, y)
    t2.fit(dl2, 2)
    t2.save_checkpoint(tmp_path / "ck")
    m3, t3, dl3 = _resume_setup(x, y)
    fastnn.manual_seed(123)
    t3.load_checkpoint(tmp_path / "ck")
    t3.fit(dl3, 2)
    for k, v in m1.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), m3.state_dict()[k].data, err_msg=k)
    assert t3.history.history["lr"] == t1.history.history["lr"]
    assert t3.history.history["loss"] == t1.history.history["loss"]


def test_reduce_lr_on_plateau_receives_val_loss():
    x, y = load_digits()
    x = x.reshape(len(x), -1)[:200] / 16.0
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 10))
    opt = optim.SGD(model.parameters(), lr=1e-3)
    # threshold=1 (relative): no epoch ever counts as an improvement
    sch = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=1.0)
    t = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sch, progress=False)
    dl = DataLoader(TensorDataset(x, y[:200]), 100)
    h = t.fit(dl, 4, val_loader=dl)
    # Every epoch is "bad", so each step(val_loss) halves the lr for the next epoch.
    assert h.history["lr"] == pytest.approx([1e-3, 5e-4, 2.5e-4, 1.25e-4])
    assert sch.best == float("inf") or sch.num_bad_epochs >= 1
