"""The report's data: what ``evosim report`` computes and writes (built by :mod:`evosim.reports.outcomes`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evosim.analysis.outcomes import CLADE_COLUMNS, LABELS, Thresholds

#: the clade name of the pooled per-clade analyses when the founders are drawn per replicate
POOLED_CLADE = "all clades"


@dataclass
class Report:
    """Everything ``evosim report`` writes."""

    folder: Path
    name: str
    arms: list[str]
    control: str
    runs: pd.DataFrame
    stuck: pd.DataFrame
    results: pd.DataFrame
    trajectories: pd.DataFrame
    config: dict
    clades: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CLADE_COLUMNS))
    notes: list[str] = field(default_factory=list)
    n_boot: int = 2000
    seed: int = 0
    markdown: str = ""
    #: survival.csv (:func:`evosim.analysis.survival.survival_table`)
    survival: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: whether_when.csv (:func:`evosim.analysis.whether.whether_or_when`)
    whether: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the tick horizons of its RMST and incidences
    horizons: list[float] = field(default_factory=list)
    #: n(T) per arm (:func:`evosim.analysis.survival.n_by_tick`), and the tick from which it plateaued
    #: per arm (NaN: not within the horizon; :func:`evosim.analysis.survival.n_plateau`)
    n_by_tick: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_plateau: dict[str, float] = field(default_factory=dict)
    #: the conventions of the classification and the plateau detector
    th: Thresholds = field(default_factory=Thresholds)
    #: the labels of stuck species (bottlenecks and still climbing), in the order tables and plots list them
    bottlenecks: tuple[str, ...] = LABELS
    #: arms whose replicates differ only in their founding species (drawn per seed: a tree of life);
    #: the per-clade analyses then pool every clade as :data:`POOLED_CLADE`
    drawn: list[str] = field(default_factory=list)

    def clades_for_analysis(self) -> pd.DataFrame:
        """The clades the per-clade analyses read: as they are, or (founders drawn per replicate,
        so that a founder's name is a different body plan in each) all pooled as one clade."""
        return self.clades.assign(clade=POOLED_CLADE) if self.drawn else self.clades

    def results_with_n_by_tick(self) -> pd.DataFrame:
        """results.csv: :attr:`results`, then one row per arm, tick and n(T) quantity (column ``tick``)."""
        nt = self.n_by_tick
        if not len(nt):
            return self.results.assign(tick=math.nan)
        parts = [self.results.assign(tick=math.nan)]
        for metric, label, col, lo, hi in (
            ("n_clades_by_tick", "n (clades) by tick T", "n", "n_low", "n_high"),
            ("intelligent_clades_by_tick", "intelligent clades by tick T / replicate", "intelligent", None, None),
            ("technological_clades_by_tick", "technological clades by tick T / replicate", "technological", None, None),
        ):  # fmt: skip
            parts.append(pd.DataFrame({
                "arm": nt["arm"], "metric": metric, "label": label, "value": nt[col],
                "ci_low": nt[lo] if lo else math.nan, "ci_high": nt[hi] if hi else math.nan,
                "tick": nt["tick"],
            }))  # fmt: skip
        return pd.concat(parts, ignore_index=True)

    def result(self, arm: str, metric: str) -> pd.Series:
        """The row of :attr:`results` for ``arm`` and ``metric``."""
        r = self.results
        return r[(r["arm"] == arm) & (r["metric"] == metric)].iloc[0]
