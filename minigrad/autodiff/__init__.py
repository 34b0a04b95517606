"""Automatic differentiation as functions: reverse mode, forward mode, and their compositions.

- reverse.py: `grad`, `value_and_grad`, `vjp`, `jacrev` (alias `jacobian`), `hessian`, on top of
  the engine's backward pass (one vector-Jacobian product u^T J per pass);
- forward.py: `jvp`, `jacfwd`, `hvp`: tangents carried forward with the values through each
  op's forward rules (one Jacobian-vector product J v per pass);
- common.py: `argnums`, fresh inputs, checks on what f returns, and how transforms nest.

All of them compose: `grad(grad(f))`, `jvp(grad(f), ...)` (forward over reverse),
`grad(lambda x: jvp(f, (x,), (v,))[1])` (reverse over forward), `jacfwd(jacrev(f))`.
"""

from minigrad.autodiff.forward import hvp, jacfwd, jvp
from minigrad.autodiff.reverse import grad, hessian, jacobian, jacrev, value_and_grad, vjp

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "jacrev",
    "jacobian",
    "hessian",
    "jvp",
    "jacfwd",
    "hvp",
]
