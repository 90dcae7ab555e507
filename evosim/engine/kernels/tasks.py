"""One-thread passes of different processes paired as the two tasks of one kernel.

Some passes of a tick cannot be split among threads without changing their result: a counting
sort, float sums in row order. When two such passes read and write disjoint fields and nothing
between them in the schedule changes what they read, one kernel runs them as the two
iterations of a ``prange`` of 2: in its parallel flavour one per thread (so on 2 threads the
shorter one costs no time), in its serial flavour one after the other. Each pass is the same
function either way, so the bytes are the same. (``life.tally`` splits one pass into two
tasks that each read every row, so its serial flavour is built from the one pass instead:
``@kernel(one_thread=...)``; here the two passes are all the work either way.)
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.engine.kernels.conf import kernel
from evosim.engine.kernels.spatial import sort_by_cell
from evosim.engine.kernels.stats import brain_powers


@kernel(parallel=True)
def index_and_count_brains(a, n, width, index, gene, k, neural):
    """The agents sorted by cell (:func:`~evosim.engine.kernels.spatial.sort_by_cell` into
    ``index``) and the powers of their brain gene summed per species into ``neural``
    (:func:`~evosim.engine.kernels.stats.brain_powers`, gene ``gene``, exponent ``k``).

    Both are serial passes over the rows (a counting sort; float sums in row order), and they
    read and write disjoint fields: the sort reads ``x`` and ``y`` and writes ``index``; the
    sums read ``species`` and ``genome`` and write ``neural``. On threads (the parallel flavour)
    they are two tasks, one per thread, so the shorter one costs no time; in the serial flavour
    they run in turn. Returns the number of occupied cells.
    """
    groups = np.zeros(1, np.int64)
    for task in nb.prange(2):
        if task == 0:
            groups[0] = sort_by_cell(
                a.x, a.y, n, width, index.cell_end, index.order, index.group_start
            )
        else:
            brain_powers(a.species, a.genome, n, gene, k, neural)
    return groups[0]
