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
  TPN and TPS (:data:`REASON_Y0`); a finite TPN (TPS) whose penalty ``r`` (``r'``) is ~0 is flagged
  (:func:`repro.criteria.result.pair_reason`).
"""

from __future__ import annotations

from typing import Any, Callable, Hashable, Mapping

import numpy as np

from repro.criteria import adaptive, orders, scores
from repro.criteria.adaptive import ADAPTIVE
from repro.criteria.curves import ADD, QUERY_FIELDS, REMOVE, get_engine
from repro.criteria.errors import BOUND_FIELDS, ERROR_FIELDS, CurveSamples, pair_errors
from repro.criteria.queries import PairCounts, pair_orders, plan_queries
from repro.criteria.result import REASON_NO_POSITIVE, CriteriaResult, Curve, ImageCurves, pair_reason
from repro.models import ImageModel, top1_targets


def run_sets(model: Any, forward: Callable, mode: str, names: tuple[str, ...], images: np.ndarray,
             maps: Mapping[Hashable, np.ndarray], base: np.ndarray,
             targets: np.ndarray | Mapping[Hashable, np.ndarray] | None,
             image_index: Mapping[Hashable, np.ndarray] | None, steps: int | str | None, batch_size: int,
             progress: bool, eps: float, tol: float | None = None) -> list[dict[Hashable, CriteriaResult]]:
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
                        steps, batch_size, np.concatenate(rows), progress, eps, tol)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [{key: res.subset(slice(int(bounds[j]), int(bounds[j + 1]))) for j, key in enumerate(keys)}
            for res in results]


def run_pairs(model: Any, forward: Callable, engine_mode: str, names: tuple[str, ...], images: np.ndarray,
              pix: np.ndarray, base: np.ndarray, targets: np.ndarray | None, steps: int | str | None,
              batch_size: int, image_index: np.ndarray | None, progress: bool, eps: float,
              tol: float | None = None) -> list[CriteriaResult]:
    """The engine behind every entry point: ``forward`` is read in ``engine_mode`` (one column per score of
    ``names``), ``pix`` per-pixel scores ``(P, H, W)``. Returns one :class:`CriteriaResult` per score."""
    N, H, W, C = images.shape
    P = pix.shape[0]
    tol = adaptive.check_sampling(steps, tol)
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

    if steps == ADAPTIVE:
        return run_adaptive(forward, engine_mode, names, images, pix, base, image_index, pair_targets, tol,
                            batch_size, progress, eps)
    ranks, counts = pair_orders(pix, steps)
    plan = plan_queries(counts, image_index, pair_targets, shared_base=base.shape[0] == 1)
    engine = get_engine(forward, batch_size, (H, W, C), engine_mode)
    answers = engine.run(images, base, ranks, plan.queries, progress=progress).reshape(plan.num_forwards, len(names))
    num_positive = np.array([c.M for c in counts], np.int64)
    return [pair_criteria(answers[plan.inverse, j], counts, plan.segments, eps, num_positive, image_index,
                          pair_targets, steps, plan.num_forwards, name) for j, name in enumerate(names)]


def run_adaptive(forward: Callable, engine_mode: str, names: tuple[str, ...], images: np.ndarray, pix: np.ndarray,
                 base: np.ndarray, image_index: np.ndarray, pair_targets: np.ndarray, tol: float, batch_size: int,
                 progress: bool, eps: float) -> list[CriteriaResult]:
    """``steps="adaptive"`` (:mod:`repro.criteria.adaptive`): the first grid and every refinement round are one
    engine call each over all pairs still refining; identical queries of a round are evaluated once."""
    N, H, W, C = images.shape
    ranks, counts = pair_orders(pix, adaptive.START_STEPS)
    engine = get_engine(forward, batch_size, (H, W, C), engine_mode)
    uploaded = engine.upload(images, base, ranks)
    shared_base = base.shape[0] == 1
    forwards = [0]

    def ask(requests):
        keys = np.concatenate([curve_queries(p, c, counts[p].M, m, image_index, pair_targets, shared_base)
                               for p, c, m in requests])
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        out = engine.run_uploaded(uploaded, dict(zip(QUERY_FIELDS, uniq.T)), progress=progress)
        forwards[0] += len(uniq)
        out = out.reshape(len(uniq), len(names))[inverse.ravel()]
        bounds = np.cumsum([0] + [len(m) for _, _, m in requests])
        return [out[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    done = adaptive.refine([(c.M, c.k_top, c.k_bot) for c in counts], ask, tol, eps)
    shapes = [(c.M, c.k_top, c.k_bot) for c in counts]
    return [criteria_result(shapes, [s.samples(j) for s in done.pairs], eps, image_index, pair_targets,
                            adaptive.ADAPTIVE, forwards[0], name, tol=tol, rounds=done.rounds)
            for j, name in enumerate(names)]


def curve_queries(p: int, curve: int, M: int, m: np.ndarray, image_index: np.ndarray, pair_targets: np.ndarray,
                  shared_base: bool) -> np.ndarray:
    """The engine queries ``(n, len(QUERY_FIELDS))`` of pair ``p``'s curve ``curve`` (0..3: remove-top,
    remove-bottom, add-top, add-bottom) at counts ``m``; an empty range is canonicalised as in
    :func:`repro.criteria.queries.plan_queries` (shared by every map of the image with that target)."""
    m = np.asarray(m, np.int64)
    top = curve in (0, 2)
    lo = np.zeros_like(m) if top else M - m
    hi = m if top else np.full_like(m, M)
    empty = lo == hi
    i = int(image_index[p])
    cols = {"image": np.full(m.size, i), "baseline": np.full(m.size, 0 if shared_base else i),
            "rank": np.where(empty, 0, p), "lo": np.where(empty, 0, lo), "hi": np.where(empty, 0, hi),
            "mode": np.full(m.size, REMOVE if curve < 2 else ADD), "target": np.full(m.size, pair_targets[p])}
    return np.stack([cols[f] for f in QUERY_FIELDS], axis=1).astype(np.int64)


def pair_criteria(outputs: np.ndarray, counts: list[PairCounts], segments: list[list[tuple[int, int]]], eps: float,
                  num_positive: np.ndarray, image_index: np.ndarray, pair_targets: np.ndarray, steps: int | None,
                  num_forwards: int, score: str) -> CriteriaResult:
    """The criteria of every pair from the outputs ``(Q_all,)`` of one score, in the written order of the queries
    (``segments``: per pair, the ranges of its remove-top, remove-bottom, add-top and add-bottom curves)."""
    samples = []
    for p, (M, k_top, k_bot, m_top, m_bot) in enumerate(counts):
        rm_top, rm_bot, add_top, add_bot = (outputs[a:b] for a, b in segments[p])
        samples.append(CurveSamples((m_top, rm_top), (m_bot, rm_bot), (m_top, add_top), (m_bot, add_bot)))
    return criteria_result([(c.M, c.k_top, c.k_bot) for c in counts], samples, eps, image_index, pair_targets,
                           steps, num_forwards, score)


def criteria_result(shapes: list[tuple[int, np.ndarray, np.ndarray]], samples: list[CurveSamples], eps: float,
                    image_index: np.ndarray, pair_targets: np.ndarray, steps: int | str | None, num_forwards: int,
                    score: str, tol: float | None = None, rounds: int = 1) -> CriteriaResult:
    """The :class:`CriteriaResult` of pairs ``(M, k_top, k_bot)`` from their four sampled curves under one score,
    with the error estimates (:func:`repro.criteria.errors.pair_errors`)."""
    P = len(shapes)
    res = {k: np.full(P, np.nan) for k in ("n_ord", "s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps", "y0",
                                           "yb", *ERROR_FIELDS, *BOUND_FIELDS)}
    reasons, curves = [], []
    for p, ((M, k_top, k_bot), sample) in enumerate(zip(shapes, samples)):
        (m_rt, y_rt), (m_rb, y_rb), (m_at, y_at), (m_ab, y_ab) = sample
        y0, yb = float(y_rt[0]), float(y_at[0])
        curves.append(ImageCurves(
            necessity=Curve(m_rt / M if M else np.zeros(1), y_rt, m_rt),
            sufficiency=Curve(m_at / M if M else np.zeros(1), y_at, m_at),
            tpn_top=Curve(k_top[m_rt], y_rt, m_rt), tpn_bottom=Curve(k_bot[m_rb], y_rb, m_rb),
            tps_top=Curve(k_top[m_at], y_at, m_at), tps_bottom=Curve(k_bot[m_ab], y_ab, m_ab),
            num_positive=M, y0=y0, yb=yb))
        res["y0"][p], res["yb"][p] = y0, yb
        if M == 0:
            reasons.append(REASON_NO_POSITIVE)
            continue
        for name, value in scores.criteria_of_curves(M, k_top, k_bot, *sample, eps=eps).items():
            res[name][p] = value
        for name, value in pair_errors(M, k_top, k_bot, sample, y0, yb, eps)._asdict().items():
            res[name][p] = value
        reasons.append(pair_reason(M, y0, scores.necessity_ratio(yb, float(y_rt[-1]), eps),
                                   scores.sufficiency_ratio(float(y_at[-1]), y0, eps)))
    return CriteriaResult(**res, num_positive=np.array([s[0] for s in shapes], np.int64), reason=reasons,
                          curves=curves, image_index=image_index.astype(np.int64), targets=pair_targets.copy(),
                          steps=steps, num_forwards=num_forwards, score=score, tol=tol, rounds=rounds)
