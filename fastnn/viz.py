"""Pictures of what a network does, as the course notes draw them.

- ``graph(output)``: the computational graph behind a Tensor, one node per
  op with its name and output shape, leaves named from ``params``; for
  scalar circuits such as the notes' f = (x + y) * z, each wire carries its
  forward value (green, above) and, after ``backward()``, its gradient (red,
  below).  Returns a Graphviz graph (``.source`` is the DOT text,
  ``.render(path, format="svg"|"png")`` writes the picture, notebooks show it).
- ``filters(weight)``: first-layer convolution filters tiled as images.
- ``histograms(model, batch)``: per-layer activation and gradient histograms,
  printing the fraction of dead ReLUs and saturated tanh/sigmoid units.
- ``saliency(model, image, target)``: the absolute gradient of the class score
  with respect to the input pixels (max over colour channels).

The figure functions return a matplotlib ``Figure`` (``fastnn[plot]``);
``graph`` renders with the ``graphviz`` package and Graphviz's ``dot``
(``fastnn[viz]`` and e.g. ``apt-get install graphviz``).  Both are imported
on first use, so ``import fastnn`` stays light.
"""
import numpy as np

__all__ = ["graph", "filters", "histograms", "saliency"]

_INSTALL_DOT = ("rendering needs Graphviz's `dot` program: install Graphviz "
                "(e.g. `apt-get install graphviz`, `brew install graphviz`, or "
                "https://graphviz.org/download/)")
_INSTALL_PKG = "rendering needs the graphviz package: pip install 'fastnn[viz]'"


# ------------------------------------------------------------------ graph
class DotGraph:
    """A graph as DOT text, rendered through the ``graphviz`` package.

    Attributes
    ----------
    source : str
        The DOT text (always available, with or without Graphviz)."""

    def __init__(self, source):
        self.source = source

    def __str__(self):
        return self.source

    def _graphviz(self):
        try:
            import graphviz
        except ImportError:
            raise ImportError(_INSTALL_PKG) from None
        return graphviz, graphviz.Source(self.source)

    def pipe(self, format="svg"):
        """The rendered picture as bytes."""
        graphviz, src = self._graphviz()
        try:
            return src.pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(_INSTALL_DOT) from None

    def render(self, path, format=None):
        """Writes the picture to ``path`` (format from its extension unless
        given: ``svg`` or ``png``); returns the path."""
        import os
        fmt = format or os.path.splitext(path)[1].lstrip(".") or "svg"
        data = self.pipe(format=fmt)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return path

    def _repr_svg_(self):
        try:
            return self.pipe("svg").decode("utf-8")
        except (ImportError, RuntimeError):
            return None


def _fmt(v):
    return f"{float(v):.4g}"


def _scalar(t):
    a = t._array
    return _fmt(a.reshape(-1)[0]) if a.size == 1 else None


def _shape_text(shape):
    """"\\n(2, 3)" for a label's second line; nothing for a 0-d tensor."""
    if len(shape) == 0:
        return ""
    return "\\n(" + ", ".join(str(int(s)) for s in shape) + ")"


def _op_name(node):
    name = node._fn.__name__ if node._fn is not None else "Function"
    return name[:-2] if name.endswith("Fn") and len(name) > 2 else name


def _wire_label(value, grad, show_values, show_grads):
    parts = []
    if show_values and value is not None:
        parts.append(f'<font color="darkgreen">{value}</font>')
    if show_grads and grad is not None:
        parts.append(f'<font color="red">{grad}</font>')
    return "<" + "<br/>".join(parts) + ">" if parts else None


def _collect(output):
    """The op nodes behind ``output`` (children before parents) and the
    leaves (input Tensors without a node) in first-seen order."""
    nodes, leaves, seen, leaf_ids = [], [], set(), set()
    stack = [output._grad_fn] if output._grad_fn is not None else []
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        for p in node._parents:
            if p is None:
                continue
            if p._grad_fn is not None:
                stack.append(p._grad_fn)
            elif id(p) not in leaf_ids:
                leaf_ids.add(id(p))
                leaves.append(p)
    return nodes, leaves


def _wire_grad(p, inner_grads):
    """The gradient on the wire of graph input p: a leaf's ``.grad``, a
    retained inner gradient (``retain_grad``), or one computed while the
    graph was intact."""
    if p._grad_fn is None:
        g = p.grad
    else:
        kept = p._grad_fn._retained
        t = kept.get(p._out_idx) if kept else None
        g = t.grad if t is not None else None
    if g is not None:
        return _array(g)
    return inner_grads.get(id(p))


def _inner_grads(output, tensors):
    """Gradients of the non-leaf tensors on the wires (when the graph is
    still intact: before backward, or after backward(retain_graph=True))."""
    from .autograd import grad
    if output._array.size != 1 or not tensors:
        return {}
    try:
        got = grad(output, tensors, retain_graph=True, allow_unused=True)
    except RuntimeError:            # the graph was freed by backward()
        return {}
    return {id(t): g for t, g in zip(tensors, got) if g is not None}


def graph(output, params=None, show_values=True, show_grads=True):
    """The autograd graph behind ``output`` as a Graphviz graph.

    Parameters
    ----------
    output : Tensor
        The result of a computation that requires grad.
    params : mapping or iterable of (name, Tensor), optional
        Names for the leaves, e.g. ``model.named_parameters()``.
    show_values : bool
        Label each wire carrying a one-element tensor with its value.
    show_grads : bool
        Label wires with the gradient of ``output`` (leaves: their ``.grad``
        after ``backward()``; inner wires while the graph is intact).

    Returns
    -------
    DotGraph
        ``.source`` (DOT text), ``.render(path)``, ``._repr_svg_()``.

    Examples
    --------
    >>> import fastnn, fastnn.viz
    >>> x = fastnn.tensor(-2.0, requires_grad=True)
    >>> y = fastnn.tensor(5.0, requires_grad=True)
    >>> z = fastnn.tensor(-4.0, requires_grad=True)
    >>> f = (x + y) * z
    >>> f.backward()
    >>> g = fastnn.viz.graph(f, params={"x": x, "y": y, "z": z})
    >>> "-12" in g.source and ">3<" in g.source
    True
    """
    from ._tensor import Tensor
    if not isinstance(output, Tensor):
        raise TypeError(f"graph: output must be a Tensor, got {type(output).__name__}")
    names = {}
    if params is not None:
        items = params.items() if hasattr(params, "items") else params
        for name, t in items:
            names[id(t)] = str(name)
    nodes, leaves = _collect(output)
    wires = [p for n in nodes for p in n._parents
             if p is not None and (p._grad_fn is not None or p.grad is None)]
    inner_grads = _inner_grads(output, list({id(t): t for t in wires}.values())) \
        if show_grads else {}
    ids = {}
    lines = ["digraph fastnn {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for i, t in enumerate(leaves):
        ids[id(t)] = f"t{i}"
        label = names.get(id(t), f"input {i}")
        lines.append(f'  t{i} [shape=ellipse, label="{label}{_shape_text(t._array.shape)}"];')
    for i, n in enumerate(nodes):
        ids[n] = f"op{i}"
        shapes = "".join(_shape_text(m[0]) for m in n._out_meta if m is not None)
        lines.append(f'  op{i} [shape=box, style=rounded, label="{_op_name(n)}{shapes}"];')
    for n in nodes:
        for p in n._parents:
            if p is None:
                continue
            src = ids[id(p)] if p._grad_fn is None else ids[p._grad_fn]
            g = _wire_grad(p, inner_grads)
            g = None if g is None else (_fmt(_array(g).reshape(-1)[0])
                                        if _array(g).size == 1 else None)
            lab = _wire_label(_scalar(p), g, show_values, show_grads)
            lines.append(f"  {src} -> {ids[n]}" + (f" [label={lab}]" if lab else "") + ";")
    if output._grad_fn is not None:
        gout = "1" if output._array.size == 1 else None      # d output / d output
        lab = _wire_label(_scalar(output), gout, show_values, show_grads)
        lines.append(f'  out [shape=ellipse, label="output{_shape_text(output._array.shape)}"];')
        lines.append(f"  {ids[output._grad_fn]} -> out" + (f" [label={lab}]" if lab else "")
                     + ";")
    lines.append("}")
    return DotGraph("\n".join(lines) + "\n")


# ---------------------------------------------------------------- figures
def _figure(nrows, ncols, panel=(2.2, 2.2)):
    try:   # a Figure with the Agg canvas: no pyplot, the user's backend untouched
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("fastnn.viz figures need matplotlib: pip install 'fastnn[plot]'") \
            from None
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows))
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _array(x):
    from ._tensor import Tensor
    return x._array if isinstance(x, Tensor) else np.asarray(x)


def _unit(a):
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def filters(weight, ncols=8):
    """First-layer filters tiled as images (one panel per filter).

    Parameters
    ----------
    weight : Tensor, Parameter or ndarray, (K, C, R, S)
        C = 3 is shown in colour, C = 1 in grey, other C as the channel mean.

    Returns
    -------
    matplotlib Figure with K image panels (spare grid cells are hidden).
    """
    w = _array(weight)
    if w.ndim != 4:
        raise ValueError(f"filters: expected a (K, C, R, S) convolution weight, got shape "
                         f"{tuple(w.shape)}")
    k = w.shape[0]
    ncols = max(1, min(ncols, k))
    nrows = -(-k // ncols)
    fig, axes = _figure(nrows, ncols, (1.3, 1.3))
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i >= k:
            continue
        f = w[i]
        img = np.transpose(_unit(f), (1, 2, 0)) if f.shape[0] == 3 else _unit(f.mean(axis=0))
        ax.imshow(img, cmap=None if f.shape[0] == 3 else "gray", interpolation="nearest")
        ax.set_title(str(i), fontsize=8)
    fig.suptitle(f"{k} filters {w.shape[2]}x{w.shape[3]}")
    return fig


def _leaf_layers(model):
    from .nn import Module
    return [(n, m) for n, m in model.named_modules()
            if n and isinstance(m, Module) and not list(m.children())]


def _layer_stats(name, module, act):
    kind = type(module).__name__
    a = act.reshape(-1)
    if kind in ("ReLU", "ReLU6", "LeakyReLU"):
        return f"{name} ({kind}): {100 * float(np.mean(a <= 0)):.1f}% dead (output <= 0)"
    if kind == "Tanh":
        return f"{name} (Tanh): {100 * float(np.mean(np.abs(a) > 0.99)):.1f}% saturated (|y| > 0.99)"
    if kind == "Sigmoid":
        sat = np.mean((a < 0.01) | (a > 0.99))
        return f"{name} (Sigmoid): {100 * float(sat):.1f}% saturated (y < 0.01 or > 0.99)"
    return None


def histograms(model, batch, target=None, bins=40, out=print):
    """Per-layer histograms of activations (top row) and of the loss gradient
    with respect to them (bottom row), for one batch.

    Parameters
    ----------
    model : Module
    batch : Tensor or ndarray, or a tuple (inputs, targets)
    target : Tensor or ndarray of int64 class labels, optional
        With labels the loss is the cross-entropy, else the sum of the outputs.
    out : callable
        Receives the report lines (dead ReLUs, saturated units); ``print``.

    Returns
    -------
    matplotlib Figure with 2 x L panels for the model's L leaf layers.
    """
    from . import nn
    from .autograd import enable_grad
    from ._tensor import Tensor
    if isinstance(batch, (tuple, list)):
        batch, target = batch[0], batch[1]
    x = batch if isinstance(batch, Tensor) else Tensor(batch)
    layers = _leaf_layers(model)
    if not layers:
        raise ValueError("histograms: the model has no layers")
    acts = {}

    def hook(name):
        def keep(module, args, output):
            if isinstance(output, Tensor) and output.requires_grad:
                output.retain_grad()
            acts[name] = output
        return keep

    handles = [m.register_forward_hook(hook(n)) for n, m in layers]
    try:
        with enable_grad():
            y = model(x)
            loss = nn.functional.cross_entropy(y, target) if target is not None else y.sum()
            if loss.requires_grad:
                loss.backward()
    finally:
        for h in handles:
            h.remove()
    shown = [(n, m) for n, m in layers if isinstance(acts.get(n), Tensor)]
    fig, axes = _figure(2, len(shown), (2.6, 2.2))
    for j, (n, m) in enumerate(shown):
        a = acts[n]
        axes[0, j].hist(a._array.reshape(-1), bins=bins, color="tab:blue")
        axes[0, j].set_title(f"{n} {type(m).__name__}", fontsize=8)
        if a.grad is not None:
            axes[1, j].hist(a.grad._array.reshape(-1), bins=bins, color="tab:red")
        axes[1, j].set_title("gradient", fontsize=8)
        line = _layer_stats(n, m, a._array)
        if line:
            out(line)
    axes[0, 0].set_ylabel("activations")
    axes[1, 0].set_ylabel("gradients")
    fig.tight_layout()
    return fig


def saliency(model, image, target):
    """The notes' image-gradient saliency map: |d score[target] / d image|,
    the maximum over colour channels.

    Parameters
    ----------
    model : Module (put in eval mode by the caller when it has batch norm
        or dropout)
    image : Tensor or ndarray, (C, H, W) or (1, C, H, W)
    target : int, the class whose score is differentiated

    Returns
    -------
    matplotlib Figure with 2 panels: the image and the saliency map.  The map
    itself is ``fig.saliency`` (an (H, W) ndarray).
    """
    from .autograd import enable_grad
    from ._tensor import tensor
    a = _array(image)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[0] != 1:
        raise ValueError(f"saliency: expected one image (C, H, W) or (1, C, H, W), got shape "
                         f"{tuple(a.shape)}")
    from . import _defaults
    dt = next((p._array.dtype for p in model.parameters() if p._array.dtype.kind == "f"),
              _defaults.FLOAT)                # (the model's dtype: float32, or float64)
    x = tensor(np.ascontiguousarray(a, dtype=dt), requires_grad=True)
    with enable_grad():
        scores = model(x)
        if not 0 <= int(target) < scores.shape[1]:
            raise ValueError(f"saliency: target {target} is out of range for "
                             f"{scores.shape[1]} classes")
        scores[0, int(target)].backward()
    sal = np.abs(x.grad._array[0]).max(axis=0)
    fig, axes = _figure(1, 2, (3.0, 3.0))
    img = a[0]
    shown = np.transpose(_unit(img), (1, 2, 0)) if img.shape[0] == 3 else _unit(img.mean(0))
    axes[0, 0].imshow(shown, cmap=None if img.shape[0] == 3 else "gray",
                      interpolation="nearest")
    axes[0, 0].set_title("image")
    axes[0, 1].imshow(sal, cmap="hot", interpolation="nearest")
    axes[0, 1].set_title(f"saliency, class {int(target)}")
    for ax in axes[0]:
        ax.set_axis_off()
    fig.saliency = sal
    return fig
