"""The pygame viewer: watch a world live or replay a recorded run (drawing only).

* :mod:`evosim.viewer.render` — the pure :func:`render` (no display needed).
* :mod:`evosim.viewer.panel`, :mod:`evosim.viewer.layers`, :mod:`evosim.viewer.colors` — what it draws.
* :mod:`evosim.viewer.sources` — live and replay sources of :class:`evosim.io.snapshot.ViewState`.
* :mod:`evosim.viewer.app` — the event loop (:class:`Viewer`).

The snapshot a frame is drawn from (:mod:`evosim.io.snapshot`) and the
recorded frames (:mod:`evosim.io.frames`) live in :mod:`evosim.io`, so writing
a run folder never imports pygame; the ``evosim view`` command is in
:mod:`evosim.cli.view`.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no banner on import
