"""A first look: build a tiny expression, backpropagate, read the gradients.

python examples/quickstart.py
"""

import numpy as np

import minigrad as mg

# Single numbers: every operation is recorded, backward() fills in .grad
a = mg.Value(2.0, label="a")
b = mg.Value(-3.0, label="b")
c = a * b + a.tanh()
c.backward()
print(f"c = a*b + tanh(a) = {c.data:.4f}")
print(f"dc/da = b + 1 - tanh(a)^2 = {a.grad:.4f}")
print(f"dc/db = a = {b.grad:.4f}")

# Arrays: the same Value, numpy broadcasting, reductions
x = mg.Value(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), label="x")
w = mg.Value(np.array([0.5, -1.0, 2.0]), label="w")
loss = ((x * w).sum(axis=1) ** 2).mean()
loss.backward()
print("loss =", loss.item())
print("dloss/dw =", w.grad)

# Gradients of gradients
f = lambda t: t**3  # noqa: E731
print("f''(2) for f = t^3:", mg.grad(mg.grad(f))(2.0))
