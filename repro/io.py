"""Atomic file writes and checked reads: the one I/O layer of the package.

``atomic_write_*(path, ...)`` write to a temporary file ``.<name>.*.tmp`` in the destination's own directory,
flush and ``fsync`` it, then ``os.replace`` it over ``path`` (atomic on POSIX) and fsync the directory. A crash or
an exception at any point leaves either the old file or the new one, never a torn file, and no temporary litter
(the temporary file is removed on exceptions; after a hard kill a ``.<name>.*.tmp`` file may remain, which
:func:`remove_stale_temporaries` deletes when a run is reopened).

Reads name the file in every failure: :func:`read_json` and :func:`load_array` raise
:class:`~repro.errors.ReproError` with the path and the problem, never a bare traceback.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator, Mapping

import numpy as np

from repro.errors import ReproError, WriteError


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


WRITE_ERRNOS: dict[int, str] = {
    errno.ENOSPC: "no space left on the device; free space and rerun",
    errno.EDQUOT: "disk quota exceeded; free space and rerun",
    errno.EROFS: "the file system is read-only; choose a writable location",
    errno.EACCES: "permission denied; choose a location you can write to",
    errno.EPERM: "permission denied; choose a location you can write to",
    errno.EISDIR: "it is a directory; give a file path",
    errno.ENOTDIR: "a parent of it is a file, not a directory",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EEXIST: "a parent of it is a file, not a directory",
}
"""The write failures reported as one line (:class:`~repro.errors.WriteError`): errno -> what to do."""


_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")
"""numpy's message when the C library wrote fewer bytes than asked (``ndarray.tofile`` on a full disk): an
``OSError`` without an errno."""


def write_errno(exc: BaseException) -> int | None:
    """The errno of a write failure :data:`WRITE_ERRNOS` knows (a short write counts as ``ENOSPC``), or ``None``."""
    if not isinstance(exc, OSError):
        return None
    if exc.errno in WRITE_ERRNOS:
        return exc.errno
    if exc.errno is None and _SHORT_WRITE.search(str(exc)):
        return errno.ENOSPC
    return None


def write_error(path: str | os.PathLike, exc: OSError) -> WriteError:
    """The one-line :class:`~repro.errors.WriteError` for ``exc`` raised while writing ``path``."""
    advice = WRITE_ERRNOS.get(write_errno(exc) or -1, exc.strerror or str(exc))
    return WriteError(f"{path}: cannot write: {advice}")


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file next to ``path``; on a clean exit it atomically replaces ``path``.

    Args:
        path: destination; its parent directory is created if missing.
        mode: ``"w"`` (text, UTF-8 unless ``encoding`` is given) or ``"wb"``.
        **kwargs: passed to :func:`open` (e.g. ``newline=""`` for csv).
    Yields:
        The open temporary file. If the ``with`` body raises, the temporary file is deleted and ``path`` is
        left exactly as it was.
    Raises:
        WriteError: the file system refused the write (:data:`WRITE_ERRNOS`: full disk, a short write included,
            read-only, permission, a directory in the way); the message names ``path`` and what to do. Nothing is
            left behind.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    if mode == "w":
        kwargs.setdefault("encoding", "utf-8")
    tmp = None
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if write_errno(exc) is not None:
            raise write_error(path, exc) from None
        raise
    _fsync_directory(path.parent)


CREATED_DIRECTORIES: list[Path] = []
"""The outermost directory each :func:`check_writable` call created, in call order: a command that then fails
removes those still empty (:func:`repro.cli.main`), so a refused command leaves no new directory behind."""


def check_writable(path: str | os.PathLike, kind: str = "file") -> Path:
    """Check, before any work, that ``path`` can be written; returns it.

    Args:
        path: the location the user gave. kind: ``"file"`` (an output file; may exist, must not be a directory)
            or ``"dir"`` (an output directory; may exist, must be a directory).
    Creates the missing parent directories (a ``"dir"`` itself) and writes and removes a probe file there, so a
    read-only file system, a missing permission or a path through a file is found now, not after the work. The
    outermost directory it created is appended to :data:`CREATED_DIRECTORIES`.

    Raises:
        WriteError: one line naming ``path`` and the problem.
    """
    if kind not in ("file", "dir"):
        raise ValueError(f"kind must be 'file' or 'dir', got {kind!r}")
    path = Path(path)
    folder = path if kind == "dir" else path.parent
    try:
        if kind == "file" and path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if kind == "dir" and path.exists() and not path.is_dir():
            raise WriteError(f"{path}: cannot write: it is a file, expected a directory")
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        if missing:  # before mkdir: a mkdir that fails halfway may leave part of it
            CREATED_DIRECTORIES.append(missing[-1])
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except (FileExistsError, NotADirectoryError):
        raise WriteError(f"{path}: cannot write: a parent of it is a file, not a directory") from None
    except OSError as exc:
        advice = WRITE_ERRNOS.get(exc.errno or -1, exc.strerror or str(exc))
        raise WriteError(f"{path}: cannot write: {advice}") from None
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically. Returns the path."""
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically. Returns the path."""
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def jsonable(value: Any) -> Any:
    """``json.dumps`` fallback: numpy scalars and arrays, paths and sets as plain JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} value {value!r} as JSON")


def to_json(obj: Any) -> str:
    """Deterministic JSON text (sorted keys, numpy scalars/arrays converted, NaN written as ``NaN``)."""
    return json.dumps(obj, sort_keys=True, indent=2, default=jsonable) + "\n"


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as deterministic JSON (see :func:`to_json`) atomically. Returns the path."""
    return atomic_write_text(path, to_json(obj))


def atomic_write_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], compressed: bool = True) -> Path:
    """Write ``arrays`` (name -> array; names may contain ``/``) as an ``.npz`` atomically. Returns the path."""
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return atomic_write_bytes(path, buffer.getvalue())


def atomic_write_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write one array as ``.npy`` atomically. Returns the path."""
    with atomic_open(path, "wb") as f:
        np.save(f, np.asarray(array), allow_pickle=False)
    return Path(path)


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; :class:`ReproError` naming the file if it is missing or malformed."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReproError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise ReproError(f"{path}: line {exc.lineno}: malformed JSON ({exc.msg})") from None


LOAD_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)
"""What ``np.load`` (and reading an ``.npz`` member) raises on a corrupt, truncated, pickled or foreign file."""


def load_array(path: str | os.PathLike, what: str, allow_npz: bool = False) -> np.ndarray | dict[str, np.ndarray]:
    """``np.load`` of a ``.npy`` (or, with ``allow_npz``, an ``.npz``) whose every failure names the file.

    Args:
        path: the file. what: what it holds, for messages (``"images"``, ``"targets"``, ``"cached map"``...).
        allow_npz: accept an ``.npz`` archive, read eagerly into ``{name: array}``; otherwise an archive is refused.
    Returns:
        The array, or ``{name: array}`` for an ``.npz`` when ``allow_npz`` is set.
    Raises:
        ReproError: the file is missing, is a directory, is not a readable ``.npy``/``.npz`` (corrupt, truncated,
            pickled objects), or is an ``.npz`` when ``allow_npz`` is not set. The message names the file.
    """
    path = Path(path)
    if not path.exists():
        raise ReproError(f"{path}: {what} file not found")
    if path.is_dir():
        raise ReproError(f"{path}: {what} is a directory, expected a file")
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                if not allow_npz:
                    raise ReproError(f"{path}: {what} is an .npz archive, expected a single .npy array")
                return {name: loaded[name] for name in loaded.files}
        return loaded
    except FileNotFoundError:
        raise ReproError(f"{path}: {what} file not found") from None
    except LOAD_ERRORS as exc:
        raise ReproError(f"{path}: cannot read {what} ({exc.__class__.__name__}: {exc})") from None


def file_digest(path: str | os.PathLike, algorithm: str = "sha1", chunk: int = 1 << 20) -> str:
    """The ``algorithm`` (:mod:`hashlib` name; default SHA-1) digest of a file's bytes (hex), read in blocks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete ``.<name>.*.tmp`` files that a hard-killed atomic write left in ``directory``; returns them."""
    removed = []
    for tmp in Path(directory).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed
