"""The ``evosim`` command line (:mod:`evosim.cli.main`).

Loading the command's modules takes most of a second. When this package is
imported to run the program (``evosim`` or ``python -m evosim``), SIGINT and
SIGTERM in that time end it at once with one line and exit 130 / 143 (nothing
has been written yet), instead of a KeyboardInterrupt traceback; the command
then installs its own handling (:class:`evosim.cli.main._Main`). Imported any
other way (tests, notebooks), nothing is installed. In a worker process of a command's local
Dask cluster, which runs the script again, SIGINT is ignored instead (:func:`_spawned`).
"""

from __future__ import annotations

import os
import signal
import sys


def _starting(signum: int, _frame: object) -> None:
    os.write(2, b"\ninterrupted while starting; nothing was written\n")
    os._exit(128 + signum)


def restore_default_signals() -> None:
    """Python's own SIGINT / SIGTERM handling (what the commands build on)."""
    if signal.getsignal(signal.SIGINT) is _starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _spawned() -> bool:
    """True in a process that :mod:`multiprocessing` spawned (a worker of a local Dask cluster).

    It runs the ``evosim`` script again as its ``__mp_main__`` with the parent's ``sys.argv``;
    its own command line (``sys.orig_argv``) says what it is. Such a process is not the
    command: it ignores SIGINT (Ctrl-C signals the whole process group), the command stops it by
    closing its cluster.
    """
    return "--multiprocessing-fork" in getattr(sys, "orig_argv", ())


_program = os.path.basename(sys.argv[0]) if sys.argv else ""
if _program == "evosim" or sys.argv[0].endswith(os.path.join("evosim", "__main__.py")):
    try:
        if _spawned():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        else:
            signal.signal(signal.SIGINT, _starting)
            signal.signal(signal.SIGTERM, _starting)
    except ValueError:  # not the main thread
        pass
