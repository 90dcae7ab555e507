"""Has a lineage settled? A plateau detector on its sampled skill and holder-share series.

Technology is a time-to-event (docs/experiments.md, "Reading the answer"): an
intelligent lineage that is not technological when a run ends is either still
climbing (censored: given time it may get there) or settled below the last
rung (a real outcome). This module tells them apart from the run's logs.

**The test** (:func:`settled`). Take the lineage's samples in the last
``window`` share of the run's horizon (timeseries.csv; for a clade, its species
summed at each sampled tick: mean skill weighted by population, holder share =
adults holding the final milestone ÷ adults, the technology detector's share).
Fit a least-squares line to each series over that window. A series *trends*
when its slope is significantly different from zero (two-sided t-test, p <
``alpha``) **and** the line's change over the window is larger than the
tolerance: ``skill_tolerance`` × the last rung's threshold for mean skill,
``share_tolerance`` for the holder share. The lineage is *settled* when
neither series trends; *climbing* when either does. The tolerance keeps a
slope that is statistically significant only because thousands of samples
are tight from counting as a climb; the test keeps noise from counting as one.
A lineage with fewer than ``min_samples`` samples in the window, or with no
members at the run's last sample, is not judged (``status`` ``short`` or
``extinct``).

Defaults (:class:`PlateauRule`): the last quarter of the horizon, p < 0.05,
5 % of the last rung's threshold, 0.05 of holder share, at least 5 samples.
They are conventions of the reading, not model parameters: ``evosim report``
states them in its summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: plateau statuses (``status`` of :func:`settled`)
STATUSES = ("technological", "settled", "climbing", "extinct", "short")


@dataclass(frozen=True)
class PlateauRule:
    """Conventions of the plateau detector (module doc).

    Attributes:
        window: share of the run's horizon, counted back from its last sample, that the test reads.
        alpha: significance level of the slope's two-sided t-test.
        skill_tolerance: largest change of mean skill over the window, as a share of the last
            rung's threshold, that still counts as flat.
        share_tolerance: largest change of the final milestone's holder share over the window
            that still counts as flat.
        min_samples: fewest samples in the window for a judgement.
    """

    window: float = 0.25
    alpha: float = 0.05
    skill_tolerance: float = 0.05
    share_tolerance: float = 0.05
    min_samples: int = 5

    def describe(self) -> str:
        """One sentence stating the rule, for report summaries."""
        return (
            f"a lineage is settled when, over the last {self.window:.0%} of the horizon, neither its "
            f"mean skill nor its holder share of the last rung has a linear trend that is both "
            f"significant (p < {self.alpha:g}) and larger than {self.skill_tolerance:.0%} of the last "
            f"rung's threshold (skill) or {self.share_tolerance:g} (share) over the window"
        )


def _trend(t: np.ndarray, y: np.ndarray, alpha: float, tolerance: float) -> tuple[float, bool]:
    """(fitted change over the span of ``t``, whether it is a trend) of series ``y``."""
    ok = ~np.isnan(y)
    t, y = t[ok], y[ok]
    if len(t) < 3 or np.ptp(t) == 0:
        return math.nan, False
    if np.ptp(y) == 0:  # a flat line: no trend (linregress would divide by zero)
        return 0.0, False
    fit = stats.linregress(t, y)
    change = float(fit.slope * np.ptp(t))
    return change, bool(fit.pvalue < alpha and abs(change) > tolerance)


def settled(
    series: pd.DataFrame, horizon: int, last_threshold: float, rule: PlateauRule = PlateauRule()
) -> dict[str, float | str]:
    """Judge one lineage's series (module doc).

    Args:
        series: one row per sampled tick, columns ``tick``, ``population``, ``mean_skill``
            and ``holder_share`` (NaN where it had no adults).
        horizon: the run's horizon; the window is its last ``rule.window`` share, back from the
            last sampled tick.
        last_threshold: the final milestone's skill threshold (scales the skill tolerance).
        rule: the detector's conventions.

    Returns:
        ``status`` (settled, climbing, extinct or short), ``skill`` and ``share`` (means over the
        window), ``skill_change`` and ``share_change`` (fitted change over the window).
    """
    s = series.sort_values("tick")
    out: dict[str, float | str] = {"status": "short", "skill": math.nan, "share": math.nan,
                                   "skill_change": math.nan, "share_change": math.nan}  # fmt: skip
    if not len(s):
        return out
    if s["population"].iloc[-1] <= 0:
        out["status"] = "extinct"
        return out
    end = float(s["tick"].iloc[-1])
    w = s[s["tick"] >= end - rule.window * horizon]
    w = w[w["population"] > 0]
    if len(w) < rule.min_samples:
        return out
    t = w["tick"].to_numpy(np.float64)
    skill = w["mean_skill"].to_numpy(np.float64)
    share = w["holder_share"].to_numpy(np.float64)
    dk, tk = _trend(t, skill, rule.alpha, rule.skill_tolerance * last_threshold)
    ds, ts = _trend(t, share, rule.alpha, rule.share_tolerance)
    out.update(
        status="climbing" if (tk or ts) else "settled",
        skill=float(np.nanmean(skill)) if (~np.isnan(skill)).any() else math.nan,
        share=float(np.nanmean(share)) if (~np.isnan(share)).any() else math.nan,
        skill_change=dk,
        share_change=ds,
    )
    return out


def species_series(ts: pd.DataFrame, ids: set[int] | list[int]) -> pd.DataFrame:
    """The summed series (one row per sampled tick) of a set of species, for :func:`settled`.

    ``ts``: a run's timeseries.csv. Population is summed; mean skill is weighted by population;
    holder share is adults holding the final milestone ÷ adults (``adults_final`` / ``adults``).
    """
    cols = ["tick", "population", "mean_skill", "holder_share"]
    rows = ts[ts["species"].isin(list(ids))]
    if not len(rows):
        return pd.DataFrame(columns=cols)
    pop = rows["population"].astype(float)
    g = (
        rows.assign(_w=rows["mean_skill"].fillna(0.0) * pop, _p=pop)
        .groupby("tick")[["_w", "_p", "adults", "adults_final"]]
        .sum()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame(
            {
                "tick": g.index.to_numpy(),
                "population": g["_p"].to_numpy(),
                "mean_skill": np.where(g["_p"] > 0, g["_w"] / g["_p"], np.nan),
                "holder_share": np.where(
                    g["adults"] > 0, g["adults_final"] / g["adults"].where(g["adults"] > 0), np.nan
                ),
            }
        )
    return out.reset_index(drop=True)


def judge(
    ts: pd.DataFrame,
    ids: set[int] | list[int],
    horizon: int,
    last_threshold: float,
    technological: bool,
    rule: PlateauRule = PlateauRule(),
) -> dict[str, float | str]:
    """:func:`settled` on the summed series of species ``ids``; ``status`` technological if ``technological``.

    A technological lineage still gets its window means (``skill``, ``share``): they are the
    technological plateau the others are compared with.
    """
    if not len(ts):
        return settled(pd.DataFrame(columns=["tick"]), horizon, last_threshold, rule)
    out = settled(species_series(ts, ids), horizon, last_threshold, rule)
    if technological:
        out["status"] = "technological"
    return out
