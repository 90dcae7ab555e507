"""Skill: cumulative culture at the group level (after Henrich 2004), and innovation.

**Models.** A learner's models are the *adults* of its species (other than
itself) within its social radius (Chebyshev, from sociality), or all adults of
its species when that radius reaches half the grid (well mixed). Skill lives
in the group: a learner can only copy what adults around it hold.

**Learning (prestige-biased, distinct models).** Each tick a juvenile makes
one learning attempt with probability ``juvenile_rate`` (an adult with
``adult_rate``, 0 by default). Its a-th attempt (a = 0, 1, ...; counted per
agent in ``lessons``) copies the model of prestige rank a + 1 in view now --
the best model first, then the second best, and so on -- so the k attempts a
long childhood affords are spread over k distinct models, and a learner that
sees fewer than a + 1 models makes no further attempt until it sees more.
At most ``max_models`` attempts are made. An attempt on a model of skill z_m
aims at

    target = z_m - alpha(z_m) + beta * G,   G ~ Gumbel(0, 1),
    alpha(z_m) = alpha0 + alpha_dexterity (1 - d_eff) + alpha_brain (1 - brain) + complexity * z_m,
    beta = beta0 + beta_brain * brain,

and, if the target lies above the learner's skill z, closes the share
rho = min(1, learning_rate + learning_rate_brain * brain) of the gap:
z <- z + rho (target - z) (a learning curve, after Kaplan et al. 2000: skill
approaches what the models offer as lessons accumulate, faster with a bigger
brain). With rho = 1 the learner keeps its best attempt, Henrich's rule. The complexity term makes advanced
skill harder to copy, so a group's skill settles where copying losses balance
the gains of selecting among many attempts (docs/model.md derives the
equilibrium z* and the group size N* below which skill is lost).

**Innovation.** An adult raises its skill by ``innovation_step`` with
probability ``innovation_rate * brain**k * ((1 - w) + w * d_eff)`` per tick.

There is no per-individual cap on skill. Requirements of the technology
ladder (dexterity, land) gate which milestones an agent *holds*
(:mod:`evosim.engine.kernels.ladder`), not the skill itself.

Models are read from ``model_z``, a snapshot taken before anyone learns this
tick (the skill of adults, -inf for juveniles), so the result is order- and
thread-independent.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from evosim.defaults import G_BRAIN, G_SOCIALITY, RNG_INNOVATE, RNG_LEARN
from evosim.engine.kernels.conf import JIT, ix, kernel
from evosim.engine.kernels.ladder import effective_dexterity
from evosim.engine.kernels.phenotype import lerp, maturity, power
from evosim.engine.kernels.rng import gumbel, uniform

#: The most models a learner can take in (``culture.max_models`` <= this; the rank buffer keeps as many).
MAX_MODELS = 64
#: Places of a run of models a lesson reads whether they are in it or not (`_rank_gathered`).
PEEK = 4
#: Size of each block's rank buffer: a lesson gathers the skills of up to RANK_BUF - MAX_MODELS -
#: PEEK models of its window there (a window with more is ranked by insertion: `_rank_inserted`).
RANK_BUF = 1024
#: Agents per block of the parallel learning loop (each block owns one rank buffer).
BLOCK = 512
#: The learning loop takes the blocks 0, SPREAD, 2 SPREAD, ..., then 1, SPREAD + 1, ... (see
#: :func:`_spread`): a thread's contiguous share of that order holds blocks from the whole grid (rows
#: are in cell order, and the learners, mostly juveniles, gather where their species lives), not one
#: band of it.
SPREAD = 8


@nb.njit(inline="always", **JIT)
def _spread(j, n_blocks):
    """The ``j``-th of ``n_blocks`` blocks in the SPREAD-strided order: the blocks laid out in rows
    of SPREAD, read column by column (0, SPREAD, 2 SPREAD, ..., 1, SPREAD + 1, ...). A bijection of
    ``range(n_blocks)``, so threads that split the order into contiguous shares get as many blocks
    each (a padded layout gave the last columns' missing blocks to the last thread)."""
    q = n_blocks // SPREAD  # rows of full length; the first `rem` columns hold one block more
    rem = n_blocks - q * SPREAD
    long = rem * (q + 1)  # blocks in the longer columns
    if j < long:
        c = j // (q + 1)
        r = j - c * (q + 1)
    else:
        c = rem + (j - long) // q
        r = (j - long) - (c - rem) * q
    return r * SPREAD + c


class Models(NamedTuple):
    """This tick's models, taken before anyone learns (so learning is order- and thread-blind).

    ``z`` is per row (:func:`model_skills`); the per-species ranking is
    :func:`species_top_models`'s, used where a social radius covers the grid (else empty).
    """

    z: np.ndarray  # float32: each row's skill as a model, -inf for juveniles
    top_values: np.ndarray  # float64 (S, depth): per species, the best model skills, largest first
    top_rows: np.ndarray  # int64 (S, depth): their rows (-1: none)
    top_counts: np.ndarray  # int64 (S,): how many of them are set


@kernel(parallel=True)
def model_skills(a, n, p, out):
    """``out[i]`` = skill of agent i if it is an adult (a possible model), else -inf."""
    skill = a.skill  # one field per statement (see learn_and_innovate)
    genome = a.genome
    age = a.age
    for i in nb.prange(n):
        out[i] = skill[i] if age[i] >= maturity(genome[i], p) else -np.inf


@kernel
def species_top_models(a, model_z, n, n_species, depth):
    """Per species, the ``depth`` best model skills (largest first) and their rows (for well-mixed learning).

    Returns:
        (values float64[n_species, depth], rows int64[n_species, depth], counts int64[n_species]).
    """
    species = a.species
    vals = np.full((n_species, depth), -np.inf)
    rows = np.full((n_species, depth), -1, np.int64)
    cnt = np.zeros(n_species, np.int64)
    for i in range(n):
        v = np.float64(model_z[i])
        if v == -np.inf:
            continue
        s = species[i]
        c = cnt[s]
        if c == depth and v <= vals[s, depth - 1]:
            continue
        j = depth - 1 if c == depth else c
        if c < depth:
            cnt[s] = c + 1
        while j > 0 and vals[s, j - 1] < v:
            vals[s, j] = vals[s, j - 1]
            rows[s, j] = rows[s, j - 1]
            j -= 1
        vals[s, j] = v
        rows[s, j] = i
    return vals, rows, cnt


@nb.njit(**JIT)
def _list_models(order, n, model_z, species, mz, msp, mrow, before):
    """The possible models (``model_z`` > -inf: the adults) in the cell order of the spatial index.

    Fills ``mz`` (their skills as float64), ``msp`` (species) and ``mrow`` (rows) and, per
    position ``j`` = 0..n of ``order``, ``before[j]``: how many models come before it. A lesson
    then reads the models of a run ``order[s:e]`` of cells as the contiguous entries
    ``before[s] .. before[e] - 1``: no juvenile is visited and no row is read through ``order``
    (:func:`_window_runs`). Each row is written at the next free place, which moves on only
    for a model (which rows are adults is unpredictable: no branch). Returns the number of
    models.
    """
    k = 0
    for j in range(n):
        before[j] = k
        a = np.int64(order[ix(j)])
        v = np.float64(model_z[ix(a)])
        mz[k] = v
        msp[k] = species[ix(a)]
        mrow[k] = a
        k += v > -np.inf
    before[n] = k
    return k


@nb.njit(inline="always", **JIT)
def _window_runs(runs, xi, yi, r, width, height, cell_end, before):
    """The models within Chebyshev radius r of cell (xi, yi) as runs of the models list.

    Agents are sorted by cell (row-major), so the cells of one row segment of the window hold
    one contiguous run of the index (two where the segment wraps around the torus), and the
    models of that run are one contiguous run of ``mz``, ``msp`` and ``mrow``
    (:func:`_list_models`, which also fills ``before``). Writes each run's bounds to ``runs``
    (start, stop, start, stop, ...; all looked up before any is read, so the lookups,
    independent of each other, are in flight together). Returns (2 x the runs, the models in
    them). Requires 2 r < width and 2 r < height.
    """
    x0 = xi - r
    x1 = xi + r
    # the row segment x0..x1 as one or two runs of cells: [a0, a1] and [b0, b1] (b1 < b0: none)
    a0, a1, b0, b1 = x0, x1, 0, -1
    if x0 < 0:
        a0, a1, b0, b1 = x0 + width, width - 1, 0, x1
    elif x1 >= width:
        a0, a1, b0, b1 = x0, width - 1, 0, x1 - width
    cy = yi - r
    if cy < 0:
        cy += height
    n_runs = 0
    total = 0
    for _dy in range(2 * r + 1):
        base = cy * width
        for part in range(1 if b1 < b0 else 2):
            c0 = base + (a0 if part == 0 else b0)
            c1 = base + (a1 if part == 0 else b1)
            start = 0 if c1 < c0 or c0 == 0 else np.int64(cell_end[ix(c0 - 1)])
            stop = 0 if c1 < c0 else np.int64(cell_end[ix(c1)])
            k0 = np.int64(before[ix(start)])
            k1 = np.int64(before[ix(stop)])
            runs[ix(n_runs)] = k0
            runs[ix(n_runs + 1)] = k1
            total += k1 - k0
            n_runs += 2
        cy += 1
        if cy == height:
            cy = 0
    return n_runs, total


@nb.njit(inline="always", **JIT)
def _rank_gathered(i, sp, depth, buf, runs, n_runs, mz, msp, mrow):
    """Skill of the model of prestige rank ``depth`` among the learner's fellow models (its
    species, not itself) in the runs of :func:`_window_runs` (-inf if fewer), without a branch.

    The fellows' skills are gathered into ``buf``: every model's skill is written at the next
    free place, which moves on only for a fellow; a run's first :data:`PEEK` places are read
    whether in it or not (a run holds ~1 model: a loop over each ended in a mispredicted
    branch), so ``mz``, ``msp`` and ``mrow`` must be ``PEEK`` places longer than the models,
    and ``buf`` hold the window's models + ``PEEK`` + :data:`MAX_MODELS`. Of c fellows the
    rank-``depth`` skill is the (c - depth + 1)-th smallest: the smaller side is kept in
    ``buf``'s last places (the ``depth`` largest, or the c - depth + 1 smallest by their
    negations, exact), each skill sinking through the kept ones by max and min. Equal skills
    count apart, as in :func:`_rank_inserted`.
    """
    cnt = 0
    for q in range(0, n_runs, 2):
        k0 = runs[ix(q)]
        m = runs[ix(q + 1)] - k0
        for t in range(PEEK):
            k = k0 + t
            buf[ix(cnt)] = mz[ix(k)]
            cnt += (t < m) & (msp[ix(k)] == sp) & (mrow[ix(k)] != i)
        for k in range(k0 + PEEK, k0 + m):
            buf[ix(cnt)] = mz[ix(k)]
            cnt += (msp[ix(k)] == sp) & (mrow[ix(k)] != i)
    res = -np.inf
    if cnt >= depth:
        j = cnt - depth + 1
        sign = 1.0 if depth <= j else -1.0
        kk = depth if depth <= j else j
        top = buf.shape[0] - MAX_MODELS
        for w in range(kk):
            buf[ix(top + w)] = -np.inf
        for q in range(cnt):
            v = sign * buf[ix(q)]
            for w in range(kk):  # kept largest first
                u = buf[ix(top + w)]
                buf[ix(top + w)] = max(u, v)
                v = min(u, v)
        res = sign * buf[ix(top + kk - 1)]
    return res


@nb.njit(**JIT)
def _rank_inserted(i, sp, depth, buf, runs, n_runs, mz, msp, mrow):
    """:func:`_rank_gathered` for a window of more models than ``buf`` holds: each fellow's
    skill is inserted into ``buf[:depth]`` (largest first, at most ``depth`` kept). Not inlined
    (rare): the kernel's two inlined paths made numba reference-count five arrays per lesson."""
    cnt = 0
    for q in range(0, n_runs, 2):
        for k in range(runs[ix(q)], runs[ix(q + 1)]):
            v = mz[ix(k)]
            if msp[ix(k)] == sp and mrow[ix(k)] != i:
                if cnt < depth or v > buf[depth - 1]:
                    kk = cnt if cnt < depth else depth - 1
                    if cnt < depth:
                        cnt += 1
                    while kk > 0 and buf[kk - 1] < v:
                        buf[kk] = buf[kk - 1]
                        kk -= 1
                    buf[kk] = v
    return buf[depth - 1] if cnt == depth else -np.inf


@nb.njit(inline="always", **JIT)
def _rank_mixed(i, sp, depth, top_vals, top_rows, top_cnt):
    """Skill of the model of prestige rank ``depth`` among all adults of the species but ``i``."""
    k = 0
    for j in range(top_cnt[sp]):
        if top_rows[sp, j] == i:
            continue
        k += 1
        if k == depth:
            return top_vals[sp, j]
    return -np.inf


@kernel(parallel=True)
def learn_and_innovate(a, n, models, cells, index, sa, clock, p):
    """One tick of learning and innovation for every agent (see the module docstring).

    Args:
        a: the agents (:class:`~evosim.engine.state.Agents`; ``skill`` and ``lessons`` of
            rows ``0 .. n-1`` are updated in place).
        n: live agents.
        models: this tick's :class:`Models` (taken before learning).
        cells: the grids (only their shape is read).
        index: this tick's spatial index (:class:`~evosim.engine.state.Index`: ``order``
            and ``cell_end``).
        sa: the per-species arrays (``manipulators``: effective-dexterity grants).
        clock: the seed and tick keying the draws.
        p: the parameters.

    Returns:
        (learning attempts, innovations) made this tick (for the compute accounting).
    """
    # one field per statement: a tuple assignment of fields before a prange loop miscompiles
    # the parallel build (numba 0.68; tests/test_determinism.py compares the builds)
    skill = a.skill
    lessons = a.lessons
    ids = a.id
    species = a.species
    x = a.x
    y = a.y
    genome = a.genome
    age = a.age
    model_z = models.z
    top_vals = models.top_values
    top_rows = models.top_rows
    top_cnt = models.top_counts
    order = index.order
    cell_end = index.cell_end
    manipulators = sa.manipulators
    seed = clock.seed
    tick = clock.tick
    height = cells.habitat.shape[0]
    width = cells.habitat.shape[1]
    depth_max = min(int(p.max_models), MAX_MODELS)
    mz = np.empty(n + PEEK)  # (see _rank_gathered)
    msp = np.empty(n + PEEK, species.dtype)
    mrow = np.empty(n + PEEK, np.int64)
    before = np.empty(n + 1, np.int64)
    if p.juvenile_rate > 0.0 or p.adult_rate > 0.0:
        _list_models(order, n, model_z, species, mz, msp, mrow, before)
    # (start, stop) of two runs per row of a window: 2 r + 1 <= min(width, height) rows
    runs_len = 4 * min(width, height)
    n_blocks = (n + BLOCK - 1) // BLOCK
    attempts = 0
    innovations = 0
    for j in nb.prange(n_blocks):
        b = _spread(j, n_blocks)
        buf = np.empty(RANK_BUF)
        runs = np.empty(runs_len, np.int64)
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            sp = species[i]
            brain = np.float64(genome[i, G_BRAIN])
            d_eff = effective_dexterity(genome[i], manipulators[sp])
            juvenile = age[i] < maturity(genome[i], p)
            z = np.float64(skill[i])
            rate = p.juvenile_rate if juvenile else p.adult_rate
            depth = np.int64(lessons[i]) + 1  # this attempt copies the model of this prestige rank
            if (
                rate > 0.0
                and depth <= depth_max
                and uniform(seed, tick, ids[i], RNG_LEARN, 0) < rate
            ):
                r = int(
                    lerp(p.social_radius_min, p.social_radius_max, genome[i, G_SOCIALITY]) + 0.5
                )
                if 2 * r >= width or 2 * r >= height:
                    zm = _rank_mixed(i, sp, depth, top_vals, top_rows, top_cnt)
                else:
                    n_runs, total = _window_runs(runs, np.int64(x[i]), np.int64(y[i]), r, width,
                                                 height, cell_end, before)  # fmt: skip
                    if total + PEEK + MAX_MODELS <= buf.shape[0]:
                        zm = _rank_gathered(i, sp, depth, buf, runs, n_runs, mz, msp, mrow)
                    else:
                        zm = _rank_inserted(i, sp, depth, buf, runs, n_runs, mz, msp, mrow)
                if zm > -np.inf:
                    attempts += 1
                    lessons[i] += 1
                    alpha = (p.alpha0 + p.alpha_dexterity * (1.0 - d_eff)
                             + p.alpha_brain * (1.0 - brain) + p.complexity * zm)  # fmt: skip
                    beta = p.beta0 + p.beta_brain * brain
                    target = zm - alpha + beta * gumbel(seed, tick, ids[i], RNG_LEARN, 1)
                    if target > z:  # a lesson closes part of the gap (all of it at rate 1)
                        rate = p.learning_rate + p.learning_rate_brain * brain
                        z += (rate if rate < 1.0 else 1.0) * (target - z)
            if not juvenile and p.innovation_rate > 0.0:
                w = p.innovation_dexterity_weight
                chance = (p.innovation_rate * power(brain, p.innovation_brain_exponent)
                          * ((1.0 - w) + w * d_eff))  # fmt: skip
                if uniform(seed, tick, ids[i], RNG_INNOVATE, 0) < chance:
                    innovations += 1
                    z += p.innovation_step
            skill[i] = z
    return attempts, innovations
