"""What ``evosim experiment`` and ``evosim sweep`` do, behind their click commands (docs/experiments.md).

Both are one flow over a design (:mod:`evosim.experiments.design`): load the spec, prepare
the folder, say what is there, then a dry run's listing or the run itself with its progress
bar, interruption and summary (:func:`execute`). Their shared options are declared once, in
:func:`batch_options`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from evosim.cli.common import not_empty
from evosim.errors import ConfigError
from evosim.io.outputs import writing

ACTIONS = ("ran", "resumed", "restarted", "extended", "skipped")


def batch_options(folder: str, runs: str, dry_run: str) -> Callable[[Callable], Callable]:
    """``--workers``, ``--out``, ``--scheduler``, ``--dry-run`` and ``--quiet`` of a batch command.

    ``folder``: what OUT is (``Experiment``); ``runs``: what a re-run skips (``replicates``);
    ``dry_run``: the help of ``--dry-run``.
    """
    options = [
        click.option("--workers", type=click.IntRange(1, 4096), default=None,
                     help="Worker processes of the local Dask cluster (default: the CPU count)."),
        click.option("--out", type=click.Path(file_okay=False), callback=not_empty, default=None,
                     help=f"{folder} folder (default: runs/<name>). Re-running into it skips finished {runs}."),
        click.option("--scheduler", metavar="ADDRESS", default=None,
                     help="Use an existing Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of a local cluster."),
        click.option("--dry-run", is_flag=True, help=dry_run),
    ]  # fmt: skip
    quiet = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")

    def apply(f: Callable) -> Callable:
        f = quiet(f)
        for option in reversed(options):
            f = option(f)
        return f

    return apply


def cluster_of(workers: int | None, scheduler: str | None) -> Any:
    """The :class:`~evosim.experiments.batch.Cluster` of the options (refuses both together)."""
    from evosim.experiments.batch import Cluster

    if scheduler and workers is not None:
        raise ConfigError(
            "--workers sizes a local cluster; with --scheduler the cluster's own workers run the replicates"
        )
    return Cluster(workers, scheduler)


def prepare(design: Any, out: str | None, head: str, notes: list[str]) -> tuple[Path, Any]:
    """(folder, :func:`~evosim.experiments.batch.prepare`); then prints ``head``, the notes, the finished runs."""
    from evosim.experiments.batch import prepare as prepare_design

    out_path = Path(out) if out else Path("runs") / design.exp.spec.name
    prep = prepare_design(design, out_path)
    click.echo(head, err=True)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if prep.plan.finished:
        n = len(prep.plan.finished)
        click.echo(f"{n} {design.noun}(s) already finished in {out_path}: skipped", err=True)
    return out_path, prep


def execute(design: Any, prep: Any, out_path: Path, out_given: bool, cluster: Any,
            quiet: bool, label: str, again: str) -> None:  # fmt: skip
    """Write the manifest, run the pending runs (:func:`run_pending`), then the closing lines.

    Exits 130 when interrupted, 1 when a run failed.
    """
    outcome = run_pending(design, prep, out_path, out_given, cluster, quiet, label, again)
    summarise(outcome, design.noun, f"{design.kind} folder: {out_path}")
    click.echo(f"next: evosim report {out_path}")


def run_pending(design: Any, prep: Any, out_path: Path, out_given: bool, cluster: Any,
                quiet: bool, label: str, again: str, show: Any = None) -> Any:  # fmt: skip
    """Write the manifest and run the pending runs (with a progress bar unless ``quiet``).

    ``label``: the progress bar's; ``show``: its item text of a finished run's record (default:
    arm and replicate); ``again``: the command that continues (after an interruption; the
    scheduler and the folder are added).
    Returns the outcome; exits 130 when interrupted.
    """
    from evosim.experiments.batch import run_design
    from evosim.experiments.task import run_id

    p, noun = prep.plan, design.noun
    with writing(out_path, "--out" if out_given else "", folder=True):  # unwritable: one line
        from evosim.experiments.manifest import save_manifest

        save_manifest(out_path, prep.manifest)
    if p.todo:
        click.echo(f"running {len(p.todo)} {noun}(s) on {cluster.where}", err=True)
    show = show or (lambda r: f"{run_id(r)} rep-{r['replicate']} {r['action']}")

    def item(r: dict | None) -> str | None:
        return show(r) if r else None

    try:
        if quiet or not p.todo:
            return run_design(design, out_path, cluster, prepared=prep)
        with click.progressbar(
            length=len(p.finished) + len(p.todo), label=label, file=sys.stderr, show_pos=True,
            item_show_func=item,
        ) as bar:  # fmt: skip
            return run_design(design, out_path, cluster,
                              on_done=lambda r, _o: bar.update(1, r), prepared=prep)  # fmt: skip
    except KeyboardInterrupt:
        where = f" --scheduler {cluster.scheduler}" if cluster.scheduler else ""
        click.echo(f"\ninterrupted; finished {noun}s are kept. Continue with the same command "
                   f"({again}{where} --out {out_path})", err=True)  # fmt: skip
        sys.exit(130)


def summarise(outcome: Any, noun: str, where: str) -> None:
    """The closing lines: how many runs finished and how; the failures (then exit 1)."""
    ran = {a: outcome.count(a) for a in ACTIONS}
    click.echo(
        f"{len(outcome.results)} of {outcome.total} {noun}s finished ("
        + ", ".join(f"{v} {k}" for k, v in ran.items() if v)
        + f"); {where}"
    )
    made = [r for r in outcome.results if r.get("action") in ("ran", "restarted")]
    shared = sum(int(r.get("shared_ticks", 0)) for r in made)
    if shared:
        total = sum(int(r["ticks_run"]) for r in made)
        click.echo(
            f"shared pasts: {shared:,} of the {total:,} ticks of the {noun}s made "
            f"({shared / total:.0%}) were taken over from their bases, not recomputed"
        )
    if outcome.failures:
        click.echo(
            f"{len(outcome.failures)} {noun}(s) failed (re-run the same command to retry them):",
            err=True,
        )
        for arm, k, msg in outcome.failures:
            click.echo(f"  {arm} rep-{k}: {msg}", err=True)
        sys.exit(1)


# --------------------------------------------------------------- experiment
def experiment(spec: str, workers: int | None, out: str | None, scheduler: str | None,
               dry_run: bool, ticks: int | None, quiet: bool) -> None:  # fmt: skip
    """``evosim experiment``: the arms x replicates of SPEC (at horizon ``ticks``)."""
    from evosim.experiments import experiment as ex

    cluster = cluster_of(workers, scheduler)
    exp = ex.load_experiment(spec, ticks)
    design = ex.ArmsReplicates(exp)
    s = exp.spec
    head = (f"experiment '{s.name}': {len(exp.arms)} arm(s) x {len(exp.seeds)} replicate(s) of {s.ticks} ticks "
            f"({', '.join(exp.arms)}; control: {exp.control})"
            + _branching(s))  # fmt: skip
    out_path, prep = prepare(design, out, head, exp.notes)  # refuses a spec with a sweep block
    p = prep.plan
    n_workers = None if cluster.scheduler else cluster.workers or os.cpu_count() or 1
    cost = experiment_cost(p, n_workers)
    say_extensions(p, "replicate", f"{s.ticks} ticks")
    if dry_run:
        return experiment_plan(exp, p, cost)
    label = f"replicates ({cost.split(': ', 1)[-1]}, estimated)"
    again = f"evosim experiment {spec}" + (f" --ticks {ticks}" if ticks else "")
    execute(design, prep, out_path, bool(out), cluster, quiet, label, again)


def say_extensions(p: Any, noun: str, to: str) -> None:
    """On stderr: how many finished runs of plan ``p`` a longer horizon extends (to ``to``), and
    what that costs by their own wall time per tick so far (nothing when there are none)."""
    if p.extend:
        click.echo(
            f"{len(p.extend)} finished {noun}(s) to extend to {to} from their final checkpoints "
            f"(their own wall time per tick so far gives about "
            f"{p.extension_core_seconds() / 60:.1f} core-minutes)",
            err=True,
        )


def extension_lines(p: Any) -> None:
    """``--dry-run``: a ``to extend: FOLDER (tick A -> B)`` line per finished run plan ``p`` extends."""
    for t in p.todo:
        if t.folder in p.extend:
            click.echo(f"to extend: {t.folder} (tick {p.extend[t.folder][0]} -> {t.ticks})")


def _branching(s: Any) -> str:
    """How the arms share a past, for the experiment's head line."""
    if s.branch_tick == "auto":
        return ", sharing each replicate's past until an arm's interventions first apply"
    return f", branching at tick {s.branch_tick}" if s.branch_tick is not None else ""


def experiment_plan(exp: Any, p: Any, cost: str) -> None:
    """``evosim experiment --dry-run``: the seeds, the runs to make or extend, the estimate."""
    for k, seed in enumerate(exp.seeds):
        click.echo(f"replicate {k}: seed {seed}")
    extension_lines(p)
    for t in p.todo:
        if t.folder not in p.extend:
            click.echo(f"to run: {t.folder}")
    if p.todo:
        click.echo(f"estimate: {len(p.todo)} replicate(s) to run, {cost} {cost_source()}")
        if exp.spec.branch_tick == "auto":
            click.echo(
                "(an upper bound: it counts every arm from tick 0, and with branch_tick auto "
                "the arms compute each replicate's past once, up to where they first fire)"
            )


def experiment_cost(p: Any, workers: int | None) -> str:
    """The estimated cost of the pending runs of plan ``p`` (:mod:`evosim.analysis.cost`).

    ``workers``: local worker processes (None: a cluster's, unknown, so no wall time). A run to
    extend costs only its remaining ticks.
    """
    from evosim.analysis.cost import core_amount, cost_text, run_core_seconds
    from evosim.config.schema import World

    worlds: dict[tuple[Any, str], World] = {}
    core = 0.0
    for t in p.todo:
        key = (t.sample, t.arm)
        if key not in worlds:
            worlds[key] = World.model_validate(t.world)
        core += run_core_seconds(worlds[key], t.ticks - p.extend.get(t.folder, (0, 0.0))[0])
    return cost_text(core, workers) if workers else core_amount(core)


def cost_source() -> str:
    """Where :func:`experiment_cost` comes from, said after it."""
    from evosim.analysis.cost import EARTHLIKE_RUNS_PER_CORE_HOUR

    return (
        f"(from the earthlike benchmark, {EARTHLIKE_RUNS_PER_CORE_HOUR:g} runs per core-hour, "
        "scaled by ticks and population)"
    )


# -------------------------------------------------------------------- sweep
def sweep(spec: str, workers: int | None, out: str | None, scheduler: str | None,
          dry_run: bool, probe_ticks: int, quiet: bool) -> None:  # fmt: skip
    """``evosim sweep``: every sample x arm x replicate of SPEC's ``sweep:`` block."""
    from evosim.experiments import sweep as sw_

    cluster = cluster_of(workers, scheduler)
    design = sw_.load_sweep(spec)
    exp, d = design.exp, design.design
    head = (f"sweep '{exp.spec.name}': {d.sampler} design of {d.n} sample(s) over {len(d.names)} parameter(s) x "
            f"{len(exp.arms)} arm(s) ({', '.join(exp.arms)}) x {len(exp.seeds)} replicate(s) = {design.runs} runs of "
            f"{exp.spec.ticks} ticks")  # fmt: skip
    out_path, prep = prepare(design, out, head, exp.notes)
    if dry_run:
        return sweep_plan(design, prep, probe_ticks, cluster.workers)
    again = f"evosim sweep {spec}"
    execute(design, prep, out_path, bool(out), cluster, quiet, "runs", again)


def sweep_plan(sw: Any, prep: Any, probe_ticks: int, workers: int | None) -> None:
    """``evosim sweep --dry-run``: the parameters, the seeds, the runs to make, the estimate."""
    from evosim.experiments.sweep import estimate

    d, p = sw.design, prep.plan
    for j, name in enumerate(d.names):
        col = d.matrix[:, j]
        lo, hi = d.problem["bounds"][j]
        click.echo(f"parameter {name}: {d.problem['dists'][j]} over [{lo:.6g}, {hi:.6g}], "
                   f"{len(set(col.tolist()))} distinct value(s) in the design")  # fmt: skip
    for k, seed in enumerate(sw.exp.seeds):
        click.echo(f"replicate {k}: seed {seed}")
    click.echo(f"{len(p.todo)} run(s) to run")
    if p.todo and (probe_ticks or p.finished):
        click.echo(estimate(sw, prep, probe_ticks).text(workers))
