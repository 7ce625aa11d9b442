"""``evaluate``: N-Ord, S-Ord, TPN and TPS of attribution maps, with the curves they come from.

Usage (data positional, every setting by keyword)::

    from repro.criteria import evaluate
    res = evaluate(model, images, maps, targets=targets, steps=100, batch_size=64, score="probability")
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
* ``score``: which output the criteria read (:func:`repro.models.score_function`). ``None`` (default): the model's
  own output (an ImageModel's softmax probability). ``"probability"`` / ``"logit"``: for an ImageModel its
  ``score_model(score)``; for a Keras model ending in a softmax the model as it is / with the softmax stripped. A
  plain callable's outputs (or those of a Keras model without a final softmax) are used as they are: any
  ``score`` but ``None`` raises ``ValueError`` for it, never silently ignored.
* :func:`evaluate_scores` reads every score the model has from the same forwards (:func:`model_scores`):
  ``"logit"`` and ``"probability"`` for an ImageModel or a Keras model ending in a softmax (the engine runs the
  logits model and takes the softmax of each row of logits itself, :data:`repro.criteria.curves.LOGIT_PROBABILITY`;
  on the embedded model these probabilities equal those of the model's own softmax layer bit for bit), ``"output"``
  (:data:`OUTPUT_SCORE`) for a plain callable or a Keras model without a final softmax.
* ``images``: ``(N, H, W, C)`` float32 in model space. ``maps``: ``(P, H, W, C)``, ``(P, H, W)`` or coarser
  ``(P, h, w[, C])`` (see :func:`repro.criteria.orders.pixel_scores`); ``P = N`` unless ``image_index`` (``(P,)``)
  says which image each map explains. ``baseline``: ``(H, W, C)`` or ``(N, H, W, C)`` in model space.
  ``targets``: ``(N,)`` class per image, or ``(P,)`` per map with ``image_index`` (``None``: the model's top-1,
  :func:`repro.models.top1_targets`).
* ``steps``: ``K`` (default 100). The top curves (removing / adding along pi+) are evaluated at the union of
  ``K + 1`` pixel counts evenly spaced in ``m`` and ``K + 1`` counts whose shares ``k`` are evenly spaced; the
  bottom curves (reversed pi+) at the ``k``-spaced counts (:mod:`repro.criteria.orders`). Every criterion uses
  every point of the curve it reads: N-Ord and S-Ord average eq. 3 / eq. 4 over ALL counts ``m = 0..M`` of the
  curve interpolated linearly in ``m`` between evaluated counts; TPN and TPS interpolate linearly in ``k``.
  Exact whenever ``M <= K``. ``steps=None``: exact mode, every pixel count ``0..M`` (for small inputs).

Forwards. Per (image, map) the naive count is ``6 (K + 1)`` (six curves of ``K + 1`` points). Here ``y0`` and
``y_b`` are evaluated once per (image, target) (shared by all maps of that image), the point ``m = M`` of top and
bottom curves once, and identical queries once: N-Ord and TPN-top (S-Ord and TPS-top) read the same evaluations.
Exact mode: ``4M - 2`` per (image, map) plus 2 per (image, target), against ``6 (M + 1)``. Stepped mode
(``M > K``): at most ``2 (2K - 1) + 2 (K - 1) = 6K - 4`` per (image, map) plus 2 per (image, target) (the two
count sets of a top curve rarely coincide, so the saving is small; the extra points make N-Ord and TPN more
accurate, see ``docs/criteria.md``). ``CriteriaResult.num_forwards`` reports the count actually run.

Reference: Wang et al., "Interpreting Interpretations: Organizing Attribution Methods by Criteria", Section 3.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable, Hashable, Mapping, Sequence

import numpy as np

from repro.criteria import orders, scores
from repro.criteria.curves import (ADD, LOGIT_PROBABILITY, LOGIT_PROBABILITY_COLUMNS, OUTPUT, QUERY_FIELDS, REMOVE,
                                   get_engine)
from repro.models import ImageModel, score_function, top1_targets
from repro.models.core import has_logit_and_probability

REASON_NO_POSITIVE = "M=0: no pixel has a positive attribution score; all four criteria are NaN"
REASON_Y0 = "y0<=0: the original output is not positive; TPN and TPS are NaN"

OUTPUT_SCORE = "output"
"""The score key of :func:`evaluate_scores` for a model with one output only (a plain callable, a Keras model
without a final softmax): its outputs as they are."""


@dataclass(frozen=True)
class Curve:
    """One perturbation curve: ``x`` (m/M or share k), model outputs ``y``, at pixel counts ``m`` (all ``(L,)``)."""

    x: np.ndarray
    y: np.ndarray
    m: np.ndarray


@dataclass(frozen=True)
class ImageCurves:
    """The six curves of one (image, map), raw model outputs (no clipping).

    ``necessity``: ``R_m(x, pi+)``, removing top-first, ``x = m / M``. ``sufficiency``: ``R'_m(x_b, pi+)``, adding
    top-first, ``x = m / M``. ``tpn_top`` / ``tpn_bottom``: removing along pi+ / reversed pi+, ``x = k``.
    ``tps_top`` / ``tps_bottom``: adding along pi+ / reversed pi+, ``x = k``.
    """

    necessity: Curve
    sufficiency: Curve
    tpn_top: Curve
    tpn_bottom: Curve
    tps_top: Curve
    tps_bottom: Curve
    num_positive: int
    y0: float
    yb: float


@dataclass
class CriteriaResult:
    """Per-(image, map) criteria, shapes ``(P,)``; see the module docstring for a usage recipe.

    ``s_ord`` is eq. 4 as printed (``min{R'_m, R'_M} - y0``); ``s_ord_text`` the sentence under it (``min{R'_m, y0}
    - y0``); ``s_ord_baseline`` ``min{R'_m, R'_M} - y_b`` (:data:`repro.criteria.scores.S_ORD_READINGS`), all from
    the same adding curve. ``score``: which class score the numbers read (``"probability"``, ``"logit"`` or
    :data:`OUTPUT_SCORE`).
    """

    n_ord: np.ndarray
    s_ord: np.ndarray
    s_ord_text: np.ndarray
    s_ord_baseline: np.ndarray
    tpn: np.ndarray
    tps: np.ndarray
    y0: np.ndarray
    yb: np.ndarray
    num_positive: np.ndarray
    reason: list[str]
    curves: list[ImageCurves]
    image_index: np.ndarray
    targets: np.ndarray
    steps: int | None
    num_forwards: int = 0
    """Model evaluations run for the whole call (all pairs and scores; shared ones counted once)."""
    score: str = OUTPUT_SCORE

    def __len__(self) -> int:
        return len(self.n_ord)

    def subset(self, idx: Sequence[int] | np.ndarray | slice) -> "CriteriaResult":
        """The rows ``idx`` (``num_forwards`` is kept as the whole call's count)."""
        rows = np.arange(len(self))[idx]
        kept = ("steps", "num_forwards", "score")
        return CriteriaResult(**{
            f.name: getattr(self, f.name) if f.name in kept
            else [getattr(self, f.name)[i] for i in rows] if f.name in ("reason", "curves")
            else np.asarray(getattr(self, f.name))[rows]
            for f in fields(self)})


def evaluate(model: Any, images: np.ndarray, maps: np.ndarray, *, baseline: np.ndarray | None = None,
             targets: np.ndarray | None = None, steps: int | None = 100, batch_size: int = 64,
             score: str | None = None, image_index: np.ndarray | None = None, progress: bool = False,
             eps: float = scores.EPS) -> CriteriaResult:
    """N-Ord (eq. 3), S-Ord (eq. 4), TPN (Def. 4) and TPS (Def. 6) for each (image, map); see the module docstring.

    Args:
        model: ImageModel, Keras model, or callable ``(B, H, W, C) float32 -> (B, classes)``.
        images: ``(N, H, W, C)`` float32, model space.
        maps: ``(P, H, W, C)``, ``(P, H, W)`` or coarser; ``P = N`` unless ``image_index`` is given.
        baseline: ``(H, W, C)`` or ``(N, H, W, C)`` in model space; ``None`` only for an ImageModel.
        targets: ``(N,)`` class per image, or ``(P,)`` class per map when ``image_index`` is given (a length
            of ``P`` then always means per map); ``None`` = the model's top-1 (:func:`repro.models.top1_targets`).
        steps: ``K`` or ``None`` (exact). batch_size: forwards per compiled call (last batch padded).
        score: ``None`` (the model's own output), ``"probability"`` or ``"logit"``; see the module docstring.
        image_index: ``(P,)`` image row of each map (many maps per image without copying images).
        progress: tqdm bar over the batches. eps: footnote-2 epsilon.
    Returns:
        :class:`CriteriaResult` with ``P`` rows.
    Raises:
        ValueError: shapes, NaN in maps or images, targets out of range, a ``score`` the model cannot honour.
    """
    forward = score_function(model, score)
    images, base = _check_inputs(model, images, baseline)
    pix = orders.pixel_scores(maps, images.shape[1:3])
    (res,) = _run(model, forward, OUTPUT, (_score_name(model, score),), images, pix, base, targets, steps,
                  batch_size, image_index, progress, eps)
    return res


def evaluate_methods(model: Any, images: np.ndarray, maps_by_method: Mapping[str, np.ndarray], *,
                     baseline: np.ndarray | None = None, targets: np.ndarray | None = None,
                     steps: int | None = 100, batch_size: int = 64, score: str | None = None,
                     progress: bool = False, eps: float = scores.EPS) -> dict[str, CriteriaResult]:
    """:func:`evaluate` for several methods' maps of the same ``N`` images in one engine pass.

    Args:
        maps_by_method: name -> maps ``(N, ...)`` (any shape :func:`evaluate` accepts; may differ per method).
        The other arguments are those of :func:`evaluate` (``targets`` per image).
    Returns:
        name -> :class:`CriteriaResult` with ``N`` rows (``num_forwards`` is the shared pass's total).
    """
    forward = score_function(model, score)
    images, base = _check_inputs(model, images, baseline)
    if targets is not None and isinstance(targets, Mapping):
        raise ValueError("evaluate_methods takes targets per image (N,); per-map targets: evaluate_scores")
    (by_name,) = _run_sets(model, forward, OUTPUT, (_score_name(model, score),), images, maps_by_method, base,
                           targets, None, steps, batch_size, progress, eps)
    return by_name


def model_scores(model: Any) -> tuple[str, ...]:
    """The scores :func:`evaluate_scores` reads for ``model``: ``("logit", "probability")`` for an ImageModel or a
    Keras model ending in a softmax, ``(OUTPUT_SCORE,)`` for a model with one output only."""
    return LOGIT_PROBABILITY_COLUMNS if has_logit_and_probability(model) else (OUTPUT_SCORE,)


def evaluate_scores(model: Any, images: np.ndarray, maps: Mapping[Hashable, np.ndarray], *,
                    baseline: np.ndarray | None = None,
                    targets: np.ndarray | Mapping[Hashable, np.ndarray] | None = None,
                    image_index: Mapping[Hashable, np.ndarray] | None = None, steps: int | None = 100,
                    batch_size: int = 64, progress: bool = False,
                    eps: float = scores.EPS) -> dict[str, dict[Hashable, CriteriaResult]]:
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
        steps, batch_size, progress, eps: as :func:`evaluate`.
    Returns:
        score -> set name -> :class:`CriteriaResult` with ``P_k`` rows; scores ``"logit"`` and ``"probability"``,
        or ``"output"`` (:data:`OUTPUT_SCORE`) for a model with one output. ``num_forwards`` is the whole pass's
        count (shared by every score and set). For each score the numbers equal those of :func:`evaluate` /
        :func:`evaluate_methods` with that ``score`` (``None`` for ``"output"``) on the same maps and targets.
    Raises:
        ValueError: as :func:`evaluate`; an error about one set names it.
    """
    names = model_scores(model)
    if names == LOGIT_PROBABILITY_COLUMNS:
        forward, mode = score_function(model, "logit"), LOGIT_PROBABILITY
    else:
        forward, mode = score_function(model, None), OUTPUT
    images, base = _check_inputs(model, images, baseline)
    per_score = _run_sets(model, forward, mode, names, images, maps, base, targets, image_index, steps,
                          batch_size, progress, eps)
    return dict(zip(names, per_score))


def _score_name(model: Any, score: str | None) -> str:
    """The score a single-score call reads: ``score``, or for ``None`` the model's own output (the probability of an
    ImageModel or a Keras model ending in a softmax)."""
    if score is not None:
        return score
    return "probability" if has_logit_and_probability(model) else OUTPUT_SCORE


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


def _run_sets(model: Any, forward: Callable, mode: str, names: tuple[str, ...], images: np.ndarray,
              maps: Mapping[Hashable, np.ndarray], base: np.ndarray,
              targets: np.ndarray | Mapping[Hashable, np.ndarray] | None,
              image_index: Mapping[Hashable, np.ndarray] | None, steps: int | None, batch_size: int,
              progress: bool, eps: float) -> list[dict[Hashable, CriteriaResult]]:
    """Several map sets in one engine pass: per score (``names``), set -> :class:`CriteriaResult`."""
    keys = list(maps)
    if not keys:
        raise ValueError("no maps: the mapping of map sets is empty")
    N = images.shape[0]
    index_of = dict(image_index or {})
    unknown = [k for k in index_of if k not in maps]
    if unknown:
        raise ValueError(f"image_index names map sets that are not in maps: {unknown}")
    per_set_targets = isinstance(targets, Mapping)
    if per_set_targets:
        unknown = [k for k in targets if k not in maps]
        if unknown:
            raise ValueError(f"targets names map sets that are not in maps: {unknown}")
    elif targets is not None:
        targets = np.asarray(targets)
        if targets.shape != (N,) or not np.issubdtype(targets.dtype, np.integer):
            raise ValueError(f"targets has shape {targets.shape} and dtype {targets.dtype}, expected ({N},) ints")
    top1: np.ndarray | None = None
    pix, rows, pair_targets, sizes = [], [], [], []
    for key in keys:
        try:
            p = orders.pixel_scores(maps[key], images.shape[1:3])
        except ValueError as exc:
            raise ValueError(f"maps of {key!r}: {exc}") from None
        P = p.shape[0]
        if key in index_of:
            idx = np.asarray(index_of[key])
            if idx.shape != (P,) or not np.issubdtype(idx.dtype, np.integer):
                raise ValueError(f"image_index of {key!r} has shape {idx.shape} and dtype {idx.dtype}, expected "
                                 f"({P},) ints")
            if P and (idx.min() < 0 or idx.max() >= N):
                raise ValueError(f"image_index of {key!r} out of range [0, {N}): min {idx.min()}, max {idx.max()}")
        elif P != N:
            raise ValueError(f"maps of {key!r} has {P} maps for {N} images")
        else:
            idx = np.arange(N)
        if per_set_targets and key in targets:
            t = np.asarray(targets[key])
            if t.shape != (P,) or not np.issubdtype(t.dtype, np.integer):
                raise ValueError(f"targets of {key!r} has shape {t.shape} and dtype {t.dtype}, expected ({P},) "
                                 f"ints (one class per map)")
        elif targets is not None and not per_set_targets:
            t = targets[idx]
        else:
            if top1 is None:
                top1 = top1_targets(model, images, batch_size=batch_size)
            t = top1[idx]
        pix.append(p)
        rows.append(idx)
        pair_targets.append(t)
        sizes.append(P)
    results = _run(model, forward, mode, names, images, np.concatenate(pix), base, np.concatenate(pair_targets),
                   steps, batch_size, np.concatenate(rows), progress, eps)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [{key: res.subset(slice(int(bounds[j]), int(bounds[j + 1]))) for j, key in enumerate(keys)}
            for res in results]


def _run(model: Any, forward: Callable, engine_mode: str, names: tuple[str, ...], images: np.ndarray, pix: np.ndarray,
         base: np.ndarray, targets: np.ndarray | None, steps: int | None, batch_size: int,
         image_index: np.ndarray | None, progress: bool, eps: float) -> list[CriteriaResult]:
    """The engine behind every entry point: ``forward`` is read in ``engine_mode`` (one column per score of
    ``names``), ``pix`` per-pixel scores ``(P, H, W)``. Returns one :class:`CriteriaResult` per score."""
    N, H, W, C = images.shape
    P = pix.shape[0]
    orders.check_steps(steps)
    explicit_index = image_index is not None
    if image_index is None:
        if P != N:
            raise ValueError(f"maps has {P} maps for {N} images (pass image_index to evaluate several maps per image)")
        image_index = np.arange(N)
    image_index = np.asarray(image_index)
    if image_index.shape != (P,) or not np.issubdtype(image_index.dtype, np.integer):
        raise ValueError(f"image_index has shape {image_index.shape} and dtype {image_index.dtype}, "
                         f"expected ({P},) ints")
    if P and (image_index.min() < 0 or image_index.max() >= N):
        raise ValueError(f"image_index out of range [0, {N}): min {image_index.min()}, max {image_index.max()}")
    targets = top1_targets(model, images, batch_size=batch_size) if targets is None else np.asarray(targets)
    num_classes = model.num_classes if isinstance(model, ImageModel) else None
    per_map = explicit_index and targets.shape == (P,)
    if not (per_map or targets.shape == (N,)) or not np.issubdtype(targets.dtype, np.integer):
        expected = f"({N},) per image or ({P},) per map" if explicit_index else f"({N},)"
        raise ValueError(f"targets has shape {targets.shape} and dtype {targets.dtype}, expected {expected} ints")
    if targets.min() < 0 or (num_classes is not None and targets.max() >= num_classes):
        raise ValueError(f"targets out of range [0, {num_classes}): min {targets.min()}, max {targets.max()}")
    pair_targets = (targets if per_map else targets[image_index]).astype(np.int64)

    # Orders, once per (image, map).
    ranks = np.empty((P, H, W), np.int32)
    per_pair = []
    for p in range(P):
        order = orders.positive_order(pix[p])  # pi+, sorted once per (image, map)
        ranks[p], M = orders.ranks_from_order(order, (H, W)), int(order.size)
        ordered = pix[p].ravel()[order]  # the scores along pi+
        k_top = orders.share_axis(ordered)
        k_bot = orders.share_axis(ordered[::-1])
        m_top = np.union1d(orders.ordering_counts(M, steps), orders.share_counts(k_top, steps))
        m_bot = orders.share_counts(k_bot, steps)
        per_pair.append((M, k_top, k_bot, m_top, m_bot))

    # Queries: four segments per pair (remove/add x top/bottom), one int column per field of QUERY_FIELDS. An empty
    # range is the image itself (REMOVE) or its baseline (ADD), whatever the map: it is canonicalised (rank 0, lo = hi
    # = 0) so that all maps of the image with that target share it. Identical rows are evaluated once.
    shared_base = base.shape[0] == 1
    columns: dict[str, list[np.ndarray]] = {f: [] for f in QUERY_FIELDS}
    seg_bounds = []
    offset = 0
    for p, (M, _, _, m_top, m_bot) in enumerate(per_pair):
        i = int(image_index[p])
        bounds = []
        for mode in (REMOVE, ADD):
            for lo, hi in ((np.zeros_like(m_top), m_top), (M - m_bot, np.full_like(m_bot, M))):
                empty, n = lo == hi, lo.size
                segment = {"image": np.full(n, i), "baseline": np.full(n, 0 if shared_base else i),
                           "rank": np.where(empty, 0, p), "lo": np.where(empty, 0, lo), "hi": np.where(empty, 0, hi),
                           "mode": np.full(n, mode), "target": np.full(n, pair_targets[p])}
                for f in QUERY_FIELDS:
                    columns[f].append(segment[f])
                bounds.append((offset, offset + n))
                offset += n
        seg_bounds.append(bounds)
    all_keys = np.stack([np.concatenate(columns[f]) for f in QUERY_FIELDS], axis=1).astype(np.int64)
    uniq, inverse = np.unique(all_keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    queries = dict(zip(QUERY_FIELDS, uniq.T))
    engine = get_engine(forward, batch_size, (H, W, C), engine_mode)
    answers = engine.run(images, base, ranks, queries, progress=progress).reshape(len(uniq), len(names))
    num_positive = np.array([pp[0] for pp in per_pair], np.int64)
    return [_criteria(answers[inverse, j], per_pair, seg_bounds, eps, num_positive, image_index, pair_targets,
                      steps, int(len(uniq)), name) for j, name in enumerate(names)]


def _criteria(outputs: np.ndarray, per_pair: list, seg_bounds: list, eps: float, num_positive: np.ndarray,
              image_index: np.ndarray, pair_targets: np.ndarray, steps: int | None, num_forwards: int,
              score: str) -> CriteriaResult:
    """The criteria of every pair from the outputs ``(Q_all,)`` of one score."""
    P = len(per_pair)
    res = {k: np.full(P, np.nan) for k in ("n_ord", "s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps", "y0",
                                           "yb")}
    reasons, curves = [], []
    for p, (M, k_top, k_bot, m_top, m_bot) in enumerate(per_pair):
        rm_top, rm_bot, add_top, add_bot = (outputs[a:b] for a, b in seg_bounds[p])
        y0, yb = float(rm_top[0]), float(add_top[0])
        frac = m_top / M if M else np.zeros(1)
        curves.append(ImageCurves(
            necessity=Curve(frac, rm_top, m_top), sufficiency=Curve(frac, add_top, m_top),
            tpn_top=Curve(k_top[m_top], rm_top, m_top), tpn_bottom=Curve(k_bot[m_bot], rm_bot, m_bot),
            tps_top=Curve(k_top[m_top], add_top, m_top), tps_bottom=Curve(k_bot[m_bot], add_bot, m_bot),
            num_positive=M, y0=y0, yb=yb))
        res["y0"][p], res["yb"][p] = y0, yb
        if M == 0:
            reasons.append(REASON_NO_POSITIVE)
            continue
        res["n_ord"][p] = scores.n_ord(scores.at_every_count(m_top, rm_top), yb)
        adding = scores.at_every_count(m_top, add_top)
        res["s_ord"][p] = scores.s_ord(adding, y0)
        res["s_ord_text"][p] = scores.s_ord(adding, y0, reading="text")
        res["s_ord_baseline"][p] = scores.s_ord(adding, y0, reading="baseline", yb=yb)
        if y0 <= 0:
            reasons.append(REASON_Y0)
            continue
        res["tpn"][p] = scores.tpn(k_top[m_top], rm_top, k_bot[m_bot], rm_bot, y0, yb, eps)
        res["tps"][p] = scores.tps(k_top[m_top], add_top, k_bot[m_bot], add_bot, y0, eps)
        reasons.append("")
    return CriteriaResult(**res, num_positive=num_positive.copy(), reason=reasons, curves=curves,
                          image_index=image_index.astype(np.int64), targets=pair_targets.copy(), steps=steps,
                          num_forwards=num_forwards, score=score)
