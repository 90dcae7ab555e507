"""What ``evosim experiment`` and ``evosim sweep`` do, behind their click commands (docs/experiments.md).

Both are one flow over a design (:mod:`evosim.experiments.design`): load the spec, prepare
the folder, say what is there, then a dry run's listing or the run itself with its progress
bar, interruption and summary (:func:`execute`). Their shared options are declared once, in
:func:`batch_options`.

Ctrl-C (SIGINT to the process group) or SIGTERM: before anything is written, one line; while
the runs run, the cluster is closed (a local cluster's workers ignore the signal and are stopped
with it; the locks they leave are removed), then one message counts what the folder holds (runs
finished, partly run with the checkpoint they resume from, not begun) and repeats the whole
command that continues (:func:`run_pending`). Exit 130 (143).
"""

from __future__ import annotations

import math
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TextIO

import click

from evosim.cli.common import not_empty, signals_held, stop_on_signals
from evosim.cli.progress import SEP, Bar, at_terminal, hms
from evosim.errors import ConfigError, Stopped
from evosim.io.outputs import writing

ACTIONS = ("ran", "resumed", "restarted", "extended", "skipped")


#: Seconds after a first SIGINT or SIGTERM in which the same signal again is the same request
#: (:func:`stopping`).
GRACE = 1.0


def stopping(grace: float = GRACE) -> AbstractContextManager[None]:
    """SIGINT or SIGTERM raise :class:`~evosim.errors.Stopped`
    (:func:`~evosim.cli.common.stop_on_signals`); the command then cleans up and says what it kept.

    A signal again within ``grace`` seconds of the first is the same request, ignored: ``timeout``
    signals the command and then its whole process group, so it gets the signal twice. A later
    one exits at once with the same code (what is left half-done then is what a killed process
    leaves: run locks that the next run takes over). Installed in the main thread only.
    """
    return stop_on_signals(grace)


@contextmanager
def held_then(mark: Callable[[], None]) -> Iterator[None]:
    """:func:`~evosim.cli.common.signals_held` around a block, with ``mark()`` called when the block
    ends normally, before a signal held meanwhile arrives (what a report calls once moved in)."""
    with signals_held():
        yield
        mark()


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
            quiet: bool, again: list[str], estimate: str | None = None) -> None:  # fmt: skip
    """Write the manifest, run the pending runs (:func:`run_pending`), then the closing lines.

    Exits 130 (143 for SIGTERM) when interrupted, 1 when a run failed.
    """
    outcome = run_pending(design, prep, out_path, out_given, cluster, quiet, again,
                          estimate=estimate)  # fmt: skip
    with interruptible(f"after the {design.noun}s ended; {out_path} is as they left it"):
        summarise(outcome, design.noun, f"{design.kind} folder: {out_path}")
        click.echo(f"next: evosim report {out_path}")


def command(*words: object, **options: object) -> list[str]:
    """A command line as words: ``words``, then each option given (not None, not False) as
    ``--name VALUE`` (``--name`` alone for True; ``_`` in a name becomes ``-``)."""
    out = [str(w) for w in words]
    for name, value in options.items():
        if value is None or value is False:
            continue
        out.append(f"--{name.replace('_', '-')}")
        if value is not True:
            out.append(str(value))
    return out


def run_pending(design: Any, prep: Any, out_path: Path, out_given: bool, cluster: Any,
                quiet: bool, again: list[str], show: Any = None,
                estimate: str | None = None) -> Any:  # fmt: skip
    """Connect to the cluster, write the manifest and run the pending runs (with a progress bar
    at a terminal unless ``quiet``).

    ``again``: the command line that continues, without ``--out`` (after an interruption; the
    folder is added); ``show``: the bar's text of a finished run's record (default: arm and
    replicate); ``estimate``: their estimated cost, said before they run.
    Returns the outcome. SIGINT or SIGTERM stop the workers (a local cluster's are closed, the
    locks they leave removed), and the command exits 130 or 143 saying what was kept and how to
    continue (:func:`interrupted`); a second signal, past :data:`GRACE`, exits at once.
    """
    from evosim.experiments.batch import connected, run_design
    from evosim.experiments.manifest import save_manifest

    p, noun = prep.plan, design.noun
    created = not out_path.exists()
    option = "--out" if out_given else ""
    said = False  # "interrupted; stopping the workers…", at once
    with stopping():
        try:
            # connected first: an unreachable scheduler is refused with nothing written
            with connected(cluster, p.todo) as client:
                bar: RunsBar | None = None
                try:
                    with writing(out_path, option, folder=True):  # unwritable: one line
                        save_manifest(out_path, prep.manifest)
                    if p.todo:
                        cost = f"; estimated {estimate}" if estimate else ""
                        click.echo(f"running {len(p.todo)} {noun}(s) on {cluster.where}{cost}",
                                   err=True)  # fmt: skip
                    if not quiet and p.todo and at_terminal():
                        bar = RunsBar(f"{noun}s", len(p.finished) + len(p.todo), show or _run_text)
                    try:
                        return run_design(design, out_path, cluster, prepared=prep, client=client,
                                          on_done=bar.done if bar else None)  # fmt: skip
                    finally:
                        if bar is not None:
                            bar.close()  # ends its line
                except (Stopped, KeyboardInterrupt):
                    if p.todo:  # said now: closing the cluster takes seconds
                        what = (
                            "leaving the scheduler" if cluster.scheduler else "stopping the workers"
                        )
                        start = "" if bar else "\n"  # a bar ended its line
                        click.echo(f"{start}interrupted; {what}…", err=True)
                        said = True
                    raise
        except (Stopped, KeyboardInterrupt) as exc:  # the cluster is closed, its locks released
            text = interrupted(design, prep, out_path, created, again)
            click.echo(text if said else f"\ninterrupted: {text}", err=True)
            sys.exit(exc.exit_code if isinstance(exc, Stopped) else 130)


@contextmanager
def interruptible(said: str = "before any run began; nothing was written") -> Iterator[None]:
    """SIGINT or SIGTERM in the block: ``interrupted`` and what is ``said``, exit 130 or 143.

    The default is for a batch command before it runs anything (reading the spec, planning, a dry
    run); the blocks nested in it that write say what they kept (:func:`run_pending`).
    """
    with stopping():
        try:
            yield
        except (Stopped, KeyboardInterrupt) as exc:
            click.echo(f"\ninterrupted {said}", err=True)
            sys.exit(exc.exit_code if isinstance(exc, Stopped) else 130)


def _run_text(r: dict) -> str:
    """A finished run on the bar: ``control rep-0 ran``."""
    from evosim.experiments.task import run_id

    return f"{run_id(r)} rep-{r['replicate']} {r['action']}"


class RunsBar:
    """The progress bar of a batch: runs finished of all, the time left, the last one finished.

    The fitted one-line bar of ``evosim run`` (:class:`~evosim.cli.progress.Bar`). The time left
    counts from the runs this command made (the skipped ones cost nothing); it shows once one
    has finished.

    Args:
        label: what is counted (``replicates``).
        length: the runs in all, finished ones included.
        show: the text of a finished run's record.
        file: the terminal.
        clock: seconds, monotonic (a parameter for tests).
    """

    def __init__(self, label: str, length: int, show: Callable[[dict], str],
                 file: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.show, self.clock = show, clock
        self.start = clock()
        self.made = 0  # runs finished (or failed) by this command
        self.last = ""
        self.bar = Bar(label, length, self.variants, file or sys.stderr, clock=clock, every=0.0)
        self.bar.draw()

    def done(self, result: dict | None, _outcome: object = None) -> None:
        """A run finished (``result``; None: it failed): one more on the bar."""
        if result is None:
            self.made, self.last = self.made + 1, "a run failed"
        else:
            self.made += result.get("action") != "skipped"
            self.last = self.show(result)
        self.bar.update(self.bar.pos + 1)

    def variants(self) -> list[str]:
        """What follows the counter, fullest first (:func:`~evosim.cli.progress.fit`)."""
        left, spent = self.bar.length - self.bar.pos, self.clock() - self.start
        if left <= 0:
            time_ = f"took {hms(spent)}"
        elif self.made:
            time_ = f"ETA {hms(spent / self.made * left)}"
        else:
            time_ = ""
        full = SEP.join(x for x in (time_, self.last) if x)
        return list(dict.fromkeys([full, time_, ""]))

    def close(self) -> None:
        """End the bar's line."""
        self.bar.close()


def interrupted(design: Any, prep: Any, out_path: Path, created: bool, again: list[str]) -> str:
    """What an interrupted batch kept, once its workers stopped, and the command that continues.

    ``created``: this command created the folder; holding nothing but the manifest, it is removed.
    """
    from evosim.experiments.batch import left_by
    from evosim.experiments.manifest import MANIFEST

    noun = design.noun
    todo = prep.plan.todo
    left = left_by(todo)
    if len(left.untouched) == len(todo) and created and _remove_unused(out_path, MANIFEST):
        return f"no {noun} began; nothing was written"
    done = len(prep.plan.finished) + len(left.finished)
    total = len(prep.plan.finished) + len(todo)
    parts = [f"{done} of {total} {noun}s finished and kept in {out_path}"]
    if left.partial:
        n = len(left.partial)
        first = [f"{_rel(f, prep.out)} at tick {t}" for f, t in list(left.partial.items())[:3]]
        more = ", …" if n > 3 else ""
        parts.append(f"{n} partly run, which {'resumes from its' if n == 1 else 'resume from their'} "
                     f"newest checkpoint{'' if n == 1 else 's'} ({', '.join(first)}{more})")  # fmt: skip
    if left.restart:
        n = len(left.restart)
        parts.append(
            f"{n} begun without a checkpoint yet, which start{'s' if n == 1 else ''} again"
        )
    if left.running:
        n = len(left.running)
        parts.append(f"{n} still running on the scheduler's workers, which go{'es' if n == 1 else ''} "
                     "on to the end (a re-run waits for them)")  # fmt: skip
    if left.untouched:
        parts.append(f"{len(left.untouched)} not begun")
    pasts = left_by(list({t.base.folder: t.base for t in todo if t.base is not None}.values()))
    if pasts.partial:
        n = len(pasts.partial)
        parts.append(f"{n} shared past{'' if n == 1 else 's'} partly run, which "
                     f"{'resumes from its' if n == 1 else 'resume from their'} newest "
                     f"checkpoint{'' if n == 1 else 's'}")  # fmt: skip
    cmd = shlex.join([*again, "--out", str(out_path)])
    return f"{'; '.join(parts)}. Continue with: {cmd}"


def _rel(folder: str, out: Path) -> str:
    """A run folder relative to its batch folder, for messages."""
    try:
        return str(Path(folder).relative_to(out))
    except ValueError:
        return folder


def _remove_unused(out: Path, manifest: str) -> bool:
    """Remove batch folder ``out`` if it holds nothing but its manifest and empty folders; True if
    so (or if it is missing)."""
    if not out.is_dir():
        return True
    entries = list(out.rglob("*"))
    if any(e.is_file() and e != out / manifest for e in entries):
        return False
    (out / manifest).unlink(missing_ok=True)
    for d in sorted((e for e in entries if e.is_dir()), reverse=True):
        d.rmdir()
    out.rmdir()
    return True


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
    again = command("evosim", "experiment", spec, ticks=ticks, workers=workers,
                    scheduler=scheduler, quiet=quiet)  # fmt: skip
    estimate = at_most(cost) if s.branch_tick == "auto" else cost
    execute(design, prep, out_path, bool(out), cluster, quiet, again, estimate=estimate)


def at_most(cost: str) -> str:
    """``cost`` as an upper bound: ``at most 3.6 core-hours: …`` (``under …`` says it already)."""
    return cost if cost.startswith("under") else f"at most {cost}"


def say_extensions(p: Any, noun: str, to: str) -> None:
    """On stderr: how many finished runs of plan ``p`` a longer horizon extends (to ``to``), and
    what that costs by their own wall time per tick so far (nothing when there are none)."""
    if p.extend:
        from evosim.analysis.cost import core_amount

        click.echo(
            f"{len(p.extend)} finished {noun}(s) to extend to {to} from their final checkpoints "
            f"(their own wall time per tick so far gives "
            f"{core_amount(p.extension_core_seconds())})",
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
    again = command("evosim", "sweep", spec, workers=workers, scheduler=scheduler, quiet=quiet)
    execute(design, prep, out_path, bool(out), cluster, quiet, again)


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
        click.echo(sweep_estimate(estimate(sw, prep, probe_ticks), workers))


def sweep_estimate(e: Any, workers: int | None) -> str:
    """The paragraph of a sweep's :class:`~evosim.experiments.sweep.Estimate`: the sum, its core
    time and its wall time on ``workers`` (default: the CPU count), said as a person would
    (:mod:`evosim.analysis.cost`), and how it was made."""
    from evosim.analysis.cost import cost_text

    w = workers or os.cpu_count() or 1
    hours = e.core_hours
    cost = (
        f"{cost_text(hours * 3600, w)} if the runs spread evenly"
        if math.isfinite(hours)
        else "an unknown time (no agent-steps were measured)"
    )
    return (
        f"estimate: {e.runs} run(s) x {e.ticks} ticks x {e.agents:,.0f} agents / {e.rate:,.0f} "
        f"agent-steps/s = {cost}; {e.source}"
    )
