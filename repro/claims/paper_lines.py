"""What the line references of the claims (``"L813-815"``) index, and each one's section of the paper.

The claims (:mod:`repro.claims.section42`), the toy examples (:mod:`repro.claims.toys`) and the readings
(:mod:`repro.reading_cases`) cite the paper by line numbers of ``paper.txt``: the plain text extracted from the
PDF of the paper's arXiv preprint, lines counted from 1, which the checkout keeps beside it at
``../shared/paper/paper.txt`` and does not ship (no licence for it is stated there; :data:`LINES_NOTE`). So that a
reader holding another copy of the paper can follow a reference, ``claims.md`` prints every reference with its
section (:func:`cite_all`): ``L813-815`` becomes ``L813-815 (§4.2 Evaluate on the datasets)``.

:data:`SECTIONS` lists the first line of each heading of ``paper.txt``; ``tests/claims/test_claims_report.py``
checks them against the text.
"""

from __future__ import annotations

import bisect
import re

PAPER_TEXT = "../shared/paper/paper.txt"
"""Where the indexed text is, relative to the repository (beside the checkout, not in it)."""

SECTIONS: tuple[tuple[int, str, str], ...] = (
    (1, "Abstract", "Abstract"),
    (28, "1. Introduction", "§1 Introduction"),
    (97, "2. Background", "§2 Background"),
    (106, "2.1. Attribution Methods", "§2.1 Attribution Methods"),
    (162, "2.2. Assumptions", "§2.2 Assumptions"),
    (181, "2.3. Evaluation Criteria", "§2.3 Evaluation Criteria"),
    (283, "3. Methods", "§3 Methods"),
    (298, "3.1. Notation", "§3.1 Notation"),
    (332, "3.2. Logical Order", "§3.2 Logical Order"),
    (402, "3.3. Necessity Ordering (N-Ord)", "§3.3 Necessity Ordering"),
    (456, "3.4. Sufficiency Ordering (S-Ord)", "§3.4 Sufficiency Ordering"),
    (509, "3.5. Proportionality", "§3.5 Proportionality"),
    (774, "4. Evaluation", "§4 Evaluation"),
    (775, "4.1. Implementation of Proportionality", "§4.1 Implementation of Proportionality"),
    (804, "4.2. Evaluate on the datasets", "§4.2 Evaluate on the datasets"),
    (880, "4.3. Evaluate with one instance", "§4.3 Evaluate with one instance"),
    (906, "5. Related Work", "§5 Related Work"),
    (940, "6. Conclusion", "§6 Conclusion"),
    (974, "Appendix", "Appendix"),
    (975, "Appendix I: Proofs", "Appendix I Proofs"),
    (1066, "Appendix II: Implementation Details", "Appendix II Implementation Details"),
    (1124, "Appendix III", "Appendix III"),
)
"""``(first line, heading as printed in paper.txt, label)`` of each section, in order; a line belongs to the last
section starting at or before it. Figure captions belong to the section their text is extracted into (Figure 7's
caption, L1130-1131, to Appendix III)."""

LINES_NOTE = (
    "Line references (L813-815) are line numbers, counted from 1, of `paper.txt`: the plain text extracted from the "
    "PDF of the paper's arXiv preprint (Wang, Mardziel, Datta and Fredrikson, *Interpreting Interpretations: "
    "Organizing Attribution Methods by Criteria*, arXiv:2002.07985; the text names no version, and its abstract is "
    "the arXiv one, not the CVPR workshop one). The text is not shipped with the repository (no licence for it is "
    f"stated); a checkout has it at `{PAPER_TEXT}`. Each reference names its section, and the claims print the "
    "quoted sentence beside it, so a reader finds the place in any copy of the paper."
)
"""The paragraph at the top of ``claims.md`` that says which text the line references index."""

_STARTS = [start for start, _, _ in SECTIONS]
_REFERENCE = re.compile(r"\bL(\d+)(?:-(\d+))?\b")
"""A line reference: ``L`` and a line number, or a range ``L813-815``."""


def section_of(line: int) -> str:
    """The label of the section of ``paper.txt`` that ``line`` (from 1) is in (:data:`SECTIONS`)."""
    if line < 1:
        raise ValueError(f"paper.txt lines count from 1, got {line}")
    return SECTIONS[bisect.bisect_right(_STARTS, line) - 1][2]


def sections_of(first: int, last: int | None = None) -> str:
    """The section label of lines ``first`` to ``last``: one label, or ``"<first's> to <last's>"`` when the range
    crosses a heading."""
    a, b = section_of(first), section_of(first if last is None else last)
    return a if a == b else f"{a} to {b}"


def cite_all(text: str) -> str:
    """``text`` with the section written after every line reference in it (:func:`sections_of`), e.g.
    ``"L813-815"`` -> ``"L813-815 (§4.2 Evaluate on the datasets)"``:

    * ``(L221-241)`` and ``(L813-815; ...`` (the reference opens a bracket and ends it or a clause of it):
      ``(L221-241, §2.3 Evaluation Criteria)``;
    * a reference followed by a bracket: the section opens that bracket, ``L893-901 (§4.3 ...; Figure 6 panels)``;
    * any other: `` (§...)`` after it, ``abstract L23-26 (Abstract)``.

    A reference already followed by its section is left as it is, so applying it twice changes nothing.
    """
    out: list[str] = []
    pos = 0
    for m in _REFERENCE.finditer(text):
        label = sections_of(int(m.group(1)), int(m.group(2)) if m.group(2) else None)
        before, after = text[:m.start()], text[m.end():]
        out.append(text[pos:m.end()])
        pos = m.end()
        if after.startswith((f" ({label}", f", {label}")):
            continue
        if before.endswith("(") and after[:1] in (")", ";"):
            out.append(f", {label}")
        elif after.startswith(" ("):
            out.append(f" ({label}; ")
            pos += 2  # the bracket that followed now opens with the section
        else:
            out.append(f" ({label})")
    out.append(text[pos:])
    return "".join(out)


def references(text: str) -> list[str]:
    """Every line reference in ``text`` (``"L813-815"``, ``"L193"``), in order."""
    return [m.group(0) for m in _REFERENCE.finditer(text)]
