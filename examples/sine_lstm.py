"""Forecast a noisy sine one step ahead with an LSTM.

    python examples/sine_lstm.py [--epochs 30] [--plot forecast.png]

The series is y_t = sin(2 pi t / 17.3) + noise (normal, standard deviation 0.1). An LSTM(1 -> 32)
reads the series and, after every step, a Linear layer predicts the next value. No model can
predict the noise, so the best possible mean squared error is the noise variance, 0.01: the
held-out error (on a later stretch of the series the model never saw) is printed next to it and
comes within 1.5x of it. With matplotlib installed (`pip install minigrad[plot]`), --plot PATH
saves a picture of the forecast against the truth.
"""

from __future__ import annotations

import os

# Small matmuls: one BLAS thread is fastest, and on a busy machine spinning BLAS workers make
# them many times slower (set before numpy loads; the tests set it too).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time

import numpy as np

import minigrad as mg
from minigrad import losses, nn, optim

PERIOD, NOISE = 17.3, 0.1
WARMUP = 10  # steps the LSTM reads before its forecasts are scored (it needs some history)


def make_series(length: int, rng: np.random.Generator, start: int = 0) -> np.ndarray:
    t = np.arange(start, start + length)
    return np.sin(2 * np.pi * t / PERIOD) + NOISE * rng.normal(size=length)


class Forecaster(nn.Module):
    """LSTM over the series, then a Linear layer: the next value after every step."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)  # (N, L, hidden)
        return self.head(out)  # (N, L, 1)


def windows(series: np.ndarray, length: int, rng: np.random.Generator, count: int):
    """`count` random stretches of length + 1: inputs (N, L, 1), next values (N, L, 1)."""
    starts = rng.integers(0, len(series) - length - 1, size=count)
    chunks = np.stack([series[s : s + length + 1] for s in starts])
    return chunks[:, :-1, None], chunks[:, 1:, None]


def scored_mse(model, x, target) -> float:
    with mg.no_grad():
        pred = model(x).data
    return float(np.mean((pred[:, WARMUP:] - target[:, WARMUP:]) ** 2))


def train_forecaster(epochs: int = 30, hidden: int = 32, seed: int = 0):
    """Returns (model, held-out MSE, the held-out series and its forecast)."""
    mg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train = make_series(4000, rng)
    held_out = make_series(1000, rng, start=10_000)
    model = Forecaster(hidden)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.OneCycleLR(opt, max_lr=1e-2, total_steps=epochs * 10)
    for _ in range(epochs):
        for _ in range(10):
            x, y = windows(train, 60, rng, count=32)
            pred = model(x)
            loss = losses.mse_loss(pred[:, WARMUP:], y[:, WARMUP:])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
    x, y = held_out[None, :-1, None], held_out[None, 1:, None]
    with mg.no_grad():
        forecast = model(x).data[0, :, 0]
    return model, scored_mse(model, x, y), held_out, forecast


def plot(path: str, series: np.ndarray, forecast: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = slice(WARMUP, WARMUP + 120)
    t = np.arange(len(series))
    fig, ax = plt.subplots(figsize=(9, 3.2))
    clean = np.sin(2 * np.pi * (t[1:][shown] + 10_000) / PERIOD)
    ax.plot(t[1:][shown], clean, "k-", lw=1, label="sine (without noise)")
    ax.plot(t[1:][shown], series[1:][shown], ".", color="0.5", label="noisy series")
    ax.plot(t[1:][shown], forecast[shown], "-", color="C1", label="LSTM forecast, one step ahead")
    ax.set_xlabel("step")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30, help="epochs of 10 steps")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="PATH", help="save forecast vs truth (matplotlib)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    model, mse, series, forecast = train_forecaster(args.epochs, args.hidden, args.seed)
    print(model)
    ratio = mse / NOISE**2
    print(f"held-out MSE {mse:.5f}, noise variance {NOISE**2:.5f} (the best possible), ", end="")
    print(f"ratio {ratio:.2f}x")
    print(f"trained in {time.perf_counter() - began:.1f} s")
    if args.plot:
        plot(args.plot, series, forecast)
        print(f"saved {args.plot}")


if __name__ == "__main__":
    main()
