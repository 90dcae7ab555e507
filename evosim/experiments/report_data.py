"""The report's data: what ``evosim report`` computes and writes (built by :mod:`evosim.experiments.report`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evosim.analysis.outcomes import BOTTLENECKS, CLADE_COLUMNS, Thresholds


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
    #: the tick horizons of its RMST and incidences
    horizons: list[float] = field(default_factory=list)
    #: the conventions of the classification and the plateau detector
    th: Thresholds = field(default_factory=Thresholds)
    #: the bottleneck categories, in the order tables and plots list them
    bottlenecks: tuple[str, ...] = BOTTLENECKS

    def result(self, arm: str, metric: str) -> pd.Series:
        """The row of :attr:`results` for ``arm`` and ``metric``."""
        r = self.results
        return r[(r["arm"] == arm) & (r["metric"] == metric)].iloc[0]
