"""What ``evosim report`` writes for a sweep, as data (built by :mod:`evosim.reports.sensitivity`,
drawn by :mod:`evosim.reports.sensitivity_plots`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: Per sampler, what its main index is: a y-axis label, a line under the plot's title, and the
#: sentence of the Markdown summary.
INDEX_MEANING = {
    "grid": (
        "main effect\n(share of variance, 0–1)",
        "main effect = variance of the mean outcome at each level of the parameter ÷ the outcome's "
        "variance (0: no effect, 1: all of it); over a bar: the largest minus the smallest of those "
        "means, in the outcome's units",
        "`main_effect` is the share of the outcome's variance over the grid that the parameter's "
        "levels explain on their own: the variance of the mean outcome at each of its levels (the "
        "other parameters averaged over) ÷ the outcome's variance; 0: the outcome does not move "
        "with it, 1: it moves with nothing else. `effect_range` (sensitivity.csv) is the largest "
        "minus the smallest of those level means, in the outcome's own units.",
    ),
    "morris": (
        "μ* (outcome units\nper parameter range)",
        "μ* = mean |elementary effect|: the change of the outcome per the parameter's whole range, "
        "in the outcome's units (larger: more influential; ± its 95% interval); σ: the spread of "
        "those effects (large: interactions, non-linearity or noise)",
        "`mu_star` (μ*) is the mean absolute elementary effect: the change of the outcome when the "
        "parameter moves one step of the Morris grid, divided by that step as a fraction of the "
        "parameter's range (of its log range for a log parameter), so in the outcome's own units "
        "per whole range; it ranks the parameters (larger: more influential) and is not a variance "
        "share. ± `mu_star_conf`: half-width of its bootstrap 95% interval. `sigma` "
        "(sensitivity.csv, and beside μ* in sensitivity.png), the spread of those effects, large "
        "next to μ* means interactions, non-linearity or replicate noise.",
    ),
    "sobol": (
        "ST (share of variance\nwith interactions, 0–1)",
        "ST = share of the outcome's variance due to the parameter, with its interactions (± its "
        "95% interval); S1: due to the parameter alone",
        "`ST` is Sobol's total-order index: the share of the outcome's variance due to the "
        "parameter, alone or in interaction with the others (0–1); ± `ST_conf`: half-width of its "
        "95% interval. `S1` (sensitivity.csv, and beside ST in sensitivity.png), the first-order "
        "index, counts the parameter alone.",
    ),
    "latin": (
        "S1 (share of\nvariance, 0–1)",
        "S1 = share of the outcome's variance due to the parameter alone (RBD-FAST; ± its 95% "
        "interval)",
        "`S1` (RBD-FAST) is the first-order index: the share of the outcome's variance due to the "
        "parameter alone (0–1); ± `S1_conf`: half-width of its 95% interval.",
    ),
}


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
