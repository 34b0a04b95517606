"""scaled_dot_product_attention and nn.MultiheadAttention: PyTorch's outputs, weights and
gradients (float64, 1e-7, when installed), the formula in numpy, masks (fully masked rows
included), dropout, second order, and errors naming the op, the layout and the shapes."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def torch_or_skip():
    torch = pytest.importorskip("torch", reason="PyTorch is needed for the parity tests")
    torch.set_num_threads(1)
    return torch


def close(a, b, what=""):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-7, atol=1e-10, err_msg=what)


@np.errstate(invalid="ignore")  # a fully masked row gives NaN here; tests compare the others
def numpy_attention(q, k, v, keep=None, add=None, scale=None):
    s = q @ np.swapaxes(k, -1, -2) * (scale or 1 / np.sqrt(q.shape[-1]))
    if add is not None:
        s = s + add
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ v


QKV = [
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
    ((4, 5), (6, 5), (6, 2)),
    ((3, 2, 4), (2, 4), (2, 3)),
]


# ----- scaled_dot_product_attention -------------------------------------------------------------
@pytest.mark.parametrize("shapes", QKV, ids=["batch-heads", "2-d", "broadcast"])
@pytest.mark.parametrize("mask", ["none", "bool", "float", "float -inf", "causal", "scale"])
def test_sdpa_matches_torch_and_numpy(shapes, mask):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=s) for s in shapes)
    length, keys = shapes[0][-2], shapes[1][-2]
    kwargs, keep, add = {}, None, None
    if mask == "bool":
        keep = rng.random((length, keys)) > 0.3
        keep[:, 0] = True
        kwargs["attn_mask"] = keep
    elif mask in ("float", "float -inf"):
        add = rng.normal(size=(length, keys))
        if mask == "float -inf":
            add[:, 1::2] = -np.inf
        kwargs["attn_mask"] = add
    elif mask == "causal":
        kwargs["is_causal"] = True
        keep = np.tril(np.ones((length, keys), bool))
    elif mask == "scale":
        kwargs["scale"] = 0.37
    leaves = [mg.Value(a) for a in (q, k, v)]
    out = mg.scaled_dot_product_attention(*leaves, **kwargs)
    close(out.data, numpy_attention(q, k, v, keep, add, kwargs.get("scale")), "numpy")
    tleaves = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    tkw = {n: torch.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kwargs.items()}
    expected = torch.nn.functional.scaled_dot_product_attention(*tleaves, **tkw)
    close(out.data, expected.detach().numpy(), "torch")
    g = rng.normal(size=out.shape)
    out.backward(g)
    expected.backward(torch.tensor(g))
    for name, a, b in zip("qkv", leaves, tleaves):
        close(a.grad, b.grad.numpy(), f"gradient of {name}")


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_fully_masked_row_gives_zeros_and_a_zero_gradient(kind):
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    keep = rng.random((3, 5)) > 0.4
    keep[:, 0], keep[1] = True, False  # row 1 may attend to nothing
    mask = keep if kind == "bool" else np.where(keep, 0.0, -np.inf)
    leaves = [mg.Value(a) for a in (q, k, v)]
    out = mg.scaled_dot_product_attention(*leaves, attn_mask=mask)
    np.testing.assert_array_equal(out.data[1], 0.0)
    close(out.data[[0, 2]], numpy_attention(q, k, v, keep)[[0, 2]])
    (out * out).sum().backward()
    assert all(np.all(np.isfinite(x.grad)) for x in leaves)
    np.testing.assert_array_equal(leaves[0].grad[1], 0.0)
    try:
        import torch
    except ImportError:
        return
    theirs = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), attn_mask=torch.tensor(mask)
    )
    close(out.data, theirs.numpy(), "PyTorch 2.13 gives zeros as well")


def test_sdpa_second_order_and_float32():
    rng = np.random.default_rng(2)
    q, k, v = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    mask = np.array([[True, False, True, True], [False, True, True, False]])
    f = lambda q, k, v: mg.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # noqa: E731
    assert mg.gradcheck(f, q, k, v)
    assert mg.gradgradcheck(f, q, k, v)
    leaves = [mg.Value(a.astype(np.float32)) for a in (q, k, v)]
    out = mg.scaled_dot_product_attention(*leaves, attn_mask=np.where(mask, 0.0, -np.inf))
    out.sum().backward()
    assert out.dtype == np.float32 and all(x.grad.dtype == np.float32 for x in leaves)


def test_sdpa_dropout_scales_kept_weights():
    rng = np.random.default_rng(3)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    out = mg.scaled_dot_product_attention(q, k, v, dropout_p=0.4, rng=7)
    kept = np.random.default_rng(7).random((3, 5)) >= 0.4
    s = q @ k.T / 2.0
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    close(np.asarray(out), (w * kept / 0.6) @ v)


def test_sdpa_errors():
    q, k, v = np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 5, 6))
    sdpa = mg.scaled_dot_product_attention
    with pytest.raises(
        ValueError, match=r"scaled_dot_product_attention: expects query \(\.\.\., L, E\)"
    ):
        sdpa(q, np.ones((2, 5, 3)), v)
    with pytest.raises(ValueError, match=r"key and value need the same S.*value \(2, 4, 6\)"):
        sdpa(q, k, np.ones((2, 4, 6)))
    with pytest.raises(ValueError, match=r"batch, head\) axes do not broadcast"):
        sdpa(q, np.ones((3, 5, 4)), np.ones((3, 5, 6)))
    with pytest.raises(
        ValueError, match=r"attn_mask of shape \(4, 5\) does not broadcast.*\(2, 3, 5\)"
    ):
        sdpa(q, k, v, attn_mask=np.ones((4, 5), bool))
    with pytest.raises(ValueError, match="not both"):
        sdpa(q, k, v, attn_mask=np.ones((3, 5), bool), is_causal=True)
    with pytest.raises(ValueError, match="dropout_p must be a probability"):
        sdpa(q, k, v, dropout_p=1.0)
    with pytest.raises(TypeError, match="attn_mask must be bool or float"):
        sdpa(q, k, v, attn_mask=np.full((3, 5), "x"))


# ----- MultiheadAttention -----------------------------------------------------------------------
def mha_twins(*args, **kwargs):
    torch = torch_or_skip()
    theirs = torch.nn.MultiheadAttention(*args, **kwargs).double()
    ours = nn.MultiheadAttention(*args, **kwargs)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict(state)
    return torch, theirs, ours


MHA_CASES = [
    ("self", {}, {}),
    ("self", {"batch_first": True}, {}),
    ("cross", {}, {}),
    ("cross", {"batch_first": True, "bias": False}, {}),
    ("cross", {"kdim": 3, "vdim": 5}, {}),
    ("cross", {"add_bias_kv": True, "add_zero_attn": True}, {"key_padding_mask": "bool"}),
    ("self", {}, {"attn_mask": "bool"}),
    ("cross", {"batch_first": True}, {"attn_mask": "float3d", "key_padding_mask": "float"}),
    ("cross", {}, {"key_padding_mask": "float", "average_attn_weights": False}),
    ("self", {}, {"need_weights": False, "attn_mask": "causal", "is_causal": True}),
    ("unbatched", {}, {"key_padding_mask": "bool"}),
    ("unbatched", {"batch_first": True}, {"attn_mask": "bool", "average_attn_weights": False}),
]


@pytest.mark.parametrize(("kind", "config", "call"), MHA_CASES)
def test_mha_matches_torch(kind, config, call):
    torch, theirs, ours = mha_twins(8, 2, **config)
    rng = np.random.default_rng(4)
    n, length, keys = 3, 4, 5
    bf = config.get("batch_first", False)

    def seq(t, features):
        if kind == "unbatched":
            return rng.normal(size=(t, features))
        return rng.normal(size=(n, t, features) if bf else (t, n, features))

    query = seq(length, 8)
    if kind == "cross":
        key, value = seq(keys, config.get("kdim", 8)), seq(keys, config.get("vdim", 8))
    else:
        keys = length
        key = value = query
    extra = {}
    for name in ("need_weights", "average_attn_weights", "is_causal"):
        if name in call:
            extra[name] = call[name]
    kpm = call.get("key_padding_mask")
    if kpm:
        shape = (keys,) if kind == "unbatched" else (n, keys)
        pad = rng.random(shape) > 0.7
        pad[..., 0] = False
        extra["key_padding_mask"] = pad if kpm == "bool" else np.where(pad, -np.inf, 0.1)
    mask = call.get("attn_mask")
    if mask == "bool":
        m = rng.random((length, keys)) > 0.7
        m[:, 0] = False
        extra["attn_mask"] = m
    elif mask == "float3d":
        extra["attn_mask"] = rng.normal(size=(n * 2, length, keys))
    elif mask == "causal":
        extra["attn_mask"] = ~np.tril(np.ones((length, keys), bool))
    same = key is query
    mq = mg.Value(query)
    mk, mv = (mq, mq) if same else (mg.Value(key), mg.Value(value))
    tq = torch.tensor(query, requires_grad=True)
    tk, tv = (
        (tq, tq)
        if same
        else (torch.tensor(key, requires_grad=True), torch.tensor(value, requires_grad=True))
    )
    textra = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in extra.items()}
    out, weights = ours(mq, mk, mv, **extra)
    tout, tweights = theirs(tq, tk, tv, **textra)
    assert out.shape == tuple(tout.shape)
    close(out.data, tout.detach().numpy(), "output")
    if extra.get("need_weights", True):
        assert weights.shape == tuple(tweights.shape)
        close(weights.data, tweights.detach().numpy(), "attention weights")
    else:
        assert weights is None and tweights is None
    g = rng.normal(size=out.shape)
    loss = (out * g).sum() + (0 if weights is None else (weights * weights).sum())
    tloss = (tout * torch.tensor(g)).sum() + (0 if tweights is None else (tweights**2).sum())
    loss.backward()
    tloss.backward()
    for a, b in [(mq, tq)] + ([] if same else [(mk, tk), (mv, tv)]):
        close(a.grad, b.grad.numpy(), "input gradient")
    params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        close(params[name].grad, p.grad.numpy(), f"gradient of {name}")


def test_mha_names_init_and_repr_as_pytorch():
    mha = nn.MultiheadAttention(8, 2)
    assert [n for n, _ in mha.named_parameters()] == [
        "in_proj_weight",
        "in_proj_bias",
        "out_proj.weight",
        "out_proj.bias",
    ]
    assert isinstance(mha.out_proj, nn.Linear)
    assert repr(mha).startswith("MultiheadAttention(\n  (out_proj): Linear(")
    bound = np.sqrt(6 / (8 + 24))
    assert np.abs(mha.in_proj_weight.data).max() <= bound
    np.testing.assert_array_equal(mha.in_proj_bias.data, 0.0)
    np.testing.assert_array_equal(mha.out_proj.bias.data, 0.0)
    other = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert [n for n, _ in other.named_parameters()][:5] == [
        "q_proj_weight",
        "k_proj_weight",
        "v_proj_weight",
        "in_proj_bias",
        "bias_k",
    ]


def test_mha_fully_masked_query_gives_zero_weights_and_finite_gradients():
    mha = nn.MultiheadAttention(4, 2, batch_first=True, rng=0)
    x = mg.Value(np.random.default_rng(5).normal(size=(1, 3, 4)))
    mask = np.array([[False, True, True], [True, True, True], [False, False, True]])
    out, weights = mha(x, x, x, attn_mask=mask)
    np.testing.assert_array_equal(weights.data[0, 1], 0.0)  # PyTorch gives NaN here
    np.testing.assert_allclose(weights.data[0, [0, 2]].sum(-1), 1.0)
    out.sum().backward()
    assert np.all(np.isfinite(x.grad)) and all(
        np.all(np.isfinite(p.grad)) for p in mha.parameters()
    )


def test_mha_dropout_only_in_training_float32():
    mha = nn.MultiheadAttention(4, 2, dropout=0.5, rng=1, dtype=np.float32)
    plain = nn.MultiheadAttention(4, 2, dtype=np.float32)
    plain.load_state_dict(mha.state_dict())
    x = np.random.default_rng(6).normal(size=(3, 2, 4))
    assert not np.allclose(mha(x, x, x)[0].data, plain(x, x, x)[0].data)
    mha.eval()
    out, weights = mha(x, x, x)
    np.testing.assert_array_equal(out.data, plain(x, x, x)[0].data)
    assert out.dtype == weights.dtype == np.float32


def test_mha_errors():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2)
    x = np.ones((4, 3, 8))
    with pytest.raises(
        ValueError, match=r"MultiheadAttention expects query \(L, N, E\).*\(4, 3, 8, 1\)"
    ):
        mha(x[..., None], x, x)
    with pytest.raises(ValueError, match=r"features must be embed_dim=8.*query \(4, 3, 6\)"):
        mha(np.ones((4, 3, 6)), x, x)
    with pytest.raises(ValueError, match=r"query and key need the same batch size"):
        mha(x, np.ones((5, 2, 8)), np.ones((5, 2, 8)))
    with pytest.raises(ValueError, match=r"\(N, L, E\).*batch_first=True"):
        nn.MultiheadAttention(8, 2, batch_first=True)(np.ones((3, 8)), np.ones((3, 3, 8)), x)
    with pytest.raises(
        ValueError, match=r"attn_mask must have shape \(L, S\) = \(4, 4\).*\(6, 4, 4\).*\(2, 4\)"
    ):
        mha(x, x, x, attn_mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, S\) = \(3, 4\)"):
        mha(x, x, x, key_padding_mask=np.ones((4, 3), bool))
    with pytest.raises(ValueError, match="is_causal=True is a hint"):
        mha(x, x, x, is_causal=True)
