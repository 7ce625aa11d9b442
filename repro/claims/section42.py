"""The claims of Sections 4.2, 4.3 and the conclusion, as data: one :class:`~repro.claims.rules.ClaimSpec` per
testable claim (:data:`CLAIMS`) and one :class:`Untestable` per claim that cannot be tested (:data:`NOT_TESTABLE`).

Each record quotes ``paper.txt`` verbatim (the words of a sentence split over lines are joined; a hyphen that only
splits a word at a line break is removed; the paper's own spelling is kept) with its lines, and names the
criteria, the methods and the rule; the rule writes the statement of what is tested. ``ref`` is the claim's label
in the claims inventory (C1-C17). Section 5 (Related Work) compares no evaluated methods; its one sentence about
comparing methods is listed as not testable.

How each rule reads its words (details in :mod:`repro.claims.between`, :mod:`~repro.claims.within` and
:mod:`~repro.claims.overall`):

* "relatively better": better medians than each of the six others, or under the claim reading
  ``relative_claims=most`` than most of them (``relatively_better``); "better ... compared to": better medians than
  each method compared (``better_than_all``);
* "good" / "does poorly": better / worse medians than a majority of the six other methods, 4 of 6 (rank 1-3 /
  5-7 of 7), so the middle method is neither (``most_pairs``);
* "not significantly better": a rank-biserial margin of 0.1 (``not_better``);
* "better in necessity than in sufficiency" of one method: its ranks among the methods (``rank_within``);
* "no method significantly better on all": ONE statement (``group``) with two tests, the descriptive one (medians)
  and the inferential one (Holm-corrected paired tests); "none is a frequent winner for both" and "necessity and
  sufficiency are generally mutually exclusive": per-image winners.

A record with ``inferred=True`` is the project's inference from the text, not a statement of the paper; the
report lists it apart and does not count it.

The Random baseline of Figure 4 is never one of "the others" (``others`` defaults to the attribution methods).
"""

from __future__ import annotations

from dataclasses import dataclass

from repro.claims import between, overall, within  # noqa: F401  (registers the rules)
from repro.claims.rules import ClaimSpec
from repro.vocabulary import CRITERIA, PAPER_METHODS, WINNER_CRITERIA

SM, IG, SG, DL, LRP, GB, GC = ("saliency", "integrated_gradients", "smoothgrad", "deeplift", "lrp",
                               "guided_backprop", "gradcam")

TPN_WINNERS = (SM, IG, SG)
"""Section 4.2: better proportionality for necessity (TPN)."""
TPS_WINNERS = (LRP, GB)
"""Section 4.2: better proportionality for sufficiency (TPS)."""
MAJORITY_OF_SIX = (len(PAPER_METHODS) - 1) // 2 + 1
""""Good" / "poor": better / worse than a majority of the other methods of the paper (4 of its 6 others)."""

_C3 = "But clearly, no evaluated method is significantly better than others on all criteria at the same time."

CLAIMS: tuple[ClaimSpec, ...] = (
    ClaimSpec(
        "deeplift_lowest_n_ord",
        "On the ImageNet and VGG model, DeepLIFT has shown relatively better Necessity Ordering",
        "relatively_better", ("n_ord",), winners=(DL,), params={"at_least": MAJORITY_OF_SIX}, lines="L813-815",
        ref="C1a"),
    ClaimSpec(
        "gradcam_lowest_one_minus_s_ord",
        "while GradCAM shows relatively better Sufficiency Ordering.",
        "relatively_better", ("one_minus_s_ord",), winners=(GC,), params={"at_least": MAJORITY_OF_SIX},
        lines="L815-816",
        ref="C1b; also C10a, L853-854: \"GradCAM is probably the best choices one can have for the Sufficiency "
            "Ordering\""),
    ClaimSpec(
        "sm_ig_sg_better_tpn",
        "Considering the proportionality, Saliency Map, Integrated Gradient and Smooth Gradient are all showing "
        "slightly better proportionality for necessity",
        "tp_groups", ("tpn",), winners=TPN_WINNERS, others=TPS_WINNERS, params={"versus": "tps"},
        lines="L816-818", ref="C2, first half"),
    ClaimSpec(
        "lrp_gb_better_tps",
        "while LRP and GB are showing slightly better proportionality for sufficiency.",
        "tp_groups", ("tps",), winners=TPS_WINNERS, others=TPN_WINNERS, params={"versus": "tpn"},
        lines="L819-820", ref="C2, second half"),
    ClaimSpec(
        "no_method_best_on_all", _C3, "no_method_best_on_all", CRITERIA, others=(), lines="L820-822",
        ref="C3, descriptive test (drops 'significantly')"),
    ClaimSpec(
        "no_method_significantly_better_on_all", _C3, "no_method_significantly_better_on_all", CRITERIA,
        others=(), lines="L820-822", ref="C3, inferential test", group="no_method_best_on_all"),
    ClaimSpec(
        "sm_better_necessity_than_sufficiency",
        "Saliency Map performs not bad in necessity for both ordering and proportionality compared to sufficiency.",
        "rank_within", ("n_ord", "s_ord", "tpn", "tps"), winners=(SM,),
        params={"pairs": (("n_ord", "s_ord"), ("tpn", "tps"))}, lines="L825-827", ref="C4"),
    ClaimSpec(
        "ig_deeplift_better_n_ord_than_sm",
        "Threfore, Integrated Gradient and DeepLIFT are two means trying to solve the vanishing gradient issue in "
        "Saliency Map and both archive better Necessity Ordering compared to the Saliency Map.",
        "better_than_all", ("n_ord",), winners=(IG, DL), others=(SM,), lines="L833-836", ref="C6"),
    ClaimSpec(
        "ig_deeplift_not_better_tp_than_sm",
        "But they do not show significantly better proportionality in both necessity and sufficiency.",
        "not_better", ("tpn", "tps"), winners=(IG, DL), others=(SM,), params={"margin": 0.1},
        lines="L836-838", ref="C7 ('they': IG and DeepLIFT, the previous sentence; 'in both': in neither)"),
    ClaimSpec(
        "smoothgrad_iqr_below_saliency",
        "Smooth Gradient shows lower inter-quartile range in both TPN and TPS compared to Saliency Map.",
        "iqr_below", ("tpn", "tps"), winners=(SG,), others=(SM,), lines="L844-846", ref="C8"),
    ClaimSpec(
        "smoothgrad_better_tp_than_saliency",
        "It may help to explain the improvement Smooth Gradient shows in th experiment.",
        "better_than_all", ("tpn", "tps"), winners=(SG,), others=(SM,), lines="L851-853",
        ref="C9, the project's inference: 'the improvement' read as better median TPN and TPS; the paragraph "
            "(L844-853) speaks of the lower IQR, which is C8", inferred=True),
    ClaimSpec(
        "gradcam_poor_tps",
        "GradCAM is probably the best choices one can have for the Sufficiency Ordering regardless of the fact it "
        "does poorly in porportionality for the sufficiency",
        "most_pairs", ("tps",), winners=(GC,), params={"at_least": MAJORITY_OF_SIX, "worse": True},
        lines="L853-855", ref="C10b (C10a is gradcam_lowest_one_minus_s_ord)"),
    ClaimSpec(
        "gb_better_sufficiency_than_necessity",
        "Guided Backpropagation shows better sufficiency on ordering and proportionality compared to the "
        "necessity.",
        "rank_within", ("s_ord", "n_ord", "tps", "tpn"), winners=(GB,),
        params={"pairs": (("s_ord", "n_ord"), ("tps", "tpn"))}, lines="L865-867", ref="C11"),
    ClaimSpec(
        "gb_good_sufficiency",
        "We consider it as a good method to reveal the sufficient features",
        "most_pairs", ("s_ord", "tps"), winners=(GB,), params={"at_least": MAJORITY_OF_SIX},
        lines="L867-868", ref="C11b ('it': Guided Backpropagation, the previous sentence; 'good' read as for LRP, "
                              "C12: better than most on S-Ord and TPS)"),
    ClaimSpec(
        "lrp_good_sufficiency",
        "But specifically, for α2β1-LRP, it shows good sufficiency on both criteria",
        "most_pairs", ("s_ord", "tps"), winners=(LRP,), params={"at_least": MAJORITY_OF_SIX},
        lines="L875-876", ref="C12 ('both criteria': S-Ord and TPS)"),
    ClaimSpec(
        "no_frequent_winner_for_both",
        "We discovered that certain attribution methods excel in necessity or sufficiency, but none is a frequent "
        "winner for both.",
        "no_frequent_winner_for_both", WINNER_CRITERIA, others=(), lines="L949-951",
        ref="Conclusion; Section 4.3 winners (L882-884), Figures 6 and 7; also abstract L23-26, introduction "
            "L87-91"),
    ClaimSpec(
        "necessity_sufficiency_exclusive",
        "The logical concepts of necessity and sufficiency are generally mutually exclusive and our analogues show "
        "the same based on our results: no method is universally optimal for both necessity and sufficiency.",
        "necessity_sufficiency_exclusive", WINNER_CRITERIA, others=(), lines="L953-956",
        ref="Conclusion ('our analogues show the same': per image, winning a necessity criterion and winning a "
            "sufficiency criterion go together less often than independence predicts)"),
)
"""The testable claims, in the order the paper states them."""


@dataclass(frozen=True)
class Untestable:
    """A claim that cannot be tested on a results table, and why."""

    id: str
    paper: str
    lines: str
    ref: str
    reason: str


NOT_TESTABLE: tuple[Untestable, ...] = (
    Untestable(
        "sm_pool_not_sufficient",
        "Therefore, the features with highest scores assigned by Saliency Map may not be actually sufficient for "
        "the decision making process, e.g. the pool is highlighted by Sailency Map in Fig 2 but the model will "
        "probably not make a mistake when only the pool is present to it.",
        "L827-831", "C5",
        "one image (Figure 2's duck), which the paper does not identify, and a region of it (the pool), which no "
        "criterion records"),
    Untestable(
        "winners_give_insight",
        "All the metrics discussed before can be applied to one single input and the interpretation using all "
        "winners for each criteria can provide more insights about the model.",
        "L882-884", "C13", "a statement of method (per-image winners), not a comparison; the winners are counted "
        "under no_frequent_winner_for_both"),
    Untestable(
        "figure6_body_necessary_head_sufficient",
        "For example, in Fig 6, we interpret that the body of a dog is necessary to the English springer class "
        "and only providing the body the model may not consider it is a dog, the sufficient feature is its head.",
        "L884-888", "C14",
        "one image the paper does not identify, and regions of it (body, head), which no criterion records"),
    Untestable(
        "consulting_winners_helps",
        "Consulting different attributions and interpret with the winners can give more comprehensive "
        "understandings.",
        "L888-890", "C15", "no measurable comparison"),
    Untestable(
        "figure6_winners",
        "Winner of N-Ord: DeepLIFT / Winner of S-Ord: GradCAM / Winner of TPN: IG Winner of TPS: GB",
        "L893-901 (Figure 6 panels)", "C16",
        "one image the paper does not identify; the number of images whose four winners are these is reported "
        "under no_frequent_winner_for_both"),
    Untestable(
        "figure7_winner_marks",
        "Red checks mark the winner of Total Proportionality for Necessity and blue checks mark the winner of "
        "Total Proportionality for Sufficiency",
        "L1130-1131 (Figure 7 caption)", "C17",
        "the winners are only in the figure's images, which the paper does not identify; the share of images whose "
        "TPN and TPS winners are the same method is reported under no_frequent_winner_for_both"),
    Untestable(
        "section5_proportionality_compares_methods",
        "sensitivity-n only provides True/False to an attribution methods, but proportionality provides numerical "
        "results for comparing different methods under two purposes, the necessity and sufficiency.",
        "L935-938", "Section 5",
        "a property of the metric, not a comparison of the evaluated methods (Section 5 compares none)"),
    Untestable(
        "lrp_result_identifies_sufficient_features",
        "which increase our confidence to interpret the result of α2β1-LRP as identifying sufficient features in "
        "the input space.",
        "L876-878", "C12, consequence",
        "an interpretation the authors draw from lrp_good_sufficiency (tested there), not a further comparison"),
    Untestable(
        "listed_best_methods",
        "We evaluated existing attribution methods against our criteria and listed the best methods for each "
        "criteria.",
        "L947-949", "Conclusion",
        "a statement of what the paper did; the best method per criterion is in every claim's medians and in "
        "no_method_best_on_all"),
)
"""The claims that cannot be tested on a results table, with the reason (listed in the report, not dropped)."""


VGG16_SPECIFIC: dict[str, str] = {
    "deeplift_lowest_n_ord": "stated 'On the ImageNet and VGG model'",
    "gradcam_lowest_one_minus_s_ord": "same sentence, 'On the ImageNet and VGG model'",
    "sm_ig_sg_better_tpn": "continues the 'On the ImageNet and VGG model' paragraph",
    "lrp_gb_better_tps": "continues the 'On the ImageNet and VGG model' paragraph",
    "gb_better_sufficiency_than_necessity": "read off Figure 5 (VGG16); the paper declines to explain it ('we leave "
                                            "the understanding of GB as a future work')",
    "gb_good_sufficiency": "read off Figure 5 (VGG16), same paragraph as gb_better_sufficiency_than_necessity",
    "lrp_good_sufficiency": "read off Figure 5 (VGG16) for one LRP rule; the paper makes 'not much strong conclusion'",
}
"""Claims about how the methods ranked on VGG16 / ImageNet (Figure 5), not about the methods in general. Every
profile tests them; on a profile other than ``paper`` the report flags their verdict as *about another model*
(:func:`about_another_model`). The other claims rest on a property of the method the paper names (vanishing
gradients for SM vs IG / DeepLIFT, SmoothGrad's averaging, Grad-CAM's upsampling) or on every method at once."""


def about_another_model(claim_id: str, profile: str) -> str:
    """Why the verdict of ``claim_id`` on a run of ``profile`` is about another model than the paper's ranking
    (``""`` when it is not: the ``paper`` profile, or a claim not in :data:`VGG16_SPECIFIC`)."""
    if profile == "paper" or claim_id not in VGG16_SPECIFIC:
        return ""
    return f"a ranking the paper measured on VGG16 / ImageNet ({VGG16_SPECIFIC[claim_id]})"
