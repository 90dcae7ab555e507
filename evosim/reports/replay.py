"""What a replay found: its futures' outcomes, the causal table, its Markdown and plot (docs/replay.md).

A replay folder holds, per branch (:class:`~evosim.experiments.replay_select.Branch`), the
recreated past (``<arm>/rep-<k>/past-<tick>``) and one folder per relief (``none`` for the
unrelieved group) of reseeded futures (``<arm>/rep-<k>/<clade>/<relief>/reseed-<K>``).
:func:`collect` reads each finished future's clade (:func:`evosim.analysis.outcomes.clades`) into one observation
(:func:`evosim.analysis.replay.future_outcome`); :func:`write_report` writes

- ``futures.csv``: one row per future (branch, relief, reseed, outcome, ticks after the branch);
- ``causal.csv``: :func:`evosim.analysis.replay.causal_table` of those futures, with the
  report's rule-based label of each clade and whether the replay agrees;
- ``causal.png``: per branch and relief, the difference of the share technological within H
  with its interval;
- ``summary.md``: the table, the disagreements, how to read them, and the plot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evosim.analysis.outcomes import clades
from evosim.analysis.replay import (
    CENSORED,
    EVENT,
    EXTINCT,
    NONE,
    causal_table,
    disagreements,
    future_outcome,
    futures_frame,
)
from evosim.experiments.replay_select import Branch
from evosim.io.logs import FINISHED, load_run
from evosim.reports.files import intro, plotter, write_report_files

OUTCOME_NAMES = {EVENT: "technological", EXTINCT: "extinct", CENSORED: "censored"}


def future_row(b: Branch, relief: str, k: int, folder: Path, horizon: int,
               min_population: int | None = None) -> dict | None:  # fmt: skip
    """One future's observation of its clade (None while the future is unfinished)."""
    run = load_run(folder)
    if (run.summary or {}).get("ended") not in FINISHED:
        return None
    min_pop = min_population or int(run.config.get("detectors", {}).get("min_population", 50))
    table = clades(run, min_pop)
    row = table[table["clade"] == b.clade]
    if not len(row):  # pragma: no cover - a founder is always in species.csv
        return None
    event, ticks = future_outcome(row.iloc[0], b.tick, horizon)
    return {"clade": b.key, "relief": relief, "future": k, "event": event, "ticks": ticks}


def collect(out: Path, branches: Sequence[Branch], reliefs: Sequence[str], futures: int,
            horizon: int, min_population: int | None = None) -> pd.DataFrame:  # fmt: skip
    """The observations of every finished future of a replay folder (:func:`futures_frame` columns)."""
    rows = []
    for b in branches:
        for relief in (NONE, *reliefs):
            for k in range(1, futures + 1):
                folder = out / b.future_folder(relief, k)
                if (folder / "summary.json").is_file():
                    r = future_row(b, relief, k, folder, horizon, min_population)
                    if r is not None:
                        rows.append(r)
    return futures_frame(rows)


def _f(x: float, digits: int = 2) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def markdown(name: str, table: pd.DataFrame, branches: Sequence[Branch], futures: pd.DataFrame,
             horizon: int, planned: int | None = None) -> str:  # fmt: skip
    """The replay's Markdown section: per branch and relief, the causal table beside the rule-based label.

    ``planned``: the futures the replay asks for; when fewer have finished, the section says so.
    """
    lines = intro(
        f"Replay {name}: causal bottlenecks",
        f"{len(branches)} clade(s) branched at their moment; per relief and unrelieved, reseeded futures of "
        f"{horizon} ticks ({len(futures)} finished). `diff` = P(technological within H | relief) − "
        "P(… | none) with Newcombe's 95 % interval; `HR` = Cox hazard ratio of the time to technology. "
        "*bottleneck*: the relief changes whether (interval above 0); *delay*: only when; the futures share "
        "their past, so the spread is the variance of the future given that past, not of history.",
    ) + [
        *(
            [
                f"**Partial:** {len(futures)} of the {planned} futures have finished; each row counts "
                "its own (`n`). Run the same `evosim replay` command again to finish the rest.",
                "",
            ]
            if planned is not None and len(futures) < planned
            else []
        ),  # fmt: skip
        "| clade | branch tick | relief | n | p relief | p none | diff [95 %] | HR [95 %] | verdict | "
        "rule label | agrees |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    at = {b.key: b for b in branches}
    for _, r in table.iterrows():
        b = at.get(str(r["clade"]))
        tick = f"{b.tick} ({b.moment})" if b else ""
        agrees = (
            ""
            if r["agrees"] is None or pd.isna(r["agrees"])
            else ("yes" if r["agrees"] else "**no**")
        )
        lines.append(
            f"| {r['clade']} | {tick} | {r['relief']} | {r['futures']} | {_f(r['p_relief'])} | "
            f"{_f(r['p_none'])} | {_f(r['diff'])} [{_f(r['diff_low'])}, {_f(r['diff_high'])}] | "
            f"{_f(r['hr'])} [{_f(r['hr_low'])}, {_f(r['hr_high'])}] | {r['verdict']} | "
            f"{r['label'] or '–'} | {agrees} |"
        )
    bad = disagreements(table)
    lines += ["", "**Where the rule-based labels and the replay disagree:** "
              + ("none." if not len(bad) else "; ".join(
                  f"{r['clade']} ({r['label']}): {r['relief']} is {r['verdict']}" for _, r in bad.iterrows()
              ) + ".")]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_report(out: Path, name: str, branches: Sequence[Branch], futures: pd.DataFrame,
                 horizon: int, plots: bool = True, planned: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Write futures.csv, causal.csv, causal.png and summary.md into ``out``; returns the causal table."""
    labels = {b.key: b.label for b in branches if b.label}
    table = causal_table(futures, labels)
    tables = {"futures.csv": futures.assign(outcome=futures["event"].map(OUTCOME_NAMES)),
              "causal.csv": table}  # fmt: skip
    md = markdown(name, table, branches, futures, horizon, planned)
    plot = plotter("evosim.reports.replay_plots", "plot_causal", (table, name)) if plots else None
    write_report_files(out, tables, md, plot)
    return table


def is_replay(manifest: dict) -> bool:
    """Whether a folder's manifest (``experiment.json``) is a replay's."""
    return manifest.get("kind") == "replay"


def branches_of(manifest: dict) -> list[Branch]:
    """The branches a replay's manifest records (as :class:`Branch`, for :func:`collect`)."""
    out = []
    for b in manifest["branches"]:
        parts = str(b["key"]).split("/")
        arm, rep = (
            (parts[0], int(parts[1].removeprefix("rep-"))) if len(parts) == 3 else (None, None)
        )
        out.append(Branch(str(b["key"]), Path(b["run"]), arm, rep, int(b["seed"]), str(b["clade"]),
                          int(b["tick"]), str(b["moment"]), str(b["label"])))  # fmt: skip
    return out


def report_folder(folder: Path, manifest: dict, out: Path, plots: bool = True) -> str:
    """``evosim report REPLAY``: the report of a replay folder from the futures finished so far
    (written into ``out``); returns its Markdown, which says how many futures are missing."""
    branches = branches_of(manifest)
    reliefs = list(manifest["reliefs"])
    n, horizon = int(manifest["futures"]), int(manifest["horizon"])
    min_pop = (manifest.get("spec") or {}).get("min_clade_population")
    futures = collect(folder.resolve(), branches, reliefs, n, horizon, min_pop)
    planned = len(branches) * (len(reliefs) + 1) * n
    table = write_report(out, str(manifest["name"]), branches, futures, horizon, plots, planned)
    return markdown(str(manifest["name"]), table, branches, futures, horizon, planned)
