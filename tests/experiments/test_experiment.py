"""Experiments on a real loopback Dask cluster: run folders, seeds, re-runs, killed workers, branching."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from evosim.cli.experiment import experiment as experiment_cmd
from evosim.cli.experiment import report as report_cmd
from evosim.errors import ConfigError
from evosim.experiments.batch import Cluster, plan, run_design
from evosim.experiments.experiment import ArmsReplicates, derive_seeds, load_experiment
from evosim.experiments.manifest import write_manifest
from evosim.experiments.task import RunTask, ensure_run, lock_path
from evosim.io import runner
from evosim.io.logs import load_run
from tests.helpers import one_paragraph, read_summary

WORLD = """\
name: tiny
world: {width: 32, height: 32}
species:
  - {name: grazer, count: 150, genes: {habitat: {mean: 0.9}}}
  - {name: swimmer, count: 150, genes: {habitat: {mean: 0.1}}}
output: {sample_every: 5}
"""

ARMS = """\
arms:
  - name: control
  - name: hands
    interventions:
      - name: grant
        when: {tick: 40}
        target: {species: [swimmer]}
        effect: {kind: manipulators, level: 0.8}
"""


def write_spec(folder: Path, body: str, name: str = "exp.yaml") -> Path:
    """Write the tiny world and an experiment file using it into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(WORLD, encoding="utf-8")
    p = folder / name
    p.write_text(body, encoding="utf-8")
    return p


def spec_text(ticks: int = 60, replicates: int = 2, extra: str = "", arms: str = ARMS) -> str:
    return f"name: tinyexp\nworld: tiny.yaml\nseed: 11\nticks: {ticks}\nreplicates: {replicates}\n{extra}{arms}"


def run_experiment(exp, out, scheduler=None, on_done=None):
    """Run the arms x replicates of ``exp`` into ``out`` on the cluster at ``scheduler``."""
    return run_design(ArmsReplicates(exp), out, Cluster(scheduler=scheduler), on_done=on_done)


def make_task(exp, out: Path, arm: str, k: int) -> RunTask:
    """The task of replicate ``k`` of ``arm`` of ``exp`` in folder ``out``."""
    tasks = ArmsReplicates(exp).tasks(Path(out).resolve())
    return next(t for t in tasks if (t.arm, t.replicate) == (arm, k))


def outputs(folder: Path) -> dict[str, bytes]:
    return {
        n: (folder / n).read_bytes()
        for n in ("timeseries.csv", "species.csv", "events.csv", "config.yaml")
    }


# --------------------------------------------------------------- no cluster
def test_seeds_are_derived_with_seedsequence_distinct_and_stable():
    seeds = derive_seeds(11, 6)
    assert len(set(seeds)) == 6 and all(0 <= s < 2**63 for s in seeds)
    assert derive_seeds(11, 3) == seeds[:3]  # adding replicates keeps the old seeds
    spawned = np.random.SeedSequence(11).spawn(6)
    assert seeds == [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in spawned]
    assert derive_seeds(12, 6) != seeds


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            spec_text(extra="colour: red\n"),
            ["exp.yaml: colour (line 6): unknown key 'colour'", "allowed here: name"],
        ),
        (
            spec_text(
                arms="arms:\n  - name: control\n  - name: bad\n    overrides: {world.width: -4}\n"
            ),
            ["exp.yaml: arms[1].overrides (line 9): arm 'bad':", "world.width"],
        ),
        (
            spec_text(arms="arms:\n  - name: control\n    overrides: {species.nobody.count: 3}\n"),
            ["arms[0].overrides", "nobody"],
        ),
        (
            spec_text(
                arms="arms:\n  - name: a\n    interventions:\n"
                "      - {name: x, effect: {kind: manipulators, level: 2}}\n"
            ),
            ["arms[0].interventions[0].effect.level (line 9)", "less than or equal to 1"],
        ),
        (
            spec_text(extra="overrides: {sim.seed: 3}\n"),
            ["overrides", "use the experiment's `seed` and `ticks`"],
        ),
        (
            spec_text(extra="branch_tick: 60\n"),
            ["exp.yaml: branch_tick (line ", "branch_tick (60) must be below ticks (60)"],
        ),
        (
            spec_text(
                extra="branch_tick: 30\n",
                arms="arms:\n  - name: a\n    overrides: {world.width: 40}\n",
            ),
            ["arm 'a' changes world.width", "only act at tick 0"],
        ),
        (
            spec_text(extra="branch_tick: 30\n", arms=ARMS.replace("tick: 40", "tick: 30")),
            ["when.tick", "not after branch_tick 30"],
        ),
        (
            spec_text(arms=ARMS.replace("tick: 40", "trigger: milestone, milestone: fir")),
            ["'fir' is not on the technology ladder"],
        ),
        (
            spec_text(arms=ARMS.replace("tick: 40", "trigger: stuck, window: 60")),
            [
                "when.window (line",
                "window 60 is not shorter than the 60 ticks",
                "stuck could never",
            ],
        ),
        (
            spec_text(arms=ARMS.replace("tick: 40", "trigger: gated, milestone: cooking")),
            ["trigger gated on 'cooking' can never fire: that milestone has no requirement"],
        ),
        (
            spec_text(extra="control: nobody\n"),
            ["exp.yaml: control (line ", "control 'nobody' is not an arm"],
        ),
        (
            spec_text(arms="arms:\n  - name: a\n  - name: a\n"),
            ["exp.yaml: arms[1].name (line ", "arm names must be unique"],
        ),
        (
            "name: x\nworld: missing.yaml\nticks: 5\narms: [{name: a}]\n",
            ["exp.yaml: world (line 2):", "missing.yaml: no such file"],
        ),
        ("name: x\nname: y\n", ["not valid YAML", "duplicate key"]),
        (
            spec_text(extra="overrides: {world.width: -4}\n"),
            ["exp.yaml: overrides (line 6): --set world.width=-4: world.width"],
        ),
        (
            spec_text(extra="overrides: {world..width: 40}\n"),
            ["exp.yaml: overrides (line 6)", "'world..width' has an empty part"],
        ),
    ],
)
def test_bad_specs_exit_2_with_one_paragraph_before_anything_runs(tmp_path, body, expected):
    spec = write_spec(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_experiment(spec)
    for part in expected:
        assert part in str(err.value), str(err.value)
    res = CliRunner().invoke(
        experiment_cmd, [str(spec), "--workers", "1", "--out", str(tmp_path / "out")]
    )
    assert res.exit_code == 2, res.output
    assert one_paragraph(res.output) and not (tmp_path / "out").exists()


def test_a_huge_bad_value_gives_a_short_message(tmp_path):
    spec = write_spec(
        tmp_path, spec_text(arms="arms:\n  - name: a\n    description: " + "x" * 10_001 + "\n")
    )
    with pytest.raises(ConfigError) as err:
        load_experiment(spec)
    msg = str(err.value)
    assert (
        "exp.yaml: arms[0].description (line 8)" in msg
        and "at most 10000 characters" in msg
        and len(msg) < 400
    ), msg


def test_a_bad_world_file_is_named_even_with_common_overrides(tmp_path):
    spec = write_spec(tmp_path, spec_text(extra="overrides: {world.width: 40}\n"))
    (tmp_path / "tiny.yaml").write_text(WORLD + "colour: red\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_experiment(spec)
    assert "exp.yaml: world (line 2):" in str(
        err.value
    ) and "tiny.yaml: colour (line 7): unknown key" in str(err.value)


def test_arm_worlds_carry_common_and_arm_settings(tmp_path):
    arms = ARMS.replace(
        "  - name: control\n", "  - name: control\n    overrides: {culture.beta: 0.7}\n"
    )
    spec = write_spec(tmp_path, spec_text(extra="overrides: {culture.alpha: 1.5}\n", arms=arms))
    exp = load_experiment(spec)
    assert exp.control == "control" and list(exp.arms) == ["control", "hands"]
    assert exp.arms["control"].culture.alpha == 1.5 and exp.arms["control"].culture.beta == 0.7
    assert exp.arms["hands"].culture.beta == 0.5 and [
        iv.name for iv in exp.arms["hands"].interventions
    ] == ["grant"]
    assert exp.base.interventions == [] and exp.base.culture.alpha == 1.5


def test_arm_overrides_apply_after_all_the_common_ones(tmp_path):
    common = "overrides: {world: {width: 36, height: 48}, world.height: 40}\n"
    arms = "arms:\n  - name: a\n    overrides: {world: {width: 40, height: 32}}\n  - name: b\n"
    exp = load_experiment(write_spec(tmp_path, spec_text(extra=common, arms=arms)))
    assert (exp.arms["a"].world.width, exp.arms["a"].world.height) == (
        40,
        32,
    )  # not 40x40: world.height came before
    assert (exp.arms["b"].world.width, exp.arms["b"].world.height) == (36, 40)


def test_workers_and_scheduler_together_are_refused(tmp_path):
    spec = write_spec(tmp_path, spec_text())
    res = CliRunner().invoke(
        experiment_cmd, [str(spec), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]
    )
    assert res.exit_code == 2 and "--workers" in res.output


def test_out_holding_another_experiment_is_refused(tmp_path):
    spec = write_spec(tmp_path, spec_text())
    exp = load_experiment(spec)
    out = tmp_path / "out"
    write_manifest(exp, out)
    write_manifest(
        load_experiment(write_spec(tmp_path, spec_text(replicates=3), "more.yaml")), out
    )  # more replicates: fine
    with pytest.raises(ConfigError, match="different ticks"):  # shorter: refused
        write_manifest(
            load_experiment(write_spec(tmp_path, spec_text(ticks=59), "other.yaml")), out
        )
    # longer: an extension (tests/experiments/test_extend.py), here in a copy of the folder
    longer = tmp_path / "longer"
    shutil.copytree(out, longer)
    m = write_manifest(
        load_experiment(write_spec(tmp_path, spec_text(ticks=61), "long.yaml")), longer
    )
    assert m["ticks"] == 61 and m["extensions"][0]["from_ticks"] == 60
    with pytest.raises(ConfigError, match="arm 'hands'"):
        write_manifest(
            load_experiment(
                write_spec(tmp_path, spec_text(arms=ARMS.replace("0.8", "0.9")), "x.yaml")
            ),
            out,
        )
    # an arm removed and then re-added with another world would mix runs in its old folders
    write_manifest(
        load_experiment(
            write_spec(tmp_path, spec_text(arms="arms:\n  - name: control\n"), "fewer.yaml")
        ),
        out,
    )
    with pytest.raises(ConfigError, match="arm 'hands'"):
        write_manifest(
            load_experiment(
                write_spec(tmp_path, spec_text(arms=ARMS.replace("0.8", "0.9")), "y.yaml")
            ),
            out,
        )
    write_manifest(exp, out)  # the original arms are fine again
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file.txt").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        write_manifest(exp, tmp_path / "junk")


# ------------------------------------------------------------------ cluster
def test_runs_every_replicate_records_seeds_and_rerun_skips_or_redoes(tmp_path, scheduler):
    spec = write_spec(tmp_path, spec_text())
    exp = load_experiment(spec)
    out = tmp_path / "out"
    done: list = []
    outcome = run_experiment(exp, out, scheduler=scheduler, on_done=lambda r, _o: done.append(r))
    assert not outcome.failures and outcome.count("ran") == 4 and len(done) == 4
    manifest = json.loads((out / "experiment.json").read_text())
    seeds = manifest["seeds"]["replicates"]
    assert seeds == exp.seeds and len(set(seeds)) == 2 and manifest["evosim_version"]
    assert {r["folder"] for r in manifest["runs"]} == {
        f"{a}/rep-{k}" for a in ("control", "hands") for k in (0, 1)
    }
    for arm in ("control", "hands"):
        for k in (0, 1):
            folder = out / arm / f"rep-{k}"
            s = read_summary(folder)
            assert s["ended"] == "completed" and s["ticks_run"] == 60 and s["seed"] == seeds[k]
    assert "grant: manipulators 0.8" in (out / "hands" / "rep-0" / "events.csv").read_text()

    # a re-run skips everything (no cluster needed) and touches nothing
    before = {
        p: p.stat().st_mtime_ns
        for p in out.rglob("*")
        if p.is_file() and not p.name.endswith(".lock")
    }
    again = run_experiment(
        exp, out, scheduler="tcp://127.0.0.1:1"
    )  # unreachable: must not be contacted
    assert again.count("skipped") == 4 and not again.failures
    assert {p: p.stat().st_mtime_ns for p in before if p.name != "experiment.json"} == {
        p: t for p, t in before.items() if p.name != "experiment.json"
    }

    # a folder without summary.json is redone (resumed from its final checkpoint), one without anything re-run
    ref0, ref1 = outputs(out / "hands" / "rep-1"), outputs(out / "control" / "rep-0")
    (out / "hands" / "rep-1" / "summary.json").unlink()
    for p in (out / "control" / "rep-0").iterdir():
        p.unlink() if p.is_file() else shutil.rmtree(p)
    todo = plan(ArmsReplicates(exp).tasks(out.resolve())).todo
    assert sorted((t.arm, t.replicate) for t in todo) == [("control", 0), ("hands", 1)]
    third = run_experiment(exp, out, scheduler=scheduler)
    actions = {(r["arm"], r["replicate"]): r["action"] for r in third.results}
    assert actions == {
        ("control", 0): "ran",
        ("control", 1): "skipped",
        ("hands", 0): "skipped",
        ("hands", 1): "resumed",
    }
    assert outputs(out / "hands" / "rep-1") == ref0 and outputs(out / "control" / "rep-0") == ref1
    assert read_summary(out / "hands" / "rep-1")["ended"] == "completed"


def test_branch_control_equals_an_unbranched_run(tmp_path, scheduler):
    spec = write_spec(
        tmp_path, spec_text(ticks=80, replicates=1, extra="branch_tick: 30\ncheckpoint_every: 20\n")
    )
    exp = load_experiment(spec)
    out = tmp_path / "out"
    outcome = run_experiment(exp, out, scheduler=scheduler)
    assert not outcome.failures and outcome.count("ran") == 2
    assert read_summary(out / "_base" / "rep-0")["ticks_run"] == 30
    ref = tmp_path / "ref"
    runner.run(exp.arms["control"], ref, ticks=80, seed=exp.seeds[0], checkpoint_every=20)
    ctrl = out / "control" / "rep-0"
    for name in ("timeseries.csv", "species.csv"):
        assert (ctrl / name).read_bytes() == (ref / name).read_bytes(), name
    events = [ln for ln in (ctrl / "events.csv").read_text().splitlines() if ",branch," not in ln]
    assert events == (ref / "events.csv").read_text().splitlines()
    assert read_summary(ctrl, timing=False) == read_summary(ref, timing=False)
    # the intervention arm shares the history up to the branch, then differs
    hands = load_run(out / "hands" / "rep-0").timeseries
    base = load_run(ctrl).timeseries
    assert (
        hands[hands.tick <= 30]
        .reset_index(drop=True)
        .equals(base[base.tick <= 30].reset_index(drop=True))
    )
    assert "grant: manipulators 0.8" in (out / "hands" / "rep-0" / "events.csv").read_text()


def test_killed_worker_loses_no_result_and_duplicates_none(tmp_path, scheduler):
    arms = "arms:\n  - name: control\n"
    spec = write_spec(
        tmp_path, spec_text(ticks=1200, replicates=2, extra="checkpoint_every: 50\n", arms=arms)
    )
    exp = load_experiment(spec)
    out = tmp_path / "out"
    box: dict = {}
    th = threading.Thread(
        target=lambda: box.setdefault("outcome", run_experiment(exp, out, scheduler=scheduler))
    )
    th.start()
    folder = out / "control" / "rep-0"
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline and th.is_alive():
        ckpts = (
            sorted((folder / "checkpoints").glob("ckpt-*.json"))
            if (folder / "checkpoints").is_dir()
            else []
        )
        if ckpts and int(ckpts[-1].stem[5:]) >= 100 and not (folder / "summary.json").exists():
            killed = int(lock_path(folder).read_text().split()[0])
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.01)
    th.join(120)
    assert killed is not None, "the replicate finished before it could be killed"
    outcome = box["outcome"]
    assert not outcome.failures
    actions = {r["replicate"]: r["action"] for r in outcome.results}
    assert len(outcome.results) == 2 and actions[0] == "resumed"
    ref = tmp_path / "ref"
    runner.run(exp.arms["control"], ref, ticks=1200, seed=exp.seeds[0], checkpoint_every=50)
    for name in ("timeseries.csv", "species.csv", "events.csv"):
        assert (folder / name).read_bytes() == (ref / name).read_bytes(), name
    assert read_summary(folder, timing=False) == read_summary(ref, timing=False)


def test_cli_local_cluster_then_report(tmp_path):
    spec = write_spec(tmp_path, spec_text(ticks=40, replicates=2))
    out = tmp_path / "out"
    res = CliRunner().invoke(experiment_cmd, [str(spec), "--workers", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "4 of 4 replicates finished (4 ran)" in res.output
    res = CliRunner().invoke(experiment_cmd, [str(spec), "--workers", "2", "--out", str(out)])
    assert res.exit_code == 0 and "4 skipped" in res.output
    res = CliRunner().invoke(report_cmd, [str(out), "--bootstrap", "200"])
    assert res.exit_code == 0, res.output
    assert "## Outcomes per arm" in res.output and "`hands`" in res.output
    for f in ("results.csv", "summary.md", "outcomes.png", "trajectories.png"):
        assert (out / "report" / f).is_file()


def test_ensure_run_is_idempotent_in_process(tmp_path):
    # (the arm's intervention at tick 40 would lie after a 20-tick run: refused since issue 22)
    spec = write_spec(tmp_path, spec_text(ticks=20, replicates=1, arms=ARMS.replace("40", "10")))
    exp = load_experiment(spec)
    task = make_task(exp, tmp_path / "out", "control", 0)
    first = ensure_run(task)
    second = ensure_run(task)
    assert (first["action"], second["action"]) == ("ran", "skipped")
    assert first["ended"] == second["ended"] == "completed"


def test_branch_with_event_triggers_warns_that_earlier_events_are_missed(tmp_path):
    arms = ARMS.replace("tick: 40", "trigger: intelligent")
    exp = load_experiment(write_spec(tmp_path, spec_text(extra="branch_tick: 30\n", arms=arms)))
    assert (
        len(exp.notes) == 1
        and "only sees species that become intelligent after branch_tick 30" in exp.notes[0]
    )
    assert load_experiment(write_spec(tmp_path, spec_text(arms=arms), "nobranch.yaml")).notes == []


def test_the_hard_paths_experiment_is_valid():
    spec = Path(__file__).parents[2] / "worlds" / "experiments" / "hard_paths.yaml"
    exp = load_experiment(spec)
    assert exp.control == "control" and list(exp.arms) == [
        "control",
        "manipulators",
        "fire_substitute",
        "both",
        "soft_relief",
        "clamp_sociality",
        "clamp_childhood",
    ]
    ivs = {a: [(iv.when.trigger or f"tick {iv.when.tick}", iv.effect.kind) for iv in w.interventions]
           for a, w in exp.arms.items()}  # fmt: skip
    assert ivs == {
        "control": [],
        "manipulators": [("intelligent", "manipulators")],
        # intelligent aquatic species (`gated` on fire never fires for handless cetaceans: they hold no
        # stone tools, so nothing holds them below fire; worlds/experiments/hard_paths.yaml)
        "fire_substitute": [("intelligent", "fire_substitute")],
        "both": [("intelligent", "manipulators"), ("intelligent", "fire_substitute")],
        "soft_relief": [("stuck", "gene_bounds")] * 3,
        "clamp_sociality": [("tick 0", "gene_bounds")],
        "clamp_childhood": [("tick 0", "gene_bounds")],
    }
    hands = exp.arms["manipulators"].interventions[0].effect
    assert hands.energy_cost is None  # the default: the dexterity upkeep at the granted level
    ladder = {m.name: m for m in exp.arms["control"].technology.ladder}
    assert ladder["fire"].needs_land and max(m.min_dexterity for m in ladder.values()) <= 0.6
    assert (
        not exp.notes and exp.spec.replicates >= 24 and len(set(exp.seeds)) == exp.spec.replicates
    )


def test_a_failing_replicate_does_not_stop_the_others(tmp_path, scheduler):
    spec = write_spec(
        tmp_path, spec_text(ticks=20, replicates=2, arms="arms:\n  - name: control\n")
    )
    exp = load_experiment(spec)
    out = tmp_path / "out"
    write_manifest(exp, out)
    (out / "control" / "rep-1").mkdir(parents=True)
    (out / "control" / "rep-1" / "notes.txt").write_text("mine")  # not a run's file: never deleted
    outcome = run_experiment(exp, out, scheduler=scheduler)
    assert [(a, k) for a, k, _ in outcome.failures] == [("control", 1)]
    assert "holds files that are not a run's" in outcome.failures[0][2]
    assert (
        outcome.count("ran") == 1
        and (out / "control" / "rep-1" / "notes.txt").read_text() == "mine"
    )
