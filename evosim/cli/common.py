"""Option and error handling shared by the ``evosim`` commands.

Used by :mod:`evosim.cli.main` and the modules adding commands to it.

Imports nothing of the command modules, so each of them can import it at the top.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from evosim.errors import ConfigError, Stopped

#: ``--set KEY.PATH=VALUE`` (repeatable), passed to the command as ``overrides``.
set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Override one key of the world, e.g. --set world.width=128 (repeatable). A list entry is "
    "selected by index or name, in either form: species.0.count, species[0].count, "
    "species.primate.count or species[primate].count.",
)


def refusals(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ConfigError into the one-paragraph message and its exit code (2; 1 for a RunFolderError).

    A refusal found once the world was loaded (a :class:`~evosim.config.base.ConfigProblem`: the
    founders' start habitat, a map file read again) is named in the world file of a command that
    takes one (``world_file`` and ``overrides``), as any bad key is: file, key path, line, or
    the ``--set`` that set it.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            exc = _in_world_file(exc, kwargs)
            click.echo(f"evosim: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def _in_world_file(exc: ConfigError, options: dict[str, Any]) -> ConfigError:
    """``exc`` named in the world the command loaded, if it is a key path's problem found after loading.

    Only for a world loaded from ``world_file`` (``evosim view``: its ``source``, unless that
    is a run folder; or the default world) with ``overrides``: a ``--resume`` or ``--from`` run
    without a world file takes its world from a run folder.
    """
    from evosim.config.base import ConfigProblem

    if not isinstance(exc, ConfigProblem) or "overrides" not in options:
        return exc
    if "world_file" in options:
        path = options["world_file"]
        if not path and (options.get("resume_folder") or options.get("from_checkpoint")):
            return exc
    elif "source" in options:  # evosim view: a world file, or a run folder (replayed)
        path = options["source"]
        if path and Path(path).is_dir():
            return exc
    else:
        return exc
    from evosim.config.load import locate_problem

    return locate_problem(exc, path, options["overrides"])


def not_empty(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Click callback refusing an empty path (``--out ''`` used to mean the default folder)."""
    if value is not None and not str(value).strip():
        raise click.BadParameter(
            "an empty name; give a file or folder name, or leave the option out for its default"
        )
    return value


def load_world_file(path: str | None, overrides: Sequence[str] | dict = ()) -> Any:
    """``load_world(path, overrides)``; an experiment or sweep file is named as such.

    Raises:
        ConfigError: the world is refused; for a file with an ``arms`` or ``sweep`` block the
            message says which command runs it instead of listing its keys as unknown.
    """
    from evosim.config.load import load_world

    try:
        return load_world(path, overrides)
    except ConfigError as exc:
        kind = experiment_kind(path)
        if kind is None:
            raise
        raise ConfigError(
            f"{path}: this is an {'experiment file with a sweep: block' if kind == 'sweep' else 'experiment file'}, "
            f"not a world: evosim {kind} {path}"
        ) from exc


def experiment_kind(path: str | None) -> str | None:
    """``"experiment"`` or ``"sweep"`` if ``path`` is a readable YAML mapping with an ``arms`` or ``sweep`` key."""
    if not path:
        return None
    from evosim.config.yamlsafe import parse

    try:
        with open(path, "rb") as fh:  # bounded: the path may be a pipe or a device
            raw = fh.read(1_000_001)
        if len(raw) > 1_000_000:
            return None
        data, _ = parse(raw.decode("utf-8"))
    except Exception:  # noqa: BLE001 - unreadable or not YAML: load_world's own message stands
        return None
    if not isinstance(data, dict):
        return None
    if "sweep" in data:
        return "sweep"
    return "experiment" if "arms" in data else None


#: Exit codes for a command stopped by a signal (128 + signal number).
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while heavy modules import; deliver the first one afterwards.

    A signal whose handler raises inside an import leaves the module half-initialised, and a C
    extension (numba's) turns the exception into an ``ImportError`` with a traceback. Here the
    handler only notes the signal; once the block ends, the handlers in force before it get it
    (``signal.raise_signal``), so :func:`stop_on_signals` reports it as usual.
    """
    caught: list[int] = []

    def hold(signum: int, _frame: Any) -> None:
        caught.append(signum)

    try:
        with handling_signals(hold):
            yield
    finally:
        if caught:  # the handlers in force before the block are back
            signal.raise_signal(caught[0])


@contextmanager
def handling_signals(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """``handler`` for SIGINT and SIGTERM in the block, the previous handlers after it (main thread
    only: elsewhere nothing is installed)."""
    old = {}
    for sig in SIGNAL_EXIT:
        try:
            old[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread
            pass
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


@contextmanager
def stop_on_signals(grace: float = 0.0) -> Iterator[None]:
    """While setting a run up: SIGINT or SIGTERM raise :class:`~evosim.errors.Stopped` at once.

    (The tick loop installs its own handlers, which finish the tick and write a
    checkpoint, and restores these after.) A second signal while the first is
    handled exits at once with the same code, unless it comes within ``grace``
    seconds of the first: then it is the same request, ignored (``timeout`` signals a
    command and then its whole process group; the batch commands pass a grace). In a
    thread other than the main one nothing is installed.
    """
    first: list[float] = []

    def handler(signum: int, _frame: Any) -> None:
        code = SIGNAL_EXIT.get(signal.Signals(signum), 130)
        if first:
            if time.monotonic() - first[0] < grace:
                return
            os._exit(code)
        first.append(time.monotonic())
        raise Stopped(signum, code)

    with handling_signals(handler):
        yield
