"""Writing a user's output file or folder: done completely, or refused in one line.

Every command that writes where the user points it (``plot``, ``plot
--newick``, ``report --out``, ``init -o``, ``schema -o``, ``view
--screenshot``, ``view --frames``) writes inside :func:`writing`. A failed
write (a read-only or full file system, a missing permission, an image
library refusing the file) becomes an :class:`~evosim.errors.OutputError`:
one line naming the path and the reason, exit code 1, and nothing
half-written — whatever the block created (the file, the files it added to a
folder, the folder itself and any parent folders it made) is removed again.
Files the block replaced stay replaced: each is written atomically, so it is
either the old file or the new one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evosim.errors import OutputError


def _reason(exc: BaseException) -> str:
    """The operating system's reason (``Read-only file system``), else the exception's text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _first_missing(path: Path) -> Path | None:
    """The outermost folder on the way to ``path`` (``path`` included) that does not exist yet."""
    missing = None
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            break
        missing = p
    return missing


def _entries(folder: Path) -> set[str]:
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


def _remove(p: Path) -> None:
    try:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
    except OSError:
        pass


@contextmanager
def writing(
    path: str | os.PathLike,
    option: str = "",
    folder: bool = False,
    errors: tuple[type[BaseException], ...] = (),
) -> Iterator[Path]:
    """Write ``path`` inside the block; refuse in one line if the writing fails.

    Args:
        path: the file (or, with ``folder``, the folder) the block writes.
        option: how the user named it, e.g. ``"--out"`` (shown before the path).
        folder: ``path`` is a folder the block fills with files.
        errors: exception types besides :class:`OSError` that mean a failed write
            (e.g. ``pygame.error``).

    Yields:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OutputError: the write failed; what the block created has been removed.
    """
    target = Path(path)
    created = _first_missing(target)  # removed whole on failure: nothing was there before
    before = _entries(target) if folder and created is None else set()
    failures: tuple[type[BaseException], ...] = (OSError, *errors)
    try:
        yield target
    except failures as exc:
        if created is not None:
            _remove(created)
        elif folder:
            for name in _entries(target) - before:
                _remove(target / name)
        named = f"{option} {target}" if option else str(target)
        raise OutputError(
            f"cannot write {named}: {_reason(exc)}; nothing was left half-written"
        ) from None
