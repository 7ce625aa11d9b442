"""``repro attribute`` / ``repro evaluate --images DIR``: a folder of images is read exactly as ``repro reproduce
--profile custom --images DIR`` reads it (one function, repro.data.folder.read_image_folder, on FolderSource), its
ids are the file names, and a folder of mixed images says how it was converted: one stderr line per kind, with a
count (the model loader is replaced by a small CNN, so no embedded model or VGG16 is needed)."""

import numpy as np
import pytest
from PIL import Image

import repro.models
from repro.cli import main
from repro.data.folder import FolderSource, read_image_folder
from repro.data.images import read_rgb
from repro.errors import ReproError
from repro.results import read_results
from repro.testing import small_cnn

SHAPE = (6, 6, 3)


@pytest.fixture(scope="module")
def cnn():
    return small_cnn(input_shape=SHAPE, classes=3, seed=1)


def _noise(h: int, w: int, channels: int, seed: int) -> np.ndarray:
    shape = (h, w) if channels == 1 else (h, w, channels)
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


@pytest.fixture
def mixed(tmp_path):
    """8 images: 3 RGBA (one 12 x 8), 2 grayscale (one a 16 x 8 JPEG), 3 RGB (two not square), and a labels.csv
    that attribute and evaluate do not read (it names no image of the folder)."""
    d = tmp_path / "photos"
    d.mkdir()
    files = {"rgba1.png": (10, 10, 4), "rgba2.png": (8, 12, 4), "rgba3.png": (6, 6, 4), "gray1.png": (10, 10, 1),
             "gray2.jpg": (8, 16, 1), "rgb1.png": (10, 20, 3), "rgb2.png": (9, 9, 3), "rgb3.png": (30, 10, 3)}
    for seed, (name, (h, w, c)) in enumerate(files.items()):
        Image.fromarray(_noise(h, w, c, seed)).save(d / name)
    (d / "labels.csv").write_text("file,label\nnot_here.png,1\n")
    return d


def _expected_lines(d) -> list[str]:
    return [f"[repro] image folder {d}: 3 of 8 images have transparency (RGBA): converted to RGB by compositing on "
            "black, a transparent pixel becoming the black baseline; e.g. rgba1.png",
            f"[repro] image folder {d}: 2 of 8 images are grayscale (L): converted to RGB, the gray value copied to R, "
            "G and B; e.g. gray1.png",
            f"[repro] image folder {d}: 4 of 8 images are not square: centre-cropped to a square; e.g. gray2.jpg"]


def test_a_mixed_folder_is_read_as_reproduce_reads_it_and_says_how_it_was_converted(mixed, capsys):
    ids, raw = read_image_folder(mixed, SHAPE)
    assert ids == ["gray1.png", "gray2.jpg", "rgb1.png", "rgb2.png", "rgb3.png", "rgba1.png", "rgba2.png",
                   "rgba3.png"]
    assert capsys.readouterr().err.splitlines() == _expected_lines(mixed)
    assert raw.shape == (8, *SHAPE) and raw.dtype == np.float32
    np.testing.assert_array_equal(raw, np.stack([read_rgb(mixed / name, 6) for name in ids]))
    source = FolderSource(mixed, size=6, use_labels=False)  # the labels.csv names no image: not read
    np.testing.assert_array_equal(raw, source.load(range(8)))
    # repro reproduce --profile custom: open_study calls the same check, which prints the same lines
    assert [f"[repro] {line}" for line in source.check_files()] == _expected_lines(mixed)
    assert capsys.readouterr().err.splitlines() == _expected_lines(mixed)


def test_a_folder_of_square_rgb_images_prints_nothing(tmp_path, capsys):
    for i in range(3):
        Image.fromarray(_noise(8, 8, 3, i)).save(tmp_path / f"{i}.png")
    ids, raw = read_image_folder(tmp_path, SHAPE)
    assert ids == ["0.png", "1.png", "2.png"] and raw.shape == (3, *SHAPE)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("shape", [(6, 8, 3), (6, 6, 1)])
def test_a_folder_needs_a_square_rgb_model_input(mixed, shape):
    with pytest.raises(ReproError) as info:
        read_image_folder(mixed, shape)
    assert str(info.value) == (f"image folder {mixed}: the model's input is {shape}; a folder of images is read for "
                               "square RGB inputs (S, S, 3) only: give a .npy of raw images at the input size "
                               "instead")


def test_a_folder_with_an_unreadable_file_is_refused_in_one_line(mixed, cnn, monkeypatch, capsys):
    monkeypatch.setattr(repro.models, "load_model", lambda name, weights=None, **options: cnn)
    (mixed / "broken.png").write_text("not a picture")
    assert main(["attribute", "--images", str(mixed), "--methods", "saliency", "--no-cache",
                 "--out", str(mixed.parent / "maps.npz")]) == 2
    assert capsys.readouterr().err == (f"repro attribute: error: image folder {mixed}: 1 of 9 image files cannot be "
                                       "read: broken.png (not an image)\n")


def test_attribute_and_evaluate_read_a_folder_like_the_npy_of_its_pixels(mixed, cnn, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(repro.models, "load_model", lambda name, weights=None, **options: cnn)
    ids, raw = read_image_folder(mixed, SHAPE)
    np.save(tmp_path / "photos.npy", raw)
    capsys.readouterr()
    maps = {}
    for images in (mixed, tmp_path / "photos.npy"):
        out = tmp_path / f"maps_{images.suffix or 'dir'}.npz"
        assert main(["attribute", "--images", str(images), "--methods", "saliency", "random", "--seed", "2",
                     "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
        with np.load(out) as f:
            maps[images.suffix] = {k: f[k] for k in f.files}
        err = capsys.readouterr().err
        assert err.splitlines()[:3] == (_expected_lines(mixed) if images == mixed else [])  # no scale warning
    for name in ("saliency", "random"):
        assert maps[""][name].shape[:3] == (8, 6, 6)
        np.testing.assert_array_equal(maps[""][name], maps[".npy"][name])

    tables = {}
    for images in (mixed, tmp_path / "photos.npy"):
        out = tmp_path / f"res_{images.suffix or 'dir'}.csv"
        assert main(["evaluate", "--images", str(images), "--maps", str(tmp_path / "maps_dir.npz"),
                     "--steps", "exact", "--score", "logit", "--out", str(out)]) == 0
        tables[images.suffix] = read_results(out)
        assert capsys.readouterr().out.splitlines()[0].startswith("[repro] wrote 16 rows (2 method(s) x 8 image(s)")
    assert tables[""].column("image_id").tolist() == [i for i in ids for _ in range(2)]
    assert tables[".npy"].column("image_id").tolist() == [f"photos:{k}" for k in range(8) for _ in range(2)]
    for column in ("n_ord", "one_minus_s_ord", "tpn", "tps", "y0", "target"):
        np.testing.assert_array_equal(tables[""].column(column), tables[".npy"].column(column))


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
def test_reproduce_custom_reports_the_same_conversions(mixed, cnn, tmp_path, capsys, monkeypatch):
    """``repro reproduce --profile custom --images DIR`` prints the lines of attribute / evaluate (FolderSource's
    check, before any chunk: the run is stopped at its first chunk here)."""
    import repro.pipeline

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(repro.pipeline, "compute_chunk", stop)  # the name run_study calls
    (mixed / "labels.csv").unlink()  # reproduce reads a folder's labels.csv; this one names no image
    cnn.keras_model.save(tmp_path / "m.h5")
    status = main(["reproduce", "--profile", "custom", "--model", str(tmp_path / "m.h5"), "--preprocess", "unit",
                   "--images", str(mixed), "--methods", "saliency", "--quick", "--no-progress",
                   "--out", str(tmp_path / "run")])
    assert status == 130
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if line.startswith("[repro] image folder")] == _expected_lines(mixed)
