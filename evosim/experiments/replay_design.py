"""The replay design: recreated pasts and their reseeded futures, on the batch pipeline (docs/replay.md).

For each :class:`~evosim.experiments.replay_select.Branch` (a clade of a source run at its
moment, tick T) the design has

- one *past*: the source run's ``config.yaml`` run again from tick 0 to T into
  ``OUT/<arm>/rep-<k>/past-<T>`` (shared by the run's clades with the same T). A run is a pure
  function of its config and seed, so its state at T is the source run's; the source keeps only
  its newest checkpoints, so the one at T is made again;
- per relief, and unrelieved (``none``), M *futures*: ``evosim run --from PAST-CKPT --reseed K
  --ticks T+H`` into ``OUT/<arm>/rep-<k>/<clade>/<relief>/reseed-K``, K = 1..M. The same K in
  every group, so a relieved future and its unrelieved partner share their random streams until
  the relief makes them differ.

The past is each future's shared base (:attr:`~evosim.experiments.task.RunTask.base`), so the
batch pipeline (:mod:`evosim.experiments.batch`: plan, lock, Dask, retry, resume) runs it once
before its futures, and skips it with them once they are finished.

A longer horizon for an existing replay folder extends its futures: each task's ``ticks`` is the
absolute end tick T+H, so a finished future that ran to T+H_old is continued from its final
checkpoint (:func:`evosim.experiments.task.ensure_run`), as an experiment's replicates are.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evosim.analysis.replay import NONE
from evosim.config.load import world_to_dict
from evosim.config.schema import World
from evosim.errors import ConfigError
from evosim.experiments.manifest import existing
from evosim.experiments.replay_select import Branch
from evosim.experiments.replay_spec import ReliefConfig, ReplaySpec
from evosim.experiments.replay_worlds import future_world, past_world, source_world
from evosim.experiments.task import BASE_DIR, RunTask
from evosim.version import __version__

#: Manifest keys a re-run into the same folder must keep (only futures and new reliefs may be added,
#: and the horizon lengthened: :meth:`Replay.check_extension`).
KEPT = ("kind", "source", "moment", "horizon")


@dataclass
class Replay:
    """The replay design of a spec over its branches (module doc).

    Attributes:
        spec: the replay file.
        path: the replay file's path.
        source: the folder replayed.
        branches: the clades and moments (:func:`evosim.experiments.replay_select.select`).
        notes: the runs and clades passed over, and why.
    """

    spec: ReplaySpec
    path: Path
    source: Path
    branches: list[Branch]
    notes: list[str] = field(default_factory=list)
    kind = "replay"
    noun = "future"
    _worlds: dict[Path, World] = field(default_factory=dict, repr=False)

    @property
    def groups(self) -> list[tuple[str, ReliefConfig | None]]:
        """(name, relief) of each group of futures: ``none`` (unrelieved) first, then the reliefs."""
        return [(NONE, None), *((r.name, r) for r in self.spec.reliefs)]

    def _world(self, run: Path) -> World:
        if run not in self._worlds:
            self._worlds[run] = source_world(run)
        return self._worlds[run]

    def past(self, b: Branch, out: Path) -> RunTask:
        """The task of a branch's past: the source run's world from tick 0 to the branch tick."""
        world = world_to_dict(past_world(self._world(b.run), b.tick))
        return RunTask(str(out / b.past_folder()), world, b.seed, b.tick, b.tick, BASE_DIR,
                       b.replicate or 0)  # fmt: skip

    def tasks(self, out: Path) -> list[RunTask]:
        """Per branch, its futures (group-major, then reseed), each with the branch's past as its base."""
        s, tasks = self.spec, []
        for b in self.branches:
            past = self.past(b, out)
            for name, relief in self.groups:
                world = world_to_dict(
                    future_world(self._world(b.run), b.tick, s.horizon, b.clade, relief)
                )
                for k in range(1, s.futures + 1):
                    tasks.append(RunTask(str(out / b.future_folder(name, k)), world, b.seed,
                                         b.tick + s.horizon, s.every, f"{b.key}/{name}", k,
                                         reseed=k, base=past))  # fmt: skip
        return tasks

    def resolve(self, task: RunTask) -> RunTask:
        """The tasks carry their worlds already."""
        return task

    def manifest(self, out: str | os.PathLike) -> dict:
        """The replay's manifest; a folder holding another replay (source, moment, a shorter horizon,
        a relief's effect) or anything else is refused.

        A longer horizon than the folder's is an *extension* (its finished futures continue from
        their final checkpoints), allowed when :meth:`check_extension` passes and recorded in
        ``extensions`` (``from_horizon``, ``to_horizon``, ``at``).
        """
        out = Path(out)
        s = self.spec
        reliefs = {r.name: r.effect_data() for r in s.reliefs}
        new: dict[str, Any] = {
            "evosim_version": __version__,
            "kind": self.kind,
            "name": s.name,
            "spec_file": str(self.path.resolve()),
            "spec": s.model_dump(mode="json"),
            "source": str(self.source),
            "moment": s.moment,
            "horizon": s.horizon,
            "futures": s.futures,
            "reliefs": reliefs,
            "branches": [
                {
                    "key": b.key,
                    "run": str(b.run),
                    "seed": b.seed,
                    "clade": b.clade,
                    "tick": b.tick,
                    "moment": b.moment,
                    "label": b.label,
                    "past": b.past_folder(),
                    "config_sha256": fingerprint(b),
                }
                for b in self.branches
            ],  # fmt: skip
        }
        old = existing(out)
        if old is not None:
            longer = _longer(old, s.horizon)
            diff = [k for k in KEPT if old.get(k) != new[k] and not (k == "horizon" and longer)]
            diff += [f"relief {n}" for n, e in (old.get("reliefs") or {}).items()
                     if n in reliefs and reliefs[n] != e]  # fmt: skip
            diff += _changed_branches(old, new)
            if diff:
                shorter = (
                    f" (its futures run {old.get('horizon')} ticks; a shorter horizon would discard "
                    "ticks of them)"
                    if "horizon" in diff and isinstance(old.get("horizon"), int)
                    else ""
                )
                raise ConfigError(
                    f"--out {out}: holds a replay made with a different {', '.join(diff)}{shorter}; "
                    "choose another --out (only futures, new reliefs and a longer horizon may be added "
                    "to a replay folder)"
                )
            new["extensions"] = list(old.get("extensions", []))
            if longer:
                self.check_extension(out, old)
                new["extensions"].append(
                    {
                        "from_horizon": old["horizon"],
                        "to_horizon": s.horizon,
                        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    }
                )
        else:
            new["extensions"] = []
        return new

    def check_extension(self, out: Path, old: dict) -> None:
        """Refuse a longer horizon whose futures would differ from the folder's, other than in length.

        An extended future continues its world (config.yaml) from its final checkpoint, so it is
        a fresh future at the new horizon only if the world of each of its branch and group is
        the same at both horizons but for ``sim.ticks``; the source run's interventions due
        after the old horizon (:func:`~evosim.experiments.replay_worlds.future_world`) make them
        differ. Only the branches and groups the folder's manifest records are compared.

        Raises:
            ConfigError: naming the first branch and group that differ, and why.
        """
        h0, h1 = int(old["horizon"]), self.spec.horizon
        keys = {b.get("key") for b in old.get("branches", [])}
        groups = {NONE, *(old.get("reliefs") or {})}
        for b in self.branches:
            if b.key not in keys:
                continue
            for name, relief in self.groups:
                if name not in groups:
                    continue
                w0 = future_world(self._world(b.run), b.tick, h0, b.clade, relief)
                w1 = future_world(self._world(b.run), b.tick, h1, b.clade, relief)
                if _untimed(w0) != _untimed(w1):
                    added = [iv.name for iv in w1.interventions if iv not in w0.interventions]
                    why = (
                        f"the source run's intervention(s) {', '.join(added)} fall due in ticks "
                        f"{b.tick + h0 + 1}..{b.tick + h1}"
                        if added
                        else "their worlds differ"
                    )
                    raise ConfigError(
                        f"--out {out}: cannot extend the replay from horizon {h0} to {h1}: for "
                        f"{b.key} ({name}) {why}, which the futures made to tick {b.tick + h0} "
                        f"lack, so an extended future would not be the one a replay at horizon {h1} "
                        "makes. Choose another --out for the longer replay"
                    )


def _changed_branches(old: dict, new: dict) -> list[str]:
    """Branches of both manifests whose source run (its config.yaml's SHA-256) or tick changed.

    The folder's futures continue pasts made from the recorded source; a source edited or
    re-run since would make new futures of another past.
    """
    before = {b.get("key"): b for b in old.get("branches", []) if isinstance(b, dict)}
    out = []
    for b in new["branches"]:
        o = before.get(b["key"])
        if o is None or "config_sha256" not in o:
            continue
        if (o["config_sha256"], o.get("tick")) != (b["config_sha256"], b["tick"]):
            out.append(f"source run for {b['key']} (its config.yaml or branch tick changed since)")
    return out


def _longer(old: dict, horizon: int) -> bool:
    """Whether ``horizon`` lengthens the replay an existing manifest records (an extension)."""
    h0 = old.get("horizon")
    return isinstance(h0, int) and not isinstance(h0, bool) and horizon > h0


def _untimed(world: World) -> dict:
    """A world as plain data with ``sim.ticks`` left out (the length is what an extension changes)."""
    data = world_to_dict(world)
    return {**data, "sim": {k: v for k, v in data["sim"].items() if k != "ticks"}}


def fingerprint(b: Branch) -> str:
    """SHA-256 of a branch's source config.yaml (what its past re-runs)."""
    return hashlib.sha256((b.run / "config.yaml").read_bytes()).hexdigest()


def load_replay(
    path: str | os.PathLike, source: str | None = None, horizon: int | None = None
) -> Replay:
    """Read a replay file and pick its branches from its source folder.

    Args:
        path: the replay file.
        source: replaces the file's ``source`` (``--source``, relative to the working folder).
        horizon: replaces the file's ``horizon`` (``--horizon``).

    Raises:
        ConfigError: a bad replay file, or a source that is not a finished experiment or run folder.
    """
    from evosim.experiments.replay_select import select
    from evosim.experiments.replay_spec import read_replay, source_of

    spec = read_replay(path, horizon)
    src = source_of(spec, path, source)
    branches, notes = select(spec, src)
    return Replay(spec, Path(path), src, branches, notes)
