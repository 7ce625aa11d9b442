"""The model record every stage shares, its preprocessors, and the two rules the criteria need of any model: which
output they read (:func:`score_function`) and which class they explain by default (:func:`top1_targets`).

An :class:`ImageModel` bundles what every later stage needs and nothing else:

* ``keras_model``: a Keras classifier ``(N, H, W, C) -> (N, classes)`` whose last layer ends in a softmax;
* ``preprocess``: raw RGB pixels in ``[0, 255]`` -> model input space (VGG16: Caffe-style BGR mean subtraction,
  :mod:`repro.models.vgg16`; the embedded model: :func:`unit_preprocess`);
* ``baseline``: the all-black raw image carried through ``preprocess``. For VGG16 this is ``-[103.939, 116.779,
  123.68]`` (BGR) in every pixel, *not* zero: "removing" a pixel means setting it to this value;
* :meth:`ImageModel.score_model`: a class score the criteria can read, softmax probability or pre-softmax logit,
  sharing weights with ``keras_model``.

Attribution methods explain the pre-softmax logit (``logits_model``), as iNNvestigate, deeplift and tf-keras-vis
do. A study reads both scores from the same forwards and reports the logit by default (the ``score`` reading of
:mod:`repro.readings`; the argument is in ``docs/criteria.md``).

This module imports no model family: the named models and their loaders are the registry of :mod:`repro.models`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence

import numpy as np

from repro.errors import ReproError
from repro.readings import READINGS

ScoreMode = Literal["logit", "probability"]
SCORE_MODES: tuple[str, ...] = READINGS["score"]
"""The class scores the criteria can read: the pre-softmax logit (the study's default) or the softmax probability."""


def unit_preprocess(raw: np.ndarray) -> np.ndarray:
    """Scale raw RGB ``[0, 255]`` to ``[0, 1]``; black maps to 0. Used by the embedded model."""
    return np.asarray(raw, dtype=np.float32) / np.float32(255.0)


@dataclass
class ImageModel:
    """A classifier plus everything the study needs to explain and perturb it. See the module docstring."""

    name: str
    keras_model: "tf.keras.Model"  # noqa: F821 - imported lazily
    preprocess: Callable[[np.ndarray], np.ndarray]
    class_names: Sequence[str]
    conv_layer: str
    """Name of the last convolutional layer (Grad-CAM's layer)."""
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of one model input."""
        return tuple(int(d) for d in self.keras_model.input_shape[1:])

    @property
    def num_classes(self) -> int:
        return int(self.keras_model.output_shape[-1])

    @property
    def baseline(self) -> np.ndarray:
        """The black image in model input space, ``(H, W, C)`` float32: ``preprocess(zeros)``."""
        if "baseline" not in self._cache:
            self._cache["baseline"] = self.preprocess(np.zeros((1, *self.input_shape), np.float32))[0]
        return self._cache["baseline"]

    @property
    def logits_model(self) -> "tf.keras.Model":  # noqa: F821
        """``keras_model`` with its final softmax removed (shares weights)."""
        if "logits" not in self._cache:
            self._cache["logits"] = strip_softmax(self.keras_model)
        return self._cache["logits"]

    def score_model(self, mode: ScoreMode = "probability") -> "tf.keras.Model":  # noqa: F821
        """The model whose outputs the criteria read: probabilities (``keras_model``) or logits."""
        if mode == "probability":
            return self.keras_model
        if mode == "logit":
            return self.logits_model
        raise ReproError(f"unknown score mode {mode!r}; choose one of {SCORE_MODES}")

    def predict(self, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """Softmax probabilities ``(N, classes)`` for model-space inputs ``x`` ``(N, H, W, C)``."""
        from repro.batching import map_batches

        if "forward" not in self._cache:  # one tf.function per model: traced once, not once per call
            self._cache["forward"] = _compiled_forward(self.keras_model)
        fn = self._cache["forward"]
        return map_batches(lambda b: fn(b).numpy(), np.asarray(x, np.float32), batch_size=batch_size)


def _compiled_forward(model):
    import tensorflow as tf

    return tf.function(lambda b: model(b, training=False), reduce_retracing=True)


SOFTMAX_NAMES: tuple[str, ...] = ("softmax", "softmax_v2")
"""How a softmax activation is written in a layer's config (``tf.nn.softmax`` serialises as ``softmax_v2``)."""
SOFTMAX_OPS: tuple[str, ...] = ("nn.softmax", "math.softmax", "keras.activations.softmax")
"""``TFOpLambda`` symbols of a softmax applied as a function in the functional API (``tf.nn.softmax(x)``)."""


def output_layer(model: Any) -> Any:
    """The layer producing the (single) output of a Keras model: ``model.layers[-1]`` for a Sequential, the output
    tensor's own layer for a Functional model (whose ``layers`` list need not end with it)."""
    outputs = getattr(model, "outputs", None) or []
    if model.__class__.__name__ != "Sequential" and len(outputs) == 1 and hasattr(outputs[0], "_keras_history"):
        return outputs[0]._keras_history.layer
    return model.layers[-1]


def activation_name(layer: Any) -> str | None:
    """The name of a layer's ``activation`` setting (``"relu"``, ``"softmax"``, ...), ``None`` if it has none."""
    act = getattr(layer, "activation", None)
    if act is None:
        return None
    name = layer.get_config().get("activation") if hasattr(layer, "get_config") else None
    if isinstance(name, dict):  # a serialised activation object
        name = name.get("config", {}).get("name") or name.get("class_name")
    return str(name if name is not None else getattr(act, "__name__", act))


def _softmax_layer_kind(model: Any) -> str | None:
    """``"layer"`` if ``model``'s output layer is a ``Softmax`` / ``Activation("softmax")`` layer or a softmax
    applied as a function (``TFOpLambda``) over the last axis, ``"activation"`` if it is a layer with a fused softmax
    activation (``Dense(activation="softmax")``), else ``None``."""
    import tensorflow as tf

    last = output_layer(model)
    if isinstance(last, tf.keras.layers.Softmax):
        axis = last.get_config().get("axis", -1)
        return "layer" if axis in (-1, [-1], 1, [1]) else None
    if last.__class__.__name__ == "TFOpLambda" and getattr(last, "symbol", None) in SOFTMAX_OPS:
        nodes = getattr(last, "inbound_nodes", None) or []
        axis = nodes[0].call_kwargs.get("axis", -1) if nodes and hasattr(nodes[0], "call_kwargs") else -1
        return "layer" if axis in (-1, 1) else None
    name = activation_name(last)
    if name in SOFTMAX_NAMES:
        return "layer" if isinstance(last, tf.keras.layers.Activation) else "activation"
    return None


def logit_problem(model: Any) -> str | None:
    """Why no pre-softmax logit can be read from ``model`` (one line), or ``None`` when :func:`strip_softmax` finds
    it: the output layer must be a final softmax, as a separate layer or a fused activation."""
    if _softmax_layer_kind(model) is not None:
        return None
    last = output_layer(model)
    act = activation_name(last)
    what = f"{last.__class__.__name__}" + (f" with activation {act!r}" if act is not None else "")
    return (f"no identifiable logit: the model does not end in a softmax (its output layer {last.name!r} is a {what}); "
            "the class score is the input of a final softmax, so save the model with Dense(..., "
            "activation='softmax') or a Softmax layer at the end")


def strip_softmax(model: "tf.keras.Model") -> "tf.keras.Model":  # noqa: F821
    """Return a model computing the pre-softmax logits of ``model``, sharing its weights.

    Handles the two ways Keras ends a classifier: a layer with a fused softmax activation
    (``Dense(activation="softmax")``: VGG16, the embedded model, most ``keras.applications`` networks), or a
    separate ``Softmax`` / ``Activation("softmax")`` layer or ``tf.nn.softmax`` call, whose input is the logit.
    Raises :class:`ReproError` (:func:`logit_problem`) otherwise.
    """
    import tensorflow as tf

    last = output_layer(model)
    kind = _softmax_layer_kind(model)
    if kind == "layer":
        return tf.keras.Model(model.inputs, last.input, name=f"{model.name}_logits")
    if kind == "activation":
        cfg = last.get_config()
        cfg["activation"] = "linear"
        cfg["name"] = f"{last.name}_logits"
        linear = last.__class__.from_config(cfg)
        out = linear(last.input)
        linear.set_weights(last.get_weights())
        # Share variables rather than copy them so later weight changes are seen by both models.
        linear.kernel = last.kernel
        if getattr(last, "bias", None) is not None:
            linear.bias = last.bias
        return tf.keras.Model(model.inputs, out, name=f"{model.name}_logits")
    raise ReproError(f"model {model.name!r}: {logit_problem(model)}")


_KERAS_LOGITS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
"""Keras model -> its :func:`strip_softmax` model, built once (so the criteria engine compiled for it is reused);
weak, so a deleted model frees its logits model."""


def has_logit_and_probability(model: Any) -> bool:
    """Whether both class scores of ``model`` exist: an :class:`ImageModel`, or a Keras model whose last layer ends
    in a softmax (its logits are the input of that softmax). A plain callable, or a Keras model without a final
    softmax, has only its own output."""
    if isinstance(model, ImageModel):
        return True
    if not callable(model):
        return False
    import tensorflow as tf

    return isinstance(model, tf.keras.Model) and _softmax_layer_kind(model) is not None


def score_function(model: Any, score: str | None = None) -> Callable:
    """The function whose outputs the criteria read for ``model`` under ``score``.

    * :class:`ImageModel`: ``model.score_model(score)``; ``None`` means ``"probability"`` (its own output).
    * Keras model whose last layer ends in a softmax: ``None`` or ``"probability"`` use it as it is, ``"logit"``
      its :func:`strip_softmax` model (built once per model).
    * Any other Keras model or callable ``(B, H, W, C) -> (B, classes)``: what its outputs are is unknown, so they
      are used as they are and ``score`` must be ``None``.

    Raises:
        ValueError: ``score`` not ``None`` nor one of :data:`SCORE_MODES`; a ``score`` for a model whose output
            kind is unknown (never silently ignored).
    """
    if score is not None and score not in SCORE_MODES:
        raise ValueError(f"unknown score {score!r}; choose one of {SCORE_MODES} or None (the model's own output)")
    if isinstance(model, ImageModel):
        return model.score_model(score or "probability")
    if not callable(model):
        raise ValueError(f"model must be an ImageModel, a Keras model or a callable, got {type(model).__name__}")
    if score is None:
        return model
    if not has_logit_and_probability(model):
        raise ValueError(f"score={score!r} needs an ImageModel or a Keras model ending in a softmax; the outputs of "
                         f"a plain callable (or a Keras model without a final softmax) are used as they are: pass "
                         f"score=None")
    if score == "probability":
        return model
    if model not in _KERAS_LOGITS:
        _KERAS_LOGITS[model] = strip_softmax(model)
    return _KERAS_LOGITS[model]


def top1_targets(model: Any, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """The default target class of each image: the model's top-1 prediction, ``(N,)`` int64.

    The one top-1 rule of the project (pipeline, commands, :func:`repro.criteria.evaluate`, benchmarks).

    Args:
        model: an :class:`ImageModel`, or any object with its ``predict(x, batch_size)`` that is not itself
            callable (argmax of the predictions), or a Keras model / callable ``(B, H, W, C) float32 ->
            (B, classes)`` (argmax of its own outputs).
        x: ``(N, H, W, C)`` model-space inputs.
        batch_size: forwards per call; changes no target.
    """
    if isinstance(model, ImageModel) or (hasattr(model, "predict") and not callable(model)):
        outputs = model.predict(x, batch_size=batch_size)
    else:
        import tensorflow as tf

        from repro.batching import map_batches

        outputs = map_batches(lambda b: np.asarray(model(tf.constant(b))), np.asarray(x, np.float32),
                              batch_size=batch_size)
    return np.argmax(outputs, axis=-1).astype(np.int64)
