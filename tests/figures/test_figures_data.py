"""What the figures read: the per-image winners (repro.figures.winners), the example files, the method order."""

from __future__ import annotations

import math

import pytest

from repro.errors import ReproError
from repro.figures import winners
from repro.results import example_paths, load_example


def test_winners_lowest_n_ord_highest_s_ord_lowest_tpn_tps_nan_safe(criteria_table):
    table = criteria_table({("x", m): crit for m, crit in {
        "saliency": {"n_ord": 0.4, "s_ord": -0.9, "tpn": 0.05, "tps": 0.3},
        "deeplift": {"n_ord": 0.1, "s_ord": -0.5, "tpn": 0.20, "tps": math.nan},
        "gradcam": {"n_ord": math.nan, "s_ord": -0.2, "tpn": 0.30, "tps": 0.2},
        "lrp": {"n_ord": 0.1, "s_ord": -0.3, "tpn": math.nan, "tps": 0.1},   # ties DeepLIFT on N-Ord
        "random": {"n_ord": 0.0, "s_ord": 0.0, "tpn": 0.0, "tps": 0.0},       # baseline: never a winner
    }.items()})
    # S-Ord: higher is better (Proposition 2), so GradCAM's -0.2 wins; the N-Ord tie goes to the paper's order.
    assert winners(table, "x") == {"n_ord": "deeplift", "s_ord": "gradcam", "tpn": "saliency", "tps": "lrp"}
    assert winners(table, "x", exclude=()) == {"n_ord": "random", "s_ord": "random", "tpn": "random",
                                              "tps": "random"}
    nan_only = criteria_table({("x", "saliency"): {}, ("x", "lrp"): {}})
    assert winners(nan_only, "x") == {"n_ord": None, "s_ord": None, "tpn": None, "tps": None}
    assert winners(table, "not-an-image") == {"n_ord": None, "s_ord": None, "tpn": None, "tps": None}


def test_winners_on_the_synthetic_table_match_brute_force(synthetic):
    table = synthetic.table()
    for image_id in table.image_ids[:5]:
        rows = [r for r in table.rows() if r["image_id"] == image_id and r["method"] != "random"]
        finite = lambda c: [r for r in rows if not math.isnan(r[c])]  # noqa: E731
        expected = {"n_ord": min(finite("n_ord"), key=lambda r: r["n_ord"])["method"],
                    "s_ord": max(finite("s_ord"), key=lambda r: r["s_ord"])["method"],
                    "tpn": min(finite("tpn"), key=lambda r: r["tpn"])["method"],
                    "tps": min(finite("tps"), key=lambda r: r["tps"])["method"]}
        assert winners(table, image_id) == expected


def test_the_table_lists_methods_in_the_papers_order(synthetic):
    from repro.attributions import METHODS
    from repro.vocabulary import BASELINES, display_name, ordered_methods

    assert BASELINES == ("random",) and set(BASELINES) <= set(METHODS)
    assert display_name("deeplift") == "DeepLIFT" and display_name("my_method") == "my_method"
    assert ordered_methods(["zeta", "random", "lrp", "zeta", "saliency"]) == ["saliency", "lrp", "random", "zeta"]
    table = synthetic.table()
    assert table.methods == ordered_methods(table.column("method").tolist()) == list(METHODS)


def test_load_example_reads_the_contract(synthetic, tmp_path):
    out = synthetic.results_dir(tmp_path, examples=2, size=8)
    paths = example_paths(out)
    assert [p.stem for p in paths] == ["img_00", "img_01"]
    ex = load_example(paths[0])
    assert ex.image.shape == (8, 8, 3) and ex.class_name == "class_0" and ex.target == 0
    assert set(ex.maps) == set(ex.curves) and len(ex.maps) == 8
    assert set(ex.curves["lrp"]) == {"necessity", "sufficiency", "tpn_top", "tpn_bottom", "tps_top", "tps_bottom"}
    bad = out / "examples" / "broken.npz"
    bad.write_bytes(b"nope")
    with pytest.raises(ReproError, match="broken.npz: cannot read example file"):
        load_example(bad)
