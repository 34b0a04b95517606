"""Saving and loading: `.npz` without pickle, exact round trips of nested state (optimizer state
included), clear errors for damaged files, and (once minigrad.nn/optim exist) models and
optimizers that resume training bit for bit.
"""

import importlib.util
import math
import os
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import io


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _same(a, b) -> bool:
    """Exactly equal, types included: 1 is not 1.0, a tuple is not a list, float32 is not float64,
    and nan equals nan."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            type(ka) is type(kb) and _same(a[ka], b[kb]) for ka, kb in zip(a, b)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (np.ndarray, np.generic)):
        return (
            a.dtype == b.dtype
            and np.shape(a) == np.shape(b)
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, float):
        return math.copysign(1, a) == math.copysign(1, b) and (a == b or a != a and b != b)
    return a == b


def optimizer_like_state():
    rng = np.random.default_rng(0)
    return {
        "state": {
            0: {
                "step": 7,
                "exp_avg": rng.standard_normal((3, 2)),
                "exp_avg_sq": rng.random((3, 2)).astype(np.float32),
            },
            1: {"step": 7, "exp_avg": rng.standard_normal(2), "exp_avg_sq": np.zeros(2)},
        },
        "param_groups": [
            {
                "lr": 0.1 + 0.2,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0.0,
                "amsgrad": False,
                "params": [0, 1],
                "name": None,
                "schedule": "cosine",
            },
        ],
    }


# ----- round trips -----------------------------------------------------------------------------
def test_nested_optimizer_state_round_trips_exactly(tmp_path):
    state = optimizer_like_state()
    path = tmp_path / "opt.npz"
    mg.save(state, path)
    back = mg.load(path)
    assert _same(back, state)
    assert list(back["state"]) == [0, 1]  # int keys stay ints, in order
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["param_groups"][0]["lr"] == 0.30000000000000004  # not rounded to 0.3


def test_model_state_dict_round_trips_and_reads_with_plain_numpy(tmp_path):
    state = {
        "layers.0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
        "layers.0.bias": np.zeros(2, dtype=np.float32),
        "layers.2.weight": np.ones((1, 2)),
    }
    path = tmp_path / "model.npz"
    mg.save(state, path)
    assert _same(mg.load(path), state)
    with np.load(path, allow_pickle=False) as raw:
        np.testing.assert_array_equal(raw["layers.0.weight"], state["layers.0.weight"])
        assert raw["layers.0.weight"].dtype == np.float32


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -3,
        2**62,
        10**30,
        1.5,
        -0.0,
        math.inf,
        -math.inf,
        math.nan,
        1e-310,
        "",
        "naïve ünïcode ✓",
        "a/b.c%d",
        [],
        (),
        {},
        [1, [2, (3, None)]],
        (1.0,),
        np.float32(0.1),
        np.float64(0.1),
        np.int64(-5),
        np.bool_(True),
        np.uint8(255),
        np.array(2.5),
        np.zeros((0, 3)),
        np.array([True, False]),
        np.arange(5, dtype=np.int16),
        np.array(["ab", "c"]),
        np.array([1 + 2j]),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.arange(12.0).reshape(3, 4)[:, ::2],
    ],
    ids=repr,
)
def test_every_supported_value_comes_back_with_its_type(tmp_path, value):
    state = {"x": value, "nested": {"y": [value, value]}}
    mg.save(state, tmp_path / "v.npz")
    assert _same(mg.load(tmp_path / "v.npz"), state)


def test_keys_of_every_supported_type_and_awkward_strings_come_back(tmp_path):
    state = {
        0: np.ones(1),
        "0": np.full(1, 2.0),
        1.5: "float key",
        True: "bool key",
        None: "none key",
        "a/b": np.full(1, 3.0),
        "a%2Fb": np.full(1, 4.0),
        "": np.ones(2),
        "%minigrad": np.full(1, 5.0),
        "x.npy": 6,
        "file": np.ones(1),
        "allow_pickle": 7,
    }
    mg.save(state, tmp_path / "k.npz")
    back = mg.load(tmp_path / "k.npz")
    assert _same(back, state)


def test_loaded_arrays_are_independent_writable_copies(tmp_path):
    state = {"w": np.ones(3)}
    mg.save(state, tmp_path / "w.npz")
    back = mg.load(tmp_path / "w.npz")
    back["w"][0] = 5.0  # must not fail, and must not touch the saved file or the original
    assert state["w"][0] == 1.0 and mg.load(tmp_path / "w.npz")["w"][0] == 1.0


def test_path_is_used_as_given_and_may_be_a_string(tmp_path):
    path = str(tmp_path / "checkpoint")  # no .npz suffix is added
    mg.save({"a": 1}, path)
    assert os.listdir(tmp_path) == ["checkpoint"]
    assert mg.load(path) == {"a": 1}


def test_saving_over_a_file_replaces_it(tmp_path):
    path = tmp_path / "c.npz"
    mg.save({"a": np.ones(3)}, path)
    mg.save({"b": 2}, path)
    assert mg.load(path) == {"b": 2}


def test_a_plain_numpy_savez_file_loads_as_a_flat_dict(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, w=np.ones((2, 2)), b=np.zeros(2))
    back = mg.load(path)
    assert sorted(back) == ["b", "w"]
    np.testing.assert_array_equal(back["w"], np.ones((2, 2)))


def test_the_file_holds_no_pickle(tmp_path):
    path = tmp_path / "s.npz"
    mg.save(optimizer_like_state(), path)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            assert name.endswith(".npy")
            with archive.open(name) as member:
                arr = np.lib.format.read_array(member, allow_pickle=False)  # raises on pickle
            assert not arr.dtype.hasobject, name


# ----- loading never runs code ------------------------------------------------------------------
RAN = []


def _record_that_code_ran():
    RAN.append("ran")


class Payload:
    """Unpickling this calls _record_that_code_ran: what a malicious file would do."""

    def __reduce__(self):
        return (_record_that_code_ran, ())


def test_loading_a_file_with_pickled_objects_refuses_and_runs_nothing(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, weights=np.array([Payload()], dtype=object))
    # The payload is real: numpy with pickle allowed would run it.
    with np.load(path, allow_pickle=True) as raw:
        raw["weights"]
    assert RAN == ["ran"]
    RAN.clear()
    with pytest.raises(ValueError) as info:
        mg.load(path)
    assert str(path) in str(info.value)
    assert RAN == []


# ----- what cannot be saved -------------------------------------------------------------------
@pytest.mark.parametrize(
    "state, words",
    [
        ({"w": mg.Value(np.ones(2))}, ["'w'", "Value", ".data"]),
        ({"opt": {"state": {0: {"fn": print}}}}, ["'opt/state/0/fn'", "builtin_function"]),
        ({"a": np.array([object()], dtype=object)}, ["'a'", "object array", "pickle"]),
        ({"s": {1, 2}}, ["'s'", "set"]),
        ({"d": {(1, 2): 3}}, ["'d'", "tuple", "keys"]),
    ],
    ids=["Value", "function", "object-array", "set", "tuple-key"],
)
def test_unsaveable_entries_are_refused_naming_their_key(tmp_path, state, words):
    path = tmp_path / "bad.npz"
    with pytest.raises(TypeError) as info:
        mg.save(state, path)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert not path.exists() and os.listdir(tmp_path) == []


def test_save_wants_a_dict():
    with pytest.raises(TypeError, match="expected a dict.*list"):
        mg.save([np.ones(2)], "unused.npz")


def test_a_failed_save_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mg.save({"epoch": 1, "w": np.ones(3)}, path)

    def crash_halfway(file, arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(io, "_write_npz", crash_halfway)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"epoch": 2, "w": np.zeros(3)}, path)
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert mg.load(path)["epoch"] == 1


# ----- damaged files ---------------------------------------------------------------------------
def _saved(tmp_path) -> tuple:
    path = tmp_path / "ckpt.npz"
    mg.save({"w": np.arange(4000.0), "meta": {"epoch": 3}}, path)
    return path, path.read_bytes()


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_file_gives_an_error_naming_it(tmp_path, keep):
    path, raw = _saved(tmp_path)
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(ValueError) as info:
        mg.load(path)
    assert str(path) in str(info.value) and "corrupt" in str(info.value)


def test_flipped_bytes_inside_an_array_are_detected(tmp_path):
    path, raw = _saved(tmp_path)
    middle = len(raw) // 2  # inside the 32 kB of "w": zip's CRC-32 catches it
    damaged = raw[:middle] + bytes(b ^ 0xFF for b in raw[middle : middle + 8]) + raw[middle + 8 :]
    path.write_bytes(damaged)
    with pytest.raises(ValueError, match="ckpt.npz"):
        mg.load(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, I am a text file\n", b"PK\x03\x04" + b"\x00" * 100, b"\x93NUMPY garbage"],
    ids=["empty", "text", "zip-header-only", "npy-magic"],
)
def test_files_that_are_not_checkpoints_give_an_error_naming_them(tmp_path, content):
    path = tmp_path / "weird.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="weird.npz"):
        mg.load(path)


def test_a_single_npy_array_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "single.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ValueError, match="single.npy"):
        mg.load(path)


@pytest.mark.parametrize(
    "meta",
    [
        b"{not json",
        b'{"format": "other", "version": 1, "tree": {}}',
        b'{"format": "minigrad-state", "version": 99, "tree": {"dict": []}}',
        b'{"format": "minigrad-state", "version": 1, "tree": {"dict": [["w", {"array": "nope"}]]}}',
        b'{"format": "minigrad-state", "version": 1, "tree": {"what": 1}}',
        b'{"format": "minigrad-state", "version": 1, "tree": [1, 2]}',
        b"\xff\xfe",
    ],
    ids=[
        "not-json",
        "other-format",
        "future-version",
        "missing-array",
        "unknown-tag",
        "not-a-dict",
        "not-utf8",
    ],
)
def test_a_damaged_description_gives_an_error_naming_the_file(tmp_path, meta):
    path = tmp_path / "meta.npz"
    np.savez(path, **{io.META: np.frombuffer(meta, dtype=np.uint8), "w": np.ones(2)})
    with pytest.raises(ValueError, match="meta.npz"):
        mg.load(path)


def test_an_array_left_out_of_the_description_is_reported(tmp_path):
    path = tmp_path / "extra.npz"
    meta = b'{"format": "minigrad-state", "version": 1, "tree": {"dict": []}}'
    np.savez(path, **{io.META: np.frombuffer(meta, dtype=np.uint8), "stray": np.ones(2)})
    with pytest.raises(ValueError, match="extra.npz.*stray"):
        mg.load(path)


def test_a_missing_file_is_file_not_found_naming_it(tmp_path):
    path = tmp_path / "nowhere.npz"
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        mg.load(path)


# ----- models and optimizers ---------------------------------------------------------------------
needs_nets = pytest.mark.skipif(
    not (_has("minigrad.nn.layers") and _has("minigrad.optim") and _has("minigrad.losses")),
    reason="minigrad.nn / optim / losses not written yet",
)


def _small_model(seed: int, dtype=np.float64):
    from minigrad import nn

    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(4, 6, rng=rng, dtype=dtype), nn.Tanh(), nn.Linear(6, 3, rng=rng, dtype=dtype)
    )


def _snapshot(model) -> dict:
    return {name: (p, np.array(p.data, copy=True)) for name, p in model.named_parameters()}


def _unchanged(model, snapshot: dict) -> bool:
    now = dict(model.named_parameters())
    return list(now) == list(snapshot) and all(
        now[k] is p and np.array_equal(p.data, data) and p.data.dtype == data.dtype
        for k, (p, data) in snapshot.items()
    )


@needs_nets
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_module_save_and_load_round_trip_exactly(tmp_path, dtype):
    model, other = _small_model(0, dtype), _small_model(1, dtype)
    model.save(tmp_path / "model.npz")
    assert other.load(tmp_path / "model.npz") is other
    for (name, p), (name2, q) in zip(model.named_parameters(), other.named_parameters()):
        assert name == name2 and q.data.dtype == dtype and np.array_equal(p.data, q.data)
    x = np.ones((2, 4), dtype=dtype)
    assert np.array_equal(model(x).data, other(x).data)


@needs_nets
def test_load_state_dict_lists_every_problem_at_once_and_changes_nothing():
    model = _small_model(0)
    before = _snapshot(model)
    state = _small_model(1).state_dict()
    del state["0.bias"]  # missing
    state["3.weight"] = np.ones((2, 2))  # unexpected
    state["0.weight"] = np.ones((4, 6))  # shape (6, 4) transposed
    state["2.bias"] = state["2.bias"].astype(np.float32)  # another dtype: converted, as PyTorch
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    for words in [
        "missing",
        "'0.bias'",
        "unexpected",
        "'3.weight'",
        "0.weight",
        "(6, 4)",
        "(4, 6)",
        "Nothing was loaded",
    ]:
        assert words in message, (words, message)
    assert "2.bias" not in message  # only real problems are listed
    assert _unchanged(model, before)


@needs_nets
def test_loading_a_damaged_file_into_a_model_names_the_file_and_changes_nothing(tmp_path):
    model = _small_model(0)
    path = tmp_path / "model.npz"
    _small_model(1).save(path)
    path.write_bytes(path.read_bytes()[:-100])
    before = _snapshot(model)
    with pytest.raises(ValueError, match="model.npz"):
        model.load(path)
    assert _unchanged(model, before)


@needs_nets
def test_loading_the_wrong_model_file_changes_nothing(tmp_path):
    from minigrad import nn

    path = tmp_path / "other.npz"
    nn.Sequential(nn.Linear(4, 5)).save(path)
    model = _small_model(0)
    before = _snapshot(model)
    with pytest.raises(ValueError, match="(?s)missing.*(5, 4)"):
        model.load(path)
    assert _unchanged(model, before)


@needs_nets
def test_optimizer_load_of_a_mismatched_state_changes_nothing():
    from minigrad import optim

    model = _small_model(0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    saved = optim.Adam(_small_model(1).parameters()[:2], lr=0.5).state_dict()
    before = opt.state_dict()
    with pytest.raises(ValueError, match="parameters saved"):
        opt.load_state_dict(saved)
    assert _same(opt.state_dict(), before)


# ----- resuming training, bit for bit -------------------------------------------------------------
def _make_run(init_seed: int, opt_name: str, dtype):
    """A model with dropout, an optimizer, a schedule, and the generators that draw batches and
    dropout masks: everything a checkpoint must capture for training to resume exactly."""
    from minigrad import nn, optim

    rng = np.random.default_rng(init_seed)
    model = nn.Sequential(
        nn.Linear(4, 16, rng=rng, dtype=dtype),
        nn.Tanh(),
        nn.Dropout(0.2, rng=np.random.default_rng(init_seed + 1)),
        nn.Linear(16, 3, rng=rng, dtype=dtype),
    )
    params = model.parameters()
    opt = {
        "SGD": lambda: optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        "Adam": lambda: optim.Adam(params, lr=0.01, amsgrad=True),
        "AdamW": lambda: optim.AdamW(params, lr=0.01, weight_decay=0.05),
        "RMSprop": lambda: optim.RMSprop(params, lr=0.01, momentum=0.5),
    }[opt_name]()
    schedule = optim.StepLR(opt, step_size=3, gamma=0.7)
    return {
        "model": model,
        "opt": opt,
        "schedule": schedule,
        "batches": np.random.default_rng(init_seed + 2),
        "dropout": model[2].rng,
    }


def _train(run: dict, X, y, steps: int) -> list:
    from minigrad import losses

    history = []
    for _ in range(steps):
        idx = run["batches"].choice(len(X), 16, replace=False)
        loss = losses.cross_entropy(run["model"](X[idx]), y[idx])
        run["opt"].zero_grad()
        loss.backward()
        run["opt"].step()
        run["schedule"].step()
        history.append(loss.data)
    return history


def _checkpoint(run: dict) -> dict:
    return {
        "model": run["model"].state_dict(),
        "optimizer": run["opt"].state_dict(),
        "schedule": run["schedule"].state_dict(),
        "batches": run["batches"].bit_generator.state,
        "dropout": run["dropout"].bit_generator.state,
    }


def _restore(run: dict, checkpoint: dict) -> None:
    run["model"].load_state_dict(checkpoint["model"])
    run["opt"].load_state_dict(checkpoint["optimizer"])
    run["schedule"].load_state_dict(checkpoint["schedule"])
    run["batches"].bit_generator.state = checkpoint["batches"]
    run["dropout"].bit_generator.state = checkpoint["dropout"]


@needs_nets
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_training_resumes_bit_for_bit_after_save_and_load(tmp_path, opt_name, dtype):
    data = np.random.default_rng(42)
    X = data.standard_normal((64, 4)).astype(dtype)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)

    straight = _make_run(0, opt_name, dtype)
    losses_straight = _train(straight, X, y, 20)

    first = _make_run(0, opt_name, dtype)
    losses_first = _train(first, X, y, 10)
    mg.save(_checkpoint(first), tmp_path / "ckpt.npz")
    del first

    resumed = _make_run(7, opt_name, dtype)  # fresh objects, even different initial weights
    _restore(resumed, mg.load(tmp_path / "ckpt.npz"))
    losses_resumed = _train(resumed, X, y, 10)

    assert losses_first + losses_resumed == losses_straight  # exact floats, not approx
    for (name, p), (_, q) in zip(
        straight["model"].named_parameters(), resumed["model"].named_parameters()
    ):
        assert q.data.dtype == dtype
        assert np.array_equal(p.data, q.data), name
    assert resumed["opt"].lr == straight["opt"].lr
    assert _same(resumed["opt"].state_dict(), straight["opt"].state_dict())
    assert losses_straight[-1] != losses_straight[0]  # it trained: the check is not vacuous


@needs_nets
def test_optimizer_step_count_stays_a_python_int_through_saving():
    # A 0-d int64 step count made Adam's bias correction a numpy float64 after loading, which
    # turned float32 updates into float64 ones (and broke bit-for-bit resuming).
    from minigrad import optim

    w = mg.Value(np.ones(3, dtype=np.float32))
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert type(opt.state_dict()["state"][0]["step"]) is int
    saved = opt.state_dict()
    saved["state"][0]["step"] = np.array(1)  # as a plain .npz would hold it
    fresh = optim.Adam([w], lr=0.1)
    fresh.load_state_dict(saved)
    assert type(fresh.state_dict()["state"][0]["step"]) is int


def test_a_saved_file_gets_the_usual_permissions(tmp_path):
    mg.save({"a": 1}, tmp_path / "mine.npz")
    np.savez(tmp_path / "numpy.npz", a=np.ones(1))
    assert (tmp_path / "mine.npz").stat().st_mode == (tmp_path / "numpy.npz").stat().st_mode


def test_saving_into_a_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder.*nowhere"):
        mg.save({"a": 1}, tmp_path / "nowhere" / "c.npz")


def test_a_description_nested_absurdly_deep_is_a_corrupt_file_not_a_crash(tmp_path):
    path = tmp_path / "deep.npz"
    meta = b'{"format": "minigrad-state", "version": 1, "tree": ' + b"[" * 100_000
    meta += b"]" * 100_000 + b"}"
    np.savez(path, **{io.META: np.frombuffer(meta, dtype=np.uint8)})
    with pytest.raises(ValueError, match="deep.npz"):
        mg.load(path)
