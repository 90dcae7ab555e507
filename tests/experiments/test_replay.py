"""Replays (docs/replay.md): the spec, the clades picked, the recreated past, the futures, the table."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from evosim.analysis.outcomes import clades
from evosim.analysis.plateau import settled, species_series
from evosim.analysis.replay import NONE, causal_table, futures_frame
from evosim.errors import ConfigError
from evosim.experiments.replay_select import Branch, plateau_tick, select
from evosim.experiments.replay_spec import DEFAULT_RELIEFS, ReliefConfig, read_replay
from evosim.experiments.replay_worlds import future_world, past_world, source_world
from evosim.io import runner
from evosim.io.logs import load_run
from evosim.reports.replay import collect, write_report
from tests.helpers import one_paragraph

WORLD = """\
name: quick
world: {width: 32, height: 32}
species:
  - {name: grazer, count: 150, genes: {habitat: {mean: 0.9}, brain: {mean: 0.85}}}
  - {name: swimmer, count: 150, genes: {habitat: {mean: 0.1}, brain: {mean: 0.85}}}
detectors: {intelligence_window: 10, tech_window: 10, min_population: 20, tech_share: 0.2}
output: {sample_every: 5, checkpoint_every: 50}
"""
TICKS, SEED = 240, 5


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A finished one-replicate experiment folder (``control/rep-0``) where both clades become intelligent."""
    from evosim.config.load import load_world

    root = tmp_path_factory.mktemp("replay-source")
    (root / "w.yaml").write_text(WORLD, encoding="utf-8")
    world = load_world(root / "w.yaml")
    runner.run(world, root / "exp" / "control" / "rep-0", ticks=TICKS, seed=SEED)
    return root / "exp"


def spec_file(folder: Path, body: str, name: str = "r.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(body, encoding="utf-8")
    return p


# ------------------------------------------------------------------ the spec
def test_a_minimal_replay_file_gets_the_documented_reliefs(tmp_path):
    s = read_replay(spec_file(tmp_path, "name: r\nsource: exp\nhorizon: 100\n"))
    assert [r.name for r in s.reliefs] == [r["name"] for r in DEFAULT_RELIEFS]
    assert (s.moment, s.futures, s.every) == ("intelligent", 8, 10)
    assert s.reliefs[0].effect.kind == "manipulators" and s.reliefs[0].effect.level == 0.8


@pytest.mark.parametrize(
    "body, where, reason",
    [
        ("name: r\nsource: exp\nhorizon: 100\nfutures: 0\n", "futures", "greater than or equal to 1"),
        ("name: r\nsource: exp\n", "horizon", "required"),
        ("name: r\nsource: exp\nhorizon: 9\nmoment: soon\n", "moment", "intelligent"),
        ("name: r\nsource: exp\nhorizon: 9\nreliefs:\n  - {name: food, effect: {kind: food, amount: 1}}\n",
         "reliefs", "acts on the whole world"),
        ("name: r\nsource: exp\nhorizon: 9\nreliefs:\n  - {name: none, effect: {kind: fire_substitute}}\n",
         "reliefs", "unrelieved"),
        ("name: r\nsource: exp\nhorizon: 9\nreliefs:\n  - {name: a, effect: [{kind: fire_substitute},"
         " {kind: food, amount: 1}]}\n", "reliefs", "acts on the whole world"),
        ("name: r\nsource: exp\nhorizon: 9\nreliefs:\n  - {name: a, effect: []}\n", "reliefs",
         "at least one"),
        ("name: r\nsource: exp\nhorizon: 9\nreliefs:\n  - {name: a, effect: {kind: fire_substitute}}\n"
         "  - {name: a, effect: {kind: fire_substitute}}\n", "", "unique"),
        ("name: r\nsource: exp\nhorizon: 9\nfuturez: 3\n", "futurez", "unknown key"),
    ],
)  # fmt: skip
def test_a_bad_replay_file_is_one_paragraph_naming_file_key_and_reason(
    tmp_path, body, where, reason
):
    p = spec_file(tmp_path, body)
    with pytest.raises(ConfigError) as e:
        read_replay(p)
    msg = str(e.value)
    assert one_paragraph(msg) and str(p) in msg and where in msg and reason in msg


def test_the_shipped_replay_of_the_hard_paths_control_is_valid():
    from evosim.experiments.replay_spec import source_of

    root = Path(__file__).resolve().parents[2]
    path = root / "worlds" / "experiments" / "hard_paths_replay.yaml"
    s = read_replay(path)
    assert s.futures >= 8 and 10_000 <= s.horizon <= 15_000 and s.arms == ["control"]
    assert [r.model_dump() for r in s.reliefs] == [
        ReliefConfig.model_validate(r).model_dump() for r in DEFAULT_RELIEFS
    ]
    assert source_of(s, path) == root / "runs" / "hard_paths"


# ------------------------------------------------------------------ the plan
def test_the_plan_picks_each_intelligent_clade_at_its_intelligence_tick(source, tmp_path):
    branches, notes = select(
        read_replay(spec_file(tmp_path, "name: r\nsource: x\nhorizon: 50\n")), source
    )
    sp = load_run(source / "control" / "rep-0").species
    want = {
        str(r["name"]): int(r["intelligent_at"])
        for _, r in sp.iterrows()
        if pd.notna(r["intelligent_at"])
    }
    assert len(want) == 2
    assert {b.clade: b.tick for b in branches} == want
    assert {b.key for b in branches} == {f"control/rep-0/{c}" for c in want}
    assert all(b.seed == SEED and b.moment == "intelligent" for b in branches) and not notes


def test_the_plan_keeps_the_clades_asked_for_and_passes_over_moments_outside_the_run(
    source, tmp_path
):
    s = read_replay(
        spec_file(tmp_path, "name: r\nsource: x\nhorizon: 50\nclades: [swimmer]\nmoment: 120\n")
    )
    branches, _ = select(s, source)
    assert [(b.clade, b.tick, b.moment) for b in branches] == [("swimmer", 120, "tick")]
    late = read_replay(spec_file(tmp_path, f"name: r\nsource: x\nhorizon: 50\nmoment: {TICKS}\n"))
    branches, notes = select(late, source)
    assert not branches and len(notes) == 2 and all("not inside the run" in n for n in notes)
    with pytest.raises(ConfigError, match="arms: hands: not an arm"):
        select(
            read_replay(spec_file(tmp_path, "name: r\nsource: x\nhorizon: 5\narms: [hands]\n")),
            source,
        )


def test_the_plateau_moment_is_the_first_sample_the_detector_calls_settled(source):
    run = load_run(source / "control" / "rep-0")
    ids = {0}
    t = plateau_tick(run, ids, 10)
    series = species_series(run.timeseries, ids)
    ladder = run.config["technology"]["ladder"]
    judged = {int(x): settled(series[series["tick"] <= x], int(x), ladder[-1]["threshold"])["status"]
              for x in series["tick"] if x > 10}  # fmt: skip
    first = [x for x, v in judged.items() if v == "settled"]
    assert (t == first[0]) if first else math.isnan(t)


# ------------------------------------------------------------------ the past and the futures
def _past(b: Branch, out: Path) -> Path:
    """The past of a branch, as the replay's past task runs it."""
    world = past_world(source_world(b.run), b.tick)
    runner.run(world, out, ticks=b.tick, seed=b.seed, checkpoint_every=b.tick)
    return out


def _logs_to(folder: Path, tick: int) -> tuple[str, str]:
    ev = pd.read_csv(folder / "events.csv", keep_default_na=False)
    ts = pd.read_csv(folder / "timeseries.csv", keep_default_na=False)
    return ev[ev["tick"] <= tick].to_csv(index=False), ts[ts["tick"] < tick].to_csv(index=False)


def test_the_recreated_past_is_the_source_run_up_to_the_branch(source, tmp_path):
    src = source / "control" / "rep-0"
    b = Branch("k", src, "control", 0, SEED, "swimmer", 120, "tick", "")
    past = _past(b, tmp_path / "past")
    assert load_run(past).summary["ticks_run"] == 120
    assert len(pd.read_csv(past / "timeseries.csv")) > 20
    assert _logs_to(past, 120) == _logs_to(src, 120)
    assert (
        sorted(p.name for p in (past / "checkpoints").glob("*.json"))[-1] == "ckpt-0000000120.json"
    )


def test_futures_with_the_same_reseed_are_byte_identical_and_differ_between_reseeds(
    source, tmp_path
):
    src = source / "control" / "rep-0"
    b = Branch("k", src, "control", 0, SEED, "swimmer", 120, "tick", "")
    ckpt = _past(b, tmp_path / "past") / "checkpoints" / "ckpt-0000000120.json"
    relief = read_replay(spec_file(tmp_path, "name: r\nsource: x\nhorizon: 5\n")).reliefs[
        0
    ]  # hands
    world = future_world(source_world(src), 120, 60, "swimmer", relief)
    assert [iv.name for iv in world.interventions] == ["relief-hands"]

    def future(k: int, name: str) -> Path:
        runner.branch(ckpt, world, tmp_path / name, ticks=180, reseed=k)
        return tmp_path / name

    a, again, other = future(1, "a"), future(1, "again"), future(2, "other")
    for f in ("timeseries.csv", "events.csv", "species.csv"):
        assert (a / f).read_bytes() == (again / f).read_bytes()
    assert (a / "timeseries.csv").read_bytes() != (other / "timeseries.csv").read_bytes()
    ev = load_run(a).events
    granted = ev[ev["details"].str.startswith("relief-hands").fillna(False)]
    assert list(granted["tick"].unique()) == [121]
    assert set(granted["species"]) <= set(load_run(a).species.query("root == 1")["id"])


def _relieved_future(source: Path, tmp_path: Path, name: str) -> tuple[ReliefConfig, pd.DataFrame]:
    """The default relief ``name``, and the events it logged in a future of the swimmer branched at
    tick 120 (10 ticks)."""
    src = source / "control" / "rep-0"
    b = Branch("k", src, "control", 0, SEED, "swimmer", 120, "tick", "")
    ckpt = _past(b, tmp_path / "past") / "checkpoints" / "ckpt-0000000120.json"
    spec = read_replay(spec_file(tmp_path, "name: r\nsource: x\nhorizon: 5\n"))
    relief = next(r for r in spec.reliefs if r.name == name)
    world = future_world(source_world(src), 120, 60, "swimmer", relief)
    runner.branch(ckpt, world, tmp_path / name, ticks=130, reseed=1)
    run = load_run(tmp_path / name)
    logged = run.events[run.events["details"].str.startswith(f"relief-{name}:").fillna(False)]
    assert list(logged["tick"].unique()) == [121]  # the tick after the branch, to the clade only
    assert set(logged["species"]) <= set(run.species.query("root == 1")["id"])
    return relief, logged


def test_the_models_relief_copies_the_clade_once_after_the_branch(source, tmp_path):
    _, boost = _relieved_future(source, tmp_path, "models")
    copied = [int(d.split("copied ")[1].split(" of ")[0]) for d in boost["details"]]
    members = [int(d.split(" of ")[1].split()[0]) for d in boost["details"]]
    assert sum(copied) == sum(members) > 0  # share 1: every independent member once


def test_a_relief_of_several_effects_applies_them_together(source, tmp_path):
    relief, got = _relieved_future(source, tmp_path, "hands_fire")
    assert [e.kind for e in relief.effects()] == ["manipulators", "fire_substitute"]
    assert [e["kind"] for e in relief.effect_data()] == ["manipulators", "fire_substitute"]
    assert any("manipulators 0.8" in d for d in got["details"])
    assert any("fire substitute" in d for d in got["details"])


# ------------------------------------------------------------------ the table
def test_causal_csv_is_causal_table_of_the_futures(source, tmp_path):
    src = source / "control" / "rep-0"
    b = Branch(
        "control/rep-0/swimmer", src, "control", 0, SEED, "swimmer", 120, "tick", "dexterity"
    )
    ckpt = _past(b, tmp_path / "past") / "checkpoints" / "ckpt-0000000120.json"
    reliefs = read_replay(spec_file(tmp_path, "name: r\nsource: x\nhorizon: 5\n")).reliefs[:2]
    out = tmp_path / "replay"
    for relief in (None, *reliefs):
        world = future_world(source_world(src), 120, 40, "swimmer", relief)
        for k in (1, 2, 3):
            runner.branch(ckpt, world, out / b.future_folder(relief.name if relief else NONE, k),
                          ticks=160, reseed=k)  # fmt: skip
    futures = collect(out, [b], [r.name for r in reliefs], 3, 40)
    assert len(futures) == 9 and set(futures["relief"]) == {NONE, "hands", "fire"}
    for (
        _,
        f,
    ) in futures.iterrows():  # each observation is the future's clade row read by future_outcome
        row = clades(load_run(out / b.future_folder(f["relief"], f["future"])), 20).set_index(
            "clade"
        )
        tech = row.at["swimmer", "technological_at"]
        assert (f["event"] == 1) == (pd.notna(tech) and tech <= 160)
    table = write_report(out, "r", [b], futures, 40)
    written = pd.read_csv(out / "causal.csv", keep_default_na=False, na_values=[""])
    again = causal_table(futures_frame(pd.read_csv(out / "futures.csv").to_dict("records")),
                         {b.key: "dexterity"})  # fmt: skip
    pd.testing.assert_frame_equal(table, again)
    assert (
        list(written["relief"]) == ["fire", "hands"] and list(written["label"]) == ["dexterity"] * 2
    )
    assert written["verdict"].tolist() == table["verdict"].tolist()
    assert "| control/rep-0/swimmer | 120 (tick) | hands | 3 |" in (out / "summary.md").read_text()
    assert (out / "causal.png").stat().st_size > 1000


# ------------------------------------------------------------------ the command
SPEC = """\
name: r
source: exp
clades: [swimmer]
moment: 120
futures: 2
horizon: 40
reliefs:
  - {name: hands, effect: {kind: manipulators, level: 0.8}}
"""


def test_a_bad_replay_file_exits_2_with_one_paragraph(tmp_path):
    from click.testing import CliRunner

    from evosim.cli.replay import replay as replay_cmd

    p = spec_file(tmp_path, "name: r\nsource: exp\nhorizon: 40\nmoment: 0\n")
    res = CliRunner().invoke(replay_cmd, [str(p), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and one_paragraph(res.output), res.output
    assert "moment" in res.output and not (tmp_path / "out").exists()


def test_the_dry_run_prints_the_branches_and_the_cost_and_writes_nothing(source, tmp_path):
    from click.testing import CliRunner

    from evosim.cli.replay import replay as replay_cmd

    p = spec_file(tmp_path, SPEC)
    res = CliRunner().invoke(replay_cmd, [str(p), "--source", str(source), "--out",
                                          str(tmp_path / "out"), "--dry-run", "--workers", "2"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "branch control/rep-0/swimmer: tick 120 (tick" in res.output
    assert "to run: 1 past(s) and 4 future(s)" in res.output
    assert "estimate: " in res.output and "on 2 workers" in res.output
    assert not (tmp_path / "out").exists()


def test_a_replay_runs_resumes_and_writes_its_causal_table(source, tmp_path):
    """The command on a real Dask cluster: the past once, 2 futures per group, the table; a re-run
    skips what is finished and remakes a lost future byte for byte."""
    import shutil

    from click.testing import CliRunner

    from evosim.cli.replay import replay as replay_cmd

    p = spec_file(tmp_path, SPEC)
    out = tmp_path / "out"
    args = [str(p), "--source", str(source), "--out", str(out), "--workers", "1", "-q"]
    res = CliRunner().invoke(replay_cmd, args)
    assert res.exit_code == 0, res.output
    assert "4 of 4 futures finished (4 ran)" in res.output
    past = out / "control" / "rep-0" / "past-120"
    assert _logs_to(past, 120) == _logs_to(source / "control" / "rep-0", 120)
    futures = pd.read_csv(out / "futures.csv")
    assert sorted(zip(futures["relief"], futures["future"])) == [
        ("hands", 1),
        ("hands", 2),
        ("none", 1),
        ("none", 2),
    ]
    table = pd.read_csv(out / "causal.csv", keep_default_na=False, na_values=[""])
    assert list(zip(table["clade"], table["relief"])) == [("control/rep-0/swimmer", "hands")]
    lost = out / "control" / "rep-0" / "swimmer" / "hands" / "reseed-2"
    before = {f: (lost / f).read_bytes() for f in ("timeseries.csv", "events.csv", "species.csv")}
    res = CliRunner().invoke(replay_cmd, args)
    assert "4 of 4 futures finished (4 skipped)" in res.output, res.output
    shutil.rmtree(lost)
    res = CliRunner().invoke(replay_cmd, args)
    assert "4 of 4 futures finished (1 ran, 3 skipped)" in res.output, res.output
    assert {f: (lost / f).read_bytes() for f in before} == before
    # `evosim report` on the folder: the same table; with a future lost, the finished ones, said so
    from evosim.cli.experiment import report as report_cmd

    res = CliRunner().invoke(report_cmd, [str(out), "--no-plots"])
    assert res.exit_code == 0 and "Partial" not in res.output, res.output
    assert (out / "report" / "causal.csv").read_bytes() == (out / "causal.csv").read_bytes()
    shutil.rmtree(lost)
    res = CliRunner().invoke(report_cmd, [str(out), "--out", str(tmp_path / "r2"), "--no-plots"])
    assert res.exit_code == 0 and "**Partial:** 3 of the 4 futures have finished" in res.output
    assert len(pd.read_csv(tmp_path / "r2" / "futures.csv")) == 3
    # a shorter horizon would discard ticks of the futures (a longer one extends them:
    # tests/experiments/test_replay_extend.py)
    other = spec_file(tmp_path, SPEC.replace("horizon: 40", "horizon: 30"), "other.yaml")
    res = CliRunner().invoke(replay_cmd, [str(other), *args[1:]])
    assert res.exit_code == 2 and "different horizon" in res.output, res.output
    assert "shorter horizon" in res.output, res.output
