"""repro.claims.winners and the rule no_frequent_winner_for_both on a table built by hand."""

from __future__ import annotations

import math

import pytest

from repro.claims import ClaimSpec, evaluate_claims, winner_frequencies
from repro.claims.winners import per_image_winners
from repro.vocabulary import WINNER_CRITERIA

NAN = math.nan
# Per image, the winner of each criterion (lower N-Ord, TPN, TPS; higher S-Ord), Random never a winner:
#   a: N-Ord SM, TPN SM, S-Ord SM, TPS GB  -> SM wins a necessity AND a sufficiency criterion
#   b: N-Ord IG, TPN SM, S-Ord GB, TPS GB  -> nobody wins both
#   c: N-Ord GB, TPN IG, S-Ord GB, TPS IG  -> GB (N-Ord, S-Ord) and IG (TPN, TPS) both win both
#   d: no finite TPS                      -> dropped
CELLS = {
    ("a", "saliency"): {"n_ord": 0.1, "tpn": 0.1, "s_ord": -0.1, "tps": 0.5},
    ("a", "integrated_gradients"): {"n_ord": 0.2, "tpn": 0.2, "s_ord": -0.3, "tps": 0.6},
    ("a", "guided_backprop"): {"n_ord": 0.3, "tpn": 0.3, "s_ord": -0.2, "tps": 0.4},
    ("b", "saliency"): {"n_ord": 0.2, "tpn": 0.1, "s_ord": -0.3, "tps": 0.5},
    ("b", "integrated_gradients"): {"n_ord": 0.1, "tpn": 0.2, "s_ord": -0.2, "tps": 0.6},
    ("b", "guided_backprop"): {"n_ord": 0.3, "tpn": 0.3, "s_ord": -0.1, "tps": 0.4},
    ("c", "saliency"): {"n_ord": 0.2, "tpn": 0.3, "s_ord": -0.3, "tps": 0.5},
    ("c", "integrated_gradients"): {"n_ord": 0.3, "tpn": 0.1, "s_ord": -0.2, "tps": 0.3},
    ("c", "guided_backprop"): {"n_ord": 0.1, "tpn": 0.2, "s_ord": -0.1, "tps": 0.4},
    ("d", "saliency"): {"n_ord": 0.1, "tpn": 0.1, "s_ord": -0.1, "tps": NAN},
    ("d", "integrated_gradients"): {"n_ord": 0.2, "tpn": 0.2, "s_ord": -0.2, "tps": NAN},
    ("d", "guided_backprop"): {"n_ord": 0.3, "tpn": 0.3, "s_ord": -0.3, "tps": NAN},
    **{(img, "random"): {"n_ord": 0.0, "tpn": 0.0, "s_ord": 1.0, "tps": 0.0} for img in "abcd"},
}
METHODS = ["saliency", "integrated_gradients", "guided_backprop"]


def test_per_image_winners_of_the_hand_table(criteria_table):
    ids, winners = per_image_winners(criteria_table(CELLS), METHODS)
    assert ids == ["a", "b", "c", "d"]
    assert winners == {"n_ord": ["saliency", "integrated_gradients", "guided_backprop", "saliency"],
                       "tpn": ["saliency", "saliency", "integrated_gradients", "saliency"],
                       "s_ord": ["saliency", "guided_backprop", "guided_backprop", "saliency"],
                       "tps": ["guided_backprop", "guided_backprop", "integrated_gradients", None]}


def test_winner_frequencies_against_the_hand_count(criteria_table):
    f = winner_frequencies(criteria_table(CELLS), METHODS)
    assert (f.n_images, f.dropped) == (3, 1)
    assert f.wins["n_ord"] == {"saliency": 1, "integrated_gradients": 1, "guided_backprop": 1}
    assert f.wins["s_ord"] == {"saliency": 1, "integrated_gradients": 0, "guided_backprop": 2}
    sm, ig, gb = METHODS
    # necessity (N-Ord or TPN): SM on a, b; IG on b, c; GB on c. Sufficiency (S-Ord or TPS): SM on a; IG on c; GB
    # on a, b, c. Both on one image: SM on a, IG on c, GB on c.
    assert f.p_necessity == pytest.approx({sm: 2 / 3, ig: 2 / 3, gb: 1 / 3})
    assert f.p_sufficiency == pytest.approx({sm: 1 / 3, ig: 1 / 3, gb: 1.0})
    assert f.both == pytest.approx({sm: 1 / 3, ig: 1 / 3, gb: 1 / 3}) and f.both_count == {sm: 1, ig: 1, gb: 1}
    # under independence: p_necessity * p_sufficiency
    assert f.expected == pytest.approx({sm: 2 / 9, ig: 2 / 9, gb: 1 / 3})
    # same winner of N-Ord and S-Ord on a and c (2/3); independence: 1/3 * 1/3 + 1/3 * 0 + 1/3 * 2/3 = 1/3
    assert f.same_winner["n_ord|s_ord"] == pytest.approx(2 / 3)
    assert f.same_winner_expected["n_ord|s_ord"] == pytest.approx(1 / 3)
    # TPN and TPS (Figure 7's two marks): the same method only on c
    assert f.same_winner["tpn|tps"] == pytest.approx(1 / 3)
    assert f.figure6_images == []


def test_the_rule_compares_each_share_with_the_threshold(criteria_table, monkeypatch):
    monkeypatch.setattr("repro.claims.rules.MIN_IMAGES", 3)  # a hand-sized table below the report's minimum
    table = criteria_table(CELLS)

    def claim(**params):
        spec = ClaimSpec("winners", "...", "no_frequent_winner_for_both", WINNER_CRITERIA, others=tuple(METHODS),
                         params=params)
        return evaluate_claims(table, [spec], resamples=10, seed=0)[0]

    # default threshold 1/k = 1/3: each method wins both on exactly 1/3 of the images, not more: holds
    default = claim()
    assert default.holds is True and default.values["threshold"] == pytest.approx(1 / 3)
    assert default.significant is False  # 3 images cannot show a share below 1/3
    assert default.values["expected"]["saliency"] == pytest.approx(2 / 9)
    assert "SM 33.3% (22.2%)" in default.detail
    strict = claim(frequent=0.3)  # every method is then a frequent winner of both
    assert strict.holds is False and strict.detail.endswith("frequent: SM, IG, GB")
