"""The neural-compute figures of summary.json (docs/model.md, "Neural compute").

Neural compute is ``compute.neural_flop_per_agent_tick`` times brain**k summed over
agent-ticks (``Simulation.counters.neural``). Besides the configured exponent
``compute.neural_exponent``, the sums for k = 1, 2, 3 are kept by every run, so the
sensitivity of any ratio to k is read from one run: ``flop_k`` gives them, scaled by the same
constant (which cancels in a ratio).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evosim.engine.sim import Simulation

#: Keys of ``flop_k``: the exponents whose sums every run keeps (columns 0-2 of the sums).
K_KEYS = ("k1", "k2", "k3")


def figures(sim: Simulation, sums: np.ndarray) -> dict[str, Any]:
    """World and per-clade neural compute of the sums ``sums`` (``counters.neural`` or a copy).

    Returns:
        ``flop`` (the world's, configured k), ``flop_k`` (k = 1, 2, 3: ``k1``..``k3``) and
        ``flop_by_clade`` (configured k, per founding clade: the root species and every
        species descended from it, by the root's name).
    """
    c = sim.world.compute.neural_flop_per_agent_tick
    sp = sim.species
    roots = sp.view("root")[: len(sums)]
    return {
        "flop": c * float(sums[:, -1].sum()),
        "flop_k": {key: c * float(sums[:, j].sum()) for j, key in enumerate(K_KEYS)},
        "flop_by_clade": {
            sp.names[r]: c * float(sums[roots == r, -1].sum()) for r in np.unique(roots)
        },
    }


def counted(sim: Simulation) -> bool:
    """Whether the run counted its neural compute from tick 0: False for a run continued from a
    checkpoint written before the measure existed (format 2: its sums are NaN, unknown)."""
    return not bool(np.isnan(sim.counters.neural).any())


def summary(sim: Simulation) -> dict[str, Any] | None:
    """``compute.neural`` of summary.json: the constants, the figures so far
    (:func:`figures`) and the figures at the first intelligent and first technological
    detection (``to_first_intelligent``, ``to_first_technological``; None if none).
    None when the run did not count it from tick 0 (:func:`counted`), as for a run written
    before the measure existed."""
    if not counted(sim):
        return None
    cfg, c = sim.world.compute, sim.counters
    return {
        "flop_per_agent_tick": cfg.neural_flop_per_agent_tick,
        "exponent": cfg.neural_exponent,
        **figures(sim, c.neural),
        "to_first_intelligent": figures(sim, c.neural_intelligent)
        if len(c.neural_intelligent)
        else None,
        "to_first_technological": figures(sim, c.neural_technological)
        if len(c.neural_technological)
        else None,
    }


def at_first(sim: Simulation, kind: str, sid: int) -> dict[str, float]:
    """Fields added to ``first_<kind>`` of summary.json: ``neural_flop`` (the world's neural
    compute at the detection) and ``neural_flop_clade`` (that of the detected species' clade)."""
    sums = getattr(sim.counters, f"neural_{kind}")
    if not len(sums) or not counted(sim):  # (captured on the detection's tick; kept defensive)
        return {}
    f = figures(sim, sums)
    return {
        "neural_flop": f["flop"],
        "neural_flop_clade": f["flop_by_clade"][sim.species.names[int(sim.species.root[sid])]],
    }
