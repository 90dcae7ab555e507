"""Issue 22: every command, every bad input — a clear refusal, never a traceback or a quiet wrong answer.

One test (or more) per row of the issue's table; the table-driven read-only /
full-filesystem test is ``test_unwritable.py``, the checkpoint and signal rows
are in ``tests/io``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dendropy
import pandas as pd
import pytest

from evosim.io.logs import load_run, populations
from evosim.io.runner import run as run_world
from tests.helpers import TINY, TINY_FILE, assert_one_line, set_args

ROOT = Path(__file__).resolve().parents[2]


def evosim(*args: object, cwd: Path, env: dict | None = None, timeout: float = 300):
    """``python -m evosim ARGS`` with stdout and stderr piped (not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "evosim", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


# ------------------------------------------------------------------ row 1
@pytest.fixture(scope="module", params=[("NA", "nan"), ("None", "NaN")], ids=["NA-nan", "None-NaN"])
def na_named(request, tmp_path_factory):
    """A finished tiny run whose two species bear names a CSV reader takes for missing values."""
    from evosim.config.load import load_world

    a, b = request.param
    out = tmp_path_factory.mktemp("na") / "run"
    world = load_world(TINY_FILE, [f"species.grazer.name={a}", f"species.swimmer.name={b}"])
    run_world(world, out, ticks=30)
    return out, (a, b)


def test_names_like_missing_values_survive_load_run(na_named):
    out, names = na_named
    run = load_run(out)
    assert sorted(run.species["name"]) == sorted(names)
    assert set(run.timeseries["name"]) == set(names)
    assert list(populations(run.timeseries).columns) == sorted(names)  # was: duplicate entries


def test_names_like_missing_values_survive_plot_and_newick(na_named, cli, tmp_path):
    out, names = na_named
    copy = shutil.copytree(out, tmp_path / "copy", ignore=shutil.ignore_patterns("checkpoints"))
    r = cli("plot", copy)
    assert r.exit_code == 0, r.output
    assert (copy / "plots" / "phylogeny.png").stat().st_size > 10_000
    r = cli("plot", copy, "--newick", "-")
    assert r.exit_code == 0, r.output
    tree = dendropy.Tree.get(data=r.stdout, schema="newick", preserve_underscores=True)
    assert sorted(t.taxon.label for t in tree.leaf_node_iter()) == sorted(names)
    assert "<NA>" not in r.stdout


def test_names_like_missing_values_survive_report(na_named, cli, tmp_path):
    out, names = na_named
    for arm in ("control", "other"):
        for k in (0, 1):
            shutil.copytree(out, tmp_path / "exp" / arm / f"rep-{k}")
    r = cli("report", tmp_path / "exp", "--no-plots", "--bootstrap", 100)
    assert r.exit_code == 0, r.output
    runs = (tmp_path / "exp" / "report" / "clades.csv").read_text()
    assert all(n in runs for n in names)


# ------------------------------------------------------------------ row 4
@pytest.mark.parametrize("driver", ["x11", "wayland", "bogus"])
def test_a_video_driver_that_cannot_start_gives_the_window_hint(driver, tmp_path):
    r = evosim("view", TINY_FILE, cwd=tmp_path, env={"DISPLAY": ":99", "SDL_VIDEODRIVER": driver},
               timeout=120)  # fmt: skip
    assert r.returncode == 2, r.stderr
    last = r.stderr.strip().splitlines()[-1]  # SDL itself may print a line of its own before
    assert_one_line(last, "cannot open a window", f"{driver} not available", "--screenshot")
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------ row 12
@pytest.mark.parametrize(
    "args",
    [
        ["run", "--out", "", "--ticks", 1],
        ["run", "", "--ticks", 1],
        ["experiment", "spec.yaml", "--out", ""],
        ["sweep", "spec.yaml", "--out", ""],
        ["replay", "spec.yaml", "--out", ""],
        ["replay", "spec.yaml", "--source", ""],
        ["report", "somewhere", "--out", ""],
        ["init", "-o", ""],
        ["schema", "-o", ""],
        ["plot", "somewhere", "--newick", ""],
        ["view", "--screenshot", ""],
        ["view", "--frames", ""],
    ],
)
def test_an_empty_path_is_refused(cli, tmp_path, args):
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert "an empty name" in r.output
    assert list(tmp_path.iterdir()) == []  # no runs/ folder, nothing written


# ------------------------------------------------------------------ row 15
def test_a_world_that_dies_at_once_reads_as_a_sentence(cli, tmp_path):
    r = cli(
        "run", TINY_FILE, "--ticks", 20, "--out", "dead", "--set", "physiology.base_metabolism=1000"
    )
    assert r.exit_code == 0, r.output
    first = r.stdout.splitlines()[0]
    assert first.startswith("extinct after 1 tick: no species is left; "), first
    assert "(extinct, 1 tick)" in r.stdout and ": ;" not in r.stdout


# ------------------------------------------------------------------ row 16
def test_no_stray_label_line_when_stderr_is_not_a_terminal(tmp_path):
    r = evosim("run", "--ticks", 3, "--out", "x", *set_args(TINY), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "tiny seed 0" not in r.stderr, r.stderr
    r = evosim("run", "--ticks", 3, "--out", "x", "--set", "world.width=5", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("evosim: error: "), r.stderr


# ------------------------------------------------------------------ newcomer: run on an experiment file
@pytest.mark.parametrize(
    "spec, command",
    [("hard_paths.yaml", "evosim experiment"), ("hard_paths_sweep.yaml", "evosim sweep")],
)
def test_running_an_experiment_file_names_the_command_that_runs_it(cli, spec, command):
    path = ROOT / "worlds" / "experiments" / spec
    for cmd in ("run", "validate"):
        r = cli(cmd, path)
        assert r.exit_code == 2, r.output
        assert_one_line(r.stderr.strip(), "this is an", f"{command} {path}")
        assert "unknown key" not in r.stderr


# ------------------------------------------------------------------ rows 9 and 10
@pytest.fixture
def run_copy(four_founders_run, tmp_path):
    return shutil.copytree(
        four_founders_run, tmp_path / "run", ignore=shutil.ignore_patterns("checkpoints", "plots")
    )


def test_plot_of_a_run_stopped_before_species_csv_says_what_it_could_not_draw(cli, run_copy):
    (run_copy / "species.csv").unlink()
    r = cli("plot", run_copy)
    assert r.exit_code == 0, r.output
    notes = [x for x in r.stderr.splitlines() if x.startswith("note: ")]
    assert notes and "phylogeny.png: no species.csv" in notes[0] and "--resume" in notes[0]
    assert (run_copy / "plots" / "population.png").stat().st_size > 20_000


def test_a_log_torn_mid_row_is_named_with_its_line_and_the_repair(cli, run_copy):
    from evosim.errors import RunFolderError

    ts = run_copy / "timeseries.csv"
    lines = ts.read_text().splitlines(keepends=True)
    ts.write_text("".join(lines[:40]) + lines[40][: len(lines[40]) // 3])
    with pytest.raises(RunFolderError, match=r"timeseries.csv: line 41 has \d+ of its \d+ fields"):
        load_run(run_copy)
    r = cli("plot", run_copy)
    assert r.exit_code == 1
    assert_one_line(r.stderr.strip(), "timeseries.csv: line 41", f"evosim run --resume {run_copy}")


# ------------------------------------------------------------------ row 5
LATE_SPEC = """\
name: late
world: {world}
ticks: 300
replicates: 2
arms:
  - name: control
  - name: late
    interventions:
      - name: grant
        when: {{tick: {tick}}}
        target: {{species: [swimmer]}}
        effect: {{kind: manipulators, level: 0.8}}
"""


def test_an_arm_intervention_after_the_last_tick_is_refused_at_validation(cli, tmp_path):
    spec = tmp_path / "late.yaml"
    spec.write_text(LATE_SPEC.format(world=TINY_FILE, tick=100000))
    for args in (["--dry-run"], ["--workers", 1]):
        r = cli("experiment", spec, "--out", tmp_path / "out", *args)
        assert r.exit_code == 2, r.output
        assert_one_line(r.stderr.strip(), "arm 'late'", "when.tick 100000", "0..300", "never apply")
        assert not (tmp_path / "out").exists()
    spec.write_text(LATE_SPEC.format(world=TINY_FILE, tick=100))
    r = cli("experiment", spec, "--out", tmp_path / "out", "--dry-run")
    assert r.exit_code == 0, r.output


# ------------------------------------------------------------------ row 13
def test_report_warns_when_hand_built_replicates_differ_in_length_or_world(cli, tmp_path):
    from evosim.config.load import load_world

    exp = tmp_path / "exp"
    for arm, k, ticks, sets in [("control", 0, 60, []), ("control", 1, 60, []),
                                ("more", 0, 15, []), ("more", 1, 60, ["physiology.intake=2.5"])]:  # fmt: skip
        run_world(load_world(TINY_FILE, sets), exp / arm / f"rep-{k}", ticks=ticks, seed=k)
    r = cli("report", exp, "--no-plots", "--bootstrap", 100)
    assert r.exit_code == 0, r.output
    warnings = [x for x in r.stderr.splitlines() if x.startswith("warning: ")]
    assert len(warnings) == 2, r.stderr
    assert "differ in length: 15 ticks (more rep-0), 60 ticks (" in warnings[0]
    assert "arm 'more' differ in their world" in warnings[1]
    # founders drawn per seed: the worlds differ in their species only, which a note says
    from evosim.reports.outcomes import mixed_runs

    ws = {
        "a": {
            "rep-0": json.dumps({"species": [1], "x": 1}),
            "rep-1": json.dumps({"species": [2], "x": 1}),
        }
    }
    runs_df = pd.DataFrame({"arm": ["a", "a"], "replicate": [0, 1], "horizon": [60, 60]})
    (note,) = mixed_runs(runs_df, ws)
    assert note.startswith("note: the replicates of 'a' differ only in their founding species")
    ws["a"]["rep-1"] = json.dumps({"species": [2], "x": 2})
    assert mixed_runs(runs_df, ws)[0].startswith("WARNING: the replicates of arm 'a' differ")
    assert "WARNING: the replicates differ in length" in (exp / "report" / "summary.md").read_text()
    # the same folders at one length and one world per arm: no warning
    shutil.rmtree(exp / "more")
    for k in (0, 1):
        shutil.copytree(exp / "control" / f"rep-{k}", exp / "more" / f"rep-{k}")
    r = cli("report", exp, "--no-plots", "--bootstrap", 100, "--out", tmp_path / "rep2")
    assert r.exit_code == 0 and "warning:" not in r.stderr, r.stderr


# ------------------------------------------------------------------ newcomer: the cost of an experiment
def test_the_cost_of_one_earthlike_run_is_the_benchmark():
    from evosim.analysis.cost import (
        EARTHLIKE_POPULATION,
        EARTHLIKE_RUNS_PER_CORE_HOUR,
        cost_text,
        run_core_seconds,
    )
    from evosim.config.load import load_world

    earth = load_world(ROOT / "worlds" / "earthlike.yaml")
    assert run_core_seconds(earth, 10_000) == pytest.approx(3600 / EARTHLIKE_RUNS_PER_CORE_HOUR)
    assert run_core_seconds(earth, 5_000) == pytest.approx(1800 / EARTHLIKE_RUNS_PER_CORE_HOUR)
    quarter = load_world(
        ROOT / "worlds" / "earthlike.yaml", ["world.width=128", "world.height=128"]
    )
    # a quarter of the cells carries 3,700 agents at the earthlike density, fewer than its 6,000 founders
    assert EARTHLIKE_POPULATION / 4 < 6000
    assert run_core_seconds(quarter, 10_000) == pytest.approx(
        3600 / EARTHLIKE_RUNS_PER_CORE_HOUR * 6000 / EARTHLIKE_POPULATION
    )
    assert cost_text(168 * 3600 / 94, 2) == "1.8 core-hours: about 54 min on 2 workers"


def test_dry_run_hint_and_bar_give_the_experiments_estimate(cli, tmp_path):
    r = cli("experiment", ROOT / "worlds" / "experiments" / "hard_paths.yaml", "--dry-run",
            "--workers", 2, "--out", tmp_path / "hp")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "estimate: 168 replicate(s) to run, 3.6 core-hours: about 1.8 h on 2 workers (from the " \
           "earthlike benchmark, 141 runs per core-hour" in r.stdout  # fmt: skip
    r = evosim("run", "--ticks", 3, "--out", tmp_path / "x", *set_args(TINY), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    hint = r.stdout[r.stdout.index("Next:") :]  # its comment wrapped to 88 columns (not a terminal)
    assert (
        "then evosim report; 168 runs of 30,000 ticks, at most 3.6 core-hours: about 1.8 h on 2 workers"
        in " ".join(x.removeprefix("  # ") for x in hint.splitlines())
    )
    comment = hint[hint.index("  # the hard-paths") : hint.index("  evosim experiment")]
    assert len(comment.splitlines()) > 1 and all(len(x) <= 88 for x in comment.splitlines()), hint


def test_the_experiment_at_a_terminal_says_the_estimate_before_its_bar(tmp_path):
    from tests.cli.terminal import in_pty

    spec = tmp_path / "late.yaml"
    spec.write_text(LATE_SPEC.format(world=TINY_FILE, tick=10).replace("ticks: 300", "ticks: 20"))
    r = in_pty("experiment", spec, "--workers", 1, "--out", "out", cwd=tmp_path, cols=80)
    assert r.exit_code == 0, r.output
    assert (
        "running 4 replicate(s) on a local cluster of 1 worker process(es); estimated under a "
        "core-minute: under a minute on 1 worker\n" in r.output
    ), r.output
    # the bar: no estimate beside its own times, and within the 80 columns
    bars = [x for x in r.output.replace("\n", "\r").split("\r") if x.startswith("replicates")]
    assert bars and all(len(x) <= 79 and "estimated" not in x for x in bars), bars
    assert bars[-1].startswith("replicates  [####") and " 4/4  took 0:" in bars[-1], bars


def test_a_key_an_older_evosim_did_not_write_is_not_a_different_world():
    # an extended run's config.yaml gains keys a newer evosim writes with their defaults
    # (compute.neural_*): its world is still the older replicates' world
    from evosim.config.load import load_world
    from evosim.reports.outcomes import _world_of

    new = load_world(TINY_FILE).model_dump(mode="json")
    old = json.loads(json.dumps(new))
    del old["compute"]["neural_exponent"]
    assert _world_of(old) == _world_of(new)
    old["compute"]["neural_exponent"] = 2.0  # a value that is not the default is a difference
    assert _world_of(old) != _world_of(new)
