"""The open readings of the paper, each a named setting with its values and its default (TensorFlow-free).

A *reading* is a choice the paper's text leaves open (``docs/criteria.md`` and ``docs/methods.md`` quote the
sentences). Each has a default, the value the text supports best, and alternatives a run can compute beside it:

=========================  ======================================  ====================================================
setting                    values (default first)                  what another value costs
=========================  ======================================  ====================================================
``score``                  ``logit``, ``probability``              nothing: both come from the same forwards
``s_ord``                  ``printed``, ``text``, ``baseline``     nothing: the same adding curve
``input_reference``        ``input``, ``input_minus_baseline``     maps of SM, SG and GB (their "x input" factor)
``guided_backprop``        ``x_input``, ``plain``                  maps of GB
``lrp_rule``               ``preset_b``, ``alpha2beta1``           maps of LRP
``target``                 ``top1``, ``label``                     maps and forwards of images whose top-1 class
                                                                   differs from their label
``perturbation_baseline``  ``black``, ``zero``                     the criteria's forwards of every method (same maps);
                                                                   nothing where black is 0 in model space
``tp_claims``              ``between``, ``within``                 nothing: how the claims are tested
``relative_claims``        ``all``, ``most``                       nothing: how the claims are tested
=========================  ======================================  ====================================================

:data:`MAP_READINGS` are the readings that need other maps or forwards; a run computes them when asked (the
``readings`` setting of :class:`repro.config.StudyConfig`). In ``results.csv`` (:mod:`repro.results.table`) a row
is one (image, method, ``reading``, ``score``): ``reading`` is ``""`` for the run's own settings or
``"<setting>=<value>"`` for a row computed under one other map reading; ``score`` says which class score its
numbers read (every run carries both); the S-Ord readings are columns (``s_ord``, ``s_ord_text``,
``s_ord_baseline``). :func:`repro.results.reading_view` selects the one-row-per-(image, method) table of one
reading, which the claims and figures read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

READINGS: dict[str, tuple[str, ...]] = {
    "score": ("logit", "probability"),
    "s_ord": ("printed", "text", "baseline"),
    "input_reference": ("input", "input_minus_baseline"),
    "guided_backprop": ("x_input", "plain"),
    "lrp_rule": ("preset_b", "alpha2beta1"),
    "target": ("top1", "label"),
    "perturbation_baseline": ("black", "zero"),
    "tp_claims": ("between", "within"),
    "relative_claims": ("all", "most"),
}
"""Setting -> its values, the default first."""

CLAIM_READINGS: tuple[str, ...] = ("tp_claims", "relative_claims")
"""The readings that change only how the claims are tested (no number of ``results.csv``): each view of a run's
table carries their values (:func:`repro.results.reading_views`)."""

DEFAULTS: dict[str, str] = {name: values[0] for name, values in READINGS.items()}
"""Setting -> the default value (the reading the text supports best)."""

MAP_READINGS: dict[str, tuple[str, ...]] = {
    "input_reference": ("saliency", "smoothgrad", "guided_backprop"),
    "guided_backprop": ("guided_backprop",),
    "lrp_rule": ("lrp",),
    "target": (),
    "perturbation_baseline": (),
}
"""The readings that need other maps or forwards -> the methods whose rows change (``()``: every method).
``perturbation_baseline`` changes no map, only the criteria's forwards (the image a removed pixel takes), so its
rows reuse the run's own maps (same cache keys)."""

S_ORD_COLUMNS: dict[str, str] = {"printed": "s_ord", "text": "s_ord_text", "baseline": "s_ord_baseline"}
"""S-Ord reading -> its column in ``results.csv``."""


@dataclass(frozen=True)
class Reading:
    """One complete choice of every setting; ``Reading()`` is the default reading."""

    score: str = DEFAULTS["score"]
    s_ord: str = DEFAULTS["s_ord"]
    input_reference: str = DEFAULTS["input_reference"]
    guided_backprop: str = DEFAULTS["guided_backprop"]
    lrp_rule: str = DEFAULTS["lrp_rule"]
    target: str = DEFAULTS["target"]
    perturbation_baseline: str = DEFAULTS["perturbation_baseline"]
    tp_claims: str = DEFAULTS["tp_claims"]
    relative_claims: str = DEFAULTS["relative_claims"]

    def __post_init__(self) -> None:
        for name, values in READINGS.items():
            if getattr(self, name) not in values:
                raise ValueError(f"unknown value {getattr(self, name)!r} of reading {name!r}; choose from "
                                 f"{', '.join(values)}")

    def changed(self, **values: str) -> "Reading":
        """This reading with some settings replaced."""
        return Reading(**{**self.as_dict(), **values})

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in READINGS}

    def differences(self, base: "Reading") -> dict[str, str]:
        """The settings whose value differs from ``base``."""
        return {k: v for k, v in self.as_dict().items() if getattr(base, k) != v}

    def claim_readings(self) -> dict[str, str]:
        """The values of :data:`CLAIM_READINGS` (how the claims read this view)."""
        return {name: getattr(self, name) for name in CLAIM_READINGS}

    def label(self, base: "Reading | None" = None) -> str:
        """``"default"`` or the settings that differ from ``base`` (default: :class:`Reading`), ``a=b, c=d``."""
        diff = self.differences(base or Reading())
        return ", ".join(f"{k}={v}" for k, v in diff.items()) or "default"


def parse_assignments(texts: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["score=probability", "s_ord=text"]`` -> ``{"score": "probability", "s_ord": "text"}``.

    Raises:
        ValueError: a text is not ``NAME=VALUE``, or names an unknown setting or value (the message lists them).
    """
    out: dict[str, str] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or name not in READINGS:
            raise ValueError(f"reading {text!r}: expected NAME=VALUE with NAME one of {', '.join(READINGS)}")
        if value not in READINGS[name]:
            raise ValueError(f"reading {text!r}: {name} is one of {', '.join(READINGS[name])}")
        out[name] = value
    return out


def one_at_a_time(base: Reading, names: Mapping[str, tuple[str, ...]] | None = None) -> list[Reading]:
    """``base``, then every reading that changes exactly one setting of ``base`` to another of its values.

    Args:
        names: the settings to vary (default: all of :data:`READINGS`), setting -> values to try.
    """
    names = READINGS if names is None else names
    out = [base]
    for name, values in names.items():
        out += [base.changed(**{name: v}) for v in values if v != getattr(base, name)]
    return out
