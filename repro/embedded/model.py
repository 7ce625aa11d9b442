"""The embedded model: a small VGG-style classifier of the logic-shapes data (:mod:`repro.data.shapes`).

Architecture (input 64x64x3 in ``[0, 1]``, :func:`repro.models.unit_preprocess`, so the black baseline is 0)::

    conv1  Conv2D(16, 3x3, same, relu) -> pool1 MaxPooling2D(2)     # 32x32x16
    conv2  Conv2D(32, 3x3, same, relu) -> pool2 MaxPooling2D(2)     # 16x16x32
    conv3  Conv2D(32, 3x3, same, relu) -> pool3 MaxPooling2D(2)     #  8x8x32
    conv4  Conv2D(64, 3x3, same, relu) -> pool4 MaxPooling2D(2)     #  4x4x64  (conv4 is Grad-CAM's layer)
    flatten -> fc1 Dense(64, relu) -> predictions Dense(3, softmax)

Only layer types that DeepLIFT (kundajelab 0.6.13.0 Sequential converter), iNNvestigate 2.1.2 and tf-keras-vis
Grad-CAM all handle: Conv2D with fused ReLU, MaxPooling2D, Flatten, Dense. No BatchNorm, no Dropout, no global
pooling. Classes: ``A_and_B``, ``C_or_D``, ``neither`` (:data:`repro.data.shapes.CLASS_NAMES`).

Registered as ``"embedded"`` in :data:`repro.models.MODELS` (:func:`load_embedded`); this module imports only the
models core, never the registry.
"""

from __future__ import annotations

from pathlib import Path

from repro.data.shapes import CLASS_NAMES, SIZE
from repro.errors import WeightsNotFoundError
from repro.models.core import ImageModel, unit_preprocess

WEIGHTS_FILE = Path(__file__).with_name("embedded_vgg.h5")
"""The shipped weights (retrain with ``make embedded-model``)."""
REPORT_FILE = Path(__file__).with_name("embedded_vgg.json")
"""The training report shipped beside the weights (accuracy, seed, epochs, time, sanity rates)."""
CONV_LAYER = "conv4"
INPUT_SHAPE = (SIZE, SIZE, 3)


def build_embedded() -> "tf.keras.Model":  # noqa: F821
    """The untrained architecture of the module docstring (Keras initialisers; seed with
    ``tf.keras.utils.set_random_seed`` first for reproducible weights)."""
    import tensorflow as tf

    L = tf.keras.layers
    return tf.keras.Sequential([
        L.InputLayer(input_shape=INPUT_SHAPE, name="input"),
        L.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
        L.MaxPooling2D(2, name="pool1"),
        L.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
        L.MaxPooling2D(2, name="pool2"),
        L.Conv2D(32, 3, padding="same", activation="relu", name="conv3"),
        L.MaxPooling2D(2, name="pool3"),
        L.Conv2D(64, 3, padding="same", activation="relu", name=CONV_LAYER),
        L.MaxPooling2D(2, name="pool4"),
        L.Flatten(name="flatten"),
        L.Dense(64, activation="relu", name="fc1"),
        L.Dense(len(CLASS_NAMES), activation="softmax", name="predictions"),
    ], name="embedded_vgg")


def wrap(keras_model: "tf.keras.Model") -> ImageModel:  # noqa: F821
    """An :class:`~repro.models.ImageModel` around a model of this architecture (unit preprocessing)."""
    return ImageModel("embedded", keras_model, unit_preprocess, list(CLASS_NAMES), conv_layer=CONV_LAYER)


def load_embedded(weights: str | Path | None = None) -> ImageModel:
    """The embedded model with the shipped weights, or with ``weights`` (a ``.h5`` written by
    ``repro train-embedded --out``).

    Raises:
        WeightsNotFoundError: the file is missing or does not hold weights of this architecture.
    """
    path = WEIGHTS_FILE if weights is None else Path(weights).expanduser()
    hint = "retrain it with `make embedded-model` (or `repro train-embedded --out PATH`)"
    if not path.is_file():
        raise WeightsNotFoundError(f"{path}: no such embedded-model weights file; {hint}")
    model = build_embedded()
    try:
        model.load_weights(str(path))
    except Exception as exc:  # h5py/Keras raise several types for foreign or truncated files
        raise WeightsNotFoundError(f"{path}: not weights of the embedded model ({exc.__class__.__name__}: "
                                   f"{exc}); {hint}") from None
    return wrap(model)
