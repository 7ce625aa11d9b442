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
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from repro.data.images import IMAGE_EXTENSIONS, read_batch
from repro.errors import ReproError


class FolderSource:
    """The images of one folder (an ``ImageSource``).

    Args:
        directory: the folder.
        size: side of the square output (224 for VGG16, 64 for the embedded model).
        labels: a labels CSV (module docstring); ``None``: ``<directory>/labels.csv`` if it exists.
        limit: keep only the first ``limit`` images (in file-name order).
    Attributes:
        name: ``"folder-<folder name>-<8 hex of sha1(absolute path)>"``, so two folders never share cache keys.
        ids: file names, sorted. labels: class index per image, ``-1`` where unknown.
        labels_path: the CSV read, or ``None``.
    Raises:
        ReproError: the folder does not exist or holds no image file; a bad labels CSV.
    """

    LABELS_FILE = "labels.csv"
    FILE_COLUMNS = ("file", "filename", "image", "name")
    LABEL_COLUMNS = ("label", "class", "target")

    def __init__(self, directory: str | os.PathLike, size: int = 224, labels: str | os.PathLike | None = None,
                 limit: int | None = None) -> None:
        root = Path(directory)
        if not root.is_dir():
            raise ReproError(f"image folder {root}: " + ("is a file, not a folder" if root.exists()
                                                         else "no such folder"))
        self.paths: list[Path] = sorted(
            (p for p in root.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and not p.is_dir()),
            key=lambda p: p.name)
        if not self.paths:
            raise ReproError(f"image folder {root}: no image files (looked for "
                             f"{', '.join(IMAGE_EXTENSIONS)}, any case)")
        digest = hashlib.sha1(str(root.resolve()).encode("utf-8")).hexdigest()[:8]
        self.name = f"folder-{root.resolve().name}-{digest}"
        self.size = int(size)
        if limit is not None:
            self.paths = self.paths[:int(limit)]
        self.ids: list[str] = [p.name for p in self.paths]
        self.labels: np.ndarray = np.full(len(self.ids), -1, dtype=np.int64)
        default = root / self.LABELS_FILE
        self.labels_path: Path | None = Path(labels) if labels is not None else (default if default.is_file()
                                                                                 else None)
        if self.labels_path is not None:
            self._read_labels(self.labels_path, root)

    def _read_labels(self, path: Path, root: Path) -> None:
        """Fill :attr:`labels` from the CSV at ``path`` (class docstring)."""
        all_files = {p.name for p in root.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS}
        if not path.is_file():
            raise ReproError(f"labels CSV {path}: no such file")
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:
                rows = list(csv.reader(f))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise ReproError(f"labels CSV {path}: cannot be read ({exc.__class__.__name__}: {exc})") from None
        rows = [r for r in rows if any(cell.strip() for cell in r)]
        if not rows:
            raise ReproError(f"labels CSV {path}: empty (expected a header such as 'file,label')")
        header = [h.strip().lower() for h in rows[0]]
        file_col = next((header.index(c) for c in self.FILE_COLUMNS if c in header), None)
        label_col = next((header.index(c) for c in self.LABEL_COLUMNS if c in header), None)
        if file_col is None or label_col is None:
            raise ReproError(f"labels CSV {path}: header {rows[0]} must name a file column "
                             f"({'/'.join(self.FILE_COLUMNS)}) and a label column ({'/'.join(self.LABEL_COLUMNS)})")
        position = {name: i for i, name in enumerate(self.ids)}
        seen: set[str] = set()
        for line, row in enumerate(rows[1:], start=2):
            if len(row) <= max(file_col, label_col):
                raise ReproError(f"labels CSV {path}, line {line}: {len(row)} field(s), expected at least "
                                 f"{max(file_col, label_col) + 1}")
            name, text = row[file_col].strip(), row[label_col].strip()
            if name in seen:
                raise ReproError(f"labels CSV {path}, line {line}: {name!r} is listed twice")
            seen.add(name)
            if name not in all_files:
                raise ReproError(f"labels CSV {path}, line {line}: no image {name!r} in {root}")
            try:
                label = int(text)
            except ValueError:
                raise ReproError(f"labels CSV {path}, line {line}: label {text!r} of {name!r} is not an integer "
                                 "class index") from None
            if label < 0:
                raise ReproError(f"labels CSV {path}, line {line}: label {label} of {name!r} is negative")
            if name in position:  # an image beyond --limit keeps no label
                self.labels[position[name]] = label

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, indices: Sequence[int]) -> np.ndarray:
        """Raw RGB float32 ``(len(indices), size, size, 3)`` in ``[0, 255]``; a bad file raises naming it."""
        return read_batch(self.paths, indices, self.size)
