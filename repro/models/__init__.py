"""Models the study explains: the shared record (:mod:`repro.models.core`) and the registry of named models.

:data:`MODELS` is the single registry of model names, like :data:`repro.attributions.METHODS`: every CLI's
``--model`` and :func:`load_model` read it. Each entry is ``"module:function"``, a loader
``function(weights=<its default>) -> ImageModel``; loaders are imported only when used, so a model family
(:mod:`repro.models.vgg16`, :mod:`repro.embedded.model`, :mod:`repro.models.applications`) imports the core and the
core imports no family. :data:`SCORE_MODES` (the ``--score`` choices) is defined in the core.

Names: ``embedded``, ``vgg16`` (the paper's), and every other ``keras.applications`` network in lower case
(``resnet50``, ``inceptionv3``, ``mobilenetv2``, ``densenet121``, ``efficientnetb0``, ...;
:mod:`repro.models.applications`); a name is matched case-insensitively (``ResNet50``). A path to a ``.keras`` /
``.h5`` model file goes through :func:`load_model` too (:mod:`repro.models.keras_file`).

Usage::

    from repro.models import load_model, top1_targets
    model = load_model("embedded")                    # or load_model("vgg16", "/path/to/vgg16.h5")
    model = load_model("resnet50", "random", input_size=96)      # keras.applications, untrained
    model = load_model("my_model.keras", preprocess="tf")         # your own file
    targets = top1_targets(model, model.preprocess(raw))
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Callable

from repro.errors import ReproError
from repro.registry import resolve
from repro.models.applications import CONSTRUCTORS
from repro.models.core import (SCORE_MODES, ImageModel, ScoreMode, logit_problem, score_function, strip_softmax,
                               top1_targets, unit_preprocess)
from repro.models.keras_file import is_model_file, load_keras_file
from repro.models.preprocessing import PREPROCESS_MODES, preprocess_function
from repro.models.vgg16 import CAFFE_BGR_MEANS, build_vgg16, load_vgg16, vgg16_preprocess

MODELS: dict[str, str] = {
    "embedded": "repro.embedded.model:load_embedded",
    "vgg16": "repro.models.vgg16:load_vgg16",
    **{name: f"repro.models.applications:load_{name}" for name in CONSTRUCTORS},
}
"""Registry name -> ``module:loader``. ``embedded``: the small offline model shipped in the repository (``weights``:
a retrained ``.h5``); ``vgg16``: the paper's model (``weights``: ``"imagenet"`` by default, a local ``.h5``, or
``"random"``); every other ``keras.applications`` network (same ``weights``; the loader also takes
``input_size``)."""

MODEL_NAMES: tuple[str, ...] = tuple(MODELS)
"""The registered names, in registry order."""

MODEL_HELP = ("embedded, vgg16, any other keras.applications network by name (resnet50, inceptionv3, mobilenetv2, "
              "densenet121, efficientnetb0, ...; any case), or a path to a .keras / .h5 model file")
"""What ``--model`` accepts, for the commands' help."""


def registry_name(name: str) -> str:
    """``name`` as registered: itself, or its lower case (``ResNet50`` -> ``resnet50``); unknown names unchanged."""
    return name if name in MODELS or name.lower() not in MODELS else name.lower()


def names_model_file(name: str | Path) -> bool:
    """Whether ``--model`` ``name`` is loaded from a model file: a registry name wins (in any case), then a path
    (:func:`~repro.models.keras_file.is_model_file`). The one rule of :func:`load_model` and
    :func:`repro.models.weights.weights_id`."""
    text = str(name)
    return registry_name(text) not in MODELS and is_model_file(text)


def model_loader(name: str) -> Callable[..., ImageModel]:
    """The loader registered under ``name`` (any case); an unknown name lists the valid ones (:class:`ReproError`)."""
    return resolve(MODELS, registry_name(name), "model")


def load_model(name: str | Path, weights: str | Path | None = None, *, preprocess: str | None = None,
               input_size: int | None = None, gradcam_layer: str | None = None,
               trust_code: bool = False) -> ImageModel:
    """Load the registered model ``name``, or the model file at path ``name``.

    Args:
        name: a registry name (any case) or a ``.keras`` / ``.h5`` path.
        weights: ``None`` means the loader's default weights (a file holds its own: must be ``None``).
        preprocess: one of :data:`~repro.models.preprocessing.PREPROCESS_MODES` instead of the model's own
            (required for a file).
        input_size: side of the square input; a fixed-size model (embedded, VGG16 with ImageNet weights, a file
            with a fixed input) refuses another one.
        gradcam_layer: Grad-CAM's layer instead of the one found automatically.
        trust_code: a model file may run the Python code stored in it (Lambda layers); refused otherwise.
    The returned model's ``name`` (part of every map's cache key) carries every option that changes a map.

    Raises:
        ReproError: an unknown name (the message lists what ``--model`` accepts), a model without an identifiable
            logit, a bad option; :class:`~repro.errors.WeightsNotFoundError` when the weights are missing.
    """
    text = str(name)
    if names_model_file(text):
        model = load_keras_file(text, weights, preprocess=preprocess, input_size=input_size, trust_code=trust_code)
    else:
        if registry_name(text) not in MODELS:
            raise ReproError(f"unknown model {text!r}: --model takes {MODEL_HELP}")
        loader = model_loader(text)
        kwargs = {}
        if input_size is not None and "input_size" in inspect.signature(loader).parameters:
            kwargs["input_size"] = int(input_size)
        model = loader(**kwargs) if weights is None else loader(weights, **kwargs)
        if input_size is not None and model.input_shape[:2] != (int(input_size), int(input_size)):
            raise ReproError(f"model {text!r} takes {model.input_shape[0]}x{model.input_shape[1]} inputs; "
                             f"--input-size {input_size} is not possible for it")
        if preprocess is not None:
            model = dataclasses.replace(model, name=f"{model.name}+{preprocess}",
                                        preprocess=preprocess_function(preprocess), _cache={})
    problem = logit_problem(model.keras_model)
    if problem:
        raise ReproError(f"model {text!r}: {problem}")
    if gradcam_layer is not None:
        from repro.attributions.gradcam import gradcam_layer_problem

        bad = gradcam_layer_problem(model.keras_model, gradcam_layer)
        if bad:
            raise ReproError(f"--gradcam-layer: {bad}")
        if gradcam_layer != model.conv_layer:
            model = dataclasses.replace(model, name=f"{model.name}+gradcam={gradcam_layer}",
                                        conv_layer=gradcam_layer, _cache={})
    return model


__all__ = [
    "MODELS", "MODEL_NAMES", "MODEL_HELP", "PREPROCESS_MODES", "model_loader", "load_model", "registry_name",
    "is_model_file", "load_keras_file", "preprocess_function",
    "SCORE_MODES", "ImageModel", "ScoreMode", "logit_problem", "score_function", "strip_softmax", "top1_targets",
    "unit_preprocess",
    "CAFFE_BGR_MEANS", "build_vgg16", "load_vgg16", "vgg16_preprocess",
]
