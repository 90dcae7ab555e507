"""Checkpoints, resume and signals: a stopped and resumed run equals the uninterrupted one, byte for byte."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evosim import load_world
from evosim.errors import CheckpointError, ConfigError
from evosim.io import runner
from evosim.io.checkpoint import newest_valid, read
from tests.helpers import TINY, assert_one_line, folder_bytes, read_summary, set_args

OVERRIDES = {
    **TINY, "world.width": 40, "world.height": 40, "species.grazer.count": 150, "species.swimmer.count": 150,
    "output.lineage": True, "output.lineage_chunk_rows": 1000, "output.sample_every": 7,
    "output.checkpoint_every": 25, "speciation.threshold": 0.2,
}  # fmt: skip
TICKS = 240


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("ref") / "run"
    runner.run(load_world(overrides=OVERRIDES), out, ticks=TICKS, seed=4)
    return folder_bytes(out, exclude=["checkpoints"])


def interrupt_at(stop: int):
    """A progress callback that sends SIGINT to this process at tick ``stop``."""

    def progress(sim):
        if sim.tick == stop:
            os.kill(os.getpid(), signal.SIGINT)

    return progress


@pytest.mark.parametrize("stop", [1, 25, 26, 99, 239])
def test_interrupted_and_resumed_run_is_byte_identical(tmp_path, reference, stop):
    out = tmp_path / "run"
    with pytest.raises(runner.Interrupted) as info:
        runner.run(
            load_world(overrides=OVERRIDES), out, ticks=TICKS, seed=4, progress=interrupt_at(stop)
        )
    assert info.value.exit_code == 130
    summary = read_summary(out)
    assert summary["ended"] == "interrupted" and summary["ticks_run"] == stop
    final, refused, start = runner.resume(out)
    assert start == stop and not refused
    assert final["ended"] == "completed"
    assert folder_bytes(out, exclude=["checkpoints"]) == reference


def test_corrupt_newest_checkpoint_falls_back_to_previous(tmp_path, reference):
    out = tmp_path / "run"
    with pytest.raises(runner.Interrupted):
        runner.run(
            load_world(overrides=OVERRIDES), out, ticks=TICKS, seed=4, progress=interrupt_at(130)
        )
    ckpts = sorted((out / "checkpoints").glob("*.npz"))
    newest = ckpts[-1]
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    newest.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        read(newest.with_suffix(".json"))
    _, refused, start = runner.resume(out)
    assert refused and "checksum" in refused[0]
    assert start < 130
    assert folder_bytes(out, exclude=["checkpoints"]) == reference


@pytest.mark.parametrize("damage", ["truncate", "version", "edit_header", "delete_npz"])
def test_bad_checkpoints_are_refused_with_a_clear_message(tmp_path, damage):
    out = tmp_path / "run"
    runner.run(load_world(overrides=OVERRIDES), out, ticks=30, seed=4, checkpoint_every=10)
    header = sorted((out / "checkpoints").glob("*.json"))[-1]
    npz = header.with_suffix(".npz")
    if damage == "truncate":
        npz.write_bytes(npz.read_bytes()[:100])
    elif damage == "version":
        h = json.loads(header.read_text())
        h["format_version"] = 999
        header.write_text(json.dumps(h))
    elif damage == "edit_header":
        h = json.loads(header.read_text())
        h["npz_sha256"] = "0" * 64
        header.write_text(json.dumps(h))
    else:
        npz.unlink()
    with pytest.raises(CheckpointError) as info:
        read(header)
    assert_one_line(str(info.value))
    hp, _, _, refused = newest_valid(out / "checkpoints")
    assert hp != header and len(refused) == 1


def test_changed_world_file_is_refused_unless_forced(tmp_path, world_file):
    w = world_file("world: {width: 32, height: 32}\nspecies: [{name: a, count: 100}]\n")
    out = tmp_path / "run"
    with pytest.raises(runner.Interrupted):
        runner.run(load_world(w), out, ticks=50, seed=1, world_file=w, progress=interrupt_at(20))
    world_file("world: {width: 32, height: 32}\nspecies: [{name: a, count: 200}]\n")
    with pytest.raises(ConfigError, match="changed"):
        runner.resume(out)
    summary, _, start = runner.resume(out, force=True)
    assert start == 20 and summary["ticks_run"] == 50


def test_sigkill_mid_run_then_resume_is_byte_identical(tmp_path, reference):
    """A real process, killed with SIGKILL at a random moment while writing, resumes to the same bytes."""
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "evosim",
        "run",
        "--out",
        str(out),
        "--ticks",
        str(TICKS),
        "--seed",
        "4",
        "-q",
        *set_args(OVERRIDES),
    ]
    for attempt in range(20):
        if out.exists():
            import shutil

            shutil.rmtree(out)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # wait until the run has written a checkpoint beyond tick 0, then kill at once
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if (
                len(list((out / "checkpoints").glob("ckpt-*.json"))) >= 2
                if (out / "checkpoints").exists()
                else False
            ):
                time.sleep(0.01 * attempt)
                break
            time.sleep(0.005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            break
    else:
        pytest.fail("the run always finished before it could be killed")
    assert not (out / "summary.json").exists() or read_summary(out)["ended"] != "completed"
    runner.resume(out)
    assert folder_bytes(out, exclude=["checkpoints"]) == reference


def test_sigterm_writes_checkpoint_and_exits_143(tmp_path):
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
        *set_args(OVERRIDES),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "timeseries.csv").exists():
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "--resume" in err
    summary = read_summary(out)
    assert summary["ended"] == "interrupted"
    hp, header, _, _ = newest_valid(out / "checkpoints")
    assert header["tick"] == summary["ticks_run"]


def test_write_failure_gives_a_clear_message_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    """A full disk mid-run (injected ENOSPC): exit 1, one clear line.

    The newest checkpoint is still valid and resumable.
    """
    import errno

    from click.testing import CliRunner

    from evosim.cli.main import main
    from evosim.io.recorder import Recorder

    real_sample = Recorder.sample

    def failing_sample(self):
        if self.sim.tick >= 60:
            raise OSError(
                errno.ENOSPC, "No space left on device", str(self.folder / "timeseries.csv")
            )
        real_sample(self)

    monkeypatch.setattr(Recorder, "sample", failing_sample)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--out",
            str(out),
            "--ticks",
            str(TICKS),
            "--seed",
            "4",
            "-q",
            *set_args(OVERRIDES),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert "checkpoint stays valid" in result.output
    _, header, _, refused = newest_valid(out / "checkpoints")
    assert header["tick"] == 50 and not refused
    monkeypatch.setattr(Recorder, "sample", real_sample)
    summary, _, start = runner.resume(out)
    assert start == 50 and summary["ended"] == "completed"


def test_unwritable_output_folder_is_refused_without_traceback(tmp_path):
    from click.testing import CliRunner

    from evosim.cli.main import main

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--out",
            str(blocker / "run"),
            "--ticks",
            "5",
            "-q",
            *set_args({"world.width": 16, "world.height": 16}),
        ],
    )
    assert result.exit_code in (1, 2) and "Traceback" not in result.output
    assert str(blocker) in result.output


def test_second_sigint_exits_at_once_and_the_last_checkpoint_stays_valid(tmp_path):
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
        *set_args({**OVERRIDES, "output.checkpoint_every": 5}),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while (
        time.time() < deadline
        and len(
            list((out / "checkpoints").glob("*.json")) if (out / "checkpoints").exists() else []
        )
        < 3
    ):
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    _, header, _, _ = newest_valid(out / "checkpoints")
    assert header["tick"] >= 5
    summary, _, start = runner.resume(out, ticks=header["tick"] + 20)
    assert start == header["tick"] and summary["ticks_run"] == header["tick"] + 20


def test_resume_and_branch_when_the_population_shrank_below_the_founders(tmp_path):
    """Regression: restoring a checkpoint whose population is smaller than the founder count."""
    o = {
        **OVERRIDES,
        "species.grazer.count": 900,
        "species.swimmer.count": 900,
        # 1800 founders crowd 40x40 cells and starve down to ~60 by tick 60 (at 0.02 all die by tick 50:
        # founders start with no culture, so no cooking or hard food tides them over)
        "world.food.land.regrowth": 0.1,
        "world.food.water.regrowth": 0.1,
        "output.checkpoint_every": 20,
    }
    out = tmp_path / "run"
    with pytest.raises(runner.Interrupted):
        runner.run(load_world(overrides=o), out, ticks=200, seed=4, progress=interrupt_at(60))
    hp, header, arrays, _ = newest_valid(out / "checkpoints")
    assert len(arrays["pop.id"]) < 1800, "the population must have shrunk below the founders"
    branch = runner.branch(hp, load_world(overrides=o), tmp_path / "branch", ticks=100)
    assert branch["ticks_run"] >= header["tick"]
    summary, _, _ = runner.resume(out)
    assert summary["ticks_run"] == 200 or summary["ended"] == "extinct"


def _intervention_rows(folder: Path) -> list[tuple[int, str, str]]:
    import csv

    with open(folder / "events.csv", newline="", encoding="utf-8") as fh:
        return [
            (int(r["tick"]), r["species"], r["details"])
            for r in csv.DictReader(fh)
            if r["kind"] == "intervention"
        ]


def test_branch_with_a_new_trigger_fires_it_for_founders_after_the_branch(tmp_path):
    """Regression: building the branch ran the tick-0 interventions, whose trigger state the branch kept."""
    o = {**TINY, "output.checkpoint_every": 10}
    mark = {
        "name": "mark",
        "when": {"trigger": "population_above", "value": 1},
        "target": {"founder": "grazer"},
        "effect": {"kind": "fire_substitute"},
    }
    runner.run(load_world(overrides=o), tmp_path / "base", ticks=20, seed=2)
    hp = tmp_path / "base" / "checkpoints" / "ckpt-0000000010.json"
    runner.branch(
        hp, load_world(overrides={**o, "interventions": [mark]}), tmp_path / "new", ticks=30
    )
    assert _intervention_rows(tmp_path / "new") == [(11, "0", "mark: fire substitute")]
    # the same interventions as the run that wrote the checkpoint: what has fired stays fired
    runner.run(
        load_world(overrides={**o, "interventions": [mark]}), tmp_path / "marked", ticks=20, seed=2
    )
    assert _intervention_rows(tmp_path / "marked") == [(0, "0", "mark: fire substitute")]
    hp = tmp_path / "marked" / "checkpoints" / "ckpt-0000000010.json"
    runner.branch(
        hp, load_world(overrides={**o, "interventions": [mark]}), tmp_path / "same", ticks=30
    )
    assert _intervention_rows(tmp_path / "same") == [(0, "0", "mark: fire substitute")]
