"""The (image, map, target) pairs of a call, run in one engine pass, and their criteria.

* :func:`run_sets`: several map sets of the same ``N`` images (set name -> maps ``(P_k, ...)``, with an optional
  ``image_index`` and ``targets`` per set) flattened into one list of pairs, run once, and split back per set with
  :meth:`~repro.criteria.result.CriteriaResult.subset`; an error about one set names it.
* :func:`run_pairs`: the pass behind every entry point of :mod:`repro.criteria.api`. Pair ``p`` is map ``p`` of
  image ``image_index[p]`` (default: map ``i`` explains image ``i``) for class ``targets[p]`` (``(P,)`` per map
  with an explicit ``image_index``), ``targets[image_index[p]]`` (``(N,)`` per image), or the model's top-1
  (``None``, :func:`repro.models.top1_targets`). Orders and queries: :mod:`repro.criteria.queries`; the engine reads
  ``forward`` in one mode (:mod:`repro.criteria.curves`) and returns one column per score.
* :func:`pair_criteria`: the engine's outputs under one score -> the six curves and the four criteria of every pair
  (:mod:`repro.criteria.scores`). Every criterion uses every point of the curve it reads: N-Ord and S-Ord average
  eq. 3 / eq. 4 over ALL counts ``m = 0..M`` of the curve interpolated linearly in ``m`` between evaluated counts;
  TPN and TPS interpolate linearly in ``k``. ``M = 0`` makes all four NaN (:data:`REASON_NO_POSITIVE`), ``y0 <= 0``
  TPN and TPS (:data:`REASON_Y0`).
"""

from __future__ import annotations

from typing import Any, Callable, Hashable, Mapping

import numpy as np

from repro.criteria import orders, scores
from repro.criteria.curves import get_engine
from repro.criteria.queries import PairCounts, pair_orders, plan_queries
from repro.criteria.result import REASON_NO_POSITIVE, REASON_Y0, CriteriaResult, Curve, ImageCurves
from repro.models import ImageModel, top1_targets


def run_sets(model: Any, forward: Callable, mode: str, names: tuple[str, ...], images: np.ndarray,
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
    results = run_pairs(model, forward, mode, names, images, np.concatenate(pix), base, np.concatenate(pair_targets),
                        steps, batch_size, np.concatenate(rows), progress, eps)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [{key: res.subset(slice(int(bounds[j]), int(bounds[j + 1]))) for j, key in enumerate(keys)}
            for res in results]


def run_pairs(model: Any, forward: Callable, engine_mode: str, names: tuple[str, ...], images: np.ndarray,
              pix: np.ndarray, base: np.ndarray, targets: np.ndarray | None, steps: int | None, batch_size: int,
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

    ranks, counts = pair_orders(pix, steps)
    plan = plan_queries(counts, image_index, pair_targets, shared_base=base.shape[0] == 1)
    engine = get_engine(forward, batch_size, (H, W, C), engine_mode)
    answers = engine.run(images, base, ranks, plan.queries, progress=progress).reshape(plan.num_forwards, len(names))
    num_positive = np.array([c.M for c in counts], np.int64)
    return [pair_criteria(answers[plan.inverse, j], counts, plan.segments, eps, num_positive, image_index,
                          pair_targets, steps, plan.num_forwards, name) for j, name in enumerate(names)]


def pair_criteria(outputs: np.ndarray, counts: list[PairCounts], segments: list[list[tuple[int, int]]], eps: float,
                  num_positive: np.ndarray, image_index: np.ndarray, pair_targets: np.ndarray, steps: int | None,
                  num_forwards: int, score: str) -> CriteriaResult:
    """The criteria of every pair from the outputs ``(Q_all,)`` of one score, in the written order of the queries
    (``segments``: per pair, the ranges of its remove-top, remove-bottom, add-top and add-bottom curves)."""
    P = len(counts)
    res = {k: np.full(P, np.nan) for k in ("n_ord", "s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps", "y0",
                                           "yb")}
    reasons, curves = [], []
    for p, (M, k_top, k_bot, m_top, m_bot) in enumerate(counts):
        rm_top, rm_bot, add_top, add_bot = (outputs[a:b] for a, b in segments[p])
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
