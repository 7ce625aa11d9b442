"""Every unreadable image of a study is named, all at once, before any work (repro.data.images.check_image_files):
truncated PNG and JPEG files, a text file named .png, an empty file, a pixel mode the conversion refuses; in a
folder, in an ImageNet tree, and through `repro reproduce --profile custom` (exit 2, one line, nothing written)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from repro.data.folder import FolderSource
from repro.data.images import MAX_LISTED, check_image, check_image_files, read_rgb, unreadable_files
from repro.errors import ImageReadError

pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")


def _noise(path: Path, shape=(24, 32, 3), seed: int = 0, **save) -> Path:
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)).save(path, **save)
    return path


def _truncate(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    """Three good images (PNG, JPEG, grayscale PNG) and four bad ones (truncated PNG and JPEG, a text file named
    .png, an empty .jpg)."""
    d = tmp_path / "imgs"
    d.mkdir()
    _noise(d / "a_good.png")
    _noise(d / "b_good.jpg", seed=1)
    Image.new("L", (9, 5), 77).save(d / "c_gray.png")
    _truncate(_noise(d / "d_cut.png", seed=2))
    _truncate(_noise(d / "e_cut.jpg", shape=(64, 64, 3), seed=3, quality=95))
    (d / "f_text.png").write_text("this is not a picture\n")
    (d / "g_empty.jpg").write_bytes(b"")
    return d


BAD = {"d_cut.png": "truncated", "e_cut.jpg": "truncated", "f_text.png": "not an image", "g_empty.jpg": "empty"}


def test_check_image_refuses_exactly_what_read_rgb_refuses(folder):
    for path in sorted(folder.iterdir()):
        if path.name in BAD:
            with pytest.raises(ImageReadError) as full:
                read_rgb(path)
            with pytest.raises(ImageReadError) as quick:
                check_image(path)
            assert str(quick.value) == str(full.value) and str(quick.value).startswith(f"{path}: ")
            assert quick.value.reason == BAD[path.name]
        else:
            read_rgb(path)
            check_image(path)


def test_every_bad_file_is_named_in_one_line(folder):
    assert [(p.name, e.reason) for p, e in unreadable_files(sorted(folder.iterdir()))] == list(BAD.items())
    with pytest.raises(ImageReadError) as info:
        FolderSource(folder).check_files()
    assert str(info.value) == (f"image folder {folder}: 4 of 7 image files cannot be read: d_cut.png (truncated), "
                               "e_cut.jpg (truncated), f_text.png (not an image), g_empty.jpg (empty)")
    assert "\n" not in str(info.value)


def test_a_folder_of_good_images_passes_and_limit_checks_only_the_study(folder):
    FolderSource(folder, limit=3).check_files()  # a_good, b_good, c_gray: the bad files are not in the study


def test_the_list_stops_after_ten_files(tmp_path):
    for i in range(MAX_LISTED + 3):
        (tmp_path / f"x{i:02d}.png").write_text("text")
    _noise(tmp_path / "y.png")
    with pytest.raises(ImageReadError) as info:
        FolderSource(tmp_path).check_files()
    message = str(info.value)
    assert message.startswith(f"image folder {tmp_path}: 13 of 14 image files cannot be read: x00.png (not an image)")
    assert "x09.png (not an image), and 3 more" in message and "x10.png" not in message


def test_a_pixel_mode_without_conversion_is_named(tmp_path):
    # a 32-bit float TIFF named .png: PIL decodes it, the RGB conversion has no rule for mode F
    Image.fromarray(np.zeros((4, 4), np.float32)).save(tmp_path / "float.png", format="TIFF")
    with pytest.raises(ImageReadError, match="unsupported pixel mode 'F'"):
        read_rgb(tmp_path / "float.png")
    with pytest.raises(ImageReadError) as info:
        check_image_files([tmp_path / "float.png"], tmp_path)
    assert str(info.value).endswith("1 of 1 image files cannot be read: float.png (unsupported pixel mode 'F')")


def test_imagenet_files_are_named_relative_to_the_directory(tmp_path):
    from repro.data.imagenet import ImageNetSource, generate_manifest, write_manifest

    rows = generate_manifest(seed=5, per_class=1, extra_classes=0)[:3]
    manifest = write_manifest(rows, tmp_path / "m.csv")
    root = tmp_path / "val"
    for k, r in enumerate(rows):
        (root / r.wnid).mkdir(parents=True)
        _noise(root / r.wnid / r.image_id, shape=(40, 48, 3), seed=k, format="JPEG")
    ImageNetSource(manifest, root).check_files()
    _truncate(root / rows[1].wnid / rows[1].image_id)
    with pytest.raises(ImageReadError) as info:
        ImageNetSource(manifest, root).check_files()
    assert str(info.value) == (f"ImageNet directory {root}: 1 of 3 image files cannot be read: "
                               f"{rows[1].wnid}/{rows[1].image_id} (truncated)")
    bad = ImageNetSource(manifest, root).unreadable()  # repro manifest --check-images: the full messages
    assert [i for i, _ in bad] == [rows[1].image_id] and "damaged or truncated" in bad[0][1]


def test_forty_small_images_are_all_checked_and_pass(tmp_path):
    """(5 ms on the 2-core machine: README; timings live in benchmarks and notes, not in asserts.)"""
    for i in range(40):
        _noise(tmp_path / f"p{i:02d}.png", shape=(64, 64, 3), seed=i)
    assert FolderSource(tmp_path).check_files() == []  # no conversion, nothing unreadable


def _model_file(path: Path) -> Path:
    """A 16 x 16 three-class network saved to ``path``."""
    import tensorflow as tf

    layers = tf.keras.layers
    tf.keras.utils.set_random_seed(0)
    inp = layers.Input((16, 16, 3))
    x = layers.Conv2D(2, 3, padding="same", activation="relu", name="conv")(inp)
    out = layers.Dense(3, activation="softmax", name="predictions")(layers.Flatten()(x))
    tf.keras.Model(inp, out).save(path)
    return path


def test_a_custom_run_names_every_bad_image_before_any_work(tmp_path, capsys, monkeypatch):
    import repro.pipeline
    from repro.cli import main

    # the name the pipeline calls (patching repro.stages would leak into a pipeline first imported here)
    monkeypatch.setattr(repro.pipeline, "compute_chunk", lambda *a, **k: pytest.fail("a chunk was computed"))
    images = tmp_path / "imgs"
    images.mkdir()
    for i in range(4):
        _noise(images / f"ok_{i}.png", seed=i)
    _truncate(_noise(images / "cut.png", seed=9))
    (images / "notes.png").write_text("not an image")
    out = tmp_path / "run"
    status = main(["reproduce", "--profile", "custom", "--model", str(_model_file(tmp_path / "m.h5")),
                   "--preprocess", "tf", "--images", str(images), "--methods", "saliency", "--quick",
                   "--chunk-size", "2", "--no-progress", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert err == (f"repro reproduce: error: image folder {images}: 2 of 6 image files cannot be read: "
                   "cut.png (truncated), notes.png (not an image)\n")
    assert not out.exists() or not any(out.iterdir())  # nothing written (no chunk, no config.json), lock released
