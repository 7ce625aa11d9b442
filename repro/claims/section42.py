"""The conclusions of Section 4.2 of the paper, as data: one :class:`~repro.claims.rules.ClaimSpec` per claim.

Each record quotes the paper and names the criterion, the methods compared and the rule
(:mod:`repro.claims.rules`); the statement of what is tested is written by the rule. Criteria are the columns of
Figure 5 (N-Ord, 1 - S-Ord, TPN, TPS: lower is better for each, :data:`repro.vocabulary.LOWER_IS_BETTER`).
A method group is written once: ``others`` defaults to every attribution method that is not a winner, and the
Random baseline of Figure 4 is never one of "the others". See also ``docs/criteria.md``.
"""

from __future__ import annotations

from repro.claims.rules import ClaimSpec
from repro.vocabulary import CRITERIA

SM, IG, SG, DL, LRP, GB, GC = ("saliency", "integrated_gradients", "smoothgrad", "deeplift", "lrp",
                               "guided_backprop", "gradcam")

TPN_WINNERS = (SM, IG, SG)
"""Section 4.2: better proportionality for necessity (TPN)."""
TPS_WINNERS = (LRP, GB)
"""Section 4.2: better proportionality for sufficiency (TPS)."""

CLAIMS: tuple[ClaimSpec, ...] = (
    ClaimSpec(
        "deeplift_lowest_n_ord",
        "On the ImageNet and VGG model, DeepLIFT has shown relatively better Necessity Ordering",
        "better_than_all", ("n_ord",), winners=(DL,)),
    ClaimSpec(
        "gradcam_lowest_one_minus_s_ord",
        "while GradCAM shows relatively better Sufficiency Ordering",
        "better_than_all", ("one_minus_s_ord",), winners=(GC,)),
    ClaimSpec(
        "sm_ig_sg_lower_tpn_than_lrp_gb",
        "Saliency Map, Integrated Gradient and Smooth Gradient are all showing slightly better proportionality "
        "for necessity",
        "better_than_all", ("tpn",), winners=TPN_WINNERS, others=TPS_WINNERS),
    ClaimSpec(
        "lrp_gb_lower_tps_than_others",
        "while LRP and GB are showing slightly better proportionality for sufficiency",
        "better_than_all", ("tps",), winners=TPS_WINNERS),
    ClaimSpec(
        "no_method_best_on_all",
        "But clearly, no evaluated method is significantly better than others on all criteria at the same time.",
        "no_method_best_on_all", CRITERIA, others=()),  # others=(): every attribution method in the table
    ClaimSpec(
        "smoothgrad_iqr_below_saliency",
        "Smooth Gradient shows lower inter-quartile range in both TPN and TPS compared to Saliency Map.",
        "iqr_below", ("tpn", "tps"), winners=(SG,), others=(SM,)),
)
"""The six claims of Section 4.2, in the order the paper states them."""
