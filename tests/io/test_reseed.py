"""Reseeded branches (--from CKPT --reseed K): fresh futures from one past, each repeatable and resumable."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from evosim import load_world
from evosim.errors import ConfigError
from evosim.io import runner
from tests.helpers import TINY, folder_bytes, read_summary

OVERRIDES = {
    **TINY, "world.width": 40, "world.height": 40, "species.grazer.count": 150, "species.swimmer.count": 150,
    "output.sample_every": 5, "output.checkpoint_every": 20,
}  # fmt: skip
PAST, TICKS = 60, 140


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("past") / "run"
    runner.run(load_world(overrides=OVERRIDES), out, ticks=PAST, seed=3)
    return out / "checkpoints" / f"ckpt-{PAST:010d}.json"


def future(ckpt: Path, out: Path, reseed: int | None, progress=None) -> dict:
    world = load_world(ckpt.parent.parent / "config.yaml")
    return runner.branch(ckpt, world, out, ticks=TICKS, reseed=reseed, progress=progress)


def logs(folder: Path) -> dict[str, bytes]:
    return folder_bytes(folder, exclude=["checkpoints"])


def test_the_same_reseed_repeats_and_another_differs(tmp_path, checkpoint):
    a, b, c, plain = (tmp_path / n for n in ("a", "b", "c", "plain"))
    future(checkpoint, a, 1)
    future(checkpoint, b, 1)
    future(checkpoint, c, 2)
    future(checkpoint, plain, None)
    assert logs(a) == logs(b)
    ta, tc, tp = ((f / "timeseries.csv").read_text() for f in (a, c, plain))
    assert ta != tc and ta != tp and tc != tp
    # the past is shared: every future's time series starts with the same rows up to the branch
    head = [r for r in tp.splitlines() if not r[:1].isdigit() or int(r.split(",")[0]) <= PAST]
    for text in (ta, tc):
        assert [
            r for r in text.splitlines() if not r[:1].isdigit() or int(r.split(",")[0]) <= PAST
        ] == head


def test_the_reseed_is_recorded(tmp_path, checkpoint):
    out = tmp_path / "a"
    future(checkpoint, out, 7)
    summary = read_summary(out)
    assert summary["reseed"] == {"branch_tick": PAST, "key": 7}
    assert load_world(out / "config.yaml").sim.reseed == 7
    events = (out / "events.csv").read_text()
    assert f"branched from {checkpoint.name}, reseed 7" in events
    header = json.loads(sorted((out / "checkpoints").glob("*.json"))[-1].read_text())
    assert header["scalars"]["reseed"] == [PAST, 7]
    # a plain run's summary and checkpoints carry no reseed (their bytes are as before)
    plain = tmp_path / "plain"
    future(checkpoint, plain, None)
    assert "reseed" not in read_summary(plain)
    assert (
        "reseed"
        not in json.loads(sorted((plain / "checkpoints").glob("*.json"))[-1].read_text())["scalars"]
    )


def test_a_reseeded_run_interrupted_and_resumed_is_byte_identical(tmp_path, checkpoint):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    future(checkpoint, whole, 5)

    def stop_at(sim):
        if sim.tick == 97:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(runner.Interrupted):
        future(checkpoint, cut, 5, progress=stop_at)
    assert read_summary(cut)["ticks_run"] == 97
    runner.resume(cut)
    assert logs(cut) == logs(whole)


def test_a_reseeded_run_extended_equals_one_run_to_the_longer_length(tmp_path, checkpoint):
    long, short = tmp_path / "long", tmp_path / "short"
    world = load_world(checkpoint.parent.parent / "config.yaml")
    runner.branch(checkpoint, world, long, ticks=TICKS, reseed=4)
    runner.branch(checkpoint, world, short, ticks=100, reseed=4)
    runner.resume(short, ticks=TICKS)
    assert (short / "timeseries.csv").read_bytes() == (long / "timeseries.csv").read_bytes()
    assert (short / "species.csv").read_bytes() == (long / "species.csv").read_bytes()


def test_a_run_from_tick_0_refuses_a_reseed(tmp_path):
    world = load_world(overrides={**OVERRIDES, "sim.reseed": 1})
    with pytest.raises(ConfigError, match="sim.reseed"):
        runner.run(world, tmp_path / "x", ticks=10)
    assert not (tmp_path / "x").exists()


def test_cli_reseed_runs_a_branch_and_refuses_without_from(cli, checkpoint, tmp_path):
    r = cli(
        "run", "--from", checkpoint, "--reseed", 3, "--ticks", 80, "--out", tmp_path / "f", "-q"
    )
    assert r.exit_code == 0, r.output
    assert read_summary(tmp_path / "f")["reseed"] == {"branch_tick": PAST, "key": 3}
    r = cli("run", "--reseed", 3, "--ticks", 10, "--out", tmp_path / "g", "-q")
    assert r.exit_code == 2 and "--from CHECKPOINT" in r.output
    assert not (tmp_path / "g").exists()
