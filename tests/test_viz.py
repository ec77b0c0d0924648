"""fastnn.viz: the notes' circuit as DOT text, a CNN's graph, the figure
functions' panels, rendering, and the lazy optional imports."""
import re
import shutil
import sys

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn import viz
from fastnn.testing import run_python


def _circuit(retain=True):
    x = fastnn.tensor(-2.0, requires_grad=True)
    y = fastnn.tensor(5.0, requires_grad=True)
    z = fastnn.tensor(-4.0, requires_grad=True)
    q = x + y
    if retain:
        q.retain_grad()
    f = q * z
    f.backward()
    return f, {"x": x, "y": y, "z": z}


def _edges(src):
    return re.findall(r"^\s*(\w+) -> (\w+)(?: \[label=<(.*)>\])?;$", src, re.M)


def _labels(src):
    return dict(re.findall(r'^\s*(\w+) \[shape=\w+(?:, style=\w+)?, label="([^"]*)"\];$', src,
                           re.M))


def test_circuit_dot_has_values_and_gradients():
    f, params = _circuit()
    src = viz.graph(f, params=params).source
    labels = _labels(src)
    assert sorted(labels.values()) == ["Add", "Mul", "output", "x", "y", "z"]
    names = {v: k for k, v in labels.items()}
    wires = {(a, b): lab for a, b, lab in _edges(src)}
    assert len(wires) == 5

    def wire(a, b):
        lab = wires[(names[a], names[b])]
        vals = re.findall(r'color="(\w+)">([^<]+)<', lab)
        return {c: float(v) for c, v in vals}

    assert wire("x", "Add") == {"darkgreen": -2.0, "red": -4.0}
    assert wire("y", "Add") == {"darkgreen": 5.0, "red": -4.0}
    assert wire("z", "Mul") == {"darkgreen": -4.0, "red": 3.0}
    assert wire("Add", "Mul") == {"darkgreen": 3.0, "red": -4.0}
    assert wire("Mul", "output") == {"darkgreen": -12.0, "red": 1.0}


def test_switches_and_intact_graph():
    x = fastnn.tensor(2.0, requires_grad=True)
    f = (x * x).exp()                       # no backward yet: inner gradients computed
    src = viz.graph(f).source
    assert 'color="red"' in src
    assert x.grad is None                   # .grad untouched by the picture
    bare = viz.graph(f, show_values=False, show_grads=False).source
    assert "<font" not in bare
    with pytest.raises(TypeError):
        viz.graph(np.ones(3))


def test_cnn_graph_has_one_node_per_op_and_named_parameters():
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16, 3))
    out = nn.functional.cross_entropy(model(fastnn.randn(2, 1, 4, 4)), fastnn.tensor([0, 2]))
    nodes = set()
    stack = [out.grad_fn]
    while stack:
        n = stack.pop()
        if n in nodes:
            continue
        nodes.add(n)
        stack += [p.grad_fn for p in n._parents if p is not None and p.grad_fn is not None]
    src = viz.graph(out, params=model.named_parameters()).source
    labels = _labels(src)
    ops = [k for k in labels if k.startswith("op")]
    assert len(ops) == len(nodes) >= 4
    leaf_names = {labels[k].split("\\n")[0] for k in labels if k.startswith("t")}
    assert {"0.weight", "0.bias", "4.weight", "4.bias"} <= leaf_names
    assert any("(2, 3)" in labels[k] for k in ops)          # output shapes shown


def test_render_png_and_svg(tmp_path):
    pytest.importorskip("graphviz", reason="the graphviz package is not installed")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    f, params = _circuit()
    g = viz.graph(f, params=params)
    png = g.render(str(tmp_path / "c.png"))
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    svg = g.render(str(tmp_path / "c.svg"))
    assert "<svg" in open(svg).read()
    assert "<svg" in g._repr_svg_()


def test_missing_graphviz_package_keeps_the_source(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    f, params = _circuit()
    g = viz.graph(f, params=params)
    assert "digraph" in g.source
    with pytest.raises(ImportError, match=r"fastnn\[viz\]"):
        g.render(str(tmp_path / "c.svg"))
    assert g._repr_svg_() is None


def test_filters_one_panel_per_filter():
    pytest.importorskip("matplotlib")
    w = np.random.default_rng(0).standard_normal((10, 3, 5, 5)).astype(np.float32)
    fig = viz.filters(w, ncols=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 10 and len(fig.axes) == 12
    assert shown[0].images[0].get_array().shape == (5, 5, 3)        # colour filters
    fig1 = viz.filters(fastnn.nn.Conv2d(1, 6, 3).weight)
    assert len([ax for ax in fig1.axes if ax.images]) == 6
    with pytest.raises(ValueError, match="filters"):
        viz.filters(np.ones((3, 3)))


def test_histograms_panels_and_dead_relu_report():
    pytest.importorskip("matplotlib")
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4), nn.Tanh())
    with fastnn.no_grad():
        model[0].bias.fill_(-100.0)           # every ReLU dead
    lines = []
    x = fastnn.randn(32, 8)
    fig = viz.histograms(model, (x, fastnn.tensor(np.arange(32) % 4)), out=lines.append)
    assert len(fig.axes) == 2 * 4
    assert any("1 (ReLU): 100.0% dead" in ln for ln in lines)
    assert any("(Tanh)" in ln and "saturated" in ln for ln in lines)
    assert not any(m.__dict__.get("_forward_hooks") for m in model.modules())   # removed


def test_saliency_is_the_absolute_input_gradient():
    pytest.importorskip("matplotlib")
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    img = np.random.default_rng(1).standard_normal((3, 2, 2)).astype(np.float32)
    fig = viz.saliency(model, img, target=2)
    assert len(fig.axes) == 2
    w = model[1].weight.detach().numpy()[2].reshape(3, 2, 2)
    np.testing.assert_allclose(fig.saliency, np.abs(w).max(axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="target"):
        viz.saliency(model, img, target=5)


def test_import_fastnn_stays_light():
    r = run_python("import sys, fastnn, fastnn.viz\n"
                   "bad = [m for m in ('matplotlib', 'graphviz') if m in sys.modules]\n"
                   "assert not bad, bad\n")
    assert r.returncode == 0, r.stderr


def test_demo_writes_the_plots(tmp_path):
    pytest.importorskip("matplotlib")
    from fastnn.cli import main
    assert main(["demo", "--epochs", "1", "--no-progress", "--out", "",
                 "--plots", str(tmp_path)]) == 0
    for name in ("curves.png", "filters.png", "saliency.png"):
        assert open(tmp_path / name, "rb").read(4) == b"\x89PNG"


def test_saliency_of_a_float64_model():
    pytest.importorskip("matplotlib")
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).double()
    img = np.random.default_rng(1).standard_normal((3, 2, 2)).astype(np.float32)
    fig = viz.saliency(model, img, target=1)       # (the image in the model's dtype)
    w = model[1].weight.detach().numpy()[1].reshape(3, 2, 2)
    np.testing.assert_allclose(fig.saliency, np.abs(w).max(axis=0), rtol=1e-12)
