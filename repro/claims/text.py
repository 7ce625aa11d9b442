"""Formatting shared by the claims reports: verdict words, numbers, markdown tables, JSON-safe floats."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

HOLDS, HOLDS_SIGNIFICANT, FAILS, NOT_TESTABLE = "holds", "holds and significant", "does not hold", "not testable"
"""The verdict words of the readings table."""


def verdict_word(holds: bool | None, significant: bool | None = None) -> str:
    """:data:`HOLDS_SIGNIFICANT` when it holds and its rule's tests say so, else :data:`HOLDS` / :data:`FAILS` /
    :data:`NOT_TESTABLE`."""
    if holds is None:
        return NOT_TESTABLE
    if not holds:
        return FAILS
    return HOLDS_SIGNIFICANT if significant else HOLDS


def verdict(holds: bool | None) -> str:
    """The upper-case verdict of the full report."""
    return {True: "HOLDS", False: "DOES NOT HOLD", None: "NOT TESTABLE"}[holds]


def fmt(v: Any) -> str:
    """A number to 4 significant digits; ``nan`` for None or NaN."""
    return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4g}"


def fmt_p(v: float | None) -> str:
    return "nan" if v is None or math.isnan(v) else f"{v:.3g}"


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The lines of a GitHub markdown table (cells already formatted; ``str`` of anything else)."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(map(str, r)) + " |" for r in rows]


def map_floats(obj: Any, fn: Callable[[float], Any]) -> Any:
    """``obj`` with ``fn`` applied to every float inside dicts, lists and tuples (tuples become lists)."""
    if isinstance(obj, float):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: map_floats(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [map_floats(v, fn) for v in obj]
    return obj


def finite_json(obj: Any) -> Any:
    """Replace NaN/inf by ``None`` so the JSON is standard (numpy floats become Python floats)."""
    return map_floats(obj, lambda v: float(v) if math.isfinite(v) else None)
