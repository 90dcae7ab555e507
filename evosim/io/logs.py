"""Load a run folder into pandas, and walk its phylogenies.

>>> run = load_run("runs/earthlike-seed0-...")          # doctest: +SKIP
>>> run.timeseries.pivot(index="tick", columns="name", values="population")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from evosim.config.yamlsafe import parse_fast
from evosim.defaults import GENES
from evosim.errors import RunFolderError
from evosim.io.columns import BASE_TIMESERIES_COLUMNS, SPECIES_COLUMNS

#: How a finished run ended (``summary.json``'s ``ended``); an interrupted one has a summary too.
FINISHED = ("completed", "extinct")


def finished_summary(folder: str | os.PathLike) -> dict | None:
    """The run's ``summary.json`` if it ended :data:`FINISHED`, else None (unfinished, absent, unreadable)."""
    try:
        s = json.loads(Path(folder, "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return s if isinstance(s, dict) and s.get("ended") in FINISHED else None


@dataclass
class Run:
    """The tables of one run folder.

    Attributes:
        folder: the run folder.
        config: the resolved config (plain dict; the seed is ``config["sim"]["seed"]``).
        summary: ``summary.json`` (``None`` while the run is unfinished).
        timeseries: one row per sampled tick and species.
        species: the species phylogeny (ALife Data Standards columns first;
            ``destruction_time`` is ``<NA>`` for species extant at the end).
        events: speciation, extinction, cap reached, ...
    """

    folder: Path
    config: dict
    summary: dict | None
    timeseries: pd.DataFrame
    species: pd.DataFrame
    events: pd.DataFrame

    @cached_property
    def lineage(self) -> pd.DataFrame | None:
        """Per-individual genealogy (``output.lineage: true``), or None; read on first access."""
        return load_lineage(self.folder)


#: What marks a missing value in a numeric column (pandas' defaults). Text columns (names, labels,
#: details) have none: a species named ``NA``, ``None`` or ``nan`` stays that name.
NA_STRINGS = [
    "",
    "NA",
    "N/A",
    "n/a",
    "NaN",
    "nan",
    "-NaN",
    "-nan",
    "<NA>",
    "null",
    "NULL",
    "None",
    "#N/A",
]
#: Columns read as text, never as missing values.
TEXT_COLUMNS = {"name", "details", "kind", "ancestor_list", "habitat"}


def _read_csv(path: Path, dtypes: dict, na_values: dict | None = None) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in dtypes.items()})
    with open(path, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    na = {
        c: NA_STRINGS + list((na_values or {}).get(c, [])) for c in header if c not in TEXT_COLUMNS
    }
    try:
        df = pd.read_csv(
            path,
            dtype={k: v for k, v in dtypes.items() if v not in ("bool",)},
            keep_default_na=False,
            na_values=na,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise RunFolderError(_damaged(path, exc)) from None
    for k, v in dtypes.items():
        if v == "bool" and k in df:
            df[k] = df[k].astype(str).str.lower().eq("true")
    return df


def _damaged(path: Path, exc: Exception) -> str:
    """One paragraph on a log pandas cannot read: which line is wrong, and how to repair it."""
    where = f"it cannot be read ({exc})"
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        rows = csv.reader(fh)
        width = len(next(rows, []))
        for row in rows:
            if len(row) != width:
                where = (
                    f"line {rows.line_num} has {len(row)} of its {width} fields (the file was cut "
                    "mid-row, e.g. by a crash or a full disk)"
                )
                break
    return (
        f"{path}: {where}; `evosim run --resume {path.parent}` cuts the logs back to the newest "
        "checkpoint they match and recomputes the rest"
    )


_COUNTS = {
    "tick",
    "species",
    "population",
    "births",
    "deaths_starvation",
    "deaths_old_age",
    "deaths_culled",
    "adults",
    "adults_final",
}
#: dtypes of the base columns of timeseries.csv (the ``share_<milestone>`` columns are read as float64)
TIMESERIES_DTYPES = {
    c: "string" if c == "name" else "int64" if c in _COUNTS else "float64"
    for c in BASE_TIMESERIES_COLUMNS
}
_SPECIES_TYPES = {"ancestor_list": "string", "alive": "bool", "name": "string", "habitat": "category",
                  "destruction_time": "Int64", "intelligent_at": "Int64", "technological_at": "Int64",
                  "manipulators": "float64", "fire_substitute": "bool"}  # fmt: skip
#: dtypes of species.csv (founder genes float64, other columns int64 unless listed above);
#: ``destruction_time`` is missing (``<NA>``) for extant species, written ``none`` as the ALife standard says
SPECIES_DTYPES = {
    c: _SPECIES_TYPES.get(c, "float64" if c.startswith("founder_") else "int64")
    for c in SPECIES_COLUMNS
}
EVENTS_DTYPES = {"tick": "int64", "kind": "category", "species": "Int64", "details": "string"}


def load_run(folder: str | Path) -> Run:
    """Load a run folder's tables with proper dtypes.

    Args:
        folder: a folder written by ``evosim run``.

    Raises:
        FileNotFoundError: ``folder`` has no ``config.yaml`` (not a run folder).
        RunFolderError: a log cannot be read (cut mid-row, ...): which file and line, and how
            to repair it.
    """
    folder = Path(folder)
    cfg_path = folder / "config.yaml"
    if not cfg_path.exists():
        raise FileNotFoundError(f"{folder}: not a run folder (no config.yaml)")
    config = parse_fast(cfg_path.read_text(encoding="utf-8"))  # evosim wrote it: libyaml
    summary_path = folder / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    return Run(
        folder=folder,
        config=config,
        summary=summary,
        timeseries=_read_csv(folder / "timeseries.csv", TIMESERIES_DTYPES),
        species=_read_csv(
            folder / "species.csv", SPECIES_DTYPES, na_values={"destruction_time": ["none"]}
        ),
        events=_read_csv(folder / "events.csv", EVENTS_DTYPES),
    )


def load_lineage(folder: str | Path) -> pd.DataFrame | None:
    """All lineage chunks of a run as one DataFrame (sorted by id), or None if not recorded."""
    parts = sorted(Path(folder, "lineage").glob("part-*.parquet"))
    if not parts:
        return None
    df = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    df["parent_id"] = df["ancestor_list"].str.strip("[]").replace("none", "-1").astype("int64")
    return df.sort_values("id", kind="stable").reset_index(drop=True)


def species_ancestry(species: pd.DataFrame, species_id: int) -> list[int]:
    """Species ids from ``species_id`` back to its root (inclusive, youngest first)."""
    parent = dict(zip(species["id"], species["ancestor_id"]))
    if species_id not in parent:
        raise KeyError(f"no species {species_id}")
    out = [species_id]
    while parent[out[-1]] != out[-1]:
        out.append(int(parent[out[-1]]))
    return out


def line_of_descent(lineage: pd.DataFrame, individual_id: int) -> pd.DataFrame:
    """Rows of an individual and all its ancestors, founder last."""
    by_id = lineage.set_index("id")
    ids = [individual_id]
    while True:
        parent = int(by_id.at[ids[-1], "parent_id"])
        if parent < 0 or parent not in by_id.index:
            break
        ids.append(parent)
    return by_id.loc[ids].reset_index()


def trait_trajectories(timeseries: pd.DataFrame, gene: str, stat: str = "mean") -> pd.DataFrame:
    """Tick x species-name table of one gene statistic (``stat``: mean or sd)."""
    if gene not in GENES:
        raise KeyError(f"unknown gene {gene!r}; genes: {', '.join(GENES)}")
    return timeseries.pivot(index="tick", columns="name", values=f"{stat}_{gene}")


def populations(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Tick x species-name table of population sizes (0 where a species is absent)."""
    return (
        timeseries.pivot(index="tick", columns="name", values="population")
        .fillna(0)
        .astype("int64")
    )
