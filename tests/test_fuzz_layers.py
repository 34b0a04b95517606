"""Fuzzing the layers: Hypothesis draws convolution, pooling, normalization and recurrent
configurations, valid or not, and each either runs or raises one of the documented errors.

For each drawn configuration an oracle written from PyTorch's documentation says whether it is
valid. Valid: the layer must run, its output must have PyTorch's shape (the formula
floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1 and friends) and the layer's dtype,
every gradient the shape and dtype of its Value, and (in float64) the gradients must agree with
central finite differences along a random direction through the input and every parameter at
once. Invalid: a ValueError or TypeError naming the layer (or its op). Small shapes throughout,
so the default "ci" profile (30 examples a test) stays quick.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn

DTYPES = st.sampled_from([np.float64, np.float64, np.float32])  # mostly float64: FD checks


def _data(v):
    return np.asarray(v.data if isinstance(v, mg.Value) else v)


def _outputs(out) -> list:
    """The Values of a layer's result: (output, h_n) or (output, (h_n, c_n)) flattened."""
    if isinstance(out, tuple):
        return [v for part in out for v in _outputs(part)]
    return [out]


def check_run(run, x: np.ndarray, params: list, dtype, rng) -> list:
    """Run `run(x)`, check dtypes and gradient shapes, and in float64 compare the gradients
    with central differences along one random direction (input and parameters together).
    Returns the output arrays."""
    xv = mg.Value(x.astype(dtype))
    outs = _outputs(run(xv))
    upstream = [rng.normal(size=o.shape) for o in outs]
    sum((o * u.astype(dtype)).sum() for o, u in zip(outs, upstream)).backward()
    for o in outs:
        assert o.dtype == dtype
    leaves = [xv, *params]
    for v in leaves:
        assert v.grad is not None and v.grad.shape == v.shape and v.grad.dtype == dtype
    event(f"runs in {np.dtype(dtype)}")
    if dtype != np.float64:
        return [_data(o) for o in outs]
    directions = [rng.normal(size=v.shape) for v in leaves]
    starts = [v.data.copy() for v in params]

    def loss_at(t: float) -> float:
        for p, p0, d in zip(params, starts, directions[1:]):
            p.data = p0 + t * d
        with mg.no_grad():
            values = _outputs(run(x + t * directions[0]))
        return sum(float(np.sum(_data(o) * u)) for o, u in zip(values, upstream))

    eps = 1e-6
    numeric = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    loss_at(0.0)  # the parameters back as they were
    analytic = sum(float(np.sum(v.grad * d)) for v, d in zip(leaves, directions))
    assert math.isclose(analytic, numeric, rel_tol=1e-5, abs_tol=1e-6), (analytic, numeric)
    return [_data(o) for o in outs]


def _raises_documented(call, names: list[str]) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    event(f"raises {type(info.value).__name__}")
    message = str(info.value)
    assert any(n in message for n in names), message


def _sizes(data, d: int, low: int = 1, high: int = 6) -> tuple[int, ...]:
    return tuple(data.draw(st.integers(low, high)) for _ in range(d))


def _int_or_tuple(data, d: int, low: int, high: int):
    values = _sizes(data, d, low, high)
    return values[0] if data.draw(st.booleans()) else values


def _per_axis(value, d: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, tuple) else (value,) * d


def _mistake(data, *kinds: str) -> str:
    """Which one thing to get wrong, or "none" (about half the time): the oracle below still
    judges the values actually drawn."""
    return data.draw(st.sampled_from(["none"] * len(kinds) + list(kinds)), label="mistake")


# ----- convolution ---------------------------------------------------------------------------
@given(data=st.data())
def test_conv_layers_run_or_raise_a_documented_error(data):
    d = data.draw(st.sampled_from([1, 2]), label="spatial axes")
    mistake = _mistake(data, "groups", "kernel", "stride", "same", "channels", "size", "type")
    groups = data.draw(st.integers(1, 3))
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    if mistake == "groups":
        cin += 1
    kernel = _int_or_tuple(data, d, 0 if mistake == "kernel" else 1, 3)
    stride = _int_or_tuple(data, d, 0 if mistake == "stride" else 1, 2)
    dilation = _int_or_tuple(data, d, 1, 2)
    forms = st.sampled_from(["same", "valid"]) | st.integers(0, 2)
    padding = "same" if mistake == "same" else data.draw(forms, label="padding")
    if padding == "same" and mistake != "same":
        stride = 1
    if mistake == "type":
        dilation = 1.5  # not an int: a TypeError
    dtype = data.draw(DTYPES)
    name = f"Conv{d}d"
    k, s, dl = _per_axis(kernel, d), _per_axis(stride, d), _per_axis(dilation, d)
    makes = (
        isinstance(dilation, (int, tuple))
        and cin % groups == 0
        and cout % groups == 0
        and min(k) >= 1
        and min(s) >= 1
        and not (padding == "same" and max(s) > 1)
    )

    def make():
        return getattr(nn, name)(cin, cout, kernel, stride, padding, dilation, groups, dtype=dtype)

    if not makes:
        _raises_documented(make, [name])
        return
    layer = make()
    batched = data.draw(st.booleans())
    channels = cin + 1 if mistake == "channels" else cin
    size = _sizes(data, d, 1, 2 if mistake == "size" else 6)
    shape = ((2,) if batched else ()) + (channels, *size)
    x = np.random.default_rng(0).normal(size=shape)
    pads = [0] * d if padding == "valid" else [padding] * d if padding != "same" else None
    spans = [dli * (ki - 1) + 1 for ki, dli in zip(k, dl)]
    fits = pads is None or all(sp <= n + 2 * p for sp, n, p in zip(spans, size, pads))
    if channels != cin or not fits:
        _raises_documented(lambda: layer(x), [name, name.lower()])
        return
    if pads is None:  # 'same': as long as the input
        expected = size
    else:
        expected = tuple(
            (n + 2 * p - dli * (ki - 1) - 1) // si + 1
            for n, p, ki, dli, si in zip(size, pads, k, dl, s)
        )
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    (out,) = check_run(layer, x, layer.parameters(), dtype, rng)
    assert out.shape == ((2,) if batched else ()) + (cout, *expected)


# ----- pooling -------------------------------------------------------------------------------
@given(data=st.data())
def test_pool_layers_run_or_raise_a_documented_error(data):
    d = data.draw(st.sampled_from([1, 2]), label="spatial axes")
    kind = data.draw(st.sampled_from(["Max", "Avg"]))
    name = f"{kind}Pool{d}d"
    mistake = _mistake(data, "kernel", "stride", "padding", "dims", "size", "type")
    kernel = _int_or_tuple(data, d, 0 if mistake == "kernel" else 1, 3)
    kernel = float(_per_axis(kernel, d)[0]) if mistake == "type" else kernel  # a TypeError
    stride = data.draw(st.none() | st.integers(0 if mistake == "stride" else 1, 3))
    padding = data.draw(st.integers(0, 2 if mistake == "padding" else 1))
    dtype = data.draw(DTYPES)
    k = _per_axis(kernel, d)
    s = k if stride is None else (stride,) * d
    makes = (
        not isinstance(kernel, float)
        and min(k) >= 1
        and min(s) >= 1
        and all(padding <= ki // 2 for ki in k)
    )

    def make():
        return getattr(nn, name)(kernel, stride, padding)

    if not makes:
        _raises_documented(make, [name])
        return
    layer = make()
    ndim = d if mistake == "dims" else data.draw(st.sampled_from([d + 1, d + 2]))
    size = _sizes(data, d, 1, 2 if mistake == "size" else 6)
    shape = ((2, 3) + size)[d + 2 - ndim :]  # (N, C, *size), (C, *size) or too few axes
    x = np.random.default_rng(1).normal(size=shape)
    fits = all(ki <= n + 2 * padding for ki, n in zip(k, size))
    if ndim == d or not fits:
        _raises_documented(lambda: layer(x), [name, name.lower().replace("pool", "_pool")])
        return
    expected = tuple((n + 2 * padding - ki) // si + 1 for n, ki, si in zip(size, k, s))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    (out,) = check_run(layer, x, [], dtype, rng)
    assert out.shape == shape[:-d] + expected


# ----- normalization -------------------------------------------------------------------------
@given(data=st.data())
def test_normalization_layers_run_or_raise_a_documented_error(data):
    name = data.draw(st.sampled_from(["BatchNorm1d", "BatchNorm2d", "LayerNorm"]))
    dtype = data.draw(DTYPES)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    lead, ndim, batch_stats = (), 0, True
    if name == "LayerNorm":
        normalized = _sizes(data, data.draw(st.integers(1, 2)), 1, 3)
        lead = _sizes(data, data.draw(st.integers(0, 2)), 1, 3)
        tail = data.draw(st.sampled_from([normalized, normalized, normalized[::-1]]))
        affine = data.draw(st.booleans())
        layer = nn.LayerNorm(normalized, elementwise_affine=affine, dtype=dtype)
        shape = lead + tail
        if tail != normalized:
            _raises_documented(lambda: layer(rng.normal(size=shape)), ["LayerNorm"])
            return
        count = math.prod(normalized)
    else:
        c = data.draw(st.integers(1, 3))
        layer = getattr(nn, name)(
            c,
            affine=data.draw(st.booleans()),
            track_running_stats=data.draw(st.booleans()),
            momentum=data.draw(st.sampled_from([0.1, None])),
            dtype=dtype,
        )
        layer.train(data.draw(st.booleans()))
        ndims = (2, 3) if name == "BatchNorm1d" else (4,)
        ndim = data.draw(st.sampled_from([*ndims, *ndims, 1, 5]))
        channels = data.draw(st.sampled_from([c, c, c + 1]))
        shape = (data.draw(st.integers(1, 3)), channels, *_sizes(data, max(ndim - 2, 0), 1, 3))
        shape = shape[:ndim]
        batch_stats = layer.training or layer.running_mean is None
        count = math.prod(shape) // max(channels, 1)
        if ndim not in ndims or channels != c or (batch_stats and count == 1):
            _raises_documented(lambda: layer(rng.normal(size=shape)), [name])
            return
    x = rng.normal(size=shape)
    (out,) = check_run(layer, x, layer.parameters(), dtype, rng)
    assert out.shape == shape
    for _, b in layer.named_buffers():
        assert b.dtype == (np.int64 if b.ndim == 0 else dtype)
    if layer.weight is None and (name == "LayerNorm" or batch_stats):
        # normalized by the statistics of these axes: mean 0 over them
        axes = tuple(range(len(lead), len(shape))) if name == "LayerNorm" else (0, *range(2, ndim))
        np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-5)


# ----- recurrent -----------------------------------------------------------------------------
@given(data=st.data())
def test_recurrent_layers_run_or_raise_a_documented_error(data):
    name = data.draw(st.sampled_from(["RNN", "LSTM", "GRU"]))
    h_in, hidden, layers = (data.draw(st.integers(1, 3)) for _ in range(3))
    bidirectional, batch_first, bias = (data.draw(st.booleans()) for _ in range(3))
    dtype = data.draw(DTYPES)
    kwargs = {"nonlinearity": data.draw(st.sampled_from(["tanh", "relu"]))} if name == "RNN" else {}
    layer = getattr(nn, name)(
        h_in, hidden, layers, bias=bias, batch_first=batch_first,
        bidirectional=bidirectional, dtype=dtype, rng=0, **kwargs,
    )  # fmt: skip
    length, n = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 2))
    batched = data.draw(st.booleans())
    features = data.draw(st.sampled_from([h_in, h_in, h_in + 1]))
    d = 2 if bidirectional else 1
    if batched:
        shape = (n, length, features) if batch_first else (length, n, features)
        state_shape = (d * layers, n, hidden)
    else:
        shape, state_shape = (length, features), (d * layers, hidden)
    given_state = data.draw(st.sampled_from(["none", "right", "wrong"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    x = rng.normal(size=shape)
    wrong = (state_shape[0] + 1, *state_shape[1:])
    h0 = None if given_state == "none" else rng.normal(
        size=state_shape if given_state == "right" else wrong
    ) * 0.5  # fmt: skip

    def run(inputs):
        if h0 is None:
            return layer(inputs)
        state = (h0, np.tanh(h0)) if name == "LSTM" else h0
        return layer(inputs, state)

    if features != h_in or given_state == "wrong":
        _raises_documented(lambda: run(x), [name])
        return
    outs = check_run(run, x, layer.parameters(), dtype, rng)
    out_shape = shape[:-1] + (d * hidden,)
    assert outs[0].shape == out_shape
    assert all(h.shape == state_shape for h in outs[1:])
    assert len(outs) == (3 if name == "LSTM" else 2)


@given(data=st.data())
def test_recurrent_cells_run_or_raise_a_documented_error(data):
    name = data.draw(st.sampled_from(["RNNCell", "LSTMCell", "GRUCell"]))
    h_in, hidden = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    dtype = data.draw(DTYPES)
    cell = getattr(nn, name)(h_in, hidden, bias=data.draw(st.booleans()), dtype=dtype, rng=0)
    batched = data.draw(st.booleans())
    features = data.draw(st.sampled_from([h_in, h_in, h_in + 1]))
    shape = (2, features) if batched else (features,)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    x = rng.normal(size=shape)
    if features != h_in:
        _raises_documented(lambda: cell(x), [name])
        return
    outs = check_run(cell, x, cell.parameters(), dtype, rng)
    assert all(o.shape == shape[:-1] + (hidden,) for o in outs)
