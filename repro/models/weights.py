"""What identifies a model's weights in a run's settings and in every map's cache key: :func:`weights_id`.

Maps and criteria depend on the weights' numbers, not on the name of the file holding them, so a weights FILE is
identified by its content (SHA-1 prefix): retraining the embedded model in place (``make embedded-model``) or
replacing a local ``.h5`` changes the id, and a run or cache made with the old weights is then refused / not
reused. Weights that are not a file keep their name: ``"imagenet"`` (Keras checks the file hash of its download)
and ``"random"`` (seeded, :data:`repro.models.applications.RANDOM_WEIGHTS_SEED`). A ``.keras`` / ``.h5`` model
file holds its own weights: its id is the file's digest (also part of the model's name).
"""

from __future__ import annotations

from pathlib import Path

from repro.io import file_digest

DIGEST_CHARS = 16
"""Hex characters of the SHA-1 kept in an id (64 bits)."""


def weights_id(model: str, weights: str | Path | None) -> str:
    """The identity of the weights ``load_model(model, weights)`` uses (see the module docstring).

    Args:
        model: ``--model`` (a registry name or a model file path). weights: ``--weights`` (``None``: the loader's
            default: the shipped file for ``embedded``, ``"imagenet"`` for the ``keras.applications`` networks).
    Returns:
        ``"sha1:<16 hex>"`` for a file, else the weights' name in lower case. A file that does not exist gets its
        path (the model loader then refuses it in one line).
    """
    from repro.models import names_model_file, registry_name

    if weights is None:
        if registry_name(str(model)) == "embedded":
            from repro.embedded.model import WEIGHTS_FILE

            weights = WEIGHTS_FILE
        elif names_model_file(model):
            weights = model
        else:
            return "imagenet"
    text = str(weights)
    if text.lower() in ("imagenet", "random", "none"):
        return "random" if text.lower() == "none" else text.lower()
    path = Path(text).expanduser()
    return f"sha1:{file_digest(path)[:DIGEST_CHARS]}" if path.is_file() else text
