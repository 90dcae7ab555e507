"""``evosim experiment`` and ``evosim report`` (click commands added to :data:`evosim.cli.main.main`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from evosim.cli.common import refusals
from evosim.errors import ConfigError


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--workers",
    type=click.IntRange(1, 4096),
    default=None,
    help="Worker processes of the local Dask cluster (default: the CPU count).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Experiment folder (default: runs/<name>). Re-running into it skips finished replicates.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Use an existing Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of a local cluster.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Validate SPEC and print the plan (finished and pending replicates) without running.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@refusals
def experiment(
    spec: str,
    workers: int | None,
    out: str | None,
    scheduler: str | None,
    dry_run: bool,
    quiet: bool,
) -> None:
    """Run the arms x replicates of the experiment file SPEC on a Dask cluster.

    Each replicate writes OUT/<arm>/rep-<k>/; OUT/experiment.json records the
    spec, the derived seeds and the evosim version. Interrupted? Run the same
    command again: finished replicates are skipped, unfinished ones resume
    from their newest checkpoint.
    """
    from evosim.experiments import experiment as ex

    if scheduler and workers is not None:
        raise ConfigError(
            "--workers sizes a local cluster; with --scheduler the cluster's own workers run the replicates"
        )
    exp = ex.load_experiment(spec)
    out_path = Path(out) if out else Path("runs") / exp.spec.name
    prep = ex.prepare(exp, out_path)
    p = prep.plan
    n_arms, n_rep = len(exp.arms), len(exp.seeds)
    head = (f"experiment '{exp.spec.name}': {n_arms} arm(s) x {n_rep} replicate(s) of {exp.spec.ticks} ticks "
            f"({', '.join(exp.arms)}; control: {exp.control})"
            + (f", branching at tick {exp.spec.branch_tick}" if exp.spec.branch_tick is not None else ""))  # fmt: skip
    click.echo(head, err=True)
    for note in exp.notes:
        click.echo(f"note: {note}", err=True)
    if p.finished:
        click.echo(
            f"{len(p.finished)} replicate(s) already finished in {out_path}: skipped", err=True
        )
    if dry_run:
        for k, seed in enumerate(exp.seeds):
            click.echo(f"replicate {k}: seed {seed}")
        for arm, k in p.todo:
            click.echo(f"to run: {out_path / ex.run_folder(arm, k)}")
        return
    where = (
        f"scheduler {scheduler}"
        if scheduler
        else f"a local cluster of {workers or 'CPU-count'} worker process(es)"
    )
    if p.todo:
        click.echo(f"running {len(p.todo)} replicate(s) on {where}", err=True)
    try:
        if quiet or not p.todo:
            outcome = ex.run_experiment(
                exp, out_path, workers=workers, scheduler=scheduler, prepared=prep
            )
        else:
            with click.progressbar(
                length=len(p.finished) + len(p.todo),
                label="replicates",
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda r: r and f"{r['arm']} rep-{r['replicate']} {r['action']}",
            ) as bar:
                outcome = ex.run_experiment(
                    exp,
                    out_path,
                    workers=workers,
                    scheduler=scheduler,
                    prepared=prep,
                    on_done=lambda r, _o: bar.update(1, r),
                )
    except KeyboardInterrupt:
        click.echo(
            f"\ninterrupted; finished replicates are kept. Continue with the same command "
            f"(evosim experiment {spec} --out {out_path})",
            err=True,
        )
        sys.exit(130)
    ran = {a: outcome.count(a) for a in ("ran", "resumed", "restarted", "skipped")}
    click.echo(
        f"{len(outcome.results)} of {outcome.total} replicates finished ("
        + ", ".join(f"{v} {k}" for k, v in ran.items() if v)
        + f"); experiment folder: {out_path}"
    )
    if outcome.failures:
        click.echo(
            f"{len(outcome.failures)} replicate(s) failed (re-run the same command to retry them):",
            err=True,
        )
        for arm, k, msg in outcome.failures:
            click.echo(f"  {arm} rep-{k}: {msg}", err=True)
        sys.exit(1)
    click.echo(f"next: evosim report {out_path}")


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, exists=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
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
@refusals
def report(folder: str, out: str | None, bootstrap: int, seed: int, no_plots: bool) -> None:
    """Hard-paths report of the experiment FOLDER: per-arm outcomes with bootstrap 95% intervals.

    Writes results.csv, runs.csv, stuck_species.csv, summary.md and PNG plots,
    and prints the per-arm table.
    """
    from evosim.experiments import report as rp

    out_path = Path(out) if out else Path(folder) / "report"
    rep = rp.build_report(folder, n_boot=bootstrap, seed=seed)
    files = rp.write_report(rep, out_path, plots=not no_plots)
    click.echo(rep.markdown)
    click.echo(f"wrote {', '.join(str(f) for f in files)}", err=True)
