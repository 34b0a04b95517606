"""minigrad.progress: fit's display in a log (plain lines), a terminal (a line rewritten in place,
or tqdm's bar) and a notebook (tqdm's widget), and that the last epoch shown is the final one."""

import io
import re
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import losses, nn, optim, progress, train


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self):
        return True


def run_fit(epochs=40, target_loss=None, validation=False, **kwargs):
    """fit of a line y = 3x - 1 by full-batch SGD (stops at target_loss when given)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(40, 1))
    y = 3 * X - 1
    mg.manual_seed(0)
    model = nn.Linear(1, 1)
    return train.fit(
        model,
        losses.mse_loss,
        optim.SGD(model.parameters(), lr=0.1),
        X,
        y,
        epochs=epochs,
        batch_size=None,
        metrics=None,
        target_loss=target_loss,
        validation=(X[:10], y[:10]) if validation else None,
        **kwargs,
    )


def shown_epochs(text):
    return [int(n) for n in re.findall(r"epoch (\d+)/\d+", text)]


@pytest.fixture
def no_quiet_limit(monkeypatch):
    """Plain lines by epoch count only (a slow machine would add lines after 10 s of silence)."""
    monkeypatch.setattr(progress, "QUIET_LIMIT", float("inf"))


@pytest.fixture
def no_tqdm(monkeypatch):
    monkeypatch.setattr(progress, "has_tqdm", lambda widget=False: False)


# ----- a log: plain lines ------------------------------------------------------------------------
def test_log_gets_plain_lines_every_k_epochs_and_the_last(monkeypatch, no_quiet_limit):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stdout", log)
    history = run_fit(epochs=40, verbose=True)
    text = log.getvalue()
    assert "\r" not in text
    assert history.epochs == 40 and history.stop_reason == "epochs"
    assert shown_epochs(text) == [1, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40]
    lines = text.splitlines()
    assert lines[-2].startswith("epoch 40/40  loss ")
    assert float(lines[-2].split()[-1]) == pytest.approx(history.train_loss[-1], rel=1e-3)
    assert lines[-1] == history.summary()


def test_log_shows_the_final_epoch_of_a_run_stopped_early(monkeypatch, no_quiet_limit):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stdout", log)
    history = run_fit(epochs=40, target_loss=0.08, verbose=True)
    text = log.getvalue()
    assert history.stop_reason == "target_loss" and 1 < history.epochs < 40
    assert history.epochs % 4 != 0  # between two regular lines: shown because it is the last
    assert "\r" not in text
    assert shown_epochs(text)[-1] == history.epochs
    assert shown_epochs(text) == [1, *range(4, history.epochs, 4), history.epochs]
    assert text.splitlines()[-1] == history.summary()
    assert f"{history.epochs} epochs" in history.summary()


def test_log_lines_show_validation_numbers(monkeypatch, no_quiet_limit):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stdout", log)
    history = run_fit(epochs=3, validation=True, verbose=True)
    lines = log.getvalue().splitlines()
    assert lines[-2] == (
        f"epoch 3/3  loss {history.train_loss[-1]:.4g}  val_loss {history.val_loss[-1]:.4g}"
    )


def test_log_writes_a_line_after_a_long_silence(monkeypatch):
    clock = iter(range(0, 1000, 20))  # each epoch "takes" 20 s
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    log = io.StringIO()
    shown = progress.Progress(True, 100, stream=log, mode="lines")
    for epoch in range(1, 6):
        shown.update(epoch, {"loss": 1.0 / epoch})
    shown.close("done")
    assert shown_epochs(log.getvalue()) == [1, 2, 3, 4, 5]


def test_quiet_prints_nothing(capsys):
    run_fit(epochs=5, verbose=False)
    assert capsys.readouterr().out == ""


# ----- a terminal --------------------------------------------------------------------------------
def test_terminal_without_tqdm_rewrites_one_line_and_ends_on_the_final_epoch(monkeypatch, no_tqdm):
    screen = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", screen)
    history = run_fit(epochs=400, target_loss=0.01, verbose=True)
    text = screen.getvalue()
    assert history.stop_reason == "target_loss" and history.epochs < 400
    assert text.startswith("\repoch 1/400  loss ")
    body, summary = text.rsplit("\n", 2)[:2]
    assert summary == history.summary()
    last = body.split("\r")[-1]  # what the terminal shows after the last carriage return
    assert last.rstrip() == f"epoch {history.epochs}/400  loss {history.train_loss[-1]:.4g}"
    assert "\n" not in body  # one line, rewritten


def test_terminal_line_blanks_the_rest_of_a_longer_line():
    screen = FakeTerminal()
    shown = progress.Progress(True, 10, stream=screen, mode="line")
    shown.update(1, {"loss": 123.456789})
    shown.update(2, {"loss": 1.0}, force=True)
    first, second = screen.getvalue().split("\r")[1:]
    assert len(second) == len(first) and second.rstrip() == "epoch 2/10  loss 1"


def test_terminal_with_tqdm_shows_its_bar_up_to_the_final_epoch(monkeypatch):
    pytest.importorskip("tqdm", reason="tqdm is not installed (the notebook extra)")
    screen = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", screen)
    history = run_fit(epochs=400, target_loss=0.01, verbose=True)
    text = screen.getvalue()
    assert history.stop_reason == "target_loss" and history.epochs < 400
    bars = [part for part in re.split(r"[\r\n]", text) if part.startswith("fit:")]
    assert bars, text
    final = bars[-1]
    assert f"| {history.epochs}/400 [" in final  # the total stays: stopped early, not broken
    assert f"loss {history.train_loss[-1]:.4g}" in final
    assert text.rstrip("\n").rsplit("\n", 1)[-1] == history.summary()


def test_mode_is_chosen_by_where_the_output_goes(monkeypatch):
    monkeypatch.setattr(progress, "in_notebook", lambda: False)
    assert progress.choose_mode(io.StringIO()) == "lines"
    monkeypatch.setattr(progress, "has_tqdm", lambda widget=False: True)
    assert progress.choose_mode(FakeTerminal()) == "tqdm"
    monkeypatch.setattr(progress, "has_tqdm", lambda widget=False: False)
    assert progress.choose_mode(FakeTerminal()) == "line"
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    assert progress.choose_mode(io.StringIO()) == "lines"  # no widget: plain lines
    monkeypatch.setattr(progress, "has_tqdm", lambda widget=False: True)
    assert progress.choose_mode(io.StringIO()) == "tqdm"


def test_not_in_a_notebook_here():
    assert progress.in_notebook() is False


def test_closed_stream_is_no_terminal():
    stream = io.StringIO()
    stream.close()
    assert progress.is_terminal(stream) is False


def test_bad_mode_is_named():
    with pytest.raises(ValueError, match="mode must be 'tqdm', 'line' or 'lines', got 'bar'"):
        progress.Progress(True, 3, mode="bar")


# ----- a notebook: tqdm's widget -----------------------------------------------------------------
FIT_IN_A_CELL = """
import numpy as np, minigrad as mg
from minigrad import losses, nn, optim, train
X = np.linspace(-1, 1, 40).reshape(-1, 1); y = 3 * X - 1
mg.manual_seed(0)
model = nn.Linear(1, 1)
history = train.fit(model, losses.mse_loss, optim.SGD(model.parameters(), lr=0.1), X, y,
                    epochs=400, batch_size=None, metrics=None, target_loss=0.01)
print("EPOCHS", history.epochs)
"""


def run_in_a_kernel(source):
    """One code cell run in a fresh IPython kernel: (its outputs, the widgets' final states)."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (notebook extra)")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (notebook extra)")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (the notebook extra)")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", store_widget_state=True
    )
    client.execute()
    widgets = notebook.metadata.get("widgets", {})
    states = widgets.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    states = [w["state"] | {"model": w["model_name"]} for w in states.values()]
    return notebook.cells[0].outputs, states


def test_notebook_shows_tqdm_widget_up_to_the_final_epoch_in_green():
    pytest.importorskip("tqdm", reason="tqdm is not installed (the notebook extra)")
    pytest.importorskip("ipywidgets", reason="ipywidgets is not installed (the notebook extra)")
    outputs, states = run_in_a_kernel(FIT_IN_A_CELL)
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1, outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    epochs = int(re.search(r"EPOCHS (\d+)", text).group(1))
    assert 1 < epochs < 400
    assert f"{epochs} epochs, {epochs} steps, stopped: target_loss" in text
    assert "\r" not in text and "Warning" not in text
    (bar,) = [s for s in states if s["model"] == "FloatProgressModel"]
    assert (bar["value"], bar["max"], bar["bar_style"]) == (epochs, 400, "success")
    labels = " ".join(s["value"] for s in states if s["model"] == "HTMLModel")
    assert f"{epochs}/400" in labels.replace("\u2007", " ")
