"""The detectors' per-tick pass over the species: intelligence and technology windows, milestones.

One pass over the species formed so far (the detectors' numpy code did a dozen array operations
over them every tick). Events are written by the caller, in the order returned here.
"""

from __future__ import annotations

import numpy as np

from evosim.defaults import G_BRAIN
from evosim.engine.kernels.conf import kernel


@kernel
def detect(sp, counts, cfg, n_species, tick, flop, has_ladder):
    """Advance the detection windows of tick ``tick`` and mark what they detect.

    Args:
        sp: the species arrays (:class:`~evosim.engine.state.Detection`), read and marked.
        counts: this tick's survivors per species (:class:`~evosim.engine.state.Tally`: ``adults``,
            ``holders`` of the final milestone, ``top`` level held).
        cfg: the settings (:class:`~evosim.engine.state.DetectorSettings`).
        n_species: species formed so far.
        tick: the tick just completed.
        flop: compute spent so far (recorded with each detection).
        has_ladder: whether the technology ladder has any milestone (else nothing is technological).

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
        if big and centroid[s, G_BRAIN] > cfg.brain_threshold:
            if brain_since[s] < 0:
                brain_since[s] = tick
            if i_at[s] < 0 and tick - brain_since[s] + 1 >= cfg.intelligence_window:
                i_at[s] = tick
                sp.intelligent_flop[s] = flop
                intelligent[ki] = s
                ki += 1
        else:
            brain_since[s] = -1
        ok = big and holders[s] >= cfg.tech_share * max(adults[s], 1) and adults[s] > 0
        if ok and has_ladder:
            if tech_since[s] < 0:
                tech_since[s] = tick
            if t_at[s] < 0 and tick - tech_since[s] + 1 >= cfg.tech_window:
                t_at[s] = tick
                sp.technological_flop[s] = flop
                technological[kt] = s
                kt += 1
        else:
            tech_since[s] = -1
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
