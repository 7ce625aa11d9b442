"""Atomic writes and checked reads (repro/io.py)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from repro.errors import ReproError
from repro.io import (
    atomic_open, atomic_write_bytes, atomic_write_json, atomic_write_npy, atomic_write_npz, atomic_write_text,
    load_array, read_json, remove_stale_temporaries,
)


def _listing(directory):
    return sorted(p.name for p in directory.iterdir())


# ------------------------------------------------------------------------------------------------ atomic writes

def test_atomic_writers_round_trip(tmp_path):
    atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01abc")
    atomic_write_text(tmp_path / "a.txt", "héllo\n")
    atomic_write_json(tmp_path / "a.json", {"b": np.float32(0.5), "a": np.arange(3), "nan": float("nan")})
    atomic_write_npz(tmp_path / "a.npz", {"map/saliency": np.eye(2), "curve/lrp/tpn_top/x": np.linspace(0, 1, 5)})
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01abc"
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    data = read_json(tmp_path / "a.json")
    assert data["a"] == [0, 1, 2] and data["b"] == 0.5 and math.isnan(data["nan"])
    assert list((tmp_path / "a.json").read_text().splitlines()[1:3]) == ['  "a": [', "    0,"]  # sorted keys
    with np.load(tmp_path / "a.npz") as z:
        np.testing.assert_array_equal(z["map/saliency"], np.eye(2))
        np.testing.assert_array_equal(z["curve/lrp/tpn_top/x"], np.linspace(0, 1, 5))
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


def test_a_file_in_place_of_the_parent_directory_is_one_write_error(tmp_path):
    from repro.errors import WriteError

    (tmp_path / "afile").write_text("")
    with pytest.raises(WriteError, match=r"afile/x.txt: cannot write: a parent of it is a file, not a directory"):
        atomic_write_text(tmp_path / "afile" / "x.txt", "x")
    with pytest.raises(WriteError, match=r"afile/sub/x.txt: cannot write: a parent of it is a file"):
        atomic_write_text(tmp_path / "afile" / "sub" / "x.txt", "x")


def test_a_short_write_on_a_full_disk_is_one_line_naming_the_file(tmp_path):
    """numpy writes an array with the C library; on a full disk that is a short write, an ``OSError`` without an
    errno (``4096 requested and 1008 written``). Reproduced for real in a child process whose file-size limit is
    1000 bytes (RLIMIT_FSIZE, SIGXFSZ ignored): the write fails like on a full file system."""
    import subprocess
    import sys

    code = (
        "import resource, signal, sys, numpy as np\n"
        "from repro.errors import WriteError\n"
        "from repro.io import atomic_write_npy\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        "try:\n"
        f"    atomic_write_npy({str(tmp_path / 'map.npy')!r}, np.zeros(100_000, np.float32))\n"
        "except WriteError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(2)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stdout.strip() == f"{tmp_path / 'map.npy'}: cannot write: no space left on the device; free space " \
                                  "and rerun"
    assert _listing(tmp_path) == []  # no temporary left behind


def test_numpys_short_write_message_counts_as_no_space():
    from repro.io import write_error, write_errno

    short = OSError("4096 requested and 1008 written")
    assert short.errno is None and write_errno(short) == __import__("errno").ENOSPC
    assert str(write_error("x.npy", short)) == "x.npy: cannot write: no space left on the device; free space and rerun"
    assert write_errno(OSError("something else")) is None
