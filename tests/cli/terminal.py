"""Running ``evosim`` as a user does at a terminal: in a subprocess whose stdout and stderr are a pseudo-terminal.

click draws progress bars only when its stream is a terminal, so commands
run through CliRunner or with redirected output never execute that code (a
crash there once broke the README's first command). :func:`in_pty` runs the
real command under :mod:`pty`.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class TtyResult:
    """Exit code and everything the command wrote to its terminal (ANSI codes removed)."""

    exit_code: int
    output: str


def in_pty(
    *args: object,
    cwd: str | Path,
    timeout: float = 300,
    env: dict | None = None,
    cols: int | None = None,
) -> TtyResult:
    """Run ``python -m evosim ARGS`` with stdin, stdout and stderr on a new pseudo-terminal.

    Args:
        args: the command line after ``evosim``.
        cwd: working folder.
        timeout: seconds before the process is killed (the test then fails).
        env: extra environment variables.
        cols: the terminal's width, set as a resized terminal has it (its window size, as
            ``stty cols N``; no ``COLUMNS`` variable). Default: ``COLUMNS=120`` and no size.

    Returns:
        The exit code and the terminal's text.
    """
    master, slave = pty.openpty()
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if cols is None:
        base["COLUMNS"] = "120"
    else:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "evosim", *map(str, args)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env={**base, "TERM": "xterm", **(env or {})},
        close_fds=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise AssertionError(
                    f"evosim {' '.join(map(str, args))} did not finish in {timeout} s; output so far:\n"
                    + b"".join(chunks).decode("utf-8", "replace")
                )
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                continue  # drain what is left; read() then ends with EIO
    finally:
        os.close(master)
    code = proc.wait()
    text = _ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")
    return TtyResult(code, text)
