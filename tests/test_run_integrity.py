"""A run that cannot be corrupted: write failures at every write site, interruptions at every stage boundary,
damaged chunk files and config.json, SIGKILL at random times. After each, the command either resumes to a
byte-identical results.csv or exits non-zero with one line naming the problem; never a traceback, never a silently
different table."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import repro.figures
from repro.cli import main
from conftest import SMALL_RUN as FAST
from conftest import run_small as run
from conftest import skip_figures

pytestmark = pytest.mark.usefixtures("without_figures")
"""The runs here are compared by their tables, chunks and messages: they draw no figures (tests/conftest.py's
skip_figures), except where the write-failure matrix injects a fault at or after the figures' write site."""

DRAW_ALL = repro.figures.draw_all
"""The real figure drawing, for the runs that write the figures."""


@pytest.fixture(scope="session")
def reference(small_run) -> bytes:
    """results.csv of an uninterrupted run (tests/conftest.py's small_run)."""
    return (small_run / "results.csv").read_bytes()


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def no_temporaries(out: Path) -> bool:
    return not [p for p in out.rglob("*.tmp")]


# ------------------------------------------------------------------------------------------- write failures

SITES = {"config": "config.json", "map": "/maps/", "example": "/examples/", "chunk table": "chunks/chunk_0000?.csv",
         "chunk manifest": "chunks/chunk_0000?.json", "results": "results.csv", "figure": "/figures/",
         "claims": "claims.", "stamp": ".finished"}
"""Every place a run writes a file, as a pattern of the written path."""


def write_sites(monkeypatch, tmp_path) -> dict[str, list[int]]:
    """Site -> the indices of the atomic writes (os.replace calls) of a clean run that write there (figures
    included)."""
    from fnmatch import fnmatch

    monkeypatch.setattr(repro.figures, "draw_all", DRAW_ALL)
    calls = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: calls.append(str(b)) or real(a, b))
    assert run(tmp_path / "count") == 0
    monkeypatch.setattr(os, "replace", real)
    sites: dict[str, list[int]] = {name: [] for name in SITES}
    for k, path in enumerate(calls):
        name = next(n for n, pattern in SITES.items() if fnmatch(path, f"*{pattern}*"))
        sites[name].append(k)
    return sites


FAULTS = [(errno.ENOSPC, "no space left on the device"), (errno.EROFS, "the file system is read-only"),
          (errno.EACCES, "permission denied")]


@pytest.mark.slow  # about 25 small runs, three of them with figures: 35 s
def test_a_write_failure_at_every_write_site_is_one_line_then_resumes_identically(reference, tmp_path, monkeypatch,
                                                                                   capsys):
    sites = write_sites(monkeypatch, tmp_path)
    assert all(sites.values()), sites  # every site is written by a clean run
    # the first write of every site, plus a map in the middle of a batch and the second chunk's files
    points = sorted({ks[0] for ks in sites.values()} | {sites["map"][2], sites["chunk table"][1],
                                                          sites["chunk manifest"][1]})
    real = os.replace
    for n, k in enumerate(points):
        code, message = FAULTS[n % len(FAULTS)]
        if k >= sites["figure"][0]:  # the figures, claims and stamp are written after the figures are drawn
            monkeypatch.setattr(repro.figures, "draw_all", DRAW_ALL)
        else:
            skip_figures(monkeypatch)
        out = tmp_path / f"fault{k}"
        calls = []

        def failing(a, b, k=k, code=code):
            calls.append(b)
            if len(calls) == k + 1:
                raise OSError(code, os.strerror(code))
            return real(a, b)

        monkeypatch.setattr(os, "replace", failing)
        capsys.readouterr()
        assert run(out) == 2, f"write {k} ({calls[-1]})"
        line = one_error_line(capsys.readouterr().err)
        assert f"{calls[-1]}: cannot write: {message}" in line
        assert no_temporaries(out)
        monkeypatch.setattr(os, "replace", real)
        skip_figures(monkeypatch)
        assert run(out) == 0, f"resume after write {k}"
        assert (out / "results.csv").read_bytes() == reference, f"write {k} ({calls[-1]})"


@pytest.mark.parametrize("case", ["directory", "read-only", "under-a-file"])
def test_an_unwritable_out_fails_before_any_work(tmp_path, monkeypatch, capsys, case):
    import repro.pipeline

    monkeypatch.setattr(repro.pipeline, "open_model", lambda cfg: pytest.fail("work started"))
    if case == "directory":
        (tmp_path / "x.csv").mkdir()
        argv = ["evaluate", "--images", "a.npy", "--maps", "b.npy", "--out", str(tmp_path / "x.csv")]
        expected = f"{tmp_path / 'x.csv'}: cannot write: it is a directory"
    elif case == "read-only":
        if os.geteuid() == 0:
            monkeypatch.setattr(os, "mkdir", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EROFS, "ro")))
        else:
            (tmp_path / "ro").mkdir(mode=0o500)
        argv = ["reproduce", *FAST, "--out", str(tmp_path / "ro" / "run")]
        expected = f"{tmp_path / 'ro' / 'run'}: cannot write:"
    else:
        (tmp_path / "file").write_text("")
        argv = ["reproduce", *FAST, "--out", str(tmp_path / "file" / "run")]
        expected = f"{tmp_path / 'file' / 'run'}: cannot write: a parent of it is a file"
    assert main(argv) == 2
    assert expected in one_error_line(capsys.readouterr().err)


# ------------------------------------------------------------------------------------------- interruptions

def interrupt_at(monkeypatch, target: str, nth: int = 1):
    """Raise KeyboardInterrupt at the ``nth`` call of ``target`` (``module.attribute``)."""
    import importlib

    module_name, attribute = target.rsplit(".", 1)
    module = importlib.import_module(module_name)
    real = getattr(module, attribute)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == nth:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, attribute, wrapper)
    return lambda: monkeypatch.setattr(module, attribute, real)


STAGES = [
    ("repro.stages.attribute_cached", 1), ("repro.stages.attribute_cached", 3),  # after a method's maps
    ("repro.stages.attribute_cached", 6),  # second chunk, after its first map set
    ("repro.cache.MapCache.put", 2),  # between two maps of one batch being cached
    ("repro.criteria.evaluate_scores", 2),  # inside the criteria of the second chunk
    ("repro.stages.write_example", 2),  # between the example files
    ("repro.results.chunks.atomic_write_json", 1),  # a chunk table written, its manifest not
    ("repro.results.chunks.concat_tables", 1),  # during assembly
]


@pytest.mark.slow  # two small runs per stage: 5-8 s each
@pytest.mark.parametrize("target, nth", STAGES)
def test_ctrl_c_at_every_stage_boundary_resumes_identically(reference, tmp_path, monkeypatch, capsys, target, nth):
    if target == "repro.cache.MapCache.put":
        from repro.cache import MapCache

        real, calls = MapCache.put, []

        def put(self, key, m):
            calls.append(1)
            if len(calls) == nth:
                raise KeyboardInterrupt
            return real(self, key, m)

        monkeypatch.setattr(MapCache, "put", put)
        restore = lambda: monkeypatch.setattr(MapCache, "put", real)  # noqa: E731
    else:
        restore = interrupt_at(monkeypatch, target, nth)
    out = tmp_path / "run"
    assert run(out) == 130
    assert one_error_line(capsys.readouterr().err).endswith("interrupted; rerun the same command to resume")
    assert not (out / "results.csv").exists() and no_temporaries(out)
    restore()
    assert run(out) == 0
    assert (out / "results.csv").read_bytes() == reference


# ------------------------------------------------------------------------------------------- damaged state

@pytest.fixture()
def finished(small_run, tmp_path) -> Path:
    """A finished run of its own (a copy of the reference run: same settings, same files)."""
    import shutil

    return Path(shutil.copytree(small_run, tmp_path / "run"))


def chunk(out: Path, c: int, suffix: str = ".csv") -> Path:
    return out / "chunks" / f"chunk_{c:05d}{suffix}"


def damage_line(text: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[1] = lines[1][: len(lines[1]) // 2] + "x" + lines[1][len(lines[1]) // 2:]
    return "".join(lines)


def change_a_digit(text: str) -> str:
    i = max(k for k, ch in enumerate(text) if ch.isdigit())
    return text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1:]


DAMAGE = {
    "rows deleted": lambda t: "".join(t.splitlines(keepends=True)[:-3]),
    "a damaged line": damage_line,
    "truncated": lambda t: t[: len(t) // 2],
    "emptied": lambda t: "",
    "a digit changed": change_a_digit,
}


def damage(path: Path, how: str) -> None:
    before = path.read_text()
    after = DAMAGE[how](before)
    assert after != before
    path.write_text(after)


@pytest.mark.parametrize("how", list(DAMAGE))
@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_a_damaged_chunk_is_named_recomputed_and_the_table_is_identical(reference, finished, capsys, how, suffix):
    damage(chunk(finished, 1, suffix), how)
    (finished / "results.csv").unlink()
    capsys.readouterr()
    assert run(finished) == 0
    err = capsys.readouterr().err
    assert f"{chunk(finished, 1)}:" in err and "recomputing it" in err
    assert (finished / "results.csv").read_bytes() == reference


def test_a_deleted_chunk_manifest_or_table_is_recomputed(reference, finished):
    chunk(finished, 0, ".json").unlink()
    chunk(finished, 1).unlink()
    assert run(finished) == 0
    assert (finished / "results.csv").read_bytes() == reference


@pytest.mark.slow  # two small runs: 7 s
def test_a_chunk_from_other_settings_is_recomputed(reference, finished, tmp_path):
    other = tmp_path / "other"
    assert run(other, "--steps", "5") == 0
    for suffix in (".csv", ".json"):
        chunk(finished, 1, suffix).write_bytes(chunk(other, 1, suffix).read_bytes())
    assert run(finished) == 0
    assert (finished / "results.csv").read_bytes() == reference


def test_missing_config_is_refused_never_rebuilt_from_the_command_line(finished, capsys):
    (finished / "config.json").unlink()
    assert run(finished, "--steps", "50") == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{finished / 'config.json'}: missing" in line and "restore config.json" in line
    assert not (finished / "config.json").exists()


def test_changed_settings_on_resume_are_refused(finished, capsys):
    assert run(finished, "--steps", "50") == 2
    assert "steps: 10 != 50" in one_error_line(capsys.readouterr().err)


@pytest.mark.slow  # retrains and reruns: 6 s
def test_weights_retrained_in_place_are_a_changed_setting(tmp_path, capsys):
    # same path, other numbers (what `make embedded-model` does to the shipped file): the resume is refused, and a
    # map cached under the old weights is never served (the key carries the weights' content digest)
    from repro.embedded.model import WEIGHTS_FILE, load_embedded
    from repro.models.weights import weights_id

    w = tmp_path / "weights.h5"
    w.write_bytes(WEIGHTS_FILE.read_bytes())
    assert run(tmp_path / "r", "--weights", str(w)) == 0
    old_id = weights_id("embedded", w)
    model = load_embedded(w)
    kernel = model.keras_model.trainable_weights[0]
    kernel.assign(kernel * 1.01)
    model.keras_model.save_weights(str(w))
    assert weights_id("embedded", w) != old_id
    assert run(tmp_path / "r", "--weights", str(w)) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"weights_id: '{old_id}' != '{weights_id('embedded', w)}'" in line
    assert json.loads((tmp_path / "r" / "config.json").read_text())["weights_id"] == old_id
    assert all(old_id.replace(":", "_") in str(p) for p in (tmp_path / "r" / "maps").rglob("*.npz"))


def test_merge_refuses_a_damaged_shard_and_writes_nothing(tmp_path, capsys):
    for i in range(2):
        assert run(tmp_path / f"s{i}", "--shard", f"{i}/2") == 0
    damage(chunk(tmp_path / "s1", 1), "rows deleted")
    argv = ["merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(tmp_path / "m"), "--no-figures"]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"chunk 1 is missing or damaged: {chunk(tmp_path / 's1', 1)}:" in line
    assert not any((tmp_path / "m").rglob("*.*"))


def test_merge_refuses_chunks_of_other_images_before_copying_anything(tmp_path, capsys):
    # a chunk consistent with itself (rows, manifest, sha256, settings) but of an image the study does not have
    for i in range(2):
        assert run(tmp_path / f"s{i}", "--shard", f"{i}/2") == 0
    table, manifest_file = chunk(tmp_path / "s1", 1), chunk(tmp_path / "s1", 1, ".json")
    manifest = json.loads(manifest_file.read_text())
    old = manifest["image_ids"][0]
    text = table.read_text().replace(f"\n{old},", "\nnot-in-the-study,")
    manifest["image_ids"][0] = "not-in-the-study"
    manifest["sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    table.write_text(text)
    manifest_file.write_text(json.dumps(manifest))
    argv = ["merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(tmp_path / "m"), "--no-figures"]
    assert main(argv) == 2
    assert "the chunks' images are not the study's" in one_error_line(capsys.readouterr().err)
    assert not any((tmp_path / "m").rglob("*.*"))


def test_merge_of_shards_with_different_settings_blames_the_shards(tmp_path, capsys):
    assert run(tmp_path / "s0", "--shard", "0/2") == 0
    assert run(tmp_path / "s1", "--shard", "1/2", "--steps", "5") == 0
    argv = ["merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(tmp_path / "m"), "--no-figures"]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "steps: 10 != 5" in line and "these shards belong to different studies" in line
    assert "another --out" not in line


# ------------------------------------------------------------------------------------------- SIGKILL

@pytest.mark.slow
def test_sigkill_at_several_times_resumes_to_identical_bytes(reference, tmp_path):
    import random

    out = tmp_path / "killed"
    argv = [sys.executable, "-m", "repro.cli", "reproduce", *FAST, "--out", str(out)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    rng = random.Random(12)
    for delay in sorted(rng.uniform(4.0, 14.0) for _ in range(3)):
        process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finished = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert (out / "results.csv").read_bytes() == reference
    assert json.loads((out / "config.json").read_text())["steps"] == 10


def test_a_resume_with_another_batch_size_is_refused(finished, capsys):
    # the model's float32 outputs can differ in the last bits between batch sizes: not a speed-only setting
    assert run(finished, "--batch-size", "7") == 2
    assert "batch_size: 64 != 7" in one_error_line(capsys.readouterr().err)


def test_the_settings_digest_reads_a_missing_setting_as_none():
    from repro.config import settings_digest

    record = {"steps": 10, "shard": [0, 2], "imagenet_dir": "/a"}
    assert settings_digest(record) == settings_digest({**record, "labels": None, "shard": [1, 2],
                                                       "imagenet_dir": "/b"})
    assert settings_digest(record) != settings_digest({**record, "steps": 20})


# ------------------------------------------------------------------------------------------- older formats

def as_older_format(out: Path, c: int) -> None:
    """Rewrite chunk ``c`` as the version before the error-estimate columns wrote it (format 1): its table without
    those columns, its manifest without a ``format`` entry (checksum and row count consistent)."""
    import csv
    import hashlib
    import io

    from repro.results import ESTIMATE_COLUMNS

    with open(chunk(out, c), newline="") as f:
        rows = list(csv.reader(f))
    keep = [i for i, name in enumerate(rows[0]) if name not in ESTIMATE_COLUMNS]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([[r[i] for i in keep] for r in rows])
    chunk(out, c).write_text(buffer.getvalue())
    manifest = json.loads(chunk(out, c, ".json").read_text())
    del manifest["format"]
    manifest["sha256"] = hashlib.sha256(buffer.getvalue().encode()).hexdigest()
    chunk(out, c, ".json").write_text(json.dumps(manifest))


def test_a_fixed_grid_run_writes_its_error_estimates(small_run):
    import numpy as np

    from repro.results import ESTIMATE_COLUMNS, read_results

    table = read_results(small_run)
    assert all(name in table.columns for name in ESTIMATE_COLUMNS)
    finite = np.isfinite(table.column("n_ord"))
    assert (table.column("n_ord_err")[finite] > 0).any()  # 10 steps on 64 x 64 images: not exact


def test_a_chunk_of_an_older_format_is_refused_by_merge_and_recomputed_on_resume(reference, finished, tmp_path,
                                                                                  capsys):
    as_older_format(finished, 1)
    capsys.readouterr()
    argv = ["merge", str(finished), "--out", str(tmp_path / "m"), "--no-figures"]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"chunk 1 is missing or damaged: {chunk(finished, 1)}: it was written in chunk format 1" in line
    assert run(finished) == 0  # the same settings digest: the run resumes, recomputes the old chunk, rewrites the table
    err = capsys.readouterr().err
    assert f"{chunk(finished, 1)}: it was written in chunk format 1" in err and "recomputing it" in err
    assert (finished / "results.csv").read_bytes() == reference
