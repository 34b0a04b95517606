"""A character-level GRU language model, trained on Python source every machine has offline.

    python examples/char_model.py [--epochs 30] [--torch]

The text is the source of Python's own `fractions` module (read at run time with
`inspect.getsource`); its last tenth is held out for validation. Model: Embedding(V, 32) ->
GRU(32 -> 128) -> Linear(128, V) over the V distinct characters, trained with truncated
backpropagation through time: the training text is cut into 32 parallel streams read 64
characters at a time, the GRU's state carried from one chunk to the next with `h.detach()` (the
gradient stops at the chunk's start), Adam (lr 3e-3), gradients clipped to norm 1.0. Prints the
validation loss per character (in nats and bits) and a passage sampled from the model.

`--torch` trains the same model in PyTorch (installed separately) from the same initial weights
(minigrad's state_dict loads into torch.nn.GRU as it is), on the same chunks in the same order,
and prints both validation losses.
"""

from __future__ import annotations

import os

# Small matmuls: one BLAS thread is fastest, and on a busy machine spinning BLAS workers make
# them many times slower (set before numpy loads; the tests set it too).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import fractions
import inspect
import math
import time

import numpy as np

import minigrad as mg
from minigrad import losses, nn, optim

STREAMS, CHUNK = 32, 64
EMBED, HIDDEN = 32, 128


def load_text() -> tuple[str, list[str]]:
    """The text and its sorted alphabet."""
    text = inspect.getsource(fractions)
    return text, sorted(set(text))


def split(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training streams (STREAMS, length), and the held-out last tenth as one stream."""
    cut = int(len(codes) * 0.9)
    train, val = codes[:cut], codes[cut:]
    per = (len(train) - 1) // STREAMS
    streams = np.stack([train[i * per : (i + 1) * per + 1] for i in range(STREAMS)])
    return streams, val[None]


def chunks(streams: np.ndarray):
    """(inputs, targets) of CHUNK steps each, in reading order: the next character is the
    target."""
    for start in range(0, streams.shape[1] - 1, CHUNK):
        stop = min(start + CHUNK, streams.shape[1] - 1)
        yield streams[:, start:stop], streams[:, start + 1 : stop + 1]


class CharGRU(nn.Module):
    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, EMBED, dtype=np.float32)
        self.gru = nn.GRU(EMBED, HIDDEN, batch_first=True, dtype=np.float32)
        self.head = nn.Linear(HIDDEN, vocab, dtype=np.float32)

    def forward(self, codes, h=None):
        out, h = self.gru(self.embed(codes), h)
        return self.head(out), h


def train_minigrad(epochs: int = 30, seed: int = 0, verbose: bool = False):
    """Returns (model, validation loss per character in nats, initial state_dict, alphabet)."""
    mg.manual_seed(seed)
    text, alphabet = load_text()
    codes = np.array([alphabet.index(c) for c in text])
    streams, val = split(codes)
    model = CharGRU(len(alphabet))
    start = model.state_dict()
    opt = optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(epochs):
        h, total, count = None, 0.0, 0
        for x, y in chunks(streams):
            logits, h = model(x, h)
            loss = losses.cross_entropy(logits.reshape(-1, len(alphabet)), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            h = h.detach()  # truncated BPTT: the next chunk's gradient stops here
            total, count = total + float(loss.data) * y.size, count + y.size
        if verbose:
            print(f"epoch {epoch + 1}: training loss {total / count:.3f} nats/char")
    return model, validation_loss(model, val, len(alphabet)), start, alphabet


def validation_loss(model, val: np.ndarray, vocab: int) -> float:
    """Mean cross-entropy per held-out character, the state carried through the stream."""
    h, total = None, 0.0
    with mg.no_grad():
        for x, y in chunks(val):
            logits, h = model(x, h)
            rows = losses.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1), "sum")
            total += float(rows.data)
    return total / (val.shape[1] - 1)


def sample(model, alphabet: list[str], prompt: str = "def ", length: int = 300, seed: int = 1):
    """A passage drawn one character at a time (temperature 0.8) after `prompt`."""
    rng = np.random.default_rng(seed)
    codes = [alphabet.index(c) for c in prompt]
    with mg.no_grad():
        logits, h = model(np.array([codes]))
        for _ in range(length):
            z = logits.data[0, -1] / 0.8
            p = np.exp(z - z.max())
            codes.append(int(rng.choice(len(p), p=p / p.sum())))
            logits, h = model(np.array([[codes[-1]]]), h)
    return "".join(alphabet[c] for c in codes)


def train_torch(epochs: int, start: dict, alphabet: list[str]) -> float:
    """The same model, data order, initial weights and optimizer in PyTorch: its validation
    loss per character."""
    import torch

    torch.set_num_threads(1)
    text, _ = load_text()
    codes = np.array([alphabet.index(c) for c in text])
    streams, val = split(codes)
    vocab = len(alphabet)
    embed = torch.nn.Embedding(vocab, EMBED)
    gru = torch.nn.GRU(EMBED, HIDDEN, batch_first=True)
    head = torch.nn.Linear(HIDDEN, vocab)
    for prefix, module in (("embed.", embed), ("gru.", gru), ("head.", head)):
        module.load_state_dict(
            {
                k[len(prefix) :]: torch.from_numpy(v)
                for k, v in start.items()
                if k.startswith(prefix)
            }
        )
    params = [*embed.parameters(), *gru.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=3e-3)
    for _ in range(epochs):
        h = None
        for x, y in chunks(streams):
            out, h = gru(embed(torch.from_numpy(x)), h)
            loss = torch.nn.functional.cross_entropy(
                head(out).reshape(-1, vocab), torch.from_numpy(y).reshape(-1)
            )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            h = h.detach()
    total, h = 0.0, None
    with torch.no_grad():
        for x, y in chunks(val):
            out, h = gru(embed(torch.from_numpy(x)), h)
            logits = head(out).reshape(-1, vocab)
            total += float(
                torch.nn.functional.cross_entropy(
                    logits, torch.from_numpy(y).reshape(-1), reduction="sum"
                )
            )
    return total / (val.shape[1] - 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch", action="store_true", help="also train it in PyTorch")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    model, val, start, alphabet = train_minigrad(args.epochs, args.seed, verbose=True)
    took = time.perf_counter() - began
    bits = val / math.log(2)
    print(f"minigrad: validation loss {val:.4f} nats/char ({bits:.3f} bits/char), ", end="")
    print(f"trained in {took:.0f} s")
    print("sampled passage:\n" + sample(model, alphabet))
    if args.torch:
        began = time.perf_counter()
        theirs = train_torch(args.epochs, start, alphabet)
        took = time.perf_counter() - began
        print(f"PyTorch: validation loss {theirs:.4f} nats/char, trained in {took:.0f} s; ", end="")
        print(f"minigrad / PyTorch = {val / theirs:.4f}")


if __name__ == "__main__":
    main()
