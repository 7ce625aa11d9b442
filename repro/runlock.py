"""One run at a time per run directory: :func:`run_lock` holds ``<directory>/.lock`` for a whole command.

Two ``repro reproduce`` (or ``repro merge``) processes on the same ``--out`` would both do all the work, and the
second, opening the directory, would delete the temporary file the first is writing (:func:`repro.io.
remove_stale_temporaries`). So ``repro reproduce`` and ``repro merge`` take the lock right after checking that the
directory is writable and keep it until they return: the stale-temporaries cleanup, every chunk, ``results.csv``,
the figures and the claims are written under it. A second run refuses at once, in one line naming the directory
and the holder's PID (and host, if another).

Why ``fcntl.flock`` on an ordinary file rather than creating the file with ``O_CREAT | O_EXCL``: the kernel
releases a ``flock`` when its holder dies, however it dies (SIGKILL, out of memory, a node reboot), so a lock
left by a dead run never blocks the next one and no "is that PID still alive?" guess is needed (a guess that
PID reuse and other hosts sharing the directory make unreliable, and that two runs taking over the same stale
file at once would race on). The file only carries the holder's PID, host and start time, for the refusal
message; a file whose lock is free is stale and is taken over with a one-line note on stderr.

Protocol: open (or create) ``.lock``, ``flock(LOCK_EX | LOCK_NB)``, then check that the locked file is still the
one at the path (a releasing holder unlinks it before unlocking, so a run that locked the unlinked file retries
on the new one); write the holder record. Release: unlink the file, then unlock and close it. A finished or
interrupted run (Ctrl-C, an error) leaves no ``.lock``; a killed one leaves the file, unlocked.

Limits: ``flock`` is advisory (only runs of this package respect it). Across hosts it needs a file system whose
clients support it (Linux NFS emulates it with byte-range locks; Lustre needs the ``flock`` mount option); where
the file system refuses file locks the run goes on unlocked with a one-line note.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from repro.errors import ReproError

LOCK_NAME = ".lock"
"""The lock file inside a run directory."""

_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}
"""``flock`` errors that mean the file system does not do file locks."""

_held: dict[Path, int] = {}
"""Resolved directory -> the descriptor of its lock, for the locks this process holds."""


class RunLockedError(ReproError):
    """Another process holds the run directory's lock."""


def lock_path(directory: str | os.PathLike) -> Path:
    """``<directory>/.lock``."""
    return Path(directory) / LOCK_NAME


def holds_lock(directory: str | os.PathLike) -> bool:
    """Whether this process holds :func:`run_lock` on ``directory``."""
    return Path(directory).resolve() in _held


@contextmanager
def run_lock(directory: str | os.PathLike) -> Iterator[Path]:
    """Hold the lock of run directory ``directory`` (created if missing) for the ``with`` body.

    Yields the lock file's path. The lock is released when the body ends, whether it returns or raises (Ctrl-C
    included), and by the kernel if the process dies. Not re-entrant: a second ``run_lock`` on the same directory,
    even in the same process, is refused.

    Raises:
        RunLockedError: another run holds the lock: ``"<directory>: another repro run (pid N) is using this
            directory; wait for it to finish or choose another --out"``.
        WriteError: the lock file cannot be created (the message names it).
    """
    directory = Path(directory)
    path = lock_path(directory)
    fd = _acquire(directory, path)
    key = directory.resolve()
    _held[key] = fd
    try:
        yield path
    finally:
        del _held[key]
        _release(path, fd)


def _acquire(directory: Path, path: Path) -> int:
    """Open, lock and stamp ``path``; the open descriptor (see the module docstring's protocol)."""
    from repro.io import write_error

    while True:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise write_error(path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_of(fd)
            os.close(fd)
            raise RunLockedError(f"{directory}: another repro run ({describe(holder)}) is using this directory; "
                                 "wait for it to finish or choose another --out") from None
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                os.close(fd)
                raise
            print(f"[repro] note: {directory}: the file system does not support file locks; another run on this "
                  "directory at the same time would not be stopped", file=sys.stderr)
            return fd
        if _is_current(fd, path):
            break
        os.close(fd)  # a releasing holder unlinked the file we locked: lock the one now at the path
    previous = _read_record(fd)
    if previous:
        print(f"[repro] note: {path}: the run that held it ({describe(previous)}) is gone; taking it over",
              file=sys.stderr)
    _write_record(fd)
    return fd


def _release(path: Path, fd: int) -> None:
    """Unlink ``path`` (while still holding the lock), then unlock and close ``fd``."""
    try:
        if _is_current(fd, path):
            path.unlink()
    except OSError:
        pass
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError:
            pass
        os.close(fd)


def _is_current(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is the file at ``path`` (not one unlinked since it was opened)."""
    try:
        at_path = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (at_path.st_dev, at_path.st_ino)


def _record() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _write_record(fd: int) -> None:
    data = (json.dumps(_record(), sort_keys=True) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _read_record(fd: int) -> dict:
    """The holder record in ``fd``'s file, ``{}`` if it is empty or not one."""
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) and isinstance(record.get("pid"), int) else {}


def _holder_of(fd: int, wait: float = 1.0) -> dict:
    """The record of the process that holds the lock; waits up to ``wait`` seconds for a holder that has just
    locked the file to write it."""
    deadline = time.monotonic() + wait
    while True:
        record = _read_record(fd)
        if record or time.monotonic() >= deadline:
            return record
        time.sleep(0.05)


def describe(record: dict) -> str:
    """``pid 1234``, ``pid 1234 on host node7`` (another host), or ``pid unknown``."""
    if not record:
        return "pid unknown"
    host = record.get("host")
    elsewhere = f" on host {host}" if isinstance(host, str) and host != socket.gethostname() else ""
    return f"pid {record['pid']}{elsewhere}"
