"""A per-method summary of a results table, as ``repro evaluate`` prints it after writing ``results.csv``.

For each class score and method, each criterion (N-Ord, 1 - S-Ord, TPN, TPS: :data:`CRITERIA`) is summarised over
the images by its median and interquartile range (numpy's linear quartiles, ``IQR = q75 - q25``), ``n`` (its
finite values), its NaN count (the rows where it is undefined; ``results.csv``'s ``reason`` says why) and ``err``,
the median of its sampling error estimate (the ``*_err`` column: how far a value may be from exact mode; 0 in exact
mode, NaN for a table written before the estimates existed).

* :func:`summary_rows` builds the summary from result rows (dicts as :func:`repro.results.result_row` gives them,
  or a :class:`~repro.results.ResultsTable`): one dict per (score, method, criterion), numbers only.
* :func:`format_summary` lays them out as plain aligned text: one block per score, a row per method, a column per
  criterion holding ``median [IQR]``, then the same grid holding ``n / NaN / err``; methods in the registry's
  (paper's) order, then any other name in order of appearance; numbers to 4 significant digits (``err`` 2).
* :func:`summary_text` is both in one call.

Only the rows of the run's own settings (``reading`` ``""``) are summarised unless another reading is asked for,
so a ``repro reproduce`` table, which also holds readings computed beside the run's own, can use the same code.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from repro.results import ResultsTable, estimate_columns
from repro.vocabulary import ordered_methods

CRITERIA: tuple[tuple[str, str], ...] = (("n_ord", "N-Ord"), ("one_minus_s_ord", "1 - S-Ord"), ("tpn", "TPN"),
                                         ("tps", "TPS"))
"""``(results.csv column, printed name)`` of the criteria summarised, in order. A table without
``one_minus_s_ord`` is summarised on ``s_ord`` (printed ``S-Ord``) instead (:data:`S_ORD`)."""
S_ORD: tuple[str, str] = ("s_ord", "S-Ord")
"""The column summarised in place of ``one_minus_s_ord`` when a table lacks it."""
SUMMARY_FIELDS: tuple[str, ...] = ("score", "method", "criterion", "name", "median", "q25", "q75", "iqr", "n",
                                   "nan", "err")
"""Keys of each row of :func:`summary_rows`."""


def summary_rows(results: Sequence[Mapping[str, Any]] | ResultsTable, *, reading: str = "") -> list[dict[str, Any]]:
    """The summary of a results table: one dict per (score, method, criterion), with the keys of
    :data:`SUMMARY_FIELDS`.

    Args:
        results: result rows (dicts with the columns of :data:`repro.results.RESULT_COLUMNS`; ``reading``,
            ``score``, ``reason`` and the estimates may be omitted) or a :class:`~repro.results.ResultsTable`.
        reading: which rows to summarise, by their ``reading`` column (default ``""``: the run's own settings).
    Returns:
        Rows ordered by score (in order of appearance), method (:func:`repro.vocabulary.ordered_methods`) and
        criterion (:data:`CRITERIA`). ``criterion`` is the column, ``name`` its printed name; ``median``,
        ``q25``, ``q75`` (``np.percentile``, linear) and ``iqr = q75 - q25`` of the finite values, NaN when there
        are none; ``n`` the count of finite values and ``nan`` of the others; ``err`` the median of the
        criterion's ``*_err`` over its finite rows (NaN: no estimate). ``[]`` when no row has that reading.
    Raises:
        ValueError: a dict row lacks a required column. ReproError: a table lacks a criterion's column.
    """
    table = results if isinstance(results, ResultsTable) else ResultsTable.from_rows(list(results))
    if len(table) == 0:
        return []
    keep = np.ones(len(table), dtype=bool)
    if "reading" in table.columns:
        keep &= table.column("reading") == reading
    criteria = [c if c[0] != "one_minus_s_ord" or "one_minus_s_ord" in table.columns else S_ORD for c in CRITERIA]
    scores = table.column("score")[keep] if "score" in table.columns else np.full(int(keep.sum()), "", object)
    methods = table.column("method")[keep]
    out = []
    for score in dict.fromkeys(scores.tolist()):
        for method in ordered_methods(methods[scores == score].tolist()):
            rows = np.flatnonzero(keep)[(scores == score) & (methods == method)]
            for column, name in criteria:
                out.append({"score": score, "method": method, "criterion": column, "name": name,
                            **criterion_summary(table, column, rows)})
    return out


def criterion_summary(table: ResultsTable, column: str, rows: np.ndarray) -> dict[str, Any]:
    """``median``, ``q25``, ``q75``, ``iqr``, ``n``, ``nan`` and ``err`` of criterion ``column`` over the rows
    ``rows`` of ``table`` (see :func:`summary_rows`)."""
    values = np.asarray(table.column(column), dtype=np.float64)[rows]
    finite = np.isfinite(values)
    if finite.any():
        q25, median, q75 = (float(q) for q in np.percentile(values[finite], [25, 50, 75]))
    else:
        q25 = median = q75 = math.nan
    err_column = estimate_columns(column)[0]
    err = math.nan
    if err_column in table.columns:
        errors = np.asarray(table.column(err_column), dtype=np.float64)[rows][finite]
        errors = errors[np.isfinite(errors)]
        if errors.size:
            err = float(np.median(errors))
    return {"median": median, "q25": q25, "q75": q75, "iqr": q75 - q25, "n": int(finite.sum()),
            "nan": int((~finite).sum()), "err": err}


def _number(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits (``3``, ``0.4123``, ``1.1e+10``); ``nan`` as is."""
    return "nan" if math.isnan(value) else f"{value:.{digits}g}"


def format_summary(rows: Sequence[Mapping[str, Any]]) -> str:
    """Plain aligned text of :func:`summary_rows`: per score, a header line, the criteria's names, one line per
    method of ``median [IQR]`` cells, then a line naming them and ``n / NaN / err`` cells of the same grid (columns
    as wide as their longest cell plus two spaces, lines without trailing spaces, blocks separated by a blank line);
    under 100 columns for the 8 methods of the paper. For instance (N-Ord 1..5: median 3, IQR 4 - 2; TPN 1..4 and
    a NaN; TPS all NaN)::

        score logit: median [IQR] over the images (linear quartiles)
        method    N-Ord          1 - S-Ord    TPN           TPS
        saliency  3 [2]          30 [20]      2.5 [1.5]     nan [nan]
        random    0 [0]          0 [0]        0 [0]         0 [0]
        n finite / NaN count / err (median of the sampling error estimates)
        saliency  5 / 0 / 0.003  5 / 0 / 0.5  4 / 1 / 0.62  0 / 5 / nan
        random    5 / 0 / 0      5 / 0 / 0    5 / 0 / 0     5 / 0 / 0

    ``"no result rows to summarise"`` when ``rows`` is empty."""
    if not rows:
        return "no result rows to summarise"
    blocks = []
    for score in dict.fromkeys(r["score"] for r in rows):
        mine = [r for r in rows if r["score"] == score]
        names = list(dict.fromkeys(r["name"] for r in mine))
        methods = list(dict.fromkeys(r["method"] for r in mine))
        cell = {(r["method"], r["name"]): r for r in mine}
        values = [[f"{_number(cell[m, c]['median'])} [{_number(cell[m, c]['iqr'])}]" for c in names] for m in methods]
        counts = [[f"{cell[m, c]['n']} / {cell[m, c]['nan']} / {_number(cell[m, c]['err'], 2)}" for c in names]
                  for m in methods]
        first = max(len("method"), *(len(str(m)) for m in methods)) + 2
        widths = [max(len(c), *(len(row[j]) for row in values + counts)) + 2 for j, c in enumerate(names)]

        def line(head: str, cells: Sequence[str]) -> str:
            return (head.ljust(first) + "".join(t.ljust(w) for t, w in zip(cells, widths))).rstrip()

        title = f"score {score}" if score else "score (not named)"
        blocks.append("\n".join([
            f"{title}: median [IQR] over the images (linear quartiles)",
            line("method", names), *(line(str(m), v) for m, v in zip(methods, values)),
            "n finite / NaN count / err (median of the sampling error estimates)",
            *(line(str(m), c) for m, c in zip(methods, counts))]))
    return "\n\n".join(blocks)


def summary_text(results: Sequence[Mapping[str, Any]] | ResultsTable, *, reading: str = "") -> str:
    """:func:`format_summary` of :func:`summary_rows` (same arguments)."""
    return format_summary(summary_rows(results, reading=reading))
