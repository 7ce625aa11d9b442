"""Damaged run state of issue 22: a chunk manifest whose fields have the wrong types is a damaged chunk like any
other (a resume names it and recomputes it to the identical table; a merge refuses it in one line), never a
TypeError traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run_small as run
from repro.cli import main

pytestmark = pytest.mark.usefixtures("without_figures")

WRONG_TYPES = {"image_ids": 5, "rows": "x", "sha256": 3, "format": "a"}
"""A field of each kind the issue names, with a value of the wrong type."""


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def set_field(out: Path, c: int, field: str, value) -> Path:
    """Write ``value`` into ``field`` of chunk ``c``'s manifest; the chunk table's path."""
    manifest_file = out / "chunks" / f"chunk_{c:05d}.json"
    manifest = json.loads(manifest_file.read_text())
    manifest[field] = value
    manifest_file.write_text(json.dumps(manifest))
    return manifest_file.with_suffix(".csv")


def problem(field: str) -> str:
    value = WRONG_TYPES[field]
    return f"chunk_00001.json: {field!r} is {value!r} ({type(value).__name__}), expected"


@pytest.fixture()
def finished(small_run, tmp_path) -> Path:
    """A finished run of its own (a copy of tests/conftest.py's small_run)."""
    return Path(shutil.copytree(small_run, tmp_path / "run"))


@pytest.mark.parametrize("fields", [("image_ids", "rows"), ("sha256", "format")])
def test_a_manifest_field_of_the_wrong_type_is_named_and_recomputed(small_run, finished, capsys, fields):
    # two chunks, one damaged field each
    tables = [set_field(finished, c, field, WRONG_TYPES[field]) for c, field in enumerate(fields)]
    (finished / "results.csv").unlink()
    capsys.readouterr()
    assert run(finished) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for c, (table, field) in enumerate(zip(tables, fields)):
        expected = problem(field).replace("chunk_00001", f"chunk_{c:05d}")
        assert f"[repro] {table}: {expected}" in err and "; recomputing it" in err
    assert (finished / "results.csv").read_bytes() == (small_run / "results.csv").read_bytes()


@pytest.mark.parametrize("field", list(WRONG_TYPES))
def test_merge_refuses_a_manifest_field_of_the_wrong_type_in_one_line(finished, tmp_path, capsys, field):
    table = set_field(finished, 1, field, WRONG_TYPES[field])
    capsys.readouterr()
    assert main(["merge", str(finished), "--out", str(tmp_path / "m"), "--no-figures"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"repro merge: error: merge into {tmp_path / 'm'}: chunk 1 is missing or damaged: "
                           f"{table}: {problem(field)}")
    assert not any((tmp_path / "m").rglob("*.*"))
