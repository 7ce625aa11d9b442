"""Random: the baseline attribution of the study, one seeded standard-normal score per pixel.

``map_i[h, w] ~ N(0, 1)`` independently, drawn with ``numpy.random.default_rng(image_seed(x_i, seed))``
(:func:`repro.attributions._common.image_seed`), so a map depends only on the seed and the image, not on the batch.

Why standard normal per pixel, ``(N, H, W)``: the criteria read one score per pixel and use only the pixels with
a positive score, their order and their shares of the positive total. A signed, symmetric distribution gives
about half of the pixels a positive score, as the signed maps (SM, IG, SG, DeepLIFT, LRP) do, so Random's M = |pi+|
is comparable to theirs; the positive scores are half-normal, so their shares are random too (a random order with
equal scores would make proportionality trivially flat). The alternative, uniform scores in ``[0, 1)``, makes every
pixel positive (M = H W) and is not used.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from repro.attributions._common import image_seed
from repro.attributions.base import AttributionMethod


class RandomAttribution(AttributionMethod):
    """Seeded random scores: i.i.d. standard normal per pixel, ``(N, H, W)``.

    Args:
        seed: the method's seed; image ``i`` draws from ``default_rng(image_seed(x_i, seed))``.
    """

    name: ClassVar[str] = "random"

    def __init__(self, seed: int = 0):
        self.seed = int(seed)

    def attribute(self, model, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``(N, H, W, C)`` -> ``(N, H, W)`` float32 standard-normal scores (the targets are not used)."""
        out = np.empty(x.shape[:3], np.float32)
        for i in range(len(x)):
            out[i] = np.random.default_rng(image_seed(x[i], self.seed)).standard_normal(x.shape[1:3])
        return out
