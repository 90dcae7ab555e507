"""Exclusive locks on run folders (and on experiment replicates): one writer at a time.

A lock is an ``fcntl.flock`` on a small file holding the holder's pid and
host. The kernel releases it when the holder's process ends, however it
ends, so a lock can never outlive its process; the file itself is removed
when the lock is released. A lock file found with a pid in it was therefore
left by a process that died while holding it (``kill -9``, a crash, a
power cut): it is reported (a warning on the ``evosim`` logger) and taken
over.

``flock`` works between processes of one machine (and on most network file
systems between machines); a second writer is refused with
:class:`~evosim.errors.RunFolderError`, or waits with ``wait=True``.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evosim.errors import RunFolderError

#: The lock file inside a run folder.
LOCK_NAME = ".evosim.lock"

log = logging.getLogger("evosim")


def _holder(text: str) -> tuple[int | None, str]:
    """(pid, host) recorded in a lock file's text (pid None if there is none)."""
    parts = text.split()
    pid = int(parts[0]) if parts and parts[0].isdigit() else None
    return pid, parts[1] if len(parts) > 1 else ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM  # exists, owned by someone else
    return True


def _describe(text: str) -> str:
    pid, host = _holder(text)
    if pid is None:
        return "another process"
    return f"pid {pid}" + (f" on {host}" if host and host != socket.gethostname() else "")


def _open_locked(path: Path, wait: bool) -> int | None:
    """A descriptor of ``path`` holding its flock, or None if another process holds it (and not ``wait``)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        # a holder removes the file as it releases: if it did so between our open and our
        # flock, we hold a lock on a file no one else will see; open the new one instead
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


@contextmanager
def locked(path: str | os.PathLike, wait: bool = False, what: str | None = None) -> Iterator[None]:
    """Hold the exclusive lock ``path`` (created, and removed on release).

    Args:
        path: the lock file.
        wait: block until the lock is free instead of refusing.
        what: what the lock protects, for the refusal (default: the lock file's folder).

    Raises:
        RunFolderError: another live process holds the lock (only without ``wait``).
    """
    path = Path(path)
    fd = _open_locked(path, wait)
    if fd is None:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        where = what or str(path.parent)
        raise RunFolderError(
            f"{where}: {_describe(text)} is writing it (lock file {path}); a run folder takes one "
            f"writer at a time. Wait for that process to finish or stop it, or choose another folder"
        )
    try:
        left = os.read(fd, 200).decode("utf-8", "replace")
        pid, host = _holder(left)
        if pid is not None and pid != os.getpid():
            state = (
                "is no longer running"
                if host in ("", socket.gethostname()) and not _alive(pid)
                else "no longer holds it"
            )
            log.warning(
                "%s: took over the lock %s left by %s, which %s (it stopped without releasing it)",
                what or path.parent,
                path.name,
                _describe(left),
                state,
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        yield
    finally:
        try:
            path.unlink(missing_ok=True)  # while still holding it: see _open_locked
        finally:
            os.close(fd)


@contextmanager
def run_folder_lock(folder: str | os.PathLike, create: bool = True) -> Iterator[Path]:
    """Hold the lock of run folder ``folder`` (``folder/.evosim.lock``); yields the folder.

    With ``create`` a missing folder is created, and removed again on the way
    out if nothing was written into it (a refused run leaves nothing behind).

    Raises:
        RunFolderError: another process is writing the folder.
    """
    folder = Path(folder)
    made = create and not folder.exists()
    if made:
        folder.mkdir(parents=True)
    try:
        with locked(folder / LOCK_NAME, what=str(folder)):
            yield folder
    finally:
        if made:
            try:
                folder.rmdir()  # only if empty
            except OSError:
                pass


def clear_stale(path: str | os.PathLike) -> bool:
    """Remove the lock file ``path`` if no live process holds its lock; True if there was one.

    A holder that was killed (a worker of a cluster closed on Ctrl-C) leaves its lock file
    behind, with its pid; the next writer would take it over with a warning. This releases it
    as its holder would have: the lock taken (without waiting: a live holder keeps it), the file
    removed while holding it. A missing file is left missing.
    """
    path = Path(path)
    if not path.exists():
        return False
    fd = _open_locked(path, wait=False)
    if fd is None:  # held by a live process
        return False
    try:
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)
    return True
