"""BatchNorm1d/2d, LayerNorm, Embedding and Dropout2d: formulas against numpy, gradients
against finite differences (first and second order), numerical safety, float32, bad input."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def check_second_order(f, x, eps=1e-6):
    """The Hessian of the scalar f at x (by the engine, differentiating the gradient again)
    against central differences of the engine's gradient."""
    hess = np.asarray(mg.hessian(f)(x)).reshape(x.size, x.size)
    grad = lambda v: np.asarray(mg.grad(f)(mg.Value(v)).data).reshape(-1)
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = eps
        numeric = (grad(x + step.reshape(x.shape)) - grad(x - step.reshape(x.shape))) / (2 * eps)
        np.testing.assert_allclose(hess[:, i], numeric, rtol=1e-4, atol=1e-6)


def numpy_batchnorm(x, axes, eps, w, b):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


# ----- BatchNorm ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer, shape, axes",
    [
        (nn.BatchNorm1d, (5, 3), (0,)),
        (nn.BatchNorm1d, (4, 3, 6), (0, 2)),
        (nn.BatchNorm2d, (2, 3, 4, 5), (0, 2, 3)),
    ],
)
def test_batchnorm_training_forward_and_running_stats_by_formula(layer, shape, axes):
    bn = layer(3, momentum=0.2)
    bn.weight.data = np.array([0.5, 1.0, 2.0])
    bn.bias.data = np.array([0.1, -0.2, 0.3])
    running_mean, running_var = np.zeros(3), np.ones(3)
    for step in range(3):
        x = normal(*shape, seed=step) * 3 + 1
        out = bn(x)
        expected = numpy_batchnorm(x, axes, 1e-5, bn.weight.data, bn.bias.data)
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
        n = x.size // 3
        running_mean = 0.8 * running_mean + 0.2 * x.mean(axis=axes)
        running_var = 0.8 * running_var + 0.2 * x.var(axis=axes) * n / (n - 1)  # unbiased
        np.testing.assert_allclose(bn.running_mean, running_mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var, running_var, rtol=1e-12)
    assert bn.num_batches_tracked == 3 and bn.num_batches_tracked.dtype == np.int64
    x = normal(*shape, seed=7)
    bn.eval()
    rs = (1, 3) + (1,) * (len(shape) - 2)
    expected = (x - running_mean.reshape(rs)) / np.sqrt(running_var.reshape(rs) + 1e-5)
    expected = expected * bn.weight.data.reshape(rs) + bn.bias.data.reshape(rs)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-12)
    assert bn.num_batches_tracked == 3  # eval updates nothing


def test_batchnorm_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [normal(4, 2, seed=s) + s for s in range(4)]
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(0) for x in batches], 0))
    np.testing.assert_allclose(bn.running_var, np.mean([x.var(0, ddof=1) for x in batches], 0))


def test_batchnorm_gradients_first_and_second_order():
    bn = nn.BatchNorm2d(2)
    bn.weight.data = np.array([1.5, -0.5])
    x = normal(3, 2, 2, 2)
    G = normal(3, 2, 2, 2, seed=1)
    assert mg.gradcheck(lambda v: bn(v) * G, x)
    assert mg.gradcheck(lambda w: nn.BatchNorm1d(2)(x[:, :, 0, 0]) * w, np.array([1.0, 2.0]))
    check_second_order(lambda v: ((bn(v) ** 3) * G).sum(), x)
    bn.eval()
    bn.running_var[:] = [0.5, 2.0]
    assert mg.gradcheck(lambda v: bn(v) * G, x)


def test_batchnorm_constant_input_gives_finite_values_and_gradients():
    for dtype in (np.float64, np.float32):
        bn, fresh = nn.BatchNorm2d(3, dtype=dtype), nn.BatchNorm2d(3, dtype=dtype)
        x = mg.Value(np.full((4, 3, 2, 2), 7.0, dtype=dtype))
        out = bn(x)
        np.testing.assert_array_equal(out.data, 0.0)
        (out * normal(4, 3, 2, 2).astype(dtype)).sum().backward()
        assert np.all(np.isfinite(x.grad)) and np.all(np.isfinite(bn.weight.grad))
        assert np.all(np.isfinite(bn.running_var))
        second = mg.grad(lambda v, bn=fresh: (bn(v) ** 2).sum())(x)
        assert np.all(np.isfinite(second.data))


def test_batchnorm_float32_stays_float32():
    bn = nn.BatchNorm2d(3, dtype=np.float32)
    x = mg.Value(normal(4, 3, 2, 2).astype(np.float32))
    out = bn(normal(4, 3, 2, 2))  # a float64 array is converted to the layer's dtype
    assert out.dtype == np.float32
    out = bn(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == bn.weight.grad.dtype == bn.bias.grad.dtype == np.float32
    assert bn.running_mean.dtype == bn.running_var.dtype == np.float32
    bn.eval()
    assert bn(x).dtype == np.float32


def test_batchnorm_without_running_stats_always_uses_the_batch():
    bn = nn.BatchNorm1d(2, track_running_stats=False, affine=False)
    assert bn.state_dict() == {} and bn.parameters() == []
    x = normal(6, 2)
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(bn.eval()(x).data, expected, rtol=1e-12)


def test_batchnorm_state_dict_round_trip_and_to_keeps_the_count_integer(tmp_path):
    bn = nn.BatchNorm2d(3)
    bn(normal(2, 3, 2, 2))
    assert list(bn.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    bn.save(tmp_path / "bn.npz")
    other = nn.BatchNorm2d(3).load(tmp_path / "bn.npz")
    np.testing.assert_array_equal(other.running_var, bn.running_var)
    assert other.num_batches_tracked == 1
    bn.float()
    assert bn.running_mean.dtype == np.float32 and bn.num_batches_tracked.dtype == np.int64


def test_batchnorm_bad_input_names_layer_layout_and_shape():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) expects input \(N, C, H, W\) with "):
        nn.BatchNorm2d(3)(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"C = 3, got shape \(2, 4, 5, 5\)"):
        nn.BatchNorm2d(3)(np.ones((2, 4, 5, 5)))
    with pytest.raises(ValueError, match=r"expects input \(N, C\) or \(N, C, L\) with C = 4"):
        nn.BatchNorm1d(4)(np.ones((2, 4, 1, 1)))
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training, got "):
        nn.BatchNorm1d(4)(np.ones((1, 4)))
    assert nn.BatchNorm1d(4)(np.ones((1, 4, 2))).shape == (1, 4, 2)  # 2 values per channel
    assert nn.BatchNorm1d(4).eval()(np.ones((1, 4))).shape == (1, 4)
    with pytest.raises(ValueError, match="num_features must be a positive integer"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="momentum must be in"):
        nn.BatchNorm2d(2, momentum=1.5)


# ----- LayerNorm ---------------------------------------------------------------------------------
def test_layernorm_forward_gradients_and_second_order():
    ln = nn.LayerNorm((3, 4))
    ln.weight.data = normal(3, 4, seed=2)
    ln.bias.data = normal(3, 4, seed=3)
    x = normal(2, 3, 4) * 2
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * ln.weight.data + ln.bias.data
    np.testing.assert_allclose(ln(x).data, expected, rtol=1e-12)
    np.testing.assert_allclose(ln.eval()(x).data, expected, rtol=1e-12)  # no mode difference
    G = normal(2, 3, 4, seed=4)
    assert mg.gradcheck(lambda v: ln(v) * G, x)
    check_second_order(lambda v: (ln(v) ** 3 * G).sum(), x)


def test_layernorm_constant_input_float32_and_bad_shape():
    ln = nn.LayerNorm(4, dtype=np.float32)
    x = mg.Value(np.full((2, 4), 3.0, dtype=np.float32))
    out = ln(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == ln.weight.grad.dtype == np.float32
    assert np.all(np.isfinite(x.grad)) and np.all(out.data == 0)
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4,\)\) expects input \(\*, 4\).*\(2, 5\)"):
        ln(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"got shape \(4,\)"):
        nn.LayerNorm((3, 4))(np.ones(4))
    assert [n for n, _ in nn.LayerNorm(4, bias=False).named_parameters()] == ["weight"]
    assert nn.LayerNorm(4, elementwise_affine=False).parameters() == []


# ----- Embedding ---------------------------------------------------------------------------------
def test_embedding_lookup_repeated_indices_add_and_padding_gets_no_gradient():
    mg.manual_seed(0)
    emb = nn.Embedding(5, 2, padding_idx=4)
    assert np.all(emb.weight.data[4] == 0)
    emb.weight.data[4] = [9.0, 9.0]  # a changed padding row is still looked up as it is
    idx = np.array([[1, 1, 4], [3, 1, 4]])
    out = emb(idx)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    G = normal(2, 3, 2)
    (out * G).sum().backward()
    expected = np.zeros((5, 2))
    np.add.at(expected, idx, G)
    expected[4] = 0.0
    np.testing.assert_allclose(emb.weight.grad, expected, rtol=1e-15)
    assert emb([2, 0]).shape == (2, 2) and emb(np.int64(3)).shape == (2,)


def test_embedding_init_is_standard_normal_and_float32_stays():
    emb = nn.Embedding(400, 50, rng=0)
    assert abs(emb.weight.data.mean()) < 0.02 and abs(emb.weight.data.std() - 1) < 0.02
    emb32 = nn.Embedding(4, 3, dtype=np.float32)
    out = emb32(np.array([0, 0, 2]))
    out.sum().backward()
    assert out.dtype == emb32.weight.grad.dtype == np.float32
    np.testing.assert_array_equal(emb32.weight.grad, [[2, 2, 2], [0, 0, 0], [1, 1, 1], [0, 0, 0]])


def test_embedding_from_pretrained_is_frozen_by_default():
    table = normal(3, 2)
    emb = nn.Embedding.from_pretrained(table)
    assert emb.weight.requires_grad is False
    np.testing.assert_array_equal(emb(np.array([2])).data, table[[2]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_embedding_bad_indices_name_layer_and_shapes():
    emb = nn.Embedding(10, 3)
    with pytest.raises(ValueError, match=r"Embedding\(10, 3\): indices must lie in \[0, 10\), "):
        emb(np.array([[1, 10]]))
    with pytest.raises(ValueError, match=r"values from -1 to 2 in indices of shape \(3,\)"):
        emb(np.array([-1, 0, 2]))
    with pytest.raises(TypeError, match=r"expects integer indices, got dtype float64 of shape"):
        emb(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="got a Value of shape"):
        emb(mg.Value(np.array([1.0])))
    with pytest.raises(ValueError, match=r"padding_idx must be within \[-10, 10\)"):
        nn.Embedding(10, 3, padding_idx=10)


# ----- Dropout2d ---------------------------------------------------------------------------------
def test_dropout2d_zeroes_whole_channels_scales_the_rest_and_passes_gradients():
    drop = nn.Dropout2d(0.4, rng=0)
    x = mg.Value(np.ones((50, 40, 3, 3)))
    out = drop(x)
    per_channel = out.data.reshape(50, 40, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # a channel is all or none
    kept = per_channel[:, :, 0] != 0
    assert abs(kept.mean() - 0.6) < 0.03
    np.testing.assert_allclose(per_channel[kept], 1 / 0.6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, out.data)
    assert nn.Dropout2d(0.5, rng=0)(np.ones((4, 6, 5))).reshape(4, 6, 5).std(axis=2).max() == 0
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match=r"Dropout2d expects input \(N, C, H, W\).*\(4, 6\)"):
        nn.Dropout2d()(np.ones((4, 6)))
