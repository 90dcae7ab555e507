"""Sweeps on a real loopback Dask cluster: the design against SALib, killed workers, extension, refusals, report."""

from __future__ import annotations

import itertools
import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evosim.analysis.cost import cost_text
from evosim.cli.experiment import experiment as experiment_cmd
from evosim.cli.experiment import report as report_cmd
from evosim.cli.experiment import sweep as sweep_cmd
from evosim.errors import ConfigError
from evosim.experiments.batch import Cluster, run_design
from evosim.experiments.manifest import check_out, sweep_manifest
from evosim.experiments.sweep import load_sweep
from evosim.experiments.task import lock_path
from evosim.io import runner
from tests.helpers import one_paragraph, read_summary

# Founders' mean brain 0.5 and 0.3: a brain threshold swept over [0.2, 0.6] decides how many become
# intelligent (window 3 ticks), so the outcome varies over the design and a misaligned sample shows.
WORLD = """\
name: tiny
world: {width: 32, height: 32}
species:
  - {name: grazer, count: 150, genes: {habitat: {mean: 0.9}, brain: {mean: 0.5, sd: 0.02}}}
  - {name: swimmer, count: 150, genes: {habitat: {mean: 0.1}, brain: {mean: 0.3, sd: 0.02}}}
detectors: {intelligence_window: 3, min_population: 5}
output: {sample_every: 5}
"""

MORRIS = """\
sweep:
  sampler: morris
  samples: 3
  seed: 5
  parameters:
    detectors.brain_threshold: {range: [0.2, 0.6]}
    traits.brain.upkeep: {range: [0.1, 1.0]}
"""

GRID = """\
sweep:
  sampler: grid
  replicates: {reps}
  parameters:
    detectors.brain_threshold: {{values: [0.25, 0.4, 0.55]}}
    traits.brain.upkeep: {{values: [0.2, 0.8]}}
"""


def write_spec(folder: Path, body: str, name: str = "sweep.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(WORLD, encoding="utf-8")
    p = folder / name
    p.write_text(body, encoding="utf-8")
    return p


def spec_text(sweep: str, ticks: int = 40, extra: str = "") -> str:
    return f"name: tinysweep\nworld: tiny.yaml\nseed: 11\nticks: {ticks}\n{extra}{sweep}"


def mtimes(folder: Path) -> dict[Path, int]:
    return {
        p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file() and ".lock" not in p.name
    }


# --------------------------------------------------------------- no cluster
def test_designs_are_salibs_samples(tmp_path):
    from SALib.sample import latin, morris, sobol

    params = (
        "  parameters:\n    culture.alpha: {range: [0.5, 2.0]}\n"
        "    culture.beta: {range: [0.1, 1.0], scale: log}\n"
    )
    problem = {"num_vars": 2, "names": ["culture.alpha", "culture.beta"], "bounds": [[0.5, 2.0], [0.1, 1.0]],
               "dists": ["unif", "logunif"]}  # fmt: skip
    cases = {
        "morris": ("sampler: morris\n  samples: 4\n  levels: 6\n  seed: 3\n",
                   morris.sample(dict(problem), 4, num_levels=6, seed=3)),
        "sobol": ("sampler: sobol\n  samples: 8\n  seed: 3\n",
                  sobol.sample(dict(problem), 8, calc_second_order=False, seed=3)),
        "latin": ("sampler: latin\n  samples: 7\n  seed: 3\n", latin.sample(dict(problem), 7, seed=3)),
    }  # fmt: skip
    for name, (block, expected) in cases.items():
        sw = load_sweep(
            write_spec(tmp_path, spec_text(f"sweep:\n  {block}{params}"), f"{name}.yaml")
        )
        assert np.array_equal(sw.design.matrix, expected), name
        assert sw.runs == len(expected)
    sw = load_sweep(write_spec(tmp_path, spec_text(GRID.format(reps=2)), "grid.yaml"))
    assert sw.design.matrix.tolist() == [
        list(x) for x in itertools.product([0.25, 0.4, 0.55], [0.2, 0.8])
    ]
    assert sw.runs == 12 and len(set(sw.exp.seeds)) == 2
    # each sample's values reach every arm's world
    assert sw.world(3, "control").detectors.brain_threshold == 0.4
    assert sw.world(3, "control").traits.brain.upkeep == 0.8


@pytest.mark.parametrize(
    "sweep, expected",
    [
        ("sweep:\n  sampler: morris\n  parameters:\n    culture.alpha: {values: [1, 2]}\n",
         ["sweep (line 5): parameters.culture.alpha.values: sampler morris draws from ranges"]),
        ("sweep:\n  parameters:\n    detectors.brain_threshold: {range: [0.5, 1.5]}\n",
         ["sweep.parameters.detectors.brain_threshold.range (line 7): detectors.brain_threshold=1.5",
          "less than or equal to 1"]),
        ("sweep:\n  parameters:\n    traits.brain.upkep: {range: [0.1, 0.5]}\n",
         ["sweep.parameters.traits.brain.upkep.range (line 7)", "unknown key 'upkep'"]),
        ("sweep:\n  parameters:\n    culture.alpha: {range: [1, 0.5]}\n", ["low must be below high"]),
        ("sweep:\n  parameters:\n    culture.alpha: {range: [0, 1], scale: log}\n", ["needs a positive range"]),
        ("sweep:\n  sampler: sobol\n  samples: 6\n  parameters:\n    culture.alpha: {range: [0.5, 1]}\n",
         ["sampler sobol needs `samples` a power of 2"]),
        ("sweep:\n  sampler: latin\n  parameters:\n    culture.alpha: {range: [0.5, 1]}\n",
         ["sampler latin needs `samples`"]),
        ("replicates: 2\nsweep:\n  parameters:\n    culture.alpha: {range: [0.5, 1]}\n", ["`sweep.replicates`"]),
        ("overrides: {culture.alpha: 1.5}\nsweep:\n  parameters:\n    culture.alpha: {range: [0.5, 1]}\n",
         ["sweep.parameters.culture.alpha (line 8): the common overrides also sets 'culture.alpha'"]),
        ("overrides:\n  species[0].count: 5\nsweep:\n  parameters:\n    species.0.count: {values: [10, 20]}\n",
         ["the common overrides also sets 'species[0].count'"]),  # one key in two forms
        ("sweep:\n  parameters:\n    sim.ticks: {range: [5, 10]}\n", ["set by the experiment"]),
        ("sweep:\n  colour: red\n  parameters:\n    culture.alpha: {range: [0.5, 1]}\n",
         ["sweep.colour (line 6): unknown key 'colour'", "allowed here: parameters"]),
    ],
)  # fmt: skip
def test_bad_sweep_blocks_exit_2_with_one_paragraph(tmp_path, sweep, expected):
    spec = write_spec(tmp_path, spec_text(sweep))
    with pytest.raises(ConfigError) as err:
        load_sweep(spec)
    for part in expected:
        assert part in str(err.value), str(err.value)
    res = CliRunner().invoke(
        sweep_cmd, [str(spec), "--workers", "1", "--out", str(tmp_path / "out")]
    )
    assert res.exit_code == 2, res.output
    assert (
        one_paragraph(res.output) and "sweep.yaml" in res.output and not (tmp_path / "out").exists()
    )


def test_sweep_and_experiment_commands_refuse_each_others_files(tmp_path):
    spec = write_spec(tmp_path, spec_text(MORRIS))
    res = CliRunner().invoke(experiment_cmd, [str(spec), "--out", str(tmp_path / "o1")])
    assert (
        res.exit_code == 2
        and "has a `sweep` block" in res.output
        and not (tmp_path / "o1").exists()
    )
    plain = write_spec(tmp_path, spec_text("arms: [{name: control}]\n"), "plain.yaml")
    res = CliRunner().invoke(sweep_cmd, [str(plain), "--out", str(tmp_path / "o2")])
    assert (
        res.exit_code == 2
        and "has no `sweep` block" in res.output
        and not (tmp_path / "o2").exists()
    )


def test_a_changed_design_is_refused_and_appended_samples_are_not(tmp_path):
    out = tmp_path / "out"
    sw = load_sweep(write_spec(tmp_path, spec_text(MORRIS)))
    check_out(sw.exp, out, sweep_manifest(sw.exp, sw.design))
    (out).mkdir()
    (out / "experiment.json").write_text(json.dumps(sweep_manifest(sw.exp, sw.design)))
    more = load_sweep(
        write_spec(tmp_path, spec_text(MORRIS.replace("samples: 3", "samples: 5")), "more.yaml")
    )
    assert (
        more.design.matrix[:9].tolist() == sw.design.matrix.tolist()
    )  # SALib appends trajectories
    check_out(
        more.exp, out, sweep_manifest(more.exp, more.design)
    )  # fine: the finished samples keep their values
    for change, what in (("seed: 5", "seed: 6"), ("[0.2, 0.6]", "[0.2, 0.7]"), ("morris", "latin")):
        other = load_sweep(
            write_spec(tmp_path, spec_text(MORRIS.replace(change, what)), "other.yaml")
        )
        with pytest.raises(ConfigError, match="different sweep"):
            check_out(other.exp, out, sweep_manifest(other.exp, other.design))


def test_dry_run_counts_runs_and_estimates_core_hours_writing_nothing(tmp_path):
    spec = write_spec(tmp_path, spec_text(GRID.format(reps=2), ticks=400))
    res = CliRunner().invoke(
        sweep_cmd, [str(spec), "--out", str(tmp_path / "out"), "--dry-run", "--probe-ticks", "20"]
    )
    assert res.exit_code == 0, res.output
    assert (
        "grid design of 6 sample(s) over 2 parameter(s) x 1 arm(s) (control) x 2 replicate(s) = 12 runs"
        in res.output
    )
    line = next(x for x in res.output.splitlines() if x.startswith("estimate:"))
    agents = float(line.split(" ticks x ")[1].split(" agents")[0].replace(",", ""))
    rate = float(line.split(" agents / ")[1].split(" agent-steps/s")[0].replace(",", ""))
    assert agents > 0 and rate > 0
    # the product, said as a person would (not "0.00104 core-hours (0.0624 core-minutes)")
    cost = cost_text(12 * 400 * agents / rate, os.cpu_count() or 1)
    assert f" agent-steps/s = {cost} if the runs spread evenly; " in line, line
    assert "probe" in line and not (tmp_path / "out").exists()


def test_redetected_intelligence_is_exact_when_every_tick_is_logged(tmp_path):
    from evosim.config.load import load_world
    from evosim.io.logs import load_run
    from evosim.reports.thresholds import agreement, first_held, species_ticks

    write_spec(tmp_path, "unused")
    world = load_world(
        tmp_path / "tiny.yaml",
        overrides={"output.sample_every": 1, "detectors.brain_threshold": 0.4},
    )
    for seed in (1, 2):
        runner.run(world, tmp_path / f"r{seed}", ticks=30, seed=seed)
        run = load_run(tmp_path / f"r{seed}")
        got = {
            s: int(t[0])
            for s, t in species_ticks(run, "brain_threshold", [0.4]).items()
            if t[0] >= 0
        }
        logged = run.species.dropna(subset=["intelligent_at"])
        assert got == dict(zip(logged["id"].astype(int), logged["intelligent_at"].astype(int)))
        assert got and agreement(run)["intelligent"] == (True, True)
    # sampled every 5 ticks: a run of satisfying samples holds from its first sample; a gap breaks it
    ticks = np.array([5, 10, 15, 20, 30, 35])
    ok = np.array([[False, True, True, True, True, True], [True, True, False, True, True, True]])
    assert first_held(ticks, ok, window=11, step=5).tolist() == [20, -1]


# ------------------------------------------------------------------ cluster
def test_morris_sweep_survives_a_killed_worker_and_matches_salib(tmp_path, scheduler):
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    spec = write_spec(tmp_path, spec_text(MORRIS, ticks=160, extra="checkpoint_every: 10\n"))
    sw = load_sweep(spec)
    out = tmp_path / "out"
    box: dict = {}
    th = threading.Thread(
        target=lambda: box.setdefault("outcome", run_design(sw, out, Cluster(scheduler=scheduler)))
    )
    th.start()
    killed, victim = None, None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline and th.is_alive():
        for folder in out.glob("sample-*/control/rep-0"):
            ckpts = sorted((folder / "checkpoints").glob("ckpt-*.json"))
            if ckpts and int(ckpts[-1].stem[5:]) >= 30 and not (folder / "summary.json").exists():
                try:
                    killed = int(lock_path(folder).read_text().split()[0])
                except (OSError, IndexError, ValueError):
                    continue
                os.kill(killed, signal.SIGKILL)
                victim = folder
                break
        time.sleep(0.005)
    th.join(120)
    assert killed is not None, "every run finished before one could be killed"
    outcome = box["outcome"]
    assert not outcome.failures and len(outcome.results) == 9
    actions = {(r["sample"], r["arm"], r["replicate"]): r["action"] for r in outcome.results}
    i_victim = int(victim.parts[-3].split("-")[1])
    assert actions[(i_victim, "control", 0)] == "resumed"
    # the resumed run is the run an uninterrupted task would have made
    ref = tmp_path / "ref"
    runner.run(
        sw.world(i_victim, "control"), ref, ticks=160, seed=sw.exp.seeds[0], checkpoint_every=10
    )
    for name in ("timeseries.csv", "species.csv", "events.csv"):
        assert (victim / name).read_bytes() == (ref / name).read_bytes(), name
    assert read_summary(victim, timing=False) == read_summary(ref, timing=False)

    # the recorded design is SALib's morris sample
    problem = {"num_vars": 2, "names": ["detectors.brain_threshold", "traits.brain.upkeep"],
               "bounds": [[0.2, 0.6], [0.1, 1.0]]}  # fmt: skip
    x = morris_sample.sample(dict(problem), 3, num_levels=4, seed=5)
    manifest = json.loads((out / "experiment.json").read_text())
    assert np.array_equal(np.array(manifest["sweep"]["matrix"]), x)
    assert manifest["sweep"]["sampler"] == "morris" and manifest["sweep"]["levels"] == 4

    import evosim.cli.experiment as cli_experiment

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli_experiment, "at_terminal", lambda: True)  # as at a terminal: the bar
        res = CliRunner().invoke(report_cmd, [str(out), "--bootstrap", "200"])
    assert res.exit_code == 0, res.output
    assert "reading runs" in res.stderr
    rep = out / "report"
    samples = pd.read_csv(rep / "samples.csv").sort_values("sample")
    # samples.csv: the design's values and each sample's outcomes, straight from the run summaries
    assert np.allclose(samples[problem["names"]].to_numpy(), x)
    direct = [
        read_summary(out / f"sample-{i:04d}" / "control" / "rep-0")["intelligent_species"]
        for i in range(9)
    ]
    assert samples["intelligent"].tolist() == direct and samples["replicates"].eq(1).all()
    assert np.ptp(direct) > 0, (
        "the outcome must vary over the design for this test to mean anything"
    )
    # sensitivity.csv: SALib's Morris indices of the same outcome
    si = morris_analyze.analyze(dict(problem), x, np.array(direct, float), num_resamples=1000, conf_level=0.95,
                                num_levels=4, seed=0)  # fmt: skip
    sens = pd.read_csv(rep / "sensitivity.csv")
    got = sens[(sens["outcome"] == "intelligent") & (sens["kind"] == "value")].set_index(
        "parameter"
    )
    for k in ("mu", "mu_star", "sigma", "mu_star_conf"):
        assert np.allclose(got.loc[problem["names"], k].to_numpy(), np.asarray(si[k], float)), k
    for f in ("outcomes.png", "sensitivity.png", "thresholds.png", "thresholds.csv", "summary.md"):
        assert (rep / f).is_file(), f
    assert "## Sensitivity (SALib morris: mu_star ± mu_star_conf)" in res.output


def test_grid_sweep_extends_with_replicates_and_refuses_a_changed_design(tmp_path, scheduler):
    spec = write_spec(tmp_path, spec_text(GRID.format(reps=1)))
    out = tmp_path / "out"
    first = run_design(load_sweep(spec), out, Cluster(scheduler=scheduler))
    assert first.count("ran") == 6 and not first.failures
    before = mtimes(out)
    more = write_spec(tmp_path, spec_text(GRID.format(reps=2)), "more.yaml")
    second = run_design(load_sweep(more), out, Cluster(scheduler=scheduler))
    assert (second.count("skipped"), second.count("ran")) == (6, 6)
    assert {
        p: t for p, t in mtimes(out).items() if p in before and p.name != "experiment.json"
    } == {p: t for p, t in before.items() if p.name != "experiment.json"}  # finished runs untouched
    assert all(
        read_summary(out / f"sample-{i:04d}/control/rep-1")["ended"] == "completed"
        for i in range(6)
    )
    # another design into the same folder: one paragraph, exit 2, nothing written
    changed = write_spec(
        tmp_path, spec_text(GRID.format(reps=2).replace("0.55", "0.6")), "changed.yaml"
    )
    before = mtimes(out)
    res = CliRunner().invoke(sweep_cmd, [str(changed), "--out", str(out), "--scheduler", scheduler])
    assert res.exit_code == 2 and one_paragraph(res.output), res.output
    assert (
        "different sweep parameter ranges, values or scales" in res.output and mtimes(out) == before
    )

    # the grid's main effects, against a direct computation on samples.csv
    args = [str(out), "--bootstrap", "200", "--no-plots", "--brain-thresholds", "0.25,0.4,0.55"]
    res = CliRunner().invoke(report_cmd, args)
    assert res.exit_code == 0, res.output
    samples = pd.read_csv(out / "report" / "samples.csv")
    # the time-to-event outcomes per grid point (none of these 40-tick runs becomes technological)
    assert (samples["km_share_technological"] == 0).all()
    assert np.isinf(samples["km_median_ticks_to_technological"]).all()
    assert (samples["rmst_ticks_to_technological"] == 40).all()
    assert "## The grid: time to technology" in (out / "report" / "summary.md").read_text(
        encoding="utf-8"
    )
    for i, g in samples.groupby("sample"):
        reps = [
            read_summary(out / f"sample-{i:04d}/control/rep-{k}")["intelligent_species"]
            for k in (0, 1)
        ]
        assert g["intelligent"].iloc[0] == pytest.approx(np.mean(reps))
    y = samples["intelligent"].to_numpy(float)
    assert np.ptp(y) > 0
    sens = pd.read_csv(out / "report" / "sensitivity.csv")
    got = sens[(sens["outcome"] == "intelligent") & (sens["kind"] == "value")].set_index(
        "parameter"
    )
    for p in ("detectors.brain_threshold", "traits.brain.upkeep"):
        means = samples.groupby(p)["intelligent"].mean()
        assert got.loc[p, "main_effect"] == pytest.approx(np.var(means.to_numpy()) / np.var(y))
        assert got.loc[p, "effect_range"] == pytest.approx(means.max() - means.min())
    # re-detection at each sample's own brain threshold gives its logged counts
    th = pd.read_csv(out / "report" / "thresholds.csv")
    th = th[th["detector"] == "brain_threshold"]
    for _, r in samples.iterrows():
        own = th[(th["sample"] == r["sample"]) & (th["value"] == r["detectors.brain_threshold"])]
        assert own["species_per_replicate"].iloc[0] == r["intelligent"]


def test_the_experiment_report_also_recomputes_thresholds(tmp_path, scheduler):
    from evosim.experiments.experiment import ArmsReplicates, load_experiment

    spec = write_spec(tmp_path, spec_text("arms: [{name: control}]\n", ticks=30), "plain.yaml")
    out = tmp_path / "out"
    run_design(ArmsReplicates(load_experiment(spec)), out, Cluster(scheduler=scheduler))
    res = CliRunner().invoke(
        report_cmd,
        [str(out), "--bootstrap", "200", "--no-plots", "--brain-thresholds", "0.2,0.4,0.6"],
    )
    assert res.exit_code == 0, res.output
    th = pd.read_csv(out / "report" / "thresholds.csv")
    brain = th[th["detector"] == "brain_threshold"].set_index("value")["species_per_replicate"]
    assert (
        list(brain.index) == [0.2, 0.4, 0.6]
        and brain[0.2] == 2
        and brain[0.4] == 1
        and brain[0.6] == 0
    )
    res = CliRunner().invoke(report_cmd, [str(out), "--brain-thresholds", "0.2,x"])
    assert res.exit_code == 2 and "--brain-thresholds 0.2,x" in res.output


def test_the_hard_paths_sweep_is_a_valid_morris_design():
    spec = Path(__file__).parents[2] / "worlds" / "experiments" / "hard_paths_sweep.yaml"
    sw = load_sweep(spec)
    cfg = sw.exp.spec.sweep
    assert (
        cfg.sampler == "morris" and cfg.n_samples >= 6 and list(sw.exp.arms) == ["control", "both"]
    )
    names = set(sw.design.names)
    for key in ("traits.brain.upkeep", "culture.alpha", "culture.beta", "culture.innovation_rate",
                "traits.dexterity.upkeep", "detectors.brain_threshold"):  # fmt: skip
        assert key in names, key
    assert any(k.startswith("technology.ladder.") for k in names)  # rung payoffs
    assert sw.runs == cfg.n_samples * (len(names) + 1) * 2 * cfg.replicates
    assert cfg.replicates >= 2 and sw.exp.spec.ticks == 10000
    w = sw.world(0, "both")
    assert [iv.name for iv in w.interventions] == ["manipulators", "fire_substitute"]
