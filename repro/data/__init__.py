"""Image sources. Every source (ImageNet from a manifest, the embedded shapes set, a folder of user images)
exposes the same small listing so that the pipeline never special-cases one:

* ``name``: short identifier used in cache keys;
* ``ids``: unique image ids, in study order;
* ``labels``: ground-truth class index per id (``-1`` where unknown);
* ``load(indices) -> (n, H, W, 3)`` float32 raw RGB in ``[0, 255]``, already at the model's size.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class ImageSource(Protocol):
    name: str
    ids: Sequence[str]
    labels: np.ndarray

    def load(self, indices: Sequence[int]) -> np.ndarray:
        """Raw RGB float32 ``(len(indices), H, W, 3)`` in ``[0, 255]``."""
        ...
