"""Long and wide runs: a 1,000,000-op chain, graphs freed every training step (no growth in
memory, no reference cycles), and grad/anomaly modes that stay inside their own thread.

Runs that could crash the interpreter (a recursion limit hit in C, say) or that measure the
process's memory happen in a child Python, so a crash fails one test instead of killing pytest.
"""

import gc
import math
import sys
import textwrap
import threading
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad.engine import mode, topo_order
from tests.child import run_child

# ----- deep graphs -----------------------------------------------------------------------------
# The 1,000,000-op chain (forward, backward, release without recursion or a cycle) is tested in
# tests/test_engine.py, in a child Python started at collection.


def test_deep_array_chain_with_reuse_backpropagates():
    # Each node used twice (y + y * c): the gradient must count both uses, every time.
    x = Value(np.array([1.0, -2.0]))
    y = x
    for _ in range(1000):
        y = y + y * -0.5  # dy'/dy = 1 - 0.5, exact in binary
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0**-1000] * 2)
    x.grad = None
    z = x
    for _ in range(10_000):
        z = z * 0.5 + z * 0.5
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


# ----- memory ------------------------------------------------------------------------------------
def _array_loss():
    from minigrad import losses, nn

    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Linear(8, 16, rng=rng), nn.Tanh(), nn.Dropout(0.2, rng=rng), nn.Linear(16, 3, rng=rng)
    )
    X, y = rng.standard_normal((32, 8)), rng.integers(0, 3, 32)
    return model, losses.cross_entropy(model(X), y)


def _scalar_loss():
    from minigrad import losses, nn

    model = nn.MLP(2, [4, 4, 1])  # micrograd style: one Value per weight
    X = [[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8]]
    scores = [model(x) for x in X]
    return model, losses.hinge_loss(scores, [1.0, -1.0, 1.0]) + 1e-4 * losses.l2_penalty(model)


@pytest.mark.parametrize("make", [_array_loss, _scalar_loss], ids=["arrays", "scalars"])
def test_training_graph_is_freed_without_the_garbage_collector(make):
    from minigrad import optim

    gc.collect()
    gc.disable()
    try:
        model, loss = make()
        opt = optim.Adam(model.parameters(), lr=0.01)
        loss.backward()
        opt.step()
        nodes = [weakref.ref(v) for v in topo_order(loss) if v._op is not None]
        assert len(nodes) >= 5
        del loss
        alive = [r() for r in nodes if r() is not None]
        assert alive == [], f"{len(alive)} graph nodes outlived the loss (a reference cycle?)"
    finally:
        gc.enable()


MEMORY = """
import json, os
import numpy as np
import minigrad as mg
from minigrad import losses, nn
from minigrad.data import load_digits

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

data = load_digits()
X = np.asarray(data.X, dtype=np.float64) / 16.0
y = np.asarray(data.y)
rng = np.random.default_rng(0)
model = nn.Sequential(nn.Linear(64, 128, rng=rng), nn.ReLU(), nn.Linear(128, 10, rng=rng))
OPTIMIZER
samples = {}
for step in range(1, 1001):
    idx = rng.integers(0, len(X), 64)
    loss = losses.cross_entropy(model(X[idx]), y[idx])
    STEP
    if step in (100, 1000):
        samples[step] = rss()
print(json.dumps({"rss": samples, "loss": float(loss.data)}))
"""


def _memory_script() -> str:
    try:
        from minigrad import optim  # noqa: F401
    except ImportError:
        # Plain SGD by hand until minigrad.optim exists.
        setup = "params = model.parameters()"
        step = textwrap.dedent("""\
            model.zero_grad(); loss.backward()
            with mg.no_grad():
                for p in params:
                    p.data = p.data - 0.1 * p.grad""").replace("\n", "\n    ")
    else:
        setup = "from minigrad import optim; opt = optim.Adam(model.parameters(), lr=1e-3)"
        step = "opt.zero_grad(); loss.backward(); opt.step()"
    return MEMORY.replace("OPTIMIZER", setup).replace("STEP", step)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_digits_mlp_memory_is_flat_between_step_100_and_step_1000():
    result = run_child(_memory_script(), timeout=240)
    at_100, at_1000 = result["rss"]["100"], result["rss"]["1000"]
    growth = (at_1000 - at_100) / at_100
    print(f"RSS at step 100: {at_100 / 2**20:.1f} MB, at step 1000: {at_1000 / 2**20:.1f} MB")
    assert abs(growth) < 0.05, f"RSS {at_100 / 2**20:.1f} MB -> {at_1000 / 2**20:.1f} MB"
    assert result["loss"] < 0.5  # it did train


# ----- threads -----------------------------------------------------------------------------------
def test_no_grad_is_thread_local():
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def other_thread():
        inside.wait(timeout=10)
        y = Value(2.0) * 3.0
        seen["recorded"] = y.requires_grad and y.op == "*"
        checked.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with mg.no_grad():
        inside.set()
        checked.wait(timeout=10)
        assert not (Value(2.0) * 3.0).requires_grad  # still off here
    t.join(timeout=10)
    assert seen["recorded"] is True
    assert mg.is_grad_enabled()


def _train(
    seed: int, steps: int, barrier: threading.Barrier | None, anomaly: bool, how: str
) -> list:
    """A small regression net with dropout, trained by hand-written SGD under no_grad (a
    no_grad leaking from one thread into the other would stop the other's graph) or by Adam.
    Returns the loss of every step and the final weights."""
    from minigrad import losses, nn, optim

    rng = np.random.default_rng(seed)
    model = nn.Sequential(
        nn.Linear(3, 8, rng=rng), nn.Tanh(), nn.Dropout(0.1, rng=seed), nn.Linear(8, 1, rng=rng)
    )
    opt = optim.Adam(model.parameters(), lr=0.01) if how == "Adam" else None
    X = rng.standard_normal((16, 3))
    y = np.sin(X.sum(axis=1, keepdims=True))
    history = []
    for _ in range(steps):
        if barrier is not None:
            barrier.wait(timeout=10)  # the two threads take each step together
        if anomaly:
            with mg.detect_anomaly():
                loss = losses.mse_loss(model(X), y)
        else:
            loss = losses.mse_loss(model(X), y)
        model.zero_grad()
        loss.backward()
        if opt is not None:
            opt.step()
        else:
            with mg.no_grad():
                for p in model.parameters():
                    p.data = p.data - 0.05 * p.grad
        history.append(loss.data)
    return history + [p.data.copy() for p in model.parameters()]


def _same_run(a: list, b: list) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("how", ["SGD by hand", "Adam"])
def test_two_threads_training_at_once_match_running_one_after_the_other(how):
    steps = 60
    sequential = [_train(1, steps, None, False, how), _train(2, steps, None, True, how)]
    results = [None, None]
    errors = []
    barrier = threading.Barrier(2)

    def worker(i):
        try:
            results[i] = _train(i + 1, steps, barrier, anomaly=(i == 1), how=how)
        except BaseException as err:  # reported below: a failed thread must fail the test
            errors.append(err)
            barrier.abort()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so their ops really interleave
    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    assert _same_run(results[0], sequential[0]) and _same_run(results[1], sequential[1])
    assert not _same_run(results[0], results[1])  # two different models, really
    assert math.isfinite(results[0][steps - 1]) and results[0][steps - 1] < results[0][0]
    assert mode.anomaly is False and mg.is_grad_enabled()
