"""Atomic writes, the results table and the attribution cache (repro/store.py)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from repro.errors import ReproError
from repro.store import (
    RESULT_COLUMNS, MapCache, ResultsTable, atomic_open, atomic_write_bytes, atomic_write_csv, atomic_write_json,
    atomic_write_npy, atomic_write_npz, atomic_write_text, load_array, params_hash, read_json, read_results, remove_stale_temporaries,
    write_results,
)


def _listing(directory):
    return sorted(p.name for p in directory.iterdir())


# ------------------------------------------------------------------------------------------------ atomic writes

def test_atomic_writers_round_trip(tmp_path):
    atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01abc")
    atomic_write_text(tmp_path / "a.txt", "héllo\n")
    atomic_write_json(tmp_path / "a.json", {"b": np.float32(0.5), "a": np.arange(3), "nan": float("nan")})
    atomic_write_npz(tmp_path / "a.npz", {"map/saliency": np.eye(2), "curve/lrp/tpn_top/x": np.linspace(0, 1, 5)})
    atomic_write_csv(tmp_path / "sub" / "a.csv", ["x", "y"], [[1, "u,v"], [2, "w"]])
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01abc"
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    data = read_json(tmp_path / "a.json")
    assert data["a"] == [0, 1, 2] and data["b"] == 0.5 and math.isnan(data["nan"])
    assert list((tmp_path / "a.json").read_text().splitlines()[1:3]) == ['  "a": [', "    0,"]  # sorted keys
    with np.load(tmp_path / "a.npz") as z:
        np.testing.assert_array_equal(z["map/saliency"], np.eye(2))
        np.testing.assert_array_equal(z["curve/lrp/tpn_top/x"], np.linspace(0, 1, 5))
    assert (tmp_path / "sub" / "a.csv").read_text() == 'x,y\n1,"u,v"\n2,w\n'
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_crash_mid_write_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "results.csv"
    target.write_text("old contents\n")
    with pytest.raises(RuntimeError, match="simulated crash"):
        with atomic_open(target, "w") as f:
            f.write("new half-written contents")
            f.flush()
            raise RuntimeError("simulated crash")
    assert target.read_text() == "old contents\n"
    assert _listing(tmp_path) == ["results.csv"]


def test_crash_while_serialising_keeps_old_file(tmp_path):
    target = tmp_path / "map.npy"
    atomic_write_npy(target, np.ones(3))
    with pytest.raises(ValueError, match="allow_pickle"):  # np.save refuses object arrays mid-write
        atomic_write_npy(target, np.array([object()], dtype=object))
    np.testing.assert_array_equal(np.load(target), np.ones(3))
    assert _listing(tmp_path) == ["map.npy"]


def test_atomic_file_gets_normal_permissions(tmp_path):
    path = atomic_write_text(tmp_path / "x.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_atomic_open_rejects_append_mode(tmp_path):
    with pytest.raises(ValueError, match="'a'"):
        with atomic_open(tmp_path / "x", "a"):
            pass


def test_remove_stale_temporaries(tmp_path):
    (tmp_path / ".results.csv.abc.tmp").write_text("torn")
    (tmp_path / "results.csv").write_text("kept")
    removed = remove_stale_temporaries(tmp_path)
    assert [p.name for p in removed] == [".results.csv.abc.tmp"]
    assert _listing(tmp_path) == ["results.csv"]


def test_read_json_errors(tmp_path):
    with pytest.raises(ReproError, match="config.json: file not found"):
        read_json(tmp_path / "config.json")
    (tmp_path / "bad.json").write_text('{"a": 1,\n oops}')
    with pytest.raises(ReproError, match=r"bad.json: line 2: malformed JSON"):
        read_json(tmp_path / "bad.json")


# ------------------------------------------------------------------------------------------------ results table

def _row(image_id, method, **values):
    row = dict(image_id=image_id, method=method, target=3, label=-1, y0=0.9, yb=0.1, num_positive=10,
               n_ord=0.25, s_ord=-0.5, one_minus_s_ord=1.5, tpn=0.1, tps=0.2, reason="")
    row.update(values)
    return row


def test_results_round_trip_is_exact(tmp_path):
    rows = [
        _row("img_1", "saliency", y0=0.1 + 0.2, n_ord=1 / 3),
        _row("img_1", "lrp", n_ord=float("nan"), s_ord=float("nan"), reason="no positive attribution",
             num_positive=0),
        _row("img, 2", "saliency", label=7, tpn=np.float32(0.3)),
    ]
    write_results(tmp_path / "results.csv", rows)
    table = read_results(tmp_path)  # a directory means <dir>/results.csv
    assert list(table.columns)[: len(RESULT_COLUMNS)] == list(RESULT_COLUMNS)
    assert len(table) == 3
    assert table.column("y0")[0] == 0.1 + 0.2  # repr round trip, bit for bit
    assert table.column("n_ord")[0] == 1 / 3
    assert math.isnan(table.column("n_ord")[1]) and table.column("reason")[1] == "no positive attribution"
    assert table.column("tpn")[2] == float(np.float32(0.3))
    assert table.column("label").tolist() == [-1, -1, 7]
    assert table.column("num_positive").dtype == np.int64
    assert table.image_ids == ["img_1", "img, 2"]
    assert table.methods == ["saliency", "lrp"]  # the registry's order, not the file's


def test_extra_columns_kept_and_reason_optional(tmp_path):
    rows = [_row("a", "random", shard="0/2")]
    del rows[0]["reason"]
    write_results(tmp_path / "r.csv", rows)
    table = read_results(tmp_path / "r.csv")
    assert table.column("shard").tolist() == ["0/2"] and table.column("reason").tolist() == [""]


def test_write_results_rejects_incomplete_rows(tmp_path):
    row = _row("a", "lrp")
    del row["tpn"]
    with pytest.raises(ValueError, match=r"row 0 lacks columns \['tpn'\]"):
        write_results(tmp_path / "r.csv", [row])
    assert not (tmp_path / "r.csv").exists()


def test_read_results_errors_name_file_line_and_column(tmp_path):
    with pytest.raises(ReproError, match=r"nothere.csv: results table not found"):
        read_results(tmp_path / "nothere.csv")
    path = tmp_path / "r.csv"
    path.write_text("image_id,method,target\n")
    with pytest.raises(ReproError, match=r"r.csv: missing columns label, y0, yb"):
        read_results(path)
    write_results(path, [_row("a", "lrp"), _row("b", "lrp")])
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("0.25", "0.2.5")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReproError, match=r"r.csv: line 3: column 'n_ord': malformed number '0.2.5'"):
        read_results(path)
    lines[2] = lines[2].replace("0.2.5", "0.25").replace("b,lrp,3", "b,lrp,three")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReproError, match=r"line 3: column 'target': malformed integer 'three'"):
        read_results(path)
    path.write_text(lines[0] + "\nonly,two\n")
    with pytest.raises(ReproError, match=r"line 2: 2 fields, expected 13"):
        read_results(path)
    path.write_text("")
    with pytest.raises(ReproError, match="empty file"):
        read_results(path)


def test_filter_pivot_and_duplicates():
    rows = [_row("a", "saliency", tpn=1.0), _row("a", "lrp", tpn=2.0), _row("b", "lrp", tpn=float("nan")),
            _row("c", "saliency", tpn=4.0)]
    table = ResultsTable.from_rows(rows)
    assert table.filter(method="lrp").column("image_id").tolist() == ["a", "b"]
    assert len(table.filter(method="lrp", image_id="b")) == 1
    images, methods, matrix = table.pivot("tpn")
    assert images == ["a", "b", "c"] and methods == ["saliency", "lrp"]
    np.testing.assert_array_equal(matrix, [[1.0, 2.0], [np.nan, np.nan], [4.0, np.nan]])
    with pytest.raises(ReproError, match="no column 'nope'"):
        table.column("nope")
    dup = ResultsTable.from_rows(rows + [_row("a", "lrp")])
    with pytest.raises(ReproError, match="duplicate row for image 'a' and method 'lrp'"):
        dup.pivot("tpn")


# ------------------------------------------------------------------------------------------------ cache

def test_params_hash_is_deterministic_and_order_free():
    a = params_hash({"steps": 50, "baseline": "black", "sigma": 0.2})
    b = params_hash({"sigma": 0.2, "steps": np.int64(50), "baseline": "black"})
    assert a == b and len(a) == 16
    assert params_hash({"steps": 51, "baseline": "black", "sigma": 0.2}) != a


def test_map_cache_round_trip_and_keys(tmp_path):
    cache = MapCache(tmp_path / "cache")
    key = cache.key("vgg16", "/home/u/vgg16 weights.h5", "integrated_gradients", {"steps": 50})
    other = cache.key("vgg16", "/home/u/vgg16 weights.h5", "integrated_gradients", {"steps": 20})
    assert key != other and key.startswith("vgg16__")
    assert not cache.has(key, "ILSVRC2012_val_00000001.JPEG")
    assert cache.get(key, "ILSVRC2012_val_00000001.JPEG") is None
    m = np.random.default_rng(0).normal(size=(4, 4, 3)).astype(np.float32)
    path = cache.put(key, "ILSVRC2012_val_00000001.JPEG", m)
    assert path.name == "ILSVRC2012_val_00000001.JPEG.npy"
    assert cache.has(key, "ILSVRC2012_val_00000001.JPEG") and not cache.has(other, "ILSVRC2012_val_00000001.JPEG")
    got = cache.get(key, "ILSVRC2012_val_00000001.JPEG")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, m)
    assert not (tmp_path / "cache" / other).exists()  # key() does no I/O
    # ids that are not file-name safe stay distinct
    cache.put(key, "a/b", np.zeros(2))
    cache.put(key, "a_b", np.ones(2))
    np.testing.assert_array_equal(cache.get(key, "a/b"), np.zeros(2))
    np.testing.assert_array_equal(cache.get(key, "a_b"), np.ones(2))
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_map_cache_with_image_inside_params(tmp_path):
    cache = MapCache(tmp_path)
    k1 = cache.key("embedded", None, "lrp", {"image": "img_1", "target": 2})
    k2 = cache.key("embedded", None, "lrp", {"image": "img_1", "target": 3})
    assert k1 != k2 and not cache.has(k1) and cache.get(k1) is None
    cache.put(k1, np.full((2, 2), 5.0))
    assert cache.has(k1) and not cache.has(k2)
    np.testing.assert_array_equal(cache.get(k1), np.full((2, 2), 5.0))
    assert cache.path(k1) == tmp_path / f"{k1}.npy"


def test_map_cache_unreadable_file_is_named(tmp_path):
    cache = MapCache(tmp_path)
    key = cache.key("m", None, "lrp", {})
    cache.path(key, "x").parent.mkdir(parents=True)
    cache.path(key, "x").write_bytes(b"not a numpy file")
    with pytest.raises(ReproError, match=r"x.npy: cannot read cached map .*delete it to recompute"):
        cache.get(key, "x")


# ------------------------------------------------------------------------------------------------ load_array


def test_load_array_reads_npy_and_npz(tmp_path):
    a = np.arange(6.0).reshape(2, 3)
    np.save(tmp_path / "a.npy", a)
    np.savez(tmp_path / "b.npz", x=a, y=a[0])
    np.testing.assert_array_equal(load_array(tmp_path / "a.npy", "maps"), a)
    got = load_array(tmp_path / "b.npz", "maps", allow_npz=True)
    assert set(got) == {"x", "y"}
    np.testing.assert_array_equal(got["x"], a)


@pytest.mark.parametrize("case, message", [
    ("missing", "nope.npy: images file not found"),
    ("directory", "d: images is a directory, expected a file"),
    ("npz", "b.npz: images is an .npz archive, expected a single .npy array"),
    ("text", "t.npy: cannot read images (ValueError"),
    ("truncated", "cut.npy: cannot read images"),
    ("pickled", "obj.npy: cannot read images (ValueError"),
    ("bad_zip", "bad.npz: cannot read images"),
])
def test_load_array_errors_name_the_file(tmp_path, case, message):
    path = {"missing": tmp_path / "nope.npy", "directory": tmp_path / "d", "npz": tmp_path / "b.npz",
            "text": tmp_path / "t.npy", "truncated": tmp_path / "cut.npy", "pickled": tmp_path / "obj.npy",
            "bad_zip": tmp_path / "bad.npz"}[case]
    if case == "directory":
        path.mkdir()
    elif case == "npz":
        np.savez(path, x=np.zeros(3))
    elif case == "text":
        path.write_text("not an array")
    elif case == "truncated":
        np.save(path, np.zeros((100, 100)))
        path.write_bytes(path.read_bytes()[:500])
    elif case == "pickled":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif case == "bad_zip":
        np.savez(path, x=np.zeros(1000))
        path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ReproError) as info:
        load_array(path, "images", allow_npz=case == "bad_zip")
    assert message in str(info.value)


def test_results_columns_typed_the_same_from_rows_and_from_file(tmp_path):
    row = {"image_id": "a", "method": "lrp", "target": 3, "label": 1, "y0": 0.5, "yb": 0.25, "num_positive": 7,
           "n_ord": float("nan"), "s_ord": 0.1, "one_minus_s_ord": 0.9, "tpn": 0.2, "tps": 0.3}
    table = ResultsTable.from_rows([row])
    back = read_results(write_results(tmp_path / "r.csv", [row]))
    for name in RESULT_COLUMNS:
        assert table.column(name).dtype == back.column(name).dtype, name
    assert table.column("target").dtype == np.int64 and table.column("y0").dtype == np.float64
    assert table.column("method").dtype == object
