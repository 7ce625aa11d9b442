"""repro.claims.toys: the toy examples of Section 3 through the criteria engine, against the numbers by hand."""

from __future__ import annotations

import numpy as np
import pytest

from repro.claims.toys import (
    DERIVED, EXAMPLE1_DELETION, EXAMPLE1_N_ORD, EXAMPLE1_S_ORD, LINEAR_TOY_DISPROPORTIONAL_TPN, aopc,
    example1_deletion_curves, toy_checks,
)


def test_aopc_is_the_running_mean_of_the_drops():
    # drops y0 - y_k of (1, 1, 0, 0) are (0, 0, 1, 1); their running means over k = 0..L
    np.testing.assert_allclose(aopc(np.array([1.0, 1.0, 0.0, 0.0])), [0, 0, 1 / 3, 1 / 2])
    np.testing.assert_allclose(aopc([2.0, 1.0, 0.0]), [0, 1 / 2, 1])


def test_example1_deletion_curves_are_figure_3():
    curves = example1_deletion_curves()
    assert list(curves) == ["A1", "A2", "A3"]
    for name, expected in EXAMPLE1_DELETION.items():
        m, y = curves[name]
        np.testing.assert_array_equal(m, [0, 1, 2, 3])
        np.testing.assert_allclose(y, expected, atol=1e-7)
    # AOPC after all three removals: A1 = A2 = 1/4, A3 = (0 + 0 + 1 + 1) / 4 = 1/2 (A3 ranked above A1 = A2)
    assert aopc(curves["A1"][1])[-1] == pytest.approx(0.25) and aopc(curves["A3"][1])[-1] == pytest.approx(0.5)


def test_toy_checks_hold_with_the_numbers_by_hand():
    checks = {c.id: c for c in toy_checks()}
    assert list(checks) == ["example1_aopc_curves", "example1_n_ord_s_ord", "linear_toy_proportionality"]
    assert all(c.holds for c in checks.values())
    # none of these numbers is printed in the paper: each check says so
    assert all(DERIVED in c.provenance and "printed" in c.provenance.split(DERIVED)[0] for c in checks.values())
    assert DERIVED == "derived by this project from the definitions, not printed in the paper"
    for name, value in EXAMPLE1_S_ORD.items():
        assert checks["example1_n_ord_s_ord"].computed["s_ord"][name] == pytest.approx(value, abs=1e-7)
    # N-Ord over pi+: A1 (1 + 1 + 1 + 0) / 4, A2 (1 + 1 + 1) / 3 (x2 scored 0 stays), A3 (1 + 1 + 0) / 3
    assert EXAMPLE1_N_ORD == {"A1": 3 / 4, "A2": 1.0, "A3": 2 / 3}
    for name, value in EXAMPLE1_N_ORD.items():
        assert checks["example1_n_ord_s_ord"].computed["n_ord"][name] == pytest.approx(value, abs=1e-7)
    lin = checks["linear_toy_proportionality"].computed
    assert abs(lin["tpn_2_1"]) < 1e-6 and abs(lin["tps_2_1"]) < 1e-6
    assert LINEAR_TOY_DISPROPORTIONAL_TPN == 8 / 33  # area 8/11 between the curves, divided by r y0 = 3
    assert lin["tpn_10_1"] == pytest.approx(8 / 33, abs=1e-6) and lin["tps_10_1"] == pytest.approx(8 / 33, abs=1e-6)
    assert lin["n_ord_2_1"] == lin["n_ord_10_1"] and lin["s_ord_2_1"] == lin["s_ord_10_1"]
