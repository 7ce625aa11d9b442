"""The queries of a call: per (image, map) pair its pi+ order and the pixel counts its six curves visit, then the
(image, rank range, remove|add) queries the engine answers (:mod:`repro.criteria.curves`), identical ones once.

Per pair, :func:`pair_orders` sorts pi+ once (:func:`repro.criteria.orders.positive_order`) and keeps its rank map
and the counts visited (:mod:`repro.criteria.orders`): the top curves (removing / adding along pi+) at the union
of the ``K + 1`` counts evenly spaced in ``m`` and the ``K + 1`` counts whose shares ``k`` are evenly spaced, the
bottom curves (reversed pi+) at the ``k``-spaced counts of the reversed ordering (``K = steps``; ``steps=None``:
every count ``0..M``). The necessity and sufficiency curves of N-Ord and S-Ord are the top curves read against
``m / M`` instead of ``k``: they are the same evaluations.

:func:`plan_queries` writes four segments per pair, in the order remove-top, remove-bottom, add-top, add-bottom,
one int column per field of :data:`repro.criteria.curves.QUERY_FIELDS`. An empty range is the image itself
(REMOVE) or its baseline (ADD), whatever the map: it is canonicalised (rank 0, ``lo = hi = 0``) so that all maps of
the image with that target share it, and identical rows are evaluated once.

Forwards. Per (image, map) the naive count is ``6 (K + 1)`` (six curves of ``K + 1`` points). Here ``y0`` and
``y_b`` are evaluated once per (image, target) (shared by all maps of that image), the point ``m = M`` of top and
bottom curves once, and identical queries once: N-Ord and TPN-top (S-Ord and TPS-top) read the same evaluations.
Exact mode: ``4M - 2`` per (image, map) plus 2 per (image, target), against ``6 (M + 1)``. Stepped mode
(``M > K``): at most ``2 (2K - 1) + 2 (K - 1) = 6K - 4`` per (image, map) plus 2 per (image, target) (the two
count sets of a top curve rarely coincide, so the saving is small; the extra points make N-Ord and TPN more
accurate, see ``docs/criteria.md``). ``CriteriaResult.num_forwards`` reports the count actually run
(:attr:`QueryPlan.num_forwards`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from repro.criteria import orders
from repro.criteria.curves import ADD, QUERY_FIELDS, REMOVE


class PairCounts(NamedTuple):
    """The counts of one (image, map) pair: ``M`` positive pixels, the share axes ``k_top`` / ``k_bot`` (``(M + 1,)``,
    along pi+ / reversed pi+) and the pixel counts the top / bottom curves visit, ``m_top`` / ``m_bot``."""

    M: int
    k_top: np.ndarray
    k_bot: np.ndarray
    m_top: np.ndarray
    m_bot: np.ndarray


def pair_orders(pix: np.ndarray, steps: int | None) -> tuple[np.ndarray, list[PairCounts]]:
    """pi+ of every pair, sorted once: per-pixel scores ``pix`` ``(P, H, W)`` -> ``(ranks (P, H, W) int32, counts)``.

    ``steps`` must have passed :func:`repro.criteria.orders.check_steps`.
    """
    P, H, W = pix.shape
    ranks = np.empty((P, H, W), np.int32)
    counts = []
    for p in range(P):
        order = orders.positive_order(pix[p])  # pi+, sorted once per (image, map)
        ranks[p], M = orders.ranks_from_order(order, (H, W)), int(order.size)
        ordered = pix[p].ravel()[order]  # the scores along pi+
        k_top = orders.share_axis(ordered)
        k_bot = orders.share_axis(ordered[::-1])
        m_top = np.union1d(orders.ordering_counts(M, steps), orders.share_counts(k_top, steps))
        m_bot = orders.share_counts(k_bot, steps)
        counts.append(PairCounts(M, k_top, k_bot, m_top, m_bot))
    return ranks, counts


@dataclass(frozen=True)
class QueryPlan:
    """The deduplicated queries of a call.

    ``queries``: field of ``QUERY_FIELDS`` -> ``(Q,)`` int64, the distinct queries (the engine's input).
    ``inverse``: ``(Q_all,)`` the row of ``queries`` answering each query in written order.
    ``segments``: per pair, four ``(start, stop)`` ranges of that order: remove-top, remove-bottom, add-top,
    add-bottom.
    """

    queries: dict[str, np.ndarray]
    inverse: np.ndarray
    segments: list[list[tuple[int, int]]]

    @property
    def num_forwards(self) -> int:
        """Model evaluations the plan costs: one per distinct query."""
        return int(len(self.queries[QUERY_FIELDS[0]]))


def plan_queries(counts: list[PairCounts], image_index: np.ndarray, pair_targets: np.ndarray,
                 shared_base: bool) -> QueryPlan:
    """The queries of every pair (pair ``p`` is map ``p``, i.e. rank map ``p``, of image ``image_index[p]`` for class
    ``pair_targets[p]``); ``shared_base``: one baseline for all images (row 0) rather than one per image."""
    columns: dict[str, list[np.ndarray]] = {f: [] for f in QUERY_FIELDS}
    segments = []
    offset = 0
    for p, (M, _, _, m_top, m_bot) in enumerate(counts):
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
        segments.append(bounds)
    all_keys = np.stack([np.concatenate(columns[f]) for f in QUERY_FIELDS], axis=1).astype(np.int64)
    uniq, inverse = np.unique(all_keys, axis=0, return_inverse=True)
    return QueryPlan(dict(zip(QUERY_FIELDS, uniq.T)), inverse.ravel(), segments)
