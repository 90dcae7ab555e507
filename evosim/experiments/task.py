"""One run of a batch, as plain data, and the idempotent Dask task that brings it to an end.

Every design (:mod:`evosim.experiments.design`) turns into :class:`RunTask` objects: arms x
replicates, a sweep's samples, an extension to a longer horizon, reseeded futures branched from a
checkpoint. :func:`ensure_run` is the one task Dask runs for any of them. It takes a lock beside
the run folder, returns at once if the folder is finished, else resumes it from its newest valid
checkpoint, else starts it afresh (from tick 0, or from a checkpoint). So a re-run skips finished
runs and redoes unfinished ones, and a task that Dask retries after losing a worker neither loses
nor duplicates a result.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evosim.config.schema import World
from evosim.errors import ConfigError
from evosim.experiments.manifest import sample_folder
from evosim.io.lock import locked
from evosim.io.logs import finished_summary

#: The folder of the shared bases of a branched experiment (``_base/rep-<k>``).
BASE_DIR = "_base"


@dataclass(frozen=True)
class RunTask:
    """One run folder to bring to an end, as plain data (what Dask pickles).

    Attributes:
        folder: the run folder (absolute).
        world: the resolved world as plain data (``world_to_dict``); None until the design
            resolves it (:meth:`evosim.experiments.design.Design.resolve`).
        seed: the run's seed.
        ticks: the horizon: ticks counted from tick 0.
        every: the checkpoint interval.
        arm: the arm (``_base`` for a shared base).
        replicate: the replicate (or the reseed key of a branched future).
        sample: the sweep sample, or None.
        checkpoint: branch from this checkpoint header instead of starting at tick 0.
        reseed: with ``checkpoint``: a fresh random stream keyed by (seed, the checkpoint's tick,
            ``reseed``) (``evosim run --from CKPT --reseed K``).
        base: a shared base run this one branches from, at the base's final checkpoint (known only
            once the base has run; :func:`evosim.experiments.batch.run_batch` runs it first), or
            with ``branch_tick: auto`` at the checkpoint the base pinned for this arm.
        watch: for an ``auto`` shared base: per arm, the interventions (JSON data) whose first
            application pins that arm's branch point (:mod:`evosim.experiments.shared_past`).
    """

    folder: str
    world: dict | None
    seed: int
    ticks: int
    every: int
    arm: str
    replicate: int
    sample: int | None = None
    checkpoint: str | None = None
    reseed: int | None = None
    base: RunTask | None = None
    watch: dict[str, list[dict]] | None = None

    @property
    def lock(self) -> Path:
        """The lock file of the run folder: ``.<name>.lock`` beside it."""
        return lock_path(self.folder)

    @property
    def label(self) -> str:
        """The run's arm in messages: ``control``, or ``sample-0003/control`` in a sweep."""
        return self.arm if self.sample is None else f"{sample_folder(self.sample)}/{self.arm}"

    def identity(self) -> dict[str, Any]:
        """The keys that name the run in a result: arm, replicate, seed, folder (and sample)."""
        out: dict[str, Any] = {} if self.sample is None else {"sample": self.sample}
        out.update(arm=self.arm, replicate=self.replicate, seed=self.seed, folder=self.folder)
        return out


def run_id(result: dict) -> str:
    """``control`` or ``sample-0003/control``: the arm of a result (:meth:`RunTask.label`)."""
    sample = result.get("sample")
    return result["arm"] if sample is None else f"{sample_folder(sample)}/{result['arm']}"


def needs_extension(summary: dict, ticks: int) -> bool:
    """A finished run that completed fewer than ``ticks`` ticks (an extinct one stays as it is)."""
    return summary.get("ended") == "completed" and int(summary.get("ticks_run", 0)) < ticks


def lock_path(folder: str | os.PathLike) -> Path:
    """The lock file of a run folder: ``.<name>.lock`` beside it."""
    f = Path(folder)
    return f.parent / f".{f.name}.lock"


def newest_checkpoint(folder: str | os.PathLike) -> str:
    """Header path of the newest valid checkpoint of a run folder (CheckpointError if none)."""
    from evosim.io import checkpoint as ckpt  # numba: loaded by the tasks, not by reading a spec

    hp, _, _, _ = ckpt.newest_valid(Path(folder) / "checkpoints")
    return str(hp)


def _continue(folder: Path, ticks: int) -> tuple[dict | None, str]:
    """Finish, extend or resume what the folder holds: (summary or None, action)."""
    from evosim.io import runner

    summary, action = finished_summary(folder), "skipped"
    if summary is not None and needs_extension(summary, ticks):
        # a longer horizon: continue the finished run from its final checkpoint (evosim run --resume --ticks)
        summary, _, _ = runner.resume(folder, force=True, ticks=ticks)
        action = "extended"
    if summary is None and (folder / "config.yaml").is_file():
        try:
            summary, _, _ = runner.resume(folder, force=True, ticks=ticks)
            action = "resumed"
        except ConfigError:  # no valid checkpoint (CheckpointError) or not a run folder: afresh
            summary = None
    return summary, action


def _start(task: RunTask, folder: Path, checkpoint: str | None) -> dict:
    """Run the task's world into its folder: from tick 0, or from ``checkpoint``."""
    from evosim.io import runner

    assert task.world is not None, "a task runs once its design has resolved its world"
    world = World.model_validate(task.world)
    if checkpoint is None:
        return runner.run(world, folder, ticks=task.ticks, seed=task.seed, force=True,
                          checkpoint_every=task.every)  # fmt: skip
    return runner.branch(checkpoint, world, folder, ticks=task.ticks, force=True,
                         checkpoint_every=task.every, reseed=task.reseed)  # fmt: skip


def _from(task: RunTask, base: dict | None) -> str | None:
    """The checkpoint a task starts from: its base's (for its arm, if the base pinned one per arm),
    else its own; None: tick 0."""
    if base is None:
        return task.checkpoint
    if "checkpoints" in base:
        return base["checkpoints"].get(task.arm, base["checkpoint"])
    return base["checkpoint"]


def fresh_action(folder: Path) -> str:
    """How a task that starts its run folder from the beginning says so: ``ran`` or ``restarted``."""
    return "restarted" if folder.exists() and any(folder.iterdir()) else "ran"


def result(task: RunTask, action: str, summary: dict, t0: float) -> dict:
    """A task's result as plain data (:func:`ensure_run`'s return, before its extras)."""
    out = task.identity()
    out.update(
        action=action,
        ended=summary["ended"],
        ticks_run=summary["ticks_run"],
        wall_s=round(time.perf_counter() - t0, 3),
        intelligent_species=summary.get("intelligent_species"),
        technological_species=summary.get("technological_species"),
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
    return out


def ensure_run(task: RunTask, base: dict | None = None) -> dict:
    """Bring one run folder to a finished state (the Dask task of every design; idempotent).

    Args:
        task: the run.
        base: for a task with a ``base``, the result of the base's task (gives ``checkpoint``).

    Returns:
        Plain data: the task's identity, ``action`` (skipped, extended, resumed, ran,
        restarted), ``ended``, ``ticks_run``, ``wall_s``, detector counts, the worker, for a run
        made from a shared base the ``shared_ticks`` it took over, and for a shared base the
        ``checkpoint`` its branches start from.
    """
    from evosim.engine import runtime  # numba: loaded by the tasks, not by reading a spec

    runtime.set_threads(1)  # the runs fill the cores: one thread each (results are the same)
    folder = Path(task.folder)
    t0 = time.perf_counter()
    folder.parent.mkdir(parents=True, exist_ok=True)
    # waits for another task of the same run (a Dask retry); removed when this one ends
    with locked(task.lock, wait=True, what=str(folder)):
        summary, action = _continue(folder, task.ticks)
        start = None
        if summary is None:
            action = fresh_action(folder)
            start = _from(task, base)
            summary = _start(task, folder, start)
        out = result(task, action, summary, t0)
        if base is not None and start is not None:  # ticks it took over from its shared base
            from evosim.io.checkpoint import tick_of

            out["shared_ticks"] = tick_of(start)
        if task.arm == BASE_DIR:  # a shared base: its branches start from its checkpoint
            out["checkpoint"] = newest_checkpoint(folder)
        return out
