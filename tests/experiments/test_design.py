"""Designs on the batch pipeline: reseeded futures branched from a checkpoint, and an extension."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evosim import load_world
from evosim.errors import ConfigError
from evosim.experiments.batch import Cluster, plan, prepare, run_design
from evosim.experiments.design import BranchedFutures, Extension
from evosim.experiments.experiment import ArmsReplicates, load_experiment
from evosim.experiments.task import BASE_DIR
from evosim.io import runner
from tests.experiments.identity import regenerate as fx
from tests.helpers import TINY, folder_bytes, read_summary

PAST, TICKS = 30, 60
OVERRIDES = {**TINY, "output.sample_every": 5, "output.checkpoint_every": 15}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("past") / "run"
    runner.run(load_world(overrides=OVERRIDES), out, ticks=PAST, seed=3)
    return out / "checkpoints" / f"ckpt-{PAST:010d}.json"


def test_branched_futures_are_the_reseeded_branches_of_the_checkpoint(tmp_path, checkpoint):
    design = BranchedFutures(checkpoint, reseeds=[1, 2], ticks=TICKS)
    out = tmp_path / "futures"
    tasks = design.tasks(out)
    assert [(t.checkpoint, t.reseed, t.ticks, Path(t.folder).name) for t in tasks] == [
        (str(checkpoint), 1, TICKS, "reseed-1"),
        (str(checkpoint), 2, TICKS, "reseed-2"),
    ]
    outcome = run_design(design, out, Cluster(workers=1))
    assert not outcome.failures and outcome.count("ran") == 2
    world = load_world(checkpoint.parent.parent / "config.yaml")
    for k in (1, 2):
        ref = tmp_path / f"ref-{k}"
        runner.branch(checkpoint, world, ref, ticks=TICKS, reseed=k)
        assert folder_bytes(out / f"reseed-{k}") == folder_bytes(ref), k
        assert read_summary(ref)["reseed"] == {"branch_tick": PAST, "key": k}
    a, b = ((out / f"reseed-{k}" / "timeseries.csv").read_text() for k in (1, 2))
    assert a != b  # two futures of one past
    m = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    assert m["kind"] == "futures" and m["reseeds"] == [1, 2] and m["ticks"] == TICKS
    # a re-run with one more reseed skips the two finished futures
    more = BranchedFutures(checkpoint, reseeds=[1, 2, 3], ticks=TICKS)
    p = prepare(more, out).plan
    assert [t.reseed for t in p.finished] == [1, 2] and [t.reseed for t in p.todo] == [3]
    # `evosim report` has no report of a batch of futures: one paragraph, exit 2, nothing written
    from click.testing import CliRunner

    from evosim.cli.experiment import report as report_cmd

    res = CliRunner().invoke(report_cmd, [str(out)])
    assert res.exit_code == 2 and "kind 'futures', which has no report of its own" in res.output
    assert not (out / "report").exists()


def test_branched_futures_refuse_what_cannot_be_a_future(tmp_path, checkpoint):
    with pytest.raises(ConfigError, match="must run past it"):
        BranchedFutures(checkpoint, reseeds=[1], ticks=PAST)
    with pytest.raises(ConfigError, match="its own reseed"):
        BranchedFutures(checkpoint, reseeds=[1, 1], ticks=TICKS)
    with pytest.raises(ConfigError, match="not a readable checkpoint"):
        BranchedFutures(tmp_path / "nothing.json", reseeds=[1], ticks=TICKS)
    out = tmp_path / "f"
    out.mkdir()
    (out / "experiment.json").write_text(
        json.dumps(BranchedFutures(checkpoint, [1], TICKS).manifest(out)), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="different ticks"):
        BranchedFutures(checkpoint, [1], TICKS + 10).manifest(out)


def test_an_extension_carries_an_experiment_to_the_longer_horizon(tmp_path):
    short = fx.EXPERIMENT.replace("TICKS", str(fx.SHORT))
    exp = load_experiment(fx.write_spec(tmp_path, "exp.yaml", short))
    out = tmp_path / "exp"
    run_design(ArmsReplicates(exp), out, Cluster(workers=1))
    design = Extension(ArmsReplicates(exp), fx.TICKS)
    assert {t.ticks for t in design.tasks(out.resolve())} == {fx.TICKS}
    p = prepare(design, out).plan
    assert not p.finished and len(p.extend) == 4
    assert {done for done, _ in p.extend.values()} == {fx.SHORT}
    outcome = run_design(design, out, Cluster(workers=1))
    assert outcome.count("extended") == 4
    m = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    assert [(e["from_ticks"], e["to_ticks"]) for e in m["extensions"]] == [(fx.SHORT, fx.TICKS)]
    # the run folders are the extension fixture's: the experiment's, run to TICKS from tick 0
    assert fx.run_hashes(out) == (fx.HERE / "extension.sha256").read_text(encoding="utf-8")


def test_an_experiment_runs_replicate_major_in_the_order_of_its_tasks(tmp_path):
    """One worker runs the tasks in list order (Dask priorities), and an experiment lists them
    replicate-major, so a batch stopped part-way holds whole replicates of every arm."""
    short = fx.EXPERIMENT.replace("TICKS", str(fx.SHORT)).replace("replicates: 2", "replicates: 3")
    design = ArmsReplicates(load_experiment(fx.write_spec(tmp_path, "exp.yaml", short)))
    out = tmp_path / "exp"
    listed = [(t.arm, t.replicate) for t in design.tasks(out.resolve())]
    arms = list(dict.fromkeys(a for a, _ in listed))
    assert len(arms) == 2 and listed == [(a, k) for k in range(3) for a in arms]
    done: list[tuple[str, int]] = []
    run_design(design, out, Cluster(workers=1), on_done=lambda r, _: done.append(
        (r["arm"], r["replicate"])))  # fmt: skip
    assert done == listed


def test_an_extension_keeps_the_shared_bases_at_their_branch_tick(tmp_path):
    exp = load_experiment(fx.write_spec(tmp_path, "b.yaml", fx.BRANCHED))
    tasks = Extension(ArmsReplicates(exp), 90).tasks(tmp_path.resolve())
    bases = {t.base.folder: t.base.ticks for t in tasks if t.base is not None}
    assert bases == {str(tmp_path.resolve() / BASE_DIR / "rep-0"): 20}
    assert {t.ticks for t in tasks} == {90} and all(t.base is not None for t in tasks)
    assert len(plan(tasks).todo) == len(tasks)
