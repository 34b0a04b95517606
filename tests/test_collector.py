"""minigrad/collector.py: importing minigrad makes Python's cyclic collector walk big graphs
less often (full collections rarer), and leaves a program's own settings alone. Each case runs
in a fresh Python, since the thresholds are the process's."""

import pytest

from tests.child import run_child

# Build a chain of `links` links (two Values each) and run backward, counting the collector's
# runs of each generation; then the thresholds in force and whether minigrad set them.
CHAIN = """
import gc, json
{before}
import minigrad
from minigrad import Value

runs = [0, 0, 0]
def count(phase, info):
    if phase == "start":
        runs[info["generation"]] += 1

gc.collect()
gc.callbacks.append(count)
x = Value(0.5)
y = x
for _ in range({links}):
    y = y * 1.0001 + 0.0001
y.backward()
gc.callbacks.remove(count)
print(json.dumps({{"thresholds": gc.get_threshold(), "tuned": minigrad.collector.tuned,
                   "runs": runs, "grad": x.grad}}))
"""


def _chain(monkeypatch, before: str = "", opt_out: bool = False, links: int = 300_000) -> dict:
    if opt_out:
        monkeypatch.setenv("MINIGRAD_GC", "default")
    else:
        monkeypatch.delenv("MINIGRAD_GC", raising=False)
    return run_child(CHAIN.format(before=before, links=links), timeout=300)


def test_import_sets_the_thresholds_and_a_big_graph_gets_no_full_collection(monkeypatch):
    tuned = _chain(monkeypatch)
    default = _chain(monkeypatch, opt_out=True)
    assert tuned["tuned"] is True and tuned["thresholds"] == [700, 10, 300]
    assert default["tuned"] is False and default["thresholds"] == [700, 10, 10]
    # The same gradient either way: 1.0001 ** 300,000
    assert tuned["grad"] == pytest.approx(1.0001**300_000, rel=1e-9)
    assert tuned["grad"] == default["grad"]
    # 600,000 new Values: with (700, 10, 10), full collections as the graph grows by a quarter;
    # with minigrad's, one only after 2.1 million. The collector runs as often (one generation
    # or more each time); only the full runs became younger ones.
    assert default["runs"][2] >= 3, default
    assert tuned["runs"][2] == 0, tuned
    assert abs(sum(tuned["runs"]) - sum(default["runs"])) <= 0.02 * sum(default["runs"])


@pytest.mark.parametrize(
    "before, expected",
    [("gc.set_threshold(500, 5, 5)", [500, 5, 5]), ("gc.disable()", [700, 10, 10])],
)
def test_a_collector_set_up_by_the_program_is_left_alone(monkeypatch, before, expected):
    result = _chain(monkeypatch, before=before, links=1_000)
    assert result["tuned"] is False
    assert result["thresholds"] == expected


def test_cyclic_garbage_is_still_collected_without_asking():
    # 20,000 objects that refer to themselves, dropped at once: only the collector frees them.
    # Young collections still run every 700 new objects, so all but the last few are gone
    # without a gc.collect().
    result = run_child(
        """
        import gc, json, weakref
        import minigrad

        class Loop:
            pass

        refs = []
        for _ in range(20_000):
            a = Loop()
            a.me = a
            refs.append(weakref.ref(a))
            del a
        alive = sum(r() is not None for r in refs)
        print(json.dumps({"alive": alive, "tuned": minigrad.collector.tuned}))
        """,
        timeout=120,
    )
    assert result["tuned"] is True
    # each Loop is two containers (it and its __dict__): a young collection each 350 loops
    assert result["alive"] < 1_000, result
