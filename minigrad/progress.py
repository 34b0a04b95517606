"""The progress display of `fit`: a bar where someone watches, plain lines where a log is kept.

Where the output goes decides how the epochs are shown:

- a notebook (Jupyter, JupyterLab, VS Code: an IPython kernel) with tqdm and ipywidgets
  installed: tqdm's widget (`tqdm.auto`);
- a terminal: tqdm's bar when tqdm is installed, else one line rewritten in place (a carriage
  return, at most ten redraws a second);
- anything else (a file, a pipe, a CI log, a notebook without the widget): plain lines and no
  carriage return, one for the first epoch, one every `every` epochs (about ten in all, or
  sooner when ten seconds passed in silence) and always one for the last epoch run, so the last
  line shown is the final count even when a stopping rule ends the run early.

Every mode then prints the run's summary (`History.summary()`) on a line of its own. tqdm is an
optional extra (`pip install "minigrad[notebook]"`): without it `fit` shows its own line.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from typing import Any, TextIO

__all__ = ["Progress", "choose_mode"]

#: Seconds between redraws of the terminal line.
REDRAW_INTERVAL = 0.1
#: In plain-line mode, the longest silence (seconds) before a line is written anyway.
QUIET_LIMIT = 10.0


def in_notebook() -> bool:
    """True inside an IPython kernel (Jupyter, JupyterLab, VS Code notebooks), where output
    cells render HTML and widgets; False in a terminal IPython or plain Python."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def has_tqdm(widget: bool = False) -> bool:
    """tqdm is installed (and ipywidgets, for its notebook widget, when `widget`)."""
    names = ("tqdm", "ipywidgets") if widget else ("tqdm",)
    return all(importlib.util.find_spec(name) is not None for name in names)


def is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # a closed or detached stream
        return False


def choose_mode(stream: Any) -> str:
    """'tqdm' (a widget or a bar), 'line' (one line rewritten in place) or 'lines' (plain)."""
    if in_notebook():
        return "tqdm" if has_tqdm(widget=True) else "lines"
    if is_terminal(stream):
        return "tqdm" if has_tqdm() else "line"
    return "lines"


def format_epoch(epoch: int, epochs: int, values: dict[str, float]) -> str:
    parts = "  ".join(f"{name} {value:.4g}" for name, value in values.items())
    return f"epoch {epoch}/{epochs}  {parts}".rstrip()


class Progress:
    """Shows the epochs of one `fit` run: `update(epoch, values)` after each epoch,
    `close(summary)` once at the end.

    enabled: False shows nothing. stream: where to write (default: sys.stdout when the run
    starts). mode: 'tqdm', 'line' or 'lines' (default: `choose_mode(stream)`). every: in 'lines'
    mode, a line every this many epochs (default: about ten lines for `epochs`).
    """

    def __init__(
        self,
        enabled: bool,
        epochs: int,
        stream: TextIO | None = None,
        mode: str | None = None,
        every: int | None = None,
    ) -> None:
        self.enabled, self.epochs = enabled, epochs
        self.stream = sys.stdout if stream is None else stream
        self.mode = (mode or choose_mode(self.stream)) if enabled else "off"
        if self.mode not in ("tqdm", "line", "lines", "off"):
            raise ValueError(f"Progress: mode must be 'tqdm', 'line' or 'lines', got {mode!r}")
        self.every = every or max(1, math.ceil(epochs / 10))
        self.last_time = -math.inf  # when the display was last written
        self.shown_epoch = 0  # the epoch the display shows now (0: none yet)
        self.latest: tuple[int, dict[str, float]] | None = None  # the last update
        self.width = 0  # length of the terminal line, to blank a longer one it replaces
        self.bar = self._new_bar() if self.mode == "tqdm" else None

    def _new_bar(self) -> Any:
        from tqdm.auto import tqdm

        # The bar writes to the same stream as the summary (the widget ignores `file`).
        return tqdm(total=self.epochs, desc="fit", unit="epoch", file=self.stream, leave=True)

    def update(self, epoch: int, values: dict[str, float], force: bool = False) -> None:
        """Epoch `epoch` is done, with these numbers (loss, val_loss, ...)."""
        if self.mode == "off":
            return
        self.latest = (epoch, dict(values))
        now = time.perf_counter()
        if self.mode == "tqdm":
            self._bar_to(epoch, values)
        elif self.mode == "line":
            if force or now - self.last_time >= REDRAW_INTERVAL:
                self._rewrite(epoch, values)
                self.last_time = now
        elif force or self._line_due(epoch, now):
            self._write_line(epoch, values)
            self.last_time = now

    def _line_due(self, epoch: int, now: float) -> bool:
        return epoch == 1 or epoch % self.every == 0 or now - self.last_time >= QUIET_LIMIT

    def _bar_to(self, epoch: int, values: dict[str, float]) -> None:
        self.bar.set_postfix_str(
            "  ".join(f"{k} {v:.4g}" for k, v in values.items()), refresh=False
        )
        self.bar.update(epoch - self.bar.n)  # tqdm redraws at most every 0.1 s by itself
        self.shown_epoch = epoch

    def _rewrite(self, epoch: int, values: dict[str, float]) -> None:
        line = format_epoch(epoch, self.epochs, values)
        self.stream.write("\r" + line + " " * max(0, self.width - len(line)))
        self.stream.flush()
        self.width, self.shown_epoch = len(line), epoch

    def _write_line(self, epoch: int, values: dict[str, float]) -> None:
        self.stream.write(format_epoch(epoch, self.epochs, values) + "\n")
        self.stream.flush()
        self.shown_epoch = epoch

    def close(self, message: str) -> None:
        """The last epoch run is shown (if a redraw skipped it), then `message` on its own line."""
        if self.mode == "off":
            return
        pending = self.latest is not None and self.latest[0] != self.shown_epoch
        if self.mode == "tqdm":
            self._close_bar()
        elif self.mode == "line":
            if pending:
                self._rewrite(*self.latest)
            if self.shown_epoch:
                self.stream.write("\n")
        elif pending:
            self._write_line(*self.latest)
        self.stream.write(message + "\n")
        self.stream.flush()

    def _close_bar(self) -> None:
        if self.latest is not None:
            self._bar_to(*self.latest)
        self.bar.close()
        if _is_widget(self.bar) and self.bar.n < self.epochs:
            # Stopped early by a rule ('fit 40/400', then the summary says why): a finished run,
            # so green, where tqdm's widget paints a bar closed short of its total red (and
            # will not repaint red green: the colour is set on the bar widget itself).
            children = getattr(getattr(self.bar, "container", None), "children", ())
            if len(children) == 3:  # label, bar, numbers
                children[1].bar_style = "success"


def _is_widget(bar: Any) -> bool:
    from tqdm.notebook import tqdm as notebook_tqdm

    return isinstance(bar, notebook_tqdm)
