"""The refusals a user sees: one paragraph each, never a traceback.

Every way the user's input can be wrong (a world file, an override, an
experiment spec, a run folder, a checkpoint) ends in a :class:`ConfigError`;
the command line prints its text and exits with :attr:`ConfigError.exit_code`.
This module imports nothing of evosim, so any layer may raise these.
"""

from __future__ import annotations


class ConfigError(Exception):
    """A refused config; ``str(err)`` is the one-paragraph message for the user."""

    exit_code = 2

    def __init__(self, message: str):
        # one paragraph whatever the input: line breaks inside user keys or
        # library messages are shown escaped, never as new lines
        super().__init__(
            "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in str(message))
        )


class CheckpointError(ConfigError):
    """A checkpoint that cannot be used (missing, corrupt, foreign, wrong version)."""


class RunFolderError(ConfigError):
    """A run folder that cannot be written or continued as asked: logs that no checkpoint
    matches, or another process writing it. Exit code 1: the input is fine, the folder is not."""

    exit_code = 1


class OutputError(ConfigError):
    """An output file or folder the user named cannot be written (read-only, full, no permission).
    Exit code 1, like :class:`RunFolderError`: the input is fine, the place to write it is not."""

    exit_code = 1


class Stopped(BaseException):
    """SIGINT or SIGTERM arrived before a run's tick loop (which turns signals into a checkpoint).

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it; the run
    being set up removes what it wrote (or keeps a folder that has a checkpoint) and the command
    says so and exits 130 (SIGINT) or 143 (SIGTERM).
    """

    def __init__(self, signum: int, exit_code: int):
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum
        self.exit_code = exit_code
