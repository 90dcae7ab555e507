"""The causal bottleneck table of reseeded futures (evosim.analysis.replay)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.statistics import logrank_test

from evosim.analysis.replay import (
    CENSORED,
    EVENT,
    EXTINCT,
    causal_table,
    disagreements,
    future_outcome,
    futures_frame,
    newcombe,
)


def test_newcombe_reproduces_the_published_example():
    # Newcombe (1998), Stat Med 17:873, table II: 56/70 - 48/80, method 10: 0.0524 to 0.3339
    d, lo, hi = newcombe(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert lo == pytest.approx(0.0524, abs=5e-4)
    assert hi == pytest.approx(0.3339, abs=5e-4)


def test_a_future_is_technological_extinct_or_censored_within_the_horizon():
    row = {"technological_at": 7000.0, "extinct_at": math.nan, "end": 9000}
    assert future_outcome(row, 5000, 3000) == (EVENT, 2000.0)
    assert future_outcome(row, 5000, 1500) == (CENSORED, 1500.0)
    died = {"technological_at": math.nan, "extinct_at": 6000.0, "end": 6000}
    assert future_outcome(died, 5000, 3000) == (EXTINCT, 1000.0)
    alive = {"technological_at": math.nan, "extinct_at": math.nan, "end": 7000}
    assert future_outcome(alive, 5000, 3000) == (CENSORED, 2000.0)


def _futures() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for f in range(8):
        # the cetaceans: never technological without hands, always with them
        rows.append(
            {"clade": "cetacean", "relief": "none", "future": f, "event": CENSORED, "ticks": 4000}
        )
        rows.append(
            {
                "clade": "cetacean",
                "relief": "hands",
                "future": f,
                "event": EVENT,
                "ticks": float(1000 + 200 * f),
            }
        )
        rows.append(
            {"clade": "cetacean", "relief": "fire", "future": f, "event": CENSORED, "ticks": 4000}
        )
        # the primates: always get there; lifespan makes it sooner, fire changes nothing
        base = float(rng.integers(2500, 3900))
        rows.append(
            {"clade": "primate", "relief": "none", "future": f, "event": EVENT, "ticks": base}
        )
        rows.append(
            {
                "clade": "primate",
                "relief": "lifespan",
                "future": f,
                "event": EVENT,
                "ticks": float(1500 + 200 * f),
            }
        )
        rows.append(
            {
                "clade": "primate",
                "relief": "fire",
                "future": f,
                "event": EVENT,
                "ticks": float(rng.integers(2500, 3900)),
            }
        )
    return futures_frame(rows)


def test_the_table_tells_whether_from_when():
    t = causal_table(_futures(), labels={"cetacean": "land", "primate": "childhood"}).set_index(
        ["clade", "relief"]
    )
    assert t.loc[("cetacean", "hands"), "verdict"] == "bottleneck"
    assert t.loc[("cetacean", "hands"), "diff"] == pytest.approx(1.0)
    assert t.loc[("cetacean", "hands"), "diff_low"] > 0
    assert t.loc[("cetacean", "fire"), "verdict"] == "no effect detected"
    assert t.loc[("primate", "lifespan"), "verdict"] == "delay"
    assert t.loc[("primate", "lifespan"), "diff"] == pytest.approx(0.0)
    assert t.loc[("primate", "fire"), "verdict"] == "no effect detected"
    # the label "land" (a fire substitute would help) disagrees with the replay for the cetaceans
    bad = disagreements(t.reset_index())
    assert set(zip(bad["clade"], bad["relief"])) == {("cetacean", "hands"), ("cetacean", "fire")}


def test_the_hazard_ratio_and_logrank_are_lifelines_own():
    f = _futures()
    t = causal_table(f).set_index(["clade", "relief"])
    a = f[(f["clade"] == "primate") & (f["relief"] == "lifespan")]
    b = f[(f["clade"] == "primate") & (f["relief"] == "none")]
    lr = logrank_test(a["ticks"], b["ticks"], a["event"] == 1, b["event"] == 1)
    assert t.loc[("primate", "lifespan"), "logrank_p"] == pytest.approx(lr.p_value)
    df = pd.DataFrame({"d": np.r_[a["ticks"], b["ticks"]], "e": np.r_[a["event"], b["event"]],
                       "x": np.r_[np.ones(len(a)), np.zeros(len(b))]})  # fmt: skip
    cph = CoxPHFitter().fit(df, "d", "e")
    assert t.loc[("primate", "lifespan"), "hr"] == pytest.approx(
        float(cph.hazard_ratios_["x"]), rel=1e-6
    )


def test_a_clade_row_with_missing_ticks_reads_as_never():
    # clades() gives nullable integers: <NA> where the clade never became technological or died out
    row = pd.Series({"technological_at": pd.NA, "extinct_at": pd.NA, "end": 7000}, dtype="Int64")
    assert future_outcome(row, 5000, 3000) == (CENSORED, 2000.0)
