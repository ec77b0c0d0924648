import numpy as np
import pytest

import fastnn
import fastnn.nn as nn


def test_summary_conv_760():
    lines = []
    total = fastnn.summary(nn.Conv2d(3, 10, 5, padding=2), (3, 32, 32), print_fn=lines.append)
    assert total == 760
    text = "\n".join(lines)
    assert "(-1, 10, 32, 32)" in text and "760" in text


def test_summary_prints_and_counts(capsys):
    m = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Sequential(nn.Linear(32, 10)))
    m.train()
    total = fastnn.summary(m, (64,))
    out = capsys.readouterr().out
    assert total == 64 * 32 + 32 + 32 * 10 + 10
    assert "Total params: 2,410" in out
    assert "0 (Linear)" in out and "2.0 (Linear)" in out and "(-1, 10)" in out
    assert m.training                        # mode restored
    assert "forward" not in m[0].__dict__    # wrappers removed
    x = fastnn.randn(2, 64)
    assert m(x).shape == (2, 10)


def test_summary_cnn_shapes():
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(4 * 4 * 4, 10))
    lines = []
    total = fastnn.summary(m, (1, 8, 8), print_fn=lines.append)
    assert total == 4 * 9 + 4 + 64 * 10 + 10
    text = "\n".join(lines)
    assert "(-1, 4, 4, 4)" in text and "(-1, 64)" in text


def test_summary_bad_input():
    with pytest.raises(TypeError):
        fastnn.summary(lambda x: x, (3,))
    with pytest.raises(ValueError):
        fastnn.summary(nn.Linear(3, 2), (0,))
