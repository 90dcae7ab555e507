"""``evosim replay`` (a click command of :data:`evosim.cli.main.main`; docs/replay.md).

The command is one flow over the replay design (:mod:`evosim.experiments.replay_design`) on
the batch pipeline: pick the branches, prepare the folder, then a dry run's listing and cost or
the run with its progress bar, then the causal report (:mod:`evosim.reports.replay`).
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from evosim.cli import batch
from evosim.cli.batch import batch_options
from evosim.cli.common import not_empty, refusals
from evosim.errors import Stopped
from evosim.io.outputs import writing


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@batch_options(
    "Replay",
    "futures",
    "Validate SPEC, pick the clades and print the branches, the runs to make and their estimated cost "
    "without running.",
)
@click.option(
    "--source",
    type=click.Path(file_okay=False),
    callback=not_empty,
    default=None,
    help="The finished experiment folder (or run folder) to replay, instead of SPEC's `source`.",
)
@click.option(
    "--horizon",
    type=click.IntRange(1, None),
    default=None,
    help="Replace SPEC's horizon; a longer one extends an existing replay folder's futures from their "
    "final checkpoints (recorded in experiment.json; --dry-run gives its cost).",
)
@refusals
def replay(spec: str, **options: Any) -> None:
    """Replay the tape: reseeded futures of each intelligent, not yet technological clade.

    For each clade of SPEC's source (a finished experiment or run folder) at its
    moment, the run's own config.yaml is run again to that tick
    (OUT/<arm>/rep-<k>/past-<tick>), then M futures per relief and M unrelieved
    ones branch from there with --reseed 1..M for `horizon` ticks
    (OUT/<arm>/rep-<k>/<clade>/<relief>/reseed-<K>). Writes OUT/causal.csv,
    futures.csv, causal.png and summary.md. Interrupted? Run the same command
    again: finished futures are skipped, unfinished ones resume. A longer
    horizon (in SPEC or --horizon) extends the finished futures of an
    existing folder without recomputing them.
    """
    with batch.interruptible():
        run_replay(spec, **options)


def run_replay(spec: str, workers: int | None, out: str | None, scheduler: str | None,
               dry_run: bool, quiet: bool, source: str | None,
               horizon: int | None = None) -> None:  # fmt: skip
    """``evosim replay``: the branches of SPEC, their pasts and futures, the causal report.

    ``horizon``: replaces SPEC's (a longer one extends an existing folder's futures).
    """
    from evosim.experiments.replay_design import load_replay

    cluster = batch.cluster_of(workers, scheduler)
    design = load_replay(spec, source, horizon)
    s = design.spec
    groups = [g for g, _ in design.groups]
    head = (f"replay '{s.name}' of {design.source}: {len(design.branches)} clade(s) at their moment "
            f"({s.moment}) x {len(groups)} group(s) ({', '.join(groups)}) x {s.futures} future(s) of "
            f"{s.horizon} ticks")  # fmt: skip
    out_path, prep = batch.prepare(design, out or str(Path("runs") / s.name), head, design.notes)
    n_workers = None if cluster.scheduler else cluster.workers or os.cpu_count() or 1
    cost = replay_cost(prep.plan, n_workers)
    batch.say_extensions(prep.plan, "future", f"{s.horizon} ticks after their branch")
    if dry_run:
        return replay_plan(design, prep.plan, cost)
    if not design.branches:
        click.echo("nothing to replay: no clade of the source is intelligent and not technological "
                   "at its moment", err=True)  # fmt: skip
    again = batch.command("evosim", "replay", spec, source=source, horizon=horizon,
                          workers=workers, scheduler=scheduler, quiet=quiet)  # fmt: skip
    outcome = batch.run_pending(
        design, prep, out_path, bool(out), cluster, quiet, again,
        show=lambda r: f"{r['arm']} reseed-{r['replicate']} {r['action']}", estimate=cost,
    )  # fmt: skip
    write_causal_report(design, out_path, bool(out), again)
    with batch.interruptible(f"after the report was written; {out_path} is complete"):
        batch.summarise(outcome, "future", f"replay folder: {out_path} (causal.csv, summary.md)")


def write_causal_report(design: Any, out_path: Path, out_given: bool, again: list[str]) -> None:
    """The causal report of the futures finished in ``out_path``, written into it whole or not at
    all (:func:`~evosim.reports.files.staged`); prints its Markdown.

    SIGINT or SIGTERM leave the folder's report files as they were (the futures are kept) and
    exit 130 or 143 naming the command that writes them (``again``, which skips the finished
    futures).
    """
    from evosim.reports.files import staged
    from evosim.reports.replay import markdown, write_report

    s = design.spec
    option = "--out" if out_given else ""
    written: list[bool] = []
    with batch.stopping():
        try:
            futures = collect_futures(design, out_path)
            # unwritable: one line; interrupted: nothing of the report moved in, and no signal
            # cuts the move
            hold = lambda: batch.held_then(lambda: written.append(True))  # noqa: E731
            with writing(out_path, option, folder=True), staged(out_path, hold) as tmp:
                table = write_report(tmp, s.name, design.branches, futures, s.horizon)
            click.echo(markdown(s.name, table, design.branches, futures, s.horizon))
        except (Stopped, KeyboardInterrupt) as exc:
            cmd = shlex.join([*again, "--out", str(out_path)])
            kept = ("the report is written" if written else
                    f"the report files of {out_path} are as they were. Write them with: {cmd}")  # fmt: skip
            click.echo(f"\ninterrupted while writing the report: the futures are kept and {kept}",
                       err=True)  # fmt: skip
            sys.exit(exc.exit_code if isinstance(exc, Stopped) else 130)


def collect_futures(design: Any, out_path: Path) -> Any:
    """The observations of the finished futures (:func:`evosim.reports.replay.collect`)."""
    from evosim.reports.replay import collect

    s = design.spec
    return collect(out_path.resolve(), design.branches, [r.name for r in s.reliefs], s.futures,
                   s.horizon, s.min_clade_population)  # fmt: skip


def replay_plan(design: Any, p: Any, cost: str) -> None:
    """``evosim replay --dry-run``: the branches, the futures to extend, the pasts and futures to
    run, the estimate."""
    from evosim.io.logs import finished_summary

    for b in design.branches:
        label = f", rule label {b.label}" if b.label else ""
        click.echo(f"branch {b.key}: tick {b.tick} ({b.moment}{label}); seed {b.seed}")
    batch.extension_lines(p)
    fresh = [t for t in p.todo if t.folder not in p.extend]
    pasts = {t.base.folder for t in p.todo if t.base is not None}
    pasts = {f for f in pasts if finished_summary(f) is None}
    extend = f"; to extend: {len(p.extend)} future(s)" if p.extend else ""
    click.echo(f"to run: {len(pasts)} past(s) and {len(fresh)} future(s){extend}")
    if p.todo:
        click.echo(f"estimate: {cost} {batch.cost_source()}")


def replay_cost(p: Any, workers: int | None) -> str:
    """Estimated cost of the pending pasts (tick 0 to the branch) and futures (H ticks each; a
    future to extend only its remaining ticks)."""
    from evosim.analysis.cost import core_amount, cost_text, run_core_seconds
    from evosim.config.schema import World
    from evosim.io.logs import finished_summary

    core, pasts = 0.0, set()
    worlds: dict[str, World] = {}
    for t in p.todo:
        past = t.base
        if past.folder not in worlds:
            worlds[past.folder] = World.model_validate(t.world)
        if past.folder not in pasts and finished_summary(past.folder) is None:
            pasts.add(past.folder)
            core += run_core_seconds(worlds[past.folder], past.ticks)
        done = p.extend[t.folder][0] if t.folder in p.extend else past.ticks
        core += run_core_seconds(worlds[past.folder], t.ticks - done)
    return cost_text(core, workers) if workers else core_amount(core)
