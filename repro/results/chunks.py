"""Per-chunk result files of a run, how each is verified, and their assembly into ``results.csv``.

A run directory ``OUT`` holds, for each chunk ``c`` of ``chunk_size`` consecutive images of the study's image list:

* ``chunks/chunk_NNNNN.csv``: the chunk's rows, a results table (:mod:`repro.results.table`);
* ``chunks/chunk_NNNNN.json``: its manifest, written after the table: the chunk format (:data:`CHUNK_FORMAT`), the
  chunk index, its image ids, the row keys of every image (``[method, reading, score]``, in row order), the row
  count, the SHA-256 of the table's bytes and the digest of the run's result-determining settings
  (:func:`repro.config.settings_digest`).

Both are written atomically. A chunk is done only when :func:`verify_chunk` finds nothing wrong: the manifest
exists, its fields have the right types (:func:`manifest_problem`), it belongs to this chunk and these settings,
the table's bytes match the checksum, and its rows are exactly the chunk's (image, method, reading, score) keys in
image-major order. Resume recomputes any chunk that fails; assembly refuses to write ``results.csv`` from a chunk
that fails, naming it. ``results.csv`` is replaced only by a complete, verified table. A chunk written in another
format (an older version's rows) fails like any other, so a resumed run recomputes it and a merge refuses it: rows
of two formats are never mixed in one table.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from repro.errors import ReproError
from repro.io import atomic_write_json, atomic_write_text
from repro.results.table import ResultsTable, concat_tables, read_results, results_text

CHUNK_FORMAT = 3
"""The format of the chunk tables this version writes, recorded in each manifest. 1 (manifests without a
``format``): before the error-estimate columns (:data:`repro.results.table.ESTIMATE_COLUMNS`); 2: with them; 3: the
``reason`` column also flags finite values from a clipped penalty (``r`` or ``r'`` clipped to 0). Bump it
whenever the row format (:data:`repro.results.table.RESULT_COLUMNS` or a cell's format) changes."""
MANIFEST_KEYS: tuple[str, ...] = ("format", "chunk", "image_ids", "row_keys", "rows", "sha256", "settings")
"""The fields of a chunk manifest."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


MANIFEST_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "format": (_is_int, "an integer"),
    "chunk": (lambda v: _is_int(v) and v >= 0, "a chunk index (an integer >= 0)"),
    "image_ids": (_is_strings, "a list of image ids (strings)"),
    "row_keys": (lambda v: isinstance(v, list) and all(_is_strings(k) and len(k) == 3 for k in v),
                 "a list of [method, reading, score] string triples"),
    "rows": (lambda v: _is_int(v) and v >= 0, "a row count (an integer >= 0)"),
    "sha256": (lambda v: isinstance(v, str), "a SHA-256 hex string"),
    "settings": (lambda v: isinstance(v, str), "a settings digest string"),
}
"""Each manifest field -> (its type check, what it must be): the one place a manifest's field types are checked
(:func:`manifest_problem`)."""


def manifest_problem(manifest: Any, name: str) -> str:
    """What makes ``manifest`` (the parsed JSON of the manifest file ``name``) no manifest of this version, or
    ``""``: not a JSON object; another chunk format (:data:`CHUNK_FORMAT`; a manifest without ``format`` is format
    1); not exactly the fields :data:`MANIFEST_KEYS`; or a field of the wrong type (:data:`MANIFEST_TYPES`).
    Whether the fields agree with the chunk, the run and the table is :func:`verify_chunk`'s business."""
    if not isinstance(manifest, dict):
        return f"{name} is not a chunk manifest"
    written = manifest.get("format", 1)
    if _is_int(written) and written != CHUNK_FORMAT:
        return f"it was written in chunk format {written!r}, not this version's format {CHUNK_FORMAT}"
    if sorted(manifest) != sorted(MANIFEST_KEYS):
        return f"{name} is not a chunk manifest"
    for field in MANIFEST_KEYS:
        is_valid, expected = MANIFEST_TYPES[field]
        if not is_valid(manifest[field]):
            shown = repr(manifest[field])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            return f"{name}: {field!r} is {shown} ({type(manifest[field]).__name__}), expected {expected}"
    return ""


def count_chunks(num_images: int, chunk_size: int) -> int:
    """Chunks of ``chunk_size`` consecutive images needed for ``num_images`` (the last may be shorter)."""
    return -(-num_images // chunk_size)


def chunk_path(out: str | os.PathLike, c: int) -> Path:
    """Where chunk ``c`` of the run in ``out`` writes its rows."""
    return Path(out) / "chunks" / f"chunk_{c:05d}.csv"


def manifest_path(out: str | os.PathLike, c: int) -> Path:
    """Where chunk ``c`` of the run in ``out`` writes its manifest."""
    return chunk_path(out, c).with_suffix(".json")


RowKey = tuple[str, str, str]
"""``(method, reading, score)``: one row of an image."""


def write_chunk(out: str | os.PathLike, c: int, image_ids: Sequence[str], row_keys: Sequence[RowKey],
                rows: Sequence[Mapping[str, Any]], settings: str) -> Path:
    """Write the rows of chunk ``c``, then its manifest, atomically; returns the table's path.

    Args:
        image_ids: the chunk's images in order. row_keys: every image's row keys, in row order.
        rows: image-major rows (:func:`repro.results.result_row`). settings: the run's settings digest.
    """
    text = results_text(rows)
    path = atomic_write_text(chunk_path(out, c), text)
    atomic_write_json(manifest_path(out, c), {
        "format": CHUNK_FORMAT, "chunk": c, "image_ids": list(image_ids), "row_keys": [list(k) for k in row_keys],
        "rows": len(rows),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "settings": settings,
    })
    return path


def verify_chunk(out: str | os.PathLike, c: int, settings: str, row_keys: Sequence[RowKey],
                 image_ids: Sequence[str] | None = None) -> tuple[ResultsTable | None, str]:
    """Check chunk ``c`` against its manifest and the run's settings.

    Args:
        settings: the run's settings digest. row_keys: every image's row keys, in row order.
        image_ids: the chunk's expected images, when known (a run knows them; a merge checks their union).
    Returns:
        ``(table, "")`` when the chunk is sound, else ``(None, problem)``; ``problem`` is ``"missing"`` when neither
        file exists.
    """
    table_file, manifest_file = chunk_path(out, c), manifest_path(out, c)
    if not table_file.exists() and not manifest_file.exists():
        return None, "missing"
    if not manifest_file.is_file():
        return None, f"{manifest_file.name} is missing (interrupted while writing the chunk)"
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        data = table_file.read_bytes()
    except (OSError, ValueError) as exc:
        return None, f"cannot read the chunk ({exc.__class__.__name__}: {exc})"
    problem = manifest_problem(manifest, manifest_file.name)
    if problem:
        return None, problem
    keys = [list(k) for k in row_keys]
    if manifest["chunk"] != c or manifest["settings"] != settings or manifest["row_keys"] != keys:
        return None, "it was computed for another chunk, other settings or other methods"
    if image_ids is not None and manifest["image_ids"] != list(image_ids):
        return None, "its image ids are not this chunk's images"
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        return None, f"{table_file.name} does not match its checksum (changed or damaged after it was written)"
    try:
        table = read_results(table_file)
    except ReproError as exc:
        return None, str(exc)
    expected = [(i, *k) for i in manifest["image_ids"] for k in row_keys]
    found = list(zip(*(table.column(n).tolist() for n in ("image_id", "method", "reading", "score"))))
    if len(table) != manifest["rows"] or found != expected:
        return None, (f"its rows are not the (image, method, reading, score) rows of its "
                      f"{len(manifest['image_ids'])} images")
    return table, ""


def chunk_image_ids(out: str | os.PathLike, c: int) -> list[str]:
    """The image ids recorded in chunk ``c``'s manifest (call after :func:`verify_chunk` succeeded)."""
    return list(json.loads(manifest_path(out, c).read_text(encoding="utf-8"))["image_ids"])


class UnsoundChunk(ReproError):
    """A chunk that is missing or fails :func:`verify_chunk`; the message names its file and the problem."""

    def __init__(self, out: str | os.PathLike, chunk: int, problem: str) -> None:
        self.chunk, self.problem, self.missing = chunk, problem, problem == "missing"
        super().__init__(f"{chunk_path(out, chunk)}: {problem}; delete it and rerun to recompute it")


def assembled_text(out: str | os.PathLike, num_chunks: int, settings: str, row_keys: Sequence[RowKey]
                   ) -> tuple[str, list[str]]:
    """The ``results.csv`` text the verified chunk tables join to in chunk order, and their image ids.

    Raises:
        UnsoundChunk: the first chunk that is missing or fails its check.
    """
    tables, ids = [], []
    for c in range(num_chunks):
        table, problem = verify_chunk(out, c, settings, row_keys)
        if table is None:
            raise UnsoundChunk(out, c, problem)
        tables.append(table)
        ids += chunk_image_ids(out, c)
    return results_text(concat_tables(tables)), ids


def assemble_results(out: str | os.PathLike, num_chunks: int, settings: str, row_keys: Sequence[RowKey],
                     image_ids_check: Callable[[list[str]], None] | None = None) -> Path | None:
    """Join the verified chunk tables in chunk order into ``OUT/results.csv`` (atomically) when all exist.

    Args:
        settings, row_keys: as for :func:`verify_chunk`.
        image_ids_check: called with the concatenated image ids of all chunks; raises if they are not the study's.
    Returns:
        The path, or ``None`` when a chunk is missing. ``results.csv`` is rewritten only when its content changes,
        so re-running a finished study is a no-op.
    Raises:
        ReproError: a chunk fails verification (the message names its file and the problem).
    """
    out = Path(out)
    try:
        text, ids = assembled_text(out, num_chunks, settings, row_keys)
    except UnsoundChunk as exc:
        if exc.missing:
            return None
        raise
    if image_ids_check is not None:
        image_ids_check(ids)
    target = out / "results.csv"
    if not target.is_file() or target.read_bytes() != text.encode("utf-8"):  # bytes: a "\r" in a cell stays one
        atomic_write_text(target, text)
    return target
