"""A ``.keras`` file saved by Keras 3 (today's Keras), rebuilt with the pinned Keras 2.14 without running any code
from the file.

Keras 2.14 cannot read Keras 3's format: the archive is the same (``metadata.json``, ``config.json``,
``model.weights.h5``) but the configs and the weights' layout differ. :func:`keras3_version` recognises such a
file by its ``metadata.json`` (``"keras_version": "3..."``); :func:`read_keras3_file` rebuilds the network from
``config.json`` with ``tf.keras`` layers and copies each layer's weights from ``model.weights.h5``:

* supported layers (:data:`LAYERS`): ``InputLayer``, ``Conv2D``, ``Dense``, ``MaxPooling2D``,
  ``AveragePooling2D``, ``GlobalAveragePooling2D``, ``GlobalMaxPooling2D``, ``Flatten``, ``BatchNormalization``,
  ``Dropout``, ``Activation``, ``ReLU``, ``Softmax``, with built-in activations named by a string; a functional or
  sequential model whose layers each take one input;
* weights: Keras 3 stores layer ``k`` of a class under ``layers/<snake_case class>[_k]/vars/<i>`` in the order the
  model lists its layers; they are set in that order (``kernel, bias``; ``gamma, beta, moving_mean,
  moving_variance``);
* anything else (a ``Lambda``, a custom or registered class, a layer with two inputs, a serialized function) is
  refused in one line naming the first such layer and the way out: save the weights (``model.save_weights``) and
  rebuild the network in Keras 2, or save it from Keras 2.

Only JSON and HDF5 arrays are read: nothing in the file is executed.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any, Callable

from repro.errors import ReproError

WAY_OUT = ("save its weights with model.save_weights() and rebuild the network with tf.keras 2.14, or save the "
           "model from Keras 2")

ACTIVATIONS: tuple[str, ...] = ("linear", "relu", "softmax", "sigmoid", "tanh", "elu", "selu", "softplus",
                                "softsign", "swish", "silu", "gelu", "exponential", "hard_sigmoid", "relu6")
"""The built-in activations a layer may name."""


def _activation(value: Any, where: str) -> str:
    if value is None:
        return "linear"
    if isinstance(value, str) and value in ACTIVATIONS:
        return value
    raise ReproError(f"{where}: activation {value!r} is not a built-in activation; {WAY_OUT}")


def _pair(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _conv2d(c: dict, where: str) -> dict:
    return {"filters": c["filters"], "kernel_size": _pair(c["kernel_size"]), "strides": _pair(c["strides"]),
            "padding": c["padding"], "data_format": c.get("data_format"), "dilation_rate": _pair(c["dilation_rate"]),
            "groups": c.get("groups", 1), "activation": _activation(c.get("activation"), where),
            "use_bias": c.get("use_bias", True)}


def _dense(c: dict, where: str) -> dict:
    return {"units": c["units"], "activation": _activation(c.get("activation"), where),
            "use_bias": c.get("use_bias", True)}


def _pool(c: dict, where: str) -> dict:
    return {"pool_size": _pair(c["pool_size"]), "strides": _pair(c.get("strides")), "padding": c["padding"],
            "data_format": c.get("data_format")}


def _global_pool(c: dict, where: str) -> dict:
    return {"data_format": c.get("data_format"), "keepdims": c.get("keepdims", False)}


def _batch_norm(c: dict, where: str) -> dict:
    axis = c.get("axis", -1)
    return {"axis": axis[0] if isinstance(axis, list) and len(axis) == 1 else axis, "momentum": c["momentum"],
            "epsilon": c["epsilon"], "center": c.get("center", True), "scale": c.get("scale", True)}


LAYERS: dict[str, tuple[str, Callable[[dict, str], dict]]] = {
    "Conv2D": ("Conv2D", _conv2d),
    "Dense": ("Dense", _dense),
    "MaxPooling2D": ("MaxPooling2D", _pool),
    "AveragePooling2D": ("AveragePooling2D", _pool),
    "GlobalAveragePooling2D": ("GlobalAveragePooling2D", _global_pool),
    "GlobalMaxPooling2D": ("GlobalMaxPooling2D", _global_pool),
    "Flatten": ("Flatten", lambda c, w: {"data_format": c.get("data_format")}),
    "BatchNormalization": ("BatchNormalization", _batch_norm),
    "Dropout": ("Dropout", lambda c, w: {"rate": c["rate"]}),
    "Activation": ("Activation", lambda c, w: {"activation": _activation(c.get("activation"), w)}),
    "ReLU": ("ReLU", lambda c, w: {"max_value": c.get("max_value"), "negative_slope": c.get("negative_slope", 0.0),
                                   "threshold": c.get("threshold", 0.0)}),
    "Softmax": ("Softmax", lambda c, w: {"axis": c.get("axis", -1)}),
}
"""Keras 3 class name -> (tf.keras 2.14 layer class, the translation of its config)."""


def keras3_version(path: str | Path) -> str | None:
    """The ``keras_version`` of a ``.keras`` archive's ``metadata.json`` when it is 3 or later, else ``None`` (an
    older archive, an ``.h5`` file or not a zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            version = str(json.loads(archive.read("metadata.json")).get("keras_version", ""))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None
    major = version.split(".")[0]
    return version if major.isdigit() and int(major) >= 3 else None


def _snake(name: str) -> str:
    """Keras 3's ``to_snake_case`` of a class name (``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` ->
    ``max_pooling2d``, ``InputLayer`` -> ``input_layer``)."""
    text = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", text).lower()


def _inputs(layer: dict, where: str) -> list[str]:
    """The names of the layers whose outputs feed ``layer`` (functional config); refused unless exactly one."""
    names = []
    for node in layer.get("inbound_nodes", []):
        for arg in node.get("args", []):
            history = arg.get("config", {}).get("keras_history") if isinstance(arg, dict) else None
            if history is None:
                raise ReproError(f"{where}: its input is not a single tensor; {WAY_OUT}")
            names.append(history[0])
    if len(names) != 1:
        raise ReproError(f"{where}: takes {len(names)} inputs (only chains of one-input layers are rebuilt); "
                         f"{WAY_OUT}")
    return names


def _endpoints(entry: list, built: dict[str, Any]) -> list[Any]:
    """The tensors a functional config's ``input_layers`` / ``output_layers`` name: ``[name, 0, 0]`` (one) or a
    list of those."""
    entries = [entry] if entry and isinstance(entry[0], str) else entry
    return [built[e[0]] for e in entries]


def read_keras3_file(path: str | Path) -> "tf.keras.Model":  # noqa: F821
    """The model of a Keras 3 ``.keras`` file rebuilt with ``tf.keras`` (see the module docstring).

    Raises:
        ReproError: (one line naming the file) an unsupported layer, activation or topology, or weights that do
            not match the rebuilt layers.
    """
    import io

    import h5py
    import tensorflow as tf

    path = Path(path)
    version = keras3_version(path)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        weights = archive.read("model.weights.h5")
    kind = config.get("class_name")
    if kind not in ("Functional", "Sequential"):
        raise ReproError(f"model file {path} (Keras {version}): a {kind} model, not a functional or sequential one; "
                         f"{WAY_OUT}")
    layers = config["config"]["layers"]
    built: dict[str, Any] = {}
    rebuilt: list[tuple[str, Any]] = []  # (Keras 3 class name, tf.keras layer) in the file's order
    previous = None
    if kind == "Sequential" and layers[0]["class_name"] != "InputLayer":
        raise ReproError(f"model file {path} (Keras {version}): a sequential model without an input shape; {WAY_OUT}")
    for spec in layers:
        name = spec["config"].get("name", spec.get("name"))
        where = f"model file {path} (Keras {version}): layer {name!r} ({spec['class_name']})"
        if spec.get("registered_name") not in (None, spec["class_name"]) or spec.get("module") not in (
                "keras.layers", None):
            raise ReproError(f"{where} is a custom class; {WAY_OUT}")
        if spec["class_name"] == "InputLayer":
            shape = spec["config"].get("batch_shape") or [None, *spec["config"]["batch_input_shape"][1:]]
            tensor = tf.keras.Input(shape=tuple(shape[1:]), name=name)
            rebuilt.append(("InputLayer", None))
        else:
            if spec["class_name"] not in LAYERS:
                raise ReproError(f"{where} cannot be mapped to Keras 2.14 (supported: {', '.join(LAYERS)}); "
                                 f"{WAY_OUT}")
            target, translate = LAYERS[spec["class_name"]]
            layer = getattr(tf.keras.layers, target)(name=name, **translate(spec["config"], where))
            source = previous if kind == "Sequential" else built[_inputs(spec, where)[0]]
            tensor = layer(source)
            rebuilt.append((spec["class_name"], layer))
        built[name] = previous = tensor
    if kind == "Sequential":
        inputs, outputs = [built[layers[0]["config"]["name"]]], [previous]
    else:
        inputs, outputs = (_endpoints(config["config"][key], built) for key in ("input_layers", "output_layers"))
    if len(inputs) != 1 or len(outputs) != 1:
        raise ReproError(f"model file {path} (Keras {version}): {len(inputs)} inputs and {len(outputs)} outputs "
                         f"(an image classifier has one of each)")
    model = tf.keras.Model(inputs[0], outputs[0], name=config["config"].get("name", path.stem))
    seen: dict[str, int] = {}
    with h5py.File(io.BytesIO(weights), "r") as store:
        for class_name, layer in rebuilt:
            key = _snake(class_name)
            group = key if seen.get(key, 0) == 0 else f"{key}_{seen[key]}"
            seen[key] = seen.get(key, 0) + 1
            if layer is None or not layer.weights:
                continue
            variables = store.get(f"layers/{group}/vars")
            values = [variables[str(i)][()] for i in range(len(variables))] if variables is not None else []
            try:
                layer.set_weights(values)
            except ValueError as exc:
                raise ReproError(f"model file {path} (Keras {version}): layer {layer.name!r}: its weights "
                                 f"(layers/{group}) do not fit the rebuilt layer ({' '.join(str(exc).split())[:200]})"
                                 ) from None
    return model
