"""``evaluate``: N-Ord, S-Ord, TPN and TPS of attribution maps, with the curves they come from.

Usage (data positional, every setting by keyword)::

    from repro.criteria import evaluate
    res = evaluate(model, images, maps, targets=targets)   # the study's defaults: the logit, adaptive sampling
    res.settings                                # {"score": "logit", "steps": "adaptive", "tol": 0.003, ...}
    res.n_ord, res.s_ord, res.tpn, res.tps      # (P,) float64 (P = N maps by default), NaN where res.reason[i] says why
    res.curves[i].tpn_top.x, res.curves[i].tpn_top.y   # k and R_m of the TPN top curve of image i
    rows = rows_from_results(ids, labels, {"saliency": res})   # results-table rows (repro.results)

    # several methods on the same images in ONE engine pass (images are not duplicated):
    by_method = evaluate_methods(model, images, {"saliency": m1, "gradcam": m2}, targets=targets)

    # every score the model has, for several map sets, in ONE engine pass (no extra forwards):
    by_score = evaluate_scores(model, images, {"saliency": m1, "gradcam": m2}, targets=targets)
    by_score["logit"]["saliency"].tpn, by_score["probability"]["saliency"].tpn
    res.s_ord, res.s_ord_text, res.s_ord_baseline   # eq. 4 as printed, as the text reads it, against y_b

* ``model``: an :class:`~repro.models.ImageModel` (``baseline`` may then be ``None`` = ``model.baseline``), a
  Keras model, or any callable mapping float32 ``(B, H, W, C)`` to ``(B, classes)``. Non-image toy models run as
  inputs of shape ``(1, F, 1)``.
* ``score``: which output the criteria read (:func:`repro.models.score_function`). Default (:data:`STUDY_SCORE`):
  the study's, :data:`repro.readings.DEFAULTS` ``["score"]`` (the logit), as ``repro evaluate`` and ``repro
  reproduce`` read it, so the same model, images and maps give the same numbers through the API and the CLI; a plain
  Python callable (no logit to speak of) is read as it is. ``"probability"`` /
  ``"logit"``: for an ImageModel its ``score_model(score)``; for a Keras model ending in a softmax the model as it is
  / with the softmax stripped. A model without an identifiable softmax has no logit: the default refuses it, as the
  CLI does (``ValueError`` saying so); ``score=None`` reads the output of such a model (or a plain callable, e.g.
  the paper's toy examples) as it is, and means the probability for a model that has both.
* :func:`evaluate_scores` reads every score the model has from the same forwards (:func:`model_scores`):
  ``"logit"`` and ``"probability"`` for an ImageModel or a Keras model ending in a softmax (the engine runs the
  logits model and takes the softmax of each row of logits itself, :data:`repro.criteria.curves.LOGIT_PROBABILITY`;
  on the embedded model these probabilities equal those of the model's own softmax layer bit for bit), ``"output"``
  (:data:`OUTPUT_SCORE`) for a plain callable or a Keras model without a final softmax.
* ``images``: ``(N, H, W, C)`` float32 in model space (``model.preprocess(raw)``; images of an ImageModel far
  outside the range its preprocessing gives raw RGB get one warning per call on stderr). ``maps``: ``(P, H, W)``,
  ``(P, H, W, C)`` or ``(P, H, W, 1)``, or coarser ``(P, h, w[, C])`` only with ``resize_maps=True`` (upsampled
  bilinearly); any other shape is refused naming it, and a channels-first map says so
  (:mod:`repro.criteria.layouts`); ``P = N`` unless ``image_index`` (``(P,)``) says which image each map explains. ``baseline``: ``(H, W, C)`` or ``(N, H, W, C)`` in model space.
  ``targets``: ``(N,)`` class per image, or ``(P,)`` per map with ``image_index`` (``None``: the model's top-1,
  :func:`repro.models.top1_targets`).
* ``steps``: default :data:`repro.criteria.adaptive.DEFAULT_STEPS` (``"adaptive"``, the study's), or ``K``. The top
  curves (removing / adding along pi+) are evaluated at the union of
  ``K + 1`` pixel counts evenly spaced in ``m`` and ``K + 1`` counts whose shares ``k`` are evenly spaced; the
  bottom curves (reversed pi+) at the ``k``-spaced counts (:mod:`repro.criteria.orders`). Every criterion uses
  every point of the curve it reads: N-Ord and S-Ord average eq. 3 / eq. 4 over ALL counts ``m = 0..M`` of the
  curve interpolated linearly in ``m`` between evaluated counts; TPN and TPS interpolate linearly in ``k``.
  Exact whenever ``M <= K``. ``steps=None``: exact mode, every pixel count ``0..M`` (for small inputs).
  ``steps="adaptive"`` (with ``tol``, default :data:`repro.criteria.adaptive.DEFAULT_TOL`): start from the grid of
  ``K = 8`` and refine each curve in rounds (one batched engine call each) where the criteria's interpolation error
  is, until every criterion's error estimate is at most ``tol * max(1, |value|)`` or the pair is exact
  (:mod:`repro.criteria.adaptive`).
* How far each number may be from exact mode (:mod:`repro.criteria.errors`), in every mode: the estimates
  ``res.n_ord_err``, ``res.s_ord_err``, ``res.s_ord_text_err``, ``res.s_ord_baseline_err``, ``res.tpn_err``,
  ``res.tps_err`` and the bounds ``res.n_ord_bound``, ... ``res.tps_bound`` if the curves are monotone between
  evaluated points (NaN where the evaluated points contradict that); all 0 in exact mode.

Where the work is done (every name below stays importable from here and from :mod:`repro.criteria`):

* :mod:`repro.criteria.result`: the records :class:`CriteriaResult`, :class:`ImageCurves`, :class:`Curve`, the NaN
  reasons :data:`REASON_NO_POSITIVE` / :data:`REASON_Y0`, the flags of a finite TPN / TPS with a ~0 penalty
  :data:`REASON_R_CLIPPED` / :data:`REASON_R_PRIME_CLIPPED` (:func:`nan_reason` tells NaN reasons from flags) and
  :data:`OUTPUT_SCORE`;
* :mod:`repro.criteria.pairs`: map sets flattened into (image, map, target) pairs, image_index and targets checked,
  one engine pass, the criteria of every pair from the engine's outputs;
* :mod:`repro.criteria.queries`: pi+ and the counts of each pair, the deduplicated engine queries and the forwards
  they cost (``CriteriaResult.num_forwards``: ``4M - 2`` per (image, map) plus 2 per (image, target) in exact
  mode, at most ``6K - 4`` plus 2 stepped, against the naive ``6 (K + 1)``).

Reference: Wang et al., "Interpreting Interpretations: Organizing Attribution Methods by Criteria", Section 3.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, Hashable, Mapping

import numpy as np

from repro.criteria import orders, scores
from repro.criteria.adaptive import DEFAULT_STEPS
from repro.criteria.layouts import check_map_layout
from repro.criteria.curves import LOGIT_PROBABILITY, LOGIT_PROBABILITY_COLUMNS, OUTPUT
from repro.criteria.pairs import run_pairs, run_sets
from repro.criteria.result import (OUTPUT_SCORE, REASON_NO_POSITIVE, REASON_R_CLIPPED, REASON_R_PRIME_CLIPPED,
                                   REASON_Y0, CriteriaResult, Curve, ImageCurves, nan_reason)
from repro.models import ImageModel, score_function
from repro.models.core import has_logit_and_probability
from repro.readings import DEFAULTS

STUDY_SCORE = "study"
"""The default ``score`` of :func:`evaluate` and :func:`evaluate_methods`: the study's score
(:data:`repro.readings.DEFAULTS` ``["score"]``, the logit) for an ImageModel or any Keras model, as ``repro
evaluate`` and ``repro reproduce`` read it (a Keras model without a final softmax has no logit and is refused, as
the CLI refuses it); a plain Python callable (the paper's toy examples) has only its output, which it reads."""

__all__ = [
    "evaluate", "evaluate_methods", "evaluate_scores", "model_scores",
    "CriteriaResult", "ImageCurves", "Curve", "OUTPUT_SCORE", "REASON_NO_POSITIVE", "REASON_Y0",
    "REASON_R_CLIPPED", "REASON_R_PRIME_CLIPPED", "nan_reason",
]


def evaluate(model: Any, images: np.ndarray, maps: np.ndarray, *, baseline: np.ndarray | None = None,
             targets: np.ndarray | None = None, steps: int | str | None = DEFAULT_STEPS, batch_size: int = 64,
             score: str | None = STUDY_SCORE, image_index: np.ndarray | None = None, progress: bool = False,
             eps: float = scores.EPS, tol: float | None = None, resize_maps: bool = False) -> CriteriaResult:
    """N-Ord (eq. 3), S-Ord (eq. 4), TPN (Def. 4) and TPS (Def. 6) for each (image, map); see the module docstring.

    Args:
        model: ImageModel, Keras model, or callable ``(B, H, W, C) float32 -> (B, classes)``.
        images: ``(N, H, W, C)`` float32, model space.
        maps: ``(P, H, W)``, ``(P, H, W, C)`` or ``(P, H, W, 1)`` (:mod:`repro.criteria.layouts`); ``P = N``
            unless ``image_index`` is given.
        baseline: ``(H, W, C)`` or ``(N, H, W, C)`` in model space; ``None`` only for an ImageModel.
        targets: ``(N,)`` class per image, or ``(P,)`` class per map when ``image_index`` is given (a length
            of ``P`` then always means per map); ``None`` = the model's top-1 (:func:`repro.models.top1_targets`).
        steps: ``"adaptive"`` (default, :data:`repro.criteria.adaptive.DEFAULT_STEPS`), ``K`` or ``None``
            (exact). batch_size: forwards per compiled call (last batch padded).
        score: :data:`STUDY_SCORE` (default: the logit, the study's; a plain callable's output), ``"logit"``,
            ``"probability"`` or ``None`` (the model's own output); see the module docstring.
        image_index: ``(P,)`` image row of each map (many maps per image without copying images).
        progress: tqdm bar over the batches. eps: footnote-2 epsilon.
        tol: ``steps="adaptive"`` only: the relative error each criterion's estimate may keep (default
            :data:`repro.criteria.adaptive.DEFAULT_TOL`); any other ``steps`` with a ``tol`` raises ``ValueError``.
        resize_maps: accept maps coarser than the images and upsample them bilinearly.
    Returns:
        :class:`CriteriaResult` with ``P`` rows; its ``settings`` say which settings produced it.
    Raises:
        ValueError: shapes (a map layout other than those accepted), NaN in maps or images, targets out of range,
            a ``score`` the model cannot honour.
    """
    forward, mode, names, name = _score_pass(model, score)
    images, base = _check_inputs(model, images, baseline)
    _check_maps(maps, images.shape[1:], resize_maps)
    pix = orders.pixel_scores(maps, images.shape[1:3])
    per_score = run_pairs(model, forward, mode, names, images, pix, base, targets, steps, batch_size, image_index,
                          progress, eps, tol)
    return _with_settings(per_score[names.index(name)], name, steps, tol, eps, batch_size)


def evaluate_methods(model: Any, images: np.ndarray, maps_by_method: Mapping[str, np.ndarray], *,
                     baseline: np.ndarray | None = None, targets: np.ndarray | None = None,
                     steps: int | str | None = DEFAULT_STEPS, batch_size: int = 64, score: str | None = STUDY_SCORE,
                     progress: bool = False, eps: float = scores.EPS, tol: float | None = None,
                     resize_maps: bool = False) -> dict[str, CriteriaResult]:
    """:func:`evaluate` for several methods' maps of the same ``N`` images in one engine pass.

    Args:
        maps_by_method: name -> maps ``(N, ...)`` (any shape :func:`evaluate` accepts; may differ per method).
        The other arguments are those of :func:`evaluate` (``targets`` per image).
    Returns:
        name -> :class:`CriteriaResult` with ``N`` rows (``num_forwards`` is the shared pass's total).
    """
    forward, mode, names, name = _score_pass(model, score)
    images, base = _check_inputs(model, images, baseline)
    _check_maps(maps_by_method, images.shape[1:], resize_maps)
    if targets is not None and isinstance(targets, Mapping):
        raise ValueError("evaluate_methods takes targets per image (N,); per-map targets: evaluate_scores")
    per_score = run_sets(model, forward, mode, names, images, maps_by_method, base, targets, None, steps,
                         batch_size, progress, eps, tol)
    return {key: _with_settings(res, name, steps, tol, eps, batch_size)
            for key, res in per_score[names.index(name)].items()}


def model_scores(model: Any) -> tuple[str, ...]:
    """The scores :func:`evaluate_scores` reads for ``model``: ``("logit", "probability")`` for an ImageModel or a
    Keras model ending in a softmax, ``(OUTPUT_SCORE,)`` for a model with one output only."""
    return LOGIT_PROBABILITY_COLUMNS if has_logit_and_probability(model) else (OUTPUT_SCORE,)


def evaluate_scores(model: Any, images: np.ndarray, maps: Mapping[Hashable, np.ndarray], *,
                    baseline: np.ndarray | None = None,
                    targets: np.ndarray | Mapping[Hashable, np.ndarray] | None = None,
                    image_index: Mapping[Hashable, np.ndarray] | None = None,
                    steps: int | str | None = DEFAULT_STEPS, batch_size: int = 64, progress: bool = False,
                    eps: float = scores.EPS, tol: float | None = None,
                    resize_maps: bool = False) -> dict[str, dict[Hashable, CriteriaResult]]:
    """The criteria under every score the model has (:func:`model_scores`), for several map sets of the same
    ``N`` images, in ONE engine pass: each (image, map) query is one forward whatever the number of scores.

    For an ImageModel or a Keras model ending in a softmax the engine runs the logits model and reads, per query,
    the target's logit and its softmax probability from the same row of logits
    (:data:`repro.criteria.curves.LOGIT_PROBABILITY`); a plain callable has its own output only.

    Args:
        model: as :func:`evaluate`. images: ``(N, H, W, C)`` float32, model space.
        maps: set name (any hashable: a method, ``(method, variant)``, ...) -> maps ``(P_k, ...)`` of any shape
            :func:`evaluate` accepts; ``P_k = N`` (map ``i`` explains image ``i``) unless ``image_index`` names the
            set.
        baseline: as :func:`evaluate`.
        targets: ``None`` (every set explains the model's top-1 class, :func:`repro.models.top1_targets`);
            ``(N,)`` a class per image for every set; or a mapping set name -> ``(P_k,)`` a class per map of that
            set (sets absent from it explain the top-1 class of their images).
        image_index: set name -> ``(P_k,)`` image row of each map of that set (a subset of the images, or several
            maps per image); sets absent from it have one map per image in order.
        steps, batch_size, progress, eps, tol, resize_maps: as :func:`evaluate`.
    Returns:
        score -> set name -> :class:`CriteriaResult` with ``P_k`` rows; scores ``"logit"`` and ``"probability"``,
        or ``"output"`` (:data:`OUTPUT_SCORE`) for a model with one output. ``num_forwards`` is the whole pass's
        count (shared by every score and set). For each score the numbers equal those of :func:`evaluate` /
        :func:`evaluate_methods` with that ``score`` (``None`` for ``"output"``) on the same maps and targets,
        except with ``steps="adaptive"``: there the counts are refined until the criteria of EVERY score are within
        ``tol``, so they can differ from a one-score call's (each run within its own error estimates).
    Raises:
        ValueError: as :func:`evaluate`; an error about one set names it.
    """
    names = model_scores(model)
    if names == LOGIT_PROBABILITY_COLUMNS:
        forward, mode = score_function(model, "logit"), LOGIT_PROBABILITY
    else:
        forward, mode = score_function(model, None), OUTPUT
    images, base = _check_inputs(model, images, baseline)
    _check_maps(maps, images.shape[1:], resize_maps)
    per_score = run_sets(model, forward, mode, names, images, maps, base, targets, image_index, steps,
                         batch_size, progress, eps, tol)
    return {name: {key: _with_settings(res, name, steps, tol, eps, batch_size) for key, res in by_set.items()}
            for name, by_set in zip(names, per_score)}


def _resolve_score(model: Any, score: str | None) -> str | None:
    """``score`` with :data:`STUDY_SCORE` resolved for ``model`` (see there)."""
    if score != STUDY_SCORE:
        return score
    if isinstance(model, ImageModel):
        return DEFAULTS["score"]
    import tensorflow as tf

    return DEFAULTS["score"] if isinstance(model, tf.keras.Model) else None


def _score_pass(model: Any, score: str | None) -> tuple[Any, Any, tuple[str, ...], str]:
    """How a one-score call runs the engine: ``(forward, mode, scores read, the score returned)``.

    ``"logit"`` or ``"probability"`` on a model that has both is read in the same pass as the other score
    (:func:`evaluate_scores`' pass, :data:`repro.criteria.curves.LOGIT_PROBABILITY`), so its numbers are those of
    ``repro evaluate`` and the study also with ``steps="adaptive"`` (which refines until every score read is within
    ``tol``); ``None`` reads the model's own output alone. ``score`` may be :data:`STUDY_SCORE`."""
    score = _resolve_score(model, score)
    if score in LOGIT_PROBABILITY_COLUMNS and has_logit_and_probability(model):
        return score_function(model, "logit"), LOGIT_PROBABILITY, LOGIT_PROBABILITY_COLUMNS, score
    forward = score_function(model, score)
    name = _score_name(model, score)
    return forward, OUTPUT, (name,), name


def _score_name(model: Any, score: str | None) -> str:
    """The score a single-score call reads: ``score``, or for ``None`` the model's own output (the probability of an
    ImageModel or a Keras model ending in a softmax)."""
    if score is not None:
        return score
    return "probability" if has_logit_and_probability(model) else OUTPUT_SCORE


def _check_maps(maps: Any, image_shape: tuple[int, ...], resize: bool = False, subject: str = "maps") -> None:
    """Raise ``ValueError`` naming ``subject`` (for a mapping of map sets, the set) unless every map set has a layout
    :mod:`repro.criteria.layouts` accepts for images of ``image_shape`` ``(H, W, C)``. No maps at all (``P = 0``, a
    set whose ``image_index`` is empty) is allowed."""
    if isinstance(maps, Mapping):
        for key, m in maps.items():
            _check_maps(m, image_shape, resize, f"maps of {key!r}")
        return
    check_map_layout(maps, image_shape, resize, subject)


def _with_settings(res: CriteriaResult, score: str, steps: int | str | None, tol: float | None, eps: float,
                   batch_size: int) -> CriteriaResult:
    """``res`` with the settings that produced it (``CriteriaResult.settings``): the score read, the sampling
    (``steps``, ``tol`` as in force: :func:`repro.criteria.adaptive.check_sampling`), ``eps`` and ``batch_size``."""
    from repro.criteria.adaptive import check_sampling

    return dataclasses.replace(res, settings={"score": score, "steps": steps, "tol": check_sampling(steps, tol),
                                              "eps": float(eps), "batch_size": int(batch_size)})


def model_space_warning(model: ImageModel, images: np.ndarray) -> str:
    """One line when images given to the criteria of ``model`` lie outside the range its preprocessing gives raw
    RGB in [0, 255] (with a margin of 1% of that range): raw pixels passed where model-space inputs are expected
    (``model.preprocess(raw)``); ``""`` otherwise. One line per call, however many images."""
    lo, hi = _model_space_range(model)
    margin = 0.01 * (hi - lo)
    flat = images.reshape(len(images), -1)
    outside = int(((flat.min(axis=1) < lo - margin) | (flat.max(axis=1) > hi + margin)).sum())
    if not outside:
        return ""
    return (f"{outside} of {len(images)} images have values in [{float(flat.min()):.4g}, {float(flat.max()):.4g}], "
            f"outside [{lo:.4g}, {hi:.4g}], the range model {model.name!r} gives raw RGB in [0, 255]: the criteria "
            f"take model-space images, model.preprocess(raw), not raw pixels")


def _model_space_range(model: ImageModel) -> tuple[float, float]:
    """The smallest and largest value ``model.preprocess`` gives raw RGB in [0, 255] (its black and white images:
    every preprocessing here is monotone per channel)."""
    shape = (1, *model.input_shape)
    ends = np.asarray(model.preprocess(np.concatenate([np.zeros(shape, np.float32),
                                                        np.full(shape, 255.0, np.float32)])))
    return float(ends.min()), float(ends.max())


def _check_inputs(model: Any, images: np.ndarray, baseline: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Check images and baseline. Returns ``(images, baselines)`` (float32; baselines ``(1 or N, H, W, C)``)."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images has shape {images.shape}, expected (N, H, W, C)")
    if images.shape[0] == 0:
        raise ValueError("images is empty (N = 0)")
    images = images.astype(np.float32, copy=False)
    if not np.all(np.isfinite(images)):
        raise ValueError("images contains non-finite values")
    hwc = tuple(images.shape[1:])
    if isinstance(model, ImageModel):
        if tuple(model.input_shape) != hwc:
            raise ValueError(f"images has shape {images.shape}, expected (N, {', '.join(map(str, model.input_shape))})"
                             f" for model {model.name!r}")
        warning = model_space_warning(model, images)
        if warning:
            print(f"[repro] warning: {warning}", file=sys.stderr)
        if baseline is None:
            baseline = model.baseline
    if baseline is None:
        raise ValueError("baseline is required unless model is an ImageModel")
    base = np.asarray(baseline, dtype=np.float32)
    if base.shape == hwc:
        base = base[None]
    elif base.shape != images.shape:
        raise ValueError(f"baseline has shape {base.shape}, expected {hwc} or {images.shape}")
    if not np.all(np.isfinite(base)):
        raise ValueError("baseline contains non-finite values")
    return images, base
