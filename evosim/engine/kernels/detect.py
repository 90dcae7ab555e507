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
def _window(ok, since, detected, window, tick):
    """A species' run of ticks meeting a condition (``ok`` now), ``since`` its first tick (-1
    when the condition fails), ``detected`` whether it was detected before.

    Returns:
        (since, fire): the run's new first tick, and whether the species is detected now (its
        run reaches ``window`` ticks and it has no detection yet).

    Scalars only: an inlined helper that takes arrays and returns on several paths is
    reference-counted by numba at every call (~75 ns a species in this loop).
    """
    if not ok:
        return -1, False
    if since < 0:
        since = tick
    return since, not detected and tick - since + 1 >= window


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
    i_flop = sp.intelligent_flop
    t_flop = sp.technological_flop
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
        brain_since[s], fire = _window(intelligent_now, brain_since[s], i_at[s] >= 0,
                                       cfg.intelligence_window, tick)  # fmt: skip
        if fire:
            i_at[s] = tick
            i_flop[s] = flop
            intelligent[ki] = s
            ki += 1
        tech_now = (
            big
            and cfg.has_ladder
            and adults[s] > 0
            and holders[s] >= cfg.tech_share * max(adults[s], 1)
        )
        tech_since[s], fire = _window(tech_now, tech_since[s], t_at[s] >= 0, cfg.tech_window,
                                      tick)  # fmt: skip
        if fire:
            t_at[s] = tick
            t_flop[s] = flop
            technological[kt] = s
            kt += 1
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
