"""The ``evosim plot`` command, registered in :mod:`evosim.cli.main` with ``main.add_command(plot)``.

pandas, matplotlib and the phylogeny converter are imported only when the
command runs, so ``evosim --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from evosim.cli.common import not_empty, refusals
from evosim.errors import ConfigError
from evosim.io.outputs import writing


def _load(folder: str):
    """``load_run(folder)``, or a ConfigError saying why it is not a run folder."""
    from evosim.io.logs import load_run

    p = Path(folder)
    if not p.is_dir():
        raise ConfigError(f"{folder}: no such run folder")
    if not (p / "config.yaml").is_file():
        raise ConfigError(
            f"{folder}: not a run folder (no config.yaml); give a folder written by `evosim run`"
        )
    return load_run(p)


@click.command()
@click.argument("run_folder", metavar="RUN", type=click.Path(file_okay=False))
@click.option(
    "--newick",
    type=click.Path(dir_okay=False, allow_dash=True),
    callback=not_empty,
    metavar="FILE",
    help="Instead of plotting, write the species phylogeny to FILE as Newick ('-': standard output): "
    "one tip per species at the tick it ended, founders joined under a virtual root.",
)
@click.option(
    "--top",
    type=click.IntRange(0, 20),
    default=4,
    show_default=True,
    help="Species named per founding lineage in the plots (the rest of each lineage is pooled).",
)
@refusals
def plot(run_folder: str, newick: str | None, top: int) -> None:
    """Write PNG plots of the run folder RUN into RUN/plots/ (replacing older ones).

    population.png, genes.png, brain_skill.png, milestones.png and
    phylogeny.png; see docs/plots.md.
    """
    run = _load(run_folder)
    if newick is not None:
        _newick(run, newick)
        return
    from evosim.analysis.runplots import not_drawn, plot_run

    with writing(Path(run_folder) / "plots", folder=True):
        written = plot_run(run, top=top)
    for path, what in written:
        click.echo(f"{path}  ({path.stat().st_size / 1024:.0f} kB)  {what}")
    for line in not_drawn(run):
        click.echo(f"note: {line}", err=True)


def _newick(run, target: str) -> None:
    from evosim.analysis.phylogeny import newick, write_newick

    if not len(run.species):
        raise ConfigError(
            f"{run.folder}: no species.csv, so no phylogeny (it is written when the run ends; "
            f"an interrupted run is completed by `evosim run --resume {run.folder}`)"
        )
    if target == "-":
        click.echo(newick(run), nl=False)
        return
    if Path(target).exists():
        raise ConfigError(f"--newick {target}: the file already exists; refusing to overwrite it")
    if not Path(target).parent.is_dir():
        raise ConfigError(f"--newick {target}: no such folder {Path(target).parent}")
    with writing(target, "--newick"):
        write_newick(run, target)
    click.echo(f"wrote {target}: {len(run.species)} species, one tip each", err=True)
