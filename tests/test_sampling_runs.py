"""Curve sampling wired into runs (issue 14): ``--steps K | exact | adaptive`` and ``--tol`` in the config, the
engine call, ``config.json``, the settings digest and the error-estimate columns of ``results.csv``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from repro.cli import main
from repro.config import StudyConfig, config_from_record, config_record, make_config, settings_digest
from repro.criteria.adaptive import DEFAULT_TOL
from repro.criteria.errors import BOUND_FIELDS, ERROR_FIELDS
from repro.errors import ReproError
from repro.results import ESTIMATE_COLUMNS, RESULT_COLUMNS, estimate_columns, read_results

SMALL = ["--profile", "embedded", "--chunk-size", "2", "--no-progress", "--readings", "none", "--quick"]
"""Small studies of in-process methods (chunks of two images, no extra map readings)."""
TOL = 0.01
"""A tolerance other than the default, so the test sees that the run's own reaches the engine."""


def run(out: Path, *extra: str) -> int:
    return main(["reproduce", *SMALL, *extra, "--out", str(out)])


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def adaptive_run(tmp_path_factory) -> tuple[Path, list[dict]]:
    """An adaptive run (4 images, 2 methods) and the sampling arguments every engine call received."""
    import repro.criteria

    calls: list[dict] = []
    real = repro.criteria.evaluate_scores

    def spy(*args, **kwargs):
        calls.append({"steps": kwargs.get("steps"), "tol": kwargs.get("tol")})
        return real(*args, **kwargs)

    out = tmp_path_factory.mktemp("adaptive") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(repro.criteria, "evaluate_scores", spy)
        assert run(out, "--limit", "4", "--methods", "saliency", "gradcam", "--steps", "adaptive",
                   "--tol", str(TOL)) == 0
    return out, calls


def test_results_columns_are_the_criteria_then_the_estimates_then_reason():
    criteria = ("n_ord", "s_ord", "one_minus_s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps")
    i = RESULT_COLUMNS.index("tps") + 1
    assert RESULT_COLUMNS[i - len(criteria): i] == criteria
    assert RESULT_COLUMNS[i:] == (*ERROR_FIELDS, *BOUND_FIELDS, "reason")
    assert ESTIMATE_COLUMNS == (*ERROR_FIELDS, *BOUND_FIELDS)
    assert estimate_columns("one_minus_s_ord") == estimate_columns("s_ord") == ("s_ord_err", "s_ord_bound")
    with pytest.raises(KeyError, match="no error estimate for column 'y0'"):
        estimate_columns("y0")


def test_an_adaptive_run_passes_its_tol_and_writes_the_estimates(adaptive_run):
    out, calls = adaptive_run
    assert calls and all(c == {"steps": "adaptive", "tol": TOL} for c in calls)
    with open(out / "results.csv", newline="") as f:
        assert next(csv.reader(f)) == list(RESULT_COLUMNS)
    table = read_results(out)
    assert len(table) == 4 * 2 * 2  # images x methods x scores
    for name in ("n_ord", "s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps"):
        values = table.column(name)
        err, bound = (table.column(c) for c in estimate_columns(name))
        finite = np.isfinite(values)
        assert np.all(np.isnan(err[~finite])) and np.all(err[finite] >= 0), name
        assert (err[finite] > 0).any(), name  # 64 x 64 images: the curves are sampled, not exact
        # what steps="adaptive" promises: every estimate within the run's tol, relative to max(1, |value|)
        assert np.all(err[finite] <= TOL * np.maximum(1.0, np.abs(values[finite]))), name
        assert np.all(np.isnan(bound[finite]) | (bound[finite] >= 0)), name


def test_an_adaptive_run_records_its_tol_and_refuses_a_resume_with_another(adaptive_run, capsys):
    out, _ = adaptive_run
    record = json.loads((out / "config.json").read_text())
    assert record["steps"] == "adaptive" and record["tol"] == TOL
    assert config_from_record(record).tol == TOL
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert run(out, "--limit", "4", "--methods", "saliency", "gradcam", "--steps", "adaptive", "--tol", "0.02") == 2
    assert f"tol: {TOL!r} != 0.02" in one_error_line(capsys.readouterr().err)
    assert run(out, "--limit", "4", "--methods", "saliency", "gradcam", "--steps", "adaptive") == 2  # the default
    assert f"tol: {TOL!r} != {DEFAULT_TOL!r}" in one_error_line(capsys.readouterr().err)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_an_exact_run_writes_zero_errors_and_bounds(tmp_path):
    out = tmp_path / "exact"
    assert run(out, "--limit", "1", "--methods", "gradcam", "--steps", "exact") == 0
    record = json.loads((out / "config.json").read_text())
    assert record["steps"] is None and record["tol"] is None
    table = read_results(out)
    for name in ESTIMATE_COLUMNS:
        assert table.column(name).tolist() == [0.0] * len(table), name


@pytest.mark.parametrize("argv", [
    ["reproduce", "--steps", "50", "--tol", "0.003"],
    ["reproduce", "--quick", "--tol", "0.003"],
    ["reproduce", "--steps", "adaptive", "--tol", "zero"],
    ["reproduce", "--steps", "adaptive", "--tol", "-1"],
    ["evaluate", "--images", "a.npy", "--maps", "b.npy", "--steps", "exact", "--tol", "0.003"],
])
def test_a_bad_tol_is_one_error_line_and_status_2(tmp_path, capsys, argv):
    argv = [*argv, "--out", str(tmp_path / ("out.csv" if argv[0] == "evaluate" else "out"))]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"repro {argv[0]}: error: --steps/--tol: tol ")
    if "--quick" in argv:  # the grid the user did not type is named by the option that chose it
        assert line.endswith("needs --steps adaptive (--quick samples a fixed grid of 10 steps)")


def test_the_config_stores_the_tol_in_force():
    assert make_config(steps="adaptive").tol == DEFAULT_TOL  # stated in config.json, not left implicit
    assert make_config(steps="adaptive", tol="1e-2").tol == 0.01  # as the command line gives it
    assert StudyConfig(steps="adaptive").tol == DEFAULT_TOL
    assert make_config().steps == "adaptive" and make_config().tol == DEFAULT_TOL  # the profiles' default
    assert make_config(steps=100).tol is None and make_config(steps="exact").tol is None
    assert make_config(steps="exact").steps is None
    with pytest.raises(ReproError, match="tol applies to steps='adaptive' only"):
        make_config(steps=100, tol=0.01)
    with pytest.raises(ReproError, match="steps must be a positive integer"):
        make_config(steps=0)


def test_tol_is_a_result_setting_and_old_digests_are_unchanged():
    ids = ["a", "b"]
    record = config_record(make_config(steps=100), ids)
    assert record["tol"] is None
    old = {k: v for k, v in record.items() if k != "tol"}  # a config.json written before the field existed
    assert settings_digest(record) == settings_digest(old)
    adaptive = config_record(make_config(steps="adaptive"), ids)
    other = config_record(make_config(steps="adaptive", tol=0.01), ids)
    assert len({settings_digest(record), settings_digest(adaptive), settings_digest(other)}) == 3
    assert adaptive["tol"] == DEFAULT_TOL
