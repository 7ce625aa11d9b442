"""One module per ``repro`` subcommand (``add_arguments`` + ``run``), and the argument types they share."""

from __future__ import annotations

import argparse


def steps_arg(text: str) -> int | str:
    """``--steps``: a positive integer K (points per curve), or ``"exact"`` (every pixel count), returned as given."""
    if text == "exact":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer or 'exact', got {text!r}")
    return value
