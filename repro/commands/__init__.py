"""One module per ``repro`` subcommand (``add_arguments`` + ``run``), and what they share: argument types
(:func:`steps_arg`, :func:`positive_int`, :func:`nonneg_int`), the curve sampling options of ``reproduce`` and
``evaluate`` (:func:`add_sampling_arguments`), the model and input-file options of ``attribute`` and
``evaluate`` (:func:`add_model_and_image_arguments`, choices from the registry :data:`repro.models.MODELS`), the
progress-bar switch of every command that has bars (:func:`add_progress_argument`) and the checks of user input
files (:func:`read_images`, :func:`load_images`, :func:`load_targets`; every error is a
:class:`~repro.errors.ReproError` naming the file)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def steps_arg(text: str) -> int | str:
    """``--steps``: a positive integer K (points per curve), ``"exact"`` (every pixel count) or ``"adaptive"``
    (refined until the error estimates are below ``--tol``); the words are returned as given
    (:func:`repro.config.sampling` reads them)."""
    from repro.config import EXACT
    from repro.criteria.adaptive import ADAPTIVE

    words = (EXACT, ADAPTIVE)
    return text if text in words else _int_at_least(text, 1, f"a positive integer, {' or '.join(map(repr, words))}")


def add_sampling_arguments(p: argparse.ArgumentParser, default_steps: int | str | None) -> None:
    """``--steps`` (:func:`steps_arg`) and ``--tol`` (given as typed; :func:`repro.config.sampling` checks it, so
    a bad value, or a ``--tol`` with a fixed grid or exact mode (``--steps K|exact``, or ``--quick``'s grid), is one
    error line, exit status 2; with the adaptive default a bare ``--tol`` is taken)."""
    from repro.config import EXACT
    from repro.criteria.adaptive import DEFAULT_TOL

    shown = EXACT if default_steps is None else default_steps
    p.add_argument("--steps", type=steps_arg, default=None,
                   help=f"curve sampling: points per curve K (exact whenever M <= K), 'exact' (every pixel count) or "
                        f"'adaptive' (refined until every criterion's error estimate is below --tol; default "
                        f"{shown})")
    p.add_argument("--tol", default=None, metavar="TOL",
                   help=f"with --steps adaptive: the relative error err / max(1, |value|) each criterion's estimate "
                        f"may keep (default {DEFAULT_TOL})")


def _int_at_least(text: str, low: int, kind: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {kind}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {kind}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (argparse type); anything else is refused naming the option."""
    return _int_at_least(text, 1, "a positive integer (>= 1)")


def nonneg_int(text: str) -> int:
    """An integer >= 0 (argparse type); anything else is refused naming the option."""
    return _int_at_least(text, 0, "a non-negative integer (>= 0)")


def add_trust_argument(p: argparse.ArgumentParser) -> None:
    """``--trust-model-code``: the only way a model file may run the Python code stored in it (a Lambda layer's);
    without it such a file is refused (:mod:`repro.models.model_code`)."""
    p.add_argument("--trust-model-code", action="store_true",
                   help="let a model file run the Python code stored in it (Lambda layers) while it loads; only for "
                        "files you trust (without it such a file is refused)")


def add_model_and_image_arguments(p: argparse.ArgumentParser) -> None:
    """``--model`` (a name of :data:`repro.models.MODELS` or a model file), ``--trust-model-code``, ``--weights``,
    ``--preprocess``, ``--input-size``, ``--images`` and ``--targets``."""
    from repro.models import MODEL_HELP, PREPROCESS_MODES

    p.add_argument("--model", default="embedded", help=f"{MODEL_HELP} (default embedded)")
    add_trust_argument(p)
    p.add_argument("--weights", default=None,
                   help="VGG16 and other keras.applications networks: 'imagenet', a local .h5 or 'random'; "
                        "embedded: a retrained .h5")
    p.add_argument("--preprocess", choices=PREPROCESS_MODES, default=None,
                   help="raw RGB [0, 255] -> model input (default: the model's own; required for a model file)")
    p.add_argument("--input-size", type=positive_int, default=None,
                   help="side of the square model input (default: the model's own)")
    p.add_argument("--images", type=Path, required=True, metavar="NPY|DIR",
                   help=".npy of raw RGB images (N, H, W, 3) in [0, 255] (image ids <stem>:<row>), or a folder of "
                        ".jpg/.png read as `repro reproduce --profile custom --images DIR` reads it: centre square, "
                        "resized to the model's input, conversions reported (image ids: the file names)")
    p.add_argument("--targets", type=Path, default=None, help=".npy of N class indices (default: top-1)")


PROGRESS_HELP = "progress bars on stderr (default: shown when stderr is a terminal; --no-progress hides them)"


def add_progress_argument(p: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress``, the same on every command that has progress bars: bars (on stderr)
    are shown by default when stderr is a terminal, hidden otherwise (a log file, a pipe); ``--progress`` shows
    them anyway, ``--no-progress`` hides them. Sets ``args.progress`` (bool)."""
    shown = bool(getattr(sys.stderr, "isatty", lambda: False)())
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=shown, help=PROGRESS_HELP)


def open_model_from_args(args: argparse.Namespace):
    """:func:`repro.models.load_model` with the model options of :func:`add_model_and_image_arguments` (and
    ``--gradcam-layer`` where the command has it)."""
    from repro.models import load_model

    options = {"preprocess": args.preprocess, "input_size": args.input_size,
               "gradcam_layer": getattr(args, "gradcam_layer", None)}
    return load_model(args.model, args.weights, trust_code=args.trust_model_code,
                      **{k: v for k, v in options.items() if v is not None})


def read_images(path: Path, input_shape: tuple[int, ...], progress: bool = False) -> tuple[list[str], "np.ndarray"]:
    """The raw RGB images of ``--images`` and their ids: ``(ids, (N, *input_shape) float32)``.

    ``path`` is either a folder of ``.jpg`` / ``.png`` files, read by :func:`repro.data.folder.read_image_folder`
    exactly as ``repro reproduce --profile custom`` reads one (ids: the file names; one stderr line per kind of
    conversion), or a ``.npy`` of raw RGB images (ids ``<file stem>:<row>``; images off the 0..255 scale get ONE
    warning on stderr, :func:`repro.data.images.scale_warning`, since the black baseline then means nothing).
    ``progress``: a bar over the check of a folder's files.

    Raises:
        ReproError: missing/unreadable file, an ``.npz``, wrong shape, non-numeric dtype, NaN/inf, ``N = 0``; a
            folder without images, with unreadable ones, or for a model input that is not square RGB; the message
            names the file or folder.
    """
    if path.is_dir():
        from repro.data.folder import read_image_folder

        return read_image_folder(path, input_shape, progress=progress)
    raw = _load_image_array(path, input_shape)
    from repro.data.images import scale_warning

    warning = scale_warning(raw, str(path))
    if warning:
        print(f"[repro] warning: {warning}", file=sys.stderr)
    return [f"{path.stem}:{i}" for i in range(len(raw))], raw


def load_images(path: Path, input_shape: tuple[int, ...], progress: bool = False) -> "np.ndarray":
    """The images of :func:`read_images` without their ids: raw RGB ``(N, *input_shape)`` float32 from a ``.npy``
    or a folder of images (same checks, same messages)."""
    return read_images(path, input_shape, progress)[1]


def image_names(path: Path) -> list[str] | None:
    """The ids :func:`read_images` gives the images of a folder (its image files' names, in its order), or
    ``None`` for a ``.npy`` (whose ids are ``<stem>:<row>``)."""
    if not path.is_dir():
        return None
    from repro.data.folder import list_image_files

    return [p.name for p in list_image_files(path)]


def _load_image_array(path: Path, input_shape: tuple[int, ...]) -> "np.ndarray":
    """Raw images ``(N, *input_shape)`` float32 from a ``.npy``, checked (see :func:`read_images`)."""
    import numpy as np

    from repro.errors import ReproError
    from repro.io import load_array

    raw = load_array(path, "images")
    if raw.ndim != 4 or tuple(raw.shape[1:]) != tuple(input_shape):
        raise ReproError(f"{path}: images have shape {raw.shape}, expected (N, {', '.join(map(str, input_shape))})")
    if raw.dtype.kind not in "fiu":
        raise ReproError(f"{path}: images have dtype {raw.dtype}, expected numbers in [0, 255]")
    raw = raw.astype(np.float32)
    if not np.isfinite(raw).all():
        raise ReproError(f"{path}: images contain NaN or infinite values")
    if len(raw) == 0:
        raise ReproError(f"{path}: no images (N = 0)")
    return raw


def load_targets(path: Path, n: int, num_classes: int) -> "np.ndarray":
    """``n`` class indices in ``[0, num_classes)`` from a ``.npy`` of integers, as int64.

    Raises:
        ReproError: missing/unreadable file, an ``.npz``, shape other than ``(n,)``, non-integer dtype (floats
            are refused, not truncated), an index out of range; the message names the file.
    """
    import numpy as np

    from repro.errors import ReproError
    from repro.io import load_array

    targets = load_array(path, "targets")
    if targets.shape != (n,) or targets.dtype.kind not in "iu":
        raise ReproError(f"{path}: targets have shape {targets.shape} and dtype {targets.dtype}, "
                         f"expected ({n},) integers")
    if targets.size and (targets.min() < 0 or targets.max() >= num_classes):
        raise ReproError(f"{path}: targets must be class indices in [0, {num_classes}), "
                         f"got min {targets.min()} max {targets.max()}")
    return targets.astype(np.int64)
