"""The sweep report's time-to-event outcomes: against lifelines, and the grid table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from evosim.reports.sensitivity import grid_tables, survival_outcomes
from evosim.reports.sensitivity_data import SweepReport

TECH = [300.0, np.nan, 500.0, 800.0, np.nan, 200.0]


def runs(tech: list[float], horizon: int = 1000) -> pd.DataFrame:
    return pd.DataFrame({
        "arm": "control", "replicate": range(len(tech)), "ended": "completed", "horizon": horizon,
        "ticks_run": horizon, "first_technological_tick": tech,
        "first_technological_flop": [t * 1e9 for t in tech], "flop_total": horizon * 1e9,
    })  # fmt: skip


def test_survival_outcomes_are_lifelines_kaplan_meier():
    got = survival_outcomes(runs(TECH))
    d = np.where(np.isnan(TECH), 1000.0, TECH)
    kmf = KaplanMeierFitter().fit(d, ~np.isnan(TECH))
    assert got["km_median_ticks_to_technological"] == pytest.approx(kmf.median_survival_time_)
    assert got["rmst_ticks_to_technological"] == pytest.approx(
        restricted_mean_survival_time(kmf, t=1000)
    )
    assert got["km_share_technological"] == pytest.approx(4 / 6)
    none = survival_outcomes(runs([np.nan] * 3))
    assert (
        math.isinf(none["km_median_ticks_to_technological"]) and none["km_share_technological"] == 0
    )


def test_a_two_parameter_grid_gets_a_table_per_arm():
    names = ["technology.ladder.metallurgy.threshold", "technology.ladder.metallurgy.min_dexterity"]
    rows = []
    for i, (a, b) in enumerate([(a, b) for a in (15.0, 16.0) for b in (0.5, 0.6)]):
        rows.append({"sample": i, "arm": "control", names[0]: a, names[1]: b, "replicates": 4,
                     "km_median_ticks_to_technological": math.inf if a == 16.0 else 9000.0 + 1000 * b,
                     "technological_share_settled": 0.0 if a == 16.0 else 1.0, "climbing_share": 0.25})  # fmt: skip
    design = {"sampler": "grid", "problem": {"names": names}}
    rep = SweepReport(Path("."), "scan", ["control"], "control", design, pd.DataFrame(), pd.DataFrame(rows),
                      pd.DataFrame(), pd.DataFrame(), [])  # fmt: skip
    text = "\n".join(grid_tables(rep))
    assert "| 15 | 9500 / 100% / 25% | 9600 / 100% / 25% |" in text
    assert "| 16 | not reached / 0% / 25% | not reached / 0% / 25% |" in text
    rep.design = {**design, "sampler": "morris"}
    assert grid_tables(rep) == []
