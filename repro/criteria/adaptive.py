"""``steps="adaptive"``: sample each curve where the criteria's interpolation error is, until it is below ``tol``.

A fixed grid (``steps=K``) spends most forwards where a curve is flat. Here every (image, map) pair starts from the
grid of ``steps=START_STEPS`` (top curves: ``START_STEPS + 1`` counts evenly spaced in ``m`` and as many evenly
spaced in ``k``; bottom curves: the ``k``-spaced counts of the reversed ordering) and is refined in ROUNDS. Each round
is ONE batched engine call over the new counts of every pair still above tolerance (pairs of all images and map
sets together, so batches stay full). In a round, per pair:

1. the four curves (remove / add along pi+ and reversed pi+) are read as today (:mod:`repro.criteria.scores`), and
   each criterion's error estimate is split into per-interval terms (:mod:`repro.criteria.errors`): the size of the
   interpolation error of each interval on the axis the criterion integrates over (``m`` for N-Ord and S-Ord,
   ``k`` for TPN and TPS; at most ``|change of output| x width``), TPN and TPS divided by their normaliser ``r y0``
   (so TPN's tolerance is scaled by ``r``);
2. a criterion is converged when its estimate is ``<= tol * max(1, |value|)`` (the relative error the benchmark
   measures), for every score read (``evaluate_scores`` refines on the logit and the probability together);
3. the intervals are ranked by the sum of their terms over the criteria not yet converged, each term divided by
   that criterion's tolerance; the highest-ranked ones are split (bisected in ``m`` where the ``m``-axis criteria
   weigh more, in ``k`` otherwise) until the splits are predicted (each halves its terms) to bring every
   unconverged criterion to ``AIM * tol``; at most every interval is split once, so a round at most doubles a
   curve's points;
4. a curve whose new counts would be at least half of its counts not yet evaluated gets all of them (exact).

A pair stops when every criterion is converged or every count of its curves is evaluated (then it is exact). No
count of a curve is ever asked twice: only counts strictly inside an interval between evaluated counts are asked,
and identical queries of one round (``y0``, ``y_b`` shared by the maps of an image, ``m = M`` of the top and
bottom removal curves) are evaluated once. A pair with ``M <= 2 START_STEPS`` is exact from the start (its first
grid would visit about as many counts as it has). Every decision of a pair depends on that pair's outputs only, so
batch size, image order and the set of pairs evaluated together change no count asked.

The core (:func:`refine`) is pure numpy and asks its outputs from a callable, so it runs on the engine
(:func:`repro.criteria.pairs.run_pairs`) or on synthetic / recorded curves (tests, ``benchmarks/sampling.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from repro.criteria import errors, orders, scores

ADAPTIVE = "adaptive"
"""The value of ``steps`` that selects adaptive sampling."""
START_STEPS = 16
"""The first grid: the counts of ``steps=START_STEPS``."""
DEFAULT_TOL = 3e-3
"""Default ``tol``: the relative error ``err / max(1, |value|)`` each criterion's estimate may keep (chosen in
``benchmarks/RESULTS.md``, section "Adaptive sampling": fewer forwards than ``steps=100`` with a smaller measured
largest error on every criterion)."""
DEFAULT_STEPS: int | str | None = ADAPTIVE
"""How curves are sampled unless the caller says otherwise, in the study (``repro reproduce``), ``repro evaluate``
and the Python API (:func:`repro.criteria.evaluate`) alike: ``K`` (a fixed grid), ``None`` (exact mode) or
``"adaptive"`` (:data:`ADAPTIVE`, with :data:`DEFAULT_TOL`). The one constant to change to switch the default.

Adaptive, because ``benchmarks/RESULTS.md`` section 5 measured it against exact mode on 32 embedded images x 8
methods x both scores: at tol 3e-3, 509 forwards per (image, method) with a largest relative error of 2.6e-3 /
2.7e-3 / 3.4e-3 / 4.6e-3 (N-Ord / S-Ord / TPN / TPS), against 560 forwards and 3.6e-3 / 4.3e-3 / 3.4e-2 / 5.8e-3
for ``K = 100``: fewer forwards at a smaller error on every criterion. ``--quick`` keeps its fixed grid of 10 steps
(:data:`repro.config.QUICK`)."""
AIM = 0.8
"""Each round aims to bring every unconverged criterion's estimate to ``AIM * tol``."""
CURVES: tuple[str, ...] = ("remove_top", "remove_bottom", "add_top", "add_bottom")
"""The four curves of a pair, in the order of :class:`repro.criteria.errors.CurveSamples`."""
M_AXIS = frozenset({"n_ord", "s_ord", "s_ord_text", "s_ord_baseline"})
"""Criteria integrating over ``m`` (the others, TPN and TPS, over ``k``)."""

Ask = Callable[[Sequence[tuple[int, int, np.ndarray]]], Sequence[np.ndarray]]
"""Outputs of requests ``(pair, curve index 0..3, counts (n,))`` -> per request ``(n, S)`` float64 (``S`` scores)."""


def check_tol(tol: float) -> float:
    """``tol`` as a float; ``ValueError`` unless it is a finite number > 0."""
    try:
        value = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"tol must be a positive number, got {tol!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    return value


def check_sampling(steps: int | str | None, tol: float | None) -> float | None:
    """Validate ``steps`` (``K``, ``None`` or ``"adaptive"``) and ``tol``; returns the tolerance in force
    (:data:`DEFAULT_TOL` for ``steps="adaptive"`` without ``tol``; ``None`` for the other modes)."""
    if isinstance(steps, str):
        if steps != ADAPTIVE:
            raise ValueError(f"steps must be a positive integer, None (exact mode; 'exact' on the command line) or "
                             f"{ADAPTIVE!r}, got {steps!r}")
        return DEFAULT_TOL if tol is None else check_tol(tol)
    orders.check_steps(steps)
    if tol is not None:
        raise ValueError(f"tol applies to steps={ADAPTIVE!r} only, got tol={tol!r} with steps={steps!r}")
    return None


@dataclass
class PairState:
    """The evaluated counts and outputs of one pair's four curves (:data:`CURVES`) and whether it is done."""

    M: int
    k_top: np.ndarray
    k_bot: np.ndarray
    counts: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    done: bool = False

    def samples(self, score: int) -> errors.CurveSamples:
        """The four curves under score column ``score``."""
        return errors.CurveSamples(*((c, v[:, score]) for c, v in zip(self.counts, self.values)))

    def complete(self) -> bool:
        """Every count of every curve evaluated (the pair is then exact)."""
        return all(c.size == self.M + 1 for c in self.counts)


@dataclass
class Refinement:
    """What :func:`refine` did: the pairs' final states and, per round, the queries it asked (before the engine's
    deduplication) and the pairs it refined."""

    pairs: list[PairState]
    asked: list[int]
    active: list[int]

    @property
    def rounds(self) -> int:
        return len(self.asked)


def initial_counts(M: int, k_top: np.ndarray, k_bot: np.ndarray) -> list[np.ndarray]:
    """The first counts of the four curves: those of ``steps=START_STEPS``, or every count if ``M <= 2 START_STEPS``."""
    if M <= 2 * START_STEPS:
        every = np.arange(M + 1, dtype=np.int64)
        return [every, every, every, every]
    top = np.union1d(orders.ordering_counts(M, START_STEPS), orders.share_counts(k_top, START_STEPS))
    bottom = orders.share_counts(k_bot, START_STEPS)
    return [top, bottom, top, bottom]


def refine(shapes: Sequence[tuple[int, np.ndarray, np.ndarray]], ask: Ask, tol: float,
           eps: float = scores.EPS) -> Refinement:
    """Adaptive sampling of every pair (see the module docstring).

    Args:
        shapes: per pair ``(M, k_top, k_bot)`` (``k_*``: share axes ``(M + 1,)``).
        ask: returns the outputs of a round's requests (one engine call).
        tol: the relative tolerance (:func:`check_tol`).
    Returns:
        :class:`Refinement`.
    """
    tol = check_tol(tol)
    pairs = [PairState(int(M), np.asarray(kt, np.float64), np.asarray(kb, np.float64)) for M, kt, kb in shapes]
    requests = [(p, c, counts) for p, s in enumerate(pairs)
                for c, counts in enumerate(initial_counts(s.M, s.k_top, s.k_bot))]
    answers = ask(requests)
    for (p, _, counts), out in zip(requests, answers):
        pairs[p].counts.append(np.asarray(counts, np.int64))
        pairs[p].values.append(_as_2d(out))
    asked, active = [sum(len(r[2]) for r in requests)], [len(pairs)]
    while True:
        requests = []
        for p, state in enumerate(pairs):
            if state.done:
                continue
            new = next_counts(state, tol, eps)
            if new is None:
                state.done = True
                continue
            requests += [(p, c, counts) for c, counts in enumerate(new) if counts.size]
        if not requests:
            break
        answers = ask(requests)
        for (p, c, counts), out in zip(requests, answers):
            _merge(pairs[p], c, counts, _as_2d(out))
        asked.append(sum(len(r[2]) for r in requests))
        active.append(len({r[0] for r in requests}))
    return Refinement(pairs, asked, active)


def next_counts(state: PairState, tol: float, eps: float = scores.EPS) -> list[np.ndarray] | None:
    """The counts to evaluate next for each of the four curves, or ``None`` when the pair is converged or exact."""
    if state.M == 0 or state.complete():
        return None
    weight = [np.zeros(c.size - 1) for c in state.counts]  # sum over unconverged criteria of term / tolerance
    m_weight = [np.zeros(c.size - 1) for c in state.counts]
    rows: list[np.ndarray] = []  # per unconverged (criterion, score): its terms / tolerance, all intervals
    needs: list[float] = []
    offsets = np.concatenate([[0], np.cumsum([c.size - 1 for c in state.counts])])
    for s in range(state.values[0].shape[1]):
        curves = state.samples(s)
        y0, yb = float(curves.rt[1][0]), float(curves.at[1][0])
        values = scores.criteria_of_curves(state.M, state.k_top, state.k_bot, *curves, eps=eps)
        for name, parts in errors.interval_terms(state.M, state.k_top, state.k_bot, curves, y0, yb, eps).items():
            limit = tol * max(1.0, abs(values[name]))
            total = errors.total(parts)
            if not total > limit:  # converged (or NaN)
                continue
            row = np.zeros(offsets[-1])
            for c, t in errors.effective(parts):
                w = t / limit
                weight[c] += w
                if name in M_AXIS:
                    m_weight[c] += w
                row[offsets[c]:offsets[c + 1]] += w
            rows.append(row)
            needs.append(2.0 * (total / limit - AIM))  # halving the chosen terms must remove this much
    if not rows:
        return None
    flat = np.concatenate(weight)
    gaps = np.concatenate([np.diff(c) > 1 for c in state.counts])
    candidates = np.flatnonzero(gaps & (flat > 0))
    if candidates.size == 0:  # the error sits in intervals without counts inside: nothing left to refine
        return None
    order = candidates[np.lexsort((candidates, -flat[candidates]))]  # largest weight first, ties by position
    gained = np.cumsum(np.stack(rows)[:, order], axis=1)
    reach = [int(np.searchsorted(g, need, side="left")) + 1 for g, need in zip(gained, needs)]
    chosen = order[:min(max(reach), order.size)]
    new: list[list[int]] = [[] for _ in state.counts]
    for i in chosen:
        c = int(np.searchsorted(offsets, i, side="right") - 1)
        j = int(i - offsets[c])
        a, b = int(state.counts[c][j]), int(state.counts[c][j + 1])
        use_m = c in (0, 2) and 2.0 * m_weight[c][j] >= weight[c][j]
        new[c].append(_split(a, b, None if use_m else (state.k_top if c in (0, 2) else state.k_bot)))
    out = []
    for c, counts in enumerate(state.counts):
        picked = np.unique(np.asarray(new[c], np.int64))
        remaining = state.M + 1 - counts.size
        if picked.size and 2 * picked.size >= remaining:
            picked = np.setdiff1d(np.arange(state.M + 1, dtype=np.int64), counts, assume_unique=True)
        out.append(picked)
    return out


def _split(a: int, b: int, k: np.ndarray | None) -> int:
    """A count strictly inside ``(a, b)`` (``b - a >= 2``): the middle in ``m`` (``k is None``) or the count whose
    share is nearest the middle in ``k`` (ties: the smaller count)."""
    if k is None:
        return (a + b) // 2
    target = 0.5 * (k[a] + k[b])
    j = int(np.searchsorted(k[a + 1:b], target, side="left")) + a + 1  # first count inside with k >= target
    j = min(max(j, a + 1), b - 1)
    if j > a + 1 and target - k[j - 1] <= k[j] - target:
        j -= 1
    return j


def _merge(state: PairState, c: int, counts: np.ndarray, values: np.ndarray) -> None:
    """Insert newly evaluated counts (never evaluated before) into curve ``c``."""
    old = state.counts[c]
    if np.intersect1d(old, counts).size:
        raise AssertionError("a count was asked twice")  # refinement only asks counts inside gaps
    merged = np.concatenate([old, counts])
    order = np.argsort(merged, kind="stable")
    state.counts[c] = merged[order]
    state.values[c] = np.concatenate([state.values[c], values])[order]


def _as_2d(out: np.ndarray) -> np.ndarray:
    out = np.asarray(out, np.float64)
    return out[:, None] if out.ndim == 1 else out
