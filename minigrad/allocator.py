"""Keep freed memory for the next training step instead of giving it back to the system.

Why: a training step allocates the same arrays every time (activations, gradients) and frees
them at its end. By default glibc's malloc gives memory at the top of its heap back to the
system as soon as more than a little is free (its trim threshold, which it sets at twice the
largest block freed so far). The next step then asks for it again, and the kernel hands it
back one zeroed 4 KB page at a time: a page fault per page. Measured on the development
machine (2026-12-02, `benchmarks/own_loop.py`, one BLAS thread, each loop in a fresh process),
W3's step (MLP 64-128-128-10, batch 512, float32) page-faulted about 500 times per step in
minigrad and 380 times in the numpy reference written by hand, which made both steps about
1.5x slower than with the memory kept (1.84 ms against 1.13 ms for minigrad, 1.59 ms against
1.08 ms for numpy). minigrad's step faults more than numpy's because `backward()` keeps every
node's `.grad`, so its step holds more memory at its peak.

What: at import, on glibc, `mallopt` is told to keep up to TRIM_THRESHOLD bytes of free memory
at the top of the heap, and to take blocks below MMAP_THRESHOLD from the heap rather than from
fresh mappings (which go back to the system, and fault again, on every free). This is the
same thing as starting Python with MALLOC_TRIM_THRESHOLD_ and MALLOC_MMAP_THRESHOLD_ set. It
changes the whole process: numpy code run next to minigrad gets the same benefit. A process
keeps up to TRIM_THRESHOLD of memory it no longer uses; blocks of MMAP_THRESHOLD and larger
still go straight back.

Left alone when the environment variable MINIGRAD_MALLOC is "default", when any of glibc's
own MALLOC_*_ variables is set (the user chose), and on other C libraries (macOS, musl,
Windows), where nothing is done.
"""

from __future__ import annotations

import ctypes
import os

TRIM_THRESHOLD = 128 * 2**20  # bytes of free memory kept at the top of the heap
MMAP_THRESHOLD = 32 * 2**20  # glibc's own ceiling for the threshold it adjusts by itself

# glibc's mallopt parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_GLIBC_VARIABLES = (
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)

# Whether this process's malloc was told to keep freed memory (set by `keep_freed_memory`).
kept = False


def on_glibc() -> bool:
    """Whether this Python runs on GNU libc (Linux with glibc; not musl, macOS or Windows)."""
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):  # no confstr, or a libc without that name
        return False


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed memory (see the module's docstring). Returns whether
    it did; it does nothing when opted out, when the user set glibc's variables, or off glibc."""
    global kept
    if kept:
        return True
    if os.environ.get("MINIGRAD_MALLOC", "") == "default":
        return False
    if any(name in os.environ for name in _GLIBC_VARIABLES):
        return False
    if not on_glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this Python runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # The mmap threshold first: setting either one stops glibc adjusting both by itself
    kept = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return kept
