"""Post-hoc detector thresholds: intelligence and technology re-detected from a run's logs at other thresholds.

The detectors (:mod:`evosim.engine.detectors`) run after every tick;
``timeseries.csv`` holds one row per species every ``output.sample_every``
ticks, written after the same tick's detectors, so the re-detection sees
what they saw at the sampled ticks:

* **intelligence** (``detectors.brain_threshold``): a species counts at the
  first tick its ``mean_brain`` (the live members' mean, the detectors'
  centroid) has stayed above the threshold with ``population >=
  min_population`` for ``intelligence_window`` ticks. Exact when
  ``sample_every`` is 1. Otherwise the condition is known at the sampled ticks
  only: a run of satisfying samples is taken to hold from its first sample,
  and a species counts when the run spans the window (a dip between two
  samples is missed, and a detection may come up to ``sample_every - 1``
  ticks later than the detector would have fired).
* **technology** (``detectors.tech_share``): the detector compares the number
  of adults holding the final milestone with ``tech_share`` times the number
  of adults, both counted over the same tick's survivors; timeseries.csv logs
  both (``adults``, ``adults_final``), so the re-detection is exact at the
  sampled ticks, as for intelligence. Logs written before those columns
  existed hold only the share of *all members* holding it
  (``share_<final milestone>``): the re-detection then pools adults and
  juveniles, an approximation besides the sampling one above (where
  juveniles hold the final milestone as often as adults the two agree).

Interventions triggered by a detection (``when: {trigger: intelligent}``)
fired at the run's own thresholds; re-detection does not re-run them.
:func:`agreement` measures the re-detection against the logged detections at
each run's own thresholds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evosim.errors import ConfigError
from evosim.io.files import atomic_write_text
from evosim.io.logs import Run, load_run

DETECTORS = ("brain_threshold", "tech_share")


@dataclass
class Grids:
    """Threshold values to re-detect at."""

    brain_threshold: list[float] = field(
        default_factory=lambda: [round(0.5 + 0.02 * i, 2) for i in range(21)]
    )
    tech_share: list[float] = field(
        default_factory=lambda: [round(0.1 * i, 1) for i in range(1, 10)]
    )


def _parse(text: str | None, option: str, low: float, low_open: bool) -> list[float] | None:
    if text is None:
        return None
    try:
        vals = sorted({float(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise ConfigError(
            f"{option} {text}: expected numbers separated by commas, e.g. 0.6,0.65,0.7"
        ) from None
    bad = [
        v for v in vals if not (v > low if low_open else v >= low) or v > 1 or not math.isfinite(v)
    ]
    if not vals or bad:
        raise ConfigError(
            f"{option} {text}: values must lie in {'(' if low_open else '['}{low}, 1] (the detector's "
            "allowed range)"
        )
    return vals


def grids(brain: str | None = None, tech: str | None = None) -> Grids:
    """Grids from the CLI's comma lists (None: the default grid).

    Raises:
        ConfigError: not numbers, or outside the detector's range.
    """
    g = Grids()
    g.brain_threshold = _parse(brain, "--brain-thresholds", 0.0, False) or g.brain_threshold
    g.tech_share = _parse(tech, "--tech-shares", 0.0, True) or g.tech_share
    return g


def first_held(ticks: np.ndarray, ok: np.ndarray, window: int, step: int) -> np.ndarray:
    """First detection tick per threshold (-1: never), for one species' sampled rows.

    Args:
        ticks: (R,) sampled ticks, increasing.
        ok: (T, R) whether the condition held at each sample, per threshold.
        window: ticks the condition must hold.
        step: ticks between samples; a larger gap (the species missing from the logs) breaks a run.
    """
    return first_held_grouped(ticks, np.zeros(1, np.int64), ok, window, step)[0]


def first_held_grouped(
    ticks: np.ndarray, starts: np.ndarray, ok: np.ndarray, window: int, step: int
) -> np.ndarray:
    """First detection tick per group and threshold: many species at once, rows grouped by
    species, ticks increasing (:func:`first_held` is the one-group case).

    A run of samples where the condition holds starts at a sample where it holds and either the
    one before did not, or the gap to it exceeds ``step``, or a group begins; the detection is
    at the run's start + ``window`` - 1 once the run spans ``window`` ticks.

    Args:
        ticks: (R,) sampled ticks, increasing within each group.
        starts: (G,) the first row of each group (increasing; ``starts[0] == 0``; no group empty).
        ok: (T, R) whether the condition held at each row, per threshold.
        window, step: as :func:`first_held`.

    Returns:
        (G, T) first detection tick per group and threshold (-1: never), the same as each
        group's rows alone would give (a group's first row breaks any run).
    """
    n_groups, r = len(starts), len(ticks)
    out = np.full((n_groups, ok.shape[0]), -1, np.int64)
    if r == 0 or n_groups == 0:
        return out
    brk = np.ones(r, bool)
    brk[1:] = np.diff(ticks) > step
    brk[starts] = True
    idx = np.arange(r)
    prev = np.zeros_like(ok)
    prev[:, 1:] = ok[:, :-1]
    run_start = ok & (brk[None, :] | ~prev)
    st = np.maximum.accumulate(np.where(run_start, idx[None, :], -1), axis=1)
    held = ok & (st >= 0) & (ticks[None, :] - ticks[np.maximum(st, 0)] + 1 >= window)
    first = np.minimum.reduceat(np.where(held, idx[None, :], r), starts, axis=1)  # (T, G)
    found = first < r
    at = ticks[st[np.arange(ok.shape[0])[:, None], np.minimum(first, r - 1)]] + window - 1
    out[:] = np.where(found, at, -1).T
    return out


def species_ticks(run: Run, detector: str, values: list[float]) -> dict[int, np.ndarray]:
    """Per species id: its re-detected tick (-1: never) at each of ``values`` of ``detector``, from the logs."""
    cfg = run.config.get("detectors", {})
    ladder = run.config.get("technology", {}).get("ladder", [])
    step = int(run.config.get("output", {}).get("sample_every", 1))
    th = np.asarray(values, np.float64)[:, None]
    ts = run.timeseries
    ts = ts[ts["tick"] > 0]  # the detectors first run after tick 1; tick 0 is the founders' sample
    if detector == "brain_threshold":
        col, window = "mean_brain", int(cfg.get("intelligence_window", 100))
    elif ladder:
        col, window = f"share_{ladder[-1]['name']}", int(cfg.get("tech_window", 100))
    else:
        return {}
    # exact technology: the detector's own counts (adults, adults holding the final milestone)
    counts = detector == "tech_share" and {"adults", "adults_final"} <= set(ts.columns)
    min_pop = int(cfg.get("min_population", 50))
    if not len(ts):
        return {}
    # every species at once: rows by species, then tick (a stable sort keeps the logged order)
    sid = ts["species"].to_numpy(np.int64)
    order = np.argsort(sid, kind="stable")
    sid = sid[order]
    big = ts["population"].to_numpy(np.float64)[order] >= min_pop
    with np.errstate(invalid="ignore"):
        if counts:
            adults = ts["adults"].to_numpy(np.float64)[order]
            final = ts["adults_final"].to_numpy(np.float64)[order]
            ok = big & (adults > 0) & (final >= th * np.maximum(adults, 1.0))
        else:
            v = ts[col].to_numpy(np.float64)[order]
            hit = (v > th) if detector == "brain_threshold" else (v >= th)
            ok = big & hit & ~np.isnan(v)
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
    found = first_held_grouped(ts["tick"].to_numpy(np.int64)[order], starts, ok, window, step)
    return {int(s): found[g] for g, s in enumerate(sid[starts])}


def redetect(run: Run, detector: str, values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(species detected, first detection tick or -1) at each of ``values`` of ``detector``, from the run's logs."""
    at = np.array(list(species_ticks(run, detector, values).values()), np.int64).reshape(
        -1, len(values)
    )
    count = (at >= 0).sum(axis=0)
    first = np.where(at >= 0, at, np.iinfo(np.int64).max).min(
        axis=0, initial=np.iinfo(np.int64).max
    )
    return count, np.where(count > 0, first, -1)


def run_rows(run: Run, grids: Grids, ident: dict) -> list[dict]:
    """One row per detector and value for one run: ``ident`` plus species detected and the first tick."""
    rows = []
    for det in DETECTORS:
        vals = getattr(grids, det)
        count, first = redetect(run, det, vals)
        for v, c, f in zip(vals, count, first):
            rows.append(
                {
                    **ident,
                    "detector": det,
                    "value": v,
                    "species": int(c),
                    "first_tick": float(f) if f >= 0 else math.nan,
                }
            )
    return rows


def agreement(run: Run) -> dict[str, tuple[bool, bool]]:
    """Re-detection at the run's own thresholds against its logged detections (species.csv).

    Returns:
        Per kind (intelligent, technological): (the same species detected, each at its logged tick).
    """
    cfg = run.config.get("detectors", {})
    sp = run.species
    out = {}
    for det, kind in (("brain_threshold", "intelligent"), ("tech_share", "technological")):
        own = float(cfg.get(det, 0.7 if det == "brain_threshold" else 0.5))
        re_ = {sid: int(t[0]) for sid, t in species_ticks(run, det, [own]).items() if t[0] >= 0}
        logged = (
            {int(i): int(t) for i, t in zip(sp["id"], sp[f"{kind}_at"]) if pd.notna(t)}
            if len(sp)
            else {}
        )
        out[kind] = (set(re_) == set(logged), re_ == logged)
    return out


def agreement_notes(agree: list[dict]) -> list[str]:
    """One note per detector: in how many runs re-detection at the run's own threshold matched the logs."""
    notes = []
    for kind, what in (("intelligent", "brain_threshold"), ("technological", "tech_share")):
        same = sum(a[kind][0] for a in agree)
        ticks = sum(a[kind][1] for a in agree)
        notes.append(
            f"{kind} species re-detected from the logs at each run's own {what}: the logged species in "
            f"{same} of {len(agree)} run(s), each at its logged tick in {ticks}"
        )
    return notes


def aggregate(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group of ``by`` (+ detector, value): replicates, species per replicate, P(any), mean first tick."""
    if rows.empty:
        return pd.DataFrame(
            columns=[
                *by,
                "detector",
                "value",
                "replicates",
                "species_per_replicate",
                "p_any",
                "first_tick_mean",
                "first_tick_in",
            ]
        )
    g = rows.groupby([*by, "detector", "value"], sort=True)
    out = g.agg(
        replicates=("species", "size"),
        species_per_replicate=("species", "mean"),
        p_any=("species", lambda s: float((s > 0).mean())),
        first_tick_mean=("first_tick", "mean"),
        first_tick_in=("first_tick", "count"),
    )
    return out.reset_index()


class Redetections:
    """The re-detection of an experiment's runs, run by run (:meth:`add` each loaded run once)."""

    def __init__(self, grids: Grids) -> None:
        self.grids = grids
        self.rows: list[dict] = []
        self.agree: list[dict[str, tuple[bool, bool]]] = []

    def add(self, run: Run, arm: str, replicate: int) -> None:
        """Re-detect one finished run's species (:func:`run_rows`, :func:`agreement`)."""
        self.rows += run_rows(run, self.grids, {"arm": arm, "replicate": int(replicate)})
        self.agree.append(agreement(run))

    def result(self) -> tuple[pd.DataFrame, list[str]]:
        """(thresholds table per arm, detector and value; notes on the agreement with the logs)."""
        return aggregate(pd.DataFrame(self.rows), ["arm"]), agreement_notes(self.agree)


def experiment_thresholds(runs: pd.DataFrame, grids: Grids) -> tuple[pd.DataFrame, list[str]]:
    """Re-detection over the finished runs of an experiment report (``Report.runs``: arm, replicate, folder).

    Returns:
        (thresholds table per arm, detector and value; notes on the agreement with the logged detections).
    """
    found = Redetections(grids)
    for arm, k, folder in zip(runs["arm"], runs["replicate"], runs["folder"]):
        found.add(load_run(folder), arm, int(k))
    return found.result()


def write_thresholds(
    df: pd.DataFrame, out: str | Path, plots: bool = True, by: str = "arm"
) -> list[Path]:
    """Write ``thresholds.csv`` (and ``thresholds.png``); returns the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "thresholds.csv", df.to_csv(index=False))
    files = [out / "thresholds.csv"]
    if plots and len(df):
        from evosim.reports.sensitivity_plots import (
            plot_thresholds,
        )  # matplotlib is loaded only to plot

        files.append(plot_thresholds(df, out / "thresholds.png", by))
    return files
