"""Whether or when: the verdict per intervention and clade, from its two tests."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evosim.analysis.replay import newcombe
from evosim.analysis.survival import clade_times, compare
from evosim.analysis.whether import WHETHER_COLUMNS, whether_or_when


def clades(arm: str, clade: str, tech_after: list[float | None], end: float = 30_000.0,
           intelligent_at: float = 3_000.0) -> pd.DataFrame:  # fmt: skip
    """clades.csv rows: one per replicate; technological ``tech_after`` ticks after intelligence
    (None: alive and not technological at the end)."""
    return pd.DataFrame(
        {
            "arm": arm,
            "replicate": np.arange(len(tech_after)),
            "clade": clade,
            "counted": True,
            "intelligent_at": intelligent_at,
            "technological_at": [math.nan if t is None else intelligent_at + t for t in tech_after],
            "extinct_at": math.nan,
            "end": end,
        }
    )


rng = np.random.default_rng(3)
SLOW = list(rng.uniform(6_000, 12_000, 12))
TABLE = pd.concat(
    [
        clades("control", "ape", SLOW),
        clades("control", "whale", [None] * 12),
        clades("hands", "ape", list(rng.uniform(500, 2_500, 12))),  # sooner, not more
        clades("hands", "whale", list(rng.uniform(4_000, 9_000, 12))),  # now they get there
        clades("same", "ape", list(np.array(SLOW) + rng.normal(0, 50, 12))),
        clades("same", "whale", [None] * 11 + [20_000.0]),  # one of 12: not enough to say
    ],
    ignore_index=True,
)


def test_each_intervention_and_clade_gets_its_verdict():
    got = whether_or_when(TABLE, ["control", "hands", "same"], "control")
    assert list(got.columns) == WHETHER_COLUMNS
    v = {(r["arm"], r["clade"]): r["verdict"] for _, r in got.iterrows()}
    assert v == {
        ("hands", "ape"): "changes when (sooner)",
        ("hands", "whale"): "changes whether (more)",
        ("same", "ape"): "no effect detected",
        ("same", "whale"): "no effect detected",
    }


def test_the_figures_are_newcombes_and_the_stratified_coxs():
    got = whether_or_when(TABLE, ["control", "hands"], "control").set_index(["arm", "clade"])
    row = got.loc[("hands", "whale")]
    assert (row["technological"], row["intelligent"]) == (12, 12)
    assert (row["control_technological"], row["control_intelligent"]) == (0, 12)
    assert (row["diff"], row["diff_low"], row["diff_high"]) == pytest.approx(
        newcombe(12, 12, 0, 12)
    )
    ct = clade_times(TABLE)
    ape = {s[0]: s[2:] for s in compare(ct[(ct.arm == "hands") & (ct.clade == "ape")],
                                        ct[(ct.arm == "control") & (ct.clade == "ape")], "duration")}  # fmt: skip
    r = got.loc[("hands", "ape")]
    assert r["hr"] == pytest.approx(ape["cox_hr"][0]) and r["hr"] > 1
    assert r["logrank_p"] == pytest.approx(ape["logrank_p"][0]) and r["logrank_p"] < 0.05
    assert r["diff"] == 0.0 and r["diff_low"] < 0 < r["diff_high"]


def test_a_clade_the_control_never_made_intelligent_is_left_out():
    t = pd.concat([clades("control", "ape", SLOW), clades("hands", "squid", [1_000.0] * 3)])
    assert whether_or_when(t, ["control", "hands"], "control").empty
