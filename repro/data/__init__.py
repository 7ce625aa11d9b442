"""Image sources. Every source (ImageNet from a manifest, the embedded shapes set, a folder of user images)
exposes the same small listing so that the pipeline never special-cases one:

* ``name``: short identifier used in cache keys;
* ``ids``: unique image ids, in study order;
* ``labels``: ground-truth class index per id (``-1`` where unknown);
* ``load(indices) -> (n, H, W, 3)`` float32 raw RGB in ``[0, 255]``, already at the model's size.

A source that reads files (a folder, ImageNet) also has ``check_files()``: decode every image once and raise one
:class:`~repro.errors.ImageReadError` line naming all the files that cannot be read
(:func:`repro.data.images.check_image_files`). :func:`repro.pipeline.open_study` calls it, when present, before
anything is written or computed; a generated source (the embedded shapes) has none.
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
