"""Designs: what a batch runs, as :class:`~evosim.experiments.task.RunTask` objects (docs/experiments.md).

A :class:`Design` says which runs a batch folder holds and how each is made; the pipeline of
:mod:`evosim.experiments.batch` (plan, manifest, dry run, progress, lock, retry, extension) does
the rest, the same for every design. The designs:

* :class:`evosim.experiments.experiment.ArmsReplicates` -- arms x replicates (``evosim experiment``);
* :class:`evosim.experiments.sweep.Sweep` -- SALib samples x arms x replicates (``evosim sweep``);
* :class:`Extension` -- another design's runs carried on to a longer horizon;
* :class:`BranchedFutures` -- reseeded futures branched from one checkpoint (``evosim run --from
  CKPT --reseed K``, once per K).

A new design is a class with the members of :class:`Design`, in a module of this package.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from evosim.config.load import world_to_dict
from evosim.config.schema import World
from evosim.errors import ConfigError
from evosim.experiments.manifest import existing
from evosim.experiments.task import BASE_DIR, RunTask
from evosim.version import __version__


class Design(Protocol):
    """What a batch runs.

    Attributes:
        kind: the batch's kind in messages and commands (``experiment``, ``sweep``, ``futures``).
        noun: what one run is called in messages (``replicate``, ``run``, ``future``).
    """

    kind: str
    noun: str

    def tasks(self, out: Path) -> list[RunTask]:
        """Every run of the design in folder ``out`` (absolute), finished or not, in running order.

        A task's ``world`` may be None until :meth:`resolve` (building every world of a large
        sweep to skip its finished runs would cost more than the plan).
        """
        ...

    def resolve(self, task: RunTask) -> RunTask:
        """``task`` with its world (ConfigError naming the run if it is not a valid world)."""
        ...

    def manifest(self, out: str | os.PathLike) -> dict:
        """The manifest to write into ``out``, after checking that ``out`` may take the design.

        Raises:
            ConfigError: ``out`` holds something else; nothing is written.
        """
        ...


@dataclass
class Extension:
    """The runs of ``inner`` carried on to horizon ``ticks`` (time to technology past the first horizon).

    A finished run of ``inner`` continues from its final checkpoint, byte for byte as if it had
    run to ``ticks`` from tick 0; a run not yet made runs to ``ticks``. Shared bases keep their
    branch tick. ``inner`` must say what its manifest is at another horizon
    (``manifest(out, ticks)``): an experiment's records the extension; a sweep's refuses it.
    """

    inner: ArmsOrSweep
    ticks: int

    @property
    def kind(self) -> str:
        """The inner design's kind."""
        return self.inner.kind

    @property
    def noun(self) -> str:
        """The inner design's noun."""
        return self.inner.noun

    def tasks(self, out: Path) -> list[RunTask]:
        """The inner design's tasks at the longer horizon."""
        return [
            t if t.arm == BASE_DIR else replace(t, ticks=self.ticks) for t in self.inner.tasks(out)
        ]

    def resolve(self, task: RunTask) -> RunTask:
        """As the inner design."""
        return self.inner.resolve(task)

    def manifest(self, out: str | os.PathLike) -> dict:
        """The inner design's manifest at the longer horizon (with the extension recorded)."""
        return self.inner.manifest(out, self.ticks)


class ArmsOrSweep(Design, Protocol):
    """A design whose manifest can be asked for at another horizon (what :class:`Extension` wraps)."""

    def manifest(self, out: str | os.PathLike, ticks: int | None = None) -> dict:
        """The manifest at horizon ``ticks`` (default: the design's own)."""
        ...


def future_folder(k: int) -> str:
    """Relative folder of the future of reseed ``k``."""
    return f"reseed-{k}"


@dataclass
class BranchedFutures:
    """Reseeded futures of one past: each reseed ``K`` branches from ``checkpoint`` and runs to ``ticks``.

    Future ``K`` is ``evosim run --from CHECKPOINT --reseed K --ticks TICKS`` into
    ``OUT/reseed-K``: after the checkpoint's tick its random numbers are keyed by (seed, that
    tick, K), so each future is repeatable and the futures differ (docs/replay.md).

    Attributes:
        checkpoint: a checkpoint header (``.json``) of a run folder.
        reseeds: the reseed keys, one future each.
        ticks: the horizon, counted from tick 0 (more than the checkpoint's tick).
        world: the futures' world (default: the run's own ``config.yaml``).
        every: checkpoint interval of the futures (default: the world's).
    """

    checkpoint: Path
    reseeds: list[int]
    ticks: int
    world: World | None = None
    every: int | None = None
    header: dict = field(init=False, repr=False)
    kind = "futures"
    noun = "future"

    def __post_init__(self) -> None:
        self.checkpoint = Path(self.checkpoint).resolve()
        try:
            self.header = json.loads(self.checkpoint.with_suffix(".json").read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{self.checkpoint}: not a readable checkpoint header ({exc})"
            ) from None
        if self.ticks <= int(self.header["tick"]):
            raise ConfigError(
                f"ticks {self.ticks}: the checkpoint {self.checkpoint.name} is at tick "
                f"{self.header['tick']}; a future must run past it"
            )
        if len(set(self.reseeds)) != len(self.reseeds):
            raise ConfigError(f"reseeds {self.reseeds}: each future needs its own reseed key")
        if self.world is None:
            from evosim.config.load import load_world

            self.world = load_world(self.checkpoint.parent.parent / "config.yaml")

    def tasks(self, out: Path) -> list[RunTask]:
        """One task per reseed, branching from the checkpoint."""
        assert self.world is not None  # set by __post_init__
        world = world_to_dict(self.world)
        every = self.every or self.world.output.checkpoint_every
        seed = int(self.header["seed"])
        return [
            RunTask(
                str(out / future_folder(k)),
                world,
                seed,
                self.ticks,
                every,
                "future",
                k,
                checkpoint=str(self.checkpoint),
                reseed=k,
            )  # fmt: skip
            for k in self.reseeds
        ]

    def resolve(self, task: RunTask) -> RunTask:
        """The tasks carry their world already."""
        return task

    def manifest(self, out: str | os.PathLike) -> dict:
        """The futures' manifest; a folder with other futures (another past or horizon) is refused."""
        out = Path(out)
        new = {
            "evosim_version": __version__,
            "kind": self.kind,
            "checkpoint": str(self.checkpoint),
            "checkpoint_sha256": hashlib.sha256(self.checkpoint.read_bytes()).hexdigest(),
            "ticks": self.ticks,
            "reseeds": sorted(self.reseeds),
            "runs": [{"reseed": k, "folder": future_folder(k)} for k in sorted(self.reseeds)],
        }
        old = existing(out)
        if old is not None:
            diff = [k for k in ("kind", "checkpoint_sha256", "ticks") if old.get(k) != new[k]]
            if diff:
                raise ConfigError(
                    f"--out {out}: holds runs made with a different {', '.join(diff)}; choose "
                    "another --out (only the reseeds may change between re-runs)"
                )
        return new
