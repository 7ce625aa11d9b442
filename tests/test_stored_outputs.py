"""Nothing a run reads back is trusted unchecked: a cached map with one flipped byte is named and recomputed (the
table stays identical), and the derived outputs (figures, claims.md, claims.json) are remade when they are missing
or are not the files the run stamped; check-claims and figures say when they read a results.csv that its chunks do
not vouch for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run_small, skip_figures
from repro.cli import main
from repro.figures import draw_all as DRAW_ALL  # the real one, taken before any test replaces it
from repro.outputs import STAMP, file_sha256, results_problem, stale_parts
from test_cache import flip_a_byte_of_the_map

pytestmark = pytest.mark.usefixtures("without_figures")


@pytest.fixture()
def finished(small_run, tmp_path) -> Path:
    return Path(shutil.copytree(small_run, tmp_path / "run"))


def test_a_flipped_byte_in_a_cached_map_is_named_recomputed_and_the_table_is_identical(small_run, finished,
                                                                                      capsys):
    maps = sorted((finished / "maps").rglob("saliency/*.npz"))
    assert maps, "the run caches its maps"
    damaged = maps[0]
    flip_a_byte_of_the_map(damaged)
    for name in ("chunk_00000.csv", "chunk_00000.json", "chunk_00001.csv", "chunk_00001.json"):
        (finished / "chunks" / name).unlink()  # so every map is read back
    (finished / "results.csv").unlink()
    capsys.readouterr()
    assert run_small(finished) == 0
    err = capsys.readouterr().err
    assert f"{damaged}: cached map does not match the checksum recorded when it was written (the file changed); " \
           f"recomputing it" in err
    assert (finished / "results.csv").read_bytes() == (small_run / "results.csv").read_bytes()


# ------------------------------------------------------------------------------------------ derived outputs

@pytest.fixture()
def with_outputs(finished, monkeypatch) -> Path:
    """A finished run whose figures and claims are real (the shared small run draws no figures)."""
    import repro.figures

    monkeypatch.setattr(repro.figures, "draw_all", DRAW_ALL)
    (finished / STAMP).unlink(missing_ok=True)
    assert run_small(finished) == 0
    assert stale_parts(finished, file_sha256(finished / "results.csv")) == []
    return finished


def snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and (p.parent.name == "figures" or p.name.startswith("claims."))}


@pytest.mark.slow  # two runs with figures: 15 s
def test_deleted_figures_and_claims_are_remade_and_nothing_else_is(with_outputs, capsys):
    before = snapshot(with_outputs)
    assert any(name.startswith("figures/") for name in before) and "claims.md" in before
    shutil.rmtree(with_outputs / "figures")
    (with_outputs / "claims.md").unlink()
    capsys.readouterr()
    assert run_small(with_outputs) == 0
    assert "the figures and claims had files missing or changed since the last run: remade" in capsys.readouterr().out
    assert snapshot(with_outputs) == before
    assert stale_parts(with_outputs, file_sha256(with_outputs / "results.csv")) == []


@pytest.mark.slow
def test_claims_rewritten_by_check_claims_are_remade_with_the_readings_table(with_outputs, monkeypatch, capsys):
    skip_figures(monkeypatch)
    before = (with_outputs / "claims.md").read_text()
    assert "## Claims under each reading" in before
    assert main(["check-claims", str(with_outputs), "--no-toys"]) == 0  # no --readings: another claims.md
    assert "## Claims under each reading" not in (with_outputs / "claims.md").read_text()
    assert stale_parts(with_outputs, file_sha256(with_outputs / "results.csv")) == ["claims"]
    capsys.readouterr()
    assert run_small(with_outputs) == 0
    assert "the claims had files missing or changed since the last run: remade" in capsys.readouterr().out
    assert (with_outputs / "claims.md").read_text() == before


def test_claims_made_from_an_edited_table_are_remade_from_the_run(small_run, finished, capsys):
    results = finished / "results.csv"
    good = json.loads((finished / "claims.json").read_text())
    lines = results.read_text().splitlines(keepends=True)
    cells = lines[1].split(",")
    cells[lines[0].strip().split(",").index("n_ord")] = "123.0"
    lines[1] = ",".join(cells)
    results.write_text("".join(lines))
    capsys.readouterr()
    assert main(["check-claims", str(finished), "--no-toys"]) == 0
    assert f"{results}: not verified: it differs from the table its verified chunks assemble to (edited or damaged " \
           f"after the run); the claims read it as it is" in capsys.readouterr().err
    assert run_small(finished) == 0  # results.csv is reassembled from its chunks; the claims follow it
    assert results.read_bytes() == (small_run / "results.csv").read_bytes() and results_problem(finished) == ""
    assert json.loads((finished / "claims.json").read_text())["claims"] == good["claims"]


def test_an_old_format_stamp_remakes_everything_once(finished):
    (finished / STAMP).write_text("0123456789abcdef0123456789abcdef01234567")  # format 1: a SHA-1 as text
    assert stale_parts(finished, file_sha256(finished / "results.csv")) == ["figures", "claims"]


def test_a_table_without_chunks_is_read_unverified(synthetic, tmp_path, capsys):
    out = synthetic.results_dir(tmp_path / "synthetic")
    assert results_problem(out) == "there are no config.json and chunks/ to check it against"
    main(["check-claims", str(out), "--no-toys"])
    assert "not verified: there are no config.json and chunks/ to check it against; the claims read it as it is" \
        in capsys.readouterr().err
