"""One reading's view of a results table: exactly one row per (image, method), as the claims and figures read it.

``results.csv`` holds, per (image, method), a row for each class score and for each map reading a run computed
(:mod:`repro.readings`, :data:`repro.results.RESULT_COLUMNS`). :func:`reading_view` picks the rows of one
:class:`~repro.readings.Reading` relative to the run's own settings ``base``:

* ``score``: the rows whose ``score`` column is that score (a table with one unnamed score has ``score == ""``);
* a map reading that differs from ``base`` (``input_reference``, ``guided_backprop``, ``lrp_rule``, ``target``,
  ``perturbation_baseline``: :data:`repro.readings.MAP_READINGS`): for the methods it affects, the rows tagged
  ``"<setting>=<value>"``; for the others, the run's own rows (``reading == ""``). At most one map reading may
  differ (a run computes them one at a time);
* ``s_ord``: ``s_ord`` and ``one_minus_s_ord`` are taken from that reading's column (``s_ord_text``, ...), and
  ``s_ord_err`` / ``s_ord_bound`` from that reading's estimates (``s_ord_text_err``, ...) when the table has them.

:func:`available_readings` lists the one-at-a-time readings a table can show; :func:`read_view` reads a run
directory's table under its own reading (``config.json``) with some settings changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from repro.errors import ReproError
from repro.readings import MAP_READINGS, READINGS, S_ORD_COLUMNS, Reading, one_at_a_time
from repro.results.table import ResultsTable, estimate_columns, read_results


def reading_tag(name: str, value: str) -> str:
    """The ``reading`` column value of rows computed under setting ``name`` = ``value``."""
    return f"{name}={value}"


def reading_view(table: ResultsTable, reading: Reading, base: Reading) -> ResultsTable:
    """The rows of ``table`` under ``reading`` (see the module docstring), in the table's order.

    Raises:
        ReproError: the table does not hold that reading (a map reading not computed, or two differing at once);
            the message says which and how to compute it.
    """
    where = f"{table.path}: " if table.path else ""
    changed = {k: v for k, v in reading.differences(base).items() if k in MAP_READINGS}
    if len(changed) > 1:
        raise ReproError(f"{where}reading {reading.label(base)} changes {len(changed)} map readings at once; "
                         "a run computes them one at a time")
    scores = table.column("score")
    keep = scores == reading.score if (scores != "").any() else np.ones(len(table), dtype=bool)
    if not keep.any():
        raise ReproError(f"{where}no rows read the {reading.score!r} score (scores: {sorted(set(scores))})")
    tags = table.column("reading")
    if changed:
        (name, value), = changed.items()
        tag = reading_tag(name, value)
        affected = set(MAP_READINGS[name]) or set(table.methods)
        in_affected = np.isin(table.column("method"), list(affected))
        if not (keep & (tags == tag)).any():
            raise ReproError(f"{where}the reading {tag} was not computed; run `repro reproduce` with "
                             f"--readings {name}")
        keep &= np.where(in_affected, tags == tag, tags == "")
    else:
        keep &= tags == ""
    columns = {k: v[keep] for k, v in table.columns.items()}
    column = S_ORD_COLUMNS[reading.s_ord]
    columns["s_ord"] = columns[column].copy()
    columns["one_minus_s_ord"] = 1.0 - columns["s_ord"]
    for source, target in zip(estimate_columns(column), estimate_columns("s_ord")):
        if source in columns:  # a table written before the estimate columns has none
            columns[target] = columns[source].copy()
    return ResultsTable(columns, table.path)


def available_readings(table: ResultsTable, base: Reading) -> list[Reading]:
    """``base`` and every one-at-a-time change of it that ``table`` can show: every score it holds, every S-Ord
    reading, every value of the claim readings (:data:`repro.readings.CLAIM_READINGS`), and the map readings whose
    rows it holds."""
    tags = set(table.column("reading").tolist())
    scores = set(table.column("score").tolist())
    names = {}
    for name, values in READINGS.items():
        if name == "score":
            values = tuple(v for v in values if v in scores or v == base.score)
        elif name in MAP_READINGS:
            values = tuple(v for v in values if v == getattr(base, name) or reading_tag(name, v) in tags)
        names[name] = values
    return one_at_a_time(base, names)


def run_reading(results_dir: str | os.PathLike) -> Reading:
    """The own reading of the run in ``results_dir`` (from its ``config.json``; the defaults without one)."""
    from repro.config import config_from_record
    from repro.io import read_json

    path = Path(results_dir) / "config.json"
    return config_from_record(read_json(path)).reading() if path.is_file() else Reading()


def read_view(results_dir: str | os.PathLike, **changes: str) -> tuple[ResultsTable, Reading]:
    """``results_dir/results.csv`` under the run's own reading with ``changes`` applied (``score="probability"``).

    Returns:
        ``(view, reading)``. Raises :class:`ReproError` as :func:`reading_view` does.
    """
    base = run_reading(results_dir)
    reading = base.changed(**changes)
    return reading_view(read_results(Path(results_dir) / "results.csv"), reading, base), reading


def reading_views(results_dir: str | os.PathLike) -> list[tuple[str, ResultsTable, dict[str, str]]]:
    """Every reading a run's table can show, as ``(label, view, claim readings)`` with the run's own reading first
    (what :func:`repro.claims.readings_report` takes). Views that differ only in a claim reading
    (:data:`repro.readings.CLAIM_READINGS`) share one table object, so their statistics are computed once."""
    base = run_reading(results_dir)
    table = read_results(Path(results_dir) / "results.csv")
    tables: dict[Reading, ResultsTable] = {}
    out = []
    for reading in available_readings(table, base):
        key = reading.changed(**base.claim_readings())
        if key not in tables:
            tables[key] = reading_view(table, reading, base)
        out.append((reading.label(base), tables[key], reading.claim_readings()))
    return out
