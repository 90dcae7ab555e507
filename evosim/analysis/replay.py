"""Replaying the tape: the causal bottleneck table of reseeded futures (docs/experiments.md).

A *future* is a run branched from a checkpoint with ``--reseed K``: the same
past, a fresh random stream. For one intelligent clade that is not yet
technological at the branch, M futures run with a *relief* (hands, a fire
substitute, wider gene bounds, ...) and M without (relief ``"none"``). Each
future gives one observation of the clade: whether it became technological
within the horizon H, and when (ticks after the branch; extinction competes,
a clade alive at H is censored).

Per clade and relief, :func:`causal_table` gives

- ``p_relief`` and ``p_none``: the share of futures technological within H;
- ``diff`` = ``p_relief - p_none`` with Newcombe's hybrid-score interval
  (from the two Wilson intervals of scipy's ``binomtest``; the futures of the
  two groups are independent given the shared past);
- ``logrank_p`` and the Cox hazard ratio ``hr`` (lifelines, via
  :func:`evosim.analysis.survival.compare` with one stratum) of the time to
  technology;
- the ``verdict``: ``bottleneck`` when the relief changes *whether* (the
  interval of ``diff`` lies above 0), ``delay`` when it changes only *when*
  (``diff``'s interval includes 0 but the log-rank test rejects equal
  curves at ``alpha``, or the hazard ratio's interval excludes 1),
  ``harmful`` when ``diff``'s interval lies below 0, else ``no effect
  detected``.

The futures share their past, so their spread is the variance of the future
given that past, not of history: a verdict is about this clade at this
moment, and says nothing of how often such a moment arises.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from evosim.analysis.survival import ALPHA, compare

#: the relief of the unrelieved futures
NONE = "none"
#: outcome codes of a future: 1 technological within the horizon, 2 extinct first, 0 censored
EVENT, EXTINCT, CENSORED = 1, 2, 0
FUTURE_COLUMNS = ["clade", "relief", "future", "event", "ticks"]
CAUSAL_COLUMNS = ["clade", "relief", "futures", "technological", "p_relief", "p_none", "diff",
                  "diff_low", "diff_high", "logrank_p", "hr", "hr_low", "hr_high", "verdict",
                  "label", "agrees"]  # fmt: skip
VERDICTS = ("bottleneck", "delay", "harmful", "no effect detected")


def future_outcome(
    clade_row: pd.Series | dict, branch_tick: int, horizon: int
) -> tuple[int, float]:
    """One future's observation of a clade, from its row of :func:`evosim.analysis.outcomes.clades`.

    Args:
        clade_row: the clade's row in the future's run (``technological_at``, ``extinct_at``,
            ``end``; NaN where it did not happen).
        branch_tick: the tick the future branched from.
        horizon: ticks after the branch that count (H).

    Returns:
        (event code, ticks after the branch): technological within H (``EVENT``), extinct first
        (``EXTINCT``), else censored at ``min(end - branch, H)``.
    """
    # clades() gives nullable integers (<NA>) where a clade never got there: NaN here
    tech, died, end = (
        math.nan if pd.isna(clade_row[k]) else float(clade_row[k])
        for k in ("technological_at", "extinct_at", "end")
    )
    if not math.isnan(tech) and tech - branch_tick <= horizon:
        return EVENT, tech - branch_tick
    if not math.isnan(died) and died - branch_tick <= horizon:
        return EXTINCT, died - branch_tick
    return CENSORED, float(min(end - branch_tick, horizon))


def wilson(k: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (scipy's ``binomtest``)."""
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=1 - alpha, method="wilson")
    return float(ci.low), float(ci.high)


def newcombe(
    k1: int, n1: int, k2: int, n2: int, alpha: float = ALPHA
) -> tuple[float, float, float]:
    """Difference of two independent proportions ``k1/n1 - k2/n2`` with Newcombe's hybrid-score interval.

    Newcombe (1998), method 10: the interval combines the two Wilson intervals,
    ``d - sqrt((p1 - l1)^2 + (u2 - p2)^2)`` to ``d + sqrt((u1 - p1)^2 + (p2 - l2)^2)``.
    """
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, alpha)
    l2, u2 = wilson(k2, n2, alpha)
    d = p1 - p2
    return (
        d,
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def verdict(diff_low: float, diff_high: float, logrank_p: float, hr_low: float, hr_high: float,
            alpha: float = ALPHA) -> str:  # fmt: skip
    """``bottleneck``, ``delay``, ``harmful`` or ``no effect detected`` (module doc)."""
    if diff_low > 0:
        return "bottleneck"
    if diff_high < 0:
        return "harmful"
    if (not math.isnan(logrank_p) and logrank_p < alpha) or (
        not math.isnan(hr_low) and (hr_low > 1 or hr_high < 1)
    ):
        return "delay"
    return "no effect detected"


#: which rule-based label (evosim.analysis.outcomes) names which relief as the bottleneck
LABEL_OF_RELIEF = {"hands": "dexterity", "fire": "land", "sociality": "sociality",
                   "childhood": "childhood", "lifespan": "lifespan",
                   "models": "diffusion"}  # fmt: skip


def causal_table(
    futures: pd.DataFrame, labels: dict[str, str] | None = None, alpha: float = ALPHA
) -> pd.DataFrame:
    """Per clade and relief, the effect of the relief on technology within the horizon (module doc).

    Args:
        futures: one row per future: ``clade``, ``relief`` (``"none"`` for the unrelieved ones),
            ``future`` (its reseed), ``event`` (1 technological, 2 extinct first, 0 censored) and
            ``ticks`` (after the branch).
        labels: per clade, the rule-based bottleneck label of the report, if any: the table says
            whether the replay agrees (``agrees``: the relief named by the label is a bottleneck,
            and no relief the label does not name is one).
        alpha: the tests' level.

    Returns:
        One row per (clade, relief other than ``"none"``), columns :data:`CAUSAL_COLUMNS`.
    """
    rows = []
    labels = labels or {}
    for clade, g in futures.groupby("clade", sort=True):
        base = g[g["relief"] == NONE]
        if not len(base):
            continue
        k0, n0 = int((base["event"] == EVENT).sum()), len(base)
        for relief, r in g[g["relief"] != NONE].groupby("relief", sort=True):
            k1, n1 = int((r["event"] == EVENT).sum()), len(r)
            d, lo, hi = newcombe(k1, n1, k0, n0, alpha)
            both = pd.concat([r.assign(arm=1), base.assign(arm=0)])
            both = both.assign(
                replicate=0
            )  # one stratum: the futures are independent given the past
            stats = {s[0]: s[2:] for s in compare(both[both["arm"] == 1], both[both["arm"] == 0])}
            lr = stats["logrank_p"][0]
            hr, hr_lo, hr_hi = stats["cox_hr"]
            v = verdict(lo, hi, lr, hr_lo, hr_hi, alpha)
            label = labels.get(str(clade), "")
            rows.append((clade, relief, n1, k1, k1 / n1, k0 / n0, d, lo, hi, lr, hr, hr_lo, hr_hi, v,
                         label, _agrees(str(relief), v, label)))  # fmt: skip
    return pd.DataFrame(rows, columns=CAUSAL_COLUMNS)


def _agrees(relief: str, v: str, label: str) -> bool | None:
    """Whether the rule-based ``label`` and the replay's verdict on ``relief`` say the same (None: no label)."""
    if not label:
        return None
    named = LABEL_OF_RELIEF.get(relief) == label
    return named == (v == "bottleneck")


def disagreements(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`causal_table` where the rule-based label and the replay disagree."""
    return table[table["agrees"].eq(False)]


def futures_frame(rows: Sequence[dict]) -> pd.DataFrame:
    """Futures as a frame with the columns :func:`causal_table` reads (and dtypes fixed)."""
    df = pd.DataFrame(list(rows), columns=FUTURE_COLUMNS)
    return df.astype({"clade": str, "relief": str, "future": np.int64, "event": np.int64,
                      "ticks": np.float64})  # fmt: skip
