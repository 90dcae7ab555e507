"""The plateau detector: settled, climbing, extinct and too short on series with known trends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evosim.analysis.plateau import PlateauRule, judge, settled, species_series

HORIZON = 10_000
LAST = 16.0  # the last rung's threshold


def series(skill, share, ticks=None, population=1000) -> pd.DataFrame:
    ticks = np.arange(0, HORIZON + 1, 100) if ticks is None else ticks
    return pd.DataFrame({"tick": ticks, "population": population, "mean_skill": skill(ticks),
                         "holder_share": share(ticks)})  # fmt: skip


def noise(seed: int, scale: float):
    rng = np.random.default_rng(seed)
    return lambda t: rng.normal(0, scale, len(t))


def test_a_flat_noisy_series_is_settled():
    n1, n2 = noise(1, 0.3), noise(2, 0.02)
    out = settled(series(lambda t: 12 + n1(t), lambda t: 0.01 + n2(t)), HORIZON, LAST)
    assert out["status"] == "settled"
    assert out["skill"] == pytest.approx(12, abs=0.2) and out["share"] == pytest.approx(
        0.01, abs=0.02
    )


def test_a_rising_skill_or_share_is_climbing():
    n1 = noise(3, 0.3)
    rising_skill = series(lambda t: 8 + t / 1000 + n1(t), lambda t: 0 * t)
    assert settled(rising_skill, HORIZON, LAST)["status"] == "climbing"
    rising_share = series(lambda t: 16 + 0 * t, lambda t: t / 20_000)  # +0.125 over the window
    out = settled(rising_share, HORIZON, LAST)
    assert out["status"] == "climbing" and out["share_change"] == pytest.approx(0.125, rel=0.05)


def test_a_significant_but_tiny_trend_is_settled():
    # +0.2 skill over the window (< 5% of 16 = 0.8), tight samples: significant, below the tolerance
    tiny = series(lambda t: 12 + t / 12_500, lambda t: 0.8 + 0 * t)
    out = settled(tiny, HORIZON, LAST)
    assert out["status"] == "settled" and 0 < out["skill_change"] < 0.8
    # the same climb is a trend under a stricter tolerance
    assert settled(tiny, HORIZON, LAST, PlateauRule(skill_tolerance=0.001))["status"] == "climbing"


def test_extinct_and_short_series_are_not_judged():
    dead = series(lambda t: 10 + 0 * t, lambda t: 0 * t).assign(
        population=lambda d: np.where(d.tick < 9000, 50, 0)
    )
    assert settled(dead, HORIZON, LAST)["status"] == "extinct"
    few = series(lambda t: 10 + 0 * t, lambda t: 0 * t, ticks=np.array([0, 9000, 10_000]))
    assert settled(few, HORIZON, LAST)["status"] == "short"


def test_clade_series_sums_species_and_judge_marks_technological():
    ticks = np.arange(0, HORIZON + 1, 100)
    ts = pd.concat([
        pd.DataFrame({"tick": ticks, "species": 1, "population": 300, "mean_skill": 10.0, "adults": 200,
                      "adults_final": 20}),
        pd.DataFrame({"tick": ticks, "species": 2, "population": 100, "mean_skill": 14.0, "adults": 50,
                      "adults_final": 30}),
        pd.DataFrame({"tick": ticks, "species": 3, "population": 999, "mean_skill": 0.0, "adults": 9,
                      "adults_final": 0}),
    ])  # fmt: skip
    s = species_series(ts, {1, 2})
    assert s["population"].iloc[0] == 400
    assert s["mean_skill"].iloc[0] == pytest.approx((300 * 10 + 100 * 14) / 400)
    assert s["holder_share"].iloc[0] == pytest.approx(50 / 250)
    assert judge(ts, {1, 2}, HORIZON, LAST, technological=False)["status"] == "settled"
    assert judge(ts, {1, 2}, HORIZON, LAST, technological=True)["status"] == "technological"
