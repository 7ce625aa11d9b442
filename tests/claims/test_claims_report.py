"""repro.claims.report: claims.md / claims.json of a results directory (one reading, or several with the readings
table), the summary, `repro check-claims`."""

from __future__ import annotations

import json
import math

import pytest

from repro.claims import CLAIMS, NOT_TESTABLE, ClaimSpec, check_claims
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
    tests = data["claims"][0]["tests"]
    assert all(t["a_lower"] and t["a_better"] and t["effect_better"] == t["rank_biserial"] > 0 for t in tests)
    assert len(data["claims"][0]["adjusted_p"]) == 6 and data["readings"] is None
    assert [u["id"] for u in data["not_testable"]] == [u.id for u in NOT_TESTABLE]
    # the run's own reading (its config.json says score "probability"), one row per (image, method)
    assert data["claim_readings"] == {"tp_claims": "between", "relative_claims": "all"} and data["reading"] == "score=probability"
    text = (out / "claims.md").read_text()
    assert "DeepLIFT has shown relatively better Necessity Ordering" in text and "| DeepLIFT | 20 | 0 | 0.25 |" in text
    assert "(L813-815, §4.2 Evaluate on the datasets; C1a (relative_claims=all); rule `better_than_all`)" in text
    assert "Lower is better for N-Ord, 1 - S-Ord, TPN, TPS; higher is better for S-Ord." in text
    assert "**One sign convention for every effect size: r > 0 supports the claim**" in text
    assert "Holm within each claim's family" in text
    assert "## Statements that cannot be tested" in text
    assert "`sm_pool_not_sufficient` (C5) | L827-831 (§4.2 Evaluate on the datasets) |" in text
    assert "**0 of 17 checks do not hold**" in text and "## Claims under each reading" not in text
    # each paper statement once: C3's two tests are one statement, SmoothGrad's median claim is an inference
    assert "**15 of 15 statements of the paper hold**" in text
    assert [g["claims"] for g in data["statements"] if len(g["claims"]) > 1] == [
        ["no_method_best_on_all", "no_method_significantly_better_on_all"]]
    assert "smoothgrad_better_tp_than_saliency" not in {i for g in data["statements"] for i in g["claims"]}
    # the model and data it rests on, and every verdict's stability
    assert data["provenance"]["profile"] == "embedded" and "## What these verdicts rest on" in text
    assert data["stability"]["deeplift_lowest_n_ord"]["share"] >= 0.9
    assert data["stability"]["deeplift_lowest_n_ord"]["smallest_stable_images"] <= 20
    assert "| `lrp_rule` | `preset_b` |" in text and "the other side's strongest case" in text
    assert not list(out.glob(".*.tmp"))


def test_nan_numbers_are_written_as_null(synthetic, tmp_path):
    # GradCAM's N-Ord is NaN on every image: its median and CI are undefined, and the claim cannot hold
    out = synthetic.results_dir(tmp_path / "run", base=synthetic.with_changes(n_ord__gradcam=math.nan), examples=0)
    report = check_claims(out, resamples=50, toys=False)
    # every claim that compares GradCAM on N-Ord has no evidence: NOT TESTABLE, with the reason
    assert report.failed == ["deeplift_lowest_n_ord", "no_method_best_on_all", "no_method_significantly_better_on_all",
                             "sm_better_necessity_than_sufficiency", "gb_better_sufficiency_than_necessity",
                             "no_frequent_winner_for_both", "necessity_sufficiency_exclusive"]
    assert all(c.holds is None and "GradCAM has 0 finite N-Ord" in c.detail
               for c in report.claims if c.id in report.failed)
    gradcam = next(s for s in _strict_json((out / "claims.json").read_text())["claims"][0]["stats"]
                   if s["method"] == "gradcam")
    assert (gradcam["n"], gradcam["dropped"], gradcam["median"], gradcam["ci_low"]) == (0, 20, None, None)


def test_summary_and_direction_come_from_the_claims(synthetic, tmp_path):
    out = synthetic.results_dir(tmp_path / "run", examples=0)
    mixed = (CLAIMS[0], ClaimSpec("gradcam_best_s_ord", "...", "better_than_all", ("s_ord",), winners=("gradcam",)))
    report = check_claims(out, resamples=50, toys=False, claims=mixed)
    lines = report.summary().splitlines()
    assert lines[0] == (f"claims of Sections 4.2, 4.3 and the conclusion on {out} ({report.provenance.short()}; "
                        "reading score=probability):")
    assert lines[0].count("embedded profile: the embedded CNN") == 1 and "20 images" in lines[0]
    share = report.stability["deeplift_lowest_n_ord"].share
    assert lines[1] == ("  HOLDS (about another model) deeplift_lowest_n_ord: median N-Ord: DeepLIFT 0.25 < IG 0.375 "
                        f"[stable in {share:.0%} of resamples]")
    assert lines[-1] == (f"2 of 2 paper statements hold (0 partly, 0 do not, 0 not testable); 0 of 0 toy checks hold; "
                         f"{len(NOT_TESTABLE)} statements not testable on a results table")
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


def test_tp_claims_comes_from_the_argument_or_the_run_config(synthetic, tmp_path):
    out = synthetic.results_dir(tmp_path / "run", examples=0)
    assert check_claims(out, resamples=20, toys=False, write=False).claim_readings["tp_claims"] == "between"
    within = check_claims(out, resamples=20, toys=False, write=False, tp_claims="within")
    claim = next(c for c in within.claims if c.id == "sm_ig_sg_better_tpn")
    assert within.claim_readings == {"tp_claims": "within", "relative_claims": "all"}
    assert claim.rule == "rank_within" and "tp_claims=within" in claim.ref
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "tp_claims": "within"}))
    assert check_claims(out, resamples=20, toys=False, write=False).claim_readings["tp_claims"] == "within"


def test_check_claims_with_reading_views_appends_the_readings_table(synthetic, tmp_path):
    out = synthetic.results_dir(tmp_path / "run", examples=0)
    default = synthetic.table()
    flipped = synthetic.table(synthetic.with_changes(n_ord__integrated_gradients=0.125))
    views = [("default", default, {"tp_claims": "between"}), ("tp_claims=within", default, {"tp_claims": "within"}),
             ("score=probability", flipped, {"tp_claims": "between"})]
    report = check_claims(out, resamples=50, toys=False, readings=views)
    assert report.reading == "default" and report.num_rows == len(default) and report.failed == []
    assert report.readings.flipped_by("deeplift_lowest_n_ord") == ["score=probability"]
    text = (out / "claims.md").read_text()
    full, readings = text.split("## Claims under each reading")
    assert "## `deeplift_lowest_n_ord`: HOLDS" in full  # the default reading's full report comes first
    assert "| claim | default | tp_claims=within | score=probability |" in readings
    assert ("- `deeplift_lowest_n_ord`: holds and significant under default; flipped by score=probability "
            "(does not hold)") in readings
    data = _strict_json((out / "claims.json").read_text())
    assert [r["label"] for r in data["readings"]["readings"]] == ["default", "tp_claims=within", "score=probability"]
    deeplift = next(c for c in data["readings"]["claims"] if c["id"] == "deeplift_lowest_n_ord")
    assert deeplift["robust"] is False and deeplift["verdicts"]["score=probability"] == "does not hold"
    summary = report.summary()
    assert "claims under 3 readings (default, tp_claims=within, score=probability):" in summary
    assert summary.endswith(f"{len(CLAIMS) - 1} of {len(CLAIMS)} claims robust across the readings")


def test_check_claims_reads_the_runs_own_reading_of_a_table_with_several(synthetic, tmp_path):
    from repro.results import read_results, write_results

    out = synthetic.results_dir(tmp_path / "run", examples=0)
    own = [{**r, "score": "probability"} for r in read_results(out / "results.csv").rows()]
    other = [{**r, "score": "logit", "n_ord": 0.0 if r["method"] == "lrp" else r["n_ord"]} for r in own]
    write_results(out / "results.csv", own + other)  # two rows per (image, method): one per score
    report = check_claims(out, resamples=20, toys=False, write=False)
    assert report.num_rows == 160 and report.failed == []  # the logit rows (LRP best N-Ord) are not read


def test_claims_about_the_papers_vgg16_ranking_are_tested_and_flagged_on_other_profiles(synthetic, tmp_path):
    import json

    from repro.claims.section42 import VGG16_SPECIFIC

    for profile in ("custom", "embedded"):
        run = synthetic.results_dir(tmp_path / profile, profile=profile, examples=0)
        assert _cli(run) == 0
        report = json.loads((run / "claims.json").read_text())
        assert [c["id"] for c in report["claims"]] == [c.id for c in CLAIMS]  # every claim tested
        flagged = {c["id"] for c in report["claims"] if c["about_another_model"]}
        assert flagged == set(VGG16_SPECIFIC) and report["provenance"]["profile"] == profile
        assert "HOLDS (about another model)" in (run / "claims.md").read_text()
    paper = synthetic.results_dir(tmp_path / "paper", profile="paper", examples=0)
    check_claims(paper, resamples=20, toys=False)
    assert not any(c["about_another_model"] for c in json.loads((paper / "claims.json").read_text())["claims"])


def test_every_line_reference_in_claims_md_names_its_section(synthetic, tmp_path):
    """claims.md says once, at the top, which text its L-numbers index (paper.txt of arXiv:2002.07985, not shipped),
    and every reference after that names the section of the paper its first line is in, so that a reader can find
    it in any copy of the paper: the claims' lines and notes, the untestable ones, the toys' provenance and the
    readings argued both ways."""
    import re

    from repro.claims.paper_lines import LINES_NOTE, section_of, sections_of

    out = synthetic.results_dir(tmp_path / "run", examples=0)
    check_claims(out, resamples=20, toys=True)
    text = (out / "claims.md").read_text()
    head, rest = text.split("## What these verdicts rest on", 1)
    assert text.count(LINES_NOTE) == 1 and LINES_NOTE in head  # stated once, before anything it explains
    assert "`paper.txt`" in LINES_NOTE and "arXiv:2002.07985" in LINES_NOTE and "not shipped" in LINES_NOTE
    body = text.replace(LINES_NOTE, "")
    found = list(re.finditer(r"\bL(\d+)(?:-(\d+))?\b", body))
    assert len(found) >= 55  # 17 claims x 2, 9 untestable, 2 toys, the notes and the readings' cases
    unnamed = []
    for m in found:
        label = sections_of(int(m.group(1)), int(m.group(2)) if m.group(2) else None)
        after = body[m.end():m.end() + len(label) + 2]
        if after not in (f" ({label}", f", {label}"):
            unnamed.append(body[max(0, m.start() - 30):m.end() + 40])
    assert unnamed == []
    # the forms, on real lines of claims.md (the sections checked against paper.txt below)
    assert "| L813-815 (§4.2 Evaluate on the datasets) |" in body
    assert "| L1130-1131 (Appendix III; Figure 7 caption) |" in body
    assert "| L949-951 (§6 Conclusion) |" in body and "abstract L23-26 (Abstract), introduction L87-91" in body
    assert "Provenance: printed (L221-241, §2.3 Evaluation Criteria): Table 1's scores" in body
    assert "(L496, §3.4 Sufficiency Ordering)" in body
    assert (section_of(803), section_of(804), section_of(1133)) == (
        "§4.1 Implementation of Proportionality", "§4.2 Evaluate on the datasets", "Appendix III")
    assert sections_of(800, 810) == "§4.1 Implementation of Proportionality to §4.2 Evaluate on the datasets"


def test_line_reference_sections_are_the_headings_of_paper_txt(paper_text):
    """Each section of repro.claims.paper_lines starts at its heading in paper.txt, and every heading of the text
    (numbered sections, Abstract, the appendices) is one of them; the claims then fall in the sections the report's
    title names (4.2, 4.3 and the conclusion), Figure 7's caption in Appendix III and the one sentence of Section 5
    in Section 5."""
    import re
    from collections import Counter

    from repro.claims.paper_lines import SECTIONS, section_of

    lines = paper_text.split("\n")
    heading = re.compile(r"^(\d\.(\d\.)? [A-Z].*|Appendix( [IV]+)?(: .*)?|Abstract)$")
    headings = [(i, line.strip()) for i, line in enumerate(lines, 1) if heading.match(line.strip())]
    assert headings == [(start, printed) for start, printed, _ in SECTIONS]
    assert len(headings) == 22 and headings[14] == (804, "4.2. Evaluate on the datasets")

    def sections(specs) -> Counter:
        return Counter(section_of(int(re.match(r"L(\d+)", spec.lines).group(1))) for spec in specs)

    assert sections(CLAIMS) == {"§4.2 Evaluate on the datasets": 15, "§6 Conclusion": 2}
    assert sections(NOT_TESTABLE) == {"§4.3 Evaluate with one instance": 4, "§4.2 Evaluate on the datasets": 2,
                                      "Appendix III": 1, "§5 Related Work": 1, "§6 Conclusion": 1}
