"""PyTorch models exported with torch.onnx.export (the TorchScript exporter,
dynamo=False) import into fastnn, match PyTorch's outputs at two batch
sizes, and train: a loss's gradients match PyTorch's, an optimiser step
lowers the loss."""
import inspect
import io
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F

from ._util import onnx  # noqa: F401  (skips without onnx / onnxruntime)

torch = pytest.importorskip("torch", reason="torch is not installed")
tnn = torch.nn


def torch_export(net, x, opset=17, dynamic=True, **kw):
    net.eval()
    f = io.BytesIO()
    xs = x if isinstance(x, tuple) else (x,)
    names = [f"x{i}" for i in range(len(xs))]
    dyn = {n: {0: "b"} for n in names} if dynamic else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, xs, f, dynamo=False, input_names=names, dynamic_axes=dyn,
                          opset_version=opset, **kw)
    return f.getvalue()


def compare(net, make, opset=17, atol=1e-5, batches=(2, 5)):
    torch.manual_seed(0)
    data = torch_export(net, make(batches[0]), opset)
    model = fastnn.onnx.import_model(data).eval()
    for b in batches:
        x = make(b)
        xs = x if isinstance(x, tuple) else (x,)
        with torch.no_grad():
            ref = net(*xs)
        got = model(*[fastnn.tensor(t.numpy()) for t in xs])
        refs = ref if isinstance(ref, tuple) else (ref,)
        gots = got if isinstance(got, tuple) else (got,)
        for r, g in zip(refs, gots):
            np.testing.assert_allclose(g.detach().numpy(), r.numpy(), rtol=1e-5, atol=atol)
    return model


class SmallCNN(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = tnn.BatchNorm2d(8)
        self.conv2 = tnn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.pool = tnn.AdaptiveAvgPool2d(1)
        self.drop = tnn.Dropout(0.3)
        self.fc = tnn.Linear(16, 10)

    def forward(self, x):
        x = F_t.relu(self.bn1(self.conv1(x)))
        x = F_t.max_pool2d(x, 2)
        x = F_t.leaky_relu(self.conv2(x), 0.1)
        return self.fc(self.drop(torch.flatten(self.pool(x), 1)))


F_t = torch.nn.functional


class Block(tnn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1, self.c2 = tnn.Conv2d(c, c, 3, padding=1), tnn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return F_t.relu(x + self.c2(F_t.relu(self.c1(x))))


class TinyResNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.stem = tnn.Conv2d(3, 8, 3, padding=1)
        self.blocks = tnn.Sequential(Block(8), Block(8))
        self.head = tnn.Linear(8, 4)

    def forward(self, x):
        y = self.blocks(F_t.relu(self.stem(x)))
        return self.head(F_t.adaptive_avg_pool2d(y, 1).view(y.size(0), -1))


class Misc(tnn.Module):
    """Tensor ops: views from sizes, slicing, concat, transpose, reductions,
    upsampling, pixel shuffle, elementwise maths."""

    def __init__(self):
        super().__init__()
        self.conv = tnn.Conv2d(4, 8, 1)
        self.ln = tnn.LayerNorm(6)

    def forward(self, x):
        y = F_t.pixel_shuffle(self.conv(x), 2)                      # (b, 2, 8, 12)
        y = F_t.interpolate(y, scale_factor=0.5, mode="nearest")    # (b, 2, 4, 6)
        y = torch.cat([y, y[:, :1] * 2.0], dim=1)                   # (b, 3, 4, 6)
        y = self.ln(y).transpose(2, 3)
        z = y.reshape(y.shape[0], 3, -1).mean(-1) + y.amax((2, 3))
        return F_t.log_softmax(torch.sigmoid(z) * y.std(dim=(1, 2, 3)).unsqueeze(1), dim=1)


class MLP(tnn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = tnn.Linear(10, 32), tnn.Linear(32, 16), tnn.Linear(16, 3)
        self.ln = tnn.LayerNorm(32)

    def forward(self, x):
        h = F_t.gelu(self.ln(self.fc1(x)))
        h = F_t.elu(self.fc2(h)) + F_t.hardswish(self.fc2(h))
        return torch.softmax(self.fc3(F_t.silu(h)), dim=-1)


def _images(c=3, h=8, w=8):
    return lambda b: torch.randn(b, c, h, w)


@pytest.mark.parametrize("opset", [13, 17, 20])
def test_torch_cnn(opset):
    torch.manual_seed(0)
    net = SmallCNN()
    net.bn1.running_mean.uniform_(-0.5, 0.5)
    net.bn1.running_var.uniform_(0.5, 2.0)
    compare(net, _images(), opset)


def test_torch_resnet():
    torch.manual_seed(1)
    compare(TinyResNet(), _images())


def test_torch_mlp():
    torch.manual_seed(2)
    compare(MLP(), lambda b: torch.randn(b, 10))


def test_torch_tensor_ops():
    torch.manual_seed(3)
    compare(Misc(), _images(4, 4, 6))


@pytest.mark.skipif("groups" not in inspect.signature(F.conv2d).parameters,
                    reason="fastnn's conv2d has no groups yet (the conv branch adds them)")
def test_torch_depthwise():
    torch.manual_seed(4)
    net = tnn.Sequential(tnn.Conv2d(4, 4, 3, padding=1, groups=4), tnn.ReLU(),
                         tnn.Conv2d(4, 8, 1), tnn.Conv2d(8, 8, 3, dilation=2, groups=2))
    compare(net, _images(4, 9, 9))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_torch_recurrent(kind, bidirectional):
    torch.manual_seed(5)

    class Seq(tnn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(tnn, kind)(6, 5, num_layers=2, batch_first=True,
                                          bidirectional=bidirectional)
            self.fc = tnn.Linear(10 if bidirectional else 5, 3)

        def forward(self, x):
            y = self.rnn(x)[0]
            return self.fc(y[:, -1])

    compare(Seq(), lambda b: torch.randn(b, 7, 6))


def test_torch_import_trains():
    """The imported model's gradients equal PyTorch's for the same loss, and
    SGD steps lower the loss."""
    torch.manual_seed(6)
    net = tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                         tnn.Flatten(), tnn.Linear(64, 10))
    x = torch.randn(8, 1, 8, 8)
    y = torch.randint(0, 10, (8,))
    model = fastnn.onnx.import_model(torch_export(net, x))
    names = dict(model.named_parameters())
    assert sorted(names) == sorted(n for n, _ in net.named_parameters())
    net.train()
    model.train()
    loss_t = F_t.cross_entropy(net(x), y)
    loss_t.backward()
    loss_f = F.cross_entropy(model(fastnn.tensor(x.numpy())), fastnn.tensor(y.numpy()))
    loss_f.backward()
    assert abs(loss_f.item() - loss_t.item()) < 1e-5
    for n, p in net.named_parameters():
        np.testing.assert_allclose(names[n].grad.numpy(), p.grad.numpy(), rtol=1e-4,
                                   atol=1e-6)
    opt = fastnn.optim.SGD(model.parameters(), lr=0.1)
    first = loss_f.item()
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(model(fastnn.tensor(x.numpy())), fastnn.tensor(y.numpy()))
        loss.backward()
        opt.step()
    assert loss.item() < first


@pytest.mark.parametrize("opset", [14, 17])
def test_torch_transformer_encoder(opset):
    torch.manual_seed(7)
    layer = tnn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                        batch_first=True)
    net = tnn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    compare(net, lambda b: torch.randn(b, 5, 8), opset, atol=2e-5)


def test_torch_embedding_and_attention():
    torch.manual_seed(8)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.emb = tnn.Embedding(30, 8)
            self.mha = tnn.MultiheadAttention(8, 2, batch_first=True)
            self.fc = tnn.Linear(8, 3)

        def forward(self, ids):
            e = self.emb(ids)
            a, w = self.mha(e, e, e)
            return self.fc(a.mean(1)), w

    compare(Net(), lambda b: torch.randint(0, 30, (b, 6)))
