"""Your own classifier from a Keras model file (``.keras`` or ``.h5``/``.hdf5``) as an :class:`ImageModel`.

:func:`load_keras_file` reads the file with ``tf.keras.models.load_model(path, compile=False)`` (a ``.keras`` file
saved by Keras 3 is rebuilt instead, :mod:`repro.models.keras3_file`) and checks what the study needs of it, each
refusal one line naming the file:

* nothing in the file runs: a Lambda layer (Python code stored in the file, run by Keras while loading) is refused
  unless the caller trusts the file (``trust_code``, the CLI's ``--trust-model-code``),
  :mod:`repro.models.model_code`;

* one input ``(H, W, 3)`` (RGB) and one output ``(classes,)``; an input of free size (``None``) needs
  ``input_size``, which rebuilds the model at ``(S, S, 3)`` from its config with the same weights; a fixed size
  must equal ``input_size`` when that is given;
* an identifiable logit: a final softmax, as a ``Dense``/``Conv`` activation or a separate ``Softmax`` /
  ``Activation("softmax")`` layer (:func:`repro.models.core.logit_problem`);
* ``preprocess``: how raw RGB ``[0, 255]`` becomes the model's input, one of
  :data:`repro.models.preprocessing.PREPROCESS_MODES`; required, since a file does not say (``"none"`` when the
  model rescales inside, e.g. it starts with a ``Rescaling`` layer).

The model's name (part of every map's cache key) is ``file:<stem>:<12 hex of the file's SHA-1>:<preprocess>``, so
a changed file or preprocessing never reuses a map. Grad-CAM's layer is found automatically
(:func:`repro.attributions.gradcam.find_gradcam_layer`) unless the caller overrides it.
"""

from __future__ import annotations

from pathlib import Path

from repro.errors import ReproError
from repro.io import file_digest
from repro.models.core import ImageModel, logit_problem
from repro.models.keras3_file import keras3_version, read_keras3_file
from repro.models.model_code import check_model_code

MODEL_FILE_SUFFIXES: tuple[str, ...] = (".keras", ".h5", ".hdf5")
"""File name endings :func:`is_model_file` recognises."""


def is_model_file(name: str | Path) -> bool:
    """Whether ``--model`` names a model file (by its ending, or an existing file) rather than a registry name."""
    text = str(name)
    return text.lower().endswith(MODEL_FILE_SUFFIXES) or ("/" in text or "\\" in text) or Path(text).is_file()


def read_keras_file(path: str | Path, trust_code: bool = False) -> "tf.keras.Model":  # noqa: F821
    """``tf.keras.models.load_model(path, compile=False)``; any failure is one line naming the file. A file whose
    loading would run code stored in it (a Lambda layer) is refused unless ``trust_code``
    (:func:`repro.models.model_code.check_model_code`); Keras's own safe mode is on unless ``trust_code``."""
    import tensorflow as tf

    path = Path(path).expanduser()
    if not path.is_file():
        raise ReproError(f"model file {path}: " + ("is a folder, not a .keras or .h5 file" if path.exists()
                                                   else "no such file"))
    if not str(path).lower().endswith(MODEL_FILE_SUFFIXES):
        raise ReproError(f"model file {path}: expected a .keras or .h5 file written by model.save()")
    if keras3_version(path):  # Keras 2.14 cannot read it: rebuilt layer by layer, nothing in it executed
        return read_keras3_file(path)
    check_model_code(path, trust=trust_code)
    try:
        model = tf.keras.models.load_model(str(path), compile=False, safe_mode=not trust_code)
    except Exception as exc:  # unknown custom layer, Lambda in safe mode, weights-only file, damaged file, ...
        text = " ".join(str(exc).split())
        raise ReproError(f"model file {path}: Keras cannot load it ({exc.__class__.__name__}: {text[:300]})") \
            from None
    if not isinstance(model, tf.keras.Model):
        raise ReproError(f"model file {path}: holds a {type(model).__name__}, not a Keras model")
    return model


def with_input_size(model: "tf.keras.Model", size: int) -> "tf.keras.Model":  # noqa: F821
    """The same network with input ``(size, size, C)``: rebuilt from its config, weights copied.

    Raises:
        ReproError: the architecture cannot be rebuilt at that size (e.g. a Flatten feeding a Dense fixes it).
    """
    import tensorflow as tf

    config = model.get_config()
    layers = config.get("layers", [])
    first = layers[0]["config"] if layers else {}
    channels = int(model.input_shape[-1])
    if layers and layers[0].get("class_name") == "InputLayer":
        first["batch_input_shape"] = (None, int(size), int(size), channels)
    elif layers:
        first["batch_input_shape"] = (None, int(size), int(size), channels)
    try:
        rebuilt = model.__class__.from_config(config)
        rebuilt.set_weights(model.get_weights())
    except Exception as exc:
        raise ReproError(f"model {model.name!r} cannot be rebuilt with input size {size} "
                         f"({exc.__class__.__name__}: {' '.join(str(exc).split())[:200]})") from None
    return rebuilt


def check_image_classifier(model: "tf.keras.Model", where: str) -> None:  # noqa: F821
    """Raise :class:`ReproError` unless ``model`` maps one ``(N, H, W, 3)`` input to one ``(N, classes)`` output
    ending in an identifiable softmax."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ReproError(f"{where}: the model must have one input and one output, it has {len(model.inputs)} and "
                         f"{len(model.outputs)}")
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[-1] != 3:
        raise ReproError(f"{where}: input shape {shape[1:]} is not an RGB image (H, W, 3)")
    out = tuple(model.output_shape)
    if len(out) != 2 or not out[-1] or out[-1] < 2:
        raise ReproError(f"{where}: output shape {out[1:]} is not a vector of class scores (classes,)")
    problem = logit_problem(model)
    if problem:
        raise ReproError(f"{where}: {problem}")


def load_keras_file(path: str | Path, weights: str | Path | None = None, *, preprocess: str | None = None,
                    input_size: int | None = None, trust_code: bool = False) -> ImageModel:
    """The classifier saved in ``path`` (module docstring).

    Args:
        path: a ``.keras`` or ``.h5`` file written by ``model.save``.
        weights: must be ``None``: the file holds its weights.
        preprocess: one of :data:`~repro.models.preprocessing.PREPROCESS_MODES` (required).
        input_size: side ``S`` of the input, required when the file's input size is free.
        trust_code: let Keras run the Python code stored in the file (Lambda layers); refused otherwise.
    Raises:
        ReproError: every problem of the module docstring, in one line naming the file.
    """
    from repro.attributions.gradcam import find_gradcam_layer
    from repro.models.preprocessing import PREPROCESS_MODES, preprocess_function

    path = Path(path).expanduser()
    if weights is not None:
        raise ReproError(f"model file {path}: --weights is for named networks; a model file holds its own weights")
    if preprocess is None:
        raise ReproError(f"model file {path}: say how raw RGB pixels in [0, 255] become its input: --preprocess "
                         f"{'|'.join(PREPROCESS_MODES)} ('none' if the model rescales inside)")
    function = preprocess_function(preprocess)
    model = read_keras_file(path, trust_code=trust_code)
    where = f"model file {path}"
    shape = tuple(model.input_shape) if len(model.inputs) == 1 else ()
    if len(shape) == 4:
        h, w = shape[1], shape[2]
        if h is None or w is None:
            if input_size is None:
                raise ReproError(f"{where}: its input size is free {shape[1:]}; give --input-size S")
            model = with_input_size(model, int(input_size))
        elif input_size is not None and (int(input_size), int(input_size)) != (h, w):
            raise ReproError(f"{where}: its input is {h}x{w}, not --input-size {input_size}")
        if model.input_shape[1] != model.input_shape[2]:
            raise ReproError(f"{where}: input {model.input_shape[1]}x{model.input_shape[2]} is not square; image "
                             "folders are read as centred squares")
    check_image_classifier(model, where)
    name = f"file:{path.stem}:{file_digest(path)[:12]}:{preprocess}"
    classes = int(model.output_shape[-1])
    return ImageModel(name, model, function, [f"class_{i}" for i in range(classes)],
                      conv_layer=find_gradcam_layer(model, strict=False) or "")
