"""Fault injection: damage each log of a stopped run in turn, then resume it.

Every case must either be refused (exit 1, one paragraph naming the file,
nothing changed) or end byte-identical to the run that was never stopped. No
case may exit 0 leaving a file that ``load_run`` cannot read.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from evosim import load_world
from evosim.io import runner
from evosim.io.logs import load_lineage, load_run
from tests.helpers import TINY, folder_bytes, one_paragraph

OVERRIDES = {
    **TINY, "world.width": 40, "world.height": 40, "species.grazer.count": 1500, "species.swimmer.count": 1500,
    "world.food.land.regrowth": 0.05, "world.food.water.regrowth": 0.05,  # many deaths: lineage chunks
    "output.lineage": True, "output.lineage_chunk_rows": 1000, "output.sample_every": 7,
    "output.checkpoint_every": 25, "output.record_every": 10, "speciation.threshold": 0.2,
    # an event between the checkpoints of ticks 50 and 75, whatever the population does
    "interventions": [{"name": "mark", "when": {"tick": 60}, "target": {"all": True},
                       "effect": {"kind": "fire_substitute"}}],
}  # fmt: skip
TICKS, STOP = (
    120,
    75,
)  # stopped at a checkpoint tick: the frames' chunks are cut where an uninterrupted run cuts them


def _run(out: Path, stop: int | None = None) -> None:
    def progress(sim):
        if sim.tick == stop:
            os.kill(os.getpid(), signal.SIGINT)

    world = load_world(overrides=OVERRIDES)
    if stop is None:
        runner.run(world, out, ticks=TICKS, seed=4)
    else:
        with pytest.raises(runner.Interrupted):
            runner.run(world, out, ticks=TICKS, seed=4, progress=progress)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(the uninterrupted run's files, a run stopped at tick STOP) ."""
    root = tmp_path_factory.mktemp("faults")
    _run(root / "ref")
    _run(root / "stopped", stop=STOP)
    return folder_bytes(root / "ref", exclude=["checkpoints"]), root / "stopped"


def logs_of(folder: Path) -> list[str]:
    """Every log a resume must check: the CSVs, the lineage chunks, the frames."""
    out = ["timeseries.csv", "events.csv"]
    out += sorted(p.relative_to(folder).as_posix() for p in (folder / "lineage").iterdir())
    out += sorted(p.relative_to(folder).as_posix() for p in (folder / "frames").iterdir())
    return out


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "shorten":  # as `truncate -s`: cut to a third
        path.write_bytes(data[: len(data) // 3])
    elif how == "shorten_by_one":
        path.write_bytes(data[:-1])
    elif how == "delete":
        path.unlink()
    elif how == "corrupt":  # one byte flipped in the middle
        b = bytearray(data)
        b[len(b) // 2] ^= 0x5A
        path.write_bytes(bytes(b))
    elif how == "append":  # junk after the end
        path.write_bytes(data + b"junk,1,2,3\n")
    else:  # pragma: no cover
        raise ValueError(how)


HOWS = ("shorten", "shorten_by_one", "delete", "corrupt", "append")


def resume_damaged(cli, stopped: Path, tmp_path: Path, log: str, how: str):
    folder = tmp_path / "run"
    shutil.copytree(stopped, folder)
    damage(folder / log, how)
    before = folder_bytes(folder)
    result = cli("run", "--resume", folder, "-q")
    return folder, before, result


def test_the_stopped_run_has_every_kind_of_log(runs):
    _, stopped = runs
    logs = logs_of(stopped)
    assert sum(p.startswith("lineage/") for p in logs) >= 2, logs
    assert "frames/meta.npz" in logs and sum(p.startswith("frames/chunk") for p in logs) >= 2, logs


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize(
    "log",
    ["timeseries.csv", "events.csv", "lineage/part-00000.parquet", "lineage/part-00001.parquet",
     "frames/meta.npz", "frames/chunk-000000.npz", "frames/chunk-000002.npz"],
)  # fmt: skip
def test_a_damaged_log_is_refused_or_the_resume_is_exact(cli, runs, tmp_path, log, how):
    reference, stopped = runs
    assert (stopped / log).is_file(), f"the stopped run has no {log}: adjust the test"
    folder, before, r = resume_damaged(cli, stopped, tmp_path, log, how)
    if r.exit_code == 0:
        assert folder_bytes(folder, exclude=["checkpoints"]) == reference, (
            f"{how} {log}: resumed, but the run differs from the uninterrupted one"
        )
        run = load_run(folder)
        assert len(run.timeseries) and load_lineage(folder) is not None
    else:
        assert r.exit_code == 1, r.output
        msg = r.output.removeprefix("evosim: error: ")
        assert one_paragraph(msg) and log in msg, msg
        assert "bytes" in msg and "nothing was changed" in msg, msg
        assert folder_bytes(folder) == before, f"{how} {log}: refused, but the folder was changed"


def test_truncated_timeseries_is_refused_with_sizes(cli, runs, tmp_path):
    """The issue's case: `truncate -s 1000 RUN/timeseries.csv` then `evosim run --resume RUN`."""
    _, stopped = runs
    folder = tmp_path / "run"
    shutil.copytree(stopped, folder)
    with open(folder / "timeseries.csv", "r+b") as fh:
        fh.truncate(1000)
    r = cli("run", "--resume", folder, "-q")
    assert r.exit_code == 1, r.output
    assert "timeseries.csv is 1,000 bytes, but the checkpoint of tick 75" in r.output, r.output
    assert b"\0" not in (folder / "timeseries.csv").read_bytes()
    assert (folder / "timeseries.csv").stat().st_size == 1000


def test_a_log_shortened_to_an_older_checkpoint_resumes_from_that_one(cli, runs, tmp_path):
    """Logs that still match an older checkpoint: resume from it (and say so) instead of refusing."""
    import json

    reference, stopped = runs
    folder = tmp_path / "run"
    shutil.copytree(stopped, folder)
    older = json.loads((folder / "checkpoints" / "ckpt-0000000050.json").read_text())
    with open(folder / "events.csv", "r+b") as fh:
        fh.truncate(older["logs"]["events.csv"])
    r = cli("run", "--resume", folder, "-q")
    assert r.exit_code == 0, r.output
    assert "resumed from tick 50" in r.output and "skipped a newer checkpoint" in r.output
    assert folder_bytes(folder, exclude=["checkpoints"]) == reference
