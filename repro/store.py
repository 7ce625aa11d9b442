"""Everything the pipeline writes to disk and reads back: atomic writes, the results table, the attribution cache.

Atomic writes
    ``atomic_write_*(path, ...)`` write to a temporary file in the destination's own directory, flush and
    ``fsync`` it, then ``os.replace`` it over ``path`` (atomic on POSIX) and fsync the directory. A crash or an
    exception at any point leaves either the old file or the new one, never a torn file, and no temporary litter
    (the temporary file is removed on exceptions; after a hard kill a ``.<name>.*.tmp`` file may remain, which
    :func:`remove_stale_temporaries` deletes).

The results table (``OUT/results.csv``)
    One row per (image, method), columns :data:`RESULT_COLUMNS` (extra columns are kept as strings). Floats are
    written with ``repr`` so that they read back bit for bit; NaN is written ``nan``. :func:`read_results`
    returns a :class:`ResultsTable` of typed numpy columns and raises :class:`~repro.errors.ReproError` naming
    the file (and line) on a missing file, missing columns or a malformed number.

The attribution cache
    :class:`MapCache` stores one map per (model key, image id, method, parameters) as ``.npy``::

        cache = MapCache("results/embedded/cache")
        key = cache.key("vgg16", "imagenet", "integrated_gradients", {"steps": 50})
        if not cache.has(key, image_id):
            cache.put(key, image_id, method(model, x, t)[0])
        m = cache.get(key, image_id)

    The key hashes the parameters deterministically (``json.dumps(..., sort_keys=True)``, SHA-256), so a change
    of any setting gives a new key and never returns a stale map.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from repro.errors import ReproError

# --------------------------------------------------------------------------------------------- atomic writes


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file next to ``path``; on a clean exit it atomically replaces ``path``.

    Args:
        path: destination; its parent directory is created if missing.
        mode: ``"w"`` (text, UTF-8 unless ``encoding`` is given) or ``"wb"``.
        **kwargs: passed to :func:`open` (e.g. ``newline=""`` for csv).
    Yields:
        The open temporary file. If the ``with`` body raises, the temporary file is deleted and ``path`` is
        left exactly as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    if mode == "w":
        kwargs.setdefault("encoding", "utf-8")
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically. Returns the path."""
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically. Returns the path."""
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} value {value!r} as JSON")


def to_json(obj: Any) -> str:
    """Deterministic JSON text (sorted keys, numpy scalars/arrays converted, NaN written as ``NaN``)."""
    return json.dumps(obj, sort_keys=True, indent=2, default=_jsonable) + "\n"


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as deterministic JSON (see :func:`to_json`) atomically. Returns the path."""
    return atomic_write_text(path, to_json(obj))


def atomic_write_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], compressed: bool = True) -> Path:
    """Write ``arrays`` (name -> array; names may contain ``/``) as an ``.npz`` atomically. Returns the path."""
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return atomic_write_bytes(path, buffer.getvalue())


def atomic_write_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write one array as ``.npy`` atomically. Returns the path."""
    with atomic_open(path, "wb") as f:
        np.save(f, np.asarray(array), allow_pickle=False)
    return Path(path)


def atomic_write_csv(path: str | os.PathLike, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a CSV file (``header`` then ``rows``) atomically. Returns the path."""
    with atomic_open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(list(header))
        for row in rows:
            writer.writerow(list(row))
    return Path(path)


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; :class:`ReproError` naming the file if it is missing or malformed."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReproError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise ReproError(f"{path}: line {exc.lineno}: malformed JSON ({exc.msg})") from None


LOAD_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)
"""What ``np.load`` (and reading an ``.npz`` member) raises on a corrupt, truncated, pickled or foreign file."""


def load_array(path: str | os.PathLike, what: str, allow_npz: bool = False) -> np.ndarray | dict[str, np.ndarray]:
    """``np.load`` of a ``.npy`` (or, with ``allow_npz``, an ``.npz``) whose every failure names the file.

    Args:
        path: the file. what: what it holds, for messages (``"images"``, ``"targets"``, ``"cached map"``...).
        allow_npz: accept an ``.npz`` archive, read eagerly into ``{name: array}``; otherwise an archive is refused.
    Returns:
        The array, or ``{name: array}`` for an ``.npz`` when ``allow_npz`` is set.
    Raises:
        ReproError: the file is missing, is a directory, is not a readable ``.npy``/``.npz`` (corrupt, truncated,
            pickled objects), or is an ``.npz`` when ``allow_npz`` is not set. The message names the file.
    """
    path = Path(path)
    if not path.exists():
        raise ReproError(f"{path}: {what} file not found")
    if path.is_dir():
        raise ReproError(f"{path}: {what} is a directory, expected a file")
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                if not allow_npz:
                    raise ReproError(f"{path}: {what} is an .npz archive, expected a single .npy array")
                return {name: loaded[name] for name in loaded.files}
        return loaded
    except FileNotFoundError:
        raise ReproError(f"{path}: {what} file not found") from None
    except LOAD_ERRORS as exc:
        raise ReproError(f"{path}: cannot read {what} ({exc.__class__.__name__}: {exc})") from None


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete ``.<name>.*.tmp`` files that a hard-killed atomic write left in ``directory``; returns them."""
    removed = []
    for tmp in Path(directory).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


# --------------------------------------------------------------------------------------------- results table

RESULT_COLUMNS: tuple[str, ...] = (
    "image_id", "method", "target", "label", "y0", "yb", "num_positive",
    "n_ord", "s_ord", "one_minus_s_ord", "tpn", "tps", "reason",
)
"""Columns of ``results.csv`` in order (the pipeline's contract)."""

INT_COLUMNS: tuple[str, ...] = ("target", "label", "num_positive")
FLOAT_COLUMNS: tuple[str, ...] = ("y0", "yb", "n_ord", "s_ord", "one_minus_s_ord", "tpn", "tps")
STRING_COLUMNS: tuple[str, ...] = ("image_id", "method", "reason")

CRITERIA: tuple[str, ...] = ("n_ord", "one_minus_s_ord", "tpn", "tps")
"""The four criteria as plotted in Figure 5; lower is better for each."""

CRITERION_LABELS: dict[str, str] = {
    "n_ord": "N-Ord", "s_ord": "S-Ord", "one_minus_s_ord": "1 - S-Ord", "tpn": "TPN", "tps": "TPS",
}


def _format_cell(name: str, value: Any) -> str:
    if name in FLOAT_COLUMNS:
        return repr(float(value))
    if name in INT_COLUMNS:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"column {name!r} needs an integer, got {value!r}")
        return str(int(value))
    return "" if value is None else str(value)


def _typed_column(name: str, values: Sequence[Any]) -> np.ndarray:
    """One column as its typed array: ``float64`` for :data:`FLOAT_COLUMNS`, ``int64`` for :data:`INT_COLUMNS`,
    ``object`` (str) for the rest. Raises ``ValueError``/``TypeError`` on a value that does not convert."""
    if name in FLOAT_COLUMNS:
        return np.array([float(v) for v in values], dtype=np.float64)
    if name in INT_COLUMNS:
        return np.array([int(v) for v in values], dtype=np.int64)
    return np.array([str(v) for v in values], dtype=object)


def _parse_float(text: str) -> float:
    text = text.strip()
    if text == "" or text.lower() == "nan":
        return math.nan
    return float(text)


@dataclass
class ResultsTable:
    """The tidy results table as typed numpy columns (no pandas).

    Attributes:
        columns: name -> 1-D array; float columns ``float64`` (NaN where a criterion is undefined), integer
            columns ``int64``, the rest ``object`` (str).
        path: the file it was read from, if any (used in error messages).
    """

    columns: dict[str, np.ndarray]
    path: Path | None = None

    def __post_init__(self) -> None:
        lengths = {name: len(col) for name, col in self.columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"results columns differ in length: {lengths}")

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]], path: Path | None = None) -> "ResultsTable":
        """Build a table from dict rows (missing optional values are errors: every row needs every column)."""
        names = _column_names(rows)
        columns: dict[str, np.ndarray] = {}
        for name in names:
            values = [row.get(name, "" if name == "reason" else None) for row in rows]
            if any(v is None for v in values):
                raise ValueError(f"column {name!r} is missing from some rows")
            columns[name] = _typed_column(name, values)
        return cls(columns, path)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def column(self, name: str) -> np.ndarray:
        """One column; :class:`ReproError` listing the available columns if ``name`` is unknown."""
        if name not in self.columns:
            where = f"{self.path}: " if self.path else ""
            raise ReproError(f"{where}no column {name!r}; columns are {', '.join(self.columns)}")
        return self.columns[name]

    @property
    def methods(self) -> list[str]:
        """Methods present, in the registry's (paper's) order, unknown names after in order of appearance."""
        from repro.attributions import ordered_methods

        return ordered_methods(self.column("method").tolist())

    @property
    def image_ids(self) -> list[str]:
        """Image ids in order of first appearance."""
        return list(dict.fromkeys(self.column("image_id").tolist()))

    def filter(self, **equals: Any) -> "ResultsTable":
        """Rows where every given column equals the given value, e.g. ``table.filter(method="lrp")``."""
        keep = np.ones(len(self), dtype=bool)
        for name, value in equals.items():
            keep &= self.column(name) == value
        return ResultsTable({k: v[keep] for k, v in self.columns.items()}, self.path)

    def rows(self) -> list[dict[str, Any]]:
        """The table as a list of dicts (Python scalars)."""
        names = list(self.columns)
        return [{n: self.columns[n][i].item() if isinstance(self.columns[n][i], np.generic) else self.columns[n][i]
                 for n in names} for i in range(len(self))]

    def pivot(self, criterion: str) -> tuple[list[str], list[str], np.ndarray]:
        """Wide view of one column: ``(image_ids, methods, matrix)`` with ``matrix[i, j]`` the value for
        image ``image_ids[i]`` and method ``methods[j]``; NaN where the pair has no row or an undefined value.

        Raises:
            ReproError: if an (image, method) pair occurs twice.
        """
        values = np.asarray(self.column(criterion), dtype=np.float64)
        image_ids, methods = self.image_ids, self.methods
        row_of = {img: i for i, img in enumerate(image_ids)}
        col_of = {m: j for j, m in enumerate(methods)}
        matrix = np.full((len(image_ids), len(methods)), np.nan)
        seen = np.zeros(matrix.shape, dtype=bool)
        for img, method, value in zip(self.column("image_id"), self.column("method"), values):
            i, j = row_of[img], col_of[method]
            if seen[i, j]:
                where = f"{self.path}: " if self.path else ""
                raise ReproError(f"{where}duplicate row for image {img!r} and method {method!r}")
            seen[i, j] = True
            matrix[i, j] = value
        return image_ids, methods, matrix


def _column_names(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    extra: dict[str, None] = {}
    for row in rows:
        for name in row:
            if name not in RESULT_COLUMNS:
                extra[name] = None
    return list(RESULT_COLUMNS) + list(extra)


def write_results(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]] | ResultsTable) -> Path:
    """Write the results table atomically.

    Args:
        path: destination CSV.
        rows: dict rows with at least :data:`RESULT_COLUMNS` (``reason`` may be omitted: ``''``), or a
            :class:`ResultsTable`. Extra keys become extra columns after the standard ones.
    Raises:
        ValueError: a row lacks a required column or an integer column holds a non-integer.
    """
    if isinstance(rows, ResultsTable):
        rows = rows.rows()
    names = _column_names(rows)
    body = []
    for n, row in enumerate(rows):
        missing = [c for c in RESULT_COLUMNS if c != "reason" and c not in row]
        if missing:
            raise ValueError(f"results row {n} lacks columns {missing}")
        body.append([_format_cell(name, row.get(name, "")) for name in names])
    return atomic_write_csv(path, names, body)


def read_results(path: str | os.PathLike) -> ResultsTable:
    """Read ``results.csv`` into a :class:`ResultsTable`.

    Raises:
        ReproError: the file is missing, lacks required columns, or a cell of a numeric column is not a number
            (the message names the file, the line and the column).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "results.csv"
    try:
        handle = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise ReproError(f"{path}: results table not found (run `repro reproduce` first)") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ReproError(f"{path}: empty file, expected a header with columns {', '.join(RESULT_COLUMNS)}")
        missing = [c for c in RESULT_COLUMNS if c not in header]
        if missing:
            raise ReproError(f"{path}: missing columns {', '.join(missing)}")
        if len(set(header)) != len(header):
            raise ReproError(f"{path}: duplicate column names in header {header}")
        raw: dict[str, list] = {name: [] for name in header}
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                raise ReproError(f"{path}: line {line}: {len(row)} fields, expected {len(header)}")
            for name, cell in zip(header, row):
                try:
                    if name in FLOAT_COLUMNS:
                        value: Any = _parse_float(cell)
                    elif name in INT_COLUMNS:
                        value = int(cell)
                    else:
                        value = cell
                except ValueError:
                    kind = "number" if name in FLOAT_COLUMNS else "integer"
                    raise ReproError(f"{path}: line {line}: column {name!r}: malformed {kind} {cell!r}") from None
                raw[name].append(value)
    return ResultsTable({name: _typed_column(name, values) for name, values in raw.items()}, path)


# --------------------------------------------------------------------------------------------- attribution cache

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _slug(text: str, limit: int = 48) -> str:
    """A file-name-safe version of ``text``; if anything had to change, a short hash keeps it unique."""
    slug = _SAFE.sub("_", text)[:limit].strip("._") or "x"
    if slug != text:
        slug = f"{slug}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
    return slug


def params_hash(params: Mapping[str, Any]) -> str:
    """Deterministic 16-hex-digit SHA-256 of ``params`` (JSON, sorted keys; numpy values converted)."""
    text = json.dumps(dict(params), sort_keys=True, separators=(",", ":"), default=_jsonable)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class MapCache:
    """Attribution maps stored as ``.npy`` under ``root``, one file per (model, weights, method, parameters, image).

    Two ways to name a map, both supported:

    * ``key = cache.key(model, weights, method, params)`` once per method, then ``put/get/has(key, image_id)``:
      the file is ``root/<model>__<weights>/<method>/<params hash>/<image id>.npy``;
    * the image (and anything else per image, such as the target class) inside ``params``, then
      ``put/get/has(key)``: the file is ``root/<model>__<weights>/<method>/<params hash>.npy``.

    Writes are atomic, so a killed run never leaves a half-written map that a later run would trust.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @staticmethod
    def key(model_name: str, weights_id: str | None, method: str, params: Mapping[str, Any]) -> str:
        """The cache key (a relative path) of a model, its weights, a method and its parameters (no I/O)."""
        model_part = f"{_slug(str(model_name))}__{_slug(str(weights_id))}"
        return f"{model_part}/{_slug(method)}/{params_hash(params)}"

    def path(self, key: str, image_id: str | None = None) -> Path:
        """Where the map of ``(key, image_id)`` (or of ``key`` alone) lives."""
        if image_id is None:
            return self.root / f"{key}.npy"
        return self.root / key / f"{_slug(str(image_id), limit=120)}.npy"

    def has(self, key: str, image_id: str | None = None) -> bool:
        """Whether a map is stored for ``(key, image_id)``."""
        return self.path(key, image_id).is_file()

    def put(self, key: str, image_id_or_map: Any, attribution: np.ndarray | None = None) -> Path:
        """Store one map (any shape, e.g. ``(H, W, C)`` or ``(H, W)``) atomically; returns its path.

        Called as ``put(key, image_id, map)`` or ``put(key, map)``.
        """
        if attribution is None:
            image_id, attribution = None, image_id_or_map
        else:
            image_id = image_id_or_map
        return atomic_write_npy(self.path(key, image_id), np.asarray(attribution))

    def get(self, key: str, image_id: str | None = None) -> np.ndarray | None:
        """The stored map, or ``None`` if there is none.

        Raises:
            ReproError: the file exists but cannot be read (names the file; delete it to recompute).
        """
        path = self.path(key, image_id)
        if not path.is_file():
            return None
        try:
            return load_array(path, "cached map")
        except ReproError as exc:
            raise ReproError(f"{exc}; delete it to recompute") from None

    def get_or_compute(self, keys: Sequence[str], compute: Callable[[list[int]], np.ndarray]) -> np.ndarray:
        """The maps of ``keys`` stacked ``(len(keys), ...)``: stored ones read once, the others computed and stored.

        ``compute(todo)`` gets the positions of the missing keys and returns their maps in that order.
        """
        found = [self.get(k) for k in keys]
        todo = [j for j, m in enumerate(found) if m is None]
        if todo:
            for j, m in zip(todo, compute(todo)):
                self.put(keys[j], m)
                found[j] = np.asarray(m)
        return np.stack(found)
