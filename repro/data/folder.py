"""Bring your own images: every ``.jpg`` / ``.jpeg`` / ``.png`` file of one folder as an ``ImageSource``.

Files are listed non-recursively, extensions matched case-insensitively, sorted by file name (code-point order),
so the order is the same on every file system. Decoding, conversions and the centre-crop resize are those of
:mod:`repro.data.images`.

Labels (optional): a CSV with a header row naming a file column (``file``, ``filename``, ``image`` or ``name``)
and a label column (``label``, ``class`` or ``target``) holding integer class indices, one row per image file
name (no folder part)::

    file,label
    dog.jpg,215
    cat.png,281

Given as ``labels=PATH``; without it, a ``labels.csv`` inside the folder is used when present. An image without a
row has label ``-1`` (unknown; targets come from the model's top-1 prediction, as always by default); a row naming
no image of the folder, a repeated file, or a label that is not an integer >= 0 is an error naming the CSV and its
line. Whether a label is below the model's class count is checked by the pipeline, which knows the model.

Errors never echo a file that is not a labels CSV: a header without the two columns is refused by its line number
and column count only (``--labels /etc/passwd`` prints none of it); once the header is one, a row's file name or
label may be quoted, cut to 40 characters.

:meth:`FolderSource.check_files` decodes every image and names all the unreadable ones in one line
(:func:`repro.data.images.check_image_files`); the pipeline calls it before any work. It also prints on stderr one
line per kind of conversion the images undergo, with a count (transparency composited on black, grayscale to RGB,
a centre crop of a non-square image, ...: :func:`repro.data.images.conversion_lines`).

:func:`read_image_folder` reads a whole folder this way for ``repro attribute`` / ``repro evaluate --images DIR``,
so the three commands read a folder identically.
"""

from __future__ import annotations

import csv
import hashlib
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from repro.data.images import IMAGE_EXTENSIONS, check_image_files, read_batch
from repro.errors import ReproError


def list_image_files(root: Path) -> list[Path]:
    """The image files of folder ``root`` as :class:`FolderSource` lists them: non-recursive, every name ending in
    one of :data:`~repro.data.images.IMAGE_EXTENSIONS` (any case; directories so named are not), sorted by name."""
    return sorted((p for p in root.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and not p.is_dir()),
                  key=lambda p: p.name)


class FolderSource:
    """The images of one folder (an ``ImageSource``).

    Args:
        directory: the folder.
        size: side of the square output (224 for VGG16, 64 for the embedded model).
        labels: a labels CSV (module docstring); ``None``: ``<directory>/labels.csv`` if it exists.
        limit: keep only the first ``limit`` images (in file-name order).
        use_labels: ``False`` reads no labels CSV at all (every label ``-1``), for commands that need none.
    Attributes:
        name: ``"folder-<folder name>-<8 hex of sha1(absolute path)>"``, so two folders never share cache keys.
        ids: file names, sorted. labels: class index per image, ``-1`` where unknown.
        labels_path: the CSV read, or ``None``. root: the folder.
    Raises:
        ReproError: the folder does not exist or holds no image file; a bad labels CSV.
    """

    LABELS_FILE = "labels.csv"
    FILE_COLUMNS = ("file", "filename", "image", "name")
    LABEL_COLUMNS = ("label", "class", "target")

    def __init__(self, directory: str | os.PathLike, size: int = 224, labels: str | os.PathLike | None = None,
                 limit: int | None = None, use_labels: bool = True) -> None:
        root = Path(directory)
        if not root.is_dir():
            raise ReproError(f"image folder {root}: " + ("is a file, not a folder" if root.exists()
                                                         else "no such folder"))
        self.paths: list[Path] = list_image_files(root)
        if not self.paths:
            raise ReproError(f"image folder {root}: no image files (looked for "
                             f"{', '.join(IMAGE_EXTENSIONS)}, any case)")
        self.root = root
        digest = hashlib.sha1(str(root.resolve()).encode("utf-8")).hexdigest()[:8]
        self.name = f"folder-{root.resolve().name}-{digest}"
        self.size = int(size)
        if limit is not None:
            self.paths = self.paths[:int(limit)]
        self.ids: list[str] = [p.name for p in self.paths]
        self.labels: np.ndarray = np.full(len(self.ids), -1, dtype=np.int64)
        default = root / self.LABELS_FILE
        self.labels_path: Path | None = (None if not use_labels else Path(labels) if labels is not None
                                         else default if default.is_file() else None)
        if self.labels_path is not None:
            self._read_labels(self.labels_path, root)

    def _read_labels(self, path: Path, root: Path) -> None:
        """Fill :attr:`labels` from the CSV at ``path`` (class docstring); every refusal names ``path`` and the line."""
        all_files = {p.name for p in root.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS}
        if not path.is_file():
            raise ReproError(f"labels CSV {path}: " + ("is a directory" if path.is_dir() else
                                                        "not a regular file" if path.exists() else "no such file"))
        rows = _read_rows(path)
        if not rows:
            raise ReproError(f"labels CSV {path}: empty (expected a header such as 'file,label')")
        header_line, first = rows[0]
        header = [h.strip().lower() for h in first]
        file_col = next((header.index(c) for c in self.FILE_COLUMNS if c in header), None)
        label_col = next((header.index(c) for c in self.LABEL_COLUMNS if c in header), None)
        if file_col is None or label_col is None:
            lacking = ("neither" if file_col is None and label_col is None else
                       "no file column" if file_col is None else "no label column")
            raise ReproError(f"labels CSV {path}, line {header_line}: the header must name a file column "
                             f"({'/'.join(self.FILE_COLUMNS)}) and a label column ({'/'.join(self.LABEL_COLUMNS)}); "
                             f"its {len(first)} column(s) name {lacking}")
        position = {name: i for i, name in enumerate(self.ids)}
        seen: set[str] = set()
        for line, row in rows[1:]:
            if len(row) <= max(file_col, label_col):
                raise ReproError(f"labels CSV {path}, line {line}: {len(row)} field(s), expected at least "
                                 f"{max(file_col, label_col) + 1}")
            name, text = row[file_col].strip(), row[label_col].strip()
            if name in seen:
                raise ReproError(f"labels CSV {path}, line {line}: {_quoted(name)} is listed twice")
            seen.add(name)
            if name not in all_files:
                raise ReproError(f"labels CSV {path}, line {line}: no image {_quoted(name)} in {root}")
            try:
                label = int(text)
            except ValueError:
                raise ReproError(f"labels CSV {path}, line {line}: label {_quoted(text)} of {name!r} is not an "
                                 "integer class index") from None
            if label < 0:
                raise ReproError(f"labels CSV {path}, line {line}: label {label} of {name!r} is negative")
            if name in position:  # an image beyond --limit keeps no label
                self.labels[position[name]] = label

    def check_files(self, progress: bool = False, quiet: bool = False) -> list[str]:
        """Decode every image once; refuse in one line naming every file that cannot be read
        (:func:`repro.data.images.check_image_files`), else print on stderr, as ``[repro] <line>``, one line per
        kind of conversion the images undergo at :attr:`size` (unless ``quiet``).

        Returns:
            Those lines, e.g. ``"image folder photos: 4 of 12 images are not square: centre-cropped to a square;
            e.g. beach.jpg"`` (``[]``: every image is RGB and square).
        Raises:
            ImageReadError: ``"image folder <root>: N of M image files cannot be read: a.png (truncated), ..."``.
        """
        lines = check_image_files(self.paths, self.root, "image folder", progress=progress, size=self.size)
        if not quiet:
            for line in lines:
                print(f"[repro] {line}", file=sys.stderr)
        return lines

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, indices: Sequence[int]) -> np.ndarray:
        """Raw RGB float32 ``(len(indices), size, size, 3)`` in ``[0, 255]``; a bad file raises naming it."""
        return read_batch(self.paths, indices, self.size)


def read_image_folder(directory: str | os.PathLike, input_shape: Sequence[int], progress: bool = False
                      ) -> tuple[list[str], np.ndarray]:
    """Every image of a folder as raw RGB at a model's input, read exactly as ``repro reproduce --profile custom
    --images DIR`` reads it (a :class:`FolderSource`: same files and order, same checks, same centre-square crop and
    bilinear resize, the conversion lines printed on stderr); no labels CSV is read.

    Args:
        directory: the folder. input_shape: the model's ``(H, W, C)``; ``H = W`` and ``C = 3``.
        progress: a tqdm bar over the check of the files.
    Returns:
        ``(file names, (N, H, W, 3) float32 raw RGB in [0, 255])``, in file-name order.
    Raises:
        ReproError: not a folder, no image file, an input that is not square RGB; ImageReadError naming every
            unreadable file in one line.
    """
    shape = tuple(int(v) for v in input_shape)
    if len(shape) != 3 or shape[0] != shape[1] or shape[2] != 3:
        raise ReproError(f"image folder {directory}: the model's input is {shape}; a folder of images is read for "
                         "square RGB inputs (S, S, 3) only: give a .npy of raw images at the input size instead")
    source = FolderSource(directory, size=shape[0], use_labels=False)
    source.check_files(progress=progress)
    return list(source.ids), source.load(range(len(source)))


QUOTE_LIMIT = 40
"""Longest value of a labels CSV's row quoted in an error message."""


def _quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``repr(text)``, cut to ``limit`` characters with ``...``, for messages about a row of a labels CSV."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` of every non-blank record of the CSV at ``path`` (numbers count blank lines).

    Raises:
        ReproError: the file is not readable UTF-8 CSV; the message names ``path`` and the problem, never its text.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            rows, start = [], 1
            for row in reader:  # a blank line is a record [] too, so line numbers stay exact
                if any(cell.strip() for cell in row):
                    rows.append((start, row))
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise ReproError(f"labels CSV {path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise ReproError(f"labels CSV {path}, line {reader.line_num}: not a CSV file ({exc})") from None
    except OSError as exc:
        raise ReproError(f"labels CSV {path}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    return rows

