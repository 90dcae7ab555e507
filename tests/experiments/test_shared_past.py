"""``branch_tick: auto``: arms share each replicate's past until their interventions first apply,
and every arm's run is the one it makes from tick 0."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evosim.errors import ConfigError
from evosim.experiments.experiment import ArmsReplicates, load_experiment
from evosim.experiments.shared_past import POINTS_FILE, branching_arms, read_points
from evosim.io.checkpoint import tick_of
from tests.experiments.test_experiment import ARMS as PLAIN_ARMS
from tests.experiments.test_experiment import run_experiment, spec_text, write_spec
from tests.helpers import read_summary

# test_experiment's control and hands (granting at tick 43), and three more
ARMS = (
    PLAIN_ARMS.replace("tick: 40", "tick: 43")
    + """\
  - name: crowded
    interventions:
      - name: cull
        when: {trigger: population_above, value: 100000}
        target: {all: true}
        effect: {kind: cull, share: 0.5}
  - name: at_start
    interventions:
      - name: fire
        when: {tick: 0}
        target: {species: [swimmer]}
        effect: {kind: fire_substitute}
  - name: wider
    overrides: {world.width: 40}
"""
)

AUTO = "branch_tick: auto\ncheckpoint_every: 20\n"
LOGS = ("timeseries.csv", "species.csv", "config.yaml")


def _events(folder: Path) -> list[str]:
    return [ln for ln in (folder / "events.csv").read_text().splitlines() if ",branch," not in ln]


@pytest.fixture(scope="module")
def pair(tmp_path_factory, scheduler):
    """The same experiment run with ``branch_tick: auto`` and without sharing."""
    tmp = tmp_path_factory.mktemp("auto")
    shared = load_experiment(
        write_spec(
            tmp,
            spec_text(ticks=80, replicates=2, extra=AUTO, arms=ARMS),
        )
    )
    plain = load_experiment(
        write_spec(
            tmp,
            spec_text(ticks=80, replicates=2, extra="checkpoint_every: 20\n", arms=ARMS),
            "plain.yaml",
        )
    )
    a, b = tmp / "auto", tmp / "plain"
    oa = run_experiment(shared, a, scheduler=scheduler)
    ob = run_experiment(plain, b, scheduler=scheduler)
    assert not oa.failures and not ob.failures
    return shared, a, b


def test_every_arm_is_the_run_it_makes_from_tick_0(pair):
    exp, a, b = pair
    for arm in exp.arms:
        for k in range(2):
            fa, fb = a / arm / f"rep-{k}", b / arm / f"rep-{k}"
            for name in LOGS:
                assert (fa / name).read_bytes() == (fb / name).read_bytes(), (arm, k, name)
            assert _events(fa) == _events(fb), (arm, k)
            assert read_summary(fa, timing=False) == read_summary(fb, timing=False), (arm, k)


def test_arms_branch_from_the_newest_base_checkpoint_before_they_fire(pair):
    exp, a, _ = pair
    assert branching_arms(exp) == ["control", "hands", "crowded", "at_start"]  # not `wider`
    for k in range(2):
        points = read_points(a / "_base" / f"rep-{k}")
        assert set(points) == {"hands", "at_start"}  # control and crowded never fire
        assert points["hands"] == {
            "fires_at": 43,
            "interventions": ["grant"],
            "checkpoint": "branch_points/ckpt-0000000040.json",
        }
        assert points["at_start"]["fires_at"] == 0 and points["at_start"]["checkpoint"] is None
        events = {arm: (a / arm / f"rep-{k}" / "events.csv").read_text() for arm in exp.arms}
        assert "branched from ckpt-0000000040.json" in events["hands"]
        assert "branched from ckpt-0000000080.json" in events["control"]  # the base's last
        assert "branched from ckpt-0000000080.json" in events["crowded"]
        assert ",branch," not in events["at_start"] and ",branch," not in events["wider"]
        assert read_summary(a / "_base" / f"rep-{k}")["ticks_run"] == 80


def test_a_rerun_skips_and_a_finished_replicate_needs_no_base(pair, scheduler):
    exp, a, _ = pair
    again = run_experiment(exp, a, scheduler=scheduler)
    assert not again.failures and again.count("skipped") == len(exp.arms) * 2
    assert all(t.base is None for t in ArmsReplicates(exp).tasks(a.resolve()))


def test_an_unshared_folder_goes_on_with_auto(tmp_path, pair, scheduler):
    """The same runs: a folder made without sharing takes more replicates with ``auto``."""
    exp, _, plain = pair
    out = tmp_path / "grown"
    shutil.copytree(plain, out)
    spec = write_spec(
        tmp_path,
        spec_text(ticks=80, replicates=3, extra=AUTO, arms=ARMS),
    )
    grown = load_experiment(spec)
    outcome = run_experiment(grown, out, scheduler=scheduler)
    assert not outcome.failures and outcome.count("ran") == len(exp.arms)
    assert sorted(p.name for p in (out / "_base").iterdir() if p.is_dir()) == ["rep-2"]
    assert (
        json.loads((out / "_base" / "rep-2" / POINTS_FILE).read_text())["points"]["hands"][
            "fires_at"
        ]
        == 43
    )


def test_a_base_stops_once_every_arm_it_watches_has_fired(tmp_path, pair, scheduler):
    """Control already run: the base watches the other arms only, and ends when both have fired."""
    exp, _, plain = pair
    out = tmp_path / "o"
    out.mkdir()
    shutil.copy(plain / "experiment.json", out)
    shutil.copytree(plain / "control", out / "control")
    arms = ARMS[: ARMS.index("  - name: crowded")] + ARMS[ARMS.index("  - name: at_start") :]
    spec = write_spec(tmp_path, spec_text(ticks=80, replicates=2, extra=AUTO, arms=arms))
    outcome = run_experiment(load_experiment(spec), out, scheduler=scheduler)
    assert not outcome.failures and outcome.count("skipped") == 2
    for k in range(2):
        base = out / "_base" / f"rep-{k}"
        assert read_summary(base)["ticks_run"] == 43  # hands fires at 43: nothing left to watch
        assert set(json.loads((base / POINTS_FILE).read_text())["watched"]) == {"hands", "at_start"}
        for arm in ("hands", "at_start"):
            fa, fb = out / arm / f"rep-{k}", plain / arm / f"rep-{k}"
            for name in LOGS:
                assert (fa / name).read_bytes() == (fb / name).read_bytes(), (arm, k, name)
            assert _events(fa) == _events(fb)


def test_a_resumed_base_keeps_its_points(tmp_path):
    """Killed after a pin: the resumed base keeps the point and pins the rest the same."""
    from evosim.experiments.shared_past import ensure_base

    exp = load_experiment(
        write_spec(
            tmp_path,
            spec_text(ticks=80, replicates=1, extra=AUTO, arms=ARMS),
        )
    )
    base = next(t.base for t in ArmsReplicates(exp).tasks(tmp_path.resolve() / "o") if t.base)
    whole = ensure_base(base)
    first = read_points(base.folder)
    folder = Path(base.folder)
    # cut the base back to its tick-60 checkpoint, as a kill after it would have left it
    (folder / "summary.json").unlink()
    for hp in sorted((folder / "checkpoints").glob("ckpt-*.json")):
        if tick_of(hp) > 60:
            hp.unlink()
            hp.with_suffix(".npz").unlink()
    resumed = ensure_base(base)
    assert resumed["action"] == "resumed" and read_points(folder) == first
    assert resumed["checkpoints"] == whole["checkpoints"]


@pytest.mark.parametrize(
    "arms, expected",
    [
        (
            ARMS.replace("when: {tick: 43}", "when: {trigger: gated, milestone: metallurgy}"),
            [
                "arm 'hands': intervention 'grant' has trigger gated",
                "branch_tick: auto cannot tell",
            ],
        ),
    ],
)
def test_auto_refuses_a_gated_trigger(tmp_path, arms, expected):
    spec = write_spec(tmp_path, spec_text(extra="branch_tick: auto\n", arms=arms))
    with pytest.raises(ConfigError) as err:
        load_experiment(spec)
    for part in expected:
        assert part in str(err.value)


def test_the_dry_run_says_how_arms_share_and_that_the_estimate_is_a_bound(tmp_path):
    from click.testing import CliRunner

    from evosim.cli.experiment import experiment as experiment_cmd

    spec = write_spec(tmp_path, spec_text(extra=AUTO, arms=ARMS))
    r = CliRunner().invoke(experiment_cmd, [str(spec), "--out", str(tmp_path / "o"), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "sharing each replicate's past until an arm's interventions first apply" in r.output
    assert "an upper bound" in r.output and not (tmp_path / "o").exists()


def test_the_closing_lines_say_how_much_was_taken_over(tmp_path):
    from click.testing import CliRunner

    from evosim.cli.experiment import experiment as experiment_cmd

    spec = write_spec(tmp_path, spec_text(ticks=80, replicates=1, extra=AUTO, arms=ARMS))
    r = CliRunner().invoke(
        experiment_cmd, [str(spec), "--out", str(tmp_path / "o"), "-q", "--workers", "1"]
    )
    assert r.exit_code == 0, r.output
    # control and crowded take over all 80 ticks, hands 40 (its point); at_start and wider none
    assert "shared pasts: 200 of the 400 ticks of the replicates made (50%)" in r.output
