"""repro.claims.report: claims.md / claims.json of a results directory, the summary, `repro check-claims`."""

from __future__ import annotations

import json
import math

import pytest

from repro.claims import CLAIMS, ClaimSpec, check_claims
from repro.cli import main as cli_main


def _strict_json(text: str):
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


def test_check_claims_writes_standard_json_and_markdown(synthetic, tmp_path):
    out = synthetic.results_dir(tmp_path / "run", examples=0)
    report = check_claims(out, resamples=100, toys=False)
    assert report.profile == "embedded" and report.failed == [] and report.exit_code == 0
    assert (report.num_rows, report.num_images, len(report.methods)) == (20 * 8, 20, 8)
    data = _strict_json((out / "claims.json").read_text())
    assert data["failed"] == [] and [c["id"] for c in data["claims"]] == [c.id for c in CLAIMS]
    n_ord = {s["method"]: s for s in data["claims"][0]["stats"]}
    assert n_ord["deeplift"]["median"] == 0.25 and n_ord["deeplift"]["iqr"] == 9.5 / 64
    assert all(t["a_lower"] for t in data["claims"][0]["tests"])
    text = (out / "claims.md").read_text()
    assert "DeepLIFT has shown relatively better Necessity Ordering" in text and "| DeepLIFT | 20 | 0 | 0.25 |" in text
    assert "Lower is better for every criterion." in text and "**0 of 6 checks do not hold**" in text
    assert not list(out.glob(".*.tmp"))


def test_nan_numbers_are_written_as_null(synthetic, tmp_path):
    # GradCAM's N-Ord is NaN on every image: its median and CI are undefined, and the claim cannot hold
    out = synthetic.results_dir(tmp_path / "run", base=synthetic.with_changes(n_ord__gradcam=math.nan), examples=0)
    report = check_claims(out, resamples=50, toys=False)
    assert report.failed == ["deeplift_lowest_n_ord"]
    gradcam = next(s for s in _strict_json((out / "claims.json").read_text())["claims"][0]["stats"]
                   if s["method"] == "gradcam")
    assert (gradcam["n"], gradcam["dropped"], gradcam["median"], gradcam["ci_low"]) == (0, 20, None, None)


def test_summary_and_direction_come_from_the_claims(synthetic, tmp_path):
    out = synthetic.results_dir(tmp_path / "run", examples=0)
    mixed = (CLAIMS[0], ClaimSpec("gradcam_best_s_ord", "...", "better_than_all", ("s_ord",), winners=("gradcam",)))
    report = check_claims(out, resamples=50, toys=False, claims=mixed)
    lines = report.summary().splitlines()
    assert lines[0] == f"claims of Section 4.2 on {out} (profile embedded, 20 images):"
    assert lines[1] == "  HOLDS          deeplift_lowest_n_ord: median N-Ord: DeepLIFT 0.25 < IG 0.375"
    assert lines[-1] == "2 of 2 checks hold"
    assert "Lower is better for N-Ord; higher is better for S-Ord." in (out / "claims.md").read_text()


def _cli(*args):
    return cli_main(["check-claims", *map(str, args), "--no-toys", "--resamples", "50"])


def test_command_exit_codes(synthetic, tmp_path, capsys):
    broken = synthetic.with_changes(n_ord__lrp=0.0)
    good = synthetic.results_dir(tmp_path / "good", profile="paper", examples=0)
    bad_embedded = synthetic.results_dir(tmp_path / "bad_e", base=broken, examples=0)
    bad_paper = synthetic.results_dir(tmp_path / "bad_p", profile="paper", base=broken, examples=0)
    assert _cli(good) == 0
    assert _cli(bad_embedded) == 0  # embedded: reported, not failed
    assert "--strict` exits 1 on a failed check" in capsys.readouterr().out
    assert _cli(bad_embedded, "--strict") == 1
    assert _cli(bad_paper) == 1
    assert _cli(bad_paper, "--profile", "embedded") == 0
    assert _cli(tmp_path / "nowhere") == 2
    assert "results table not found" in capsys.readouterr().err
