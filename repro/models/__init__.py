"""Models the study explains: the shared record (:mod:`repro.models.core`) and the registry of named models.

:data:`MODELS` is the single registry of model names, like :data:`repro.attributions.METHODS`: every CLI's
``--model`` choices and :func:`load_model` read it. Each entry is ``"module:function"``, a loader
``function(weights=<its default>) -> ImageModel``; loaders are imported only when used, so a model family
(:mod:`repro.models.vgg16`, :mod:`repro.embedded.model`) imports the core and the core imports no family.
:data:`SCORE_MODES` (the ``--score`` choices) is defined in the core.

Usage::

    from repro.models import load_model, top1_targets
    model = load_model("embedded")                    # or load_model("vgg16", "/path/to/vgg16.h5")
    targets = top1_targets(model, model.preprocess(raw))
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from repro.registry import resolve
from repro.models.core import (SCORE_MODES, ImageModel, ScoreMode, score_function, strip_softmax, top1_targets,
                               unit_preprocess)
from repro.models.vgg16 import CAFFE_BGR_MEANS, build_vgg16, load_vgg16, vgg16_preprocess

MODELS: dict[str, str] = {
    "embedded": "repro.embedded.model:load_embedded",
    "vgg16": "repro.models.vgg16:load_vgg16",
}
"""Registry name -> ``module:loader``. ``embedded``: the small offline model shipped in the repository (``weights``:
a retrained ``.h5``); ``vgg16``: the paper's model (``weights``: ``"imagenet"`` by default, a local ``.h5``, or
``"random"``)."""

MODEL_NAMES: tuple[str, ...] = tuple(MODELS)
"""The registered names, in registry order (the ``--model`` choices)."""


def model_loader(name: str) -> Callable[..., ImageModel]:
    """The loader registered under ``name``; an unknown name lists the valid ones (:class:`ReproError`)."""
    return resolve(MODELS, name, "model")


def load_model(name: str, weights: str | Path | None = None) -> ImageModel:
    """Load the registered model ``name``; ``weights=None`` means the loader's default weights.

    Raises:
        ReproError: an unknown name (the message lists :data:`MODEL_NAMES`); :class:`~repro.errors.
            WeightsNotFoundError` when the weights are missing.
    """
    loader = model_loader(name)
    return loader() if weights is None else loader(weights)


__all__ = [
    "MODELS", "MODEL_NAMES", "model_loader", "load_model",
    "SCORE_MODES", "ImageModel", "ScoreMode", "score_function", "strip_softmax", "top1_targets", "unit_preprocess",
    "CAFFE_BGR_MEANS", "build_vgg16", "load_vgg16", "vgg16_preprocess",
]
