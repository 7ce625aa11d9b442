"""ImageNetSource end to end on a small fake ImageNet tree built here (flat and per-wnid layouts), and
FolderSource for users' own images. Every fake image is a constant colour, so the expected tensor is exact:
a constant image stays constant through the centre crop and the bilinear resize."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from repro.data.folder import FolderSource
from repro.data.imagenet import ImageNetSource, generate_manifest, validation_labels, write_manifest
from repro.errors import ImageReadError, ReproError


def _colour(k: int) -> tuple[int, int, int]:
    return (10 * k + 5, 250 - 10 * k, 7 * k)


def _is_image_source(src) -> bool:
    """The attributes of the ImageSource protocol (repro.data), which is not runtime-checkable."""
    return (isinstance(src.name, str) and len(src.ids) == len(set(src.ids)) == len(src.labels)
            and isinstance(src.labels, np.ndarray) and callable(src.load))


@pytest.fixture(scope="module")
def fake_rows():
    """Twelve real validation ids with their real labels: the first 12 rows of a 1-per-class draw."""
    return generate_manifest(seed=5, per_class=1, extra_classes=0)[:12]


def _build_tree(root, rows, layout: str, sizes=((40, 30), (30, 40), (7, 7))):
    root.mkdir(parents=True, exist_ok=True)
    for k, r in enumerate(rows):
        folder = root / r.wnid if layout == "wnid" else root
        folder.mkdir(exist_ok=True)
        w, h = sizes[k % len(sizes)]
        Image.new("RGB", (w, h), _colour(k)).save(folder / r.image_id, format="JPEG", quality=100,
                                                   subsampling=0)
    return root


def _expected(n, size):
    return np.stack([np.broadcast_to(np.float32(_colour(k)), (size, size, 3)) for k in range(n)])


@pytest.mark.parametrize("layout", ["flat", "wnid"])
def test_imagenet_source_reads_both_layouts(tmp_path, fake_rows, layout):
    manifest = write_manifest(fake_rows, tmp_path / "m.csv")
    root = _build_tree(tmp_path / "val", fake_rows, layout)
    src = ImageNetSource(manifest, root)
    assert _is_image_source(src)
    assert src.name == "imagenet" and len(src) == 12
    assert src.ids == [r.image_id for r in fake_rows]
    truth = validation_labels()
    np.testing.assert_array_equal(src.labels, [truth[i] for i in src.ids])
    assert src.labels.dtype == np.int64
    x = src.load(range(12))
    assert x.shape == (12, 224, 224, 3) and x.dtype == np.float32
    # JPEG at quality 100 without chroma subsampling keeps a flat colour within 1-2 levels
    np.testing.assert_allclose(x, _expected(12, 224), atol=2)
    np.testing.assert_array_equal(src.load([3, 1]), x[[3, 1]])
    assert src.unreadable() == []


def test_layouts_can_be_mixed_and_size_and_limit_apply(tmp_path, fake_rows):
    manifest = write_manifest(fake_rows, tmp_path / "m.csv")
    root = _build_tree(tmp_path / "val", fake_rows[:6], "flat")
    _build_tree(root, fake_rows[6:], "wnid")
    src = ImageNetSource(manifest, root, size=16)
    assert src.paths[0].parent == root and src.paths[6].parent == root / fake_rows[6].wnid
    assert src.load([6]).shape == (1, 16, 16, 3)
    limited = ImageNetSource(manifest, root, limit=4)
    assert limited.ids == src.ids[:4] and len(limited.labels) == 4


@pytest.mark.parametrize("limit", [0, -3, 2.5, True])
def test_bad_limit(tmp_path, fake_rows, limit):
    manifest = write_manifest(fake_rows, tmp_path / "m.csv")
    with pytest.raises(ReproError, match="limit must be a positive integer"):
        ImageNetSource(manifest, _build_tree(tmp_path / "val", fake_rows, "flat"), limit=limit)


def test_all_missing_files_reported_at_once(tmp_path, fake_rows):
    manifest = write_manifest(fake_rows, tmp_path / "m.csv")
    root = _build_tree(tmp_path / "val", fake_rows[:5], "flat")
    with pytest.raises(ReproError) as info:
        ImageNetSource(manifest, root)
    message = str(info.value)
    assert message.startswith(f"7 of 12 images missing from {root}")
    for r in fake_rows[5:10]:
        assert r.image_id in message
    assert fake_rows[10].image_id not in message and "... and 2 more" in message


def test_missing_directory_and_val_hint(tmp_path, fake_rows):
    manifest = write_manifest(fake_rows, tmp_path / "m.csv")
    with pytest.raises(ReproError, match="no such directory"):
        ImageNetSource(manifest, tmp_path / "absent")
    with pytest.raises(ReproError, match="is a file"):
        ImageNetSource(manifest, manifest)
    _build_tree(tmp_path / "ILSVRC2012" / "val", fake_rows, "wnid")
    with pytest.raises(ReproError, match=r"hint: .*ILSVRC2012/val exists"):
        ImageNetSource(manifest, tmp_path / "ILSVRC2012")


def test_default_manifest_is_the_study_manifest(tmp_path):
    with pytest.raises(ReproError, match=r"^9600 of 9600 images missing"):
        ImageNetSource(None, tmp_path)


def test_unreadable_files_are_named(tmp_path, fake_rows):
    manifest = write_manifest(fake_rows, tmp_path / "m.csv")
    root = _build_tree(tmp_path / "val", fake_rows, "wnid")
    broken = root / fake_rows[2].wnid / fake_rows[2].image_id
    broken.write_bytes(broken.read_bytes()[:200])
    empty = root / fake_rows[4].wnid / fake_rows[4].image_id
    empty.write_bytes(b"")
    src = ImageNetSource(manifest, root)
    bad = src.unreadable()
    assert [image_id for image_id, _ in bad] == [fake_rows[2].image_id, fake_rows[4].image_id]
    assert str(broken) in bad[0][1] and "empty file" in bad[1][1]
    np.testing.assert_allclose(src.load([0, 1]), _expected(2, 224), atol=2)
    with pytest.raises(ImageReadError, match=fake_rows[2].image_id):
        src.load([0, 2])
    with pytest.raises(IndexError):
        src.load([12])


# ------------------------------------------------------------------------------------------- FolderSource
def test_folder_source_lists_images_sorted_with_unknown_labels(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    Image.new("RGB", (50, 20), (1, 2, 3)).save(d / "b.png")
    Image.new("RGBA", (20, 50), (200, 100, 50, 255)).save(d / "a.PNG")
    Image.new("L", (9, 9), 77).save(d / "c.jpeg", quality=100)
    Image.new("RGB", (9, 9)).save(d / "d.JPG")
    (d / "notes.txt").write_text("not an image")
    (d / "sub.png").mkdir()  # a directory with an image name is not listed
    src = FolderSource(d, size=32)
    assert _is_image_source(src)
    assert src.ids == ["a.PNG", "b.png", "c.jpeg", "d.JPG"]
    np.testing.assert_array_equal(src.labels, [-1, -1, -1, -1])
    x = src.load([0, 1, 2])
    assert x.shape == (3, 32, 32, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0], np.broadcast_to(np.float32([200, 100, 50]), (32, 32, 3)))
    np.testing.assert_array_equal(x[1], np.broadcast_to(np.float32([1, 2, 3]), (32, 32, 3)))
    np.testing.assert_allclose(x[2], 77, atol=1)


def test_folder_source_names_differ_between_folders(tmp_path):
    for parent in ("p", "q"):
        (tmp_path / parent / "imgs").mkdir(parents=True)
        Image.new("RGB", (4, 4)).save(tmp_path / parent / "imgs" / "x.png")
    a, b = FolderSource(tmp_path / "p" / "imgs"), FolderSource(tmp_path / "q" / "imgs")
    assert a.name.startswith("folder-imgs-") and a.name != b.name
    assert FolderSource(tmp_path / "p" / "imgs").name == a.name


def test_folder_source_errors(tmp_path):
    with pytest.raises(ReproError, match="no such folder"):
        FolderSource(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(ReproError, match=r"no image files \(looked for .jpg, .jpeg, .png"):
        FolderSource(tmp_path / "empty")
    (tmp_path / "f.png").write_bytes(b"")
    with pytest.raises(ReproError, match="is a file"):
        FolderSource(tmp_path / "f.png")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.jpg").write_text("not a jpeg")
    with pytest.raises(ImageReadError, match=r"x\.jpg: not an image file"):
        FolderSource(tmp_path / "bad").load([0])


# ------------------------------------------------------------------------------------------- labels CSV errors
SECRET = "root:x:0:0:s3cret-token:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
"""A file that is not a labels CSV (the shape of /etc/passwd): no error may quote any of it."""


@pytest.fixture
def two_images(tmp_path):
    d = tmp_path / "imgs"
    d.mkdir()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (4, 4)).save(d / name)
    return d


def _labels_error(folder, text: str | bytes) -> str:
    path = folder.parent / "labels_given.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(ReproError) as info:
        FolderSource(folder, labels=path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"labels CSV {path}")
    return message.removeprefix(f"labels CSV {path}")


def test_a_file_that_is_not_a_labels_csv_is_refused_without_quoting_it(two_images):
    message = _labels_error(two_images, SECRET)
    assert message == (", line 1: the header must name a file column (file/filename/image/name) and a label column "
                       "(label/class/target); its 1 column(s) name neither")
    assert not any(word in message for word in ("root", "s3cret", "bash", "daemon"))
    assert _labels_error(two_images, "\n\nfile,secret,x\na.png,1,2\n").endswith(
        ", line 3: the header must name a file column (file/filename/image/name) and a label column "
        "(label/class/target); its 3 column(s) name no label column")
    assert _labels_error(two_images, "s3cret,label\n").endswith("its 2 column(s) name no file column")


def test_unreadable_labels_files_name_the_problem_not_the_content(two_images, tmp_path):
    assert _labels_error(two_images, b"\x89PNG\r\n\x1a\n\xff\xfe s3cret") == ": not UTF-8 text (invalid start byte)"
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with pytest.raises(ReproError, match=f"^labels CSV {fifo}: not a regular file$"):
        FolderSource(two_images, labels=fifo)
    with pytest.raises(ReproError, match=f"^labels CSV {tmp_path}: is a directory$"):
        FolderSource(two_images, labels=tmp_path)


def test_labels_rows_are_numbered_by_file_line_and_long_values_cut(two_images):
    assert _labels_error(two_images, "file,label\n\na.png,1\n\nz.png,2\n") == ", line 5: no image 'z.png' in " + \
        str(two_images)
    long = "x" * 100
    assert _labels_error(two_images, f"file,label\n{long}.png,1\n") == \
        f", line 2: no image '{'x' * 40}...' in {two_images}"
    assert _labels_error(two_images, f"file,label\nb.png,{long}\n") == \
        f", line 2: label '{'x' * 40}...' of 'b.png' is not an integer class index"
    # a quoted field spanning two lines: the next record's number is still its line in the file
    assert _labels_error(two_images, 'file,label,note\na.png,1,"two\nlines"\nb.png,-1,x\n') == \
        ", line 4: label -1 of 'b.png' is negative"


def test_a_manifest_header_is_never_echoed(tmp_path):
    from repro.data.imagenet import read_manifest

    path = tmp_path / "m.csv"
    path.write_text(SECRET)
    with pytest.raises(ReproError) as info:
        read_manifest(path)
    assert str(info.value) == (f"manifest {path}: line 1: missing column(s) image_id, label (header has: 1 other "
                               "column(s))")


def test_folder_source_without_labels_reads_no_labels_csv(two_images):
    (two_images / "labels.csv").write_text("file,label\nmissing.png,3\n")  # names no image: refused when read
    with pytest.raises(ReproError, match="no image 'missing.png'"):
        FolderSource(two_images)
    src = FolderSource(two_images, size=4, use_labels=False)
    assert src.labels_path is None and src.labels.tolist() == [-1, -1]


def test_folder_source_check_files_prints_and_returns_one_line_per_conversion(tmp_path, capsys):
    Image.new("RGB", (6, 4)).save(tmp_path / "wide.png")
    Image.new("L", (4, 4)).save(tmp_path / "gray.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    lines = FolderSource(tmp_path, size=4).check_files()
    assert lines == [f"image folder {tmp_path}: 1 of 3 images are grayscale (L): converted to RGB, the gray value "
                     "copied to R, G and B; e.g. gray.png",
                     f"image folder {tmp_path}: 1 of 3 images are not square: centre-cropped to a square; "
                     "e.g. wide.png"]
    assert capsys.readouterr().err.splitlines() == [f"[repro] {line}" for line in lines]
    assert FolderSource(tmp_path, size=4).check_files(quiet=True) == lines
    assert capsys.readouterr().err == ""
