"""The Value: construction rules, attributes, repr, numpy interplay, operators, comparisons."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value

# ----- construction ----------------------------------------------------------------------------


@pytest.mark.parametrize("given, expected", [(2, 2.0), (-3.5, -3.5), (True, 1.0), (False, 0.0)])
def test_value_python_number_gives_python_float(given, expected):
    v = Value(given)
    assert type(v.data) is float and v.data == expected
    assert v.shape == () and v.ndim == 0 and v.size == 1 and v.dtype == np.float64


@pytest.mark.parametrize("given", [[1, 2, 3], [1.5, 2.0, 3.0], (1, 2, 3), [[1, 2], [3, 4]]])
def test_value_list_gives_float64_array(given):
    v = Value(given)
    assert type(v.data) is np.ndarray and v.data.dtype == np.float64
    np.testing.assert_array_equal(v.data, np.array(given, dtype=np.float64))


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.bool_, np.float64])
def test_value_int_bool_float64_arrays_become_float64(dtype):
    v = Value(np.array([0, 1, 1], dtype=dtype))
    assert v.dtype == np.float64
    np.testing.assert_array_equal(v.data, [0.0, 1.0, 1.0])


def test_value_float32_is_kept():
    x = np.array([1.5, -2.0], dtype=np.float32)
    v = Value(x)
    assert v.dtype == np.float32
    out = (v * 2.0 + 1).exp().sum()
    assert out.dtype == np.float32
    out.backward()
    assert v.grad.dtype == np.float32 and v.grad.shape == (2,)
    np.testing.assert_allclose(v.grad, 2 * np.exp(2 * x + 1), rtol=1e-6)


def test_value_array_data_is_not_copied_when_already_float():
    x = np.array([1.0, 2.0])
    assert Value(x).data is x  # no silent copy; ops never write into it (tested per op)


@pytest.mark.parametrize(
    "given, error, words",
    [
        (1j, TypeError, ["complex"]),
        (np.array([1 + 2j]), TypeError, ["complex"]),
        ([1 + 2j, 3], TypeError, ["complex"]),
        ("abc", TypeError, ["str", "abc"]),
        (["a", "b"], TypeError, ["<U1"]),
        (None, TypeError, ["NoneType"]),
        (object(), TypeError, ["object"]),
        (np.array([object()]), TypeError, ["object"]),
        ({"a": 1}, TypeError, ["dict"]),
        ([1, [2, 3]], ValueError, ["ragged", "[1, [2, 3]]"]),
        ([[1, 2], [3]], ValueError, ["ragged"]),
    ],
)
def test_value_bad_data_raises_naming_what_was_given(given, error, words):
    with pytest.raises(error) as info:
        Value(given)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {str(info.value)!r}"


def test_value_label_must_be_a_string():
    assert Value(1.0, label="w").label == "w"
    assert Value(1.0).label is None
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


# ----- attributes ------------------------------------------------------------------------------


def test_value_leaf_attributes():
    v = Value([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], label="x")
    assert v.grad is None and v.requires_grad is True
    assert v.op == "" and v.parents == ()
    assert v.shape == (2, 3) and v.ndim == 2 and v.size == 6 and v.dtype == np.float64
    assert Value(1.0, requires_grad=False).requires_grad is False


def test_value_op_and_parents_in_order():
    a, b = Value(2.0), Value(3.0)
    c = b - a
    assert c.op == "-" and c.parents == (b, a)
    d = a * a
    assert d.op == "*" and len(d.parents) == 2
    assert d.parents[0] is a and d.parents[1] is a
    e = 5.0 / a  # a plain number becomes a constant parent, in its place
    assert e.op == "/" and e.parents[1] is a
    assert e.parents[0].data == 5.0 and e.parents[0].requires_grad is False
    assert (a + b).op == "+" and a.exp().op == "exp" and (-a).op == "neg"


def test_value_item():
    assert Value(2.5).item() == 2.5 and type(Value(2.5).item()) is float
    one = Value([[4.0]]).item()
    assert one == 4.0 and type(one) is float
    with pytest.raises(ValueError, match=r"\(2,\)"):
        Value([1.0, 2.0]).item()


def test_value_numpy_and_asarray():
    x = np.array([1.0, 2.0])
    v = Value(x)
    assert v.numpy() is x
    assert np.asarray(v) is x
    assert np.asarray(v, dtype=np.float32).dtype == np.float32
    s = np.asarray(Value(3.0))
    assert s.shape == () and s == 3.0
    assert np.array(v).tolist() == [1.0, 2.0]
    assert float(Value(3.0)) == 3.0


def test_value_detach_cuts_the_graph():
    a = Value(np.array([1.0, 2.0]))
    b = a * 3.0
    d = b.detach()
    assert d.requires_grad is False and d.op == "" and d.parents == ()
    np.testing.assert_array_equal(d.data, [3.0, 6.0])
    (d * a).sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 6.0])  # no path through d back to a
    assert b.grad is None and d.grad is None


def test_value_zero_grad():
    a = Value(2.0)
    (a * a).backward()
    assert a.grad == 4.0
    a.zero_grad()
    assert a.grad is None


# ----- repr ------------------------------------------------------------------------------------


def test_value_repr_scalar():
    a = Value(2.0)
    assert repr(a) == "Value(data=2.0, grad=None)"
    (a * -2.0).backward()
    assert repr(a) == "Value(data=2.0, grad=-2.0)"
    b = Value(2.0)
    (b * b * -1.0).backward()
    assert repr(b) == "Value(data=2.0, grad=-4.0)"


def test_value_repr_arrays_and_extras():
    assert repr(Value([0.0, 1.0, 2.0])) == "Value(data=[0., 1., 2.], grad=None)"
    assert "dtype=float32" in repr(Value(np.zeros(2, dtype=np.float32)))
    big = repr(Value(np.zeros((10, 10))))
    assert "shape=(10, 10)" in big and "float64" in big and len(big) < 80
    assert "op='*'" in repr(Value(1.0) * 2.0)
    assert "label='w'" in repr(Value(1.0, label="w"))


# ----- hashing and comparisons ------------------------------------------------------------------


def test_value_hash_by_identity():
    a, b = Value([1.0, 2.0]), Value([1.0, 2.0])
    assert hash(a) == object.__hash__(a)
    assert hash(a) != hash(b)
    seen = {a: "a", b: "b"}
    assert len(seen) == 2 and seen[a] == "a" and seen[b] == "b"
    assert len({Value(1.0), Value(1.0)}) == 2


@pytest.mark.parametrize(
    "compare",
    [
        lambda x, y: x < y,
        lambda x, y: x <= y,
        lambda x, y: x > y,
        lambda x, y: x >= y,
        lambda x, y: x == y,
        lambda x, y: x != y,
    ],
)
def test_value_comparisons_give_plain_booleans(compare):
    a, b = Value(1.0), Value(2.0)
    for left, right in [(a, b), (a, 2.0), (2.0, a), (a, a)]:
        result = compare(left, right)
        assert type(result) is bool
        raw = lambda v: v.data if isinstance(v, Value) else v  # noqa: E731
        assert result == compare(raw(left), raw(right))
    x = Value([1.0, 2.0, 3.0])
    result = compare(x, np.array([3.0, 2.0, 1.0]))
    assert type(result) is np.ndarray and result.dtype == bool
    np.testing.assert_array_equal(result, compare(x.data, np.array([3.0, 2.0, 1.0])))
    result = compare(x, Value([2.0, 2.0, 2.0]))
    np.testing.assert_array_equal(result, compare(x.data, np.full(3, 2.0)))
    # Recording nothing: a scalar graph through a comparison has no gradient.
    assert a.grad is None and x.grad is None


def test_value_bool_of_arrays_is_ambiguous():
    assert bool(Value(2.0)) is True and bool(Value(0.0)) is False
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Value([1.0, 2.0]))


# ----- numpy on the left ------------------------------------------------------------------------


def test_value_numpy_scalars_on_the_left_are_recorded():
    v = Value(3.0)
    for left, expected in [(np.float64(2), 6.0), (np.int64(-1), -3.0), (np.float32(2), 6.0)]:
        out = left * v
        assert isinstance(out, Value) and out.op == "*"
        assert out.parents[1] is v
        assert out.data == expected
        v.zero_grad()
        out.backward()
        assert v.grad == float(left)


def test_value_numpy_array_on_the_left_is_recorded():
    v = Value(np.array([1.0, 2.0, 3.0]))
    arr = np.array([2.0, -1.0, 0.5])
    cases = {
        "*": (arr * v, arr * v.data),
        "+": (arr + v, arr + v.data),
        "-": (arr - v, arr - v.data),
        "/": (arr / v, arr / v.data),
        "**": (arr**v, arr**v.data),
    }
    for name, (out, expected) in cases.items():
        assert isinstance(out, Value) and out.op == name
        assert out.parents[1] is v
        np.testing.assert_allclose(out.data, expected)
    (arr * v).sum().backward()
    np.testing.assert_array_equal(v.grad, arr)
    m = np.eye(3) * 2.0
    out = m @ v
    assert isinstance(out, Value) and out.op == "matmul"
    np.testing.assert_array_equal(out.data, [2.0, 4.0, 6.0])


# ----- operators and methods forward to the ops with numpy's numbers ------------------------------


X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
Y = np.array([1.25, -0.5, 0.75])


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda x, y: x + y, X + Y),
        (lambda x, y: x - y, X - Y),
        (lambda x, y: x * y, X * Y),
        (lambda x, y: x / y, X / Y),
        (lambda x, y: abs(x) ** y, np.abs(X) ** Y),
        (lambda x, y: -x, -X),
        (lambda x, y: +x, X),
        (lambda x, y: x @ y, X @ Y),
        (lambda x, y: 2.0 + x, 2.0 + X),
        (lambda x, y: 2.0 - x, 2.0 - X),
        (lambda x, y: 2.0 * x, 2.0 * X),
        (lambda x, y: 2.0 / x, 2.0 / X),
        (lambda x, y: 2.0**x, 2.0**X),
        (lambda x, y: x**2, X**2),
        (lambda x, y: 1 + x, 1 + X),
    ],
)
def test_value_operators_match_numpy(make, expected):
    out = make(Value(X), Value(Y))
    assert isinstance(out, Value)
    np.testing.assert_allclose(out.data, expected, rtol=1e-15)


OPERATORS = [
    ("+", lambda a, b: a + b, mg.ops.add),
    ("-", lambda a, b: a - b, mg.ops.sub),
    ("*", lambda a, b: a * b, mg.ops.mul),
    ("/", lambda a, b: a / b, mg.ops.div),
    ("**", lambda a, b: a**b, mg.ops.pow),
]


@pytest.mark.parametrize("symbol, operator, function", OPERATORS, ids=[o[0] for o in OPERATORS])
@pytest.mark.parametrize("left", [True, False], ids=["value-op-other", "other-op-value"])
@pytest.mark.parametrize(
    "other", [1.5, 2, "value", np.array([0.5, 2.0])], ids=["float", "int", "value", "array"]
)
@pytest.mark.parametrize("data", [1.25, np.array([0.75, 1.5])], ids=["scalar", "array"])
def test_operators_record_what_the_op_functions_record(
    symbol, operator, function, left, other, data
):
    # The operators have their own fast path (engine.operator); the functions go through apply2.
    def run(binary):
        x = Value(data)
        y = Value(0.5) if isinstance(other, str) else other
        out = binary(x, y) if left else binary(y, x)
        (out * out).sum().backward()
        parents = [p.data for p in out.parents]
        grads = [x.grad, y.grad if isinstance(y, Value) else None]
        return out, parents, grads

    out, parents, grads = run(operator)
    ref, ref_parents, ref_grads = run(function)
    assert out.op == ref.op == symbol
    assert np.asarray(out.data).dtype == np.asarray(ref.data).dtype
    np.testing.assert_array_equal(out.data, ref.data)
    for got, expected in zip([*parents, *grads], [*ref_parents, *ref_grads]):
        np.testing.assert_array_equal(got, expected)


def test_value_power_with_value_exponent_gradient():
    x, y = Value(2.0), Value(3.0)
    (x**y).backward()
    assert x.grad == pytest.approx(12.0, rel=1e-15)
    assert y.grad == pytest.approx(8.0 * np.log(2.0), rel=1e-15)


def test_value_integer_powers_of_negative_numbers():
    x = Value(np.array([-2.0, 3.0, -0.5]))
    (x**2 + x**3).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 3 * x.data**2, rtol=1e-15)
    s = Value(-2.0)
    (s**3).backward()
    assert s.grad == 12.0
    assert (Value(-8.0) ** (1 / 3)).data != (Value(-8.0) ** (1 / 3)).data  # nan, as numpy


@pytest.mark.parametrize(
    "method, reference",
    [
        ("exp", np.exp),
        ("tanh", np.tanh),
        ("sin", np.sin),
        ("cos", np.cos),
        ("abs", np.abs),
        ("relu", lambda x: np.maximum(x, 0.0)),
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
        ("softplus", lambda x: np.log1p(np.exp(x))),
        ("leaky_relu", lambda x: np.where(x > 0, x, 0.01 * x)),
    ],
)
def test_value_elementwise_methods_match_numpy(method, reference):
    v = Value(X)
    np.testing.assert_allclose(getattr(v, method)().data, reference(X), rtol=1e-14)
    for x in (-0.75, 0.5):  # on a Python float: the result stays a Python float
        out = getattr(Value(x), method)()
        assert type(out.data) is float
        assert out.data == pytest.approx(float(reference(np.float64(x))), rel=1e-14)


def test_value_log_sqrt_clip_match_numpy():
    pos = np.abs(X) + 0.1
    np.testing.assert_allclose(Value(pos).log().data, np.log(pos), rtol=1e-15)
    np.testing.assert_allclose(Value(pos).sqrt().data, np.sqrt(pos), rtol=1e-15)
    np.testing.assert_array_equal(Value(X).clip(-0.5, 1.0).data, np.clip(X, -0.5, 1.0))
    np.testing.assert_array_equal(Value(X).clip(lo=0.0).data, np.maximum(X, 0.0))
    assert Value(3.0).clip(hi=1.0).data == 1.0
    with pytest.raises(ValueError, match="lo and hi"):
        Value(X).clip()
    np.testing.assert_array_equal(Value(X).leaky_relu(0.2).data, np.where(X > 0, X, 0.2 * X))


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min", "var"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_value_reductions_match_numpy(method, axis, keepdims):
    out = getattr(Value(X), method)(axis=axis, keepdims=keepdims)
    expected = getattr(np, method)(X, axis=axis, keepdims=keepdims)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)


def test_value_var_ddof_and_softmax_family_match_numpy():
    np.testing.assert_allclose(Value(X).var(axis=1, ddof=1).data, np.var(X, axis=1, ddof=1))
    lse = np.log(np.sum(np.exp(X), axis=0))
    np.testing.assert_allclose(Value(X).logsumexp(axis=0).data, lse, rtol=1e-14)
    e = np.exp(X)
    np.testing.assert_allclose(Value(X).softmax().data, e / e.sum(-1, keepdims=True))
    np.testing.assert_allclose(Value(X).softmax(axis=0).data, e / e.sum(0, keepdims=True))
    np.testing.assert_allclose(
        Value(X).log_softmax().data, X - np.log(e.sum(-1, keepdims=True)), rtol=1e-14
    )


def test_value_shape_methods_match_numpy():
    v = Value(X)
    np.testing.assert_array_equal(v.reshape(3, 2).data, X.reshape(3, 2))
    np.testing.assert_array_equal(v.reshape((3, 2)).data, X.reshape(3, 2))
    np.testing.assert_array_equal(v.reshape(-1).data, X.reshape(-1))
    np.testing.assert_array_equal(v.T.data, X.T)
    np.testing.assert_array_equal(v.transpose().data, X.T)
    np.testing.assert_array_equal(v.transpose(1, 0).data, X.T)
    np.testing.assert_array_equal(v.flatten().data, X.flatten())
    assert v.unsqueeze(0).shape == (1, 2, 3) and v.unsqueeze(-1).shape == (2, 3, 1)
    assert v.unsqueeze(1).squeeze().shape == (2, 3)
    assert Value(np.zeros((1, 2, 1))).squeeze(0).shape == (2, 1)
    np.testing.assert_array_equal(v.broadcast_to((4, 2, 3)).data, np.broadcast_to(X, (4, 2, 3)))
    np.testing.assert_array_equal(v[1].data, X[1])
    np.testing.assert_array_equal(v[:, ::-1].data, X[:, ::-1])
    np.testing.assert_array_equal(v[None, ..., 0].data, X[None, ..., 0])
    np.testing.assert_array_equal(v[[0, 0, 1]].data, X[[0, 0, 1]])
    np.testing.assert_array_equal(v[X > 0].data, X[X > 0])
    assert len(v) == 2 and [r.shape for r in v] == [(3,), (3,)]


def test_value_getitem_repeated_indices_accumulate():
    v = Value(np.array([1.0, 2.0, 3.0]))
    v[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(v.grad, [3.0, 0.0, 1.0])
    w = Value(np.arange(6.0).reshape(2, 3))
    (
        w[np.array([[1, 1], [0, 1]]), np.array([2, 2])] * np.array([[1.0, 2.0], [4.0, 8.0]])
    ).sum().backward()
    np.testing.assert_array_equal(w.grad, [[0, 0, 4.0], [0, 0, 11.0]])


def test_value_join_functions_match_numpy():
    a, b = Value(X), Value(X * 2)
    np.testing.assert_array_equal(mg.concat([a, b], axis=1).data, np.concatenate([X, 2 * X], 1))
    np.testing.assert_array_equal(mg.stack((a, b), axis=-1).data, np.stack([X, 2 * X], -1))
    np.testing.assert_array_equal(mg.where(X > 0, a, b).data, np.where(X > 0, X, 2 * X))
    np.testing.assert_array_equal(mg.maximum(a, 0.5).data, np.maximum(X, 0.5))
    np.testing.assert_array_equal(mg.minimum(0.5, a).data, np.minimum(0.5, X))


def test_value_numpy_scalars_float64_and_ints_become_python_floats_float32_keeps_dtype():
    # micrograd's demo wraps numpy rows element by element: Value(np.float64) must be a number
    for x in (np.float64(2.5), np.int64(3), np.bool_(True)):
        v = Value(x)
        assert type(v.data) is float and v.data == float(x)
    v = Value(np.float32(2.5))
    assert isinstance(v.data, np.ndarray) and v.data.shape == () and v.dtype == np.float32
    with pytest.raises(TypeError, match="complex"):
        Value(np.complex128(1 + 2j))
