"""The attribution-map cache: one key rule over the method's full parameters (repro/cache.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from repro.cache import MAP_FORMAT_VERSION, MapCache, params_hash
from repro.errors import ReproError


class Method:
    """A stand-in with the two things the cache reads: a registry name and ``params()``."""

    def __init__(self, name="integrated_gradients", **params):
        self.name, self._params = name, params

    def params(self):
        return dict(self._params)


def test_params_hash_is_deterministic_and_order_free():
    a = params_hash({"steps": 50, "baseline": "black", "sigma": 0.2})
    b = params_hash({"sigma": 0.2, "steps": np.int64(50), "baseline": "black"})
    assert a == b and len(a) == 16
    assert params_hash({"steps": 51, "baseline": "black", "sigma": 0.2}) != a


def test_key_changes_with_every_part_of_the_identity():
    ig = Method(steps=50, rule="midpoint")
    key = MapCache.key("vgg16", "/home/u/vgg16 weights.h5", ig, "ILSVRC2012_val_00000001.JPEG", 3)
    assert key.startswith("vgg16__") and "/integrated_gradients/" in key
    others = [
        MapCache.key("vgg16", "/home/u/vgg16 weights.h5", Method(steps=50, rule="left"), "ILSVRC2012_val_00000001.JPEG", 3),
        MapCache.key("vgg16", "/home/u/vgg16 weights.h5", ig, "ILSVRC2012_val_00000002.JPEG", 3),
        MapCache.key("vgg16", "/home/u/vgg16 weights.h5", ig, "ILSVRC2012_val_00000001.JPEG", 4),
        MapCache.key("vgg16", "imagenet", ig, "ILSVRC2012_val_00000001.JPEG", 3),
        MapCache.key("vgg16", "/home/u/vgg16 weights.h5", Method("lrp", steps=50, rule="midpoint"),
                     "ILSVRC2012_val_00000001.JPEG", 3),
    ]
    assert len({key, *others}) == 6
    assert MapCache.key("vgg16", "/home/u/vgg16 weights.h5", Method(rule="midpoint", steps=50),
                        "ILSVRC2012_val_00000001.JPEG", 3) == key


def test_key_holds_the_format_version(monkeypatch):
    import repro.cache

    before = MapCache.key("m", None, Method(), "img", 0)
    monkeypatch.setattr(repro.cache, "MAP_FORMAT_VERSION", MAP_FORMAT_VERSION + 1)
    assert MapCache.key("m", None, Method(), "img", 0) != before


def test_round_trip_and_no_io_in_key(tmp_path):
    cache = MapCache(tmp_path / "cache")
    k1 = cache.key("embedded", None, Method("lrp"), "img_1", 2)
    k2 = cache.key("embedded", None, Method("lrp"), "img_1", 3)
    assert not (tmp_path / "cache").exists()  # key() does no I/O
    assert cache.get(k1) is None
    m = np.random.default_rng(0).normal(size=(4, 4, 3)).astype(np.float32)
    assert cache.put(k1, m) == tmp_path / "cache" / f"{k1}.npz"
    got = cache.get(k1)
    assert got.dtype == np.float32 and cache.get(k2) is None
    np.testing.assert_array_equal(got, m)
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_get_or_compute_computes_the_whole_batch_when_one_map_is_missing(tmp_path):
    cache = MapCache(tmp_path)
    keys = [cache.key("m", None, Method(), f"img_{i}", 0) for i in range(4)]
    asked = []

    def compute(todo):
        asked.append(list(todo))
        return np.stack([np.full((2, 2), 10.0 + j) for j in todo])

    cache.put(keys[1], np.full((2, 2), 10.0 + 1))
    got = cache.get_or_compute(keys, compute)
    assert asked == [[0, 1, 2, 3]]  # one batch of all four, never a batch of the three missing
    np.testing.assert_array_equal(got[:, 0, 0], [10.0, 11.0, 12.0, 13.0])
    assert all(cache.get(k) is not None for k in keys)
    again = cache.get_or_compute(keys, compute)  # all stored: read back, nothing computed
    assert asked == [[0, 1, 2, 3]]
    np.testing.assert_array_equal(again, got)


def test_get_or_compute_recomputes_an_unreadable_map(tmp_path, capsys):
    cache = MapCache(tmp_path)
    keys = [cache.key("m", None, Method(), f"img_{i}", 0) for i in range(2)]
    for k in keys:
        cache.put(k, np.zeros(3))
    cache.path(keys[0]).write_bytes(b"damaged")
    got = cache.get_or_compute(keys, lambda todo: np.ones((len(todo), 3)))
    np.testing.assert_array_equal(got, [np.ones(3), np.zeros(3)])  # recomputed; the sound one as stored
    assert "cannot read cached map" in capsys.readouterr().err
    np.testing.assert_array_equal(cache.get(keys[0]), np.ones(3))


def test_unreadable_file_is_named(tmp_path):
    cache = MapCache(tmp_path)
    key = cache.key("m", None, Method("lrp"), "x", 0)
    cache.path(key).parent.mkdir(parents=True)
    cache.path(key).write_bytes(b"not a numpy file")
    with pytest.raises(ReproError, match=r"\.npz: cannot read cached map"):
        cache.get(key)


# ------------------------------------------------------------------------------ every stored map is checked when read

def flip_a_byte_of_the_map(path) -> None:
    """Change one byte inside the stored map's values (not its header): a silent corruption of a number."""
    import io
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    data = bytearray(members["map.npy"])
    data[-5] ^= 0x10
    members["map.npy"] = bytes(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    path.write_bytes(buffer.getvalue())


def stored(tmp_path, m):
    cache = MapCache(tmp_path)
    key = cache.key("m", None, Method(), "img", 0)
    cache.put(key, m)
    return cache, key


def rewrite(cache, key, **arrays):
    """Replace the stored file by ``arrays`` (a consistent-looking file with other contents)."""
    np.savez(cache.path(key), **arrays)


@pytest.mark.parametrize("damage, problem", [
    ("flipped byte", "does not match the checksum recorded when it was written (the file changed)"),
    ("float64 beyond float32", "has dtype float64, not float32"),
    ("wrong shape", "has shape (3, 4), not (4, 3)"),
    ("non-finite", "has non-finite values"),
    ("foreign file", "is not a map written by this cache (expected the arrays 'map' and 'sha256')"),
])
def test_a_stored_map_that_fails_a_check_is_named_and_recomputed(tmp_path, capsys, damage, problem):
    from repro.cache import map_digest

    m = np.arange(12, dtype=np.float32).reshape(4, 3)
    cache, key = stored(tmp_path, m)
    if damage == "flipped byte":
        flip_a_byte_of_the_map(cache.path(key))
    elif damage == "float64 beyond float32":
        big = np.full((4, 3), 1e300)
        rewrite(cache, key, map=big, sha256=np.array(map_digest(big)))
    elif damage == "wrong shape":
        other = np.zeros((3, 4), np.float32)
        rewrite(cache, key, map=other, sha256=np.array(map_digest(other)))
    elif damage == "non-finite":
        bad = m.copy()
        bad[0, 0] = np.nan
        rewrite(cache, key, map=bad, sha256=np.array(map_digest(bad)))
    else:
        rewrite(cache, key, values=m)
    with pytest.raises(ReproError, match=re.escape(f"{cache.path(key)}: cached map {problem}")):
        cache.get(key, shape=(4, 3))
    got = cache.get_or_compute([key], lambda todo: m[None] + 1, shape=(4, 3))
    np.testing.assert_array_equal(got[0], m + 1)  # recomputed, not the damaged numbers
    assert f"{cache.path(key)}: cached map {problem}; recomputing it" in capsys.readouterr().err
    np.testing.assert_array_equal(cache.get(key, shape=(4, 3)), m + 1)  # and stored again, checked


def test_a_map_with_a_non_finite_value_is_never_stored(tmp_path):
    cache = MapCache(tmp_path)
    key = cache.key("m", None, Method(), "img", 0)
    assert cache.put(key, np.array([1.0, np.inf])) is None and cache.get(key) is None


def test_stored_maps_of_one_batch_must_agree_in_shape_when_none_is_given(tmp_path, capsys):
    cache = MapCache(tmp_path)
    keys = [cache.key("m", None, Method(), f"img_{i}", 0) for i in range(2)]
    cache.put(keys[0], np.zeros((2, 2)))
    cache.put(keys[1], np.zeros((3, 3)))
    got = cache.get_or_compute(keys, lambda todo: np.ones((len(todo), 2, 2)))
    np.testing.assert_array_equal(got, [np.zeros((2, 2)), np.ones((2, 2))])
    assert "cached map of shape (3, 3), not (2, 2) as the other maps of its batch; recomputing it" in \
        capsys.readouterr().err
