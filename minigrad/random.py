"""The seedable random generator behind weight initialization and dropout.

Every random draw in `minigrad.nn` (initial weights, dropout masks) comes from one numpy
`Generator`, so `minigrad.manual_seed(n)` makes a whole run repeat exactly, as
`torch.manual_seed` does. A function that takes `rng=` uses that instead: an int seed or a
`numpy.random.Generator`.

>>> import minigrad as mg
>>> _ = mg.manual_seed(0); a = mg.nn.Linear(2, 2).weight.data
>>> _ = mg.manual_seed(0); b = mg.nn.Linear(2, 2).weight.data
>>> bool((a == b).all())
True
"""

from __future__ import annotations

import numpy as np

RandomLike = int | np.random.Generator | None

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Restart minigrad's global generator from `seed` (a non-negative int); returns it."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The global generator that `manual_seed` resets."""
    return _generator


def get_generator(rng: RandomLike = None) -> np.random.Generator:
    """`rng` as a Generator: None gives the global one, an int a fresh one seeded with it."""
    if rng is None:
        return _generator
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be an int seed, a numpy.random.Generator or None, got {rng!r}")
