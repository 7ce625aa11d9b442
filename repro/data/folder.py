"""Bring your own images: every ``.jpg`` / ``.jpeg`` / ``.png`` file of one folder as an ``ImageSource``.

Files are listed non-recursively, extensions matched case-insensitively, sorted by file name (code-point order),
so the order is the same on every file system. Labels are unknown (``-1``): targets then come from the model's
top-1 prediction. Decoding, conversions and the centre-crop resize are those of :mod:`repro.data.images`.
"""

from __future__ import annotations

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
    Attributes:
        name: ``"folder-<folder name>-<8 hex of sha1(absolute path)>"``, so two folders never share cache keys.
        ids: file names, sorted. labels: ``-1`` for every image.
    Raises:
        ReproError: the folder does not exist or holds no image file.
    """

    def __init__(self, directory: str | os.PathLike, size: int = 224) -> None:
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
        self.ids: list[str] = [p.name for p in self.paths]
        self.labels: np.ndarray = np.full(len(self.ids), -1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, indices: Sequence[int]) -> np.ndarray:
        """Raw RGB float32 ``(len(indices), size, size, 3)`` in ``[0, 255]``; a bad file raises naming it."""
        return read_batch(self.paths, indices, self.size)
