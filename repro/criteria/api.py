"""``evaluate``: N-Ord, S-Ord, TPN and TPS of attribution maps, with the curves they come from.

Usage (data positional, every setting by keyword)::

    from repro.criteria import evaluate
    res = evaluate(model, images, maps, targets=targets, steps=100, batch_size=64, score="probability")
    res.n_ord, res.s_ord, res.tpn, res.tps      # (P,) float64 (P = N maps by default), NaN where res.reason[i] says why
    res.curves[i].tpn_top.x, res.curves[i].tpn_top.y   # k and R_m of the TPN top curve of image i
    rows = rows_from_results(ids, labels, {"saliency": res})   # results-table rows (repro.results)

    # several methods on the same images in ONE engine pass (images are not duplicated):
    by_method = evaluate_methods(model, images, {"saliency": m1, "gradcam": m2}, targets=targets)

* ``model``: an :class:`~repro.models.ImageModel` (``baseline`` may then be ``None`` = ``model.baseline``), a
  Keras model, or any callable mapping float32 ``(B, H, W, C)`` to ``(B, classes)``. Non-image toy models run as
  inputs of shape ``(1, F, 1)``.
* ``score``: which output the criteria read (:func:`repro.models.score_function`). ``None`` (default): the model's
  own output (an ImageModel's softmax probability). ``"probability"`` / ``"logit"``: for an ImageModel its
  ``score_model(score)``; for a Keras model ending in a softmax the model as it is / with the softmax stripped. A
  plain callable's outputs (or those of a Keras model without a final softmax) are used as they are: any
  ``score`` but ``None`` raises ``ValueError`` for it, never silently ignored.
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

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from repro.criteria import orders, scores
from repro.criteria.curves import ADD, QUERY_FIELDS, REMOVE, get_engine
from repro.models import ImageModel, score_function, top1_targets

REASON_NO_POSITIVE = "M=0: no pixel has a positive attribution score; all four criteria are NaN"
REASON_Y0 = "y0<=0: the original output is not positive; TPN and TPS are NaN"


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
    """Per-(image, map) criteria, shapes ``(P,)``; see the module docstring for a usage recipe."""

    n_ord: np.ndarray
    s_ord: np.ndarray
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
    """Model evaluations run for the whole call (all pairs; shared ones counted once)."""

    def __len__(self) -> int:
        return len(self.n_ord)

    def subset(self, idx: Sequence[int] | np.ndarray | slice) -> "CriteriaResult":
        """The rows ``idx`` (``num_forwards`` is kept as the whole call's count)."""
        rows = np.arange(len(self))[idx]
        pick = lambda a: np.asarray(a)[rows]  # noqa: E731
        return CriteriaResult(pick(self.n_ord), pick(self.s_ord), pick(self.tpn), pick(self.tps), pick(self.y0),
                              pick(self.yb), pick(self.num_positive), [self.reason[i] for i in rows],
                              [self.curves[i] for i in rows], pick(self.image_index), pick(self.targets),
                              self.steps, self.num_forwards)


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
    images, forward, base = _prepare(model, images, baseline, score)
    pix = orders.pixel_scores(maps, images.shape[1:3])
    return _evaluate_scores(model, forward, images, pix, base, targets, steps, batch_size, image_index, progress, eps)


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
    images, forward, base = _prepare(model, images, baseline, score)
    names = list(maps_by_method)
    if not names:
        raise ValueError("maps_by_method is empty")
    N = images.shape[0]
    pix = []
    for name in names:
        try:
            p = orders.pixel_scores(maps_by_method[name], images.shape[1:3])
        except ValueError as exc:
            raise ValueError(f"maps of method {name!r}: {exc}") from None
        if p.shape[0] != N:
            raise ValueError(f"maps of method {name!r} has {p.shape[0]} maps for {N} images")
        pix.append(p)
    res = _evaluate_scores(model, forward, images, np.concatenate(pix), base, targets, steps, batch_size,
                           np.tile(np.arange(N), len(names)), progress, eps)
    return {name: res.subset(slice(i * N, (i + 1) * N)) for i, name in enumerate(names)}


def _prepare(model: Any, images: np.ndarray, baseline: np.ndarray | None, score: str | None):
    """Resolve the forward function and check images and baseline. Returns ``(images, forward, baselines)``."""
    forward = score_function(model, score)
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
    return images, forward, base


def _evaluate_scores(model: Any, forward: Callable, images: np.ndarray, pix: np.ndarray, base: np.ndarray,
                     targets: np.ndarray | None, steps: int | None, batch_size: int,
                     image_index: np.ndarray | None, progress: bool, eps: float) -> CriteriaResult:
    """The engine behind :func:`evaluate`: ``forward`` is ``model``'s score function, ``pix`` per-pixel scores
    ``(P, H, W)``."""
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
    engine = get_engine(forward, batch_size, (H, W, C))
    outputs = engine.run(images, base, ranks, queries, progress=progress)[inverse]

    # Criteria per pair.
    res = {k: np.full(P, np.nan) for k in ("n_ord", "s_ord", "tpn", "tps", "y0", "yb")}
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
        res["s_ord"][p] = scores.s_ord(scores.at_every_count(m_top, add_top), y0)
        if y0 <= 0:
            reasons.append(REASON_Y0)
            continue
        res["tpn"][p] = scores.tpn(k_top[m_top], rm_top, k_bot[m_bot], rm_bot, y0, yb, eps)
        res["tps"][p] = scores.tps(k_top[m_top], add_top, k_bot[m_bot], add_bot, y0, eps)
        reasons.append("")
    return CriteriaResult(res["n_ord"], res["s_ord"], res["tpn"], res["tps"], res["y0"], res["yb"],
                          np.array([pp[0] for pp in per_pair], np.int64), reasons, curves,
                          image_index.astype(np.int64), pair_targets, steps,
                          num_forwards=int(len(uniq)))
