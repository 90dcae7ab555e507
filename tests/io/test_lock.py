"""One writer per run folder: a second is refused (exit 1); a lock left by a dead process is taken over."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from evosim import load_world
from evosim.errors import ConfigError, RunFolderError
from evosim.experiments.task import RunTask, ensure_run, lock_path
from evosim.io import runner
from evosim.io.lock import LOCK_NAME, locked, run_folder_lock
from tests.helpers import TINY, folder_bytes, read_summary, set_args

SETS = set_args({**TINY, "output.checkpoint_every": 5})


def test_a_finished_run_leaves_no_lock(tmp_path, tiny_world):
    runner.run(tiny_world, tmp_path / "run", ticks=5)
    assert not (tmp_path / "run" / LOCK_NAME).exists()
    runner.resume(tmp_path / "run", ticks=8)
    assert not (tmp_path / "run" / LOCK_NAME).exists()


def test_a_held_folder_refuses_run_resume_and_branch(tmp_path, tiny_world, cli):
    out = tmp_path / "run"
    runner.run(tiny_world, out, ticks=5, checkpoint_every=5)
    before = folder_bytes(out)
    with locked(out / LOCK_NAME):  # another writer (this process, through another descriptor)
        with pytest.raises(RunFolderError, match=f"pid {os.getpid()} is writing it"):
            runner.resume(out, ticks=10)
        for args in (
            ("run", "--resume", out, "--ticks", 10),
            ("run", "--out", out, "--force", "--ticks", 5, *SETS),
            (
                "run",
                "--from",
                out / "checkpoints" / "ckpt-0000000005.json",
                "--out",
                out,
                "--force",
            ),
        ):
            r = cli(*args, "-q")
            assert r.exit_code == 1, r.output
            assert (
                "is writing it" in r.output
                and LOCK_NAME in r.output
                and "Traceback" not in r.output
            )
    assert folder_bytes(out, exclude=[LOCK_NAME]) == before


def test_a_refused_new_folder_leaves_nothing(tmp_path):
    out = tmp_path / "new"
    no_land = {**TINY, "species.grazer.start": "land", "world.habitat.land_fraction": 0.0}
    with pytest.raises(ConfigError):  # the founders have nowhere to start: nothing may be left
        runner.run(load_world(overrides=no_land), out, ticks=5)
    assert not out.exists()


def _wait_for(cond, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_second_process_refused_then_stale_lock_taken_over(tmp_path, cli, caplog):
    """A real `evosim run` holds the folder: others get exit 1 naming its pid; killed, its lock is taken over."""
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "evosim",
        "run",
        "--out",
        str(out),
        "--ticks",
        "100000",
        "-q",
        *SETS,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: len(list(out.glob("checkpoints/ckpt-*.json"))) >= 2), (
            "no checkpoint"
        )
        assert (out / LOCK_NAME).read_text().split()[0] == str(proc.pid)
        r = cli("run", "--resume", out, "-q")
        assert r.exit_code == 1 and f"pid {proc.pid} is writing it" in r.output, r.output
        r = cli("run", "--out", out, "--force", "--ticks", 5, "-q", *SETS)
        assert r.exit_code == 1 and f"pid {proc.pid}" in r.output, r.output
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (out / LOCK_NAME).read_text().split()[0] == str(
        proc.pid
    )  # left behind by the killed run
    # the killed run got as far as its last checkpoint (how far depends on the machine's speed)
    reached = max(int(f.stem.split("-")[1]) for f in out.glob("checkpoints/ckpt-*.json"))
    r = cli("run", "--resume", out, "--ticks", reached + 10, "-q")
    assert r.exit_code == 0, r.output
    assert (
        f"took over the lock {LOCK_NAME} left by pid {proc.pid}, which is no longer running"
        in r.output
    )
    assert read_summary(out)["ticks_run"] == reached + 10 and not (out / LOCK_NAME).exists()


def test_stale_lock_is_reported_on_the_evosim_logger(tmp_path, caplog):
    folder = tmp_path / "run"
    folder.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (folder / LOCK_NAME).write_text(f"{dead.pid} {os.uname().nodename}\n")
    with caplog.at_level(logging.WARNING, logger="evosim"), run_folder_lock(folder):
        assert (folder / LOCK_NAME).read_text().split()[0] == str(os.getpid())
    assert f"pid {dead.pid}" in caplog.text and "no longer running" in caplog.text
    assert not (folder / LOCK_NAME).exists()


def test_experiment_replicate_lock_is_removed_when_it_finishes(tmp_path):
    world = load_world(overrides=TINY)
    folder = tmp_path / "exp" / "control" / "rep-0"
    from evosim.config.load import world_to_dict

    task = RunTask(str(folder), world_to_dict(world), seed=3, ticks=10, every=5, arm="control",
                   replicate=0)  # fmt: skip
    assert ensure_run(task)["action"] == "ran"
    assert not lock_path(folder).exists() and not (folder / LOCK_NAME).exists()
    assert sorted(p.name for p in folder.parent.iterdir()) == ["rep-0"]
