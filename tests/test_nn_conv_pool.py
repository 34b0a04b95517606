"""Conv1d/Conv2d and the pooling layers: shapes, gradients (first and second order), float32,
a CNN's parameters, saving and repr, and bad input naming the layer, layout and shape."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def check_second_order(f, x, eps=1e-6):
    """The Hessian of the scalar f at x (the engine differentiating its own gradient) against
    central differences of the engine's gradient."""
    hess = np.asarray(mg.hessian(f)(x)).reshape(x.size, x.size)
    grad = lambda v: np.asarray(mg.grad(f)(mg.Value(v)).data).reshape(-1)
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = eps
        numeric = (grad(x + step.reshape(x.shape)) - grad(x - step.reshape(x.shape))) / (2 * eps)
        np.testing.assert_allclose(hess[:, i], numeric, rtol=1e-4, atol=1e-6)


def test_conv2d_forward_equals_a_direct_sum():
    layer = nn.Conv2d(2, 3, kernel_size=(2, 3), stride=(1, 2), padding=1, rng=0)
    x = normal(2, 2, 4, 5)
    out = layer(x).data
    w, b = layer.weight.data, layer.bias.data
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    h_out, w_out = (4 + 2 - 2) // 1 + 1, (5 + 2 - 3) // 2 + 1
    assert out.shape == (2, 3, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i : i + 2, 2 * j : 2 * j + 3]
            expected = np.einsum("ncij,ocij->no", window, w) + b
            np.testing.assert_allclose(out[:, :, i, j], expected, rtol=1e-12)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (nn.Conv1d(2, 4, 3, stride=2, padding=1, groups=2, rng=0), (2, 2, 7)),
        (nn.Conv2d(2, 2, 2, padding="same", dilation=2, rng=1), (1, 2, 4, 4)),
        (nn.Conv2d(1, 2, 3, bias=False, rng=2), (2, 1, 4, 4)),
    ],
)
def test_conv_gradients_against_finite_differences(layer, shape):
    x = normal(*shape)
    G = normal(*layer(x).shape, seed=3)
    assert mg.gradcheck(lambda v: layer(v) * G, x)
    weight = layer.weight.data.copy()

    def through_weight(w):
        layer.weight = w
        return layer(x) * G

    assert mg.gradcheck(through_weight, weight)


def test_conv_second_order_through_input_and_weight():
    layer = nn.Conv2d(1, 2, 2, rng=0)
    x = normal(1, 1, 3, 3)
    check_second_order(lambda v: (layer(v) ** 3).sum(), x)
    w = layer.weight.data.copy()

    def of_weight(v):
        layer.weight = v
        return (layer(x) ** 3).sum()

    check_second_order(of_weight, w)


@pytest.mark.parametrize(
    "pool, expected",
    [
        (nn.MaxPool2d(2), lambda x: x.reshape(2, 3, 2, 2, 2, 2).max(axis=(3, 5))),
        (nn.AvgPool2d(2), lambda x: x.reshape(2, 3, 2, 2, 2, 2).mean(axis=(3, 5))),
        (nn.MaxPool1d(4), lambda x: x.reshape(2, 3, 4, 4).max(axis=3)),
        (nn.AvgPool1d(4), lambda x: x.reshape(2, 3, 4, 4).mean(axis=3)),
    ],
)
def test_pools_side_by_side_windows_by_reshape_and_gradients(pool, expected):
    shape = (2, 3, 4, 4) if "2d" in type(pool).__name__ else (2, 3, 16)
    x = normal(*shape)
    np.testing.assert_allclose(pool(x).data, expected(x), rtol=1e-12)
    assert mg.gradcheck(lambda v: pool(v) * normal(*pool(x).shape, seed=1), x)


def test_max_pool_sends_the_gradient_to_each_window_maximum():
    x = mg.Value(np.array([[[[1.0, 5.0], [2.0, 3.0]]]]))
    nn.MaxPool2d(2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_float32_conv_and_pool_stay_float32():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, dtype=np.float32),
        nn.BatchNorm2d(4, dtype=np.float32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 3, dtype=np.float32),
    )
    assert all(p.dtype == np.float32 for p in model.parameters())
    x = normal(2, 1, 8, 8)  # float64 input: converted by the first layer
    out = model(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    conv = nn.Conv1d(3, 2, 2, dtype=np.float32)
    assert conv(mg.Value(normal(2, 3, 5).astype(np.float32))).dtype == np.float32


def test_cnn_names_repr_to_and_save_load(tmp_path):
    def cnn(seed):
        mg.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(256, 10),
        )

    model = cnn(0)
    assert [n for n, _ in model.named_parameters()] == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "5.weight",
        "5.bias",
    ]
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)\n"
        "  (2): ReLU()\n"
        "  (3): MaxPool2d(kernel_size=2, stride=2, padding=0)\n"
        "  (4): Flatten(start_dim=1, end_dim=-1)\n"
        "  (5): Linear(in_features=256, out_features=10, bias=True)\n"
        ")"
    )
    x = normal(4, 1, 8, 8)
    model(x)  # a training step's statistics
    model.eval().save(tmp_path / "cnn.npz")
    other = cnn(1).load(tmp_path / "cnn.npz").eval()
    np.testing.assert_array_equal(other(x).data, model(x).data)
    model.float()
    assert model(x).dtype == np.float32 and model[1].running_var.dtype == np.float32


def test_conv_bad_arguments_and_inputs_name_the_layer():
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(
        ValueError,
        match=r"Conv2d\(3, 8, kernel_size=\(3, 3\)\) expects input \(N, C, H, W\) or "
        r"\(C, H, W\) with C = 3, got shape \(2, 4, 8, 8\)",
    ):
        conv(np.ones((2, 4, 8, 8)))
    with pytest.raises(ValueError, match=r"got shape \(8, 8\)"):
        conv(np.ones((8, 8)))
    with pytest.raises(ValueError, match=r"Conv1d\(2, 4, kernel_size=\(3,\)\) expects input "):
        nn.Conv1d(2, 4, 3)(np.ones((2, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: the kernel spans 3 entries"):
        conv(np.ones((1, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"in_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        nn.Conv2d(3, 4, 0)
    with pytest.raises(TypeError, match="stride must be an int or a tuple of 2 ints"):
        nn.Conv2d(3, 4, 3, stride=1.5)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be 'zeros'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="out_channels must be a positive integer"):
        nn.Conv2d(3, 0, 3)


def test_pool_bad_arguments_and_inputs_name_the_layer():
    with pytest.raises(
        ValueError,
        match=r"MaxPool2d\(kernel_size=2, stride=2, padding=0\) expects input \(N, C, H, W\) "
        r"or \(C, H, W\), got shape \(4, 4\)",
    ):
        nn.MaxPool2d(2)(np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"AvgPool1d.*expects input \(N, C, L\)"):
        nn.AvgPool1d(2)(np.ones((1, 2, 3, 4)))
    with pytest.raises(ValueError, match="padding must be at most half the kernel size"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        nn.AvgPool2d(0)
    with pytest.raises(ValueError, match=r"max_pool2d: the kernel spans 3 entries"):
        nn.MaxPool2d(3)(np.ones((1, 1, 2, 2)))
