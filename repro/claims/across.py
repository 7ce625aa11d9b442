"""Every claim under each reading of the paper: which verdicts are robust, and which readings flip them.

:func:`readings_report` takes an ordered list of views ``(label, table, claim readings)``: ``table`` is the
one-row-per-(image, method) view of one reading (:mod:`repro.readings`; the caller builds it) and the claim
readings (``tp_claims``, ``relative_claims``: how the claims read it). The FIRST view is the reference,
normally the default reading. Each claim of :data:`repro.claims.section42.CLAIMS` is evaluated under each view
(:func:`repro.claims.rules.evaluate_claims`) and gets a verdict per reading (:func:`repro.claims.text.verdict_word`:
*holds and significant*, *holds*, *does not hold*, *not testable*).

A claim is **robust** when ``holds`` is the same in every reading; otherwise the readings where it differs from
the reference **flip** it. A change of significance alone is not a flip; the summary names it.

Forms: :meth:`ReadingsReport.to_markdown` (claim x reading table and one line per claim),
:meth:`ReadingsReport.summary` (plain text for the terminal), :meth:`ReadingsReport.to_dict` (for
``claims.json``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from repro.claims.rules import Claim, ClaimSpec, evaluate_with
from repro.claims.stats import DEFAULT_RESAMPLES, DEFAULT_SEED, StatsMemo
from repro.claims.text import md_table, verdict_word

if TYPE_CHECKING:
    from repro.results import ResultsTable

View = tuple[str, "ResultsTable", Mapping[str, str]]
"""``(reading label, one-row-per-(image, method) table, claim readings)``: the values of
:data:`repro.readings.CLAIM_READINGS` the view's claims read (``{"tp_claims": "within"}``; a missing one is its
default)."""


@dataclass
class ReadingsReport:
    """The claims evaluated under each reading; ``claims[j]`` are the claims of reading ``labels[j]``."""

    labels: list[str]
    claim_readings: list[dict[str, str]]
    num_images: list[int]
    claims: list[list[Claim]]
    memos: list[StatsMemo] = field(default_factory=list, repr=False)
    """The memo each reading's claims were evaluated with (its table and claim readings)."""
    stability: list[dict[str, float]] = field(default_factory=list)
    """Per reading, claim id -> the share of bootstrap resamples giving that reading's verdict
    (:func:`repro.claims.stability.verdict_stability`)."""

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.claims[0]]

    def verdicts(self, claim_id: str) -> list[str]:
        """The verdict words of one claim, one per reading."""
        return [verdict_word(c.holds, c.significant) for c in self._column(claim_id)]

    def cells(self, claim_id: str) -> list[str]:
        """:meth:`verdicts`, each with its bootstrap stability when computed (``"holds (97%)"``)."""
        words = self.verdicts(claim_id)
        if not self.stability:
            return words
        return [f"{w} ({shares[claim_id]:.0%})" if not math.isnan(shares[claim_id]) else w
                for w, shares in zip(words, self.stability)]

    def flipped_by(self, claim_id: str) -> list[str]:
        """The readings whose ``holds`` differs from the reference (first) reading's."""
        claims = self._column(claim_id)
        return [label for label, c in zip(self.labels[1:], claims[1:]) if c.holds != claims[0].holds]

    def robust(self, claim_id: str) -> bool:
        return not self.flipped_by(claim_id)

    def line(self, claim_id: str) -> str:
        """One line: ``robust`` (with the common verdict) or which reading(s) flip it, and significance changes."""
        claims, words = self._column(claim_id), self.verdicts(claim_id)
        flipped = self.flipped_by(claim_id)
        if not flipped:
            base = {True: "holds", False: "does not hold", None: "not testable"}[claims[0].holds]
            text = f"robust: {base} in every reading ({len(claims)})"
            if claims[0].holds:
                significant = [lab for lab, c in zip(self.labels, claims) if c.significant]
                if significant and len(significant) < len(claims):
                    text += f"; significant only under {', '.join(significant)}"
                elif significant:
                    text += "; significant in every reading"
            return text
        return (f"{words[0]} under {self.labels[0]}; flipped by " +
                ", ".join(f"{lab} ({words[self.labels.index(lab)]})" for lab in flipped))

    def to_markdown(self) -> str:
        """The claim x reading table and one line per claim."""
        rows = [[f"`{cid}`", *self.cells(cid)] for cid in self.ids]
        lines = ["## Claims under each reading", "",
                 f"Reference reading: **{self.labels[0]}** (first column). A claim is *robust* when it holds (or "
                 "does not hold) in every reading; otherwise the readings that change its verdict *flip* it. "
                 "*holds and significant*: it holds and the Holm-corrected tests of its rule support it. In brackets: "
                 "the share of bootstrap resamples of the images that give the same holds / does-not-hold verdict "
                 "under that reading (not its significance); *robust* speaks of the readings, the share of the "
                 "images "
                 f"({self.memos[0].resamples if self.memos else 0} resamples, seed "
                 f"{self.memos[0].seed if self.memos else 0}). Readings: "
                 + "; ".join(f"{lab}: {n} images" for lab, n in zip(self.labels, self.num_images)) + ".", ""]
        lines += md_table(["claim", *self.labels], rows)
        lines += ["", *(f"- `{cid}`: {self.line(cid)}" for cid in self.ids)]
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        """Plain text for the terminal: one line per claim."""
        robust = sum(self.robust(cid) for cid in self.ids)
        width = max(len(cid) for cid in self.ids)
        lines = [f"claims under {len(self.labels)} readings ({', '.join(self.labels)}):"]
        lines += [f"  {cid:{width}s}  {self.line(cid)}" for cid in self.ids]
        lines.append(f"{robust} of {len(self.ids)} claims robust across the readings")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The readings and, per claim, its verdict, ``holds``, ``significant`` and detail in each reading."""
        return {
            "readings": [{"label": lab, **cr, "num_images": n}
                         for lab, cr, n in zip(self.labels, self.claim_readings, self.num_images)],
            "claims": [{
                "id": cid, "lines": col[0].lines, "verdicts": dict(zip(self.labels, self.verdicts(cid))),
                "holds": {lab: c.holds for lab, c in zip(self.labels, col)},
                "significant": {lab: c.significant for lab, c in zip(self.labels, col)},
                "detail": {lab: c.detail for lab, c in zip(self.labels, col)},
                "stability": {lab: shares[cid] for lab, shares in zip(self.labels, self.stability)},
                "robust": self.robust(cid), "flipped_by": self.flipped_by(cid), "summary": self.line(cid),
            } for cid, col in ((cid, self._column(cid)) for cid in self.ids)],
        }

    def _column(self, claim_id: str) -> list[Claim]:
        return [next(c for c in claims if c.id == claim_id) for claims in self.claims]


def readings_report(views: Sequence[View], claims: Sequence[ClaimSpec] | None = None,
                    resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                    stability: bool = True) -> ReadingsReport:
    """Every claim evaluated under each view ``(label, table, claim readings)``; the first view is the reference.

    Views that pass the same table object (e.g. the default reading and ``tp_claims=within``) share its
    statistics (:meth:`~repro.claims.stats.StatsMemo.with_claim_readings`), so only the claims are re-evaluated.

    Args:
        views: ordered readings; labels must be unique.
        claims: the records (default :data:`repro.claims.section42.CLAIMS`).
        resamples, seed: bootstrap settings of every evaluation.
        stability: also the bootstrap stability of every verdict under every reading.
    Raises:
        ValueError: no view, a repeated label, or an unknown claim reading.
    """
    from repro.claims.section42 import CLAIMS
    from repro.claims.stability import verdict_stability

    if not views:
        raise ValueError("readings_report needs at least one view (label, table, claim readings)")
    labels = [v[0] for v in views]
    if len(set(labels)) != len(labels):
        raise ValueError(f"reading labels must be unique, got {labels}")
    specs = CLAIMS if claims is None else claims
    shared: dict[int, StatsMemo] = {}
    memos, results, shares = [], [], []
    for _, table, claim_readings in views:
        memo = shared.get(id(table))
        memo = (StatsMemo(table, resamples, seed, **claim_readings) if memo is None
                else memo.with_claim_readings(**claim_readings))
        shared[id(table)] = memo
        memos.append(memo)
        results.append(evaluate_with(memo, specs))
        if stability:
            found = verdict_stability(specs, {c.id: c.holds for c in results[-1]}, memo)
            shares.append({cid: st.share for cid, st in found.items()})
    return ReadingsReport(labels, [dict(m.claim_readings) for m in memos], [len(v[1].image_ids) for v in views],
                          results, memos, shares)
