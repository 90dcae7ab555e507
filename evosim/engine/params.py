"""Fixed parameters handed to kernels, apart from the changing state.

After gymnax's ``EnvParams``: :class:`~evosim.engine.state.Params` is an immutable tuple of
floats (numba sees it as a homogeneous named tuple) built once from a validated
:class:`~evosim.config.schema.World`. Each field is declared once, in
:class:`~evosim.engine.state.Params`, with the config path it takes its value from;
:data:`PATHS` is that table. Per-species arrays (gene bounds, mutation sizes, founder
genomes) live in :class:`evosim.engine.species.SpeciesRegistry`.
"""

from __future__ import annotations

import typing
from functools import reduce

import numpy as np

from evosim.config.schema import World
from evosim.engine.state import Ladder, Params

__all__ = ["PATHS", "Ladder", "Params", "ladder_from_world", "params_from_world"]


def _paths() -> dict[str, str]:
    hints = typing.get_type_hints(Params, include_extras=True)
    return {f: hints[f].__metadata__[0] for f in Params._fields}


#: Each :class:`Params` field -> the dotted path of its value in a :class:`World`.
PATHS: dict[str, str] = _paths()


def params_from_world(w: World) -> Params:
    """Flatten the world's values named by :data:`PATHS` into :class:`Params` (as floats)."""
    return Params(
        *(float(reduce(getattr, path.split("."), w)) for path in PATHS.values())  # type: ignore[arg-type]
    )


def ladder_from_world(w: World) -> Ladder:
    """Arrays of the technology ladder."""
    ms = w.technology.ladder
    m = len(ms)
    energy = np.ones(m + 1)
    access = np.zeros(m + 1, np.uint8)
    hard = np.ones(m + 1)
    regrow = np.zeros(m + 1)
    for k, ms_k in enumerate(ms, start=1):
        energy[k] = energy[k - 1] * ms_k.energy_multiplier
        access[k] = access[k - 1] | ms_k.hard_food
        hard[k] = hard[k - 1] * ms_k.hard_food_multiplier
        regrow[k] = max(regrow[k - 1], ms_k.regrowth_bonus)
    return Ladder(
        threshold=np.array([x.threshold for x in ms], np.float64),
        min_dexterity=np.array([x.min_dexterity for x in ms], np.float64),
        needs_land=np.array([x.needs_land for x in ms], np.uint8),
        dexterity_width=np.array([x.dexterity_width for x in ms], np.float64),
        land_width=np.array([x.land_width for x in ms], np.float64),
        land_radius=np.array([x.land_radius for x in ms], np.int64),
        energy_mult=energy,
        hard_access=access,
        hard_mult=hard,
        regrowth_bonus=regrow,
    )
