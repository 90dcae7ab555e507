"""The ``evosim schema`` command, registered in :mod:`evosim.cli.main` with ``main.add_command(schema)``."""

from __future__ import annotations

from pathlib import Path

import click

from evosim.cli.common import not_empty, refusals
from evosim.errors import ConfigError


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    callback=not_empty,
    help="Write to this file instead of standard output.",
)
@click.option(
    "--path",
    "show_path",
    is_flag=True,
    help="Print where the installed package keeps its copy (what `evosim init` points editors at).",
)
@refusals
def schema(output: str | None, show_path: bool) -> None:
    """Print the JSON Schema of a world file (for editor completion and checking).

    `evosim init` starts its template with a `# yaml-language-server:
    $schema=...` line pointing at the copy shipped with evosim; see
    docs/worlds.md, "Editor completion".
    """
    from evosim.config.template import SCHEMA_FILE, world_json_schema_text

    if show_path:
        click.echo(str(SCHEMA_FILE))
        return
    text = world_json_schema_text()
    if output:
        from evosim.io.files import atomic_write_text
        from evosim.io.outputs import writing

        if Path(output).exists():
            raise ConfigError(f"-o {output}: the file already exists; refusing to overwrite it")
        with writing(output, "-o"):
            atomic_write_text(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
