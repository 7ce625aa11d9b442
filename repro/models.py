"""Models the study explains, with their preprocessing, black baseline and class-score function.

An :class:`ImageModel` bundles what every later stage needs and nothing else:

* ``keras_model``: a Keras classifier ``(N, H, W, C) -> (N, classes)`` whose last layer ends in a softmax;
* ``preprocess``: raw RGB pixels in ``[0, 255]`` -> model input space (VGG16: Caffe-style BGR mean subtraction);
* ``baseline``: the all-black raw image carried through ``preprocess``. For VGG16 this is ``-[103.939, 116.779,
  123.68]`` (BGR) in every pixel, *not* zero: "removing" a pixel means setting it to this value;
* :meth:`ImageModel.score_model`: the class score the criteria read, softmax probability (default) or the
  pre-softmax logit, sharing weights with ``keras_model``.

Attribution methods explain the pre-softmax logit (``logits_model``), as iNNvestigate, deeplift and tf-keras-vis
do; the criteria read the probability unless told otherwise (see ``docs/criteria.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal, Sequence

import numpy as np

from repro.errors import ReproError, WeightsNotFoundError

ScoreMode = Literal["probability", "logit"]
SCORE_MODES: tuple[str, ...] = ("probability", "logit")

VGG16_INPUT_SHAPE = (224, 224, 3)
CAFFE_BGR_MEANS = np.array([103.939, 116.779, 123.68], dtype=np.float32)
VGG16_WEIGHTS_HELP = (
    "VGG16 ImageNet weights are needed. With internet, use --weights imagenet (Keras downloads "
    "vgg16_weights_tf_dim_ordering_tf_kernels.h5 to ~/.keras/models/). Offline, copy that file to "
    "~/.keras/models/ or pass --weights /path/to/vgg16_weights_tf_dim_ordering_tf_kernels.h5."
)


def vgg16_preprocess(raw: np.ndarray) -> np.ndarray:
    """Caffe preprocessing of ``keras.applications.vgg16``: RGB -> BGR, then subtract the ImageNet BGR means.

    Args:
        raw: ``(N, H, W, 3)`` or ``(H, W, 3)`` RGB in ``[0, 255]``. Never modified (Keras's own function mutates
            float arrays in place, so it is called on a copy).
    Returns:
        float32 array of the same shape, in VGG16 input space.
    """
    from tensorflow.keras.applications import vgg16

    return vgg16.preprocess_input(np.array(raw, dtype=np.float32, copy=True))


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


def strip_softmax(model: "tf.keras.Model") -> "tf.keras.Model":  # noqa: F821
    """Return a model computing the pre-softmax logits of ``model``, sharing its weights.

    Handles the two ways Keras ends a classifier: a ``Dense(activation="softmax")`` (VGG16, the embedded model),
    or a separate ``Softmax``/``Activation("softmax")`` layer. Raises :class:`ReproError` otherwise.
    """
    import tensorflow as tf

    last = model.layers[-1]
    act = getattr(last, "activation", None)
    if isinstance(last, tf.keras.layers.Softmax) or (
        isinstance(last, tf.keras.layers.Activation) and act is tf.keras.activations.softmax
    ):
        return tf.keras.Model(model.inputs, model.layers[-2].output, name=f"{model.name}_logits")
    if act is tf.keras.activations.softmax:
        cfg = last.get_config()
        cfg["activation"] = "linear"
        cfg["name"] = f"{last.name}_logits"
        linear = last.__class__.from_config(cfg)
        out = linear(last.input)
        linear.set_weights(last.get_weights())
        # Share variables rather than copy them so later weight changes are seen by both models.
        linear.kernel, linear.bias = last.kernel, last.bias
        return tf.keras.Model(model.inputs, out, name=f"{model.name}_logits")
    raise ReproError(f"model {model.name!r} does not end in a softmax; its last layer is {last.name!r}")


def top1_targets(probabilities: np.ndarray) -> np.ndarray:
    """The default target class of each image: the model's top-1 prediction, ``(N,)`` int64."""
    return np.argmax(np.asarray(probabilities), axis=-1).astype(np.int64)


def build_vgg16(weights: str | Path | None = None) -> "tf.keras.Model":  # noqa: F821
    """``keras.applications.VGG16`` with ``weights`` = ``"imagenet"`` (Keras download/cache), a local ``.h5``
    path, or ``None`` (random initialisation; same architecture and FLOPs, used by tests).

    Raises :class:`WeightsNotFoundError` with :data:`VGG16_WEIGHTS_HELP` when the file is missing or the
    download fails, never a long traceback.
    """
    import tensorflow as tf

    if weights is None or str(weights).lower() in ("none", "random"):
        return tf.keras.applications.VGG16(weights=None)
    if str(weights) == "imagenet":
        try:
            return tf.keras.applications.VGG16(weights="imagenet")
        except Exception as exc:  # network error, HTTP error, truncated cache file
            raise WeightsNotFoundError(f"could not download VGG16 weights ({exc.__class__.__name__}: "
                                       f"{exc}). {VGG16_WEIGHTS_HELP}") from None
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError(f"{path}: no such weights file. {VGG16_WEIGHTS_HELP}")
    try:
        return tf.keras.applications.VGG16(weights=str(path))
    except Exception as exc:
        raise WeightsNotFoundError(f"{path}: not a VGG16 weights file ({exc.__class__.__name__}: {exc}). "
                                   f"{VGG16_WEIGHTS_HELP}") from None


def load_vgg16(weights: str | Path | None = "imagenet") -> ImageModel:
    """VGG16 as the paper uses it: Keras's own architecture and Caffe preprocessing, 1000 ImageNet classes."""
    from repro.data.imagenet import class_names

    model = build_vgg16(weights)
    return ImageModel("vgg16", model, vgg16_preprocess, class_names(), conv_layer="block5_conv3")


MODEL_NAMES: tuple[str, ...] = ("vgg16", "embedded")


def load_model(name: str, weights: str | Path | None = None) -> ImageModel:
    """Load a model by name: ``"vgg16"`` (``weights`` as in :func:`build_vgg16`) or ``"embedded"`` (the small
    offline model shipped in the repo; ``weights`` may point at a retrained file)."""
    if name == "vgg16":
        return load_vgg16(weights if weights is not None else "imagenet")
    if name == "embedded":
        from repro.embedded.model import load_embedded

        return load_embedded(weights)
    raise ReproError(f"unknown model {name!r}; choose one of {MODEL_NAMES}")

