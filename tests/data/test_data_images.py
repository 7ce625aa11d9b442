"""repro.data.images: every kind of bad or unusual input, built here with PIL/numpy, gets a documented conversion
(exact pixel values derived from the stated formula) or an ImageReadError that names the file."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from repro.data.images import crop_box, read_batch, read_rgb, resize_and_crop
from repro.errors import ImageReadError, ReproError


def _save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


def _random_rgb(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


# ------------------------------------------------------------------------------------------- conversions
def test_rgb_png_is_read_exactly_as_float32(tmp_path):
    rgb = _random_rgb(5, 7)
    out = read_rgb(_save(Image.fromarray(rgb), tmp_path / "a.png"))
    assert out.dtype == np.float32 and out.shape == (5, 7, 3)
    np.testing.assert_array_equal(out, rgb.astype(np.float32))


def test_grayscale_is_replicated_to_three_channels(tmp_path):
    gray = np.array([[0, 77], [200, 255]], dtype=np.uint8)
    out = read_rgb(_save(Image.fromarray(gray, mode="L"), tmp_path / "g.png"))
    assert out.shape == (2, 2, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)


def test_bilevel_image_becomes_black_and_white(tmp_path):
    img = Image.new("1", (2, 1))
    img.putpixel((1, 0), 1)
    out = read_rgb(_save(img, tmp_path / "b.png"))
    np.testing.assert_array_equal(out[0], [[0, 0, 0], [255, 255, 255]])


def test_rgba_is_composited_on_black(tmp_path):
    rgba = np.array([[[200, 100, 50, 128], [200, 100, 50, 0], [200, 100, 50, 255]]], dtype=np.uint8)
    out = read_rgb(_save(Image.fromarray(rgba, mode="RGBA"), tmp_path / "a.png"))
    # round(c * a / 255): 200*128/255 = 100.39 -> 100, 100*128/255 = 50.20 -> 50, 50*128/255 = 25.10 -> 25
    np.testing.assert_array_equal(out[0, 0], [100, 50, 25])
    np.testing.assert_array_equal(out[0, 1], [0, 0, 0])  # fully transparent -> black (the baseline)
    np.testing.assert_array_equal(out[0, 2], [200, 100, 50])  # opaque -> unchanged


def test_gray_with_alpha_is_composited_on_black(tmp_path):
    la = Image.fromarray(np.array([[[200, 64]]], dtype=np.uint8), mode="LA")
    out = read_rgb(_save(la, tmp_path / "la.png"))
    np.testing.assert_array_equal(out[0, 0], [50, 50, 50])  # 200 * 64 / 255 = 50.2


def test_palette_image_without_and_with_transparency(tmp_path):
    p = Image.new("P", (2, 1))
    p.putpalette([255, 0, 0, 0, 0, 255])
    p.putpixel((1, 0), 1)
    out = read_rgb(_save(p, tmp_path / "p.png"))
    np.testing.assert_array_equal(out[0], [[255, 0, 0], [0, 0, 255]])
    out_t = read_rgb(_save(p, tmp_path / "pt.png", transparency=0))  # palette entry 0 transparent
    np.testing.assert_array_equal(out_t[0], [[0, 0, 0], [0, 0, 255]])


def test_cmyk_is_converted_to_rgb(tmp_path):
    cmyk = Image.new("CMYK", (3, 1))
    pixels = [(255, 0, 0, 0), (0, 128, 0, 64), (100, 50, 200, 30)]
    for x, px in enumerate(pixels):
        cmyk.putpixel((x, 0), px)
    out = read_rgb(_save(cmyk, tmp_path / "c.tif"))
    assert out.shape == (1, 3, 3)
    # naive CMYK -> RGB: channel = round((255 - ink) * (255 - K) / 255)
    expected = [[round((255 - ink) * (255 - k) / 255) for ink in (c, m, y)] for c, m, y, k in pixels]
    np.testing.assert_array_equal(out[0], expected)


def test_cmyk_jpeg_gives_rgb(tmp_path):
    path = _save(Image.new("CMYK", (16, 16), (255, 0, 0, 0)), tmp_path / "c.jpg", quality=95)
    assert Image.open(path).mode == "CMYK"
    out = read_rgb(path)
    assert out.shape == (16, 16, 3)
    np.testing.assert_allclose(out.reshape(-1, 3).mean(0), [0, 255, 255], atol=4)  # cyan, up to JPEG loss


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 128, 129, 257, 32896, 65534, 65535]], dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "g16.png")
    assert Image.open(path).mode.startswith("I")
    out = read_rgb(path)
    # round(v * 255 / 65535) = round(v / 257): 0.498 -> 0, 0.502 -> 1, 1, 128, 254.996 -> 255, 255
    np.testing.assert_array_equal(out[0, :, 0], [0, 0, 1, 1, 128, 255, 255])
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


def test_exif_orientation_is_applied(tmp_path):
    rgb = np.array([[[255, 0, 0], [0, 0, 255]]], dtype=np.uint8)  # 1 row: red, blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    out = read_rgb(_save(Image.fromarray(rgb), tmp_path / "o.png", exif=exif))
    # clockwise rotation moves the left pixel to the top: 2 rows x 1 column, red above blue
    assert out.shape == (2, 1, 3)
    np.testing.assert_array_equal(out[:, 0], [[255, 0, 0], [0, 0, 255]])


def test_tiny_images_are_enlarged(tmp_path):
    one = read_rgb(_save(Image.fromarray(np.array([[[10, 20, 30]]], np.uint8)), tmp_path / "1.png"), 224)
    assert one.shape == (224, 224, 3)
    np.testing.assert_array_equal(one, np.broadcast_to(np.float32([10, 20, 30]), (224, 224, 3)))
    small = _random_rgb(3, 2, seed=1)  # H=3, W=2
    out = read_rgb(_save(Image.fromarray(small), tmp_path / "23.png"), 224)
    assert out.shape == (224, 224, 3) and out.dtype == np.float32
    assert out.min() >= small.min() and out.max() <= small.max()


# -------------------------------------------------------------------------------------------- resizing
def test_crop_box_is_the_centred_largest_square():
    assert crop_box(500, 375, 224, 224) == (62, 0, 437, 375)  # (500 - 375) // 2 = 62
    assert crop_box(375, 500, 224, 224) == (0, 62, 375, 437)
    assert crop_box(224, 224, 224, 224) == (0, 0, 224, 224)
    assert crop_box(2, 3, 224, 224) == (0, 0, 2, 2)  # (3 - 2) // 2 = 0: the top two rows
    assert crop_box(400, 200, 200, 100) == (0, 0, 400, 200)  # same 2:1 aspect ratio: no crop
    assert crop_box(400, 100, 200, 100) == (100, 0, 300, 100)  # 4:1 image, 2:1 target: the middle 200 x 100


def test_resize_keeps_the_centre_third_of_a_wide_image():
    rgb = np.zeros((100, 300, 3), np.uint8)
    rgb[:, :100] = (255, 0, 0)
    rgb[:, 100:200] = (0, 255, 0)
    rgb[:, 200:] = (0, 0, 255)
    out = resize_and_crop(rgb, 224)
    assert out.shape == (224, 224, 3) and out.dtype == np.uint8
    # Bilinear upscaling by 2.24 reads only the green box except at the outermost output columns, whose
    # triangle filter (support 1 source pixel) reaches across the box edge, as in Keras.
    np.testing.assert_array_equal(out[:, 1:-1].reshape(-1, 3), np.tile([0, 255, 0], (224 * 222, 1)))


def test_resize_identity_and_non_square_target():
    rgb = _random_rgb(224, 224)
    np.testing.assert_array_equal(resize_and_crop(rgb, 224), rgb)
    assert resize_and_crop(_random_rgb(50, 80), (20, 40)).shape == (20, 40, 3)


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8),
                                 np.zeros((4, 4, 4), np.uint8)])
def test_resize_refuses_non_rgb8(bad):
    with pytest.raises(ValueError, match="expects"):
        resize_and_crop(bad, 8)


def test_resize_refuses_non_positive_size():
    with pytest.raises(ValueError, match="positive"):
        resize_and_crop(_random_rgb(4, 4), 0)


# ----------------------------------------------------------------------------------------------- errors
def _jpeg_bytes(seed=0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_random_rgb(64, 64, seed)).save(buf, "JPEG")
    return buf.getvalue()


def _expect_error(path, *fragments):
    with pytest.raises(ImageReadError) as info:
        read_rgb(path, 224)
    message = str(info.value)
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, message
    assert isinstance(info.value, ReproError)


def test_missing_file(tmp_path):
    _expect_error(tmp_path / "nope.jpg", "no such file")


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "dir.jpg").mkdir()
    _expect_error(tmp_path / "dir.jpg", "is a directory")


def test_empty_file(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    _expect_error(tmp_path / "empty.jpg", "empty file")


def test_non_image_file(tmp_path):
    (tmp_path / "notes.png").write_text("image_id,label\n")
    _expect_error(tmp_path / "notes.png", "not an image file")


def test_destroyed_jpeg_header(tmp_path):
    data = bytearray(_jpeg_bytes())
    data[2:40] = b"\0" * 38
    (tmp_path / "hdr.jpg").write_bytes(bytes(data))
    _expect_error(tmp_path / "hdr.jpg", "not an image file")


def test_truncated_jpeg(tmp_path):
    data = _jpeg_bytes()
    (tmp_path / "half.jpg").write_bytes(data[: len(data) // 2])
    _expect_error(tmp_path / "half.jpg", "truncated")


def test_truncated_png(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(_random_rgb(64, 64)).save(buf, "PNG")
    (tmp_path / "half.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    _expect_error(tmp_path / "half.png", "cannot be decoded")


def test_truncated_jpeg_is_refused_even_if_pil_was_told_to_fill_it_with_grey(tmp_path, monkeypatch):
    data = _jpeg_bytes()
    (tmp_path / "half.jpg").write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    _expect_error(tmp_path / "half.jpg", "truncated")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the global setting is restored


def test_unsupported_float_mode(tmp_path):
    img = Image.fromarray(np.ones((2, 2), np.float32))
    _expect_error(_save(img, tmp_path / "f.tif"), "unsupported pixel mode 'F'")


def test_unsupported_32bit_integer_tiff(tmp_path):
    img = Image.fromarray(np.full((2, 2), 70000, np.int32))
    _expect_error(_save(img, tmp_path / "i.tif"), "unsupported pixel mode 'I'")


# ------------------------------------------------------------------------------------------- read_batch
def test_read_batch_order_repeats_and_index_checks(tmp_path):
    paths = [_save(Image.new("RGB", (3, 3), (k, 0, 0)), tmp_path / f"{k}.png") for k in (10, 20, 30)]
    out = read_batch(paths, [2, 0, 2], 4)
    assert out.shape == (3, 4, 4, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 0, 0, 0], [30, 10, 30])
    assert read_batch(paths, [], 4).shape == (0, 4, 4, 3)
    with pytest.raises(IndexError, match=r"\[3\]"):
        read_batch(paths, [0, 3], 4)
    with pytest.raises(IndexError, match=r"\[-1\]"):
        read_batch(paths, [-1], 4)
    with pytest.raises(TypeError, match="integers"):
        read_batch(paths, [0.5], 4)


# ------------------------------------------------------------------------------------------- one scale warning
def test_scale_warning_counts_every_image_off_the_scale_in_one_line():
    from repro.data.images import scale_warning

    ok = np.zeros((2, 2, 3)); ok[0, 0] = 255
    scaled = np.full((2, 2, 3), 0.5); scaled[0, 0] = 0.125
    negative = np.full((2, 2, 3), -103.9)
    black = np.zeros((2, 2, 3))
    big = np.full((2, 2, 3), 1000.0)
    tail = ("expected raw RGB in [0, 255]; the black baseline (raw 0) means nothing on another scale: give the raw "
            "pixels, not preprocessed or /255 images")
    assert scale_warning(np.stack([ok, scaled, negative, black, big]), "x.npy") == (
        "x.npy: 1 of 5 images look already scaled (values in [0.125, 0.5]) and 2 of 5 images have values outside "
        f"[0, 255] (values in [-103.9, 1000]), {tail}")
    assert scale_warning(np.stack([scaled] * 10), "images.npy") == (
        f"images.npy: 10 of 10 images look already scaled (values in [0.125, 0.5]), {tail}")
    assert scale_warning(np.stack([ok, black]), "x") is None  # raw, an all-black image included
    assert scale_warning(np.zeros((0, 2, 2, 3)), "x") is None


# ------------------------------------------------------------------------------------------- conversions, counted
def test_check_image_names_the_conversions_read_rgb_applies(tmp_path):
    from repro.data.images import Conversion, check_image

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate: a 4 x 2 file is 2 x 4 upright
    p = Image.new("P", (4, 4))
    p.putpalette([255, 0, 0, 0, 0, 255])
    cases = {
        "rgb.png": (Image.new("RGB", (4, 4)), {}, Conversion("RGB", ())),
        "wide.png": (Image.new("RGB", (8, 4)), {}, Conversion("RGB", ("crop",))),
        "turned.png": (Image.new("RGB", (4, 2)), {"exif": exif}, Conversion("RGB", ("exif", "crop"))),
        "la.png": (Image.new("LA", (4, 4)), {}, Conversion("LA", ("alpha", "grayscale"))),
        "bilevel.png": (Image.new("1", (4, 4)), {}, Conversion("1", ("grayscale",))),
        "g16.png": (Image.fromarray(np.zeros((4, 4), np.uint16)), {}, Conversion("I;16", ("grayscale", "sixteen_bit"))),
        "p.png": (p, {}, Conversion("P", ("palette",))),
        "pt.png": (p, {"transparency": 0}, Conversion("P", ("alpha",))),
        "cmyk.jpg": (Image.new("CMYK", (4, 4)), {}, Conversion("CMYK", ("colour",))),
        "gray.jpg": (Image.new("L", (16, 8)), {}, Conversion("L", ("grayscale", "crop"))),
    }
    for name, (img, options, expected) in cases.items():
        assert check_image(_save(img, tmp_path / name, **options), 8) == expected, name
    assert check_image(tmp_path / "wide.png").kinds == ()  # no size given: no crop
    assert check_image(tmp_path / "wide.png", (4, 8)).kinds == ()  # the target's aspect ratio: no crop


def test_conversion_lines_count_each_kind_once_per_file():
    from repro.data.images import Conversion, conversion_lines

    found = {"a.png": Conversion("RGBA", ("alpha", "crop")), "b.png": Conversion("RGB", ()),
             "c.jpg": Conversion("CMYK", ("colour",)), "d.png": Conversion("LA", ("alpha", "grayscale")),
             "e.png": Conversion("RGB", ("crop",))}
    assert conversion_lines(found, "image folder F") == [
        "image folder F: 2 of 5 images have transparency (RGBA, LA): converted to RGB by compositing on black, a "
        "transparent pixel becoming the black baseline; e.g. a.png",
        "image folder F: 1 of 5 images are grayscale (LA): converted to RGB, the gray value copied to R, G and B; "
        "e.g. d.png",
        "image folder F: 1 of 5 images are CMYK: converted to RGB by PIL, without colour management; e.g. c.jpg",
        "image folder F: 2 of 5 images are not square: centre-cropped to a square; e.g. a.png"]
    assert conversion_lines({"e.png": found["e.png"]}, "F", square_target=False) == [
        "F: 1 of 1 images do not have the target's aspect ratio: centre-cropped to it; e.g. e.png"]
    assert conversion_lines({"b.png": found["b.png"]}, "F") == []
