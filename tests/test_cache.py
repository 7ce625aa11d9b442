"""The attribution-map cache: one key rule over the method's full parameters (repro/cache.py)."""

from __future__ import annotations

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
    assert cache.put(k1, m) == tmp_path / "cache" / f"{k1}.npy"
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
    with pytest.raises(ReproError, match=r"\.npy: cannot read cached map .*delete it to recompute"):
        cache.get(key)
