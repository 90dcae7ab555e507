"""Which traits predict technology: the Cox fits against lifelines itself, n, and lineages of a real run."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from evosim.analysis import traits
from evosim.config.load import load_world
from evosim.io.logs import load_run
from evosim.io.runner import run


def synthetic(n: int = 400, beta: float = 0.3, seed: int = 1, arms: int = 1) -> pd.DataFrame:
    """Lineages whose hazard of technology is exp(beta * x / 0.1) (x in [0, 1]), censored at random."""
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    noise = rng.random(n)  # a covariate with no effect
    arm = rng.integers(0, arms, n)
    base = np.where(arm == 1, 3.0, 1.0) / 1000.0  # a second arm doubles... triples the baseline
    t = rng.exponential(1.0 / (base * np.exp(beta * x / traits.PER)))
    c = rng.uniform(0, 3000, n)
    return pd.DataFrame({"arm": [f"a{k}" for k in arm], "replicate": np.arange(n) % 24,
                         "duration": np.minimum(t, c), "event": (t <= c).astype(int),
                         "founder_dexterity": x, "evolved_brain": noise})  # fmt: skip


def test_hazard_ratios_are_lifelines_own_per_tenth_of_a_trait():
    df = synthetic()
    got = traits.trait_hazards(df, ["founder_dexterity", "evolved_brain"]).set_index("covariate")
    for c in ("founder_dexterity", "evolved_brain"):
        ref = CoxPHFitter().fit(
            df[["duration", "event"]].assign(v=df[c] * 10), "duration", "event"
        ).summary.loc["v"]  # fmt: skip
        assert got.at[c, "hazard_ratio"] == pytest.approx(ref["exp(coef)"], rel=1e-9)
        assert got.at[c, "ci_low"] == pytest.approx(ref["exp(coef) lower 95%"], rel=1e-9)
        assert got.at[c, "ci_high"] == pytest.approx(ref["exp(coef) upper 95%"], rel=1e-9)
        assert got.at[c, "p"] == pytest.approx(ref["p"], rel=1e-6)
    # the true effect exp(0.3) = 1.35 per 0.1 is found; the noise covariate has none
    assert (
        got.at["founder_dexterity", "ci_low"]
        < math.exp(0.3)
        < got.at["founder_dexterity", "ci_high"]
    )
    assert got.at["founder_dexterity", "ci_low"] > 1.0
    assert got.at["evolved_brain", "ci_low"] < 1.0 < got.at["evolved_brain", "ci_high"]
    assert got.at["founder_dexterity", "lineages"] == 400
    assert got.at["founder_dexterity", "events"] == df["event"].sum()


def test_several_arms_are_strata():
    df = synthetic(arms=2, seed=4)
    got = traits.trait_hazards(df, ["founder_dexterity"]).iloc[0]
    ref = CoxPHFitter().fit(
        df[["duration", "event", "arm"]].assign(v=df["founder_dexterity"] * 10),
        "duration", "event", strata=["arm"],
    ).summary.loc["v"]  # fmt: skip
    assert got["hazard_ratio"] == pytest.approx(ref["exp(coef)"], rel=1e-9)
    unstratified = CoxPHFitter().fit(
        df[["duration", "event"]].assign(v=df["founder_dexterity"] * 10), "duration", "event"
    ).summary.loc["v", "exp(coef)"]  # fmt: skip
    assert got["hazard_ratio"] != pytest.approx(unstratified, rel=1e-6)


def test_arms_sharing_their_replicates_cluster_the_variance():
    # the same 60 lineages in each of 4 arms (a tree of life's arms share their replicates): a
    # naive fit counts each lineage 4 times and halves the interval; clustered by replicate, the
    # interval is that of the 60 lineages once (the robust variance of one copy)
    one = synthetic(n=60, seed=6).assign(replicate=np.arange(60))
    four = pd.concat([one.assign(arm=f"a{k}") for k in range(4)], ignore_index=True)
    got = traits.trait_hazards(four, ["founder_dexterity"]).iloc[0]
    ref = CoxPHFitter().fit(
        four[["duration", "event", "arm", "replicate"]].assign(v=four["founder_dexterity"] * 10),
        "duration", "event", strata=["arm"], cluster_col="replicate",
    ).summary.loc["v"]  # fmt: skip
    assert got["ci_low"] == pytest.approx(ref["exp(coef) lower 95%"], rel=1e-9)
    alone = traits.trait_hazards(one, ["founder_dexterity"]).iloc[0]
    assert got["hazard_ratio"] == pytest.approx(alone["hazard_ratio"], rel=1e-6)
    width = math.log(got["ci_high"] / got["ci_low"])
    naive = CoxPHFitter().fit(
        four[["duration", "event", "arm"]].assign(v=four["founder_dexterity"] * 10),
        "duration", "event", strata=["arm"],
    ).summary.loc["v"]  # fmt: skip
    naive_width = math.log(naive["exp(coef) upper 95%"] / naive["exp(coef) lower 95%"])
    assert naive_width == pytest.approx(width / 2, rel=0.3)
    assert width == pytest.approx(math.log(alone["ci_high"] / alone["ci_low"]), rel=0.3)


def test_the_joint_model_is_lifelines_with_its_penalty():
    df = synthetic(seed=2)
    cols = ["founder_dexterity", "evolved_brain"]
    got = traits.joint_hazards(df, cols, penalizer=0.01).set_index("covariate")
    ref = CoxPHFitter(penalizer=0.01).fit(
        df[["duration", "event"]].assign(founder_dexterity=df[cols[0]] * 10,
                                         evolved_brain=df[cols[1]] * 10),
        "duration", "event",
    ).summary  # fmt: skip
    for c in cols:
        assert got.at[c, "hazard_ratio"] == pytest.approx(ref.at[c, "exp(coef)"], rel=1e-6)


def test_no_event_or_no_variation_gives_no_ratio():
    df = synthetic(n=50)
    none = df.assign(event=0)
    flat = df.assign(founder_dexterity=0.4)
    for d in (none, flat):
        row = traits.trait_hazards(d, ["founder_dexterity"]).iloc[0]
        assert math.isnan(row["hazard_ratio"]) and row["lineages"] == 50
    assert traits.trait_hazards(df, ["founder_lifespan"]).iloc[0]["lineages"] == 0  # not in df


def test_n_is_intelligent_over_technological_with_a_replicate_bootstrap():
    per = pd.DataFrame({"intelligent": [2, 3, 1, 2, 2, 4], "technological": [1, 0, 0, 1, 1, 0]})
    got = traits.n_ratio(per)
    assert got["n"] == pytest.approx(14 / 3) and got["replicates"] == 6
    assert got["ci_low"] < got["n"] < got["ci_high"]
    assert got == traits.n_ratio(per)  # seeded
    assert got["ci_high"] == pytest.approx(19.0)  # 2.5 % of resamples hold 1 technological clade
    # one technological clade in 4 replicates: (3/4)^4 = 32 % of resamples hold none
    rare = traits.n_ratio(
        pd.DataFrame({"intelligent": [2, 2, 2, 2], "technological": [1, 0, 0, 0]})
    )
    assert rare["n"] == 8.0 and math.isinf(rare["ci_high"])
    none = traits.n_ratio(per.assign(technological=0))
    assert math.isinf(none["n"]) and math.isinf(none["ci_low"])
    assert traits.n_ratio(per.iloc[0:0])["replicates"] == 0


def test_blocked_effects_count_per_arm_and_group():
    df = pd.DataFrame({"arm": ["control", "control", "both", "both"], "event": [0, 1, 1, 1],
                       "founder_dexterity_max": [0.1, 0.9, 0.1, 0.9],
                       "founder_habitat": [0.1, 0.9, 0.1, 0.1]})  # fmt: skip
    got = traits.blocked_effects(df).set_index(["group", "arm"])
    assert got.loc[("handless", "control"), "technological"] == 0
    assert got.loc[("handless", "both"), "share"] == 1.0
    assert got.loc[("aquatic", "both"), "intelligent"] == 2
    # each arm against the control in the same group: Newcombe's interval of the difference
    from evosim.analysis.replay import newcombe

    row = got.loc[("handless", "both")]
    assert (row["diff"], row["diff_low"], row["diff_high"]) == pytest.approx(newcombe(1, 1, 0, 1))
    assert math.isnan(got.loc[("handless", "control"), "diff"])
    assert got.loc[("aquatic", "both"), "diff"] == pytest.approx(1.0)  # 2 of 2 against 0 of 1


def test_lineages_of_a_run_carry_the_drawn_founder_traits(tmp_path):
    """A tiny drawn world whose founders count as intelligent early (brain threshold 0.3)."""
    w = load_world(overrides={
        "world.width": 32, "world.height": 32, "species": [], "detectors.brain_threshold": 0.3,
        "founders": {"count": 3, "prior": {"name": "f", "count": 60, "adult": True, "genes": {
            "dexterity": {"mean": {"uniform": [0.0, 1.0]}, "max": {"uniform": [0.2, 1.0]}},
            "habitat": {"mean": {"choice": [0.1, 0.9]}}, "brain": {"mean": 0.5, "min": 0.45}}}},
    })  # fmt: skip
    out = tmp_path / "exp" / "control" / "rep-0"  # the layout of an experiment folder
    run(w, out, ticks=200, seed=3)
    cfg = {s["name"]: s["genes"] for s in load_run(out).config["species"]}
    df = traits.lineages([("control", 0, out)])
    assert len(df) >= 1 and set(df["clade"]) <= {"f1", "f2", "f3"}
    for _, r in df.iterrows():
        assert r["founder_dexterity"] == cfg[r["clade"]]["dexterity"]["mean"]
        assert r["founder_dexterity_max"] == cfg[r["clade"]]["dexterity"]["max"]
        assert 0.0 <= r["evolved_brain"] <= 1.0 and r["event"] == 0  # not technological
        assert 0 < r["duration"] <= 200
    counts = traits.clade_counts(df)
    assert counts["intelligent"].sum() == len(df) and counts["technological"].sum() == 0
    every = traits.analyse_experiment(tmp_path / "exp")
    assert every["lineages"].equals(df)
    assert every["n"].iloc[0]["arm"] == "control" and math.isinf(every["n"].iloc[0]["n"])
    assert every["hazards"]["hazard_ratio"].isna().all()  # no event: no ratio
    assert traits.experiment_runs(tmp_path / "exp") == [("control", 0, out)]
    # a run stopped part-way (its summary says interrupted) is not a replicate yet
    part = tmp_path / "exp" / "control" / "rep-1"
    shutil.copytree(out, part)
    summary = json.loads((part / "summary.json").read_text())
    (part / "summary.json").write_text(json.dumps({**summary, "ended": "interrupted"}))
    assert traits.experiment_runs(tmp_path / "exp") == [("control", 0, out)]


def test_replicates_without_an_intelligent_clade_count_as_worlds_with_none():
    df = pd.DataFrame({"arm": ["c", "c"], "replicate": [0, 0], "event": [1, 0]})
    runs = [("c", 0, "x"), ("c", 1, "y"), ("d", 0, "z")]
    got = traits.clade_counts(df, runs)
    assert got.values.tolist() == [["c", 0, 2, 1], ["c", 1, 0, 0], ["d", 0, 0, 0]]
    assert traits.clade_counts(df.iloc[0:0], runs)["intelligent"].tolist() == [0, 0, 0]


def test_degenerate_fits_are_not_estimable_and_say_why():
    # complete separation with plenty of events: the larger the trait, the sooner, without
    # exception; lifelines' diagnostics flag it, and the ratio is not given as a number
    x = np.linspace(0.05, 0.95, 30)
    ordered = pd.DataFrame({"arm": "c", "replicate": np.arange(30), "duration": 3000 - 2000 * x,
                            "event": 1, "founder_dexterity": x})  # fmt: skip
    row = traits.trait_hazards(ordered, ["founder_dexterity"]).iloc[0]
    assert math.isnan(row["hazard_ratio"]) and math.isnan(row["p"]) and row["events"] == 30
    assert row["note"].startswith("complete separation")
    # the same lineages with a little noise in the times: estimable, no note
    noisy = ordered.assign(
        duration=ordered["duration"] + np.random.default_rng(0).normal(0, 600, 30)
    )
    fine = traits.trait_hazards(noisy, ["founder_dexterity"]).iloc[0]
    assert fine["note"] == "" and 1 < fine["hazard_ratio"] < 10 and fine["ci_high"] < math.inf
    # too few events (the events-per-variable rule), and no event
    df = synthetic(n=60, seed=3)
    few = df.assign(event=0)
    few.loc[few.index[:4], "event"] = 1
    row = traits.trait_hazards(few, ["founder_dexterity"]).iloc[0]
    assert (
        math.isnan(row["hazard_ratio"])
        and row["note"] == f"too few events (4 < {traits.MIN_EVENTS})"
    )
    assert traits.trait_hazards(few, ["founder_dexterity"], min_events=4).iloc[0]["note"] == ""
    assert (
        traits.trait_hazards(df.assign(event=0), ["founder_dexterity"]).iloc[0]["note"]
        == "no event"
    )
    assert traits.trait_hazards(df.assign(founder_dexterity=0.4), ["founder_dexterity"]).iloc[0][
        "note"] == "no variation"  # fmt: skip
    # pooled over arms from 3 replicates: the clustered variance is no estimate
    three = pd.concat([df.assign(arm=a, replicate=df["replicate"] % 3) for a in ("a", "b")])
    row = traits.trait_hazards(three, ["founder_dexterity"]).iloc[0]
    assert math.isnan(row["hazard_ratio"])
    assert (
        row["note"] == f"too few replicates for the clustered variance (3 < {traits.MIN_CLUSTERS})"
    )
