"""Per-pixel scores, the ordering pi+ and its rank map, the share axis k, and the pixel counts each curve visits.

Notation of Section 3.1 of the paper. For one image with ``P = H * W`` pixels and an attribution map:

* per-pixel score ``s_p`` = the sum over channels of the map (:func:`pixel_scores`, the ONE channel reduction of
  the package); a coarser map (Grad-CAM) is first summed over channels, then resized to ``(H, W)`` bilinearly;
* ``pi+`` = the pixels with ``s_p > 0`` in descending score order, ties broken by ascending flat pixel index
  ``p = row * W + col`` (:func:`positive_order`); ``M = |pi+|``; the reversed ordering ``pi^+`` is ``pi+[::-1]``;
* the rank map gives each pixel its position in ``pi+`` (``0 .. M-1``) and ``P`` to pixels outside ``pi+``
  (:func:`rank_map`). Perturbing the ``m`` top pixels means perturbing ranks ``[0, m)``; the ``m`` bottom pixels
  (reversed ordering) are ranks ``[M - m, M)``;
* the share axis ``k_m = c_m / S`` with ``c_m`` the cumulative sum of the first ``m`` scores of an ordering and
  ``S = c_M`` (:func:`share_axis`), so ``k_0 = 0`` and ``k_M = 1``.

Pixel counts visited (``K = steps``; ``steps=None`` or ``M <= K`` is exact mode, every count ``0..M``):

* ``m_j = round(j * M / K)``, ``j = 0..K``, evenly spaced in ``m`` (:func:`ordering_counts`);
* for ``j = 0..K`` the smallest ``m`` with ``k_m >= j / K`` (:func:`share_counts`), so the visited points are
  (nearly) evenly spaced in ``k``.

The top curves (pi+) are read at the union of both sets, the bottom curves (reversed pi+) at the share counts of
the reversed ordering (:mod:`repro.criteria.queries`).

Reference: Wang et al., "Interpreting Interpretations: Organizing Attribution Methods by Criteria", Section 3.1.
"""

from __future__ import annotations

import numpy as np


def pixel_scores(maps: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Reduce attribution maps to one score per pixel of an ``(H, W)`` input.

    Args:
        maps: ``(N, h, w, C)`` (summed over channels) or ``(N, h, w)``. If ``(h, w) != (H, W)`` the channel-summed
            map is resized with ``tf.image.resize(..., method="bilinear")`` (half-pixel centres, no antialias).
        hw: ``(H, W)`` of the model input.
    Returns:
        float64 array ``(N, H, W)``.
    Raises:
        ValueError: wrong rank, a map finer than the input, or non-finite values (naming how many).
    """
    maps = np.asarray(maps)
    if maps.ndim == 4:
        scores = maps.astype(np.float64).sum(axis=-1)
    elif maps.ndim == 3:
        scores = maps.astype(np.float64)
    else:
        raise ValueError(f"maps has shape {maps.shape}, expected (N, H, W, C) or (N, H, W)")
    bad = int(np.size(scores) - np.isfinite(scores).sum())
    if bad:
        raise ValueError(f"maps contains {bad} non-finite (NaN or inf) pixel scores")
    H, W = int(hw[0]), int(hw[1])
    if scores.shape[1] > H or scores.shape[2] > W:
        raise ValueError(f"maps has shape {maps.shape}, finer than the input ({H}, {W}); only coarser maps are "
                         "resized")
    if scores.shape[1:] != (H, W):
        import tensorflow as tf

        resized = tf.image.resize(tf.constant(scores[..., None], tf.float64), (H, W), method="bilinear")
        scores = resized.numpy()[..., 0]
    return scores


def positive_order(scores: np.ndarray) -> np.ndarray:
    """pi+ of one image: flat indices of the pixels with score > 0, highest score first.

    Ties are broken by ascending flat pixel index (a stable sort of ``-scores``), so the result is deterministic.

    Args:
        scores: ``(H, W)`` or ``(P,)`` per-pixel scores.
    Returns:
        int64 array ``(M,)`` of flat pixel indices.
    """
    flat = np.asarray(scores, dtype=np.float64).ravel()
    order = np.argsort(-flat, kind="stable")
    return order[flat[order] > 0]


def rank_map(scores: np.ndarray) -> tuple[np.ndarray, int]:
    """Position of every pixel in pi+ (``0 .. M-1``), and ``P`` (never perturbed) for pixels outside pi+.

    Args:
        scores: ``(H, W)`` per-pixel scores of one image.
    Returns:
        ``(ranks, M)``: int32 ``(H, W)`` rank map and ``M = |pi+|``.
    """
    scores = np.asarray(scores)
    order = positive_order(scores)
    return ranks_from_order(order, scores.shape), int(order.size)


def ranks_from_order(order: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The int32 rank map ``(H, W)`` of ``order`` (flat pixel indices of pi+, from :func:`positive_order`).

    Pixel ``order[m]`` gets rank ``m``; pixels outside ``order`` get ``H W`` (never perturbed).
    """
    size = int(np.prod(shape))
    ranks = np.full(size, size, dtype=np.int32)
    ranks[order] = np.arange(order.size, dtype=np.int32)
    return ranks.reshape(shape)


def share_axis(ordered_scores: np.ndarray) -> np.ndarray:
    """The share ``k_m = c_m / S`` for ``m = 0..M`` along an ordering (Definitions 3 and 5).

    Args:
        ordered_scores: ``(M,)`` positive scores in the order pixels are perturbed (pi+ or reversed pi+).
    Returns:
        float64 ``(M + 1,)``, non-decreasing, ``k_0 = 0`` and ``k_M = 1`` exactly. ``[0.]`` when ``M = 0``.
    """
    s = np.asarray(ordered_scores, dtype=np.float64)
    if s.size and not np.all(s > 0):
        raise ValueError("share_axis needs strictly positive scores (the scores of pi+)")
    c = np.concatenate([[0.0], np.cumsum(s)])
    if s.size == 0:
        return c
    k = c / c[-1]
    k[-1] = 1.0
    return k


def ordering_counts(M: int, steps: int | None) -> np.ndarray:
    """Pixel counts where N-Ord and S-Ord read their curves.

    Exact mode (``steps is None`` or ``M <= steps``): ``0, 1, ..., M``. Otherwise ``m_j = round(j * M / K)`` for
    ``j = 0..K`` (round half up; distinct because ``M / K > 1``); N-Ord and S-Ord average the curve through these
    points at every count (:func:`repro.criteria.scores.at_every_count`).

    Returns:
        int64 ``(L,)``, increasing, starting at 0 and ending at ``M``.
    """
    if M < 0:
        raise ValueError(f"M must be >= 0, got {M}")
    if steps is None or M <= steps:
        return np.arange(M + 1, dtype=np.int64)
    check_steps(steps)
    j = np.arange(steps + 1, dtype=np.int64)
    return (2 * j * M + steps) // (2 * steps)


def share_counts(k: np.ndarray, steps: int | None) -> np.ndarray:
    """Pixel counts where the TPN/TPS curves are read, given the share axis ``k`` (``(M + 1,)``).

    Exact mode (``steps is None`` or ``M <= steps``): every count. Otherwise, for ``j = 0..K``, the smallest ``m``
    with ``k_m >= j / K`` (deduplicated); always contains 0 and ``M``.

    Returns:
        int64 ``(L,)``, increasing.
    """
    k = np.asarray(k, dtype=np.float64)
    M = k.size - 1
    if steps is None or M <= steps:
        return np.arange(M + 1, dtype=np.int64)
    check_steps(steps)
    targets = np.arange(steps + 1, dtype=np.float64) / steps
    m = np.searchsorted(k, targets, side="left")
    return np.unique(np.concatenate([[0, M], m])).astype(np.int64)  # k[-1] = 1 >= every target: m <= M


def check_steps(steps: int | None) -> None:
    """Raise ``ValueError`` unless ``steps`` is a positive integer or ``None`` (exact mode)."""
    if steps is not None and (int(steps) != steps or steps < 1):
        raise ValueError(f"steps must be a positive integer or None (exact mode), got {steps!r}")
