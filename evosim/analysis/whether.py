"""Whether or when: does an intervention change *whether* a clade becomes technological, or only *when*?

Per experiment arm (against the control) and founding clade, over the replicates
in which the clade became intelligent (:func:`evosim.analysis.survival.clade_times`):

- **whether**: the share of those clades technological by the end of the run,
  arm minus control, with Newcombe's 95 % interval for a difference of two
  independent proportions (:func:`evosim.analysis.replay.newcombe`; the arms
  share their replicate seeds, so treating them as independent is conservative);
- **when**: the log-rank test and the Cox hazard ratio of the time from
  intelligence to technology, stratified by replicate seed
  (:func:`evosim.analysis.survival.compare`; > 1: sooner with the intervention).

The verdict is the replay's rule (:func:`evosim.analysis.replay.verdict`) in words:
``changes whether (more)`` when the interval of the difference lies above 0,
``changes whether (fewer)`` below it, else ``changes when (sooner)`` / ``(later)``
when the log-rank test or the hazard ratio's interval says so, else ``no effect
detected``. "Whether" is read at the horizon: it answers the question only where
the horizon lies at the plateau (the report's censoring warning says where not).
"""

from __future__ import annotations

import math

import pandas as pd

from evosim.analysis.replay import newcombe, verdict
from evosim.analysis.survival import ALPHA, clade_times, compare

WHETHER_COLUMNS = [
    "arm", "clade", "intelligent", "technological", "control_intelligent", "control_technological",
    "diff", "diff_low", "diff_high", "logrank_p", "hr", "hr_low", "hr_high", "verdict",
]  # fmt: skip


def _words(v: str, hr: float) -> str:
    if v == "bottleneck":
        return "changes whether (more)"
    if v == "harmful":
        return "changes whether (fewer)"
    if v == "delay":
        if math.isnan(hr):
            return "changes when"
        return "changes when (sooner)" if hr > 1 else "changes when (later)"
    return v


def whether_or_when(
    clades: pd.DataFrame, arms: list[str], control: str, alpha: float = ALPHA
) -> pd.DataFrame:
    """One row per (arm other than the control, founding clade intelligent in both): the module's
    figures and verdict (columns :data:`WHETHER_COLUMNS`).

    Args:
        clades: clades.csv rows of the experiment (:func:`evosim.analysis.outcomes.clades`).
        arms, control: the experiment's arms and its control arm.
        alpha: the tests' level.
    """
    ct = clade_times(clades)
    rows = []
    for name in pd.unique(ct["clade"]):
        base = ct[(ct["clade"] == name) & (ct["arm"] == control)]
        if not len(base):
            continue
        k0, n0 = int((base["event"] == 1).sum()), len(base)
        for arm in arms:
            c = ct[(ct["clade"] == name) & (ct["arm"] == arm)]
            if arm == control or not len(c):
                continue
            k1, n1 = int((c["event"] == 1).sum()), len(c)
            d, lo, hi = newcombe(k1, n1, k0, n0, alpha)
            stats = {s[0]: s[2:] for s in compare(c, base, "duration")}
            lr = stats["logrank_p"][0]
            hr, hr_lo, hr_hi = stats["cox_hr"]
            v = _words(verdict(lo, hi, lr, hr_lo, hr_hi, alpha), hr)
            rows.append((arm, str(name), n1, k1, n0, k0, d, lo, hi, lr, hr, hr_lo, hr_hi, v))
    return pd.DataFrame(rows, columns=WHETHER_COLUMNS)
