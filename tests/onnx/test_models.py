"""Whole models: exported from fastnn, run in ONNX Runtime at two batch
sizes (one dynamic batch axis) to 1e-5 of fastnn; imported back with the
same weights bit for bit; the imported model trains."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.cli import build_digits_cnn

from ._util import check, export_bytes, op_types, randn


def _images(c, h, w):
    return lambda b: [randn(b, c, h, w)]


def _warm_bn(model, shape):
    """A few training-mode passes so the batch-norm statistics are not 0/1."""
    model.train()
    with fastnn.no_grad():
        for s in range(3):
            model(fastnn.tensor(randn(*shape, seed=s, scale=1.5) + 0.3))
    return model.eval()


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNetish(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(self.pool(x).flatten(1))


def _mobilenet():
    def dw(cin, cout, stride):
        return nn.Sequential(nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin,
                                       bias=False), nn.BatchNorm2d(cin), nn.ReLU6(),
                             nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout),
                             nn.ReLU6())
    return nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
                         nn.BatchNorm2d(8), nn.ReLU6(), dw(8, 16, 1), dw(16, 32, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                         nn.Linear(32, 5))


def test_digits_cnn():
    fastnn.manual_seed(0)
    proto = check(build_digits_cnn(), _images(1, 8, 8), batches=(1, 64))
    assert op_types(proto).count("Conv") == 2 and op_types(proto).count("Gemm") == 2


def test_resnet_style():
    fastnn.manual_seed(1)
    model = _warm_bn(ResNetish(), (8, 3, 12, 12))
    proto = check(model, _images(3, 12, 12))
    assert {"Add", "GlobalAveragePool", "BatchNormalization"} <= set(op_types(proto))


def test_mobilenet_style():
    fastnn.manual_seed(2)
    try:
        model = _mobilenet()
    except (TypeError, ValueError, NotImplementedError) as e:   # nn.Conv2d without groups
        pytest.skip(f"nn.Conv2d(..., groups=...) is not available in this fastnn: {e}")
    model = _warm_bn(model, (8, 3, 16, 16))
    proto = check(model, _images(3, 16, 16))
    groups = [a.i for n in proto.graph.node if n.op_type == "Conv" for a in n.attribute
              if a.name == "group"]
    assert 8 in groups and 16 in groups


def test_mlp():
    fastnn.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(32, 16), nn.GELU(), nn.Linear(16, 10), nn.LogSoftmax(1))
    check(model, _images(1, 8, 8))


@pytest.mark.skipif(not hasattr(nn, "LSTM"), reason="fastnn has no nn.LSTM yet")
def test_lstm():
    fastnn.manual_seed(4)

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(6, 8, num_layers=2, batch_first=True)
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            return self.fc(self.lstm(x)[0])

    check(Tagger(), lambda b: [randn(b, 5, 6)])


def test_round_trip_weights_are_bitwise_equal():
    fastnn.manual_seed(5)
    model = _warm_bn(ResNetish(), (8, 3, 12, 12))
    data, _ = export_bytes(model, [randn(2, 3, 12, 12)])
    back = fastnn.onnx.import_model(data)
    ours = {k: v for k, v in model.state_dict().items() if "num_batches" not in k}
    theirs = back.state_dict()
    assert sorted(theirs) == sorted(ours)
    for k, v in ours.items():
        a, b = v.numpy(), theirs[k].numpy()
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes(), k
    # parameters stay parameters, statistics stay buffers
    assert sorted(n for n, _ in back.named_parameters()) == \
        sorted(n for n, _ in model.named_parameters())
    assert back.load_state_dict(model.state_dict(), strict=False) is not None


def test_imported_fastnn_model_trains():
    fastnn.manual_seed(6)
    x, y = fastnn.tensor(randn(16, 1, 8, 8)), fastnn.tensor(np.arange(16) % 10)
    data, _ = export_bytes(build_digits_cnn(), [x.numpy()])
    model = fastnn.onnx.import_model(data).train()
    opt = fastnn.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_export_to_path_is_atomic(tmp_path):
    p = tmp_path / "m.onnx"
    p.write_bytes(b"old")
    fastnn.onnx.export(nn.Linear(3, 2), fastnn.randn(1, 3), str(p))
    assert fastnn.onnx.load(p)(fastnn.randn(4, 3)).shape == (4, 2)
    assert [f.name for f in tmp_path.iterdir()] == ["m.onnx"]
    before = p.read_bytes()

    class Bad(nn.Module):
        def forward(self, x):
            return fastnn.ops.dropout.DropoutFn.apply(x, 0.5, 0, 0)

    with pytest.raises(fastnn.onnx.OnnxExporterError):
        fastnn.onnx.export(Bad(), fastnn.randn(1, 3), str(p))
    assert p.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["m.onnx"]
