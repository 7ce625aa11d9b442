"""Per-image winners (Section 4.3, Figures 6 and 7) and how often one method wins both kinds of criterion.

The conclusion (L949-951): "certain attribution methods excel in necessity or sufficiency, but none is a frequent
winner for both". On each image the winner of each criterion of :data:`repro.vocabulary.WINNER_CRITERIA` is
:func:`repro.vocabulary.best_method` over the compared methods (NaN skipped, ties to the paper's order, the Random
baseline never a winner). For each method ``m``, over the images where all four winners exist:

* ``p_necessity``: the share of images where ``m`` wins a necessity criterion (N-Ord or TPN);
* ``p_sufficiency``: the share where ``m`` wins a sufficiency criterion (S-Ord or TPS);
* ``both``: the share where ``m`` wins a necessity AND a sufficiency criterion on the same image;
* ``expected``: ``p_necessity * p_sufficiency``, the share ``both`` would have if winning necessity and winning
  sufficiency were independent across images.

:func:`winner_frequencies` also gives, for each pair (necessity criterion, sufficiency criterion), the share of
images where the same method wins both (Figure 7 marks the TPN and the TPS winner of each image) against
``sum_m p_a(m) p_b(m)`` under independence, and the images where Figure 6's four winners occur together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from repro.results import ResultsTable
from repro.vocabulary import best_method

NECESSITY: tuple[str, ...] = ("n_ord", "tpn")
SUFFICIENCY: tuple[str, ...] = ("s_ord", "tps")
FIGURE6_WINNERS: dict[str, str] = {"n_ord": "deeplift", "s_ord": "gradcam", "tpn": "integrated_gradients",
                                   "tps": "guided_backprop"}
"""Figure 6's panels: "Winner of N-Ord: DeepLIFT / Winner of S-Ord: GradCAM / Winner of TPN: IG Winner of TPS: GB"
(L893-901), on one image the paper does not identify."""


@dataclass
class WinnerFrequencies:
    """Winner shares over the ``n_images`` images where every criterion has a winner (``dropped``: the others)."""

    methods: list[str]
    n_images: int
    dropped: int
    wins: dict[str, dict[str, int]]
    """criterion -> method -> number of images it wins."""
    p_necessity: dict[str, float]
    p_sufficiency: dict[str, float]
    both: dict[str, float]
    expected: dict[str, float]
    both_count: dict[str, int]
    same_winner: dict[str, float] = field(default_factory=dict)
    """``"n_ord|s_ord"``-style pair -> share of images whose two winners are the same method."""
    same_winner_expected: dict[str, float] = field(default_factory=dict)
    figure6_images: list[str] = field(default_factory=list)
    """Images whose four winners are Figure 6's."""


def per_image_winners(table: ResultsTable, methods: Sequence[str]) -> tuple[list[str], dict[str, list[str | None]]]:
    """Image ids and, per criterion of :data:`NECESSITY` + :data:`SUFFICIENCY`, the winner among ``methods`` on
    each image (``None``: no finite value)."""
    ids = table.image_ids
    out: dict[str, list[str | None]] = {}
    for criterion in (*NECESSITY, *SUFFICIENCY):
        _, cols, matrix = table.pivot(criterion)
        keep = [j for j, m in enumerate(cols) if m in methods]
        out[criterion] = [best_method({cols[j]: row[j] for j in keep}, criterion, exclude=()) for row in matrix]
    return ids, out


def winner_codes(table: ResultsTable, methods: Sequence[str]) -> dict[str, np.ndarray]:
    """:func:`per_image_winners` as integer arrays: per criterion, ``(images,)`` the index into ``methods`` of each
    image's winner, ``-1`` where no method has a finite value."""
    _, winners = per_image_winners(table, methods)
    position = {m: i for i, m in enumerate(methods)}
    return {c: np.array([-1 if w is None else position[w] for w in ws], dtype=np.int64) for c, ws in winners.items()}


def four_winners(codes: dict[str, np.ndarray]) -> np.ndarray:
    """``(images,)`` whether an image has a winner on every criterion of :data:`NECESSITY` + :data:`SUFFICIENCY`
    (the images the winner shares are over)."""
    return np.all([codes[c] >= 0 for c in (*NECESSITY, *SUFFICIENCY)], axis=0)


def same_winner_shares(codes: dict[str, np.ndarray], n_methods: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The share of drawn images whose winners of a necessity criterion and of a sufficiency criterion are the same
    method, and the share expected if the two winners were independent, each averaged over the four pairs
    (:data:`NECESSITY` x :data:`SUFFICIENCY`), for each sample of ``idx`` (``(B, m)`` image indices; only images
    with a winner on every criterion count). Expected: ``sum_m p_a(m) p_b(m)`` from the sample's win shares.

    Returns:
        ``(observed, expected)``, each ``(B,)``; NaN where a sample has no image with four winners.
    """
    valid = four_winners(codes)[idx]
    count = valid.sum(axis=1)
    observed, expected = np.zeros(idx.shape[0]), np.zeros(idx.shape[0])

    def shares(criterion: str) -> np.ndarray:  # (B, methods)
        onehot = (codes[criterion][idx][..., None] == np.arange(n_methods)) & valid[..., None]
        return onehot.sum(axis=1) / np.maximum(count, 1)[:, None]

    for a in NECESSITY:
        for b in SUFFICIENCY:
            same = (codes[a][idx] == codes[b][idx]) & valid
            observed += same.sum(axis=1) / np.maximum(count, 1)
            expected += (shares(a) * shares(b)).sum(axis=1)
    pairs = len(NECESSITY) * len(SUFFICIENCY)
    missing = np.where(count > 0, 1.0, np.nan)
    return observed / pairs * missing, expected / pairs * missing


def winner_frequencies(table: ResultsTable, methods: Sequence[str]) -> WinnerFrequencies:
    """The winner shares of :class:`WinnerFrequencies` for ``methods`` (the compared methods, baselines excluded by
    the caller)."""
    ids, winners = per_image_winners(table, methods)
    criteria = list(winners)
    rows = [i for i in range(len(ids)) if all(winners[c][i] is not None for c in criteria)]
    n = len(rows)
    wins = {c: {m: sum(winners[c][i] == m for i in rows) for m in methods} for c in criteria}

    def share(count: int) -> float:
        return count / n if n else float("nan")

    nec = {m: sum(any(winners[c][i] == m for c in NECESSITY) for i in rows) for m in methods}
    suf = {m: sum(any(winners[c][i] == m for c in SUFFICIENCY) for i in rows) for m in methods}
    both = {m: sum(any(winners[c][i] == m for c in NECESSITY) and any(winners[c][i] == m for c in SUFFICIENCY)
                   for i in rows) for m in methods}
    freq = WinnerFrequencies(list(methods), n, len(ids) - n, wins, {m: share(nec[m]) for m in methods},
                             {m: share(suf[m]) for m in methods}, {m: share(both[m]) for m in methods}, {}, both)
    freq.expected = {m: freq.p_necessity[m] * freq.p_sufficiency[m] for m in methods}
    for a in NECESSITY:
        for b in SUFFICIENCY:
            key = f"{a}|{b}"
            freq.same_winner[key] = share(sum(winners[a][i] == winners[b][i] for i in rows))
            freq.same_winner_expected[key] = sum(share(wins[a][m]) * share(wins[b][m]) for m in methods)
    freq.figure6_images = [ids[i] for i in rows if all(winners[c][i] == w for c, w in FIGURE6_WINNERS.items())]
    return freq
