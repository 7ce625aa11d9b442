"""Each reading of :data:`repro.readings.READINGS` argued from both sides, in one sentence each: why the default,
and the other side's strongest argument. The claims report prints them beside the readings table;
``docs/criteria.md`` and ``docs/methods.md`` give the full argument with the paper's lines."""

from __future__ import annotations

from dataclasses import dataclass

from repro.readings import DEFAULTS, READINGS


@dataclass(frozen=True)
class Case:
    """Why the default value is read, and the strongest argument for the other value(s)."""

    default: str
    against: str
    docs: str


READING_CASES: dict[str, Case] = {
    "score": Case(
        "logit: footnote 2 clips the scores below 0, idle for a probability; every method explains the pre-softmax "
        "score (Section 2.1), and Proposition 8's proof writes y_c = w_c^T x + b_c, an affine score.",
        "probability: Figure 2's caption speaks of 'output confidence 0.99' (L193); the ratios r, r' and the 1/y0 "
        "normaliser need a positive scale, and a logit is defined only up to a shift, so under the logit y_b <= 0 "
        "clips r to 0 and TPN reaches ~1e10 (flagged in results.csv's reason column).",
        "docs/criteria.md, readings 1 and 15"),
    "s_ord": Case(
        "printed: eq. 4 writes its cap with an explicit argument, min{R'_m(x_b, A), R'_M(x_b, pi+_A(x))} - y0, "
        "hard to read as a typo; the equation is the definition.",
        "text: the sentence under it, 'We include min to clip scores above the original output' (L496), names y0 "
        "(the 'original output' of L329-330), and it mirrors eq. 3 (subtract y_b and clip below y_b, L441), so "
        "min{R'_m, y0} - y0 is the mirror of N-Ord.",
        "docs/criteria.md, reading 7"),
    "input_reference": Case(
        "input: 'We use grad x input' (Section 2.1, Appendix II); nothing in the text subtracts a baseline.",
        "input_minus_baseline: Proposition 8 (SM = IG = DeepLIFT on a linear model) holds only with x - x_b, the "
        "black-image baseline that IG and DeepLIFT use.",
        "docs/methods.md, 'The \"x input\" factor'"),
    "guided_backprop": Case(
        "x_input: Figure 2's panel (c) is a signed, input-textured map like SM's (a), which plain GB is not; the "
        "paper reads GB's S-Ord and TPS beside grad x input methods.",
        "plain: Appendix II writes 'x input' for Saliency Map and SmoothGrad but not for GB, which Springenberg et "
        "al. define as the guided gradient alone; '(c) = GB' is an inference from the figure, not a statement.",
        "docs/methods.md, 'Guided Backpropagation'"),
    "target": Case(
        "top1: Section 2.1 explains 'a pre-selected class c'; the model's prediction is what it did, and every "
        "example the paper shows is correctly classified, where both agree.",
        "label: a claim about a method's faithfulness to the true class (Figure 2's 'true label duck') reads the "
        "label on misclassified images.",
        "docs/criteria.md, reading 16"),
    "lrp_rule": Case(
        "preset_b: alpha2-beta1 on the convolutions with Montavon et al.'s practice (epsilon on dense layers, z^B "
        "at the pixels), the configuration iNNvestigate recommends for VGG-style networks.",
        "alpha2beta1: the paper names one rule, 'α2β1-LRP (see Appendix II)' (L874-875), and nothing else; plain "
        "alpha2-beta1 on every layer is the literal reading of the two LRP claims (L819-820, L872-876).",
        "docs/methods.md, 'LRP-alpha2-beta1'"),
    "perturbation_baseline": Case(
        "black: 'b is a baseline value for the image (typically b = 0)' (L326-327) read in pixel space, black "
        "carried through preprocessing, the same black image IG and DeepLIFT use (Appendix II).",
        "zero: b = 0 literally in the model's input space (on VGG16's caffe preprocessing, the mean colour), the "
        "common choice of perturbation libraries; on the embedded model both are the same image.",
        "docs/methods.md, 'The perturbation baseline'"),
    "tp_claims": Case(
        "between: 'SM, IG and SG are all showing slightly better proportionality for necessity while LRP and GB "
        "... for sufficiency' (L816-820) sets two groups against each other on each criterion.",
        "within: 'better proportionality for necessity' of one method can mean better on TPN than on its own TPS, "
        "as 'Saliency Map performs not bad in necessity ... compared to sufficiency' (L825-827) reads.",
        "docs/criteria.md, reading 17"),
    "relative_claims": Case(
        "all: 'DeepLIFT has shown relatively better Necessity Ordering' (L813-815) singles out one method per "
        "criterion, which only 'better than each of the six others' makes unique; 'relatively' qualifies the size "
        "of the lead.",
        "most: 'relatively' may soften the claim to 'better than most', the reading the project already uses for "
        "'good' (better than 4 of the 6 others).",
        "docs/criteria.md, reading 18"),
}
"""Setting -> :class:`Case` (every setting of :data:`repro.readings.READINGS` has one; tested)."""


def case_rows() -> list[tuple[str, str, str, str]]:
    """``(setting, default value, the default's case, the other side's case)`` for each reading with a case."""
    return [(name, DEFAULTS[name], case.default, case.against) for name, case in READING_CASES.items()
            if name in READINGS]
