"""The criteria of Section 3: N-Ord, S-Ord, TPN and TPS, computed by a batched perturbation engine.

* :mod:`repro.criteria.orders`: per-pixel scores, pi+ and rank maps, the share axis, the counts visited;
* :mod:`repro.criteria.curves`: the compiled engine answering (image, rank range, remove|add) queries;
* :mod:`repro.criteria.scores`: one function per equation (eq. 3, eq. 4, Def. 4, Def. 6) and the exact area;
* :mod:`repro.criteria.errors`: how far a sampled criterion may be from exact mode (estimate and monotone bound);
* :mod:`repro.criteria.adaptive`: ``steps="adaptive"``, refinement in batched rounds until the estimates are
  below ``tol``;
* :mod:`repro.criteria.queries`: pi+ and the counts of each (image, map), the deduplicated engine queries;
* :mod:`repro.criteria.pairs`: the (image, map, target) pairs of a call, one engine pass, their criteria;
* :mod:`repro.criteria.result`: the result records :class:`CriteriaResult`, :class:`ImageCurves`, :class:`Curve`;
* :mod:`repro.criteria.api`: :func:`evaluate` / :func:`evaluate_methods` / :func:`evaluate_scores` (the records
  and the reasons, NaN and flags, are importable from it too).

Usage::

    from repro.criteria import evaluate
    res = evaluate(model, images, maps, targets=targets, steps=100)   # data positional, settings by keyword
    res.n_ord, res.s_ord, res.tpn, res.tps, res.curves[0].tpn_top.x
    by_score = evaluate_scores(model, images, {"saliency": m1, "gradcam": m2})   # both scores, one engine pass
    by_score["logit"]["saliency"].s_ord_text
    res = evaluate(model, images, maps, steps="adaptive", tol=3e-3)  # refine where the error is
    res.n_ord_err, res.tpn_err, res.n_ord_bound, res.num_forwards, res.rounds
"""

from repro.criteria.adaptive import ADAPTIVE, DEFAULT_TOL
from repro.criteria.api import (OUTPUT_SCORE, REASON_NO_POSITIVE, REASON_R_CLIPPED, REASON_R_PRIME_CLIPPED,
                                REASON_Y0, CriteriaResult, Curve, ImageCurves, evaluate, evaluate_methods,
                                evaluate_scores, model_scores, nan_reason)
from repro.criteria.orders import (ordering_counts, pixel_scores, positive_order, rank_map, share_axis,
                                   share_counts)
from repro.criteria.scores import (area_between, at_every_count, n_ord, necessity_ratio, s_ord, sufficiency_ratio,
                                   tpn, tps)

__all__ = [
    "ADAPTIVE", "DEFAULT_TOL", "OUTPUT_SCORE", "REASON_NO_POSITIVE", "REASON_Y0", "REASON_R_CLIPPED",
    "REASON_R_PRIME_CLIPPED", "nan_reason", "CriteriaResult", "Curve", "ImageCurves", "evaluate",
    "evaluate_methods", "evaluate_scores", "model_scores",
    "ordering_counts", "pixel_scores", "positive_order", "rank_map", "share_axis", "share_counts",
    "area_between", "at_every_count", "n_ord", "necessity_ratio", "s_ord", "sufficiency_ratio", "tpn", "tps",
]
