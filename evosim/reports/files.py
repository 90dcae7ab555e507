"""Writing a report's files, the same for every report: its tables, its plots, its Markdown summary."""

from __future__ import annotations

from collections.abc import Callable
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
