"""What a finished run directory makes from its table, and whether each of those outputs is up to date.

A run's derived outputs come in two parts, each made from ``results.csv``:

* ``figures``: every file :func:`repro.figures.draw_all` writes for the run's own reading;
* ``claims``: ``claims.md`` and ``claims.json`` as ``repro reproduce`` writes them (with the readings table).

``OUT/.finished`` (:data:`STAMP`, JSON) records the SHA-256 of the ``results.csv`` they were made from and the
SHA-256 of every output file, written after all of them. A rerun regenerates a part when the table changed, when
the stamp is missing or of another format, or when any of the part's files is missing or is not the file recorded
(``repro check-claims`` without ``--readings`` rewrites ``claims.md`` without the readings table; a deleted
``figures/``): :func:`stale_parts`. Nothing else decides "up to date".

:func:`results_problem` checks ``results.csv`` against the verified chunks it was assembled from, for the commands
that read a run directory without running it (``check-claims``, ``figures``): what they compute from an edited or
damaged table is said to be unverified.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from repro.errors import ReproError
from repro.io import atomic_write_json, file_digest

STAMP = ".finished"
"""The stamp's file name in a run directory."""

STAMP_FORMAT = 2
"""1: the SHA-1 of results.csv as plain text (regenerates everything once); 2: this module's JSON."""

PARTS: tuple[str, ...] = ("figures", "claims")
"""The derived outputs, in the order a run makes them."""

CLAIMS_FILES: tuple[str, ...] = ("claims.md", "claims.json")
"""The files of the ``claims`` part."""


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes, the digest the stamp records (:func:`repro.io.file_digest`)."""
    return file_digest(path, "sha256")


def read_stamp(out: str | Path) -> dict | None:
    """The stamp of ``out`` (``{"format", "results_sha256", "outputs": {part: {relative path: sha256}}}``), or
    ``None`` when it is missing, unreadable or of another format."""
    try:
        stamp = json.loads((Path(out) / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("format") != STAMP_FORMAT \
            or not isinstance(stamp.get("results_sha256"), str) or not isinstance(stamp.get("outputs"), dict):
        return None
    return stamp


def _part_is_current(out: Path, recorded: object) -> bool:
    if not isinstance(recorded, dict) or not recorded:
        return False
    for name, digest in recorded.items():
        path = out / str(name)
        if not path.is_file() or file_sha256(path) != digest:
            return False
    return True


def stale_parts(out: str | Path, results_sha256: str) -> list[str]:
    """The parts of :data:`PARTS` to (re)make: all of them unless the stamp records this table, else each part
    with a file missing or changed since it was stamped."""
    out = Path(out)
    stamp = read_stamp(out)
    if stamp is None or stamp["results_sha256"] != results_sha256:
        return list(PARTS)
    return [part for part in PARTS if not _part_is_current(out, stamp["outputs"].get(part))]


def write_stamp(out: str | Path, results_sha256: str, files: dict[str, Iterable[str | Path]]) -> Path:
    """Record that ``files`` (part -> its files, absolute or relative to ``out``) were made from the table of
    ``results_sha256``; their digests are read now, after they were written."""
    out = Path(out)

    def relative(p: str | Path) -> str:
        p = Path(p)
        return str(p.relative_to(out) if p.is_absolute() else p)

    outputs = {part: {relative(p): file_sha256(out / relative(p)) for p in paths} for part, paths in files.items()}
    return atomic_write_json(out / STAMP, {"format": STAMP_FORMAT, "results_sha256": results_sha256,
                                           "outputs": outputs})


def recorded_files(out: str | Path, part: str) -> list[str]:
    """The files of ``part`` the stamp records (relative to ``out``; empty without a stamp)."""
    stamp = read_stamp(out)
    return list((stamp or {"outputs": {}})["outputs"].get(part) or {})


def results_problem(out: str | Path) -> str:
    """``""`` when ``OUT/results.csv`` is exactly the table its verified chunks assemble to; otherwise why it cannot
    be trusted (no config.json or chunks to check it against, a chunk that fails its check, or a table that differs
    from its chunks: edited or damaged after the run)."""
    from repro.config import config_from_record, settings_digest
    from repro.io import read_json
    from repro.results.chunks import UnsoundChunk, assembled_text, count_chunks

    out = Path(out)
    if not (out / "config.json").is_file() or not (out / "chunks").is_dir():
        return "there are no config.json and chunks/ to check it against"
    try:
        record = read_json(out / "config.json")
        cfg = config_from_record(record)
        num_chunks = count_chunks(int(record["num_image_ids"]), cfg.chunk_size)
        settings, row_keys = settings_digest(record), cfg.row_keys()
    except (ReproError, KeyError, TypeError, ValueError) as exc:
        return f"its config.json cannot be read ({exc})"
    try:
        text, _ = assembled_text(out, num_chunks, settings, row_keys)
    except UnsoundChunk as exc:
        return f"chunk {exc.chunk} of the run is missing" if exc.missing else f"chunk {exc.chunk}: {exc.problem}"
    if (out / "results.csv").read_bytes() != text.encode("utf-8"):
        return "it differs from the table its verified chunks assemble to (edited or damaged after the run)"
    return ""


def warn_if_unverified(out: str | Path, what: str) -> str:
    """Print one stderr line when ``OUT/results.csv`` cannot be verified (:func:`results_problem`), saying that
    ``what`` is computed from it unverified; returns the problem (``""``: verified)."""
    import sys

    problem = results_problem(out)
    if problem:
        print(f"[repro] {Path(out) / 'results.csv'}: not verified: {problem}; {what} read it as it is",
              file=sys.stderr)
    return problem
