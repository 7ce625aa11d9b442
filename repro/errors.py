"""Error types and message templates shared by the whole package.

Every user-facing failure is a :class:`ReproError` (or a subclass) whose message names the offending file,
argument or shape and the problem, so the CLI can print one line instead of a TensorFlow traceback.
"""

from __future__ import annotations


class ReproError(Exception):
    """A user-facing error: bad input, missing file, inconsistent settings. The CLI prints its message."""


class ImageReadError(ReproError):
    """An image file could not be read or converted to an RGB array."""


class WriteError(ReproError):
    """A file or directory could not be written (full disk, read-only file system, permissions, a directory in the
    way); the message names the path the user gave and what to do."""


class WeightsNotFoundError(ReproError):
    """Model weights are neither on disk nor downloadable."""


SHAPE_MISMATCH = "{what} has shape {shape}, expected {expected}"
"""Template for shape errors; tests format it to check the exact message."""


def check_shape(what: str, shape: tuple, expected: tuple) -> None:
    """Raise ``ValueError`` unless ``shape`` matches ``expected`` (``None`` in ``expected`` matches any size)."""
    shape = tuple(shape)
    ok = len(shape) == len(expected) and all(e is None or e == s for s, e in zip(shape, expected))
    if not ok:
        raise ValueError(SHAPE_MISMATCH.format(what=what, shape=shape, expected=expected))
