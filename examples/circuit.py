"""The course notes' circuit f = (x + y) * z at x = -2, y = 5, z = -4, drawn
with its forward values (green) and, after backward, its gradients (red).

    python examples/circuit.py [out.svg|out.png]

Needs the graphviz package and Graphviz's dot (pip install "fastnn[viz]";
apt-get install graphviz); without dot the DOT source is printed instead.
"""
import sys

import fastnn
import fastnn.viz

x = fastnn.tensor(-2.0, requires_grad=True)
y = fastnn.tensor(5.0, requires_grad=True)
z = fastnn.tensor(-4.0, requires_grad=True)
q = x + y
q.retain_grad()                 # keep the inner wire's gradient for the picture
f = q * z
f.backward()
print(f"f = {f.item():g}; df/dx = {x.grad.item():g}, df/dy = {y.grad.item():g}, "
      f"df/dz = {z.grad.item():g}")

g = fastnn.viz.graph(f, params={"x": x, "y": y, "z": z})
path = sys.argv[1] if len(sys.argv) > 1 else "circuit.svg"
try:
    g.render(path)
    print(f"wrote {path}")
except (ImportError, RuntimeError) as e:
    print(f"({e}); the DOT source:\n{g.source}")
