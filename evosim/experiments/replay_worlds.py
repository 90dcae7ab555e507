"""The worlds of a replay: the recreated past and the (relieved) futures (docs/replay.md).

A run is a pure function of its config and seed, so the past of a branch is
the source run's own ``config.yaml`` run again from tick 0 to the branch tick
(its logs are the source run's up to there; ``tests/experiments/test_replay.py``
checks it). Only the run's length differs, and the interventions timed after
the branch tick are left out of the past (they would never apply there, and
``evosim run`` refuses such a world). A future is the same config from the
past's final checkpoint with ``--reseed K``: the interventions still due after
the branch are kept, and a relief adds one intervention per effect, applied at the first
tick after the branch to the clade (``target: {founder: CLADE}``: the founding
species and every species descended from it).
"""

from __future__ import annotations

from pathlib import Path

from evosim.config.interventions import InterventionConfig, never_applies
from evosim.config.load import load_world
from evosim.config.schema import World
from evosim.experiments.replay_spec import ReliefConfig


def _due(world: World, first: int, last: int) -> list[InterventionConfig]:
    """The world's interventions that apply at some tick of ``first .. last`` (or on a trigger)."""
    return [iv for iv in world.interventions if not never_applies([iv], first, last)]


def _with(world: World, ticks: int, interventions: list[InterventionConfig]) -> World:
    sim = world.sim.model_copy(update={"ticks": ticks, "reseed": None})
    return world.model_copy(update={"sim": sim, "interventions": interventions})


def source_world(run: Path) -> World:
    """The resolved world of a source run (its ``config.yaml``)."""
    return load_world(run / "config.yaml")


def past_world(world: World, tick: int) -> World:
    """The source run's world, run from tick 0 to ``tick`` (interventions due later left out)."""
    return _with(world, tick, _due(world, 0, tick))


def relief_interventions(relief: ReliefConfig, clade: str, tick: int) -> list[InterventionConfig]:
    """The interventions of a relief: each of its effects on ``clade`` at the first tick after the
    branch ``tick`` (in order, all named ``relief-<name>``)."""
    return [
        InterventionConfig.model_validate(
            {
                "name": f"relief-{relief.name}",
                "when": {"tick": tick + 1},
                "target": {"founder": clade},
                "effect": e.model_dump(exclude_none=True),
            }
        )
        for e in relief.effects()
    ]


def future_world(
    world: World, tick: int, horizon: int, clade: str, relief: ReliefConfig | None
) -> World:
    """A future's world: the source world to ``tick + horizon``, with ``relief`` (None: unrelieved)."""
    ivs = _due(world, tick + 1, tick + horizon)
    if relief is not None:
        ivs += relief_interventions(relief, clade, tick)
    return _with(world, tick + horizon, ivs)
