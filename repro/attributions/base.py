"""The one interface every attribution method implements.

Settings go in the constructor, data in the call::

    method = IntegratedGradients(steps=50)
    maps = method(model, x, targets)     # x: (N, H, W, C) model-space inputs; targets: (N,) ints

The result is a float32 array ``(N, H, W, C)`` (pixel-level methods) or ``(N, H, W)`` (Grad-CAM, Random), in the
input's spatial resolution. Methods never normalise their maps (no min-max, no absolute value): the criteria read
signs and magnitudes. Reducing channels to one score per pixel happens in one place, the criteria engine
(:func:`repro.criteria.orders.pixel_scores`), never here.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import numpy as np

from repro.errors import check_shape


class AttributionMethod(abc.ABC):
    """Base class: validates inputs once, then calls :meth:`attribute`."""

    name: ClassVar[str]
    """Registry name (``"saliency"``, ``"integrated_gradients"``, ...)."""

    def __call__(self, model: "ImageModel", x: np.ndarray, targets: np.ndarray) -> np.ndarray:  # noqa: F821
        x = np.asarray(x, dtype=np.float32)
        targets = np.asarray(targets).astype(np.int64).reshape(-1)
        check_shape("images", x.shape, (None, *model.input_shape))
        check_shape("targets", targets.shape, (x.shape[0],))
        if targets.size and (targets.min() < 0 or targets.max() >= model.num_classes):
            raise ValueError(f"targets must lie in [0, {model.num_classes}), got {targets.min()}..{targets.max()}")
        maps = np.asarray(self.attribute(model, x, targets), dtype=np.float32)
        if maps.shape[:3] != x.shape[:3]:
            raise RuntimeError(f"{self.name} returned maps of shape {maps.shape} for inputs {x.shape}")
        return maps

    @abc.abstractmethod
    def attribute(self, model: "ImageModel", x: np.ndarray, targets: np.ndarray) -> np.ndarray:  # noqa: F821
        """Compute the maps; inputs are already validated float32 / int64."""

    def params(self) -> dict:
        """The settings that determine the map (part of the cache key)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}
