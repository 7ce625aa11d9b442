"""The criteria of Section 3: N-Ord, S-Ord, TPN and TPS, computed by a batched perturbation engine.

* :mod:`repro.criteria.orders`: per-pixel scores, pi+ and rank maps, the share axis, the counts visited;
* :mod:`repro.criteria.curves`: the compiled engine answering (image, rank range, remove|add) queries;
* :mod:`repro.criteria.scores`: one function per equation (eq. 3, eq. 4, Def. 4, Def. 6) and the exact area;
* :mod:`repro.criteria.api`: :func:`evaluate` / :func:`evaluate_methods` and their result records.

Usage::

    from repro.criteria import evaluate
    res = evaluate(model, images, maps, targets=targets, steps=100)   # data positional, settings by keyword
    res.n_ord, res.s_ord, res.tpn, res.tps, res.curves[0].tpn_top.x
"""

from repro.criteria.api import CriteriaResult, Curve, ImageCurves, evaluate, evaluate_methods
from repro.criteria.orders import (ordering_counts, pixel_scores, positive_order, rank_map, share_axis,
                                   share_counts)
from repro.criteria.scores import (area_between, at_every_count, n_ord, necessity_ratio, s_ord, sufficiency_ratio,
                                   tpn, tps)

__all__ = [
    "CriteriaResult", "Curve", "ImageCurves", "evaluate", "evaluate_methods",
    "ordering_counts", "pixel_scores", "positive_order", "rank_map", "share_axis", "share_counts",
    "area_between", "at_every_count", "n_ord", "necessity_ratio", "s_ord", "sufficiency_ratio", "tpn", "tps",
]
