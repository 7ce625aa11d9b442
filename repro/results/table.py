"""The results table ``results.csv``: its schema, its rows, and the one reader and writer of it.

One row per (image, method), columns :data:`RESULT_COLUMNS` in that order (extra columns, if any, follow as
strings). Floats are written with ``repr`` so that they read back bit for bit; NaN is written ``nan``. A text cell
that a spreadsheet would run as a formula (first character ``= + - @``, tab or carriage return) or that starts with
``'`` is written with a leading ``'``, which the reader removes (:func:`escape_text`, :func:`results_text`).

Every row carries, beside the criteria, how far each may be from exact mode (:data:`ESTIMATE_COLUMNS`, from
:mod:`repro.criteria.errors`): the error estimates ``*_err`` and the bounds ``*_bound`` that hold IF the curves are
monotone between evaluated points (NaN where the evaluated points contradict that). Both are written for every
sampling mode: ``steps=K``, ``"adaptive"`` and exact mode (where they are 0). A table written before these columns
existed reads without them (:func:`has_estimates` is then False); a row built by hand may omit them (NaN: no
estimate).

* :func:`rows_from_results` builds the rows from :class:`~repro.criteria.CriteriaResult` objects (the only place a
  row is built), image-major: the methods of one image are adjacent, in the order given.
* :func:`write_results` / :func:`read_results` write and read the file (atomic write; every read error names the
  file, the line and the column); :class:`ResultsTable` is the typed, pandas-free view the claims, figures and
  notebook use.
* :func:`concat_tables` joins tables with the same columns (chunk assembly, shard merges).
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from repro.criteria.errors import BOUND_FIELDS, ERROR_FIELDS
from repro.errors import ReproError
from repro.io import atomic_write_text
from repro.vocabulary import ordered_methods

if TYPE_CHECKING:
    from repro.criteria.api import CriteriaResult

ESTIMATE_COLUMNS: tuple[str, ...] = (*ERROR_FIELDS, *BOUND_FIELDS)
"""How far each criterion may be from exact mode (:class:`~repro.criteria.CriteriaResult`, absolute, in the
criterion's units): the estimates ``n_ord_err``, ``s_ord_err``, ``s_ord_text_err``, ``s_ord_baseline_err``,
``tpn_err``, ``tps_err`` (what ``steps="adaptive"`` drives below ``tol * max(1, |value|)``), then the bounds
``n_ord_bound``, ... ``tps_bound``, valid if the curves are monotone between evaluated points and NaN where the
evaluated points contradict that. 0 in exact mode; NaN where the criterion is NaN. ``1 - S-Ord`` has S-Ord's
(:func:`estimate_columns`)."""

RESULT_COLUMNS: tuple[str, ...] = (
    "image_id", "method", "reading", "score", "target", "label", "y0", "yb", "num_positive",
    "n_ord", "s_ord", "one_minus_s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps", *ESTIMATE_COLUMNS, "reason",
)
"""Columns of ``results.csv`` in order (the pipeline's contract).

A row is one (image, method, ``reading``, ``score``) (:mod:`repro.readings`): ``reading`` is ``""`` for the run's
own settings or ``"<setting>=<value>"`` for a map reading computed beside them; ``score`` names the class score
(``logit``, ``probability``, or ``output`` for a model with one output) that every number of the row reads.
``s_ord`` is eq. 4 as printed and ``one_minus_s_ord`` is ``1 - s_ord``; ``s_ord_text`` and ``s_ord_baseline`` are
the other two readings of eq. 4 from the same curve. Then :data:`ESTIMATE_COLUMNS` (errors, then bounds), then
``reason`` (:mod:`repro.criteria.result`): ``""``, why a criterion is NaN, or the flags of a finite TPN / TPS whose
penalty ``r`` / ``r'`` is ~0 (such a row's numbers are used like any other; :func:`repro.criteria.nan_reason` tells
the two kinds apart)."""

INT_COLUMNS: tuple[str, ...] = ("target", "label", "num_positive")
FLOAT_COLUMNS: tuple[str, ...] = ("y0", "yb", "n_ord", "s_ord", "one_minus_s_ord", "s_ord_text", "s_ord_baseline",
                                  "tpn", "tps", *ESTIMATE_COLUMNS)
STRING_COLUMNS: tuple[str, ...] = ("image_id", "method", "reading", "score", "reason")
OPTIONAL_COLUMNS: tuple[str, ...] = ("reading", "score", "reason", *ESTIMATE_COLUMNS)
"""Columns a row may omit (written as ``""``; the estimates as ``nan``, no estimate)."""
REQUIRED_ON_READ: tuple[str, ...] = tuple(c for c in RESULT_COLUMNS if c not in ESTIMATE_COLUMNS)
"""Columns every ``results.csv`` must have; a table written before :data:`ESTIMATE_COLUMNS` existed lacks those."""


def estimate_columns(criterion: str) -> tuple[str, str]:
    """``(error estimate, monotone bound)`` column names of criterion column ``criterion`` (``one_minus_s_ord``
    has those of ``s_ord``: ``1 - S-Ord`` is off by as much as S-Ord)."""
    base = "s_ord" if criterion == "one_minus_s_ord" else criterion
    err, bound = f"{base}_err", f"{base}_bound"
    if err not in ERROR_FIELDS or bound not in BOUND_FIELDS:
        raise KeyError(f"no error estimate for column {criterion!r}; criteria with one: "
                       f"{', '.join(f.removesuffix('_err') for f in ERROR_FIELDS)}")
    return err, bound


def has_estimates(table: "ResultsTable") -> bool:
    """Whether ``table`` holds the error-estimate columns (a table written before them does not)."""
    return all(name in table.columns for name in ESTIMATE_COLUMNS)


def _missing_value(name: str) -> Any:
    """What a row that omits optional column ``name`` holds: NaN for an estimate (no estimate), else ``""``."""
    return math.nan if name in ESTIMATE_COLUMNS else ""

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection")."""
TEXT_MARK = "'"
"""Written before a text cell that starts with one of :data:`FORMULA_STARTS` or with this mark itself
(:func:`escape_text`); removed again on reading (:func:`unescape_text`)."""


def escape_text(text: str) -> str:
    """The cell written for text ``text``: ``text`` itself, or ``'`` + ``text`` when it starts with one of
    :data:`FORMULA_STARTS` (a spreadsheet then shows it as text instead of running it) or with ``'`` (so a text
    that really starts with ``'`` stays distinguishable). :func:`unescape_text` inverts it exactly."""
    return TEXT_MARK + text if text[:1] in (*FORMULA_STARTS, TEXT_MARK) else text


def unescape_text(cell: str) -> str:
    """The text a cell written by :func:`escape_text` holds: the cell without one leading ``'``."""
    return cell[1:] if cell.startswith(TEXT_MARK) else cell


def _format_cell(name: str, value: Any) -> str:
    if name in FLOAT_COLUMNS:
        return repr(float(value))
    if name in INT_COLUMNS:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"column {name!r} needs an integer, got {value!r}")
        return str(int(value))
    return "" if value is None else escape_text(str(value))


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
            values = [row.get(name, _missing_value(name) if name in OPTIONAL_COLUMNS else None) for row in rows]
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

    def of_images(self, image_ids: Sequence[str]) -> "ResultsTable":
        """The rows of the images ``image_ids`` (in the table's order)."""
        keep = np.isin(self.column("image_id"), list(image_ids))
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


def results_text(rows: Sequence[Mapping[str, Any]] | ResultsTable) -> str:
    """The CSV text of a results table (header, then one line per row; ``\\n`` line ends).

    Text cells (every column but :data:`FLOAT_COLUMNS` and :data:`INT_COLUMNS`) are written by :func:`escape_text`:
    one that starts with ``= + - @``, a tab or a carriage return (an image file named ``=cmd|' -C calc'!A0.png``)
    gets a leading ``'``, as OWASP advises against CSV (formula) injection, and so does one that starts with ``'``;
    :func:`read_results` removes it, so every value reads back exactly as given. Why quote here rather than refuse
    such file names where images are read: the writer is the one place every text cell passes (image ids from a
    folder, from ``repro evaluate``'s images file name, method names, reading tags, extra columns), a legitimate
    file name is never refused, and the table stays exact. Chunk checksums are of the bytes written, so they stay
    consistent; numbers (``-0.5``) are not text cells and are written as they are. No chunk format bump
    (:data:`repro.results.chunks.CHUNK_FORMAT`): a cell not starting with one of these characters is written as
    before, an older chunk's ``=...`` cell reads back the same, and an older chunk whose image id starts with ``'``
    reads back as another id than its manifest records, so it fails verification and is recomputed, never used.

    Args:
        rows: dict rows with at least :data:`RESULT_COLUMNS` (``reason`` may be omitted: ``''``), or a
            :class:`ResultsTable`. Extra keys become extra columns after the standard ones.
    Raises:
        ValueError: a row lacks a required column or an integer column holds a non-integer.
    """
    if isinstance(rows, ResultsTable):
        rows = rows.rows()
    names = _column_names(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # csv quotes a cell holding "\n" but not one holding "\r" when lines end in "\n": such a row is quoted whole
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(names)
    for n, row in enumerate(rows):
        missing = [c for c in RESULT_COLUMNS if c not in OPTIONAL_COLUMNS and c not in row]
        if missing:
            raise ValueError(f"results row {n} lacks columns {missing}")
        cells = [_format_cell(name, row.get(name, _missing_value(name))) for name in names]
        (quoted if any("\r" in cell for cell in cells) else writer).writerow(cells)
    return buffer.getvalue()


def write_results(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]] | ResultsTable) -> Path:
    """Write :func:`results_text` of ``rows`` to ``path`` atomically; returns the path."""
    return atomic_write_text(path, results_text(rows))


def read_results(path: str | os.PathLike) -> ResultsTable:
    """Read ``results.csv`` into a :class:`ResultsTable`; a text cell is read by :func:`unescape_text` (the
    leading ``'`` :func:`results_text` writes before a formula-like text is removed).

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
        missing = [c for c in REQUIRED_ON_READ if c not in header]
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
                        value = unescape_text(cell)
                except ValueError:
                    kind = "number" if name in FLOAT_COLUMNS else "integer"
                    raise ReproError(f"{path}: line {line}: column {name!r}: malformed {kind} {cell!r}") from None
                raw[name].append(value)
    return ResultsTable({name: _typed_column(name, values) for name, values in raw.items()}, path)


def result_row(image_id: str, method: str, label: int, result: "CriteriaResult", index: int, *, score: str,
               reading: str = "") -> dict[str, Any]:
    """The results row of row ``index`` of ``result`` (one (image, map) pair): the only place a row is built. It has
    every column of :data:`RESULT_COLUMNS`, the error estimates and bounds included (0 in exact mode).

    Args:
        image_id, method, label: the row's identity (``label`` -1: unknown). score: the class score ``result`` read.
        reading: ``""`` or ``"<setting>=<value>"`` (see :data:`RESULT_COLUMNS`).
    """
    i = index
    return {
        "image_id": str(image_id), "method": method, "reading": reading, "score": score,
        "target": int(result.targets[i]), "label": int(label), "y0": float(result.y0[i]), "yb": float(result.yb[i]),
        "num_positive": int(result.num_positive[i]), "n_ord": float(result.n_ord[i]),
        "s_ord": float(result.s_ord[i]), "one_minus_s_ord": float(1.0 - result.s_ord[i]),
        "s_ord_text": float(result.s_ord_text[i]), "s_ord_baseline": float(result.s_ord_baseline[i]),
        "tpn": float(result.tpn[i]), "tps": float(result.tps[i]),
        **{name: float(getattr(result, name)[i]) for name in ESTIMATE_COLUMNS}, "reason": result.reason[i],
    }


def rows_from_results(image_ids: Sequence[str], labels: Sequence[int] | np.ndarray,
                      results: Mapping[str, "CriteriaResult"], *, score: str, reading: str = "") -> list[dict[str, Any]]:
    """The results rows of ``N`` images under one score and reading: image-major, then the methods in the order
    of ``results`` (method -> :class:`~repro.criteria.CriteriaResult` with one row per image, in image order)."""
    n = len(image_ids)
    for name, res in results.items():
        if len(res) != n:
            raise ValueError(f"results of method {name!r} have {len(res)} rows for {n} images")
    return [result_row(image_ids[i], name, int(labels[i]), res, i, score=score, reading=reading)
            for i in range(n) for name, res in results.items()]


def concat_tables(tables: Sequence[ResultsTable]) -> ResultsTable:
    """The rows of ``tables`` one after the other; every table must have the same columns in the same order.

    Raises:
        ReproError: naming the first table (by its path) whose columns differ.
    """
    if not tables:
        raise ValueError("concat_tables needs at least one table")
    names = list(tables[0].columns)
    for t in tables[1:]:
        if list(t.columns) != names:
            raise ReproError(f"{t.path}: columns {list(t.columns)} differ from {tables[0].path}'s {names}")
    return ResultsTable({n: np.concatenate([t.columns[n] for t in tables]) for n in names}, None)
