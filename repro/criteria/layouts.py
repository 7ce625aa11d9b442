"""The layouts of attribution maps the criteria accept: one rule for the Python API and ``repro evaluate``.

For images ``(N, H, W, C)`` a set of ``P`` maps is accepted as

* ``(P, H, W)``: one score per pixel;
* ``(P, H, W, C)`` or ``(P, H, W, 1)``: channels last, summed into one score per pixel
  (:func:`repro.criteria.orders.pixel_scores`);
* coarser, ``(P, h, w)`` or ``(P, h, w, C|1)`` with ``h <= H`` and ``w <= W``, ONLY when the caller asks for it
  (``resize_maps=True``, ``--resize-maps``): the channel-summed map is then upsampled bilinearly.

Anything else is refused, never guessed: a map of another shape read as one of these would give plausible wrong
numbers (channels-first maps ``(10, 3, 32, 32)`` for ``(10, 32, 32, 3)`` images were read as coarse 3 x 32 maps,
N-Ord 4.53 instead of 0.25). The refusal names the shape found and the shapes accepted, and, when the shape is a
transposition of an accepted one (channels first, height and width swapped), which axes to move.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np


def accepted_shapes(image_shape: Sequence[int], resize: bool = False) -> str:
    """The accepted layouts for images of ``image_shape`` ``(H, W, C)``, as text."""
    H, W, C = (int(v) for v in image_shape)
    text = f"(P, {H}, {W}), (P, {H}, {W}, {C})" + (f" or (P, {H}, {W}, 1)" if C != 1 else "")
    if resize:
        text += f", or coarser (P, h, w[, {C}]) with h <= {H}, w <= {W}"
    return text


def _transposition(found: tuple[int, ...], targets: list[tuple[int, ...]]) -> str:
    """How ``found`` (a map's axes after ``P``) is a permutation of one of ``targets``, as advice, or ``""``."""
    for target in targets:
        if found == target or sorted(found) != sorted(target):
            continue
        for order in itertools.permutations(range(len(found))):
            if tuple(found[i] for i in order) == target:
                axes = (0, *(i + 1 for i in order))
                if len(found) == 3 and order == (1, 2, 0):
                    kind = "channels first"
                elif len(found) == 2 or order[:2] == (1, 0):
                    kind = "height and width swapped"
                else:
                    kind = "axes in another order"
                return f"it looks like {kind} ({target} read in the order {found}): use np.transpose(maps, {axes})"
    return ""


def map_layout_problem(shape: Sequence[int], image_shape: Sequence[int], resize: bool = False,
                       subject: str = "maps") -> str:
    """What is wrong with maps of ``shape`` for images of ``image_shape`` ``(H, W, C)`` (module docstring), or ``""``;
    the text starts with ``f"{subject} have shape {shape}"``.

    The number of maps (axis 0) is checked by the caller.
    """
    shape = tuple(int(v) for v in shape)
    H, W, C = (int(v) for v in image_shape)
    if len(shape) not in (3, 4):
        return f"{subject} have shape {shape}, expected {accepted_shapes(image_shape, resize)}"
    if 0 in shape[1:]:
        return f"{subject} have shape {shape}, with an empty axis; every size must be at least 1"
    spatial, channels = shape[1:3], shape[3:]
    if channels and channels[0] not in (C, 1):
        problem = f"{channels[0]} channels for images with {C}"
    elif spatial == (H, W):
        return ""
    elif resize and spatial[0] <= H and spatial[1] <= W:
        return ""
    else:
        problem = f"{spatial[0]} x {spatial[1]} for images of {H} x {W}" + (
            "" if resize or (spatial[0] > H or spatial[1] > W) else "; pass resize_maps=True (--resize-maps) to "
            "upsample coarser maps")
    targets = [(H, W, C), (H, W, 1)] if len(shape) == 4 else [(H, W)]
    advice = _transposition(shape[1:], targets)
    return f"{subject} have shape {shape}: {problem}; expected {accepted_shapes(image_shape, resize)}" + (
        f"; {advice}" if advice else "")


def check_map_layout(maps: np.ndarray, image_shape: Sequence[int], resize: bool = False,
                     subject: str = "maps") -> None:
    """Raise ``ValueError`` (:func:`map_layout_problem`, about ``subject``) unless ``maps`` has an accepted layout."""
    problem = map_layout_problem(np.shape(maps), image_shape, resize, subject)
    if problem:
        raise ValueError(problem)
