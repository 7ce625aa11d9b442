"""Example files ``OUT/examples/<image_id>.npz``: what Figures 2, 4, 6 and 7 draw for one image.

Layout (written and read only here)::

    image                       (H, W, 3) raw RGB in [0, 255]
    target                      int64, the explained class
    class_name                  str
    map/<method>                the per-pixel scores (H, W) the criteria ranked
    curve/<method>/<curve>/x    the x values of one of the six curves of
    curve/<method>/<curve>/y    :class:`~repro.criteria.api.ImageCurves` (:data:`CURVE_NAMES`) and its outputs

The pipeline writes one for each of the study's first ``num_examples`` images.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import numpy as np

from repro.errors import ReproError
from repro.io import atomic_write_npz, load_array

if TYPE_CHECKING:
    from repro.criteria.api import ImageCurves
    from repro.results.table import ResultsTable

CURVE_NAMES: tuple[str, ...] = ("necessity", "sufficiency", "tpn_top", "tpn_bottom", "tps_top", "tps_bottom")
"""The six curves of one (image, map), as the fields of :class:`~repro.criteria.api.ImageCurves`."""


@dataclass
class Example:
    """One example file: the raw image, the per-pixel maps and the six curves ``(x, y)`` of each method."""

    image_id: str
    image: np.ndarray
    target: int
    class_name: str
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)


def example_path(out: str | os.PathLike, image_id: str) -> Path:
    """Where the example file of ``image_id`` lives in the run directory ``out``."""
    return Path(out) / "examples" / f"{image_id}.npz"


def write_example(out: str | os.PathLike, image_id: str, image: np.ndarray, target: int, class_name: str,
                  maps: Mapping[str, np.ndarray], curves: Mapping[str, "ImageCurves"]) -> Path:
    """Write the example file of one image atomically (layout in the module docstring); returns its path.

    Args:
        maps: method -> per-pixel scores ``(H, W)``. curves: method -> that map's :class:`ImageCurves`.
    """
    arrays: dict[str, np.ndarray] = {"image": image, "target": np.int64(target), "class_name": np.str_(class_name)}
    for name, scores in maps.items():
        arrays[f"map/{name}"] = scores
        for cname in CURVE_NAMES:
            curve = getattr(curves[name], cname)
            arrays[f"curve/{name}/{cname}/x"] = curve.x
            arrays[f"curve/{name}/{cname}/y"] = curve.y
    return atomic_write_npz(example_path(out, image_id), arrays)


def load_example(path: str | os.PathLike) -> Example:
    """Read an example file (a map with channels is summed over them).

    Raises:
        ReproError: unreadable file, a single ``.npy``, or no ``image``; the message names the file.
    """
    path = Path(path)
    data = load_array(path, "example file", allow_npz=True)
    if not isinstance(data, dict):
        raise ReproError(f"{path}: example file is a single .npy array, expected an .npz archive")
    if "image" not in data:
        raise ReproError(f"{path}: no 'image' array (keys: {', '.join(sorted(data))})")
    ex = Example(path.stem, np.asarray(data["image"], dtype=np.float32),
                 int(data["target"]) if "target" in data else -1,
                 str(data["class_name"]) if "class_name" in data else "")
    for key, value in data.items():
        parts = key.split("/")
        if parts[0] == "map" and len(parts) == 2:
            m = np.asarray(value, dtype=np.float64)
            ex.maps[parts[1]] = m.sum(axis=-1) if m.ndim == 3 else m
        elif parts[0] == "curve" and len(parts) == 4 and parts[3] == "x":
            ykey = "/".join(parts[:3] + ["y"])
            if ykey in data:
                ex.curves.setdefault(parts[1], {})[parts[2]] = (np.asarray(value, np.float64),
                                                                np.asarray(data[ykey], np.float64))
    return ex


def example_paths(results_dir: str | os.PathLike, table: "ResultsTable | None" = None) -> list[Path]:
    """``examples/*.npz`` of a run, in the table's image order when a table is given (else by name)."""
    paths = {p.stem: p for p in sorted((Path(results_dir) / "examples").glob("*.npz"))}
    if table is None:
        return list(paths.values())
    order = [i for i in table.image_ids if i in paths] + [i for i in paths if i not in set(table.image_ids)]
    return [paths[i] for i in order]
