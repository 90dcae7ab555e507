"""The detectors' per-tick pass over the species: intelligence and technology windows, milestones.

One pass over the species formed so far (the detectors' numpy code did a dozen array operations
over them every tick). Events are written by the caller, in the order returned here.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import G_BRAIN
from evosim.engine.kernels.conf import JIT, kernel


@nb.njit(inline="always", **JIT)
def _window(ok, s, since, at, flops, window, tick, flop, fired, k):
    """Species ``s``'s run of ticks meeting a condition (``ok`` now): ``since[s]`` is its first
    tick (-1 when the condition fails); once the run reaches ``window`` ticks and ``s`` has no
    detection yet, it is detected now (``at[s]``, ``flops[s]``) and appended to ``fired`` at
    ``k``. Returns the new count of ``fired``."""
    if not ok:
        since[s] = -1
        return k
    if since[s] < 0:
        since[s] = tick
    if at[s] < 0 and tick - since[s] + 1 >= window:
        at[s] = tick
        flops[s] = flop
        fired[k] = s
        return k + 1
    return k


@kernel
def detect(sp, counts, cfg, n_species, tick, flop):
    """Advance the detection windows of tick ``tick`` and mark what they detect.

    Args:
        sp: the species arrays (:class:`~evosim.engine.state.Detection`), read and marked.
        counts: this tick's survivors per species (:class:`~evosim.engine.state.Tally`: ``adults``,
            ``holders`` of the final milestone, ``top`` level held).
        cfg: the settings (:class:`~evosim.engine.state.DetectorSettings`; without a milestone
            in the ladder, ``has_ladder`` false, nothing is technological).
        n_species: species formed so far.
        tick: the tick just completed.
        flop: compute spent so far (recorded with each detection).

    A species counts toward intelligence while it has ``min_population`` members and its centroid's
    brain is above ``brain_threshold``, toward technology while it has them and ``holders >=
    tech_share * max(adults, 1)`` with some adult. ``*_since`` holds the first tick of the current
    run (-1 when the condition fails); a species whose run reaches the window and has no detection
    yet is detected now (``*_at`` = ``tick``, ``*_flop`` = ``flop``). ``max_level`` rises to ``top``.

    Returns:
        (intelligent, technological, milestone_species, milestone_level): the species detected now,
        ascending, and each (species, level) first reached now, by species then level.
    """
    alive = sp.alive
    centroid = sp.centroid
    brain_since = sp.brain_since
    tech_since = sp.tech_since
    i_at = sp.intelligent_at
    t_at = sp.technological_at
    max_level = sp.max_level
    adults = counts.adults
    holders = counts.holders
    top = counts.top
    intelligent = np.empty(n_species, np.int64)
    technological = np.empty(n_species, np.int64)
    ki = 0
    kt = 0
    k_ms = 0
    for s in range(n_species):
        big = alive[s] >= cfg.min_population
        intelligent_now = big and centroid[s, G_BRAIN] > cfg.brain_threshold
        ki = _window(intelligent_now, s, brain_since, i_at, sp.intelligent_flop,
                     cfg.intelligence_window, tick, flop, intelligent, ki)  # fmt: skip
        tech_now = (
            big
            and cfg.has_ladder
            and adults[s] > 0
            and holders[s] >= cfg.tech_share * max(adults[s], 1)
        )
        kt = _window(tech_now, s, tech_since, t_at, sp.technological_flop, cfg.tech_window,
                     tick, flop, technological, kt)  # fmt: skip
        if top[s] > max_level[s]:
            k_ms += top[s] - max_level[s]
    ms_species = np.empty(k_ms, np.int64)
    ms_level = np.empty(k_ms, np.int64)
    k = 0
    if k_ms > 0:
        for s in range(n_species):
            for lv in range(max_level[s] + 1, top[s] + 1):
                ms_species[k] = s
                ms_level[k] = lv
                k += 1
            if top[s] > max_level[s]:
                max_level[s] = top[s]
    return intelligent[:ki], technological[:kt], ms_species, ms_level
