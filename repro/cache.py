"""The attribution-map cache: one ``.npy`` per (model, weights, method with its full parameters, image, target).

Usage::

    cache = MapCache("results/embedded/maps")
    keys = MapCache.keys(model.name, weights_id("embedded", None), method, ids, targets)
    maps = cache.get_or_compute(keys, lambda todo: method(model, x[todo], targets[todo]))  # one batch, always

The key is the only rule for naming a map, and it hashes everything that determines the map:
``method.params()`` (every setting, defaults included: changing a default such as IG's rule or LRP's epsilon
gives a new key and never serves a stale map), the image id, the target class and :data:`MAP_FORMAT_VERSION`
(bumped whenever this package changes how a map with the same parameters is computed or stored). The file is
``root/<model>__<weights>/<method>/<sha256 of the JSON key, 16 hex digits>.npz``. Writes are atomic
(:mod:`repro.io`), so a killed run never leaves a half-written map that a later run would trust.

Nothing stored is trusted unchecked: each file holds the map (float32) and the SHA-256 of its dtype, shape and
bytes (:func:`map_digest`), recorded when it is written. A read checks the checksum, the dtype, the shape the
caller expects and that every value is finite; a map that fails any check is named on stderr and recomputed
(:meth:`MapCache.get_or_compute`). A map is stored only if it is finite. What this does not catch: a deliberate
edit that also rewrites the checksum.
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
from repro.io import atomic_write_npz, jsonable, load_array

MAP_FORMAT_VERSION = 2
"""Version of how maps are computed and stored; part of every key. 2: ``.npz`` with the map's checksum."""

MAP_SUFFIX = ".npz"
"""The ending of a stored map's file."""

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
        return self.root / f"{key}{MAP_SUFFIX}"

    def put(self, key: str, attribution: np.ndarray) -> Path | None:
        """Store one map (any shape, e.g. ``(H, W, C)`` or ``(H, W)``; kept as float32) with its checksum,
        atomically; returns its path, or ``None`` for a map with a non-finite value (never stored: a later run
        computes it again)."""
        m = np.ascontiguousarray(attribution, dtype=np.float32)
        if not np.isfinite(m).all():
            return None
        return atomic_write_npz(self.path(key), {"map": m, "sha256": np.array(map_digest(m))}, compressed=False)

    def get(self, key: str, shape: tuple[int, ...] | None = None) -> np.ndarray | None:
        """The stored map of ``key`` (checked), or ``None`` if there is none.

        Args:
            shape: the shape the map must have (``None``: any).
        Raises:
            ReproError: the file exists but cannot be read, or fails a check (:func:`map_problem`); the message
                names the file and the problem.
        """
        path = self.path(key)
        if not path.is_file():
            return None
        stored = load_array(path, "cached map", allow_npz=True)
        problem = map_problem(stored, shape)
        if problem:
            raise ReproError(f"{path}: cached map {problem}")
        return stored["map"]

    def get_or_compute(self, keys: Sequence[str], compute: Callable[[list[int]], np.ndarray],
                       shape: tuple[int, ...] | None = None) -> np.ndarray:
        """The maps of ``keys`` stacked ``(len(keys), ...)``, computed as ONE batch unless every one is stored and
        passes its checks (:meth:`get`, with ``shape`` the shape of one map; ``None``: the stored maps must agree
        with each other).

        ``compute(positions)`` returns the maps of those positions in order; it is called with ALL positions
        whenever a map is missing or fails a check (named on stderr: "<file>: cached map ...; recomputing it");
        the missing ones are then stored, and the stored ones are returned as stored. A key's map is therefore
        always the one first computed for it, in one batch of its chunk, whichever of that batch's maps an
        interrupted earlier run had stored (a method's output can differ in the last bits between batch
        compositions): a resumed run gives the same bytes.
        """
        found: list[np.ndarray | None] = []
        for k in keys:
            try:
                m = self.get(k, shape)
            except ReproError as exc:
                print(f"[repro] {exc}; recomputing it", file=sys.stderr)
                m = None
            if m is not None and shape is None and found and found[0] is not None and m.shape != found[0].shape:
                print(f"[repro] {self.path(k)}: cached map of shape {m.shape}, not {found[0].shape} as the other "
                      f"maps of its batch; recomputing it", file=sys.stderr)
                m = None
            found.append(m)
        if any(m is None for m in found):
            computed = np.asarray(compute(list(range(len(keys)))), dtype=np.float32)
            for j, (k, m) in enumerate(zip(keys, computed)):
                if found[j] is None:
                    self.put(k, m)
                    found[j] = m
        return np.stack(found)


def map_digest(m: np.ndarray) -> str:
    """SHA-256 (hex) of a map's dtype, shape and bytes (C order): what a stored map's checksum covers."""
    h = hashlib.sha256(f"{np.dtype(m.dtype).str}{tuple(m.shape)}".encode("utf-8"))
    h.update(np.ascontiguousarray(m).tobytes())
    return h.hexdigest()


def map_problem(stored: Any, shape: tuple[int, ...] | None) -> str:
    """What is wrong with a stored map file's contents (``{"map": ..., "sha256": ...}``), or ``""``: not written
    by this cache, not float32, another shape than ``shape``, a checksum that does not match, a non-finite value."""
    if not isinstance(stored, dict) or set(stored) != {"map", "sha256"}:
        return "is not a map written by this cache (expected the arrays 'map' and 'sha256')"
    m, recorded = stored["map"], stored["sha256"]
    if m.dtype != np.float32:
        return f"has dtype {m.dtype}, not float32"
    if shape is not None and tuple(m.shape) != tuple(shape):
        return f"has shape {tuple(m.shape)}, not {tuple(shape)}"
    if recorded.shape != () or recorded.dtype.kind != "U" or str(recorded) != map_digest(m):
        return "does not match the checksum recorded when it was written (the file changed)"
    if not np.isfinite(m).all():
        return "has non-finite values"
    return ""
