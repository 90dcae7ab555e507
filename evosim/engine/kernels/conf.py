"""JIT flags for every numba kernel, in one place (after PySDM's ``conf.py``).

``EVOSIM_PARALLEL=1`` compiles the per-agent kernels with ``parallel=True`` so
``prange`` loops use several threads (``NUMBA_NUM_THREADS``). Kernels are
written so the result does not depend on the thread count: every loop
iteration touches only its own agent or cell, and random numbers are keyed by
agent id, never by iteration order.
"""

from __future__ import annotations

import os
from typing import Any

PARALLEL: bool = os.environ.get("EVOSIM_PARALLEL", "0") not in ("", "0", "false", "False")

#: Flags for serial kernels. ``fastmath`` stays off: it would let LLVM
#: reassociate sums and break bit-identical runs across machines.
JIT: dict[str, Any] = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")

#: Flags for kernels whose outer loop is a ``prange`` over agents or cells.
#: Parallel builds are not cached (one cache must not serve both builds).
JIT_PARALLEL: dict[str, Any] = dict(JIT, parallel=PARALLEL, cache=not PARALLEL)
