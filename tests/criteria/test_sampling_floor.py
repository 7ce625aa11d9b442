"""``benchmarks/sampling_floor.py``: the floor of any sampler is the random-walk-bridge mathematics it states.

Monte Carlo on synthetic random walks (known sigma) against the closed forms; no model, no timing."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level folder, not part of the installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import sampling_floor as floor  # noqa: E402


def bridge_error(y: np.ndarray, points: np.ndarray) -> float:
    """``sum_m (y(m) - chord(m))`` with the chord through ``y`` at ``points``."""
    m = np.arange(y.size)
    return float(np.sum(y - np.interp(m, points, y[points])))


def test_floor_of_a_constant_sigma_walk_is_the_bridge_variance():
    # sigma = 0.5, M = 2000 counts, L = 40 equal intervals (optimal for constant sigma): the error of the sum has
    # variance L sigma^2 (n^3 - n) / 12 with n = M / L (a discrete bridge), ~ (M sigma^(2/3))^3 / (12 L^2).
    rng = np.random.default_rng(0)
    M, L, sigma = 2000, 40, 0.5
    points = np.linspace(0, M, L + 1).astype(int)
    errors, floors = [], []
    for _ in range(400):
        y = np.concatenate([[0.0], np.cumsum(rng.normal(0.0, sigma, M))]) + np.linspace(0, 3, M + 1)
        errors.append(bridge_error(y, points))
        floors.append(floor.rms_floor(y, L))
    n = M / L
    exact = math.sqrt(L * sigma ** 2 * (n ** 3 - n) / 12.0)
    assert math.sqrt(np.mean(np.square(errors))) == pytest_approx(exact, 0.1)  # Monte Carlo: 400 walks
    assert np.median(floors) == pytest_approx(sigma * M ** 1.5 / (math.sqrt(12.0) * L), 0.05)  # sigma estimated


def test_floor_with_two_roughness_levels_beats_uniform_and_is_reached_by_sigma_two_thirds_spacing():
    # sigma 0.1 on the first half, 0.8 on the second (sigma^(2/3) ratio 4): 10 intervals of 120 counts, then 40 of 30
    # (n ~ sigma^(-2/3)) reach the floor (sum sigma^(2/3))^3 / (12 L^2); 50 equal intervals do not
    rng = np.random.default_rng(1)
    M, L = 2400, 50
    sig = np.where(np.arange(M) < M // 2, 0.1, 0.8)
    adapted = np.concatenate([np.arange(0, 1200, 120), np.arange(1200, M + 1, 30)])
    uniform = np.linspace(0, M, L + 1).astype(int)
    assert adapted.size == uniform.size == L + 1
    err_a, err_u, floors = [], [], []
    for _ in range(400):
        y = np.concatenate([[0.0], np.cumsum(rng.normal(0.0, sig))])
        err_a.append(bridge_error(y, adapted))
        err_u.append(bridge_error(y, uniform))
        floors.append(floor.rms_floor(y, L))
    rms_a, rms_u = math.sqrt(np.mean(np.square(err_a))), math.sqrt(np.mean(np.square(err_u)))
    closed = math.sqrt((M / 2 * (0.1 ** (2 / 3) + 0.8 ** (2 / 3))) ** 3 / (12 * L ** 2))
    assert rms_a == pytest_approx(closed, 0.1)
    assert np.median(floors) == pytest_approx(closed, 0.1)
    assert rms_u > 1.2 * rms_a  # uniform: sqrt((0.1^2 + 0.8^2) / 2 * 48^3 * 50 / 12) / closed = 1.44


def test_independent_increments_show_only_the_detrending_autocorrelation():
    # i.i.d. increments minus their WINDOW-point moving average: lag correlations ~ -1 / WINDOW, not 0
    rng = np.random.default_rng(3)
    ys = [np.concatenate([[0.0], np.cumsum(rng.normal(size=3000))]) for _ in range(20)]
    cv = [SimpleNamespace(necessity=SimpleNamespace(y=y), sufficiency=SimpleNamespace(y=y[::-1].copy()), yb=-1e9)
          for y in ys]
    res = SimpleNamespace(curves=cv)
    ac = floor.autocorrelations({"logit": {"a": res}})
    for lag in floor.LAGS:
        assert abs(float(np.median(ac[lag])) + 1.0 / floor.WINDOW) < 0.015


def test_all_within_is_the_gaussian_probability():
    # one pair whose rms equals the tolerance exceeds it with probability erfc(1 / sqrt 2) = 0.3173
    assert floor.all_within(np.array([1e-3]), 1e-3) == pytest_approx(1 - 0.31731, 1e-4)
    assert floor.all_within(np.array([1e-3, 1e-3]), 1e-3) == pytest_approx((1 - 0.31731) ** 2, 1e-4)
    assert floor.all_within(np.array([0.0]), 1e-3) == 1.0


def pytest_approx(value: float, rel: float):
    import pytest

    return pytest.approx(value, rel=rel)


def test_clipped_curves_are_what_each_criterion_reads():
    curve = SimpleNamespace(y=[3.0, 1.0, -2.0, 0.5])
    assert floor.clipped_curve("n_ord", curve, yb=0.0).tolist() == [3.0, 1.0, 0.0, 0.5]  # max(R_m, y_b)
    curve = SimpleNamespace(y=[0.0, 5.0, 2.0, 3.0])
    assert floor.clipped_curve("s_ord", curve, yb=0.0).tolist() == [0.0, 3.0, 2.0, 3.0]  # min(R'_m, R'_M)


def test_floors_skip_short_curves_and_are_relative_to_counts_and_value():
    # unit-sigma walk over M = 999 counts, far above y_b (no clipping), N-Ord = 10: with 60 points (59 intervals)
    # the floor is sqrt(M^3 / (12 * 59^2)) / (M + 1) / 10 = 0.01545 (sigma^(2/3) = 1 at every count); the curve with
    # M = 100 < 2 * 60 is left out.
    rng = np.random.default_rng(3)
    long = SimpleNamespace(num_positive=999, yb=-1e9, necessity=SimpleNamespace(y=100 + np.cumsum(rng.normal(size=1000))))
    short = SimpleNamespace(num_positive=100, yb=-1e9, necessity=SimpleNamespace(y=np.zeros(101)))
    results = {"logit": {"saliency": SimpleNamespace(curves=[short, long], n_ord=np.array([0.5, 10.0]))}}
    f = floor.floors(results, "n_ord", 60)
    assert f.shape == (1,)
    expected = math.sqrt(999 ** 3 / (12 * 59 ** 2)) / 1000 / 10
    assert abs(f[0] / expected - 1) < 0.05
