"""The pygame viewer: watch a world live or replay a recorded run.

* :mod:`evosim.viewer.state` — :class:`ViewState`, a snapshot built from a live
  simulation or a recorded frame.
* :mod:`evosim.viewer.render` — the pure :func:`render` (no display needed).
* :mod:`evosim.viewer.record` — :class:`FrameRecorder` / :class:`FrameReader`
  (``RUN_FOLDER/frames/*.npz``).
* :mod:`evosim.viewer.sources` — live and replay sources.
* :mod:`evosim.viewer.app` — the event loop (:class:`Viewer`).
* :mod:`evosim.viewer.cli` — the ``evosim view`` command.

pygame is imported lazily by the modules that draw, so importing
:mod:`evosim.viewer.record` (for recording during a run) does not load it.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no banner on import

__all__ = ["FrameReader", "FrameRecorder", "ViewState"]


def __getattr__(name: str):
    if name == "ViewState":
        from evosim.viewer.state import ViewState

        return ViewState
    if name in ("FrameRecorder", "FrameReader"):
        from evosim.viewer import record

        return getattr(record, name)
    raise AttributeError(name)
