"""Spatial index: agents grouped by cell with a counting sort; the census's helpers (the census
itself is taken by :func:`evosim.engine.kernels.forage.forage` as it walks the occupied cells)."""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.engine.kernels.conf import JIT, ix, kernel

#: A census code packs a cell's majority species and its count: ``species << CENSUS_BITS | count``
#: (the count saturates at :data:`CENSUS_MAX_COUNT`); -1 marks an empty cell.
CENSUS_BITS = 16
CENSUS_MAX_COUNT = (1 << CENSUS_BITS) - 1


@nb.njit(inline="always", **JIT)
def census_code(species, count):
    """The census code of a cell whose majority ``species`` has ``count`` members there."""
    return species * (CENSUS_MAX_COUNT + 1) + min(count, CENSUS_MAX_COUNT)


@nb.njit(inline="always", **JIT)
def census_species(code):
    """The majority species of a (non-empty) census code."""
    return code >> CENSUS_BITS


@nb.njit(inline="always", **JIT)
def census_count(code):
    """The (saturated) member count of a (non-empty) census code."""
    return code & CENSUS_MAX_COUNT


@nb.njit(**JIT)
def sort_by_cell(x, y, n, width, counts, order, group_start):
    """:func:`cell_index` on one thread: one counting sort over the whole grid (a pass also run
    beside another by :mod:`evosim.engine.kernels.tasks`)."""
    counts[:] = 0
    for i in range(n):
        counts[ix(y[i] * width + x[i] + 1)] += 1
    # counts[c + 1] holds cell c's count: make counts[c] its start, and list the starts of the
    # occupied cells (in cell order: the order of the groups in ``order``) as it goes
    g = 0
    run = 0  # (a running sum in a register: no store-to-load wait on counts[c - 1])
    for c in range(1, counts.shape[0]):
        k = counts[c]
        group_start[g] = run
        g += k > 0  # (branch-free: which cells are occupied is unpredictable)
        run += k
        counts[c] = run
    group_start[g] = n
    for i in range(n):
        c = ix(y[i] * width + x[i])
        order[ix(counts[c])] = i
        counts[c] += 1
    return g


@kernel(parallel=True)
def cell_index(x, y, n, width, index, tmp=None, stripes=1):
    """Counting sort of agents ``0..n-1`` by cell ``y * width + x``.

    Args:
        x, y: agent coordinates.
        n: number of live agents.
        width: grid width.
        index: the buffers to fill (:class:`~evosim.engine.state.Index`; its ``n_groups`` is not
            read): ``cell_end`` (size n_cells + 1) is overwritten, on return ``cell_end[c]`` is
            the end of cell c's run in ``order`` (its start is ``cell_end[c - 1]``, or 0 for
            c = 0); ``order`` (size >= n) gets the agent indices sorted by cell, stable;
            ``group_start`` (size >= n + 1) the start of each occupied cell's run in ``order``,
            the last entry n.
        tmp: integer scratch of size >= n, needed with ``stripes`` > 1.
        stripes: with more than one (and ``tmp``), the grid is cut into this many bands of
            rows sorted in parallel: the agents are first split by band (stably), then each
            band is counting-sorted on its own cells. The result is the same.

    The simulation passes :data:`evosim.defaults.ROW_DTYPE` arrays for all of them.

    Returns:
        Number of occupied cells (groups).
    """
    counts = index.cell_end
    order = index.order
    group_start = index.group_start
    if tmp is None:
        return sort_by_cell(x, y, n, width, counts, order, group_start)
    n_cells = counts.shape[0] - 1
    height = n_cells // width
    t = min(stripes, height)
    if t <= 1 or n == 0:
        return sort_by_cell(x, y, n, width, counts, order, group_start)
    rows_per = (height + t - 1) // t
    t = (height + rows_per - 1) // rows_per
    band = np.empty(height, np.int64)  # band of each grid row (no division per agent)
    for yy in range(height):
        band[yy] = yy // rows_per
    # 1. agents split into t chunks; each chunk counts its agents per band
    chunk = (n + t - 1) // t
    hist = np.zeros((t, t), np.int64)
    for k in nb.prange(t):
        for i in range(k * chunk, min(n, (k + 1) * chunk)):
            hist[k, band[ix(y[i])]] += 1
    # 2. offsets: bands in order, within a band the chunks in order (so each band keeps row order)
    band_start = np.zeros(t + 1, np.int64)
    pos = 0
    for b in range(t):
        band_start[b] = pos
        for k in range(t):
            c = hist[k, b]
            hist[k, b] = pos
            pos += c
    band_start[t] = n
    # 3. scatter the agents into tmp by band
    for k in nb.prange(t):
        for i in range(k * chunk, min(n, (k + 1) * chunk)):
            b = band[ix(y[i])]
            tmp[ix(hist[k, b])] = i
            hist[k, b] += 1
    # 4. each band: a counting sort of its agents over its own cells (counts[c] = start, then end)
    groups = np.zeros(t + 1, np.int64)
    for b in nb.prange(t):
        c_lo = b * rows_per * width
        c_hi = min(height, (b + 1) * rows_per) * width
        for c in range(c_lo, c_hi):
            counts[c] = 0
        for j in range(band_start[b], band_start[b + 1]):
            i = ix(tmp[j])
            counts[ix(y[i] * width + x[i])] += 1
        run = band_start[b]
        occupied = 0
        for c in range(c_lo, c_hi):
            k = counts[c]
            counts[c] = run
            run += k
            occupied += k > 0
        for j in range(band_start[b], band_start[b + 1]):
            i = tmp[j]
            c = ix(y[ix(i)] * width + x[ix(i)])
            order[ix(counts[c])] = i
            counts[c] += 1
        groups[b + 1] = occupied
    counts[n_cells] = n
    for b in range(t):
        groups[b + 1] += groups[b]
    # 5. each band writes the starts of its groups from its offset
    for b in nb.prange(t):
        g = groups[b]
        prev = -1
        for j in range(band_start[b], band_start[b + 1]):
            i = ix(order[j])
            c = y[i] * width + x[i]
            if c != prev:
                group_start[ix(g)] = j
                g += 1
                prev = c
    group_start[ix(groups[t])] = n
    return groups[t]


@nb.njit(inline="always", **JIT)
def majority(order, s, e, species):
    """(species, count) of the majority species of the agents ``order[s:e]`` (one cell's group of
    the index; ties to the lowest species id)."""
    i0 = ix(order[ix(s)])
    best_sp = species[i0]  # a lone agent (most cells) is its cell's majority
    best_c = 1
    if e - s > 1:
        best_sp = -1
        best_c = 0
        for j in range(s, e):
            sp = species[ix(order[ix(j)])]
            c = 0
            for jj in range(s, e):
                c += species[ix(order[ix(jj)])] == sp
            if c > best_c or (c == best_c and sp < best_sp):
                best_c = c
                best_sp = sp
    return best_sp, best_c


@nb.njit(inline="always", **JIT)
def clear_census(flat, written, n_written):
    """Set the census cells a census wrote (``written[:n_written]``, flat indices into the padded
    census ``flat``) back to -1 (empty); ``n_written < 0`` clears the whole grid (e.g. after a
    restore). The census of a tick (taken by :func:`evosim.engine.kernels.forage.forage` as it
    walks the occupied cells) first clears the last one: only the cells it wrote, not the grid."""
    if n_written < 0:
        flat[:] = -1
    else:
        for k in nb.prange(n_written):
            flat[ix(written[k])] = -1
