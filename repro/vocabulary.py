"""The study's vocabulary, TensorFlow-free: method display names and order, the criteria and which way is better.

Every table, figure and claim reads these, so a name, an order or a direction is defined exactly once.

* Methods appear in the paper's order of presentation (:data:`repro.attributions.METHODS`); the Random baseline
  of Figure 4 (:data:`BASELINES`) is reported but never compared against nor crowned winner.
* Direction (Propositions 1, 2, 5 and 7): a lower N-Ord, TPN and TPS is better; a higher S-Ord is better, so the
  plotted ``1 - S-Ord`` of Figure 5 is lower-is-better like the other three.
* :func:`best_method` is the one winner rule: the best finite value in the criterion's direction, NaN skipped,
  ties to the method that comes first in the paper's order. Per-image winners (Figures 6 and 7) and per-median
  winners (the claims report) both use it.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

from repro.attributions import METHODS

DISPLAY_NAMES: dict[str, str] = {
    "saliency": "SM", "integrated_gradients": "IG", "smoothgrad": "SG", "deeplift": "DeepLIFT",
    "lrp": "LRP", "guided_backprop": "GB", "gradcam": "GradCAM", "random": "Random",
}
"""Short names used in tables and figures, as in the paper."""

BASELINES: tuple[str, ...] = ("random",)
"""Methods reported but not compared against or crowned winner (the paper's Random baseline of Figure 4)."""

ATTRIBUTION_METHODS: tuple[str, ...] = tuple(m for m in METHODS if m not in BASELINES)
"""Every registered attribution method (the registry's order), baselines excluded: what a run computes and plots."""

PAPER_METHODS: tuple[str, ...] = ("saliency", "integrated_gradients", "smoothgrad", "deeplift", "lrp",
                                  "guided_backprop", "gradcam")
"""The seven attribution methods of the paper (Section 2.1, Appendix II), in its order: SM, IG, SG, DeepLIFT, LRP,
GB, GradCAM. Fixed, not read from the registry: the paper's claims compare these and only these, so a method added
to the registry is evaluated and plotted but changes no claim, no winner and no majority threshold."""

LOWER_IS_BETTER: dict[str, bool] = {
    "n_ord": True, "s_ord": False, "one_minus_s_ord": True, "tpn": True, "tps": True,
}
"""Criterion column -> whether a lower value is better (Propositions 1, 2, 5, 7)."""

CRITERIA: tuple[str, ...] = ("n_ord", "one_minus_s_ord", "tpn", "tps")
"""The four criteria as plotted in Figure 5 (each lower-is-better)."""

WINNER_CRITERIA: tuple[str, ...] = ("n_ord", "s_ord", "tpn", "tps")
"""The four criteria as Figures 6 and 7 name their winners."""

CRITERION_LABELS: dict[str, str] = {
    "n_ord": "N-Ord", "s_ord": "S-Ord", "one_minus_s_ord": "1 - S-Ord", "tpn": "TPN", "tps": "TPS",
}
"""Criterion column -> the paper's label."""


def display_name(method: str) -> str:
    """The paper's short name of ``method`` (:data:`DISPLAY_NAMES`); an unknown name is returned unchanged."""
    return DISPLAY_NAMES.get(method, method)


def ordered_methods(names: Iterable[str]) -> list[str]:
    """``names`` without repeats, registered methods first in :data:`~repro.attributions.METHODS` order, then
    unknown names in order of first appearance."""
    names = list(dict.fromkeys(names))
    return [m for m in METHODS if m in names] + [m for m in names if m not in METHODS]


def is_better(criterion: str, a: float, b: float) -> bool:
    """Whether value ``a`` of ``criterion`` is strictly better than ``b`` (False when either is NaN)."""
    if criterion not in LOWER_IS_BETTER:
        raise KeyError(f"unknown criterion {criterion!r}; known: {', '.join(LOWER_IS_BETTER)}")
    return a < b if LOWER_IS_BETTER[criterion] else a > b


def best_method(values: Mapping[str, float], criterion: str, exclude: Iterable[str] = BASELINES) -> str | None:
    """The winner of ``criterion`` among ``values`` (method -> value).

    NaN values and ``exclude`` are skipped; ties go to the method first in the paper's order
    (:func:`ordered_methods`). ``None`` when no method has a finite value.
    """
    skip = set(exclude)
    best: str | None = None
    for method in ordered_methods(values):
        v = float(values[method])
        if method in skip or math.isnan(v):
            continue
        if best is None or is_better(criterion, v, float(values[best])):
            best = method
    return best
