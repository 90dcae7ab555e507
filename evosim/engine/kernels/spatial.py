"""Spatial index: agents grouped by cell with a counting sort."""

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


@kernel
def cell_index(x, y, n, width, counts, order, group_start):
    """Counting sort of agents ``0..n-1`` by cell ``y * width + x``.

    Args:
        x, y: agent coordinates.
        n: number of live agents.
        width: grid width.
        counts: integer array of size n_cells + 1, overwritten; on return
            ``counts[c]`` is the end of cell c's run in ``order`` (its start
            is ``counts[c - 1]``, or 0 for c = 0).
        order: integer output, size >= n: agent indices sorted by cell, stable.
        group_start: integer output, size >= n + 1: start of each occupied
            cell's run in ``order``; the last entry is n.

    The simulation passes :data:`evosim.defaults.ROW_DTYPE` arrays for all three.

    Returns:
        Number of occupied cells (groups).
    """
    counts[:] = 0
    for i in range(n):
        counts[ix(y[i] * width + x[i] + 1)] += 1
    for c in range(1, counts.shape[0]):
        counts[c] += counts[c - 1]
    for i in range(n):
        c = ix(y[i] * width + x[i])
        order[ix(counts[c])] = i
        counts[c] += 1
    g = 0
    prev = -1
    for j in range(n):
        i = ix(order[j])
        c = y[i] * width + x[i]
        if c != prev:
            group_start[g] = j
            g += 1
            prev = c
    group_start[g] = n
    return g


@kernel
def census(order, group_start, n_groups, species, x, y, code, halo, written, n_written):
    """Per cell: the :func:`census_code` of its majority species (ties: lowest id), -1 where empty.

    ``code`` is a padded grid (shape (H + 2 halo, W + 2 halo)) whose interior
    is the census; its halo is left to :func:`evosim.engine.kernels.move.refresh_halo`.
    Only the cells written by the previous call are cleared: ``written[:n_written]``
    holds their flat indices into ``code`` (``n_written < 0`` clears the whole
    grid, e.g. after a restore); the cells written now are stored there.
    Counts saturate at :data:`CENSUS_MAX_COUNT`. Read by the next tick's movement (aggregation
    toward conspecifics). Returns the number of cells written.
    """
    flat = code.ravel()
    if n_written < 0:
        flat[:] = -1
    else:
        for k in range(n_written):
            flat[ix(written[k])] = -1
    stride = code.shape[1]
    for g in range(n_groups):
        s = group_start[g]
        e = group_start[g + 1]
        best_sp = -1
        best_c = 0
        for j in range(s, e):
            sp = species[ix(order[j])]
            c = 0
            for jj in range(s, e):
                if species[ix(order[jj])] == sp:
                    c += 1
            if c > best_c or (c == best_c and sp < best_sp):
                best_c = c
                best_sp = sp
        i0 = ix(order[s])
        cell = (np.int64(y[i0]) + halo) * stride + np.int64(x[i0]) + halo
        flat[ix(cell)] = census_code(best_sp, best_c)
        written[g] = cell
    return n_groups
