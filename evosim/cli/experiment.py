"""``evosim experiment``, ``evosim sweep`` and ``evosim report`` (click commands of :data:`evosim.cli.main.main`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from evosim.cli.common import not_empty, refusals
from evosim.errors import ConfigError
from evosim.io.outputs import writing


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
    callback=not_empty,
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
@click.option(
    "--ticks",
    type=click.IntRange(1, None),
    default=None,
    help="Replace SPEC's ticks. A larger horizon for an existing experiment folder extends each finished "
    "replicate from its final checkpoint (recorded in experiment.json; --dry-run gives its cost).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@refusals
def experiment(
    spec: str,
    workers: int | None,
    out: str | None,
    scheduler: str | None,
    dry_run: bool,
    ticks: int | None,
    quiet: bool,
) -> None:
    """Run the arms x replicates of the experiment file SPEC on a Dask cluster.

    Each replicate writes OUT/<arm>/rep-<k>/; OUT/experiment.json records the
    spec, the derived seeds and the evosim version. Interrupted? Run the same
    command again: finished replicates are skipped, unfinished ones resume
    from their newest checkpoint. A larger ticks (in SPEC or --ticks) extends
    the finished replicates of an existing folder without recomputing them.
    """
    from evosim.experiments import experiment as ex

    if scheduler and workers is not None:
        raise ConfigError(
            "--workers sizes a local cluster; with --scheduler the cluster's own workers run the replicates"
        )
    exp = ex.load_experiment(spec, ticks)
    out_path = Path(out) if out else Path("runs") / exp.spec.name
    prep = ex.prepare(exp, out_path)  # refuses a spec with a sweep block
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
    n_workers = None if scheduler else workers or os.cpu_count() or 1
    extending = {(a, k): done for a, k, done, _ in p.extend}
    cost = experiment_cost(exp, p.todo, n_workers, extending)
    if p.extend:
        own = p.extension_core_seconds(exp.spec.ticks)
        click.echo(
            f"{len(p.extend)} finished replicate(s) to extend to {exp.spec.ticks} ticks from their final "
            f"checkpoints (their own wall time per tick so far gives about {own / 60:.1f} core-minutes)",
            err=True,
        )
    if dry_run:
        for k, seed in enumerate(exp.seeds):
            click.echo(f"replicate {k}: seed {seed}")
        for arm, k in p.todo:
            folder = out_path / ex.run_folder(arm, k)
            if (arm, k) in extending:
                click.echo(f"to extend: {folder} (tick {extending[arm, k]} -> {exp.spec.ticks})")
            else:
                click.echo(f"to run: {folder}")
        if p.todo:
            click.echo(f"estimate: {len(p.todo)} replicate(s) to run, {cost} {cost_source()}")
        return
    where = (
        f"scheduler {scheduler}"
        if scheduler
        else f"a local cluster of {workers or 'CPU-count'} worker process(es)"
    )
    with writing(
        out_path, "--out" if out else "", folder=True
    ):  # a folder that cannot be written: one line
        ex.save_manifest(out_path, prep.manifest)
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
                label=f"replicates ({cost.split(': ', 1)[-1]}, estimated)",
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
    ran = {a: outcome.count(a) for a in ("ran", "resumed", "restarted", "extended", "skipped")}
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


def experiment_cost(
    exp: Any, todo: list[tuple[str, int]], workers: int | None, extending: dict | None = None
) -> str:
    """The estimated cost of the replicates ``todo`` of experiment ``exp`` (:mod:`evosim.analysis.cost`).

    ``workers``: local worker processes (None: a cluster's, unknown, so no wall time). ``extending``:
    the ticks already run by each (arm, replicate) of ``todo`` that is extended (only the rest costs).
    """
    from evosim.analysis.cost import core_amount, cost_text, run_core_seconds

    done = extending or {}
    core = sum(
        run_core_seconds(exp.arms[arm], exp.spec.ticks - done.get((arm, k), 0)) for arm, k in todo
    )
    return cost_text(core, workers) if workers else core_amount(core)


def cost_source() -> str:
    """Where :func:`experiment_cost` comes from, said after it."""
    from evosim.analysis.cost import EARTHLIKE_RUNS_PER_CORE_HOUR

    return (
        f"(from the earthlike benchmark, {EARTHLIKE_RUNS_PER_CORE_HOUR:g} runs per core-hour, "
        "scaled by ticks and population)"
    )


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
    Prints the Markdown summary.
    """
    from evosim.experiments import report as rp
    from evosim.experiments import sensitivity as sa
    from evosim.experiments import sensitivity_thresholds as th

    out_path = Path(out) if out else Path(folder) / "report"
    grids = th.grids(brain_thresholds, tech_shares)
    conventions = rp.Thresholds(min_clade_population=clade_size)
    if sa.is_sweep(folder):
        srep = sa.build_sweep_report(
            folder, n_boot=bootstrap, seed=seed, grids=grids, th=conventions
        )
        with writing(out_path, "--out" if out else "", folder=True):
            files = sa.write_sweep_report(srep, out_path, plots=not no_plots)
        click.echo(srep.markdown)
    else:
        rep = rp.build_report(folder, n_boot=bootstrap, seed=seed, th=conventions)
        table, notes = th.experiment_thresholds(rep.runs, grids)
        with writing(out_path, "--out" if out else "", folder=True):
            files = rp.write_report(rep, out_path, plots=not no_plots)
            files += th.write_thresholds(table, out_path, plots=not no_plots)
        click.echo(rep.markdown)
        for note in notes:
            click.echo(f"note: {note}", err=True)
        for note in rep.notes:  # mixed lengths or worlds: on stderr too, not only in summary.md
            if note.startswith("WARNING: "):
                click.echo(f"warning: {note.removeprefix('WARNING: ')}", err=True)
    click.echo(f"wrote {', '.join(str(f) for f in files)}", err=True)


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
    callback=not_empty,
    default=None,
    help="Sweep folder (default: runs/<name>). Re-running into it skips finished runs.",
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
    help="Validate SPEC, print the design, the number of runs and an estimate of the core-hours; run nothing.",
)
@click.option(
    "--probe-ticks",
    type=click.IntRange(0, 100_000),
    default=500,
    show_default=True,
    help="--dry-run: ticks of the probe run that measures the world's size and speed (0: no estimate).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@refusals
def sweep(
    spec: str,
    workers: int | None,
    out: str | None,
    scheduler: str | None,
    dry_run: bool,
    probe_ticks: int,
    quiet: bool,
) -> None:
    """Run the sweep of the experiment file SPEC (its `sweep:` block) on a Dask cluster.

    Every sample of the design runs every arm and replicate, into
    OUT/sample-<i>/<arm>/rep-<k>/; OUT/experiment.json records the design (sampler,
    seed, ranges, the sample matrix). Interrupted? Run the same command again.
    Then: evosim report OUT.
    """
    from evosim.experiments import sweep as sw_

    if scheduler and workers is not None:
        raise ConfigError(
            "--workers sizes a local cluster; with --scheduler the cluster's own workers run the replicates"
        )
    sw = sw_.load_sweep(spec)
    exp, d = sw.exp, sw.design
    out_path = Path(out) if out else Path("runs") / exp.spec.name
    prep = sw_.prepare(sw, out_path)
    p = prep.plan
    click.echo(
        f"sweep '{exp.spec.name}': {d.sampler} design of {d.n} sample(s) over {len(d.names)} parameter(s) x "
        f"{len(exp.arms)} arm(s) ({', '.join(exp.arms)}) x {len(exp.seeds)} replicate(s) = {sw.runs} runs of "
        f"{exp.spec.ticks} ticks",
        err=True,
    )
    for note in exp.notes:
        click.echo(f"note: {note}", err=True)
    if p.finished:
        click.echo(f"{len(p.finished)} run(s) already finished in {out_path}: skipped", err=True)
    if dry_run:
        for j, name in enumerate(d.names):
            col = d.matrix[:, j]
            click.echo(
                f"parameter {name}: {d.problem['dists'][j]} over [{d.problem['bounds'][j][0]:.6g}, "
                f"{d.problem['bounds'][j][1]:.6g}], {len(set(col.tolist()))} distinct value(s) in the design"
            )
        for k, seed in enumerate(exp.seeds):
            click.echo(f"replicate {k}: seed {seed}")
        click.echo(f"{len(p.todo)} run(s) to run")
        if p.todo and (probe_ticks or p.finished):
            click.echo(sw_.estimate(sw, prep, probe_ticks).text(workers))
        return
    where = (
        f"scheduler {scheduler}"
        if scheduler
        else f"a local cluster of {workers or 'CPU-count'} worker process(es)"
    )
    with writing(out_path, "--out" if out else "", folder=True):
        sw_.save_manifest(out_path, prep.manifest)
    if p.todo:
        click.echo(f"running {len(p.todo)} run(s) on {where}", err=True)
    try:
        if quiet or not p.todo:
            outcome = sw_.run_sweep(
                sw, out_path, workers=workers, scheduler=scheduler, prepared=prep
            )
        else:
            with click.progressbar(
                length=len(p.finished) + len(p.todo),
                label="runs",
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda r: (
                    r and f"{sw_.run_id(r)} rep-{r['replicate']} {r['action']}"
                ),
            ) as bar:
                outcome = sw_.run_sweep(
                    sw,
                    out_path,
                    workers=workers,
                    scheduler=scheduler,
                    prepared=prep,
                    on_done=lambda r, _o: bar.update(1, r),
                )
    except KeyboardInterrupt:
        click.echo(
            f"\ninterrupted; finished runs are kept. Continue with the same command (evosim sweep {spec} --out "
            f"{out_path})",
            err=True,
        )
        sys.exit(130)
    ran = {a: outcome.count(a) for a in ("ran", "resumed", "restarted", "skipped")}
    click.echo(
        f"{len(outcome.results)} of {outcome.total} runs finished ("
        + ", ".join(f"{v} {k}" for k, v in ran.items() if v)
        + f"); sweep folder: {out_path}"
    )
    if outcome.failures:
        click.echo(
            f"{len(outcome.failures)} run(s) failed (re-run the same command to retry them):",
            err=True,
        )
        for arm, k, msg in outcome.failures:
            click.echo(f"  {arm} rep-{k}: {msg}", err=True)
        sys.exit(1)
    click.echo(f"next: evosim report {out_path}")


def hint_cost(command: str) -> str | None:
    """For a hint ``evosim experiment SPEC [--workers N]``: its runs and estimated cost, or None.

    None when SPEC cannot be read from here (the hint names a file of the repository).
    """
    from evosim.experiments import experiment as ex

    words = command.split()
    if words[:2] != ["evosim", "experiment"] or len(words) < 3:
        return None
    workers = int(words[words.index("--workers") + 1]) if "--workers" in words[:-1] else None
    try:
        exp = ex.load_experiment(words[2])
    except (ConfigError, OSError, ValueError):
        return None
    todo = [(arm, k) for arm in exp.arms for k in range(len(exp.seeds))]
    runs = f"{len(todo)} runs of {exp.spec.ticks:,} ticks"
    return f"{runs}, {experiment_cost(exp, todo, workers or os.cpu_count() or 1)} {cost_source()}"
