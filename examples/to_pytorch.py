"""Move a model trained in minigrad to PyTorch, keep training it there, and bring it back.

    python examples/to_pytorch.py            # needs PyTorch: pip install torch
    python examples/to_pytorch.py --epochs 2

The digits CNN (conv 16 + BatchNorm + max-pool, conv 32 + max-pool, linear 64, linear 10,
float32) trains a few epochs in minigrad. Its state_dict, PyTorch's names and layouts, loads
with strict=True into `torch.nn.Sequential` of the same layers, which gives the same scores;
PyTorch trains it a few more epochs (Adam, as in minigrad), and its state_dict loads back into
the minigrad model, which then scores exactly as PyTorch's does. With onnx and onnxruntime
installed it also writes the model as ONNX and runs it in ONNX Runtime, for serving.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import data, losses, nn, optim, train

INSTALL = (
    "This example needs PyTorch. Install the CPU build with\n"
    "    pip install torch --index-url https://download.pytorch.org/whl/cpu\n"
    "(or plain `pip install torch`), then run it again."
)


def minigrad_cnn() -> nn.Sequential:
    f32 = np.float32
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, dtype=f32),
        nn.BatchNorm2d(16, dtype=f32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, dtype=f32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(128, 64, dtype=f32),
        nn.ReLU(),
        nn.Linear(64, 10, dtype=f32),
    )


def torch_cnn(torch: Any) -> Any:
    """The same layers in PyTorch: same order, so the same state_dict names."""
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(1, 16, 3, padding=1),
        tnn.BatchNorm2d(16),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(16, 32, 3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(128, 64),
        tnn.ReLU(),
        tnn.Linear(64, 10),
    )


def train_in_torch(torch: Any, model: Any, X: np.ndarray, y: np.ndarray, epochs: int, seed: int):
    """The usual PyTorch loop: Adam, cross-entropy, minibatches of 32."""
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(X_t))
        for start in range(0, len(order), 32):
            batch = order[start : start + 32]
            loss = torch.nn.functional.cross_entropy(model(X_t[batch]), y_t[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()


def accuracy(scores: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(scores.argmax(axis=1) == y))


def round_trip(epochs: int = 3, seed: int = 0, samples: int | None = None) -> dict[str, float]:
    """Train in minigrad, move to PyTorch, train there, move back (on the first `samples`
    training images; None: all 1347). Returns the figures."""
    import torch

    torch.set_num_threads(1)
    mg.manual_seed(seed)
    X, y = data.load_digits()
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, test_size=0.25, rng=seed, stratify=y
    )
    X_train, y_train = X_train[:samples], y_train[:samples]
    model = minigrad_cnn()
    opt = optim.Adam(model.parameters(), lr=2e-3)
    train.fit(
        model, losses.cross_entropy, opt, X_train, y_train, epochs=epochs, rng=seed, verbose=False
    )
    model.eval()
    ours = model(X_test).data

    # minigrad -> PyTorch: the state_dict as tensors, loaded strictly (names, shapes, buffers)
    twin = torch_cnn(torch)
    twin.load_state_dict(
        {k: torch.from_numpy(np.asarray(v)) for k, v in model.state_dict().items()}
    )
    twin.eval()
    with torch.no_grad():
        theirs = twin(torch.from_numpy(X_test)).numpy()

    train_in_torch(torch, twin, X_train, y_train, epochs, seed)
    with torch.no_grad():
        trained = twin(torch.from_numpy(X_test)).numpy()

    # PyTorch -> minigrad: the state_dict as numpy arrays, loaded strictly
    model.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()}, strict=True)
    back = model(X_test).data
    return {
        "minigrad accuracy": accuracy(ours, y_test),
        "PyTorch accuracy on arrival": accuracy(theirs, y_test),
        "max score difference on arrival": float(np.abs(ours - theirs).max()),
        "PyTorch accuracy after training": accuracy(trained, y_test),
        "minigrad accuracy back home": accuracy(back, y_test),
        "max score difference back home": float(np.abs(back - trained).max()),
        "onnx max score difference": _onnx_check(model, X_test, back),
    }


def _onnx_check(model: nn.Module, X: np.ndarray, expected: np.ndarray) -> float:
    """Export to ONNX and run in ONNX Runtime (nan when they are not installed)."""
    try:
        import onnxruntime

        import minigrad.onnx
    except ImportError:
        return float("nan")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "digits_cnn.onnx")
        minigrad.onnx.export(model, X[:8], path)
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        served = session.run(None, {"input": X})[0]
    return float(np.abs(served - expected).max())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs in each framework")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print(INSTALL)
        return 1
    figures = round_trip(args.epochs, args.seed)
    for name, value in figures.items():
        if name.startswith("onnx") and np.isnan(value):
            print("onnx: not installed (pip install onnx onnxruntime) - skipped")
        else:
            print(f"{name:34s} {value:.3g}" if "difference" in name else f"{name:34s} {value:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
