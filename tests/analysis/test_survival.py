"""survival.csv against lifelines' own fitters on runs with known event and censoring times."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test
from lifelines.utils import restricted_mean_survival_time

from evosim.analysis.survival import AJ_SEED, compare, n_plateau, rmst_variance
from evosim.reports.outcomes import build_report, write_report
from tests.reports.test_outcomes import CETACEAN, PRIMATE, sp, write_run

HORIZON = 1000
FLOP_PER_TICK = 1e10
#: per arm and replicate: the primates' (intelligent, technological) ticks (None: never technological)
PRIMATES = {
    "control": [(100, 300), (110, 500), (120, 700), (130, None), (140, None), (150, 600)],
    "fast": [(100, 200), (110, 250), (120, None), (130, 400), (140, 150), (150, 350)],
}
#: per arm and replicate: the cetaceans' (intelligent, technological, extinct) ticks
CETACEANS = {
    "control": [(200, None, 600), (200, None, None), (300, None, 500), (250, None, None),
                (200, None, None), (220, None, 900)],
    "fast": [(200, 800, None), (200, None, None), (300, None, 500), (250, 900, None),
             (200, None, 700), (220, 500, None)],
}  # fmt: skip
#: the world of replicate 4 dies out at tick 800 in the control (known never to become technological)
EXTINCT_WORLD = ("control", 4, 800)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("surv") / "exp"
    runs = []
    for arm in PRIMATES:
        for k in range(6):
            (pi, pt), (ci, ct, cx) = PRIMATES[arm][k], CETACEANS[arm][k]
            ticks, ended = HORIZON, "completed"
            px = None
            if (arm, k) == EXTINCT_WORLD[:2]:
                ticks, ended, px, cx = (
                    EXTINCT_WORLD[2],
                    "extinct",
                    EXTINCT_WORLD[2],
                    EXTINCT_WORLD[2],
                )
            species = [
                sp("primate", PRIMATE, pi, pt, 5 if pt else 0, extinct=px),
                sp("cetacean", CETACEAN, ci, ct, 5 if ct else 0, extinct=cx),
            ]
            write_run(root / arm / f"rep-{k}", species, seed=100 + k, ticks=ticks, ended=ended,
                      horizon=HORIZON, flop_per_tick=FLOP_PER_TICK)  # fmt: skip
            runs.append({"arm": arm, "replicate": k, "seed": 100 + k, "folder": f"{arm}/rep-{k}"})
    manifest = {
        "name": "surv",
        "control": "control",
        "arms": [{"name": a} for a in PRIMATES],
        "runs": runs,
    }
    (root / "experiment.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def survival_csv(experiment) -> pd.DataFrame:
    rep = build_report(experiment, n_boot=50)
    write_report(rep, experiment / "report", plots=False)
    return pd.read_csv(experiment / "report" / "survival.csv")


def first_tech(arm: str) -> tuple[np.ndarray, np.ndarray]:
    """Known (ticks, observed) of the first technological species per replicate, written by hand."""
    d, e = [], []
    for k in range(6):
        ticks = [t for t in (PRIMATES[arm][k][1], CETACEANS[arm][k][1]) if t is not None]
        if ticks:
            d.append(min(ticks))
            e.append(1)
        else:  # censored at the end; an extinct world at the horizon (it never gets there)
            d.append(HORIZON)
            e.append(0)
    return np.array(d, float), np.array(e, int)


def cetacean_clades(arm: str) -> tuple[np.ndarray, np.ndarray]:
    """Known (duration since intelligence, event: 1 tech, 2 extinct, 0 censored) of the cetacean clades."""
    d, e = [], []
    for k, (ci, ct, cx) in enumerate(CETACEANS[arm]):
        if (arm, k) == EXTINCT_WORLD[:2]:
            cx = EXTINCT_WORLD[2]
        if ct is not None:
            d.append(ct - ci), e.append(1)
        elif cx is not None:
            d.append(cx - ci), e.append(2)
        else:
            d.append(HORIZON - ci), e.append(0)
    return np.array(d, float), np.array(e, int)


def get(table: pd.DataFrame, analysis: str, arm: str, statistic: str, clade: str = "", horizon=None,
        col: str = "value") -> float:  # fmt: skip
    t = table[(table["analysis"] == analysis) & (table["arm"] == arm) & (table["statistic"] == statistic)
              & (table["clade"].fillna("") == clade)]  # fmt: skip
    if horizon is not None:
        t = t[np.isclose(t["horizon"], horizon)]
    assert len(t) == 1, (analysis, arm, statistic, clade, horizon)
    return float(t[col].iloc[0])


def test_the_rmst_variance_is_the_estimators_as_survrm2_gives_it():
    """lifelines' waltons data, group miR-137, horizon 10: survRM2::rmst2 gives RMST 9.794 with
    standard error 0.123 (variance 0.0151; lifelines issue 1682). lifelines' own `return_variance`
    gives 0.516, the variance of the truncated time, 34 times larger."""
    from lifelines.datasets import load_waltons

    df = load_waltons()
    g = df[df["group"] == "miR-137"]
    kmf = KaplanMeierFitter().fit(g["T"], g["E"])
    assert restricted_mean_survival_time(kmf, t=10) == pytest.approx(9.794, abs=5e-4)
    assert math.sqrt(rmst_variance(kmf, 10)) == pytest.approx(0.123, abs=5e-4)
    # no events before the horizon: no uncertainty; everyone at risk dies at once: no term
    assert rmst_variance(KaplanMeierFitter().fit([5.0, 6.0], [1, 1]), 4.0) == 0.0
    assert rmst_variance(KaplanMeierFitter().fit([5.0, 5.0], [1, 1]), 8.0) == 0.0


def test_kaplan_meier_of_the_first_technological_species(survival_csv):
    for arm in PRIMATES:
        d, e = first_tech(arm)
        kmf = KaplanMeierFitter().fit(d, e)
        a = "first_technological_ticks"
        assert get(survival_csv, a, arm, "n") == 6
        assert get(survival_csv, a, arm, "events") == e.sum()
        assert get(survival_csv, a, arm, "censored_share") == pytest.approx((e == 0).mean())
        assert get(survival_csv, a, arm, "median") == pytest.approx(kmf.median_survival_time_)
        for h in (HORIZON / 2, HORIZON):
            mean = restricted_mean_survival_time(kmf, t=h)
            half = 1.959963984540054 * math.sqrt(rmst_variance(kmf, h))
            assert get(survival_csv, a, arm, "rmst", horizon=h) == pytest.approx(mean)
            assert get(survival_csv, a, arm, "rmst", horizon=h, col="ci_high") == pytest.approx(
                min(mean + half, h)
            )
            assert get(survival_csv, a, arm, "rmst", horizon=h, col="ci_low") == pytest.approx(
                max(mean - half, 0.0)
            )
            assert get(survival_csv, a, arm, "share_with_event", horizon=h) == pytest.approx(
                1 - float(kmf.survival_function_at_times(h).iloc[0])
            )
        # the FLOP analysis: the same events, each at ticks x FLOP per tick (censored: total compute)
        flop_d = np.where(e == 1, d * FLOP_PER_TICK, np.nan)
        runs_end = [
            EXTINCT_WORLD[2] if (arm, k) == EXTINCT_WORLD[:2] else HORIZON for k in range(6)
        ]
        flop_d = np.where(e == 1, flop_d, np.array(runs_end) * FLOP_PER_TICK)
        kmf_f = KaplanMeierFitter().fit(flop_d, e)
        assert get(survival_csv, "first_technological_flop", arm, "median") == pytest.approx(
            kmf_f.median_survival_time_
        )
    # by hand: the control's events at 300, 500, 600, 700 of 6 (its extinct world censored at the
    # horizon): S falls to 1/2 at 600 and below it at 700, lifelines' median
    assert get(survival_csv, "first_technological_ticks", "control", "median") == 700


def test_aalen_johansen_per_clade_with_extinction_competing(survival_csv):
    for arm in PRIMATES:
        d, e = cetacean_clades(arm)
        a = "clade_intelligent_to_technological"
        assert get(survival_csv, a, arm, "n", "cetacean") == 6
        assert get(survival_csv, a, arm, "extinct", "cetacean") == (e == 2).sum()
        ajf = AalenJohansenFitter(seed=AJ_SEED).fit(d, e, event_of_interest=1)
        for h in (HORIZON / 2, HORIZON):
            want = float(ajf.cumulative_density_.loc[:h].iloc[-1, 0])
            assert get(survival_csv, a, arm, "incidence", "cetacean", h) == pytest.approx(want)
    # by hand: the fast cetaceans, 3 of 6 technological, none censored before their event
    assert get(survival_csv, "clade_intelligent_to_technological", "fast", "incidence", "cetacean",
               HORIZON) == pytest.approx(0.5)  # fmt: skip
    assert get(survival_csv, "clade_intelligent_to_technological", "control", "incidence", "cetacean",
               HORIZON) == 0  # fmt: skip


def test_logrank_and_cox_stratified_by_replicate(survival_csv):
    dc, ec = first_tech("control")
    df, ef = first_tech("fast")
    lr = logrank_test(df, dc, ef, ec)
    assert get(survival_csv, "first_technological_ticks", "fast", "logrank_p") == pytest.approx(
        lr.p_value
    )
    data = pd.DataFrame({"duration": np.r_[df, dc], "event": np.r_[ef, ec], "treated": np.r_[np.ones(6), np.zeros(6)],
                         "replicate": np.r_[range(6), range(6)]})  # fmt: skip
    cph = CoxPHFitter().fit(data, "duration", "event", strata=["replicate"])
    row = cph.summary.loc["treated"]
    assert get(survival_csv, "first_technological_ticks", "fast", "cox_hr") == pytest.approx(
        row["exp(coef)"]
    )
    assert get(
        survival_csv, "first_technological_ticks", "fast", "cox_hr", col="ci_low"
    ) == pytest.approx(row["exp(coef) lower 95%"])
    assert get(survival_csv, "first_technological_ticks", "fast", "cox_p") == pytest.approx(
        row["p"]
    )
    assert (
        get(survival_csv, "first_technological_ticks", "fast", "cox_hr") > 1
    )  # the fast arm: sooner
    # the control is not compared with itself
    t = survival_csv
    assert not len(t[(t["arm"] == "control") & (t["statistic"] == "cox_hr")])


def test_summary_states_censoring_and_warns(experiment, survival_csv):
    text = (experiment / "report" / "summary.md").read_text(encoding="utf-8")
    assert "**Censored share**" in text and "`control` 33%" in text and "`fast` 17%" in text
    # two samples per species: no lineage can be judged settled; but the alive cetaceans fail the
    # dexterity gate (gates first: held, not still climbing), which leaves 1 of 12 clades climbing
    # per arm, under the warning's 10 %
    assert "Warning: the horizon cuts the climb" not in text
    assert "`control`: 2 of 12 intelligent clades, held by dexterity (2)" in text
    climbing = "| intelligent clades still climbing at the horizon (alive, not technological, not settled) |"
    assert climbing + " 1 of 12 | 1 of 12 |" in text


def test_plots_are_written(experiment, tmp_path):
    rep = build_report(experiment, n_boot=20)
    files = write_report(rep, tmp_path / "rep")
    names = {f.name for f in files}
    assert {"survival.png", "clade_incidence.png", "survival.csv"} <= names
    assert (tmp_path / "rep" / "survival.png").stat().st_size > 10_000


def test_n_by_tick_from_the_clades(experiment):
    rep = build_report(experiment, n_boot=200)
    nt = rep.n_by_tick.set_index(["arm", "tick"])
    # by hand from PRIMATES and CETACEANS: control by 1000: 12 intelligent clades, 4 technological
    assert nt.loc[("control", 1000), "n"] == pytest.approx(3)
    assert nt.loc[("control", 500), "n"] == pytest.approx(6)  # technological by 500: at 300 and 500
    assert nt.loc[("control", 250), "intelligent"] == pytest.approx(11 / 6)  # one cetacean at 300
    assert nt.loc[("control", 250), "n"] == math.inf  # none technological yet
    assert nt.loc[("fast", 1000), "n"] == pytest.approx(12 / 8)
    assert nt.loc[("fast", 1000), "n_low"] <= 1.5 <= nt.loc[("fast", 1000), "n_high"]
    res = rep.results_with_n_by_tick()
    rows = res[(res["metric"] == "n_clades_by_tick") & (res["arm"] == "fast")]
    assert len(rows) == 101 and rows["tick"].iloc[-1] == HORIZON
    assert rows["value"].iloc[-1] == pytest.approx(1.5)
    # the control's counts are flat from its last event at 700 (<= 3/4 of the horizon), the fast arm's
    # move at 900; with two samples per lineage none is judged settled, but the alive cetaceans are
    # held by the dexterity gate (not still climbing), so 1 of 12 control clades climbs (<= 10 %)
    assert n_plateau(rep.clades, "control", HORIZON) == 700 and math.isnan(
        n_plateau(rep.clades, "fast", HORIZON)
    )
    assert rep.n_plateau["control"] == 700
    text = rep.markdown
    assert text.index("**n = intelligent ÷ technological clades**") < text.index(
        "## The seed's quantity"
    )
    assert "`control`: **n at the plateau 3** (settled from tick 700)" in text
    assert "`fast`: no plateau within the horizon (the counts still move)" in text


def test_n_plateau_needs_a_flat_last_quarter():
    def clades(tech_ticks):
        return pd.DataFrame({"arm": "a", "replicate": range(len(tech_ticks)), "clade": "primate", "counted": True,
                             "intelligent_at": 100.0, "technological_at": tech_ticks})  # fmt: skip

    # 10 replicates: one late event moves the share by 0.1, more than the tolerance
    early = [float(200 + 10 * k) for k in range(9)]
    assert n_plateau(clades(early + [np.nan]), "a", 1000) == pytest.approx(280)
    assert math.isnan(n_plateau(clades(early + [900.0]), "a", 1000))
    assert n_plateau(clades(early + [700.0]), "a", 1000) == pytest.approx(700)


def test_n_plateau_counts_the_arm_totals_when_founders_are_drawn():
    # a tree of life: 48 replicates, 8 founder names, one technological clade per name at most;
    # no name's share moves by more than 1/48 after tick 300, but a fifth of the technological
    # clades arrive at 850: the counts are not flat
    names = [f"founder{k % 8}" for k in range(48)]
    tech = [np.nan] * 48
    for k, t in zip((0, 1, 2, 3, 4), (200.0, 250.0, 300.0, 300.0, 850.0)):
        tech[k] = t
    df = pd.DataFrame({"arm": "a", "replicate": range(48), "clade": names, "counted": True,
                       "intelligent_at": 100.0, "technological_at": tech})  # fmt: skip
    assert math.isnan(n_plateau(df, "a", 1000))
    df.loc[4, "technological_at"] = 600.0  # the last one by three quarters of the horizon
    assert n_plateau(df, "a", 1000) == pytest.approx(600)


def test_cox_ratio_is_not_estimable_when_every_stratum_orders_the_arms():
    # within each replicate the arm's event comes first: the partial likelihood rises without
    # bound, lifelines stops at ~1e7 with a Wald interval [0, inf]; the ratio is its limit, no interval
    arm = pd.DataFrame({"ticks": [100.0, 200, 300], "event": [1, 1, 1], "replicate": [0, 1, 2]})
    ctl = pd.DataFrame({"ticks": [150.0, 1000, 1000], "event": [1, 0, 0], "replicate": [0, 1, 2]})
    stats = {s[0]: s[2:] for s in compare(arm, ctl)}
    assert stats["cox_hr"][0] == math.inf and math.isnan(stats["cox_p"][0])
    assert math.isnan(stats["cox_hr"][1]) and math.isnan(stats["cox_hr"][2])
    assert 0 < stats["logrank_p"][0] < 1  # the log-rank test still answers
    assert {s[0]: s[2:] for s in compare(ctl, arm)}["cox_hr"][0] == 0.0  # the other way: later
    # one replicate the other way round: a finite estimate again
    ctl2 = pd.DataFrame({"ticks": [150.0, 100, 1000], "event": [1, 1, 0], "replicate": [0, 1, 2]})
    hr, lo, hi = {s[0]: s[2:] for s in compare(arm, ctl2)}["cox_hr"]
    assert 0 < lo < hr < hi < math.inf
