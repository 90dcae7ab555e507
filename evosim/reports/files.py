"""Writing a report's files, the same for every report: its tables, its plots, its Markdown summary.

A report takes a while (bootstrap, plots); :func:`staged` has it written beside its folder and
moved in at the end, so that an interruption never leaves half of one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import pandas as pd

from evosim.io.files import atomic_write_text


def plotter(module: str, name: str, rep: object) -> Callable[[Path], list[Path]]:
    """``module.name(rep, out)`` as a plotter for :func:`write_report_files`; matplotlib (in
    ``module``) is loaded only when it plots."""

    def plot(out: Path) -> list[Path]:
        import importlib

        return getattr(importlib.import_module(module), name)(rep, out)

    return plot


def arm_table_head(arms: list[str]) -> list[str]:
    """The head of a Markdown table with a column per arm."""
    return ["| | " + " | ".join(f"`{a}`" for a in arms) + " |", "|---|" + "---|" * len(arms)]


def intro(title: str, paragraph: str) -> list[str]:
    """The head of a Markdown summary: ``# title``, then the paragraph that says what was analysed."""
    return [f"# {title}", "", paragraph, ""]


def write_report_files(
    out: str | Path,
    tables: dict[str, pd.DataFrame],
    markdown: str,
    plot: Callable[[Path], list[Path]] | None,
) -> list[Path]:
    """Write ``tables`` as CSV files, the PNGs of ``plot`` (if given) and ``summary.md`` into ``out``.

    The summary is ``markdown``, with a ``## Plots`` section linking the PNGs.

    Returns:
        The files written, in that order.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, df in tables.items():
        atomic_write_text(out / name, df.to_csv(index=False))
        files.append(out / name)
    if plot is not None:
        pngs = plot(out)
        files += pngs
        markdown += "\n## Plots\n\n" + "\n".join(f"![{p.stem}]({p.name})" for p in pngs) + "\n"
    atomic_write_text(out / "summary.md", markdown)
    files.append(out / "summary.md")
    return files


@contextmanager
def staged(
    out: str | Path, hold: Callable[[], AbstractContextManager[object]] = nullcontext
) -> Iterator[Path]:
    """A new folder beside ``out`` to write a report into, moved into ``out`` when the block ends.

    The block's files reach ``out`` only if it ends normally: a missing ``out`` is the folder
    renamed; an existing one (an earlier report, or a replay folder with its runs) gets each file,
    each by one rename, replacing its namesake and leaving its other files. Left by an exception
    (Ctrl-C included), the folder is removed and ``out`` is as it was.

    Args:
        out: the report's folder (its parent is created if missing).
        hold: a context manager around the move (the CLI's holds SIGINT and SIGTERM until it is
            done, so that a signal cannot cut it half-way).

    Yields:
        The folder to write into (``.<name>.<random>.partial`` beside ``out``).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{os.urandom(4).hex()}.partial"
    tmp.mkdir()  # the umask's mode, as the renamed report's folder should have
    try:
        yield tmp
        with hold():
            _move_into(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _move_into(src: Path, out: Path) -> None:
    """Rename folder ``src`` to ``out``, or, if ``out`` exists, each file of ``src`` into it."""
    if not out.exists():
        os.replace(src, out)
        return
    for entry in sorted(src.rglob("*")):
        target = out / entry.relative_to(src)
        if entry.is_dir():
            target.mkdir(exist_ok=True)
        else:
            os.replace(entry, target)
