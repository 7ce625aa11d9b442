"""Per-chunk result files of a run and their assembly into ``results.csv``.

A run directory ``OUT`` holds ``chunks/chunk_NNNNN.csv``, one per chunk of ``chunk_size`` consecutive images of
the study's image list, each a results table (:mod:`repro.results.table`) written atomically once every row of the
chunk is finished. ``results.csv`` is the chunks' rows in chunk order, written only when every chunk exists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from repro.io import atomic_write_text
from repro.results.table import concat_tables, read_results, results_text, write_results


def count_chunks(num_images: int, chunk_size: int) -> int:
    """Chunks of ``chunk_size`` consecutive images needed for ``num_images`` (the last may be shorter)."""
    return -(-num_images // chunk_size)


def chunk_path(out: str | os.PathLike, c: int) -> Path:
    """Where chunk ``c`` of the run in ``out`` writes its rows."""
    return Path(out) / "chunks" / f"chunk_{c:05d}.csv"


def write_chunk(out: str | os.PathLike, c: int, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write the rows of chunk ``c`` atomically; returns the chunk's path."""
    return write_results(chunk_path(out, c), rows)


def missing_chunks(out: str | os.PathLike, num_chunks: int) -> list[int]:
    """The chunks of ``0..num_chunks-1`` whose file does not exist yet."""
    return [c for c in range(num_chunks) if not chunk_path(out, c).exists()]


def assemble_results(out: str | os.PathLike, num_chunks: int) -> Path | None:
    """Join the chunk tables in chunk order into ``OUT/results.csv`` (atomically) when all ``num_chunks`` exist.

    Returns the path, or ``None`` when a chunk is missing. Rewrites ``results.csv`` only when its content would
    change, so re-running a finished study is a no-op.

    Raises:
        ReproError: a chunk file is unreadable or its columns differ from the others (names the chunk).
    """
    out = Path(out)
    if missing_chunks(out, num_chunks):
        return None
    text = results_text(concat_tables([read_results(chunk_path(out, c)) for c in range(num_chunks)]))
    target = out / "results.csv"
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        atomic_write_text(target, text)
    return target
