"""What in a Keras model file would run Python code when loaded, found by reading its config (no code runs).

Keras 2.14's ``load_model`` rebuilds a ``Lambda`` layer from the Python bytecode stored in the file (``.h5``: always;
``.keras``: only with ``safe_mode=False``), and that code runs when the model is built, i.e. during the load. A
model file is data: :func:`check_model_code` reads the architecture JSON without building anything (the ``.h5``
attribute ``model_config``, the ``.keras`` archive's ``config.json``) and refuses a file with such a layer in one
line naming the layer, unless the user says they trust the file (``--trust-model-code``, in the spirit of Hugging
Face's ``trust_remote_code``). Every other layer is rebuilt from its class name and settings: a built-in class runs
Keras's own code only, and a custom class cannot load at all (this package never passes ``custom_objects``).
``TFOpLambda`` layers (TensorFlow operations used in a functional model, e.g. ``x * 2``) name a TensorFlow function
and store no code: they load safely.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, Iterator

from repro.errors import ReproError

CODE_LAYER_CLASSES: frozenset[str] = frozenset({"Lambda", "__lambda__"})
"""Class names of the serialized objects that carry Python code (Keras 2's Lambda layer; Keras 3's lambda)."""

TRUST_HINT = ("pass --trust-model-code if you trust the file (its code then runs), or rebuild the model without "
              "Lambda layers")
"""The way out named by every refusal."""


def read_model_config(path: str | Path) -> dict | None:
    """The architecture JSON of a ``.keras`` (``config.json`` of the archive) or ``.h5`` (the ``model_config``
    attribute) model file, read without building the model; ``None`` when the file holds none (e.g. weights only)
    or is not such a file (the loader then reports the problem)."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if "config.json" not in archive.namelist():
                    return None
                return json.loads(archive.read("config.json"))
        import h5py

        with h5py.File(path, "r") as f:
            text = f.attrs.get("model_config")
        if text is None:
            return None
        return json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def code_layers(config: Any) -> Iterator[str]:
    """The names of the layers in ``config`` (any nesting: functional models, Sequential, wrappers) whose
    deserialization runs code stored in the file."""
    if isinstance(config, dict):
        if config.get("class_name") in CODE_LAYER_CLASSES or config.get("function_type") == "lambda":
            inner = config.get("config")
            yield str((inner or {}).get("name", config.get("name", "?")) if isinstance(inner, dict)
                      else config.get("name", "?"))
            return
        for value in config.values():
            yield from code_layers(value)
    elif isinstance(config, list):
        for value in config:
            yield from code_layers(value)


def check_model_code(path: str | Path, trust: bool = False) -> None:
    """Refuse (one line naming the file and the first such layer) a model file whose loading would run code stored
    in it, unless ``trust``.

    Raises:
        ReproError: the file has a Lambda layer and ``trust`` is false.
    """
    if trust:
        return
    config = read_model_config(path)
    found = list(code_layers(config)) if config is not None else []
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ReproError(f"model file {path}: layer {found[0]!r}{more} is a Lambda layer, whose Python code stored "
                         f"in the file would run while loading it; {TRUST_HINT}")
