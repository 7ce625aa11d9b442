"""`repro manifest`: --check passes on the committed file and fails (exit 1, clear message) on a changed one;
--write regenerates it byte for byte; --check-images reports missing (exit 2) and unreadable (exit 1) images."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from repro.cli import main
from repro.data.imagenet import generate_manifest, write_manifest

COMMITTED = Path(__file__).resolve().parents[2] / "data_manifest.csv"


def test_check_passes_on_the_committed_manifest(capsys):
    assert main(["manifest", "--check"]) == 0
    assert "OK, 9600 rows" in capsys.readouterr().out


def test_check_fails_on_a_changed_file(tmp_path, capsys):
    lines = COMMITTED.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(",", ";", 1)
    changed = tmp_path / "m.csv"
    changed.write_text("".join(lines))
    assert main(["manifest", "--check", "--manifest", str(changed)]) == 1
    err = capsys.readouterr().err
    assert f"{changed} differs from the manifest generated with seed 0: line 4:" in err
    assert "repro manifest --write" in err


def test_check_with_another_seed_fails_and_missing_file_is_an_error(tmp_path, capsys):
    assert main(["manifest", "--check", "--seed", "1"]) == 1
    assert main(["manifest", "--check", "--manifest", str(tmp_path / "none.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_write_regenerates_the_committed_file(tmp_path, capsys):
    out = tmp_path / "m.csv"
    assert main(["manifest", "--write", "--out", str(out)]) == 0
    assert out.read_bytes() == COMMITTED.read_bytes()
    assert main(["manifest", "--write", "--out", str(out), "--seed", "-1"]) == 2
    assert "--seed must be a non-negative integer" in capsys.readouterr().err


def test_check_images_of_a_fake_imagenet_directory(tmp_path, capsys):
    rows = generate_manifest(seed=0, per_class=1, extra_classes=0)[:3]
    manifest = write_manifest(rows, tmp_path / "m.csv")
    root = tmp_path / "val"
    for r in rows:
        (root / r.wnid).mkdir(parents=True)
        Image.new("RGB", (8, 6), (9, 9, 9)).save(root / r.wnid / r.image_id, format="JPEG")
    args = ["manifest", "--check-images", str(root), "--manifest", str(manifest)]
    assert main(args) == 0
    assert "all 3 images" in capsys.readouterr().out

    (root / rows[1].wnid / rows[1].image_id).write_bytes(b"")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "1 of 3 images" in err and f"{rows[1].image_id}: empty file" in err

    (root / rows[2].wnid / rows[2].image_id).unlink()
    assert main(args) == 2
    assert f"1 of 3 images missing from {root}" in capsys.readouterr().err
    assert main(["manifest", "--check-images", str(tmp_path / "nope")]) == 2
    assert "no such directory" in capsys.readouterr().err
