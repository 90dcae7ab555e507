"""Same world and seed: byte-identical run folders, whatever the process, thread count or recording."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.io.runner import run
from tests.helpers import TINY, folder_bytes, set_args

TICKS = 150
#: The ready worlds (``worlds/*.yaml``) and the embedded default world (None).
READY_WORLDS = [None, *sorted((Path(__file__).resolve().parents[1] / "worlds").glob("*.yaml"))]


@pytest.fixture(scope="module")
def world():
    return load_world(overrides=TINY)


def test_same_world_and_seed_give_byte_identical_run_folders(world, tmp_path):
    run(world, tmp_path / "a", ticks=TICKS, seed=11)
    run(world, tmp_path / "b", ticks=TICKS, seed=11)
    a, b = folder_bytes(tmp_path / "a"), folder_bytes(tmp_path / "b")
    assert set(a) == set(b) and {
        "config.yaml",
        "timeseries.csv",
        "species.csv",
        "events.csv",
        "summary.json",
    } <= set(a)
    for name in a:
        assert a[name] == b[name], f"{name} differs between two identical runs"


def test_a_run_folder_config_repeats_the_run(world, tmp_path):
    """`evosim run RUN/config.yaml` repeats the run: same files, byte for byte (config.yaml included)."""
    run(world, tmp_path / "a", ticks=TICKS, seed=11)
    again = load_world(tmp_path / "a" / "config.yaml")
    run(again, tmp_path / "b")
    a, b = folder_bytes(tmp_path / "a"), folder_bytes(tmp_path / "b")
    assert set(a) == set(b) and {
        "config.yaml",
        "timeseries.csv",
        "species.csv",
        "events.csv",
        "summary.json",
    } <= set(a)
    for name in a:
        assert a[name] == b[name], name


def test_lineage_is_deterministic_too(tmp_path):
    w = load_world(overrides={**TINY, "output.lineage": True})
    run(w, tmp_path / "a", ticks=80, seed=3)
    run(w, tmp_path / "b", ticks=80, seed=3)
    assert folder_bytes(tmp_path / "a") == folder_bytes(tmp_path / "b")


def test_different_seeds_give_different_runs(world, tmp_path):
    run(world, tmp_path / "a", ticks=TICKS, seed=11)
    run(world, tmp_path / "b", ticks=TICKS, seed=12)
    ta = (tmp_path / "a" / "timeseries.csv").read_bytes()
    tb = (tmp_path / "b" / "timeseries.csv").read_bytes()
    assert ta != tb
    # not just the header and tick 0: most sampled rows differ
    la, lb = ta.splitlines()[1:], tb.splitlines()[1:]
    assert sum(x != y for x, y in zip(la, lb)) > 0.8 * min(len(la), len(lb))


def test_state_is_identical_after_each_tick(world):
    a, b = Simulation(world, seed=4), Simulation(world, seed=4)
    for _ in range(60):
        a.step()
        b.step()
    (arrays_a, scalars_a), (arrays_b, scalars_b) = a.state(), b.state()
    assert arrays_a.keys() == arrays_b.keys() and scalars_a == scalars_b
    for k, v in arrays_a.items():
        assert np.array_equal(v, arrays_b[k]), k


def test_recording_does_not_change_the_run(world, tmp_path):
    """Writing the run folder only observes: the simulation ends in the same state."""
    from evosim.io.recorder import Recorder

    a = Simulation(world, seed=8)
    a.advance(90)
    b = Simulation(world, seed=8)
    rec = Recorder(tmp_path / "r", b)
    rec.open()
    b.advance(90, rec.on_tick)
    rec.close("completed")
    for f, v in a.pop.state().items():
        assert np.array_equal(v, b.pop.state()[f]), f


def test_advance_in_pieces_equals_advance_at_once(world):
    a = Simulation(world, seed=9)
    a.advance(70)
    b = Simulation(world, seed=9)
    for k in (1, 9, 30, 30):
        b.advance(k)
    assert a.tick == b.tick == 70
    for f, v in a.pop.state().items():
        assert np.array_equal(v, b.pop.state()[f]), f


def _cli_run(out, env_extra):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("EVOSIM_", "NUMBA_NUM_THREADS"))
    }
    env.update(env_extra)
    args = [
        sys.executable,
        "-m",
        "evosim",
        "run",
        "-q",
        "--out",
        str(out),
        "--ticks",
        str(TICKS),
        "--seed",
        "5",
        *set_args(TINY),
    ]
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return out / "timeseries.csv"


def test_thread_count_does_not_change_the_run(world, tmp_path):
    """Serial kernels vs parallel kernels on 2 threads (separate processes): identical time series.

    Also compares both with an in-process run, so nothing depends on the
    process either (hash seeds, import order).
    """
    serial = _cli_run(tmp_path / "serial", {"EVOSIM_PARALLEL": "0"})
    parallel = _cli_run(tmp_path / "parallel", {"EVOSIM_PARALLEL": "1", "NUMBA_NUM_THREADS": "2"})
    run(world, tmp_path / "here", ticks=TICKS, seed=5)
    here = (tmp_path / "here" / "timeseries.csv").read_bytes()
    assert serial.read_bytes() == here
    assert parallel.read_bytes() == serial.read_bytes(), (
        "EVOSIM_PARALLEL=1 on 2 threads changed the run"
    )
    for name in ("species.csv", "events.csv"):
        assert (tmp_path / "parallel" / name).read_bytes() == (
            tmp_path / "serial" / name
        ).read_bytes(), name


def _threads_run(world_file, out, threads):
    """A short CLI run of ``world_file`` on 1 thread (serial build) or 2 (parallel build, forced)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("EVOSIM_", "NUMBA_NUM_THREADS"))
    }
    env.update(
        {"EVOSIM_PARALLEL": "0"}
        if threads == 1
        else {"EVOSIM_PARALLEL": "1", "NUMBA_NUM_THREADS": str(threads)}
    )
    args = [sys.executable, "-m", "evosim", "run", *([str(world_file)] if world_file else [])]
    args += ["-q", "--out", str(out), "--ticks", "30", "--seed", "2", "--threads", str(threads)]
    args += ["--checkpoint-every", "10", "--record-every", "10", "--set", "output.lineage=true"]
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return folder_bytes(out)


@pytest.mark.parametrize("world_file", READY_WORLDS, ids=lambda p: p.stem if p else "default")
def test_every_ready_world_is_byte_identical_on_1_and_2_threads(world_file, tmp_path):
    """The serial build on 1 thread and the parallel build on 2 threads write the same run folder.

    The parallel build is forced (``EVOSIM_PARALLEL=1``): left to itself a run this small would
    use it only from ``conf.PARALLEL_MIN_AGENTS`` agents on. Every file is compared: logs,
    checkpoints, replay frames, lineage (summary.json without its timing).
    """
    one = _threads_run(world_file, tmp_path / "one", 1)
    two = _threads_run(world_file, tmp_path / "two", 2)
    assert set(one) == set(two)
    assert any(name.startswith("checkpoints/") for name in one)
    assert any(name.startswith("frames/") for name in one)
    for name in one:
        assert one[name] == two[name], f"{name} differs between 1 and 2 threads"
