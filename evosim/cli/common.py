"""Option and error handling shared by the ``evosim`` commands.

Used by :mod:`evosim.cli.main` and the modules adding commands to it.

Imports nothing of the command modules, so each of them can import it at the top.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from evosim.errors import ConfigError

#: ``--set KEY.PATH=VALUE`` (repeatable), passed to the command as ``overrides``.
set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Override one key of the world, e.g. --set world.width=128 or --set species.primate.count=50 (repeatable).",
)


def refusals(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ConfigError into the one-paragraph message and its exit code (2; 1 for a RunFolderError)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"evosim: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper
