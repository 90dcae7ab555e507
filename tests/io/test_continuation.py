"""Resume and branch (--resume, --from): lengths, final checkpoints, worlds a branch may not change,
other technology ladders, interventions that could never apply."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from evosim.io.logs import load_run
from tests.helpers import TINY, folder_bytes, read_summary, set_args

SETS = set_args({**TINY, "output.sample_every": 7, "output.lineage": True})
IV = "{name: %s, when: %s, target: {all: true}, effect: {kind: fire_substitute}}"


def rows(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def ok(r):
    assert r.exit_code == 0, r.output
    return r


# ---------------------------------------------------------------- final checkpoint (8), length (6)
def test_checkpoint_every_0_still_writes_the_final_state(cli, tmp_path):
    out = tmp_path / "run"
    ok(cli("run", "--out", out, "--ticks", 20, "--checkpoint-every", 0, "-q", *SETS))
    assert [p.name for p in (out / "checkpoints").glob("*.json")] == ["ckpt-0000000020.json"]
    ok(cli("run", "--resume", out, "--ticks", 30, "-q"))
    assert read_summary(out)["ticks_run"] == 30
    ckpt = out / "checkpoints" / "ckpt-0000000030.json"
    ok(cli("run", "--from", ckpt, "--out", tmp_path / "b", "--ticks", 40, "-q"))
    assert read_summary(tmp_path / "b")["ticks_run"] == 40


def test_extending_a_run_records_its_length_and_config_yaml_repeats_it(cli, tmp_path):
    out = tmp_path / "run"
    ok(
        cli(
            "run",
            "--out",
            out,
            "--ticks",
            40,
            "--checkpoint-every",
            10,
            "--record-every",
            6,
            *SETS,
            "-q",
        )
    )
    ok(cli("run", "--resume", out, "--ticks", 60, "-q"))
    config = yaml.safe_load((out / "config.yaml").read_text(encoding="utf-8"))
    assert config["sim"]["ticks"] == 60
    again = tmp_path / "again"
    ok(cli("run", out / "config.yaml", "--out", again, "-q"))
    skip = ["checkpoints", "config.yaml"]
    assert folder_bytes(out, exclude=skip) == folder_bytes(again, exclude=skip)
    # and the extended run resumes again: its own, older checkpoints still belong to it
    ok(cli("run", "--resume", out, "--ticks", 70, "-q"))
    assert read_summary(out)["ticks_run"] == 70


def test_a_length_already_passed_is_refused_or_reported(cli, tmp_path):
    out = tmp_path / "run"
    ok(cli("run", "--out", out, "--ticks", 40, "-q", *SETS))
    before = folder_bytes(out)
    r = cli("run", "--resume", out, "--ticks", 30, "-q")
    assert (
        r.exit_code == 2 and "already at tick 40" in r.output and "Nothing was changed" in r.output
    )
    assert folder_bytes(out) == before
    r = ok(cli("run", "--resume", out, "--ticks", 40, "-q"))
    assert "already at tick 40" in r.output and "nothing to simulate" in r.output
    assert folder_bytes(out, exclude=["checkpoints"]) == folder_bytes_without(before, "checkpoints")


def folder_bytes_without(files: dict[str, bytes], folder: str) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if not k.startswith(folder + "/")}


# ---------------------------------------------------------------- a branch keeps tick-0 keys (5)
@pytest.fixture
def base(cli, tmp_path):
    """A 20-tick tiny run with a checkpoint at tick 10; returns that checkpoint's header."""
    out = tmp_path / "base"
    ok(cli("run", "--out", out, "--ticks", 20, "--checkpoint-every", 10, "-q", *SETS))
    return out / "checkpoints" / "ckpt-0000000010.json"


@pytest.mark.parametrize(
    "sets, words",
    [
        (["species.grazer.count=61"], ["changes species"]),
        (["species.grazer.genes.brain.mutation=0.1"], ["changes species"]),
        (["world.habitat.land_fraction=0.7"], ["changes world.habitat"]),
        (["world.width=40"], ["the checkpoint's grid is 32x32"]),
    ],
)
def test_branch_refuses_a_world_with_other_founders_habitat_or_grid(
    cli, base, tmp_path, sets, words
):
    r = cli("run", "--from", base, "--out", tmp_path / "b", "--ticks", 30, "-q", *set_args(sets))
    assert r.exit_code == 2, r.output
    assert all(w in r.output for w in words) and "Traceback" not in r.output, r.output
    assert not (tmp_path / "b").exists()


def test_branch_refuses_an_unrelated_world_file(cli, base, tmp_path, world_file):
    other = world_file(
        "world: {width: 32, height: 32, habitat: {land_fraction: 0.4, smoothness: 12.0}}\n"
        "species: [{name: whale, count: 50}, {name: crab, count: 50}]\n",  # the tiny world's habitat
        "other.yaml",
    )
    r = cli("run", other, "--from", base, "--out", tmp_path / "b", "--ticks", 30, "-q")
    assert r.exit_code == 2 and "changes species" in r.output, r.output


def test_branch_may_change_other_parameters(cli, base, tmp_path):
    ok(cli("run", "--from", base, "--out", tmp_path / "b", "--ticks", 30, "-q",
           "--set", "physiology.food_energy=2.0"))  # fmt: skip
    assert read_summary(tmp_path / "b")["ticks_run"] == 30


# ---------------------------------------------------------------- another ladder (3)
def test_branch_under_another_ladder_keeps_one_header_and_no_value_under_old_names(
    cli, base, tmp_path
):
    ladder = "technology.ladder=[{name: knots, threshold: 0.0001}, {name: wheels, threshold: 500}]"
    out = tmp_path / "b"
    # the founders are still juveniles at tick 10 with no adult to learn from: the branch makes them
    # adults that innovate, so some come to hold knots
    ok(cli("run", "--from", base, "--out", out, "--ticks", 30, "--checkpoint-every", 5, "-q",
           "--set", ladder, "--set", "traits.childhood.maturity_max=5",
           "--set", "culture.innovation_rate=0.5"))  # fmt: skip
    table = rows(out / "timeseries.csv")
    header = table[0]
    old = [
        "share_stone_tools",
        "share_fire",
        "share_cooking",
        "share_agriculture",
        "share_metallurgy",
    ]
    assert header[-7:] == [*old, "share_knots", "share_wheels"]
    assert {len(r) for r in table} == {len(header)}, "ragged rows"
    col = {c: i for i, c in enumerate(header)}
    before = [r for r in table[1:] if int(r[0]) <= 10]
    after = [r for r in table[1:] if int(r[0]) > 10]
    assert before and after
    assert all(r[col["share_knots"]] == "" for r in before)
    assert all(r[col[c]] == "" for r in after for c in old)
    assert any(r[col["share_knots"]] not in ("", "0.0") for r in after if int(r[3]) > 0)
    ts = load_run(out).timeseries
    assert len(ts) == len(table) - 1 and "share_knots" in ts
    # resuming the branch keeps its header
    ok(cli("run", "--resume", out, "--ticks", 40, "-q"))
    table = rows(out / "timeseries.csv")
    assert table[0] == header and {len(r) for r in table} == {len(header)}


# ---------------------------------------------------------------- interventions that never apply (4)
@pytest.mark.parametrize(
    "when, words",
    [
        ("{tick: 25}", ["interventions[0] 'late': when.tick 25", "outside ticks 0..20"]),
        ("{every: 30, start: 21}", ["when.every 30 from start 21", "outside ticks 0..20"]),
    ],
)
def test_run_refuses_interventions_after_its_last_tick(cli, tmp_path, when, words):
    out = tmp_path / "run"
    r = cli(
        "run",
        "--out",
        out,
        "--ticks",
        20,
        "-q",
        *SETS,
        "--set",
        f"interventions=[{IV % ('late', when)}]",
    )
    assert r.exit_code == 2 and all(w in r.output for w in words), r.output
    assert "never apply" in r.output and not out.exists()


def test_branch_refuses_interventions_before_its_checkpoint(cli, base, tmp_path):
    r = cli("run", "--from", base, "--out", tmp_path / "b", "--ticks", 30, "-q",
            "--set", f"interventions=[{IV % ('early', '{tick: 10}')}]")  # fmt: skip
    assert r.exit_code == 2, r.output
    assert (
        "when.tick 10 lies outside ticks 11..30" in r.output
        and "after its checkpoint's tick 10" in r.output
    )
    ok(cli("run", "--from", base, "--out", tmp_path / "c", "--ticks", 30, "-q",
           "--set", f"interventions=[{IV % ('first', '{tick: 11}')}]"))  # fmt: skip
    assert "first: fire substitute" in (tmp_path / "c" / "events.csv").read_text(encoding="utf-8")


def test_interventions_that_never_applied_are_warned_about_at_the_end(cli, tmp_path):
    ivs = ", ".join([
        IV % ("clever", "{trigger: intelligent}"),
        "{name: nobody, when: {tick: 5}, target: {selector: {brain: {min: 0.99}}}, effect: {kind: fire_substitute}}",
        IV % ("applied", "{tick: 3}"),
    ])  # fmt: skip
    r = ok(
        cli(
            "run",
            "--out",
            tmp_path / "run",
            "--ticks",
            20,
            *SETS,
            "--set",
            f"interventions=[{ivs}]",
        )
    )
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("warning:")]
    assert warnings == [
        "warning: intervention 'clever' never applied: its trigger (intelligent) never fired for a "
        "species it targets",
        "warning: intervention 'nobody' never applied: it came due 1 time(s) but its target matched "
        "no species",
    ], r.stderr


def test_checkpoint_header_with_a_bad_tick_is_named_as_such(cli, base, tmp_path):
    header = json.loads(base.read_text())
    header["scalars"]["tick"] = "abc"
    base.write_text(json.dumps(header))
    r = cli("run", "--from", base, "--out", tmp_path / "b", "-q")
    assert r.exit_code == 2, r.output
    assert "checkpoint header is not usable" in r.output and "checksum mismatch" not in r.output
    assert "Traceback" not in r.output


def test_experiment_arm_with_another_ladder_branches_and_reports(cli, tmp_path):
    """An arm changing the ladder, branched from a shared base: one header per file; the report runs."""
    (tmp_path / "tiny.yaml").write_text(
        "world: {width: 32, height: 32}\nspecies:\n  - {name: grazer, count: 100}\n"
        "  - {name: swimmer, count: 100}\noutput: {sample_every: 5}\n",
        encoding="utf-8",
    )
    (tmp_path / "exp.yaml").write_text(
        "name: ladder\nworld: tiny.yaml\nseed: 1\nticks: 40\nreplicates: 1\nbranch_tick: 20\n"
        "arms:\n  - name: control\n  - name: ladder2\n    overrides:\n      technology.ladder: "
        "[{name: knots, threshold: 0.001}, {name: wheels, threshold: 500}]\n",
        encoding="utf-8",
    )
    ok(cli("experiment", tmp_path / "exp.yaml", "--workers", 1, "--out", tmp_path / "out", "-q"))
    table = rows(tmp_path / "out" / "ladder2" / "rep-0" / "timeseries.csv")
    assert table[0][-2:] == ["share_knots", "share_wheels"]
    assert {len(r) for r in table} == {len(table[0])}
    r = ok(cli("report", tmp_path / "out"))
    assert "Traceback" not in r.output and (tmp_path / "out" / "report" / "results.csv").is_file()


# ---------------------------------------------------------------- replay frames across a stop
@pytest.mark.parametrize("stop", [33, 50, 79])
def test_frames_of_a_run_stopped_at_any_tick_resume_byte_identical(tmp_path, stop):
    """Frames not yet written at an interruption go into its checkpoint, so the chunks come out the same."""
    import os
    import signal

    from evosim import load_world
    from evosim.io import runner

    o = {**TINY, "output.record_every": 5, "output.checkpoint_every": 25, "output.lineage": True}

    def progress(sim):
        if sim.tick == stop:
            os.kill(os.getpid(), signal.SIGINT)

    runner.run(load_world(overrides=o), tmp_path / "ref", ticks=80, seed=2)
    with pytest.raises(runner.Interrupted):
        runner.run(load_world(overrides=o), tmp_path / "run", ticks=80, seed=2, progress=progress)
    runner.resume(tmp_path / "run")
    ref = folder_bytes(tmp_path / "ref", exclude=["checkpoints"])
    assert sum(k.startswith("frames/chunk") for k in ref) >= 3
    assert folder_bytes(tmp_path / "run", exclude=["checkpoints"]) == ref
