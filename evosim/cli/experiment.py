"""``evosim experiment``, ``evosim sweep`` and ``evosim report`` (click commands of :data:`evosim.cli.main.main`)."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from evosim.cli import batch
from evosim.cli.batch import batch_options
from evosim.cli.common import not_empty, refusals
from evosim.cli.progress import Bar, at_terminal
from evosim.errors import ConfigError, Stopped
from evosim.io.outputs import writing


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@batch_options(
    "Experiment",
    "replicates",
    "Validate SPEC and print the plan (finished and pending replicates) without running.",
)
@click.option(
    "--ticks",
    type=click.IntRange(1, None),
    default=None,
    help="Replace SPEC's ticks. A larger horizon for an existing experiment folder extends each finished "
    "replicate from its final checkpoint (recorded in experiment.json; --dry-run gives its cost).",
)
@refusals
def experiment(spec: str, **options: Any) -> None:
    """Run the arms x replicates of the experiment file SPEC on a Dask cluster.

    Each replicate writes OUT/<arm>/rep-<k>/; OUT/experiment.json records the
    spec, the derived seeds and the evosim version. Interrupted? Run the same
    command again: finished replicates are skipped, unfinished ones resume
    from their newest checkpoint. A larger ticks (in SPEC or --ticks) extends
    the finished replicates of an existing folder without recomputing them.
    """
    with batch.interruptible():
        batch.experiment(spec, **options)


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, exists=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    callback=not_empty,
    default=None,
    help="Where to write the report (default: FOLDER/report).",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(100, 1_000_000),
    default=2000,
    show_default=True,
    help="Bootstrap resamples for the 95% intervals.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=0,
    show_default=True,
    help="Seed of the bootstrap.",
)
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option(
    "--brain-thresholds",
    metavar="LIST",
    default=None,
    help="detectors.brain_threshold values to re-detect intelligence at, from the logs (e.g. 0.6,0.65,0.7; "
    "default 0.50 to 0.90 by 0.02).",
)
@click.option(
    "--tech-shares",
    metavar="LIST",
    default=None,
    help="detectors.tech_share values to re-detect technology at, from the logs (default 0.1 to 0.9 by 0.1).",
)
@click.option(
    "--clade-size",
    type=click.IntRange(1, None),
    default=None,
    help="Peak population from which a founding lineage counts as a clade (default: each run's "
    "detectors.min_population).",
)
@refusals
def report(
    folder: str,
    out: str | None,
    bootstrap: int,
    seed: int,
    no_plots: bool,
    brain_thresholds: str | None,
    tech_shares: str | None,
    clade_size: int | None,
) -> None:
    """Hard-paths report of the experiment or sweep FOLDER.

    An experiment: per-arm outcomes with bootstrap 95% intervals (results.csv,
    runs.csv, stuck_species.csv, summary.md, PNG plots). A sweep: per-sample
    outcomes (samples.csv) and SALib's sensitivity indices (sensitivity.csv).
    Both: the detections recomputed at other thresholds (thresholds.csv).
    On drawn body plans, also which traits predict technology (trait_*.csv,
    traits.md). A replay: the causal table of the futures finished so far (causal.csv,
    futures.csv, summary.md, causal.png). Prints the Markdown summary.
    """
    from evosim.reports import outcomes as rp
    from evosim.reports import sensitivity as sa
    from evosim.reports import thresholds as th

    out_path = Path(out) if out else Path(folder) / "report"
    existed = out_path.exists()
    written: list[Path] = []  # the report folder, once complete
    with batch.stopping():  # a later second signal exits at once
        try:
            if _other_folder(folder, out_path, out, no_plots, written):
                return
            grids = th.grids(brain_thresholds, tech_shares)
            conventions = rp.Thresholds(min_clade_population=clade_size)
            if sa.is_sweep(folder):
                with reading_bar() as progress:
                    srep = sa.build_sweep_report(folder, n_boot=bootstrap, seed=seed, grids=grids,
                                                 th=conventions, progress=progress)  # fmt: skip
                with report_folder(out_path, out, written) as tmp:
                    files = sa.write_sweep_report(srep, tmp, plots=not no_plots)
                click.echo(srep.markdown)
            else:
                files = _experiment_report(folder, out_path, out, bootstrap, seed, conventions,
                                           grids, no_plots, written)  # fmt: skip
        except (Stopped, KeyboardInterrupt) as exc:
            click.echo(f"\n{_report_interrupted(out_path, existed, bool(written))}", err=True)
            sys.exit(exc.exit_code if isinstance(exc, Stopped) else 130)
    click.echo(f"wrote {', '.join(str(out_path / f.name) for f in files)}", err=True)


@contextmanager
def report_folder(out_path: Path, out: str | None, written: list[Path]) -> Iterator[Path]:
    """The folder to write a report into: staged beside ``out_path`` and moved into it at the end
    (:func:`~evosim.reports.files.staged`: an interruption leaves ``out_path`` as it was), an
    unwritable one refused in one line. ``written`` gets ``out_path`` once it is complete."""
    from evosim.reports.files import staged

    with (
        writing(out_path, "--out" if out else "", folder=True),
        staged(out_path, lambda: batch.held_then(lambda: written.append(out_path))) as tmp,
    ):
        yield tmp


def _report_interrupted(out_path: Path, existed: bool, written: bool) -> str:
    """What an interrupted ``evosim report`` left in ``out_path`` (``written``: complete)."""
    if written:
        return f"interrupted after the report was written; {out_path} is complete"
    kept = f"{out_path} is as it was" if existed else "nothing was written"
    return f"interrupted; {kept} (a report is moved in whole once done). Run the same command again"


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@batch_options(
    "Sweep",
    "runs",
    "Validate SPEC, print the design, the number of runs and an estimate of the core-hours; run nothing.",
)
@click.option(
    "--probe-ticks",
    type=click.IntRange(0, 100_000),
    default=500,
    show_default=True,
    help="--dry-run: ticks of the probe run that measures the world's size and speed (0: no estimate).",
)
@refusals
def sweep(spec: str, **options: Any) -> None:
    """Run the sweep of the experiment file SPEC (its `sweep:` block) on a Dask cluster.

    Every sample of the design runs every arm and replicate, into
    OUT/sample-<i>/<arm>/rep-<k>/; OUT/experiment.json records the design (sampler,
    seed, ranges, the sample matrix). Interrupted? Run the same command again.
    Then: evosim report OUT.
    """
    with batch.interruptible():
        batch.sweep(spec, **options)


def hint_cost(command: str) -> str | None:
    """For a hint ``evosim experiment SPEC [--workers N]``: its runs and estimated cost, or None.

    None when SPEC cannot be read from here (the hint names a file of the repository).
    """
    from evosim.experiments import experiment as ex

    try:
        words = shlex.split(command)  # the hint's paths are quoted for a shell
    except ValueError:
        return None
    if words[:2] != ["evosim", "experiment"] or len(words) < 3:
        return None
    workers = int(words[words.index("--workers") + 1]) if "--workers" in words[:-1] else None
    try:
        exp = ex.load_experiment(words[2])
    except (ConfigError, OSError, ValueError):
        return None
    from evosim.experiments.batch import Plan

    todo = ex.ArmsReplicates(exp).tasks(Path("runs") / exp.spec.name)
    cost = batch.experiment_cost(Plan(todo=todo), workers or os.cpu_count() or 1)
    if exp.spec.branch_tick == "auto":  # the arms share their pasts: the estimate is a bound
        cost = batch.at_most(cost)
    return f"{len(todo)} runs of {exp.spec.ticks:,} ticks, {cost} {batch.cost_source()}"


def _experiment_report(folder: str, out_path: Path, out: str | None, bootstrap: int, seed: int,
                       conventions: Any, grids: Any, no_plots: bool,
                       written: list[Path]) -> list[Path]:  # fmt: skip
    """``evosim report`` of an experiment folder: one pass over its runs (each is tens of
    megabytes of logs) for the outcomes, the re-detection at other thresholds and the trait
    lineages; writes the files, prints the summary and the notes, returns the files."""
    from evosim.analysis.traits import concat_lineages, run_lineages
    from evosim.reports import outcomes as rp
    from evosim.reports import thresholds as th
    from evosim.reports import traits as tt

    found = th.Redetections(grids)
    parts: list[tuple[str, Any]] = []

    def each(run: Any, arm: str, k: int) -> None:
        found.add(run, arm, k)
        parts.append((str(run.folder), run_lineages(run, arm, k)))

    with reading_bar() as progress:
        rep = rp.build_report(folder, n_boot=bootstrap, seed=seed, th=conventions, on_run=each,
                              progress=progress)  # fmt: skip
    table, notes = found.result()
    lineage_table = concat_lineages(p for _, p in sorted(parts, key=lambda x: x[0]))
    with report_folder(out_path, out, written) as tmp:
        files = rp.write_report(rep, tmp, plots=not no_plots, thresholds=table)
        more, traits_md = tt.write_traits(
            folder, tmp, rep.control, plots=not no_plots, lineage_table=lineage_table
        )
        files += more
    click.echo(rep.markdown + (f"\n{traits_md}" if traits_md else ""))
    for note in notes:
        click.echo(f"note: {note}", err=True)
    for note in rep.notes:  # mixed lengths or worlds: on stderr too, not only in summary.md
        if note.startswith("WARNING: "):
            click.echo(f"warning: {note.removeprefix('WARNING: ')}", err=True)
    return files


@contextmanager
def reading_bar() -> Iterator[Callable[[int, int], None]]:
    """A progress callback (runs read, runs in all) drawing a bar on a terminal, else silent.

    The bar (:class:`~evosim.cli.progress.Bar`, fitted to the terminal) closes with a line saying
    the analysis goes on (bootstrap, survival, plots), which takes a while after the last run is
    read.
    """
    if not at_terminal():
        yield lambda done, total: None
        return
    bars: list[Bar] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(Bar("reading runs", total, lambda: [""], sys.stderr))
        bars[0].update(done)

    stopped = False
    try:
        yield progress
    except (Stopped, KeyboardInterrupt):
        stopped = True  # its message starts on a new line
        raise
    finally:
        if bars and not stopped:
            bars[0].close()
    if bars:
        click.echo("analysing (bootstrap, survival, plots)…", err=True)


def _other_folder(
    folder: str, out_path: Path, out: str | None, no_plots: bool, written: list[Path]
) -> bool:
    """Report a replay folder (True), refuse a folder of reseeded futures, or leave it (False)."""
    from evosim.reports import replay as rr
    from evosim.reports.sensitivity import read_manifest

    m = read_manifest(folder)
    if rr.is_replay(m):
        with report_folder(out_path, out, written) as tmp:
            md = rr.report_folder(Path(folder), m, tmp, plots=not no_plots)
        click.echo(md)
        return True
    if m.get("kind") is not None and "arms" not in m:
        raise ConfigError(
            f"{folder}: holds a batch of kind '{m['kind']}', which has no report of its own; "
            "`evosim report` reads experiments, sweeps and replays (load the runs with "
            "evosim.io.logs.load_run)"
        )
    return False
