"""What ``evosim report`` writes for a sweep, as data (built by :mod:`evosim.reports.sensitivity`,
drawn by :mod:`evosim.reports.sensitivity_plots`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class SweepReport:
    """Everything ``evosim report`` writes for a sweep."""

    folder: Path
    name: str
    arms: list[str]
    control: str
    design: dict
    runs: pd.DataFrame
    samples: pd.DataFrame
    sensitivity: pd.DataFrame
    thresholds: pd.DataFrame
    metrics: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)
    n_boot: int = 2000
    seed: int = 0
    markdown: str = ""

    @property
    def names(self) -> list[str]:
        """The swept parameters."""
        return list(self.design["problem"]["names"])
