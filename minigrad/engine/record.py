"""Recording: how an op's result becomes a node of the graph, and the modes that decide it.

`apply(op, *inputs, **params)` runs the op's forward on the inputs' data; when some input is a
Value that requires grad (and grad mode is on), the result is a Value that remembers the op and
its inputs. That is all the forward pass does: the graph is the record of these calls.

The mode (grad mode, anomaly mode, the reference path, a forward-mode listener) is kept per
thread, so two threads can train independently.

Speed (issue 6): `apply1`, `apply2`, `apply3` and `operator` (the Value methods `+ - * / ** @`)
are `apply` for the common case, written out; the mode state lives here with them, because
they read it on every op. Each says "Speed:" where it differs from plain `apply`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minigrad.value import Value, to_data


# ----- the mode, per thread -----------------------------------------------------------------
class _Mode(threading.local):
    """Grad mode, anomaly mode, the reference path and the forward-mode listener of a thread."""

    def __init__(self) -> None:
        self._grad_enabled = True
        self._anomaly = False
        self._reference = _REFERENCE_FROM_ENV
        self._on_record: Callable[[Value], None] | None = None
        # Speed: one flag for the ops' fast path, "record, no checks, nothing listening", so it
        # costs one thread-local lookup per op instead of four.
        self.fast = not self._reference
        # Whether backward must take the reference path (anomaly checks or reference mode),
        # kept up to date like `fast`: one lookup per backward.
        self.checked_backward = self._reference
        if not self.fast:
            _count_slow_threads(1)
        self.saved: list[Any] = []

    @property
    def grad_enabled(self) -> bool:
        return self._grad_enabled

    @grad_enabled.setter
    def grad_enabled(self, on: bool) -> None:
        self._grad_enabled = on
        self._update()

    @property
    def anomaly(self) -> bool:
        return self._anomaly

    @anomaly.setter
    def anomaly(self, on: bool) -> None:
        self._anomaly = on
        self._update()

    @property
    def reference(self) -> bool:
        """Every op through `apply`, every backward through the reference path."""
        return self._reference

    @reference.setter
    def reference(self, on: bool) -> None:
        self._reference = on
        self._update()

    @property
    def on_record(self) -> Callable[[Value], None] | None:
        """Called with every node right after it is recorded (forward mode listens here)."""
        return self._on_record

    @on_record.setter
    def on_record(self, listener: Callable[[Value], None] | None) -> None:
        self._on_record = listener
        self._update()

    def _update(self) -> None:
        self.checked_backward = self._anomaly or self._reference
        was_fast = self.fast
        self.fast = (
            self._grad_enabled
            and not self._anomaly
            and not self._reference
            and self._on_record is None
        )
        if self.fast != was_fast:
            _count_slow_threads(-1 if self.fast else 1)


# Speed: even one thread-local lookup per op shows in the scalar engine. While no thread is in
# no_grad, anomaly mode, the reference path or forward mode, `all_fast` says so and the ops skip
# the lookup; otherwise each thread reads its own `mode.fast`, so threads never see each
# other's modes.
all_fast = True
_slow_threads = 0
_slow_lock = threading.Lock()
# MINIGRAD_REFERENCE=1 runs every thread on the reference path from the start.
_REFERENCE_FROM_ENV = os.environ.get("MINIGRAD_REFERENCE", "") not in ("", "0")


def _count_slow_threads(change: int) -> None:
    global all_fast, _slow_threads
    with _slow_lock:
        _slow_threads += change
        all_fast = _slow_threads == 0


mode = _Mode()


# ----- nodes -------------------------------------------------------------------------------
def _record(data: Any, op: Any, x: Any, y: Any, more: tuple, params: dict | None) -> Value:
    """A Value made by `op` from inputs x, y, *more (Values, or raw constants; y None for a
    one-input op), without Value.__init__: the data is already valid, and this runs per op."""
    v = Value.__new__(Value)
    v.data = data
    v.grad = None
    v.requires_grad = True
    v._x = x
    v._y = y
    v._rest = (more, params) if more or params is not None else None
    v._op = op
    v._g = None
    return v


def constant(data: Any) -> Value:
    """A leaf that needs no gradient (results computed only from constants, or under no_grad)."""
    v = _record(data, None, None, None, (), None)
    v.requires_grad = False
    return v


def _as_input(x: Any) -> Any:
    """Plain input of an op: Python/numpy scalars become floats (weak scalars, as in numpy and
    PyTorch: they never change a float32 array's dtype), arrays and lists become float arrays."""
    if type(x) is float or type(x) is np.ndarray and x.dtype.kind == "f":
        return x
    if isinstance(x, (int, float, np.number, np.bool_)):
        return float(x)
    return to_data(x, "operand")


def shapes_text(datas: Iterable[Any]) -> str:
    return ", ".join(str(np.shape(d)) for d in datas)


# ----- apply: the one way an op runs -----------------------------------------------------------
def apply(op: Any, *inputs: Any, **params: Any) -> Any:
    """Run `op` forward on `inputs`; record it in the graph when an input requires grad.

    Called on plain numbers/arrays only, it is just the computation (that is how gradient rules
    run in a normal backward); called with any Value, it returns a Value.
    """
    datas = []
    kept = []  # what the graph keeps: the Values, and plain inputs raw (see Value.parents)
    has_value = False
    record = False
    # Speed: one loop, no comprehension (a comprehension is a function call in Python 3.11).
    for x in inputs:
        if isinstance(x, Value):
            has_value = True
            record = record or x.requires_grad
            datas.append(x.data)
            kept.append(x)
        else:
            d = _as_input(x)
            datas.append(d)
            kept.append(d)
    try:
        out = op.forward(*datas, **params)
    except (ValueError, IndexError, TypeError) as err:
        raise type(err)(f"{op.name}: {err} (input shapes: {shapes_text(datas)})") from err
    if type(out) is not float and type(out) is not np.ndarray:
        out = np.asarray(out)  # numpy reductions give numpy scalars: keep them as 0-d arrays
    if not has_value:
        return out
    fast = all_fast or mode.fast  # recording, no checks, nothing listening
    if not fast:
        if mode.anomaly:
            check_finite(out, op, params, inputs, "forward")
        record = record and mode.grad_enabled
    if not record:
        return constant(out)
    y = kept[1] if len(kept) > 1 else None
    node = _record(out, op, kept[0], y, tuple(kept[2:]), params or None)
    if not fast:
        if mode.on_record is not None:
            mode.on_record(node)
        if mode.anomaly:
            remember_data(node, datas)  # what its rules will read, to check in backward
    return node


# Speed: the scalar engine spends most of its time here. These two (and `operator`, the Value
# methods `+ - * / ** @`) skip `apply`'s generality (argument tuples, the params dict, the loop)
# for the usual case: ops without parameters on Values and Python floats or float arrays, with
# the fast mode on. Anything else goes through `apply`, so errors and modes behave the same.
def apply1(op: Any, x: Any) -> Any:
    """`apply(op, x)` for an op with one input and no parameters."""
    if isinstance(x, Value) and x.requires_grad and (all_fast or mode.fast):
        try:
            out = op.forward(x.data)
        except (ValueError, IndexError, TypeError):
            return apply(op, x)  # raises again, with the op's name and the shapes
        if type(out) is not float and type(out) is not np.ndarray:
            out = np.asarray(out)
        return _record(out, op, x, None, (), None)
    return apply(op, x)


def _plain(x: Any) -> tuple[Any, Any, bool] | None:
    """(input as kept, its data, whether it needs a gradient) for the fast path's usual
    inputs, None for anything else (which goes through `apply`)."""
    if isinstance(x, Value):
        return x, x.data, x.requires_grad
    if type(x) is float or type(x) is np.ndarray and x.dtype.kind == "f":
        return x, x, False
    if type(x) is int:
        return float(x), float(x), False  # `2 * v`: a weak scalar, as a float
    return None


def apply2(op: Any, x: Any, y: Any) -> Any:
    """`apply(op, x, y)` for an op with two inputs and no parameters."""
    px, py = _plain(x), _plain(y)
    if px is None or py is None or not (px[2] or py[2]) or not (all_fast or mode.fast):
        return apply(op, x, y)
    try:
        out = op.forward(px[1], py[1])
    except (ValueError, IndexError, TypeError):
        return apply(op, x, y)  # raises again, with the op's name and the shapes
    if type(out) is not float and type(out) is not np.ndarray:
        out = np.asarray(out)
    return _record(out, op, px[0], py[0], (), None)


def apply3(op: Any, x: Any, y: Any, z: Any) -> Any:
    """`apply(op, x, y, z)` for an op with three inputs and no parameters (the fused `linear`),
    on Values and float arrays. Speed: as `apply2` (one call less per layer)."""
    # Speed: a layer's usual inputs (a Value, or the batch as a float array) tested here, as in
    # `_plain`, without its call and tuple (this runs once per layer)
    if isinstance(x, Value):
        xd, x_needs = x.data, x.requires_grad
    elif type(x) is np.ndarray and x.dtype.kind == "f":
        xd, x_needs = x, False
    elif (px := _plain(x)) is not None:
        x, xd, x_needs = px
    else:
        return apply(op, x, y, z)
    if (
        not isinstance(y, Value)
        or not isinstance(z, Value)
        or not (x_needs or y.requires_grad or z.requires_grad)
        or not (all_fast or mode.fast)
    ):
        return apply(op, x, y, z)
    try:
        out = op.forward(xd, y.data, z.data)
    except (ValueError, IndexError, TypeError):
        return apply(op, x, y, z)  # raises again, with the op's name and the shapes
    if type(out) is not np.ndarray and type(out) is not float:
        out = np.asarray(out)
    return _record(out, op, x, y, (z,), None)


def operator(op: Any, name: str) -> Callable[[Value, Any], Any]:
    """The Value method `name` of a two-input op: `self op other`, or for a reflected name
    (`__radd__`...) `other op self`. `Value.__add__ = operator(Add, "__add__")`.

    Speed: these run once per op of a scalar graph. Knowing that one input is a Value, the method
    tests the usual other input first (a float, a Value, an int), computes + and * without a call
    and records the node itself: a fifth less time per op than `apply2`. Anything else (arrays
    as the other input, modes, errors) goes through `apply2`, so it behaves the same.
    """
    forward = op.forward
    add, mul = op.name == "+", op.name == "*"
    reflected = name.startswith("__r")

    def method(self: Value, other: Any) -> Any:
        if type(other) is float:
            od = other
            need = self.requires_grad
        elif type(other) is Value:
            od = other.data
            need = self.requires_grad or other.requires_grad
        elif type(other) is int:
            od = other = float(other)  # `v * 2`: a weak scalar, as a float
            need = self.requires_grad
        else:
            return apply2(op, other, self) if reflected else apply2(op, self, other)
        if reflected:
            x, y = other, self
            xd, yd = od, self.data
        else:
            x, y = self, other
            xd, yd = self.data, od
        if not need or not (all_fast or mode.fast):
            return apply2(op, x, y)
        try:
            out = xd + yd if add else xd * yd if mul else forward(xd, yd)
        except (ValueError, IndexError, TypeError):
            return apply2(op, x, y)  # raises again, with the op's name and the shapes
        if type(out) is not float and type(out) is not np.ndarray:
            out = np.asarray(out)  # a 0-d array times a float gives a numpy scalar
        # _record(out, op, x, y, (), None), written out: one call less per op
        v = Value.__new__(Value)
        v.data = out
        v.grad = None
        v.requires_grad = True
        v._x = x
        v._y = y
        v._rest = None
        v._op = op
        v._g = None
        return v

    method.__name__, method.__qualname__ = name, f"Value.{name}"
    method.__doc__ = op.__doc__
    return method


from minigrad.engine.anomaly import check_finite, remember_data  # noqa: E402  (see shapes_text)
