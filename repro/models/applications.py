"""Every ``keras.applications`` network by name: constructor, weights, input size and its module's preprocessing.

:data:`NETWORKS` lists the constructors of ``tf.keras.applications`` (Keras 2.14) except ``VGG16``, which keeps the
paper's own loader (:mod:`repro.models.vgg16`). Each is registered in :data:`repro.models.MODELS` under its name in
lower case (``resnet50``, ``inceptionv3``, ``mobilenetv2``, ``densenet121``, ``efficientnetb0``, ...), its loader
being ``load_<name>`` of this module; ``--model ResNet50`` works too (names are matched case-insensitively).

What a name chooses, automatically:

* the constructor, ``include_top=True`` (the 1000 ImageNet classes, ending in ``Dense(1000, softmax)``, whose input
  is the logit);
* the preprocessing: ``tf.keras.applications.<module>.preprocess_input`` of the constructor's own module
  (:func:`repro.models.preprocessing.keras_module_preprocess`; ResNet50: Caffe, MobileNetV2: ``x / 127.5 - 1``,
  DenseNet: torch, EfficientNet: none, the network rescales inside), so the black baseline is that function of
  raw zeros;
* the input size: the constructor's default (224, or 299 for InceptionV3, ...) unless ``input_size`` is given;
* Grad-CAM's layer: :func:`repro.attributions.gradcam.find_gradcam_layer` (ResNet50: ``conv5_block3_out``).

Weights: ``"imagenet"`` (the default) lets Keras download the file into ``~/.keras/models/`` (the network's own
file; offline, put it there or pass its path); a path to a local ``.h5`` weights file; ``"random"`` (or ``None``,
``"none"``): Keras's initialisers, seeded with :data:`RANDOM_WEIGHTS_SEED` so that two loads are the same network
(used by the tests; the numbers then say nothing about the images). Keras only accepts the ImageNet weights at the
default input size (MobileNet and friends: at one of its listed sizes); another ``input_size`` needs random or
matching local weights, and is refused with Keras's reason otherwise.
"""

from __future__ import annotations

import random as _random
from pathlib import Path
from typing import Callable

import numpy as np

from repro.errors import ReproError, WeightsNotFoundError
from repro.models.core import ImageModel

NETWORKS: tuple[str, ...] = (
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
    "DenseNet121", "DenseNet169", "DenseNet201",
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5",
    "EfficientNetB6", "EfficientNetB7",
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2L",
    "EfficientNetV2M", "EfficientNetV2S",
    "InceptionResNetV2", "InceptionV3",
    "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small",
    "NASNetLarge", "NASNetMobile",
    "RegNetX002", "RegNetX004", "RegNetX006", "RegNetX008", "RegNetX016", "RegNetX032", "RegNetX040", "RegNetX064",
    "RegNetX080", "RegNetX120", "RegNetX160", "RegNetX320",
    "RegNetY002", "RegNetY004", "RegNetY006", "RegNetY008", "RegNetY016", "RegNetY032", "RegNetY040", "RegNetY064",
    "RegNetY080", "RegNetY120", "RegNetY160", "RegNetY320",
    "ResNet101", "ResNet101V2", "ResNet152", "ResNet152V2", "ResNet50", "ResNet50V2",
    "ResNetRS101", "ResNetRS152", "ResNetRS200", "ResNetRS270", "ResNetRS350", "ResNetRS420", "ResNetRS50",
    "VGG19", "Xception",
)
"""Constructor names of ``tf.keras.applications`` (VGG16 aside); a test checks this is every one of them."""

CONSTRUCTORS: dict[str, str] = {name.lower(): name for name in NETWORKS}
"""Registry name (lower case) -> constructor name."""

RANDOM_WEIGHTS_SEED = 0
"""Seed of Keras's initialisers for ``weights="random"``."""

_RANDOM = ("random", "none")


def keras_module(constructor: str) -> str:
    """The ``tf.keras.applications`` submodule of a constructor (``ResNet50`` -> ``resnet``), whose
    ``preprocess_input`` the network uses."""
    import tensorflow as tf

    return getattr(tf.keras.applications, constructor).__module__.rsplit(".", 1)[-1]


WEIGHTS_FILES: dict[str, str] = {"VGG16": "vgg16_weights_tf_dim_ordering_tf_kernels.h5"}
"""The file Keras downloads for a network's ImageNet weights, where the help names it (the paper's network)."""


def weights_help(constructor: str) -> str:
    """What to do when a network's ImageNet weights are missing (the end of a WeightsNotFoundError line)."""
    file = WEIGHTS_FILES.get(constructor)
    offline = (f"copy {file} there or pass --weights /path/to/{file}" if file else
               "copy the file Keras would download there, or pass --weights /path/to/weights.h5")
    return (f"{constructor} ImageNet weights are needed. With internet, use --weights imagenet (Keras downloads "
            f"{file or 'them'} into ~/.keras/models/). Offline, {offline}; --weights random builds the network "
            f"untrained (seed {RANDOM_WEIGHTS_SEED}).")


def build_application(constructor: str, weights: str | Path | None = "imagenet",
                      input_size: int | None = None) -> "tf.keras.Model":  # noqa: F821
    """``tf.keras.applications.<constructor>(weights=..., input_shape=(s, s, 3) if input_size)``.

    Raises:
        WeightsNotFoundError: download failed, or no such local file / not weights of this network.
        ReproError: an input size Keras refuses (too small, or not allowed with these weights).
    """
    import tensorflow as tf

    ctor = getattr(tf.keras.applications, constructor)
    kwargs = {} if input_size is None else {"input_shape": (int(input_size), int(input_size), 3)}
    if weights is None or str(weights).lower() in _RANDOM:
        np_state, py_state = np.random.get_state(), _random.getstate()
        tf.keras.utils.set_random_seed(RANDOM_WEIGHTS_SEED)  # the same untrained network at every load
        try:
            return _construct(ctor, constructor, weights=None, **kwargs)
        finally:
            np.random.set_state(np_state)
            _random.setstate(py_state)
    if str(weights) == "imagenet":
        try:
            return _construct(ctor, constructor, weights="imagenet", **kwargs)
        except ReproError:
            raise
        except Exception as exc:  # network error, HTTP error, truncated cache file
            raise WeightsNotFoundError(f"could not download {constructor} weights ({exc.__class__.__name__}: "
                                       f"{exc}). {weights_help(constructor)}") from None
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError(f"{path}: no such weights file. {weights_help(constructor)}")
    try:
        return _construct(ctor, constructor, weights=str(path), **kwargs)
    except ReproError:
        raise
    except Exception as exc:
        raise WeightsNotFoundError(f"{path}: not {constructor} weights ({exc.__class__.__name__}: "
                                   f"{str(exc).splitlines()[0] if str(exc) else ''}). "
                                   f"{weights_help(constructor)}") from None


def _construct(ctor: Callable, constructor: str, **kwargs) -> "tf.keras.Model":  # noqa: F821
    """Call the constructor; Keras's ``ValueError`` about ``input_shape`` becomes one line naming the network."""
    try:
        return ctor(**kwargs)
    except ValueError as exc:
        text = " ".join(str(exc).split())
        if "input" in text.lower() and "shape" in text.lower() or "size" in text.lower():
            raise ReproError(f"{constructor}: input size {kwargs.get('input_shape', ('default',))[0]} refused by "
                             f"Keras: {text}") from None
        raise


def load_application(constructor: str, weights: str | Path | None = "imagenet", *,
                     input_size: int | None = None) -> ImageModel:
    """The ``keras.applications`` network ``constructor`` as an :class:`ImageModel` (module docstring).

    The model's name (part of every map's cache key) is the registry name, with ``@<size>px`` when the input size
    is not the constructor's default.
    """
    from repro.attributions.gradcam import find_gradcam_layer
    from repro.data.imagenet import class_names
    from repro.models.preprocessing import keras_module_preprocess

    if constructor not in NETWORKS:
        raise ReproError(f"unknown keras.applications network {constructor!r}")
    keras_model = build_application(constructor, weights, input_size)
    name = constructor.lower()
    if input_size is not None and int(input_size) != DEFAULT_SIZES.get(constructor, 224):
        name += f"@{int(input_size)}px"
    names = class_names() if int(keras_model.output_shape[-1]) == 1000 else \
        [f"class_{i}" for i in range(int(keras_model.output_shape[-1]))]
    layer = find_gradcam_layer(keras_model, strict=False)
    return ImageModel(name, keras_model, keras_module_preprocess(keras_module(constructor)), names,
                      conv_layer=layer or "")


DEFAULT_SIZES: dict[str, int] = {
    "InceptionV3": 299, "InceptionResNetV2": 299, "Xception": 299, "NASNetLarge": 331, "EfficientNetB1": 240,
    "EfficientNetB2": 260, "EfficientNetB3": 300, "EfficientNetB4": 380, "EfficientNetB5": 456, "EfficientNetB6": 528,
    "EfficientNetB7": 600, "EfficientNetV2B1": 240, "EfficientNetV2B2": 260, "EfficientNetV2B3": 300,
    "EfficientNetV2S": 384, "EfficientNetV2M": 480, "EfficientNetV2L": 480, "ResNetRS50": 160, "ResNetRS101": 192,
    "ResNetRS200": 256, "ResNetRS270": 256, "ResNetRS350": 256, "ResNetRS420": 320,
}
"""Default input side of the constructors whose default is not 224 (a test builds each network of the issue and
checks its default); only used to name a model built at another size."""


def _make_loader(constructor: str) -> Callable[..., ImageModel]:
    def loader(weights: str | Path | None = "imagenet", *, input_size: int | None = None) -> ImageModel:
        return load_application(constructor, weights, input_size=input_size)

    loader.__name__ = f"load_{constructor.lower()}"
    loader.__doc__ = f"``keras.applications.{constructor}`` (see :func:`load_application`)."
    return loader


for _name, _constructor in CONSTRUCTORS.items():
    globals()[f"load_{_name}"] = _make_loader(_constructor)
del _name, _constructor
