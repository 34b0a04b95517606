"""The backward pass (and forward mode) as a program you can read and run.

`backward_code(root)` returns the straight-line Python program that root's backward pass runs:
one line per gradient rule, in backward's order, with the nodes' names, ending in the leaves'
gradients. `jvp_code(f, primals, tangents)` does the same for forward mode: one line per
forward rule, in the order the values are computed. Running either on the forward values
reproduces the engine's numbers exactly: it is the closest look at what reverse mode does.

>>> import minigrad as mg
>>> x = mg.Value(3.0, label="x"); w = mg.Value(2.0, label="w")
>>> y = x * w + x; y.label = "y"
>>> print(mg.backward_code(y))
# backward of y: one line per gradient rule, in backward's order
# Given: y, v1, x, w.
<BLANKLINE>
g_y = 1.0
# step 1: y = v1 + x
g_v1 = g_y
g_x = g_y
# step 2: v1 = x * w
g_x = g_x + g_v1 * w
g_w = g_v1 * x
<BLANKLINE>
# the leaves' gradients
leaf_grads = {
    'w': g_w,
    'x': g_x,
}
<BLANKLINE>
>>> mg.backward_code(y).run()["leaf_grads"]
{'w': 3.0, 'x': 3.0}
"""

from minigrad.codegen.backward import backward_code
from minigrad.codegen.forward import jvp_code
from minigrad.codegen.program import Program

__all__ = ["backward_code", "jvp_code", "Program"]
