"""``repro evaluate``: N-Ord, S-Ord, TPN and TPS for attribution maps you bring.

Inputs: ``--images`` a ``.npy`` of raw RGB ``(N, H, W, 3)`` in ``[0, 255]`` at the model's input size, or a folder of
``.jpg`` / ``.png`` read as ``repro reproduce --profile custom`` reads one (preprocessed here with the model's own
preprocessing); ``--maps`` a ``.npy`` ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, H, W, 1)``
(coarser maps only with ``--resize-maps``, upsampled bilinearly; every other layout refused,
:mod:`repro.criteria.layouts`) or a ``.npz`` with one such array per method name (all methods go through the engine in one pass);
``--targets`` an optional ``.npy`` of ``N`` class indices (default: the model's top-1); ``--steps K | exact |
adaptive`` and ``--tol`` (adaptive only) as ``repro reproduce`` (default :data:`repro.config.DEFAULT_STEPS`). Output:
the results table (:data:`repro.results.RESULT_COLUMNS`, one row per image x method x score, with every criterion's
error estimate ``*_err`` and monotone bound ``*_bound``; ``image_id`` is ``<images file stem>:<row>``).

The command is split so its core takes an :class:`~repro.models.ImageModel`: :func:`load_inputs` checks the files
(every error names the file), :func:`evaluate_inputs` runs :func:`repro.criteria.evaluate_methods`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from repro.commands import (add_model_and_image_arguments, add_sampling_arguments, load_images, load_targets,
                            open_model_from_args, positive_int)
from repro.config import DEFAULT_STEPS, sampling
from repro.criteria.layouts import map_layout_problem
from repro.errors import ReproError
from repro.io import load_array

if TYPE_CHECKING:
    from repro.models import ImageModel


def add_arguments(p: argparse.ArgumentParser) -> None:
    from repro.commands import add_progress_argument
    from repro.models import SCORE_MODES

    add_model_and_image_arguments(p)
    p.add_argument("--maps", type=Path, required=True,
                   help=".npy maps (N, H, W), (N, H, W, C) or (N, H, W, 1), or .npz with one array per method name")
    p.add_argument("--resize-maps", action="store_true",
                   help="accept maps coarser than the model input, (N, h, w[, C]), and upsample them bilinearly")
    add_sampling_arguments(p, DEFAULT_STEPS)
    p.add_argument("--score", choices=SCORE_MODES, default=None,
                   help="class score the criteria read (default: both, from the same forwards)")
    p.add_argument("--batch-size", type=positive_int, default=64, help="forwards per compiled call (default 64)")
    p.add_argument("--out", type=Path, default=Path("results.csv"), help="output CSV (default results.csv)")
    add_progress_argument(p)


def load_inputs(images_path: Path, maps_path: Path, targets_path: Path | None,
                input_shape: tuple[int, int, int], num_classes: int, resize_maps: bool = False
                ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray | None]:
    """Read and check the files of ``repro evaluate``.

    Args:
        images_path: ``.npy`` raw RGB ``(N, H, W, 3)``. maps_path: ``.npy`` or ``.npz`` (one array per method).
        targets_path: ``.npy`` ``(N,)`` ints, or ``None``.
        input_shape: the model's ``(H, W, C)``. num_classes: the model's class count.
    Returns:
        ``(raw images float32, {method: maps}, targets or None)``; a ``.npy`` of maps is named after its stem.
    Raises:
        ReproError: missing/unreadable file, wrong shape (an empty axis, a channel count that is neither 1 nor the
            images', maps finer than the model input), ``N`` mismatch, NaN/inf values, bad targets; the message names
            the file (and the maps' shape). No map that fails reaches TensorFlow.
    """
    raw = load_images(images_path, input_shape)
    N = len(raw)

    loaded = load_array(maps_path, "maps", allow_npz=True)
    if isinstance(loaded, dict):
        maps = loaded
        if not maps:
            raise ReproError(f"{maps_path}: the .npz holds no arrays")
    else:
        maps = {maps_path.stem: loaded}
    for name, m in maps.items():
        where = f"{maps_path}" + (f" [{name}]" if len(maps) > 1 or maps_path.suffix == ".npz" else "")
        problem = map_layout_problem(m.shape, input_shape, resize_maps)
        if problem:
            raise ReproError(f"{where}: {problem}")
        if m.dtype.kind not in "fiu":
            raise ReproError(f"{where}: maps have dtype {m.dtype}, expected numbers")
        if len(m) != N:
            raise ReproError(f"{where}: {len(m)} maps for {N} images in {images_path}")
        bad = int(m.size - np.isfinite(m).sum())
        if bad:
            raise ReproError(f"{where}: maps contain {bad} NaN or infinite values")

    targets = None if targets_path is None else load_targets(targets_path, N, num_classes)
    return raw, maps, targets


def evaluate_inputs(model: "ImageModel", raw: np.ndarray, maps: dict[str, np.ndarray], targets: np.ndarray | None, *,
                    steps: int | str | None = DEFAULT_STEPS, tol: float | None = None, score: str | None = None,
                    batch_size: int = 64, image_ids: str | Sequence[str] = "image", progress: bool = False,
                    resize_maps: bool = False) -> list[dict]:
    """The core of ``repro evaluate`` for an :class:`~repro.models.ImageModel`: one results row per image x method
    x class score.

    Args:
        model: ImageModel. raw: ``(N, H, W, 3)`` raw RGB. maps: method -> maps ``(N, ...)``.
        targets: ``(N,)`` or ``None`` (:func:`repro.models.top1_targets`). steps, tol, batch_size, progress: as
            in :func:`repro.criteria.evaluate_scores` (``tol`` only with ``steps="adaptive"``). score: ``None``
            for every score the model has (the logit and the probability come from the same forwards), or one of
            them. image_ids: a prefix (``image_id`` is ``f"{prefix}:{row}"``) or one id per image (a folder's file
            names). resize_maps: accept maps coarser than the model input (:mod:`repro.criteria.layouts`).
    Returns:
        rows with the columns of :data:`repro.results.RESULT_COLUMNS` (``label`` is -1: unknown; every criterion's
        error estimate and monotone bound included), image-major, then by score.
    """
    from repro.criteria import evaluate_scores
    from repro.models import top1_targets

    x = model.preprocess(raw)
    if targets is None:
        targets = top1_targets(model, x, batch_size=batch_size)
    by_score = evaluate_scores(model, x, maps, targets=targets, steps=steps, tol=tol, batch_size=batch_size,
                               progress=progress, resize_maps=resize_maps)
    scores = [score] if score is not None else list(by_score)
    per_set = {(name, s): by_score[s][name].rows(name, image_ids) for name in maps for s in scores}
    return [per_set[name, s][i] for i in range(len(raw)) for name in maps for s in scores]


def run(args: argparse.Namespace) -> int:
    """``repro evaluate``: check the files, write the results table (image ids: ``<images stem>:<row>`` for a
    ``.npy``, the file names for a folder), then print a per-method summary of it (:mod:`repro.summary`)."""
    from repro.commands import image_names
    from repro.results import write_results
    from repro.summary import summary_text

    steps, tol = sampling(DEFAULT_STEPS if args.steps is None else args.steps, args.tol)  # before loading anything
    model = open_model_from_args(args)
    raw, maps, targets = load_inputs(args.images, args.maps, args.targets, model.input_shape, model.num_classes,
                                     resize_maps=args.resize_maps)
    names = image_names(args.images)  # a folder: its file names, in the order its images were read
    rows = evaluate_inputs(model, raw, maps, targets, steps=steps, tol=tol, score=args.score,
                           resize_maps=args.resize_maps, batch_size=args.batch_size,
                           image_ids=args.images.stem if names is None else names, progress=args.progress)
    write_results(args.out, rows)
    print(f"[repro] wrote {len(rows)} rows ({len(maps)} method(s) x {len(raw)} image(s) x score) to {args.out}")
    print(summary_text(rows))
    return 0
