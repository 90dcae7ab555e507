"""The hard-paths report: synthetic experiment folders with known answers, and a tiny real experiment."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from evosim.cli.experiment import report as report_cmd
from evosim.config.load import world_to_dict
from evosim.config.schema import World
from evosim.config.yamlsafe import dump
from evosim.defaults import GENES
from evosim.errors import ConfigError
from evosim.io.recorder import EVENT_COLUMNS, SPECIES_COLUMNS, timeseries_columns
from evosim.reports.outcomes import (
    Thresholds,
    bootstrap_results,
    build_report,
    classify,
    discover,
    write_report,
)
from tests.helpers import csv_text, one_paragraph

LADDER = [
    m.model_dump() for m in World().technology.ladder
]  # stone_tools .3, fire (land), cooking, agriculture, metallurgy .5
PRIMATE = dict(
    lifespan=0.5, childhood=0.5, sociality=0.6, dexterity=0.6, habitat=0.9, brain=0.8, fecundity=0.5
)
CETACEAN = dict(
    lifespan=0.55,
    childhood=0.5,
    sociality=0.7,
    dexterity=0.05,
    habitat=0.05,
    brain=0.8,
    fecundity=0.4,
)
CEPHALOPOD = dict(
    lifespan=0.1,
    childhood=0.02,
    sociality=0.1,
    dexterity=0.7,
    habitat=0.05,
    brain=0.8,
    fecundity=0.8,
)
CORVID = dict(
    lifespan=0.4,
    childhood=0.35,
    sociality=0.5,
    dexterity=0.45,
    habitat=0.85,
    brain=0.8,
    fecundity=0.6,
)


def sp(
    name,
    genes,
    intel=None,
    tech=None,
    level=0,
    parent=-1,
    origin=0,
    grants=(),
    manip=0.0,
    fire=False,
    skill=5.0,
    pop=100,
    extinct=None,
):
    """One synthetic species: genes, detection ticks, milestones held, interventions [(tick, details)] logged
    in events.csv, its final manipulators / fire substitute (species.csv), its highest skill and population
    (timeseries.csv), and the tick it went extinct (None: extant at the end)."""
    return dict(
        name=name,
        genes=genes,
        intel=intel,
        tech=tech,
        level=level,
        parent=parent,
        origin=origin,
        grants=grants,
        manip=manip,
        fire=fire,
        skill=skill,
        pop=pop,
        extinct=extinct,
    )


def write_run(
    folder: Path,
    species: list[dict],
    seed: int = 1,
    ticks: int = 500,
    flop_per_tick: float = 1e10,
    ended: str = "completed",
    horizon: int | None = None,
) -> None:
    """A run folder as evosim writes it (config, summary, species, timeseries, events), with known contents.

    The run lasted ``ticks`` ticks of a planned ``horizon`` (default: ``ticks``) and spent
    ``flop_per_tick`` per tick; a detection at tick t is logged with compute t * ``flop_per_tick``.
    """
    folder.mkdir(parents=True)
    world = World().model_copy(
        update={"sim": World().sim.model_copy(update={"ticks": horizon or ticks})}
    )
    (folder / "config.yaml").write_text(dump(world_to_dict(world)), encoding="utf-8")
    milestones = [m["name"] for m in LADDER]
    sp_rows, ts_rows, ev_rows = [SPECIES_COLUMNS], [timeseries_columns(milestones)], [EVENT_COLUMNS]
    roots: list[int] = []
    for i, s in enumerate(species):
        parent = s["parent"]
        roots.append(i if parent < 0 else roots[parent])
        sp_rows.append(
            [
                i,
                "[none]" if parent < 0 else f"[{parent}]",
                s["origin"],
                "none" if s["extinct"] is None else s["extinct"],
                s["extinct"] is None,
                i if parent < 0 else parent,
                s["name"],
                roots[i],
                *[s["genes"][g] for g in GENES],
                s["pop"],
                "land" if s["genes"]["habitat"] >= 0.5 else "water",
                "" if s["intel"] is None else s["intel"],
                "" if s["tech"] is None else s["tech"],
                s["manip"],
                s["fire"],
            ]
        )
        for tick in (s["origin"], ticks if s["extinct"] is None else s["extinct"]):
            row = [tick, i, s["name"], s["pop"], 0, 0, 0, 0]
            for g in GENES:
                row += [s["genes"][g], 0.01]
            row += [s["genes"]["habitat"], 20.0, 3.0, 4.0, s["skill"], s["pop"], 0] + [
                0.5 if k < s["level"] else 0.0 for k in range(len(milestones))
            ]
            ts_rows.append(row)
        for k in range(s["level"]):
            ev_rows.append(
                [s["origin"] + 1 + k, "milestone", i, f"{s['name']} first reached {milestones[k]}"]
            )
        for tick, details in s["grants"]:
            ev_rows.append([tick, "intervention", i, details])
    ev_rows[1:] = sorted(ev_rows[1:], key=lambda r: r[0])
    (folder / "species.csv").write_text(csv_text(sp_rows), encoding="utf-8")
    (folder / "timeseries.csv").write_text(csv_text(ts_rows), encoding="utf-8")
    (folder / "events.csv").write_text(csv_text(ev_rows), encoding="utf-8")
    intel = [s for s in species if s["intel"] is not None]
    tech = [s for s in species if s["tech"] is not None]

    def first(group, key):
        if not group:
            return None
        s = min(group, key=lambda x: x[key])
        return {"tick": s[key], "flop": s[key] * flop_per_tick, "species": s["name"]}

    summary = {
        "seed": seed,
        "ended": ended,
        "ticks_run": ticks,
        "intelligent_species": len(intel),
        "technological_species": len(tech),
        "intelligent": [s["name"] for s in intel],
        "technological": [s["name"] for s in tech],
        "first_intelligent": first(intel, "intel"),
        "first_technological": first(tech, "tech"),
        "compute": {"flop_total": ticks * flop_per_tick},
        "timing": {"wall_time_s": 1.0},
    }
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


GRANT = "hands: manipulators 0.8 (energy cost 0/tick)"
ARMS = {
    "control": [
        [sp("primate", PRIMATE, 100, 300, 5), sp("cetacean", CETACEAN, 150)],
        [sp("cetacean", CETACEAN, 150), sp("cephalopod", CEPHALOPOD, 120, level=1)],
    ],
    "hands": [
        [
            sp("primate", PRIMATE, 100, 200, 5),
            sp("cetacean", CETACEAN, 150, grants=[(150, GRANT)], manip=0.8),
        ],
        [
            sp("cetacean", CETACEAN, 150, 400, 5, grants=[(150, GRANT)], manip=0.8),
            sp("cephalopod", CEPHALOPOD, 120, level=1),
        ],
    ],
    "never": [
        [sp("cetacean", CETACEAN, 150)],
        [sp("cetacean", CETACEAN, 160), sp("primate", PRIMATE)],
    ],
    "nothing": [[sp("primate", PRIMATE)], [sp("cetacean", CETACEAN)]],
}


@pytest.fixture
def synthetic(tmp_path) -> Path:
    """An experiment folder of four arms x two replicates with known outcomes."""
    root = tmp_path / "exp"
    runs = []
    for arm, reps in ARMS.items():
        for k, species in enumerate(reps):
            write_run(root / arm / f"rep-{k}", species, seed=100 + k)
            runs.append({"arm": arm, "replicate": k, "seed": 100 + k, "folder": f"{arm}/rep-{k}"})
    manifest = {
        "name": "synthetic",
        "control": "control",
        "arms": [{"name": a} for a in ARMS],
        "runs": runs,
    }
    (root / "experiment.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def value(rep, arm: str, metric: str, col: str = "value") -> float:
    return float(rep.result(arm, metric)[col])


def test_known_outcomes_per_arm(synthetic):
    rep = build_report(synthetic, n_boot=500)
    assert rep.arms == list(ARMS) and rep.control == "control" and len(rep.runs) == 8
    expected = {
        "control": dict(intelligent=2, technological=0.5, n=4, stuck_share=0.75, p_technological=0.5,
                        ticks_to_first_technological=300, flop_to_first_technological=3e12),
        "hands": dict(intelligent=2, technological=1, n=2, stuck_share=0.5, p_technological=1,
                      ticks_to_first_technological=300, flop_to_first_technological=3e12),
        "never": dict(intelligent=1, technological=0, n=math.inf, stuck_share=1, p_technological=0),
        "nothing": dict(intelligent=0, technological=0, p_technological=0),
    }  # fmt: skip
    for arm, metrics in expected.items():
        for metric, v in metrics.items():
            assert value(rep, arm, metric) == pytest.approx(v), (arm, metric)
    assert math.isnan(value(rep, "nothing", "n")) and math.isnan(
        value(rep, "nothing", "stuck_share")
    )
    assert math.isnan(value(rep, "never", "ticks_to_first_technological"))
    assert value(rep, "control", "ticks_to_first_technological", "replicates_defined") == 1
    # differences from control
    assert value(rep, "hands", "technological", "diff") == pytest.approx(0.5)
    assert value(rep, "hands", "n", "diff") == pytest.approx(-2)
    assert value(rep, "hands", "p_technological", "diff") == pytest.approx(0.5)
    assert math.isnan(value(rep, "control", "n", "diff"))


def test_bootstrap_intervals(synthetic):
    rep = build_report(synthetic, n_boot=2000, seed=3)
    # two replicates: the resampled means are over {0,0}, {0,1}, {1,1}
    assert (
        value(rep, "control", "technological", "ci_low"),
        value(rep, "control", "technological", "ci_high"),
    ) == (0, 1)
    assert (
        value(rep, "control", "n", "ci_low") == 2
        and value(rep, "control", "n", "ci_high") == math.inf
    )
    assert value(rep, "never", "n", "ci_low") == math.inf  # honest: no technological species at all
    assert (
        value(rep, "control", "intelligent", "ci_low")
        == value(rep, "control", "intelligent", "ci_high")
        == 2
    )
    # paired: hands - control over the same replicate draws
    assert (
        value(rep, "hands", "intelligent", "diff_low")
        == value(rep, "hands", "intelligent", "diff_high")
        == 0
    )
    lo, hi = (
        value(rep, "hands", "p_technological", "diff_low"),
        value(rep, "hands", "p_technological", "diff_high"),
    )
    assert (lo, hi) == (0, 1)
    again = build_report(synthetic, n_boot=2000, seed=3)
    pd.testing.assert_frame_equal(rep.results, again.results)  # seeded


def test_bootstrap_interval_covers_a_known_mean():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.poisson(3.0, 200).astype(float)
    runs = pd.DataFrame(
        {
            "arm": "a",
            "replicate": range(200),
            "ended": "completed",
            "intelligent": x,
            "technological": 1.0,
            "stuck": 0.0,
            "any_technological": 1.0,
            "first_intelligent_tick": 1.0,
            "first_technological_tick": 1.0,
            "first_technological_flop": 1.0,
        }
    )
    res = bootstrap_results(runs, ["a"], "a", n_boot=4000, seed=1)
    r = res[res.metric == "intelligent"].iloc[0]
    se = x.std(ddof=1) / math.sqrt(len(x))
    assert r.ci_low < x.mean() < r.ci_high
    assert r.ci_high - r.ci_low == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_bottlenecks_of_stuck_species(synthetic):
    rep = build_report(synthetic, n_boot=200)
    st = rep.stuck.set_index(["arm", "replicate", "species"])
    assert st.loc[("control", 0, "cetacean"), "bottleneck"] == "dexterity"
    # skill 5 (the default of sp) never reached metallurgy's 18: the culture fell short too
    assert st.loc[("control", 0, "cetacean"), "lacks"] == "dexterity;land;brain/transmission"
    assert st.loc[("control", 1, "cephalopod"), "bottleneck"] == "land"
    # low soft traits (sociality 0.1, childhood 0.02, lifespan 0.1) are no longer labels (issue 20)
    assert st.loc[("control", 1, "cephalopod"), "lacks"] == "land;brain/transmission"
    granted = st.loc[("hands", 0, "cetacean")]
    assert granted["bottleneck"] == "land" and granted["manipulators"] == pytest.approx(0.8)
    assert ("hands", 1, "cetacean") not in st.index  # it became technological
    counts = rep.runs.set_index(["arm", "replicate"])
    assert (
        counts.loc[("control", 1), "stuck_dexterity"] == 1
        and counts.loc[("control", 1), "stuck_land"] == 1
    )


@pytest.mark.parametrize(
    "genes, level, manip, fire, expected",
    [
        (CETACEAN, 0, 0.0, False, ("dexterity", ["dexterity", "land"])),
        (CETACEAN, 0, 0.8, False, ("land", ["land"])),
        (CETACEAN, 0, 0.8, True, ("none identified", [])),
        (CEPHALOPOD, 1, 0.0, True, ("none identified", [])),  # soft traits are not labels
        (CORVID, 4, 0.0, False, ("dexterity", ["dexterity"])),  # metallurgy needs 0.5
        (CORVID, 1, 0.0, False, ("dexterity", ["dexterity"])),  # fire is met; dexterity fails later
        (PRIMATE, 5, 0.0, False, ("diffusion", [])),
        (dict(CETACEAN, dexterity=0.4), 1, 0.0, False, ("land", ["land", "dexterity"])),
    ],
)  # fmt: skip
def test_classification_rule(genes, level, manip, fire, expected):
    assert classify(genes, level, LADDER, manip, fire, Thresholds()) == (expected[0], expected[1])


def test_grants_come_from_species_csv(tmp_path):
    """The report takes each species' manipulators and fire substitute from species.csv (the registry, where a
    daughter inherits its parent's when it forms), not from events.csv."""
    root = sp("cetacean", CETACEAN, grants=[(150, GRANT)], manip=0.8)
    child_after = sp("cetacean.2", CETACEAN, 300, parent=0, origin=200, manip=0.8)
    child_before = sp("cetacean.3", CETACEAN, 300, parent=0, origin=100)
    # formed at 200 from cetacean.3, which split off before the grant: the old ancestry walk gave it 0.8
    grandchild = sp("cetacean.4", CETACEAN, 300, parent=2, origin=200)
    fire = sp(
        "cetacean.5", CETACEAN, 300, parent=0, origin=250, manip=0.8, fire=True
    )  # its grant is in no log here
    skilled = sp(
        "cetacean.6", CETACEAN, 300, parent=0, origin=250, manip=0.8, fire=True, skill=20.0
    )
    write_run(
        tmp_path / "exp" / "control" / "rep-0",
        [root, child_after, child_before, grandchild, fire, skilled],
    )
    rep = build_report(tmp_path / "exp", n_boot=100)  # no manifest: arms found by scanning
    st = rep.stuck.set_index("species")
    assert (
        st.loc["cetacean.2", "bottleneck"] == "land"
        and st.loc["cetacean.3", "bottleneck"] == "dexterity"
    )
    assert (
        st.loc["cetacean.4", "bottleneck"] == "dexterity"
        and st.loc["cetacean.4", "manipulators"] == 0.0
    )
    # every gate met: its culture (skill 5 < 18) fell short, but two samples cannot show it settled, so it
    # is still climbing (not a bottleneck); with the skill, nothing is lacking
    assert st.loc["cetacean.5", "bottleneck"] == "still climbing" and bool(
        st.loc["cetacean.5", "fire_substitute"]
    )
    assert (
        st.loc["cetacean.5", "lacks"] == "brain/transmission"
        and st.loc["cetacean.5", "plateau"] == "short"
    )
    assert st.loc["cetacean.6", "bottleneck"] == "still climbing"
    assert st.loc["cetacean.6", "lacks"] == "" and st.loc["cetacean.6", "max_skill"] == 20.0


def test_a_refused_grant_is_not_a_grant(tmp_path):
    """interventions.py logs a weaker grant it refuses as "manipulators 0.4 ignored: ..."; that is no grant of 0.4
    (here the 0.8 it already had was granted before a branch whose logs start fresh, so no event records it)."""
    refused = "weak: manipulators 0.4 ignored: the species already has 0.8"
    write_run(
        tmp_path / "exp" / "control" / "rep-0",
        [sp("cetacean", CETACEAN, 300, grants=[(200, refused)], manip=0.8)],
    )
    st = build_report(tmp_path / "exp", n_boot=100).stuck.set_index("species")
    assert st.loc["cetacean", "manipulators"] == pytest.approx(0.8)
    assert (
        st.loc["cetacean", "lacks"] == "land;brain/transmission"
    )  # with 0.4, metallurgy (min_dexterity 0.5) would fail too


def test_species_csv_without_grant_columns(tmp_path):
    """A species.csv written before the manipulators / fire_substitute columns.

    It has no grants, unless the config has some.
    """
    folder = tmp_path / "exp" / "control" / "rep-0"
    write_run(folder, [sp("cetacean", CETACEAN, 300)])
    old = pd.read_csv(folder / "species.csv").drop(columns=["manipulators", "fire_substitute"])
    old.to_csv(folder / "species.csv", index=False)
    assert build_report(tmp_path / "exp", n_boot=100).stuck["manipulators"].tolist() == [0.0]
    world = World.model_validate(
        {"interventions": [{"name": "hands", "when": {"tick": 5}, "target": {"all": True}}]}
    )
    (folder / "config.yaml").write_text(dump(world_to_dict(world)), encoding="utf-8")
    with pytest.raises(ConfigError, match="no manipulators / fire_substitute columns"):
        build_report(tmp_path / "exp", n_boot=100)


def test_written_files_and_markdown(synthetic, tmp_path):
    rep = build_report(synthetic, n_boot=300)
    files = write_report(rep, tmp_path / "report")
    names = {f.name for f in files}
    assert {"results.csv", "runs.csv", "stuck_species.csv", "trajectories.csv", "summary.md", "outcomes.png",
            "bottlenecks.png", "trajectories.png"} <= names  # fmt: skip
    for png in ("outcomes.png", "bottlenecks.png", "trajectories.png"):
        assert (tmp_path / "report" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = pd.read_csv(tmp_path / "report" / "results.csv")
    assert {"arm", "metric", "value", "ci_low", "ci_high", "diff", "diff_low", "diff_high"} <= set(
        res.columns
    )
    md = (tmp_path / "report" / "summary.md").read_text()
    assert "| n = intelligent / technological | 4 [2, ∞] | 2 [" in md
    assert "| ∞ [∞, ∞] | — |" in md  # never: infinite; nothing: undefined
    assert "## Difference from `control`" in md and "![outcomes](outcomes.png)" in md
    assert len(rep.trajectories) and set(rep.trajectories["arm"]) == {"control", "hands", "never"}


def test_unfinished_replicates_are_left_out_with_a_note(synthetic):
    s = json.loads((synthetic / "hands" / "rep-1" / "summary.json").read_text())
    s["ended"] = "interrupted"
    (synthetic / "hands" / "rep-1" / "summary.json").write_text(json.dumps(s))
    (synthetic / "never" / "rep-0" / "summary.json").unlink()
    rep = build_report(synthetic, n_boot=200)
    assert (
        len(rep.runs) == 6
        and "2 unfinished replicate(s) left out: hands/rep-1, never/rep-0" in rep.markdown
    )
    assert value(rep, "hands", "technological") == 1


def test_report_refuses_what_is_not_an_experiment(tmp_path):
    for folder in (tmp_path / "missing", tmp_path):
        res = CliRunner().invoke(report_cmd, [str(folder)])
        assert res.exit_code == 2 and one_paragraph(res.output), res.output
    (tmp_path / "a" / "rep-0").mkdir(parents=True)
    res = CliRunner().invoke(report_cmd, [str(tmp_path)])
    assert res.exit_code == 2 and "no finished replicate" in res.output
    assert discover(tmp_path)[1] == ["a"]


def run_and_report(spec: Path, out: Path, replicates: int):
    """Run every arm and replicate of the experiment file ``spec`` in-process (the task the Dask
    workers run) into ``out``, then build its report."""
    from evosim.experiments.experiment import load_experiment
    from evosim.experiments.manifest import write_manifest
    from evosim.experiments.task import ensure_run
    from tests.experiments.test_experiment import make_task

    exp = load_experiment(spec)
    write_manifest(exp, out)
    for arm in exp.arms:
        for k in range(replicates):
            assert ensure_run(make_task(exp, out, arm, k))["ended"] == "completed"
    return build_report(out, n_boot=200)


def test_report_on_a_tiny_real_experiment(tmp_path):
    """Real runs (in-process, the same task the Dask workers run) where species do become intelligent."""
    (tmp_path / "w.yaml").write_text(
        "name: quick\nworld: {width: 32, height: 32}\nspecies:\n"
        "  - {name: grazer, count: 150, genes: {habitat: {mean: 0.9}, brain: {mean: 0.85}}}\n"
        "  - {name: swimmer, count: 150, genes: {habitat: {mean: 0.1}, brain: {mean: 0.85}}}\n"
        "detectors: {intelligence_window: 10, tech_window: 10, min_population: 20, tech_share: 0.2}\n",
        encoding="utf-8",
    )
    (tmp_path / "e.yaml").write_text(
        "name: quick\nworld: w.yaml\nticks: 120\nreplicates: 2\nseed: 5\narms:\n  - name: control\n  - name: fire\n"
        "    interventions:\n      - {name: fire, when: {trigger: intelligent},"
        " target: {selector: {habitat: {max: 0.5}}},"
        " effect: {kind: fire_substitute}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    rep = run_and_report(tmp_path / "e.yaml", out, replicates=2)
    summaries = {
        (r.arm, r.replicate): json.loads((Path(r.folder) / "summary.json").read_text())
        for r in rep.runs.itertuples()
    }
    for (arm, k), s in summaries.items():
        row = rep.runs[(rep.runs.arm == arm) & (rep.runs.replicate == k)].iloc[0]
        assert (
            row.intelligent == s["intelligent_species"]
            and row.technological == s["technological_species"]
        )
    total_i = sum(s["intelligent_species"] for (a, _), s in summaries.items() if a == "control")
    total_t = sum(s["technological_species"] for (a, _), s in summaries.items() if a == "control")
    assert total_i > 0
    n = value(rep, "control", "n")
    assert n == (total_i / total_t if total_t else math.inf)
    assert set(rep.trajectories["arm"]) <= {"control", "fire"} and len(rep.trajectories) > 0
    files = write_report(rep, out / "report")
    assert (out / "report" / "summary.md") in files


@pytest.mark.parametrize(
    "genes, level, manip, fire, skill, expected",
    [
        # every gate met, no member ever had metallurgy's skill (18): held by the culture
        (PRIMATE, 2, 0.0, False, 10.0, ("brain/transmission", ["brain/transmission"])),
        (CEPHALOPOD, 1, 0.0, True, 3.0, ("brain/transmission", ["brain/transmission"])),
        # the skill was there and no gate fails on the mean genes: nothing identified
        (PRIMATE, 2, 0.0, False, 25.0, ("none identified", [])),
        # gates block holding, not skill: skill enough for everything, land still holds it at fire
        (CETACEAN, 0, 0.8, False, 25.0, ("land", ["land"])),
        (CETACEAN, 0, 0.0, False, 3.0, ("dexterity", ["dexterity", "land", "brain/transmission"])),
        (PRIMATE, 5, 0.0, False, 25.0, ("diffusion", [])),
    ],
)  # fmt: skip
def test_classification_with_the_culture(genes, level, manip, fire, skill, expected):
    got = classify(genes, level, LADDER, manip, fire, Thresholds(), max_skill=skill)
    assert got == (expected[0], expected[1])
    # settled: the same label
    assert (
        classify(genes, level, LADDER, manip, fire, Thresholds(), skill, plateau="settled") == got
    )


@pytest.mark.parametrize(
    "genes, level, manip, fire, skill, plateau, expected",
    [
        # not settled: still climbing, not a bottleneck, whatever its skill or milestones ...
        (PRIMATE, 2, 0.0, False, 10.0, "climbing", "still climbing"),
        (PRIMATE, 5, 0.0, False, 25.0, "climbing", "still climbing"),  # not diffusion while it spreads
        (PRIMATE, 2, 0.0, False, 10.0, "short", "still climbing"),
        # ... unless a gate holds it (a gate cannot be climbed)
        (CETACEAN, 0, 0.0, False, 3.0, "climbing", "dexterity"),
        # diffusion: the last rung held, the holder share settled (or the species died out)
        (PRIMATE, 5, 0.0, False, 25.0, "settled", "diffusion"),
        (PRIMATE, 5, 0.0, False, 25.0, "extinct", "diffusion"),
        (PRIMATE, 2, 0.0, False, 10.0, "extinct", "brain/transmission"),
    ],
)  # fmt: skip
def test_classification_with_the_plateau(genes, level, manip, fire, skill, plateau, expected):
    got = classify(
        genes, level, LADDER, manip, fire, Thresholds(), max_skill=skill, plateau=plateau
    )
    assert got[0] == expected


def test_soft_trait_levels_only_list_what_a_species_lacks():
    # the technological primates' own childhood (0.15-0.18) is below the old 0.2 rule: no label by default
    primate = dict(PRIMATE, childhood=0.16)
    assert classify(primate, 2, LADDER, max_skill=10.0, plateau="settled") == (
        "brain/transmission",
        ["brain/transmission"],
    )
    th = Thresholds(childhood=0.2)
    assert classify(primate, 2, LADDER, th=th, max_skill=10.0, plateau="settled") == (
        "brain/transmission",
        ["childhood", "brain/transmission"],
    )


CLADE_RUN = [
    sp("primate", PRIMATE, 100, pop=120),
    sp("primate.1", PRIMATE, 150, 300, parent=0, origin=100, pop=90),  # the clade peaks at 210
    sp("cetacean", CETACEAN, 150, extinct=400, pop=100),  # intelligent, died out: lost
    sp("cetacean.3", CETACEAN, parent=2, origin=200, extinct=450, pop=60),
    sp("corvid", CORVID, 200, pop=30),  # intelligent, but the clade never reaches 50
    sp("cephalopod", CEPHALOPOD, pop=100),
]


def test_clades_count_founding_lineages_above_the_clade_size(tmp_path):
    write_run(tmp_path / "exp" / "control" / "rep-0", CLADE_RUN)
    rep = build_report(tmp_path / "exp", n_boot=100)
    row = rep.runs.iloc[0]
    counts = (row.clades, row.intelligent_clades, row.technological_clades, row.lost_clades)
    assert counts == (3, 2, 1, 1)
    assert row.intelligent == 4 and row.lost_species == 1  # species level: the corvid counts
    cl = rep.clades.set_index("clade")
    assert (
        cl.loc["primate", "peak_population"] == 210 and cl.loc["cetacean", "peak_population"] == 100
    )
    assert cl.loc["cetacean", "species"] == 2 and bool(cl.loc["cetacean", "lost"])
    assert not cl.loc["corvid", "counted"] and not cl.loc["primate", "extinct"]
    assert value(rep, "control", "n_clades") == 2 and value(rep, "control", "n") == 4
    # the clade size is a report option (default: the run's detectors.min_population, 50 here)
    small = build_report(tmp_path / "exp", n_boot=100, th=Thresholds(min_clade_population=20))
    assert (small.runs.iloc[0].clades, small.runs.iloc[0].intelligent_clades) == (4, 3)
    big = build_report(tmp_path / "exp", n_boot=100, th=Thresholds(min_clade_population=150))
    assert (big.runs.iloc[0].clades, big.runs.iloc[0].lost_clades) == (1, 0)
    files = write_report(rep, tmp_path / "report", plots=False)
    assert pd.read_csv(tmp_path / "report" / "clades.csv").shape[0] == 4 and files
    res = CliRunner().invoke(report_cmd, [str(tmp_path / "exp"), "--clade-size", "20", "--no-plots",
                                          "--bootstrap", "100", "--out", str(tmp_path / "cli")])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert pd.read_csv(tmp_path / "cli" / "runs.csv")["clades"].tolist() == [4]
    assert (
        "| primate | 1 / 1 / 1 / 0 |" in rep.markdown
        and "| cetacean | 1 / 1 / 0 / 1 |" in rep.markdown
    )


def test_restricted_means_and_the_paired_compute_saving_factor(tmp_path):
    """Known first detections; a replicate that never got there counts at the horizon, at its total FLOP."""
    reps = {
        "control": [[sp("primate", PRIMATE, 100, 300)], [sp("primate", PRIMATE, 100)]],
        "fast": [[sp("primate", PRIMATE, 50, 100)], [sp("primate", PRIMATE, 100, 250)]],
        "doomed": [None, [sp("primate", PRIMATE, 100, 400)]],
    }
    for arm, runs in reps.items():
        for k, species in enumerate(runs):
            folder = tmp_path / "exp" / arm / f"rep-{k}"
            if species is None:  # extinct at tick 200 of 500, never technological
                write_run(folder, [sp("primate", PRIMATE, 100, extinct=200)], ticks=200,
                          ended="extinct", horizon=500)  # fmt: skip
            else:
                write_run(folder, species)
    rep = build_report(tmp_path / "exp", n_boot=2000, seed=1)
    assert rep.control == "control"
    r = rep.runs.set_index(["arm", "replicate"])
    # the horizon (not its last tick), and its compute at its last tick
    assert r.loc[("doomed", 0), "first_technological_tick_r"] == 500
    assert r.loc[("doomed", 0), "first_technological_flop_r"] == 2e12
    expected = {
        "control": dict(ticks_to_first_technological=300, ticks_to_first_technological_rmean=400,
                        flop_to_first_technological=3e12, flop_to_first_technological_rmean=4e12,
                        flop_to_first_intelligent_rmean=1e12, compute_saving=1.0),
        "fast": dict(ticks_to_first_technological=175, ticks_to_first_technological_rmean=175,
                     flop_to_first_technological_rmean=1.75e12, flop_to_first_intelligent_rmean=0.75e12,
                     compute_saving=4 / 1.75),
        "doomed": dict(ticks_to_first_technological=400, ticks_to_first_technological_rmean=450,
                       flop_to_first_technological_rmean=3e12, compute_saving=4 / 3),
    }  # fmt: skip
    for arm, metrics in expected.items():
        for metric, v in metrics.items():
            assert value(rep, arm, metric) == pytest.approx(v), (arm, metric)
    # paired: replicate k of both arms is resampled together, so the draws are 3/1, 5/2.5 and 8/3.5
    assert (value(rep, "fast", "compute_saving", "ci_low"), value(rep, "fast", "compute_saving", "ci_high")) \
        == (pytest.approx(2.0), pytest.approx(3.0))  # fmt: skip
    assert math.isnan(value(rep, "fast", "compute_saving", "diff"))
    assert value(rep, "fast", "flop_to_first_technological_rmean", "diff") == pytest.approx(
        -2.25e12
    )
    md = rep.markdown
    assert md.index("## The seed's quantity") < md.index("## Outcomes per arm")
    saving = next(line for line in md.splitlines() if line.startswith("| compute saving factor"))
    # arms found by scanning: sorted
    assert saving.endswith("| 1 [1, 1] | 1.33 [1.25, 1.5] | 2.29 [2, 3] |")
    assert "| ticks to first technological | 300 [300, 300] (in 1) |" in md


def test_report_on_a_tiny_real_experiment_with_gated_and_stuck_arms(tmp_path):
    """Real runs where the repaired arms fire: a fire substitute for swimmers held below fire, relief for the stuck."""
    (tmp_path / "w.yaml").write_text(
        "name: quick\nworld: {width: 32, height: 32}\nspecies:\n"
        "  - {name: lander, count: 300, adult: true, genes: {habitat: {mean: 0.9}, brain: {mean: 0.85}}}\n"
        "  - {name: swimmer, count: 300, adult: true, genes: {habitat: {mean: 0.1}, brain: {mean: 0.85}}}\n"
        "culture: {innovation_rate: 1.0, innovation_brain_exponent: 0.0, innovation_dexterity_weight: 0.0}\n"
        "technology: {ladder: [{name: fire, threshold: 1.0, needs_land: true}, {name: writing, threshold: 2.0}]}\n"
        "detectors: {brain_threshold: 0.5, intelligence_window: 3, min_population: 20, tech_share: 0.5,"
        " tech_window: 5}\n",
        encoding="utf-8",
    )
    (tmp_path / "e.yaml").write_text(
        "name: quick\nworld: w.yaml\nticks: 40\nreplicates: 2\nseed: 5\narms:\n  - name: control\n"
        "  - name: fire\n    interventions:\n"
        "      - {name: ember, when: {trigger: gated, milestone: fire, window: 4},"
        " target: {selector: {habitat: {max: 0.5}}}, effect: {kind: fire_substitute}}\n"
        "  - name: relief\n    interventions:\n"
        "      - {name: social, when: {trigger: stuck, window: 10}, target: {all: true},"
        " effect: {kind: gene_bounds, gene: sociality, min: 0.8}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    rep = run_and_report(tmp_path / "e.yaml", out, replicates=2)
    for r in rep.runs.itertuples():
        s = json.loads((Path(r.folder) / "summary.json").read_text())
        ft = s["first_technological"]
        assert r.first_technological_flop_r == (ft["flop"] if ft else s["compute"]["flop_total"])
        assert r.first_technological_tick_r == (ft["tick"] if ft else 40) and r.horizon == 40
        events = pd.read_csv(Path(r.folder) / "events.csv")
        fired = events[events["kind"] == "intervention"]
        # fire: the swimmers, held below fire on water, get the substitute and then hold it
        if r.arm == "fire":
            assert fired["details"].str.startswith("ember: fire substitute").tolist() == [True]
            assert r.technological_clades == 2
        elif r.arm == "control":
            assert fired.empty and r.technological_clades == 1  # the landers only
        else:  # relief: the swimmers are intelligent and never technological, so they are stuck
            assert fired["details"].str.startswith("social: sociality bounds [0.8, ").any()
    assert value(rep, "fire", "technological_clades", "diff") == 1
    assert (value(rep, "fire", "n_clades"), value(rep, "control", "n_clades")) == (1, 2)
    st = rep.stuck[rep.stuck["arm"] == "control"]
    assert (st["bottleneck"] == "land").all() and len(st) == 2  # the swimmers of both replicates
    assert rep.result("fire", "compute_saving")["value"] > 0
    write_report(rep, out / "report")
    assert (out / "report" / "outcomes.png").stat().st_size > 0


def test_the_land_gate_reads_where_the_members_stood():
    """An agent holds a needs_land milestone only where it stands on land: land_share decides, not the gene."""
    ashore = classify(CETACEAN, 1, LADDER, 0.8, False, Thresholds(), 3.0, land_share=0.8)
    assert ashore == ("brain/transmission", ["brain/transmission"])
    afloat = classify(dict(PRIMATE, dexterity=0.7), 1, LADDER, 0.0, False, Thresholds(), 3.0, 0.2)
    assert afloat == ("land", ["land", "brain/transmission"])
    assert (
        classify(CETACEAN, 1, LADDER, 0.8, False, Thresholds(), 3.0)[0] == "land"
    )  # unknown: the gene


def test_a_clade_held_by_a_gate_is_not_still_climbing(tmp_path):
    """Gates first: an alive, unsettled clade that fails a gate is held, and the horizon warning
    counts only the clades no gate holds (two samples per species: none is judged settled)."""
    # the ape: a primate's body plan, no gate fails, so alive and unsettled is still climbing
    reps = [
        [sp("primate", PRIMATE, 100, 1250, 5), sp("cetacean", CETACEAN, 150)],
        [
            sp("primate", PRIMATE, 100, 1400, 5),
            sp("cetacean", CETACEAN, 150),
            sp("ape", PRIMATE, 200),
        ],
    ]
    for k, species in enumerate(reps):
        write_run(tmp_path / "exp" / "control" / f"rep-{k}", species, seed=100 + k, ticks=2000)
    rep = build_report(tmp_path / "exp", n_boot=200)
    cl = rep.clades.set_index(["replicate", "clade"])
    assert cl.loc[(0, "cetacean"), "plateau"] == "short"  # the detector cannot call it settled
    assert cl.loc[(0, "cetacean"), "held_by"] == cl.loc[(1, "cetacean"), "held_by"] == "dexterity"
    assert cl.loc[(1, "ape"), "held_by"] == "" and cl.loc[(0, "primate"), "held_by"] == ""
    md = rep.markdown
    # 1 of 5 intelligent clades climbs (the ape), not 3 of 5: still over 10 %, so still a warning
    assert "`control`: 1 of 5 intelligent clades (20%) are still alive at the horizon" in md
    assert "3 of 5" not in md
    held = "**Held by a gate, not by the horizon**: `control`: 2 of 5 intelligent clades, held by "
    assert held + "dexterity (2)" in md
    climbing = "| intelligent clades still climbing at the horizon (alive, not technological, not settled) |"
    assert climbing + " 1 of 5 |" in md
    # the bottleneck table by the same rule
    assert "| still climbing | 1 (33%) |" in md and "| dexterity | 2 (67%) [2] |" in md
    # without the ape, no clade climbs: no warning, no advice to extend the run
    (tmp_path / "two").mkdir()
    for k, species in enumerate(reps):
        write_run(tmp_path / "two" / "control" / f"rep-{k}", species[:2], seed=100 + k, ticks=2000)
    md = build_report(tmp_path / "two", n_boot=200).markdown
    assert "the horizon cuts the climb" not in md and "extend the experiment" not in md
    assert "held by dexterity (2)" in md
    # tick counts are whole, with thousands separators, in every table
    assert "| ticks to first technological | 1,325 [1,250, 1,400] (in 2) |" in md
    assert "up to 2,000 ticks" in md and "e+03" not in md


def test_the_summary_links_the_thresholds_plot(synthetic, tmp_path):
    from evosim.reports.thresholds import Grids, experiment_thresholds

    rep = build_report(synthetic, n_boot=100)
    table, _notes = experiment_thresholds(
        rep.runs, Grids(brain_threshold=[0.5, 0.7], tech_share=[0.5])
    )
    assert len(table)
    files = write_report(rep, tmp_path / "report", thresholds=table)
    names = [f.name for f in files]
    assert "thresholds.csv" in names and "thresholds.png" in names
    md = (tmp_path / "report" / "summary.md").read_text(encoding="utf-8")
    assert "![thresholds](thresholds.png)" in md
    assert pd.read_csv(tmp_path / "report" / "thresholds.csv").shape == table.shape
    # without plots: the table, no link to a plot that was not drawn
    write_report(rep, tmp_path / "bare", plots=False, thresholds=table)
    assert (tmp_path / "bare" / "thresholds.csv").is_file()
    assert "thresholds.png" not in (tmp_path / "bare" / "summary.md").read_text(encoding="utf-8")
