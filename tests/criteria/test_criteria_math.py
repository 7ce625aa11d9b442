"""The small math pieces: pixel scores, pi+ with ties, rank maps, share axis, visited counts, the four equations
and the exact area between piecewise-linear curves. Expected numbers are worked out by hand in the comments."""

import numpy as np
import pytest

from repro.criteria import (area_between, at_every_count, n_ord, necessity_ratio, ordering_counts, pixel_scores,
                            positive_order, rank_map, s_ord, share_axis, share_counts, sufficiency_ratio, tpn, tps)
from repro.criteria.scores import EPS_IN_NUMERATOR


def test_pixel_scores_sum_channels_and_keep_full_resolution():
    maps = np.arange(2 * 2 * 3 * 3, dtype=np.float32).reshape(2, 2, 3, 3)
    np.testing.assert_array_equal(pixel_scores(maps, (2, 3)), maps.sum(-1))
    np.testing.assert_array_equal(pixel_scores(maps[..., 0], (2, 3)), maps[..., 0])


def test_pixel_scores_resize_is_bilinear_with_half_pixel_centres():
    # 2 -> 4 samples at source coordinates -0.25, 0.25, 0.75, 1.25 (clamped): a, (3a+b)/4, (a+3b)/4, b.
    a, b = 1.0, 5.0
    coarse = np.array([[[a, b], [a, b]]])  # (1, 2, 2), constant along rows
    out = pixel_scores(coarse, (4, 4))
    np.testing.assert_allclose(out[0], np.tile([a, (3 * a + b) / 4, (a + 3 * b) / 4, b], (4, 1)), atol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_pixel_scores_reject_non_finite(bad):
    maps = np.zeros((1, 2, 2))
    maps[0, 1, 1] = bad
    with pytest.raises(ValueError, match="1 non-finite"):
        pixel_scores(maps, (2, 2))


def test_pixel_scores_reject_wrong_rank():
    with pytest.raises(ValueError, match=r"\(4, 4\)"):
        pixel_scores(np.zeros((4, 4)), (4, 4))


def test_positive_order_breaks_ties_by_ascending_flat_index():
    s = np.array([[0.5, 2.0, 0.5], [-1.0, 2.0, 0.0]])  # flat: 0.5 2 0.5 -1 2 0
    np.testing.assert_array_equal(positive_order(s), [1, 4, 0, 2])
    ranks, M = rank_map(s)
    assert M == 4
    np.testing.assert_array_equal(ranks, [[2, 0, 3], [6, 1, 6]])  # non-positive pixels get P = 6


def test_share_axis_is_cumulative_share_ending_at_one():
    np.testing.assert_allclose(share_axis(np.array([3.0, 2.0, 1.0])), [0, 0.5, 5 / 6, 1])
    np.testing.assert_allclose(share_axis(np.array([1.0, 2.0, 3.0])), [0, 1 / 6, 0.5, 1])
    np.testing.assert_array_equal(share_axis(np.zeros(0)), [0.0])
    with pytest.raises(ValueError):
        share_axis(np.array([1.0, 0.0]))


def test_ordering_counts():
    np.testing.assert_array_equal(ordering_counts(3, 100), [0, 1, 2, 3])  # exact when M <= K
    np.testing.assert_array_equal(ordering_counts(3, None), [0, 1, 2, 3])
    np.testing.assert_array_equal(ordering_counts(10, 4), [0, 3, 5, 8, 10])  # round(j*10/4), halves up: 2.5->3
    np.testing.assert_array_equal(ordering_counts(0, 4), [0])
    with pytest.raises(ValueError):
        ordering_counts(10, 0)


def test_share_counts_smallest_count_reaching_each_share():
    k = share_axis(np.array([5.0, 1, 1, 1, 1, 1]))  # 0, .5, .6, .7, .8, .9, 1
    # K = 4: shares 0, .25, .5, .75, 1 -> m = 0, 1, 1, 4, 6
    np.testing.assert_array_equal(share_counts(k, 4), [0, 1, 4, 6])
    np.testing.assert_array_equal(share_counts(k, 6), np.arange(7))  # exact when M <= K


def test_at_every_count_interpolates_linearly_in_m():
    np.testing.assert_allclose(at_every_count(np.array([0, 2, 5]), np.array([1.0, 0.0, 3.0])),
                               [1, 0.5, 0, 1, 2, 3])
    np.testing.assert_array_equal(at_every_count(np.arange(4), np.array([4.0, 3, 2, 1])), [4, 3, 2, 1])
    with pytest.raises(ValueError):
        at_every_count(np.array([1, 2]), np.array([0.0, 1.0]))


def test_area_between_same_breakpoints_no_crossing():
    assert area_between([0, 1], [1, 1], [0, 1], [0, 0]) == pytest.approx(1.0)


def test_area_between_sign_change_inside_segment():
    # a = x, b = 1 - x: |a - b| = |2x - 1|, two triangles of base 1/2 and height 1: 1/4 each.
    assert area_between([0, 1], [0, 1], [0, 1], [1, 0]) == pytest.approx(0.5, abs=1e-15)
    # a = x, b = (1 - x) / 3 cross at x = 1/4: triangles 1/2 * 1/4 * 1/3 + 1/2 * 3/4 * 1 = 1/24 + 3/8 = 5/12.
    assert area_between([0, 1], [0, 1], [0, 1], [1 / 3, 0]) == pytest.approx(5 / 12, abs=1e-15)


def test_area_between_different_breakpoints():
    # a: (0,0)-(0.25,1)-(1,1); b: (0,0)-(1,1). |a-b| = 3x on [0,.25], then 1-x: 3/32 + 9/32 = 3/8.
    assert area_between([0, 0.25, 1], [0, 1, 1], [0, 1], [0, 1]) == pytest.approx(3 / 8, abs=1e-15)


def test_area_between_jump_at_repeated_x():
    # a = 0 on [0, .5) and 1 on (.5, 1] (points (0,0), (.5,0), (.5,1), (1,1)), b = 0: area = 0.5.
    assert area_between([0, 0.5, 0.5, 1], [0, 0, 1, 1], [0, 1], [0, 0]) == pytest.approx(0.5, abs=1e-15)


def test_area_between_rejects_different_spans():
    with pytest.raises(ValueError, match="different ranges"):
        area_between([0, 1], [0, 0], [0, 0.5], [0, 0])


def test_n_ord_and_s_ord_equations():
    # eq. 3: mean(max(R - yb, 0)) over (1, .5, -.2) with yb = .1 -> (.9 + .4 + 0) / 3
    assert n_ord(np.array([1.0, 0.5, -0.2]), 0.1) == pytest.approx(1.3 / 3)
    # eq. 4 as printed: mean(min(R', R'_M) - y0) over (0, .9, .6) with y0 = 1 -> (-1 - .4 - .4) / 3
    assert s_ord(np.array([0.0, 0.9, 0.6]), 1.0) == pytest.approx(-1.8 / 3)


def test_ratios_and_their_epsilon():
    assert necessity_ratio(0.0, 0.0) == 1.0  # y_b = R_M = 0: removing pi+ reached the baseline
    assert necessity_ratio(0.2, 0.4) == pytest.approx(0.5)
    assert necessity_ratio(0.4, 0.2) == 1.0
    assert necessity_ratio(-1.0, -2.0) == 1.0  # clipped below 0
    assert sufficiency_ratio(0.3, 0.6) == pytest.approx(0.5)
    assert sufficiency_ratio(0.9, 0.6) == 1.0


def test_eps_in_numerator_against_the_footnotes_literal_form():
    """EPS_IN_NUMERATOR (True): eps on both sides of r and r'; False: footnote 2's "to the denominator" only."""
    assert EPS_IN_NUMERATOR is True
    eps = 1e-10
    # y_b = R_M = 0 (removing pi+ reaches the baseline): r = (0 + eps) / (0 + eps) = 1 against 0 / (0 + eps) = 0.
    assert necessity_ratio(0.0, 0.0) == 1.0
    assert necessity_ratio(0.0, 0.0, eps_in_numerator=False) == 0.0
    # a logit y_b = -1.5 and R_M = -0.5 both clip to 0: the same two values.
    assert necessity_ratio(-1.5, -0.5) == 1.0 and necessity_ratio(-1.5, -0.5, eps_in_numerator=False) == 0.0
    # the linear toy below (area 8/11, y0 = 3, y_b = R_M = 0): TPN = (8/11) / (1 * 3 + eps) = 8/33 against
    # (8/11) / (0 * 3 + eps) = 7.27e9.
    top_k, bot_k = [0, 10 / 11, 1], [0, 1 / 11, 1]
    assert tpn(top_k, [3, 1, 0], bot_k, [3, 2, 0], 3.0, 0.0) == pytest.approx(8 / 33, rel=1e-9)
    literal = tpn(top_k, [3, 1, 0], bot_k, [3, 2, 0], 3.0, 0.0, eps_in_numerator=False)
    assert literal == pytest.approx(8 / 11 / eps, rel=1e-9)
    # r' with R'_M = 0 < y0 = 2: (0 + eps) / (2 + eps) = eps / 2 against 0. TPS over the adding curves
    # top (0,0) (1,0), bottom (0,0) (.5,1) (1,0): area 1/2; TPS = 0.5 / (eps/2 * 2 + eps) = 0.5 / (2 eps) = 2.5e9
    # against 0.5 / eps = 5e9 (both degenerate, a factor 2 apart).
    assert sufficiency_ratio(0.0, 2.0) == pytest.approx(eps / 2, rel=1e-9)
    assert sufficiency_ratio(0.0, 2.0, eps_in_numerator=False) == 0.0
    assert tps([0, 1], [0, 0], [0, 0.5, 1], [0, 1, 0], 2.0) == pytest.approx(0.5 / (2 * eps), rel=1e-9)
    assert tps([0, 1], [0, 0], [0, 0.5, 1], [0, 1, 0], 2.0, eps_in_numerator=False) == pytest.approx(0.5 / eps,
                                                                                                    rel=1e-9)
    # far from 0 the two forms agree to eps / y_b (r) and eps / R'_M (r') relative: here 2e-10 and 3e-10.
    for yb, rm in ((0.5, 0.8), (2.0, 7.0), (0.3, 0.3)):
        assert necessity_ratio(yb, rm, eps_in_numerator=False) == pytest.approx(necessity_ratio(yb, rm), rel=1e-9)
    for added, y0 in ((0.4, 1.0), (3.0, 5.0)):
        assert (sufficiency_ratio(added, y0, eps_in_numerator=False)
                == pytest.approx(sufficiency_ratio(added, y0), rel=1e-9))
    # and so do TPN and TPS (the penalty case above: y_b = 0.25, R_M = 0.5, y0 = 1, area 1/4 -> 0.5).
    curves = ([0, 0.5, 1], [1, 0.5, 0.5], [0, 0.5, 1], [1, 1, 0.5])
    assert tpn(*curves, 1.0, 0.25, eps_in_numerator=False) == pytest.approx(tpn(*curves, 1.0, 0.25), rel=1e-9)
    assert tpn(*curves, 1.0, 0.25, eps_in_numerator=False) == pytest.approx(0.5, rel=1e-9)
    adding = ([0, 0.5, 1], [0, 0.5, 0.5], [0, 0.5, 1], [0, 0, 0.5])
    assert tps(*adding, 1.0, eps_in_numerator=False) == pytest.approx(tps(*adding, 1.0), rel=1e-9)


def test_tpn_tps_of_the_linear_toy_by_hand():
    # f = 2 x1 + x2 at (1, 1), zero baseline, scores 10:1 (S = 11). Removal curves in k:
    # top (0,3) (10/11,1) (1,0); bottom (0,3) (1/11,2) (1,0); |top-bottom| = 8.8k, 0.8, 8.8(1-k):
    # area = 0.4/11 + 0.8*9/11 + 0.4/11 = 8/11; r = 1 (y_b = R_M = 0); TPN = 8/11 / 3 = 8/33.
    top_k, bot_k = [0, 10 / 11, 1], [0, 1 / 11, 1]
    assert tpn(top_k, [3, 1, 0], bot_k, [3, 2, 0], 3.0, 0.0) == pytest.approx(8 / 33, rel=1e-9)
    # adding: top (0,0) (10/11,2) (1,3); bottom (0,0) (1/11,1) (1,3): same gaps; r' = 1; TPS = 8/33.
    assert tps(top_k, [0, 2, 3], bot_k, [0, 1, 3], 3.0) == pytest.approx(8 / 33, rel=1e-9)
    # proportional scores 2:1 -> both curves are 3 - 3k: TPN = TPS = 0.
    assert tpn([0, 2 / 3, 1], [3, 1, 0], [0, 1 / 3, 1], [3, 2, 0], 3.0, 0.0) == pytest.approx(0, abs=1e-15)


def test_tpn_penalty_r_when_removal_stops_above_baseline():
    # curves end at R_M = 0.5 while y_b = 0.25: r = 1/2, so TPN doubles against r = 1.
    # |top - bottom|: 0 -> .5 on [0, .5] and .5 -> 0 on [.5, 1]: area = 1/8 + 1/8.
    area = area_between([0, 0.5, 1], [1, 0.5, 0.5], [0, 0.5, 1], [1, 1, 0.5])
    assert area == pytest.approx(0.25)
    assert tpn([0, 0.5, 1], [1, 0.5, 0.5], [0, 0.5, 1], [1, 1, 0.5], 1.0, 0.25) == pytest.approx(0.5, rel=1e-9)
    assert tpn([0, 0.5, 1], [1, 0.5, 0.5], [0, 0.5, 1], [1, 1, 0.5], 1.0, 0.5) == pytest.approx(0.25, rel=1e-9)


def test_pixel_scores_reject_finer_maps():
    with pytest.raises(ValueError, match="finer than the input"):
        pixel_scores(np.zeros((1, 8, 8)), (4, 4))
