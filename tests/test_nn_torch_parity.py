"""Every layer against PyTorch's in float64: PyTorch's state_dict loaded into the minigrad layer
of the same layout gives the same outputs, input gradients and parameter gradients (to 1e-7),
and BatchNorm the same running statistics and batch count."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch", reason="PyTorch is needed to compare layers against it")

TOL = dict(rtol=1e-7, atol=1e-7)


def load_torch(layer, torch_layer):
    """The issue's recipe: PyTorch's state_dict as numpy arrays, loaded strictly."""
    result = layer.load_state_dict({k: v.numpy() for k, v in torch_layer.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    return layer


def randomize(torch_layer, seed=0):
    """Non-trivial parameters (BatchNorm's start at ones and zeros)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in torch_layer.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) + 0.5)


def run_both(layer, torch_layer, x, seed=1):
    """Forward and backward of sum(out * G) in both; returns (out, torch_out)."""
    xv, xt = mg.Value(x), torch.tensor(x, requires_grad=True)
    out, out_t = layer(xv), torch_layer(xt)
    G = np.random.default_rng(seed).normal(size=out_t.shape)
    (out_t * torch.tensor(G)).sum().backward()
    (out * G).sum().backward()
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **TOL)
    np.testing.assert_allclose(xv.grad, xt.grad.numpy(), **TOL)
    torch_params = dict(torch_layer.named_parameters())
    assert [n for n, _ in layer.named_parameters()] == list(torch_params)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, torch_params[name].grad.numpy(), **TOL, err_msg=name)
    return out, out_t


def same_state(layer, torch_layer):
    ours, theirs = layer.state_dict(), torch_layer.state_dict()
    assert list(ours) == list(theirs)
    for k, v in theirs.items():
        assert ours[k].dtype == v.numpy().dtype, k
        np.testing.assert_allclose(ours[k], v.numpy(), **TOL, err_msg=k)


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape) * 2.0 + 0.5


# ----- normalization -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, shape",
    [
        ("BatchNorm1d", (6, 3)),
        ("BatchNorm1d", (4, 3, 5)),
        ("BatchNorm2d", (4, 3, 5, 2)),
    ],
)
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batchnorm_train_steps_then_eval_match_pytorch(make, shape, momentum):
    torch_layer = getattr(torch.nn, make)(3, momentum=momentum).double()
    randomize(torch_layer)
    layer = load_torch(getattr(nn, make)(3, momentum=momentum), torch_layer)
    for step in range(3):
        layer.zero_grad()
        torch_layer.zero_grad()
        run_both(layer, torch_layer, normal(*shape, seed=step), seed=step)
    same_state(layer, torch_layer)  # running mean, unbiased running variance, 3 batches
    assert int(layer.num_batches_tracked) == 3
    layer.eval()
    torch_layer.eval()
    layer.zero_grad()
    torch_layer.zero_grad()
    run_both(layer, torch_layer, normal(*shape, seed=9), seed=9)
    same_state(layer, torch_layer)  # eval changes nothing


@pytest.mark.parametrize(
    "options",
    [
        dict(affine=False),
        dict(track_running_stats=False),
        dict(affine=True, bias=False),
        dict(eps=1e-3, momentum=0.5),
    ],
)
def test_batchnorm_options_match_pytorch_in_train_and_eval(options):
    torch_layer = torch.nn.BatchNorm2d(2, **options).double()
    randomize(torch_layer)
    layer = load_torch(nn.BatchNorm2d(2, **options), torch_layer)
    assert repr(layer) == repr(torch_layer)
    run_both(layer, torch_layer, normal(3, 2, 4, 4))
    same_state(layer, torch_layer)
    for m in (layer, torch_layer):
        m.eval()
        m.zero_grad()
    run_both(layer, torch_layer, normal(3, 2, 4, 4, seed=5))


def test_batchnorm_loads_pytorch_running_stats_and_uses_them_in_eval():
    torch_layer = torch.nn.BatchNorm1d(4).double()
    randomize(torch_layer)
    with torch.no_grad():
        torch_layer.running_mean.uniform_(-1, 1)
        torch_layer.running_var.uniform_(0.5, 2)
    torch_layer.num_batches_tracked += 11
    layer = load_torch(nn.BatchNorm1d(4), torch_layer).eval()
    torch_layer.eval()
    assert int(layer.num_batches_tracked) == 11
    run_both(layer, torch_layer, normal(5, 4))


@pytest.mark.parametrize(
    "shape, normalized, options",
    [
        ((4, 5), 5, {}),
        ((2, 3, 4), (3, 4), {}),
        ((3, 6), 6, dict(bias=False)),
        ((3, 6), (6,), dict(elementwise_affine=False)),
        ((2, 2, 6), 6, dict(eps=1e-2)),
    ],
)
def test_layernorm_matches_pytorch(shape, normalized, options):
    torch_layer = torch.nn.LayerNorm(normalized, **options).double()
    randomize(torch_layer)
    layer = load_torch(nn.LayerNorm(normalized, **options), torch_layer)
    assert repr(layer) == repr(torch_layer)
    run_both(layer, torch_layer, normal(*shape))


# ----- embedding ---------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_with_repeated_indices_and_padding_matches_pytorch(padding_idx):
    torch_layer = torch.nn.Embedding(7, 3, padding_idx=padding_idx).double()
    layer = load_torch(nn.Embedding(7, 3, padding_idx=padding_idx), torch_layer)
    assert repr(layer) == repr(torch_layer)
    idx = np.array([[1, 6, 1, 0], [2, 2, 2, 6]])  # repeats, and both possible padding rows
    out, out_t = layer(idx), torch_layer(torch.tensor(idx))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **TOL)
    G = np.random.default_rng(0).normal(size=out.shape)
    (out * G).sum().backward()
    (out_t * torch.tensor(G)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, torch_layer.weight.grad.numpy(), **TOL)


# ----- shapes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("start, end", [(1, -1), (0, -1), (1, 2), (-2, -1), (2, 2)])
def test_flatten_matches_pytorch(start, end):
    run_both(nn.Flatten(start, end), torch.nn.Flatten(start, end), normal(2, 3, 4, 5))


# ----- convolution and pooling -------------------------------------------------------------------
CONV_CASES = [
    ("Conv1d", (2, 3, 9), (3, 4, 3), {}),
    ("Conv1d", (2, 4, 10), (4, 6, 3), dict(stride=2, padding=2, dilation=2, groups=2)),
    ("Conv1d", (2, 3, 8), (3, 2, 4), dict(padding="same", bias=False)),
    ("Conv1d", (3, 9), (3, 2, 3), dict(padding=1)),  # unbatched (C, L)
    ("Conv2d", (2, 1, 8, 8), (1, 16, 3), dict(padding=1)),
    ("Conv2d", (2, 4, 7, 6), (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0), groups=2)),
    ("Conv2d", (1, 3, 7, 7), (3, 3, 3), dict(padding="same", dilation=2, groups=3)),
    ("Conv2d", (2, 2, 5, 6), (2, 3, 2), dict(padding="valid", bias=False)),
    ("Conv2d", (2, 6, 5), (2, 3, 3), dict(stride=2)),  # unbatched (C, H, W)
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's note
@pytest.mark.parametrize("make, shape, sizes, options", CONV_CASES)
def test_conv_matches_pytorch(make, shape, sizes, options):
    torch_layer = getattr(torch.nn, make)(*sizes, **options).double()
    layer = load_torch(getattr(nn, make)(*sizes, **options), torch_layer)
    assert repr(layer) == repr(torch_layer)
    run_both(layer, torch_layer, normal(*shape))


@pytest.mark.parametrize("make", ["Conv1d", "Conv2d"])
def test_conv_default_init_has_pytorchs_bounds(make):
    layer = getattr(nn, make)(6, 8, 3, groups=2, rng=0)
    fan_in = 3 * 3 ** (2 if make == "Conv2d" else 1)
    bound = 1 / np.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) gives exactly this
    assert np.abs(layer.weight.data).max() <= bound < 1.1 * np.abs(layer.weight.data).max()
    assert np.abs(layer.bias.data).max() <= bound  # only 8 draws: their maximum may be low
    # the spread matches PyTorch's (a uniform distribution on [-bound, bound])
    big = getattr(nn, make)(64, 64, 3, rng=1).weight.data
    torch_big = getattr(torch.nn, make)(64, 64, 3).weight.detach().numpy()
    assert big.std() == pytest.approx(torch_big.std(), rel=0.03)


POOL_CASES = [
    ("MaxPool1d", (2, 3, 9), (3,), {}),
    ("MaxPool1d", (2, 3, 10), (4,), dict(stride=2, padding=2)),
    ("MaxPool2d", (2, 3, 8, 8), (2,), {}),
    ("MaxPool2d", (2, 2, 7, 6), ((3, 2),), dict(stride=(2, 1), padding=(1, 1))),
    ("MaxPool2d", (3, 5, 5), (3,), dict(stride=1, padding=1)),  # unbatched
    ("AvgPool1d", (2, 3, 9), (3,), dict(stride=2, padding=1)),
    ("AvgPool2d", (2, 3, 8, 8), (2,), {}),
    ("AvgPool2d", (2, 2, 7, 6), ((3, 2),), dict(stride=(2, 1), padding=(1, 0))),
]


@pytest.mark.parametrize("make, shape, sizes, options", POOL_CASES)
def test_pool_matches_pytorch(make, shape, sizes, options):
    torch_layer = getattr(torch.nn, make)(*sizes, **options)
    layer = getattr(nn, make)(*sizes, **options)
    # the same, less the max-pool options minigrad does not have (dilation, ceil_mode)
    assert repr(layer) == repr(torch_layer).replace(", dilation=1, ceil_mode=False", "")
    run_both(layer, torch_layer, normal(*shape))


def test_dropout_layers_in_eval_match_pytorch():
    pairs = [(nn.Dropout(0.3), torch.nn.Dropout(0.3)), (nn.Dropout2d(0.3), torch.nn.Dropout2d(0.3))]
    for ours, theirs in pairs:
        run_both(ours.eval(), theirs.eval(), normal(2, 3, 4, 4))


def test_small_cnn_loaded_from_pytorch_matches_it_end_to_end():
    def torch_net():
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3, padding=1),
            torch.nn.BatchNorm2d(4),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(4, 6, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.AvgPool2d(2),
            torch.nn.Flatten(),
            torch.nn.Linear(24, 5),
            torch.nn.LayerNorm(5),
        ).double()

    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(24, 5),
        nn.LayerNorm(5),
    )
    theirs = torch_net()
    randomize(theirs[1])
    load_torch(ours, theirs)
    for step in range(2):
        ours.zero_grad()
        theirs.zero_grad()
        run_both(ours, theirs, normal(3, 1, 8, 8, seed=step), seed=step)
    same_state(ours, theirs)
    ours.eval()
    theirs.eval()
    ours.zero_grad()
    theirs.zero_grad()
    run_both(ours, theirs, normal(3, 1, 8, 8, seed=5))
    # and back: minigrad's state_dict loads into PyTorch's model
    fresh = torch_net()
    fresh.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(fresh.state_dict()[k].numpy(), v.numpy(), **TOL, err_msg=k)
