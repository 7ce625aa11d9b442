"""One batching helper for every stage: attributions, curves and predictions all go through it."""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np


def batch_slices(n: int, batch_size: int) -> Iterator[slice]:
    """Yield ``slice`` objects covering ``range(n)`` in order, each at most ``batch_size`` long."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def map_batches(fn: Callable[..., np.ndarray], *arrays: np.ndarray, batch_size: int) -> np.ndarray:
    """Apply ``fn`` to aligned batches of ``arrays`` (split on axis 0) and concatenate the results.

    The result equals ``fn(*arrays)`` for any ``batch_size``: this is what the batching tests check.
    """
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"arrays have different lengths: {[len(a) for a in arrays]}")
    if n == 0:
        raise ValueError("map_batches got zero items")
    outs = [np.asarray(fn(*(a[s] for a in arrays))) for s in batch_slices(n, batch_size)]
    return np.concatenate(outs, axis=0)
