"""Decode one image file into raw RGB pixels, with a clear error for every input that cannot be read.

Contract of :func:`read_rgb`: ``path -> (H, W, 3)`` float32 holding integers in ``[0, 255]`` (8-bit RGB), resized
by :func:`resize_and_crop` when ``size`` is given. Every failure is an :class:`~repro.errors.ImageReadError`
whose message starts with the file's path and says what is wrong.

Conversions to 8-bit RGB (one documented rule per PIL mode, :func:`to_rgb8`):

* ``RGB``: unchanged. ``L`` (grayscale) and ``1`` (bilevel, 0/255): the gray value replicated to R = G = B.
* ``RGBA``, ``LA``, ``PA``, ``RGBa``, ``La`` and palette images with a transparent entry: composited on **black**,
  ``out = round(c * a / 255)`` per channel. Reason: in this study black is the baseline, the image with no
  information, so a fully transparent pixel becomes exactly a "removed" pixel; partial transparency scales the
  colour towards it (premultiplied alpha). Keras's ``load_img`` instead drops alpha and keeps whatever colour
  hides under a transparent pixel.
* ``P`` (palette) without transparency and ``CMYK``, ``YCbCr``: PIL's ``convert("RGB")`` (CMYK without ICC
  colour management: ``R = (255 - C) (255 - K) / 255`` rounded, and so on).
* 16-bit grayscale (``I;16``, ``I;16B``, ``I;16L``; a PNG that PIL opens as 32-bit ``I`` is first checked to
  hold 0..65535, a PNG being at most 16 bits deep): scaled ``round(v * 255 / 65535)``, so 65535 -> 255 and
  257 -> 1. PIL's own ``convert("L")`` clips instead (every value above 255 becomes white): not used.
* Any other mode (32-bit integer or float TIFF, ...): an error naming the mode, never a guess.
* EXIF orientation is applied first (``ImageOps.exif_transpose``), so a phone photo is upright as a viewer shows
  it. Keras's ``load_img`` ignores EXIF orientation.

Damaged files: a truncated file raises (PIL's ``ImageFile.LOAD_TRUNCATED_IMAGES``, which would fill the missing
part with grey, is forced off while decoding, whatever another library set globally, and restored after; the
flag is process-global, so a thread relying on it being on while another thread decodes here would see it off).
A file PIL cannot identify (empty, not an image, destroyed header) raises. Limitation: damage inside the
entropy-coded data of a JPEG that libjpeg recovers from with only a warning decodes to a damaged picture without
error; no decoder can tell that without a checksum of the original file.

Checking a whole source before any work, :func:`check_image_files`: every file is decoded once
(:func:`check_image`: a JPEG at 1/8 scale, which still reads its whole entropy-coded stream and so catches a
truncated file, at a fraction of the cost; a PNG in full) and the files that fail are named together in one
:class:`~repro.errors.ImageReadError` line, each with its problem in a few words (``truncated``, ``not an image``,
``empty``...). The file-based sources (:class:`~repro.data.folder.FolderSource`,
:class:`~repro.data.imagenet.ImageNetSource`) expose it as ``check_files()``, which :func:`repro.pipeline.open_study`
calls before anything is written or computed.
The same pass tells what the conversions above will do to the files: it returns one line per kind of conversion
with a count (:data:`CONVERSIONS`, :func:`conversion_lines`: transparency composited on black, grayscale, 16-bit,
palette, CMYK / YCbCr, EXIF orientation, a centre crop), which ``FolderSource.check_files`` prints on stderr, so a
folder of mixed images is converted as documented and says so.

Raw arrays given instead of files (``repro attribute`` / ``repro evaluate`` on a ``.npy``, the Python API):
:func:`scale_warning` is the one warning, per call, about images that are not on the 0..255 scale.

Resizing, :func:`resize_and_crop`: the largest centred crop with the target's aspect ratio (a square for 224 x 224),
resized to the target with PIL's bilinear filter (antialiased when shrinking). This is exactly
``keras.utils.load_img(path, target_size=(224, 224), keep_aspect_ratio=True, interpolation="bilinear")``; Keras's
default ``load_img(path, target_size=(224, 224))`` instead squashes the whole image to 224 x 224 (aspect ratio
lost) with nearest-neighbour sampling. The crop is nearly the same as "shorter side to 224, then centre crop"
(it crops before resampling instead of after). Images smaller than the target (even 1 x 1) are enlarged the same
way: a 1 x 1 image becomes a constant 224 x 224 image of its colour.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from repro.errors import ImageReadError

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png")
"""File name endings (case-insensitive) that :class:`~repro.data.folder.FolderSource` lists."""

_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_CONVERT_MODES = ("P", "CMYK", "YCbCr")
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
SUPPORTED_MODES: tuple[str, ...] = ("RGB", "L", "1", *_ALPHA_MODES, *_CONVERT_MODES, *_SIXTEEN_BIT_MODES)
"""PIL modes :func:`to_rgb8` converts (and ``I``, for a 16-bit PNG, see :func:`open_image`)."""
MAX_LISTED = 10
"""How many unreadable files :func:`check_image_files` names before "and N more"."""


def _fail(path: str | os.PathLike, problem: str, reason: str | None = None) -> ImageReadError:
    """``ImageReadError("<path>: <problem>")`` with ``reason``, the problem in a few words (default ``problem``),
    as its attribute ``reason`` for :func:`check_image_files`'s list."""
    exc = ImageReadError(f"{path}: {problem}")
    exc.reason = reason or problem
    return exc


@contextmanager
def _decoding(path: str | os.PathLike) -> Iterator[Image.Image]:
    """Open ``path`` with PIL for decoding inside the ``with`` body, truncation being an error.

    Every failure, in the opening or in the body's decoding, is an :class:`ImageReadError` naming ``path`` (with a
    short ``reason``): missing, a directory, empty, permission denied, not an image PIL can identify, too many
    pixels, truncated or otherwise damaged.
    """
    p = Path(path)
    if p.is_dir():
        raise _fail(p, "is a directory, not an image file", "a directory")
    if not p.exists():
        raise _fail(p, "no such file", "missing")
    if p.stat().st_size == 0:
        raise _fail(p, "empty file (0 bytes)", "empty")
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(p) as img:
            yield img
    except PermissionError:
        raise _fail(p, "permission denied") from None
    except UnidentifiedImageError:
        raise _fail(p, "not an image file PIL can identify (wrong format or destroyed header)",
                    "not an image") from None
    except Image.DecompressionBombError as exc:
        raise _fail(p, f"refused, too many pixels ({exc})", "too many pixels") from None
    except (OSError, ValueError, SyntaxError) as exc:
        reason = "truncated" if "truncated" in str(exc).lower() else "damaged"
        raise _fail(p, f"cannot be decoded, the file is damaged or truncated ({exc})", reason) from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _sixteen_bit_png(img: Image.Image, path: Path) -> Image.Image:
    """A PNG that PIL opened as 32-bit ``I`` as ``I;16`` (a PNG is at most 16 bits deep); other images as they are.

    Raises:
        ImageReadError: values outside 0..65535.
    """
    if img.mode != "I" or img.format != "PNG":
        return img
    values = np.asarray(img)
    if values.min() < 0 or values.max() > 65535:
        raise _fail(path, f"16-bit PNG holds values outside 0..65535 ({values.min()}..{values.max()})",
                    "16-bit values out of range")
    return Image.fromarray(values.astype(np.uint16))


def open_image(path: str | os.PathLike) -> Image.Image:
    """Open and fully decode an image file, with truncation treated as an error.

    Args:
        path: the image file.
    Returns:
        The decoded PIL image in its own mode, EXIF orientation applied.
    Raises:
        ImageReadError: missing file, a directory, an empty file, a file PIL cannot identify, a truncated or
            otherwise undecodable file. The message starts with ``path``.
    """
    p = Path(path)
    with _decoding(p) as img:
        img.load()
        return ImageOps.exif_transpose(_sixteen_bit_png(img, p))


def check_image(path: str | os.PathLike, size: int | tuple[int, int] | None = None) -> "Conversion":
    """Decode ``path`` once, as cheaply as a full check allows, and raise what :func:`read_rgb` would.

    A JPEG is decoded at 1/8 scale (PIL's ``draft``: libjpeg still reads the whole entropy-coded stream, so a
    truncated file fails as in a full decode); any other file in full. The pixel mode must be one
    :func:`to_rgb8` converts.

    Args:
        size: the size :func:`read_rgb` will be given (``None``: none), to tell whether the file will be
            centre-cropped.
    Returns:
        What :func:`read_rgb` ``(path, size)`` does to the file beyond decoding (:class:`Conversion`).
    Raises:
        ImageReadError: the file cannot be read (message starting with ``path``; attribute ``reason``: the problem
            in a few words).
    """
    p = Path(path)
    with _decoding(p) as img:
        width, height = img.size  # before draft, which shrinks a JPEG
        if img.format == "JPEG":
            img.draft(img.mode, (1, 1))
        img.load()
        img = _sixteen_bit_png(img, p)
        if img.mode not in SUPPORTED_MODES:
            raise _unsupported_mode(p, img.mode)
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)  # of the image open_image transposes
        transparent = "transparency" in img.info
        if orientation in _EXIF_SWAPS:
            width, height = height, width
        return Conversion(img.mode, conversion_kinds(img.mode, transparent, (width, height), size,
                                                     orientation in _EXIF_TRANSPOSES))


def _check_all(paths: Sequence[str | os.PathLike], progress: bool, size: int | tuple[int, int] | None
               ) -> tuple[list[tuple[Path, ImageReadError]], dict[Path, "Conversion"]]:
    """:func:`check_image` of every file: ``(the files refused with their errors, the conversions of the others)``."""
    items = [Path(p) for p in paths]
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, desc="checking images", unit="img")
    bad, converted = [], {}
    for p in items:
        try:
            converted[p] = check_image(p, size)
        except ImageReadError as exc:
            bad.append((p, exc))
    return bad, converted


def unreadable_files(paths: Sequence[str | os.PathLike], progress: bool = False
                     ) -> list[tuple[Path, ImageReadError]]:
    """``[(path, error), ...]`` for every file of ``paths`` that :func:`check_image` refuses, in order.

    Args:
        progress: show a tqdm bar (on stderr).
    """
    return _check_all(paths, progress, None)[0]


def check_image_files(paths: Sequence[str | os.PathLike], root: str | os.PathLike, what: str = "image folder",
                      progress: bool = False, size: int | tuple[int, int] | None = None) -> list[str]:
    """Refuse, in one line, a source any of whose files cannot be read: decode each (:func:`check_image`).

    Args:
        paths: every image file of the source. root: the folder they are in, named in the message (files are
            named relative to it). what: what ``root`` is, for the message (``"image folder"``).
        progress: show a tqdm bar (on stderr). size: the size the files will be read at (:func:`read_rgb`).
    Returns:
        One line per kind of conversion the files will undergo, with a count (:func:`conversion_lines`); ``[]``
        when every file is plain RGB needing no crop.
    Raises:
        ImageReadError: ``"<what> <root>: N of M image files cannot be read: a.png (truncated), b.png (not an
            image), ..."``, naming the first :data:`MAX_LISTED` bad files, then ``and K more``.
    """
    bad, converted = _check_all(paths, progress, size)
    root = Path(root)

    def name(p: Path) -> str:
        try:
            return str(p.relative_to(root))
        except ValueError:
            return str(p)

    if not bad:
        square = size is None or isinstance(size, (int, np.integer)) or size[0] == size[1]
        return conversion_lines({name(p): c for p, c in converted.items()}, f"{what} {root}", square)
    listed = ", ".join(f"{name(p)} ({getattr(exc, 'reason', 'unreadable')})" for p, exc in bad[:MAX_LISTED])
    more = f", and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    raise ImageReadError(f"{what} {root}: {len(bad)} of {len(paths)} image files cannot be read: {listed}{more}")


# ------------------------------------------------------------------------------------------- conversions, counted
_EXIF_ORIENTATION = 0x0112
_EXIF_TRANSPOSES = (2, 3, 4, 5, 6, 7, 8)
"""EXIF orientations :func:`PIL.ImageOps.exif_transpose` turns or flips (1 is upright)."""
_EXIF_SWAPS = (5, 6, 7, 8)
"""EXIF orientations that swap width and height."""

CONVERSIONS: dict[str, str] = {
    "exif": "have an EXIF orientation: turned upright, as a viewer shows them",
    "alpha": "have transparency ({modes}): converted to RGB by compositing on black, a transparent pixel becoming "
             "the black baseline",
    "grayscale": "are grayscale ({modes}): converted to RGB, the gray value copied to R, G and B",
    "sixteen_bit": "are 16-bit: scaled to 8 bits, round(v * 255 / 65535)",
    "palette": "are palette images (P): converted to RGB",
    "colour": "are {modes}: converted to RGB by PIL, without colour management",
    "crop": "are not square: centre-cropped to a square",
}
"""What :func:`read_rgb` does to a file beyond decoding, one kind per entry, in the order
:func:`conversion_lines` reports them (``{modes}``: the PIL modes of the files concerned). ``crop`` names the target's
aspect ratio instead of a square for a non-square target."""


@dataclass(frozen=True)
class Conversion:
    """What :func:`read_rgb` does to one file beyond decoding (:func:`check_image`): its PIL ``mode`` and the
    ``kinds`` of :data:`CONVERSIONS` that apply to it (``()``: a plain RGB file of the target's aspect ratio)."""

    mode: str
    kinds: tuple[str, ...]


def conversion_kinds(mode: str, transparent: bool, size: tuple[int, int], target: int | tuple[int, int] | None,
                     exif_turned: bool = False) -> tuple[str, ...]:
    """The kinds of :data:`CONVERSIONS` :func:`read_rgb` applies to a decoded image (the rules of :func:`to_rgb8`
    and :func:`resize_and_crop`).

    Args:
        mode: its PIL mode (a 16-bit PNG's ``I;16``). transparent: a palette image with a transparent entry.
        size: ``(width, height)`` upright (after its EXIF orientation). target: :func:`read_rgb`'s ``size``
            (``None``: no resize, so no crop). exif_turned: an EXIF orientation other than upright.
    """
    kinds = ["exif"] if exif_turned else []
    if mode in _ALPHA_MODES or (mode == "P" and transparent):
        kinds.append("alpha")
    if mode in ("L", "1", "LA", "La", *_SIXTEEN_BIT_MODES):
        kinds.append("grayscale")
    if mode in _SIXTEEN_BIT_MODES:
        kinds.append("sixteen_bit")
    if mode == "P" and not transparent:
        kinds.append("palette")
    if mode in ("CMYK", "YCbCr"):
        kinds.append("colour")
    if target is not None:
        th, tw = (target, target) if isinstance(target, (int, np.integer)) else (int(target[0]), int(target[1]))
        width, height = size
        if crop_box(width, height, tw, th) != (0, 0, width, height):
            kinds.append("crop")
    return tuple(kinds)


def conversion_lines(conversions: "dict[str, Conversion]", where: str, square_target: bool = True) -> list[str]:
    """One line per kind of conversion among ``conversions`` (file name -> :class:`Conversion`), in the order of
    :data:`CONVERSIONS`: ``"<where>: <n> of <N> images <what they are: what was done>; e.g. <first file>"``
    (``[]`` if none), e.g. ``"image folder photos: 3 of 12 images are grayscale (L): converted to RGB, the gray value
    copied to R, G and B; e.g. cat.png"``.
    ``square_target``: whether the files are read at a square size (the ``crop`` line's wording)."""
    total = len(conversions)
    lines = []
    for kind, text in CONVERSIONS.items():
        names = [name for name, c in conversions.items() if kind in c.kinds]
        if not names:
            continue
        modes = ", ".join(dict.fromkeys(conversions[name].mode for name in names))
        if kind == "crop" and not square_target:
            text = "do not have the target's aspect ratio: centre-cropped to it"
        lines.append(f"{where}: {len(names)} of {total} images {text.format(modes=modes)}; e.g. {names[0]}")
    return lines


def _composite_on_black(rgba: np.ndarray) -> np.ndarray:
    """``(H, W, 4)`` uint8 RGBA -> ``(H, W, 3)`` uint8, ``round(c * a / 255)``."""
    rgb = rgba[..., :3].astype(np.float64)
    alpha = rgba[..., 3:4].astype(np.float64) / 255.0
    return np.rint(rgb * alpha).astype(np.uint8)


def to_rgb8(img: Image.Image, path: str | os.PathLike = "<image>") -> np.ndarray:
    """Convert a decoded image of any supported mode to 8-bit RGB by the rules of the module docstring.

    Args:
        img: a decoded PIL image.
        path: the file it came from, for error messages.
    Returns:
        ``(H, W, 3)`` uint8 RGB.
    Raises:
        ImageReadError: a mode without a documented conversion.
    """
    mode = img.mode
    if mode == "RGB":
        return np.asarray(img, dtype=np.uint8).copy()
    if mode in ("L", "1"):
        gray = np.asarray(img.convert("L"), dtype=np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == "P" and "transparency" in img.info:
        return _composite_on_black(np.asarray(img.convert("RGBA"), dtype=np.uint8))
    if mode in _ALPHA_MODES:
        return _composite_on_black(np.asarray(img.convert("RGBA"), dtype=np.uint8))
    if mode in _CONVERT_MODES:
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    if mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(img).astype(np.float64)
        gray = np.rint(values * (255.0 / 65535.0)).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    raise _unsupported_mode(path, mode)


def _unsupported_mode(path: str | os.PathLike, mode: str) -> ImageReadError:
    return _fail(path, f"unsupported pixel mode {mode!r} (supported: RGB, RGBA, L, LA, 1, P, PA, CMYK, YCbCr, "
                       "16-bit grayscale)", f"unsupported pixel mode {mode!r}")


def crop_box(width: int, height: int, target_width: int, target_height: int) -> tuple[int, int, int, int]:
    """The largest centred box of the target's aspect ratio inside a ``width x height`` image.

    Integer arithmetic as in Keras's ``load_img(keep_aspect_ratio=True)``: the crop height is
    ``min(height, width * target_height // target_width)`` (and symmetrically the width), placed at
    ``(size - crop) // 2``.

    Returns:
        ``(left, upper, right, lower)`` in pixels, PIL's box convention.
    """
    crop_h = min(height, (width * target_height) // target_width)
    crop_w = min(width, (height * target_width) // target_height)
    top = (height - crop_h) // 2
    left = (width - crop_w) // 2
    return left, top, left + crop_w, top + crop_h


def resize_and_crop(rgb: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Centre crop to the target aspect ratio, then bilinear resize (see the module docstring).

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB.
        size: target side ``S`` (square) or ``(height, width)``.
    Returns:
        ``(S, S, 3)`` (or ``(height, width, 3)``) uint8 RGB. Equal to
        ``keras.utils.load_img(..., target_size=size, keep_aspect_ratio=True, interpolation="bilinear")``.
    """
    th, tw = (size, size) if isinstance(size, (int, np.integer)) else (int(size[0]), int(size[1]))
    if th < 1 or tw < 1:
        raise ValueError(f"target size must be positive, got {size}")
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"resize_and_crop expects (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    h, w = rgb.shape[:2]
    if (h, w) == (th, tw):
        return rgb.copy()
    img = Image.fromarray(rgb, mode="RGB")
    out = img.resize((tw, th), Image.Resampling.BILINEAR, box=crop_box(w, h, tw, th))
    return np.asarray(out, dtype=np.uint8).copy()


def read_rgb(path: str | os.PathLike, size: int | tuple[int, int] | None = None) -> np.ndarray:
    """Read an image file as raw RGB.

    Args:
        path: the image file (JPEG, PNG, or anything PIL decodes to a supported mode).
        size: ``None`` keeps the file's size; an int ``S`` or ``(height, width)`` applies :func:`resize_and_crop`.
    Returns:
        ``(H, W, 3)`` float32 with integer values in ``[0, 255]``.
    Raises:
        ImageReadError: the file cannot be read or converted; the message starts with ``path``.
    """
    img = open_image(path)
    rgb = to_rgb8(img, path)
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise _fail(path, f"has no pixels (size {rgb.shape[1]}x{rgb.shape[0]})")
    if size is not None:
        rgb = resize_and_crop(rgb, size)
    return rgb.astype(np.float32)


def read_batch(paths: Sequence[str | os.PathLike], indices: Sequence[int], size: int) -> np.ndarray:
    """Read ``paths[i]`` for each ``i`` in ``indices`` with :func:`read_rgb` at ``size x size``.

    Args:
        paths: all files of a source.
        indices: which of them, in output order (repeats allowed).
        size: output side ``S``.
    Returns:
        ``(len(indices), S, S, 3)`` float32 raw RGB in ``[0, 255]``.
    Raises:
        TypeError: non-integer indices.
        IndexError: an index outside ``0..len(paths) - 1`` (negative indices are refused, not wrapped).
        ImageReadError: a file cannot be read (the message names it).
    """
    arr = np.asarray(indices).reshape(-1)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"image indices must be integers, got dtype {arr.dtype}")
    idx = [int(i) for i in arr]
    bad = [i for i in idx if not 0 <= i < len(paths)]
    if bad:
        raise IndexError(f"image indices {bad[:5]} out of range 0..{len(paths) - 1}")
    out = np.empty((len(idx), size, size, 3), dtype=np.float32)
    for k, i in enumerate(idx):
        out[k] = read_rgb(paths[i], size)
    return out


def _off_scale(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rule of :func:`scale_warning`, per image of ``raw`` ``(N, ...)``:
    ``(min, max, outside [0, 255], looks already scaled: 0 < max <= 1)``; an all-black image is neither."""
    flat = np.asarray(raw).reshape(len(raw), -1)
    low, high = flat.min(axis=1).astype(np.float64), flat.max(axis=1).astype(np.float64)
    outside = (low < 0) | (high > 255)
    return low, high, outside, ~outside & (high > 0) & (high <= 1)


def scale_warning(images: np.ndarray, where: str) -> str | None:
    """One warning for all the raw images of ``images`` off the 0..255 scale, or ``None`` if there is none.

    The black baseline is raw 0 carried through the model's preprocessing, so it means "no information" only for
    raw pixels on the 0..255 scale. An image whose maximum is above 0 and at most 1 looks already scaled to
    ``[0, 1]`` (its pixels are then all nearly black); one with a value below 0 or above 255 is on another scale
    altogether (preprocessed, mean-centred). An all-black image (maximum 0) is raw and not counted.

    Args:
        images: ``(N, ...)`` raw images (one per entry of the first axis). where: what to name them by, e.g. the
            file they came from.
    Returns:
        The warning text, WITHOUT the ``"[repro] warning: "`` that the CLI prints before it, e.g.
        ``"images.npy: 10 of 10 images look already scaled (values in [0, 1]), expected raw RGB in [0, 255]; the
        black baseline (raw 0) means nothing on another scale: give the raw pixels, not preprocessed or /255
        images"``; both kinds, when present, are counted in the one line. ``None`` when every image is on the
        0..255 scale (or there are none).
    """
    arr = np.asarray(images)
    if arr.ndim == 0 or arr.size == 0:
        return None
    low, high, outside, scaled = _off_scale(arr)
    n = len(arr)
    parts = []
    for mask, what in ((scaled, "look already scaled"), (outside, "have values outside [0, 255]")):
        if mask.any():
            parts.append(f"{int(mask.sum())} of {n} images {what} (values in [{low[mask].min():.4g}, "
                         f"{high[mask].max():.4g}])")
    if not parts:
        return None
    return (f"{where}: {' and '.join(parts)}, expected raw RGB in [0, 255]; the black baseline (raw 0) means "
            "nothing on another scale: give the raw pixels, not preprocessed or /255 images")
