"""The new layers over long runs, through save/load, and in two threads (issue 17).

- Memory: the digits CNN (examples/cnn_digits.py's model) and the sine LSTM
  (examples/sine_lstm.py's Forecaster) train for 1,000 steps each in a child Python, whose
  resident memory after step 100 and after step 1,000 must agree within 5%. Small batches keep
  each run to seconds; the layers are the examples' own. Marked `memory` (in the default suite;
  `-m "not memory"` leaves them out).
- A 1,000-step sequence's graph (LSTM, GRU, RNN, and a cell unrolled by hand) is freed the
  moment it is dropped: with the cyclic collector off, weak references to its nodes die.
- Save and load with buffers are all or nothing, and resuming from a checkpoint (model and
  Adam state) continues a BatchNorm CNN's training bit for bit.
- Two threads training two BatchNorm CNNs at once give the same bits as one after the other.
"""

from __future__ import annotations

import gc
import importlib.util
import sys
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import losses, nn, optim
from minigrad.engine import topo_order
from tests.child import run_child

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----- memory over 1,000 steps -----------------------------------------------------------------
TRAIN_1000_STEPS = """
import importlib.util, json, os, sys
import numpy as np
import minigrad as mg
from minigrad import data, losses, optim

def example(name):
    path = os.path.join(EXAMPLES, name + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

rng = np.random.default_rng(0)
mg.manual_seed(0)
if KIND == "cnn":
    X, y = data.load_digits()
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    model = example("cnn_digits").cnn()  # conv, BatchNorm, ReLU, max-pool (twice), linear
    opt = optim.Adam(model.parameters(), lr=2e-3)

    def step():
        idx = rng.integers(0, len(X), 16)
        loss = losses.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad(); loss.backward(); opt.step()
        return loss
else:
    sine = example("sine_lstm")
    series = sine.make_series(2000, rng)
    model = sine.Forecaster(16)  # LSTM(1 -> 16), batch_first, then a Linear head
    opt = optim.Adam(model.parameters(), lr=1e-2)

    def step():
        x, target = sine.windows(series, 30, rng, count=8)
        loss = losses.mse_loss(model(x), target)
        opt.zero_grad(); loss.backward()
        mg.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
        return loss

samples, first = {}, None
for i in range(1, 1001):
    loss = step()
    first = float(loss.data) if first is None else first
    if i in (100, 1000):
        samples[i] = rss()
print(json.dumps({"rss": samples, "first": first, "last": float(loss.data)}))
"""


@pytest.mark.memory
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
@pytest.mark.parametrize("kind", ["cnn", "lstm"], ids=["digits CNN", "sine LSTM"])
def test_memory_is_flat_between_step_100_and_step_1000(kind):
    code = f"KIND = {kind!r}\nEXAMPLES = {str(EXAMPLES)!r}\n" + TRAIN_1000_STEPS
    result = run_child(code, timeout=300, cwd=EXAMPLES.parent)
    at_100, at_1000 = result["rss"]["100"], result["rss"]["1000"]
    growth = (at_1000 - at_100) / at_100
    print(f"{kind}: RSS {at_100 / 2**20:.1f} MB at step 100, {at_1000 / 2**20:.1f} MB at 1000")
    assert abs(growth) < 0.05, f"RSS {at_100 / 2**20:.1f} MB -> {at_1000 / 2**20:.1f} MB"
    assert result["last"] < 0.5 * result["first"]  # and it did train


# ----- a 1,000-step sequence is freed at once --------------------------------------------------
def _lstm_cell_loop(x):
    cell = nn.LSTMCell(2, 3, rng=0)
    h = c = None
    outs = []
    for t in range(x.shape[0]):
        h, c = cell(x[t], None if h is None else (h, c))
        outs.append(h)
    return mg.stack(outs).sum()


SEQUENCES = {
    "LSTM": lambda x: nn.LSTM(2, 3, rng=0)(x)[0].sum(),
    "GRU, 2 layers, bidirectional": lambda x: nn.GRU(2, 3, 2, bidirectional=True, rng=0)(x)[
        0
    ].sum(),
    "RNN relu": lambda x: nn.RNN(2, 3, nonlinearity="relu", rng=0)(x)[0].sum(),
    "LSTMCell unrolled": _lstm_cell_loop,
}


@pytest.mark.parametrize("name", sorted(SEQUENCES))
@pytest.mark.parametrize("backward", [False, True], ids=["forward only", "after backward"])
def test_a_1000_step_sequence_graph_is_freed_at_once_when_dropped(name, backward):
    x = mg.Value(np.random.default_rng(0).normal(size=(1000, 2, 2)) * 0.5)
    gc.collect()
    gc.disable()  # anything left after `del` would need the cycle collector: a cycle
    try:
        loss = SEQUENCES[name](x)
        nodes = [weakref.ref(n) for n in topo_order(loss) if n._op is not None]
        assert len(nodes) >= 3  # the graph is there (a fused scan is a few nodes)
        if backward:
            loss.backward()
            assert x.grad.shape == x.shape and np.all(np.isfinite(x.grad))
        del loss
        alive = [r() for r in nodes if r() is not None]
        assert alive == [], f"{len(alive)} of {len(nodes)} nodes outlived the loss"
    finally:
        gc.enable()


# ----- save and load with buffers: all or nothing ----------------------------------------------
def _small_bn_cnn(seed: int) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1, rng=rng), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(24, 10, rng=rng),
    )  # fmt: skip


def _trained(model, steps: int = 3):
    x = np.random.default_rng(9).normal(size=(8, 1, 8, 8))
    for _ in range(steps):
        model(x)  # running statistics move, num_batches_tracked counts
    return model


BAD_STATES = {
    "running_var of the wrong shape": (
        lambda s: s.update({"1.running_var": np.ones(5)}),
        ["wrong shapes (1):", "1.running_var: expected shape (4,), got shape (5,)"],
    ),
    "a missing buffer": (
        lambda s: s.pop("5.num_batches_tracked"),
        ["missing keys (1):", "'5.num_batches_tracked'"],
    ),
    "an extra buffer": (
        lambda s: s.update({"1.running_max": np.zeros(4)}),
        ["unexpected keys (1):", "'1.running_max'"],
    ),
}


def _all_three(s):
    for change, _ in BAD_STATES.values():
        change(s)


@pytest.mark.parametrize("case", [*sorted(BAD_STATES), "all three at once"])
@pytest.mark.parametrize("via", ["load_state_dict", "file"])
def test_a_bad_state_with_buffers_changes_nothing_and_lists_every_problem(case, via, tmp_path):
    model = _trained(_small_bn_cnn(0))
    before = model.state_dict()
    state = _trained(_small_bn_cnn(1), steps=5).state_dict()  # other values everywhere
    if case == "all three at once":
        _all_three(state)
        words = [w for _, ws in BAD_STATES.values() for w in ws] + ["3 problems"]
    else:
        BAD_STATES[case][0](state)
        words = BAD_STATES[case][1] + ["1 problem."]
    with pytest.raises(ValueError) as info:
        if via == "file":
            mg.save(state, tmp_path / "bad.npz")
            model.load(tmp_path / "bad.npz")
        else:
            model.load_state_dict(state)
    message = str(info.value)
    for w in words + ["Nothing was loaded"]:
        assert w in message, (w, message)
    after = model.state_dict()
    assert list(after) == list(before)
    for key in before:  # parameters and buffers alike, num_batches_tracked included
        assert after[key].dtype == before[key].dtype
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)


def test_a_good_state_loads_every_buffer():
    source = _trained(_small_bn_cnn(1), steps=5)
    model = _small_bn_cnn(0)
    model.load_state_dict(source.state_dict())
    for (k, a), (_, b) in zip(model.state_dict().items(), source.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert int(model[1].num_batches_tracked) == 5


# ----- resume after save/load: bit for bit -----------------------------------------------------
def _batches(count: int):
    rng = np.random.default_rng(11)
    return [(rng.normal(size=(8, 1, 8, 8)), rng.integers(0, 10, size=8)) for _ in range(count)]


def _train_steps(model, opt, batches) -> list:
    losses_ = []
    for x, y in batches:
        loss = losses.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses_.append(loss.data)
    return losses_


def _everything(model, opt) -> list:
    """Parameters, buffers and the optimizer's state, as arrays."""
    state = opt.state_dict()["state"]
    moments = [v for i in sorted(state) for _, v in sorted(state[i].items())]
    return [*model.state_dict().values(), *map(np.asarray, moments)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resuming_a_batchnorm_cnn_with_adam_from_a_checkpoint_is_bit_identical(dtype, tmp_path):
    batches = _batches(10)
    model = _small_bn_cnn(0).to(dtype)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    _train_steps(model, opt, batches[:4])
    mg.save({"model": model.state_dict(), "optim": opt.state_dict()}, tmp_path / "ckpt.npz")
    straight = _train_steps(model, opt, batches[4:])  # the run that never stopped

    checkpoint = mg.load(tmp_path / "ckpt.npz")
    resumed = _small_bn_cnn(5).to(dtype)  # other weights, fresh buffers: all overwritten
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt = optim.Adam(resumed.parameters(), lr=0.5)  # the lr comes from the checkpoint
    resumed_opt.load_state_dict(checkpoint["optim"])
    again = _train_steps(resumed, resumed_opt, batches[4:])
    assert [float(v) for v in again] == [float(v) for v in straight]
    for a, b in zip(_everything(resumed, resumed_opt), _everything(model, opt)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert resumed[1].num_batches_tracked == model[1].num_batches_tracked == 10


# ----- two threads at once ---------------------------------------------------------------------
def _train_cnn(seed: int, steps: int, barrier: threading.Barrier | None) -> list:
    model = _example("cnn_digits").cnn()  # float32, BatchNorm, as the example trains it
    for p in model.parameters():  # weights from this seed, not the shared global generator
        p.data = np.random.default_rng(seed).normal(size=p.shape).astype(np.float32) * 0.3
    opt = optim.Adam(model.parameters(), lr=2e-3)
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(steps):
        x = rng.normal(size=(8, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 10, size=8)
        if barrier is not None:
            barrier.wait(timeout=30)  # the two threads take each step together
        loss = losses.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.data)
    model.eval()
    x = np.random.default_rng(99).normal(size=(4, 1, 8, 8)).astype(np.float32)
    history.append(model(x).data)  # eval mode: the running statistics each thread gathered
    return history + list(model.state_dict().values())


def test_two_threads_training_batchnorm_cnns_at_once_match_one_after_the_other():
    steps = 25
    sequential = [_train_cnn(1, steps, None), _train_cnn(2, steps, None)]
    results: list = [None, None]
    errors: list = []
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        try:
            results[i] = _train_cnn(i + 1, steps, barrier)
        except BaseException as err:  # reported below, with the thread's traceback lost
            errors.append(err)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    for got, expected in zip(results, sequential):
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            assert np.asarray(a).dtype == np.asarray(b).dtype
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(sequential[0][-1], sequential[1][-1])  # two different runs
