"""What a checkpoint records about a run folder's logs, and the check made before a resume touches them.

A checkpoint header lists every log file of the run folder as it was at the
checkpoint's tick: ``logs`` maps its path (relative to the run folder) to its
size in bytes, ``extra.log_sha256`` to its SHA-256. The logs are

* the append-only CSVs (``timeseries.csv``, ``events.csv``): the checkpoint
  covers their first ``size`` bytes; rows after them belong to ticks after
  the checkpoint and are cut off when the run resumes;
* the chunk files (``lineage/part-*.parquet``, ``frames/meta.npz``,
  ``frames/chunk-*.npz``): written once, whole; chunks that the checkpoint
  does not list were written after it and are removed when the run resumes.

:func:`check` compares a run folder with a header before anything is
changed: a log that is missing, shorter than recorded, or whose recorded
bytes differ, makes that checkpoint unusable (the caller then tries an older
one, or refuses). Resuming over such a log would leave a hole (NUL bytes or
lost rows) that no reader can make sense of.

Checkpoints written before the checksums were recorded carry only the CSV
sizes and the lineage chunk count; they are checked by those.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

#: The append-only CSV logs.
APPEND_LOGS = ("timeseries.csv", "events.csv")
#: Folders of whole-file chunks, and the names of their files.
CHUNK_FILES = {
    "lineage": re.compile(r"^part-\d{5,}\.parquet$"),
    "frames": re.compile(r"^(chunk-\d{6,}|meta)\.npz$"),
}
_BLOCK = 1 << 20


def _hash_range(path: Path, start: int, stop: int, h: hashlib._Hash) -> int:
    """Feed bytes ``start..stop`` of ``path`` to ``h``; returns how many there were."""
    done = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        while done < stop - start:
            block = fh.read(min(_BLOCK, stop - start - done))
            if not block:
                break
            h.update(block)
            done += len(block)
    return done


def chunk_files(folder: Path) -> list[str]:
    """Paths (relative to the run folder ``folder``) of the chunk files it holds, sorted."""
    out = []
    for sub, pattern in CHUNK_FILES.items():
        d = folder / sub
        if d.is_dir():
            out += sorted(f"{sub}/{p.name}" for p in d.iterdir() if pattern.match(p.name))
    return out


class LogLedger:
    """Sizes and SHA-256 of a run folder's logs, kept up to date as they grow.

    Each byte of an append-only log and each chunk file is read back once,
    after it was written (from the page cache), so recording a checkpoint
    costs what was written since the last one.

    Args:
        folder: the run folder.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._append: dict[str, tuple[hashlib._Hash, int]] = {}
        self._chunks: dict[str, tuple[int, int, str]] = {}  # path -> (size, mtime_ns, sha256)

    def record(self) -> tuple[dict[str, int], dict[str, str]]:
        """(size, SHA-256) of every log now, by path; the caller has flushed the CSVs.

        Returns:
            ``({path: size}, {path: sha256})`` for a checkpoint header.
        """
        sizes: dict[str, int] = {}
        shas: dict[str, str] = {}
        for name in APPEND_LOGS:
            path = self.folder / name
            h, done = self._append.get(name) or (hashlib.sha256(), 0)
            size = path.stat().st_size
            if size < done:  # cut back (a resume chose an older checkpoint): hash afresh
                h, done = hashlib.sha256(), 0
            done += _hash_range(path, done, size, h)
            self._append[name] = (h, done)
            sizes[name], shas[name] = done, h.hexdigest()
        for rel in chunk_files(self.folder):
            st = (self.folder / rel).stat()
            known = self._chunks.get(rel)
            if known is None or known[:2] != (st.st_size, st.st_mtime_ns):
                h = hashlib.sha256()
                _hash_range(self.folder / rel, 0, st.st_size, h)
                known = (st.st_size, st.st_mtime_ns, h.hexdigest())
                self._chunks[rel] = known
            sizes[rel], shas[rel] = known[0], known[2]
        return sizes, shas

    def check(
        self, header: dict, what: str, only: Callable[[str], bool] | None = None
    ) -> str | None:
        """Compare the folder's logs with what checkpoint ``header`` recorded; nothing is changed.

        On success the ledger holds the hashes of the recorded parts (so the
        next :meth:`record` reads only what is written after the resume).

        Args:
            header: a checkpoint header.
            what: the checkpoint in messages, e.g. ``"the checkpoint of tick 200"``.
            only: check only the logs whose path this accepts (default: all).

        Returns:
            None if every log holds at least what was recorded, unchanged;
            else what is wrong, naming the file and the expected and found sizes.
        """
        sizes: dict[str, int] = header.get("logs", {})
        extra = header.get("extra", {})
        shas: dict[str, str] = extra.get("log_sha256", {})
        recorded = dict(sizes)
        if not shas:  # an older checkpoint: the lineage chunks it had written are only counted
            for k in range(int(extra.get("lineage_chunks", 0))):
                recorded.setdefault(f"lineage/part-{k:05d}.parquet", -1)
        for rel, size in recorded.items():
            if only is not None and not only(rel):
                continue
            path = self.folder / rel
            try:
                found = path.stat().st_size
            except FileNotFoundError:
                return f"{path} is missing; {what} recorded it" + (
                    f" at {size:,} bytes" if size >= 0 else ""
                )
            except OSError as exc:
                return f"{path} cannot be read ({exc.strerror or exc})"
            appended = rel in APPEND_LOGS
            if size < 0:
                continue
            if (found < size) if appended else (found != size):
                return f"{path} is {found:,} bytes, but {what} recorded {size:,} bytes"
            h = hashlib.sha256()
            _hash_range(path, 0, size, h)
            if rel in shas and h.hexdigest() != shas[rel]:
                part = (
                    f"its first {size:,} bytes differ" if appended else f"its {size:,} bytes differ"
                )
                return f"{path}: {part} from what {what} recorded (SHA-256 mismatch)"
            if appended:
                self._append[rel] = (h, size)
            else:
                st = path.stat()
                self._chunks[rel] = (st.st_size, st.st_mtime_ns, h.hexdigest())
        return None

    def cut_back(self, header: dict) -> None:
        """Bring the logs back to checkpoint ``header`` (after :meth:`check` passed).

        The CSVs are cut to their recorded sizes; chunk files the checkpoint
        does not list (written after it) are removed. Lineage chunks of an
        older checkpoint without checksums are left to the lineage writer.
        """
        sizes: dict[str, int] = header.get("logs", {})
        for name in APPEND_LOGS:
            if name in sizes:
                with open(self.folder / name, "r+b") as fh:
                    fh.truncate(sizes[name])
        if header.get("extra", {}).get("log_sha256"):
            for rel in chunk_files(self.folder):
                if rel not in sizes:
                    (self.folder / rel).unlink()
                    self._chunks.pop(rel, None)
