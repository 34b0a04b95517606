"""The `Value`: one type for single numbers and numpy arrays, recording how it was made.

A Value holds `data` (a Python float for a single number, a numpy array otherwise), `grad`
(None until backward reaches it, then the same shape and dtype as `data`), and the record of the
operation that made it: `op` (its name) and `parents` (its inputs, in order, repeated when an
input was used twice). Operator methods only forward to the ops in `minigrad.ops`; the math lives
there and the graph walk lives in `minigrad.engine`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.convert import data_text, to_data, warn_long_iteration

_FLOAT64 = np.dtype(np.float64)


class Value:
    """A number or an array that remembers how it was computed, so gradients can flow back.

    >>> a = Value(2.0); b = a * a + 1.0
    >>> b.backward(); a.grad
    4.0
    """

    # __slots__ keeps each node small and its attribute access fast (the scalar engine makes
    # tens of thousands of them per training step). __weakref__ lets tools watch nodes.
    # _x, _y: the op's first two inputs (Values, or raw constants, see `parents`; _y is None for
    # a one-input op, both for a leaf). _rest: None, or for an op with more inputs or with
    # parameters the pair (the other inputs as a tuple, the parameters or None); read through
    # the properties `_more` and `_params`. Speed: not one tuple of all inputs, because every
    # object that holds references is tracked by Python's garbage collector, whose time grows
    # with their number: one object per op, not two, halves it (it was about half of a scalar
    # chain's forward time); and one slot for the rare parts, because the collector visits
    # every set slot of every node.
    # During a backward pass only: _g, the gradient pending for this node (None otherwise);
    # _n, how many uses of this node by others have not been visited yet (set by the pass).
    # _label: left unset until a label is given (`label` then reads None). Speed: a slot less
    # for the collector, which visits a million-node graph several times while it is built.
    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "_label",
        "_x",
        "_y",
        "_op",
        "_rest",
        "_g",
        "_n",
        "__weakref__",
    )

    # Tell numpy to step aside: `array * value` and `np.float64(2) * value` then call our
    # reflected methods and are recorded, instead of numpy turning the Value into an array.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = True, label: str | None = None):
        if label is not None and not isinstance(label, str):
            raise TypeError(f"Value: label must be a string or None, got {type(label).__name__}")
        self.data = to_data(data)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        if label is not None:
            self.label = label
        self._x = self._y = None
        self._rest = None
        self._op = None
        self._g = None

    # ----- attributes -------------------------------------------------------------------
    @property
    def label(self) -> str | None:
        """A name for drawings and traces (None if not given)."""
        try:
            return self._label
        except AttributeError:  # never set
            return None

    @label.setter
    def label(self, name: str | None) -> None:
        self._label = name

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this Value, in order; plain numbers as constants."""
        if self._x is None:
            return ()
        if not isinstance(self._x, Value):
            # Speed: ops keep plain-number inputs raw (no Value made per constant); wrap them
            # the first time someone looks, once, so the same constants come back every time.
            self._x = _constant(self._x)
        if self._y is None:
            return (self._x,)
        if not isinstance(self._y, Value):
            self._y = _constant(self._y)
        more = self._more
        if not all(isinstance(x, Value) for x in more):
            more = tuple(x if isinstance(x, Value) else _constant(x) for x in more)
            self._rest = (more, self._params)
        return (self._x, self._y, *more)

    @property
    def _more(self) -> tuple:
        """The op's inputs after the first two (a tuple, empty for most ops)."""
        return () if self._rest is None else self._rest[0]

    @property
    def _params(self) -> dict | None:
        """The op's parameters (axis=..., shape=...), None for an op without any."""
        return None if self._rest is None else self._rest[1]

    @property
    def op(self) -> str:
        """The name of the op that made this Value ('' for a leaf)."""
        return self._op.name if self._op is not None else ""

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    @property
    def shape(self) -> tuple[int, ...]:
        return () if type(self.data) is float else self.data.shape

    @property
    def ndim(self) -> int:
        return 0 if type(self.data) is float else self.data.ndim

    @property
    def size(self) -> int:
        return 1 if type(self.data) is float else self.data.size

    @property
    def dtype(self) -> np.dtype:
        return _FLOAT64 if type(self.data) is float else self.data.dtype

    @property
    def T(self) -> Value:
        return ops.transpose(self)

    def item(self) -> float:
        if type(self.data) is float:
            return self.data
        if self.data.size != 1:
            raise ValueError(f"item(): only a one-element Value has an item, shape is {self.shape}")
        return float(self.data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shared, not copied, for array Values)."""
        return np.asarray(self.data)

    def detach(self) -> Value:
        """A new leaf holding the same data, cut off from the graph (requires_grad=False)."""
        return Value(self.data, requires_grad=False, label=self.label)

    def zero_grad(self) -> None:
        self.grad = None

    def backward(
        self, gradient: Any = None, create_graph: bool = False, inputs: Any = None
    ) -> None:
        """Fill in `.grad` of every Value this one depends on (reverse-mode autodiff); with
        `inputs=[...]`, only of those (for example a model's parameters: no memory is then
        kept for the intermediates' gradients)."""
        engine.backward(self, gradient, create_graph=create_graph, inputs=inputs)

    def register_hook(self, fn):
        """Call `fn(grad)` with this Value's gradient in each backward pass that reaches it; a
        returned value replaces the gradient (as PyTorch's). `handle.remove()` undoes it."""
        return engine.register_hook(self, fn)

    def requires_grad_(self, flag: bool = True) -> Value:
        self.requires_grad = bool(flag)
        return self

    def __repr__(self) -> str:
        if type(self.data) is float or self.data.size <= 6:
            text = f"Value(data={data_text(self.data)}, grad={data_text(self.grad)}"
            if self.dtype != _FLOAT64:
                text += f", dtype={self.dtype}"
        else:
            grad = "None" if self.grad is None else "set"
            text = f"Value(shape={self.shape}, dtype={self.dtype}, grad={grad}"
        if self._op is not None:
            text += f", op={self.op!r}"
        if self.label:
            text += f", label={self.label!r}"
        return text + ")"

    def _repr_html_(self) -> str:
        """Jupyter's display: data (a preview for arrays), grad and op (minigrad.viz.display)."""
        from minigrad.viz.display import value_html

        return value_html(self)

    # ----- numpy and Python protocols ---------------------------------------------------
    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        arr = np.asarray(self.data, dtype=dtype)
        return arr.copy() if copy else arr

    def __float__(self) -> float:
        return self.item()

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                f"the truth value of a Value of shape {self.shape} is ambiguous; use .data.any() "
                "or .data.all()"
            )
        return bool(self.item())

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d (scalar) Value")
        return self.data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d (scalar) Value")
        warn_long_iteration(self.data.shape)  # many rows: one node each; sum(v) crawls
        return (self[i] for i in range(self.data.shape[0]))

    # Values hash by identity (as graph nodes), even though == compares data as numpy does.
    __hash__ = object.__hash__

    # ----- arithmetic: each operator records its op ------------------------------------------
    # `+ - * / ** @` and their reflected forms are made by `engine.operator` at the end of this
    # file (they need the ops, which need this class).

    def __neg__(self):
        return apply1(Neg, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return apply1(Abs, self)

    # Comparisons give plain booleans (bool or bool array) and record nothing.
    def __lt__(self, other):
        return self.data < _raw(other)

    def __le__(self, other):
        return self.data <= _raw(other)

    def __gt__(self, other):
        return self.data > _raw(other)

    def __ge__(self, other):
        return self.data >= _raw(other)

    def __eq__(self, other):
        return self.data == _raw(other)

    def __ne__(self, other):
        return self.data != _raw(other)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # ----- elementwise ---------------------------------------------------------------------
    # Speed: the parameterless ones call the engine's `apply1` with the op class directly.
    def exp(self):
        return apply1(Exp, self)

    def log(self):
        return apply1(Log, self)

    def sqrt(self):
        return apply1(Sqrt, self)

    def abs(self):
        return apply1(Abs, self)

    def tanh(self):
        return apply1(Tanh, self)

    def sigmoid(self):
        return apply1(Sigmoid, self)

    def relu(self):
        return apply1(Relu, self)

    def leaky_relu(self, slope=0.01):
        return ops.leaky_relu(self, slope)

    def softplus(self):
        return apply1(Softplus, self)

    def sin(self):
        return apply1(Sin, self)

    def cos(self):
        return apply1(Cos, self)

    def clip(self, lo=None, hi=None):
        return ops.clip(self, lo, hi)

    # ----- reductions ----------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return ops.min(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return ops.var(self, axis, keepdims, ddof)

    def logsumexp(self, axis=None, keepdims=False):
        return ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis=-1):
        return ops.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return ops.log_softmax(self, axis)

    # ----- shape ---------------------------------------------------------------------------
    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def transpose(self, *axes):
        return ops.transpose(self, *axes)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.flatten(self, start_dim, end_dim)

    def pad(self, pad_width, constant_values=0):
        return ops.pad(self, pad_width, constant_values)

    def squeeze(self, axis=None):
        return ops.squeeze(self, axis)

    def unsqueeze(self, axis):
        return ops.unsqueeze(self, axis)

    def broadcast_to(self, shape):
        return ops.broadcast_to(self, shape)

    # ----- pooling (torch.nn.functional's, as methods too) -----------------------------------
    def max_pool1d(self, kernel_size, stride=None, padding=0):
        return ops.max_pool1d(self, kernel_size, stride, padding)

    def max_pool2d(self, kernel_size, stride=None, padding=0):
        return ops.max_pool2d(self, kernel_size, stride, padding)

    def avg_pool1d(self, kernel_size, stride=None, padding=0):
        return ops.avg_pool1d(self, kernel_size, stride, padding)

    def avg_pool2d(self, kernel_size, stride=None, padding=0):
        return ops.avg_pool2d(self, kernel_size, stride, padding)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _constant(x: Any) -> Value:
    return engine.constant(x)


# Imported last: the ops and the engine need the Value class defined above.
from minigrad import engine, ops  # noqa: E402
from minigrad.engine import apply1, operator  # noqa: E402
from minigrad.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub  # noqa: E402
from minigrad.ops.elementwise import (  # noqa: E402
    Abs,
    Cos,
    Exp,
    Log,
    Relu,
    Sigmoid,
    Sin,
    Softplus,
    Sqrt,
    Tanh,
)
from minigrad.ops.linalg import MatMul  # noqa: E402

# The operators `+ - * / ** @`, each with its reflected form (`2 * v` calls `v.__rmul__(2)`).
for _op, _name in [
    (Add, "add"),
    (Sub, "sub"),
    (Mul, "mul"),
    (Div, "truediv"),
    (Pow, "pow"),
    (MatMul, "matmul"),
]:
    for _method in (f"__{_name}__", f"__r{_name}__"):
        setattr(Value, _method, operator(_op, _method))
del _op, _name, _method
