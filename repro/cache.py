"""The attribution-map cache: one ``.npy`` per (model, weights, method with its full parameters, image, target).

Usage::

    cache = MapCache("results/embedded/maps")
    keys = MapCache.keys(model.name, weights_id("embedded", None), method, ids, targets)
    maps = cache.get_or_compute(keys, lambda todo: method(model, x[todo], targets[todo]))  # one batch, always

The key is the only rule for naming a map, and it hashes everything that determines the map:
``method.params()`` (every setting, defaults included: changing a default such as IG's rule or LRP's epsilon
gives a new key and never serves a stale map), the image id, the target class and :data:`MAP_FORMAT_VERSION`
(bumped whenever this package changes how a map with the same parameters is computed or stored). The file is
``root/<model>__<weights>/<method>/<sha256 of the JSON key, 16 hex digits>.npy``. Writes are atomic
(:mod:`repro.io`), so a killed run never leaves a half-written map that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from repro.errors import ReproError
from repro.io import atomic_write_npy, jsonable, load_array

MAP_FORMAT_VERSION = 1
"""Version of how maps are computed and stored; part of every key."""

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class HasParams(Protocol):
    """What the cache needs of a method: its registry name and every setting that determines its maps."""

    name: str

    def params(self) -> dict: ...


def _slug(text: str, limit: int = 48) -> str:
    """A file-name-safe version of ``text``; if anything had to change, a short hash keeps it unique."""
    slug = _SAFE.sub("_", text)[:limit].strip("._") or "x"
    if slug != text:
        slug = f"{slug}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
    return slug


def params_hash(params: Mapping[str, Any]) -> str:
    """Deterministic 16-hex-digit SHA-256 of ``params`` (JSON, sorted keys; numpy values converted)."""
    text = json.dumps(dict(params), sort_keys=True, separators=(",", ":"), default=jsonable)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class MapCache:
    """Attribution maps stored as ``.npy`` under ``root`` (see the module docstring)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @staticmethod
    def key(model_name: str, weights_id: str | None, method: HasParams, image_id: str, target: int) -> str:
        """The key (a path relative to ``root``, without suffix) of one map; no I/O."""
        identity = {"params": method.params(), "image": str(image_id), "target": int(target),
                    "format": MAP_FORMAT_VERSION}
        model_part = f"{_slug(str(model_name))}__{_slug(str(weights_id))}"
        return f"{model_part}/{_slug(method.name)}/{params_hash(identity)}"

    @classmethod
    def keys(cls, model_name: str, weights_id: str | None, method: HasParams, image_ids: Sequence[str],
             targets: Sequence[int]) -> list[str]:
        """:meth:`key` of each (image, target): the keys of one batch of maps. ``weights_id`` is
        :func:`repro.models.weights.weights_id` of the model's weights (by content for a file)."""
        return [cls.key(model_name, weights_id, method, i, int(t)) for i, t in zip(image_ids, targets)]

    def path(self, key: str) -> Path:
        """Where the map of ``key`` lives."""
        return self.root / f"{key}.npy"

    def put(self, key: str, attribution: np.ndarray) -> Path:
        """Store one map (any shape, e.g. ``(H, W, C)`` or ``(H, W)``) atomically; returns its path."""
        return atomic_write_npy(self.path(key), np.asarray(attribution))

    def get(self, key: str) -> np.ndarray | None:
        """The stored map, or ``None`` if there is none.

        Raises:
            ReproError: the file exists but cannot be read (names the file; delete it to recompute).
        """
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            return load_array(path, "cached map")
        except ReproError as exc:
            raise ReproError(f"{exc}; delete it to recompute") from None

    def get_or_compute(self, keys: Sequence[str], compute: Callable[[list[int]], np.ndarray]) -> np.ndarray:
        """The maps of ``keys`` stacked ``(len(keys), ...)``, computed as ONE batch unless every one is stored.

        ``compute(positions)`` returns the maps of those positions in order; it is called with ALL positions
        whenever a map is missing or unreadable; the missing ones are then stored, and the stored ones are
        returned as stored. A key's map is therefore always the one first computed for it, in one batch of its
        chunk, whichever of that batch's maps an interrupted earlier run had stored (a method's output can
        differ in the last bits between batch compositions): a resumed run gives the same bytes.
        """
        found: list[np.ndarray | None] = []
        for k in keys:
            try:
                found.append(self.get(k))
            except ReproError as exc:
                print(f"[repro] {exc}: recomputing it", file=sys.stderr)
                found.append(None)
        if any(m is None for m in found):
            computed = np.asarray(compute(list(range(len(keys)))))
            for j, (k, m) in enumerate(zip(keys, computed)):
                if found[j] is None:
                    self.put(k, m)
                    found[j] = m
        return np.stack(found)
