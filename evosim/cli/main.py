"""The ``evosim`` command line (click).

Every refusal of user input is a :class:`~evosim.errors.ConfigError`: printed
as one paragraph on stderr, exit code 2, no traceback, nothing written.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from evosim.cli import restore_default_signals
from evosim.cli.common import (
    load_world_file,
    not_empty,
    refusals,
    set_option,
    signals_held,
    stop_on_signals,
)
from evosim.cli.experiment import experiment, hint_cost, report, sweep
from evosim.cli.plot import plot
from evosim.cli.progress import at_terminal, with_bar
from evosim.cli.replay import replay
from evosim.cli.schema import schema
from evosim.cli.view import view
from evosim.config.load import load_world
from evosim.config.template import commented_template, parameter_table
from evosim.errors import ConfigError, Stopped
from evosim.io.files import atomic_write_text
from evosim.io.outputs import writing
from evosim.version import __version__


class _Main(click.Group):
    """The ``evosim`` group: a standard output that cannot be written (``> /dev/full``, a full disk)
    is one line and exit code 1, not a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        restore_default_signals()  # the modules are loaded: the commands handle signals now
        try:
            out = super().main(*args, **kwargs)
        except OSError as exc:
            if not _writing_stdout(exc):
                raise
            _stdout_failed(exc)
        except SystemExit:
            _flush_stdout()
            raise
        _flush_stdout()
        return out


def _writing_stdout(exc: OSError) -> bool:
    """True if ``exc`` was raised writing to standard output (the innermost frame's ``file``)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    stream = tb.tb_frame.f_locals.get("file") if tb is not None else None
    try:
        return stream is not None and stream.fileno() == sys.__stdout__.fileno()  # type: ignore[union-attr]
    except (AttributeError, OSError, ValueError):
        return False


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except OSError as exc:
        _stdout_failed(exc)


def _stdout_failed(exc: OSError) -> None:
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more goes to the broken one
    click.echo(f"evosim: error: cannot write standard output: {exc.strerror or exc}", err=True)
    sys.exit(1)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evosim")
def main() -> None:
    """evosim: species evolve under simulated natural selection.

    Start with `evosim run` (the embedded default world) or `evosim init >
    my_world.yaml` for a commented world file to edit.
    """
    _show_warnings()


def _show_warnings() -> None:
    """Print the library's warnings (e.g. a stale run-folder lock taken over) as one line each on stderr."""
    log = logging.getLogger("evosim")
    if not any(isinstance(h, _EchoHandler) for h in log.handlers):
        log.addHandler(_EchoHandler(logging.WARNING))


class _EchoHandler(logging.Handler):
    """Writes a log record as ``evosim: warning: ...`` to the stderr of the moment (click.echo)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"evosim: warning: {record.getMessage()}", err=True)


@main.command()
@click.argument("world_file", required=False, type=click.Path(dir_okay=True), callback=not_empty)
@set_option
@refusals
def validate(world_file: str | None, overrides: tuple[str, ...]) -> None:
    """Check WORLD_FILE (and any --set) without running it.

    It refuses what `evosim run` would refuse of the world: its keys, its map file, and each
    founding species' start habitat on the habitat map a run builds (founders drawn from a
    prior: as drawn for sim.seed).
    """
    w = load_world_file(world_file, overrides)
    with signals_held():  # numba: as for a run, a signal inside the import would break it
        from evosim.engine.founders import check_founders
    check_founders(w)  # a ConfigProblem: `refusals` names it in the world file
    click.echo(
        f"{world_file or 'embedded default world'}: OK — world '{w.name}', "
        f"{w.world.width}x{w.world.height}, species: {', '.join(w.founder_names())}"
        + (" (founders drawn from a prior, anew for each seed)" if w.drawn() else "")
    )


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    callback=not_empty,
    help="Write to this file instead of standard output.",
)
@click.option("--parameters", is_flag=True, help="Print the Markdown table of every key instead.")
@refusals
def init(output: str | None, parameters: bool) -> None:
    """Print a commented world template (every key, its default and its meaning)."""
    text = parameter_table() if parameters else commented_template()
    if output:
        if Path(output).exists():
            raise ConfigError(f"-o {output}: the file already exists; refusing to overwrite it")
        with writing(output, "-o"):
            atomic_write_text(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@main.command()
@click.argument("world_file", required=False, type=click.Path(dir_okay=True), callback=not_empty)
@click.option(
    "--ticks",
    type=click.IntRange(0, 100_000_000),
    help="Ticks to run (default: sim.ticks of the world).",
)
@click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), help="Seed (default: sim.seed of the world)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    callback=not_empty,
    help="Run folder (default: runs/<world>-seed<seed>-<time>).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing run folder given by --out (with --resume: resume even if the world file changed).",
)
@click.option(
    "--checkpoint-every",
    type=click.IntRange(0, 100_000_000),
    help="Ticks between checkpoints (0: none between; the last tick and an interruption always get one).",
)
@click.option(
    "--resume",
    "resume_folder",
    type=click.Path(file_okay=False),
    callback=not_empty,
    help="Continue the interrupted run in this folder from its newest valid checkpoint.",
)
@click.option(
    "--from",
    "from_checkpoint",
    type=click.Path(dir_okay=False),
    callback=not_empty,
    help=(
        "Start from this checkpoint's state (a branch): WORLD_FILE or the checkpoint's run config, "
        "with --set, gives the parameters and interventions."
    ),
)
@click.option(
    "--reseed",
    type=click.IntRange(0, 2**63 - 1),
    metavar="K",
    help="With --from: continue on a fresh random stream keyed by (seed, the checkpoint's tick, K), "
    "a different future from the same past; the same K repeats it byte for byte (docs/replay.md).",
)
@click.option(
    "--record-every",
    type=click.IntRange(0, 100_000_000),
    metavar="K",
    help="Record a replay frame every K ticks into RUN_FOLDER/frames (replay it with `evosim view RUN_FOLDER`); "
    "0: none. Same as --set output.record_every=K.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 4096),
    help="Threads for the simulation kernels (default: all cores). The run folder is byte for byte "
    "the same at any count; threads are used only while they measure faster (from 4,000 agents).",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="No progress bar and no story: only the result lines."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the end-of-run story as JSON on stdout, and nothing else there (for scripts).",
)
@set_option
@refusals
def run(**options: Any) -> None:
    """Run WORLD_FILE (default: the embedded default world) and write a run folder.

    When it ends, it tells the story of each founding lineage: its peak brain,
    its highest milestone, whether and when it became intelligent or
    technological and what held it, the compute to the first intelligent
    species; then what to try next (docs/outputs.md, "The end-of-run story").
    """
    where: dict[str, Path] = {}
    with stop_on_signals():  # from here on a signal at any moment gets its message
        try:
            _run(where, **options)
        except Stopped as exc:
            click.echo(f"\n{_stopped(where.get('out'), bool(options['resume_folder']))}", err=True)
            sys.exit(exc.exit_code)


def _stopped(out: Path | None, resume: bool) -> str:
    """What a signal outside the tick loop left (the loop itself checkpoints and says so).

    Only the standard library here: the signal may have stopped an import half-way (numba's,
    say), and importing anything that needs it again would fail.
    """
    if out is None or not out.is_dir():
        return "interrupted before the run began; nothing was written"
    summary = out / "summary.json"
    if summary.is_file() and '"interrupted"' not in summary.read_text(encoding="utf-8"):
        return f"interrupted after the run ended; its folder {out} is complete"
    if any((out / "checkpoints").glob("ckpt-" + "[0-9]" * 10 + ".json")):  # io.checkpoint.headers
        return f"interrupted; checkpoint kept. Continue with: evosim run --resume {out}"
    if resume:
        return f"interrupted before the resume began; nothing was changed in {out}"
    return "interrupted before the run's first checkpoint; the folder was removed, nothing was kept"


@dataclass
class _Job:
    """One ``evosim run``: the call that runs it (given the progress callback), its bar's label
    and ticks, and the run folder."""

    call: Callable[[Any], Any]
    label: str
    ticks: int | None
    out: Path


def _run(where: dict[str, Path], **o: Any) -> None:
    """What ``evosim run`` does (see its help); ``where["out"]`` is set to the run folder once known."""
    with signals_held():  # a signal inside `import numba` would break the import, not stop the run
        from evosim.engine import runtime  # numba: loaded only when a run starts, not for --help
        from evosim.io import runner

    try:
        runtime.set_threads(o["threads"])
    except ValueError as exc:
        raise ConfigError(f"--threads {o['threads']}: {exc}") from None
    if o["record_every"] is not None:
        if o["resume_folder"]:
            raise ConfigError(
                "--resume RUN_FOLDER continues a run as it was configured; it takes no --record-every"
            )
        o["overrides"] = (*o["overrides"], f"output.record_every={o['record_every']}")
    if o["reseed"] is not None and not o["from_checkpoint"]:
        raise ConfigError(
            "--reseed K starts a fresh future from a checkpoint: give --from CHECKPOINT "
            "(a run from tick 0 takes --seed; --resume continues a run on its own stream)"
        )
    shown = {"bar": False}

    def starting() -> None:
        """Once every check has passed (a refusal is then the only line): say the kernels compile."""
        if not o["quiet"] and not shown["bar"] and not runner.kernels_cached():  # a bar says it
            click.echo(
                "Compiling the numba kernels (first run only; cached afterwards)...", err=True
            )

    make = _branch_job if o["from_checkpoint"] else _resume_job if o["resume_folder"] else _new_job
    job = make(runner, starting, **o)
    where["out"] = job.out
    compiling = not runner.kernels_cached()
    shown["bar"] = not o["quiet"] and job.ticks is not None and at_terminal()
    result = _execute(runner, job, shown["bar"], compiling)
    _finish(runner, result, job.out, bool(o["resume_folder"]), o["quiet"], o["as_json"])


def _branch_job(runner: Any, starting: Callable[[], None], **o: Any) -> _Job:
    """``evosim run --from CHECKPOINT [--reseed K]``."""
    if o["resume_folder"] or o["seed"] is not None:
        raise ConfigError(
            "--from CHECKPOINT keeps the checkpoint's seed and cannot be combined with --resume or --seed"
        )
    ckpt = o["from_checkpoint"]
    base_cfg = Path(ckpt).resolve().parent.parent / "config.yaml"
    source = o["world_file"] or (str(base_cfg) if base_cfg.is_file() else None)
    world = load_world_file(source, o["overrides"])
    ticks = world.sim.ticks if o["ticks"] is None else o["ticks"]
    out = Path(o["out"]) if o["out"] else runner.default_out(world, world.sim.seed)

    def call(progress: Any) -> Any:
        return runner.branch(ckpt, world, out, ticks=ticks, force=o["force"], progress=progress,
                             checkpoint_every=o["checkpoint_every"], world_file=o["world_file"],
                             reseed=o["reseed"], starting=starting)  # fmt: skip

    label = f"{world.name} from {Path(ckpt).name}"
    if o["reseed"] is not None:
        label += f", reseed {o['reseed']}"
    return _Job(call, label, ticks, out)


def _resume_job(runner: Any, starting: Callable[[], None], **o: Any) -> _Job:
    """``evosim run --resume RUN_FOLDER [--ticks N]``."""
    folder = o["resume_folder"]
    if o["world_file"] or o["overrides"] or o["seed"] is not None or o["out"]:
        raise ConfigError(
            "--resume RUN_FOLDER continues a run as it was configured; "
            "it takes no world file, --set, --seed or --out"
        )
    cfg = Path(folder) / "config.yaml"
    ticks = o["ticks"] if o["ticks"] is not None or not cfg.is_file() else load_world(cfg).sim.ticks

    def call(progress: Any) -> Any:
        return runner.resume(folder, force=o["force"], progress=progress, ticks=o["ticks"],
                             starting=starting)  # fmt: skip

    return _Job(call, f"resume {folder}", ticks, Path(folder))


def _new_job(runner: Any, starting: Callable[[], None], **o: Any) -> _Job:
    """``evosim run [WORLD_FILE]``: a run from tick 0."""
    world = load_world_file(o["world_file"], o["overrides"])
    seed = world.sim.seed if o["seed"] is None else o["seed"]
    ticks = world.sim.ticks if o["ticks"] is None else o["ticks"]
    out = Path(o["out"]) if o["out"] else runner.default_out(world, seed)

    def call(progress: Any) -> Any:
        return runner.run(world, out, ticks=ticks, seed=seed, force=o["force"], progress=progress,
                          checkpoint_every=o["checkpoint_every"], world_file=o["world_file"],
                          starting=starting)  # fmt: skip

    return _Job(call, f"{world.name} seed {seed}", ticks, out)


def _execute(runner: Any, job: _Job, bar: bool, compiling: bool) -> Any:
    """Run ``job`` (with a progress bar if ``bar``); an interruption or a failed write exits."""
    try:
        if bar and job.ticks is not None:
            return with_bar(job.call, job.label, job.ticks, compiling)
        return job.call(None)
    except runner.Interrupted as exc:
        click.echo(
            f"\ninterrupted at tick {exc.summary['ticks_run']}; checkpoint written. "
            f"Continue with: evosim run --resume {job.out}",
            err=True,
        )
        sys.exit(exc.exit_code)
    except OSError as exc:
        click.echo(
            f"evosim: error: cannot write the run folder {job.out}: {exc.strerror or exc} "
            f"({getattr(exc, 'filename', '') or job.out}); {_what_is_kept(job.out)}",
            err=True,
        )
        sys.exit(1)


def _finish(runner: Any, result: Any, out: Path, resumed: bool, quiet: bool, as_json: bool) -> None:
    """After the run: what a resume skipped and where it started, the report, the warnings."""
    summary = result
    if resumed:  # runner.resume also says which checkpoints it skipped and where it started
        summary, refused, start = result
        for msg in refused:
            click.echo(f"note: skipped a newer checkpoint: {msg}", err=True)
        click.echo(f"resumed from tick {start}", err=as_json)
        if start == summary["ticks_run"] and summary["ended"] == "completed":
            click.echo(
                f"note: the run was already at tick {start}, its length: nothing to simulate "
                "(give --ticks N to extend it)",
                err=True,
            )
    _report(summary, out, quiet=quiet, as_json=as_json)
    for line in runner.interventions_never_applied(out):
        click.echo(f"warning: {line}", err=True)


def _what_is_kept(out: Path) -> str:
    """What a failed write leaves usable in run folder ``out`` (for the error message)."""
    from evosim.io.checkpoint import headers

    newest = headers(out / "checkpoints")
    if not newest and not out.exists():
        return "no checkpoint was written, so the folder was removed; run it again once the cause is fixed"
    if not newest:
        return "no checkpoint was written, so the run cannot be resumed; run it again"
    return (
        f"the newest checkpoint stays valid ({newest[0].name}): "
        f"continue with evosim run --resume {out} once the cause is fixed"
    )


def _story_tools() -> tuple[Any, Any, Any, Any]:
    """``story``, ``next_text``, ``story_text`` and ``load_run``: pandas, loaded only for a story
    (a quiet run's result lines need none of it: ~0.7 s less at its end)."""
    with signals_held():
        from evosim.analysis.story import next_text, story, story_text
        from evosim.io.logs import load_run
    return story, next_text, story_text, load_run


def _speed(summary: dict) -> str:
    """The agent-steps this process simulated, in its time, at its rate.

    ``timing`` in summary.json is of this process only, ``agent_steps`` of the whole run from
    tick 0: after ``--resume`` or ``--from`` they differ, and the line gives the process's own
    count, then the run's. (A folder written before ``timing.agent_steps`` existed: the run's.)
    """
    total = summary["agent_steps"]
    timing = summary["timing"]
    here = timing.get("agent_steps", total)
    rate = timing["agent_steps_per_s"]
    line = f"{here:,} agent-steps in {timing['wall_time_s'] or 0.0:.1f} s" + (
        f" ({rate / 1e6:.2f} M/s)" if rate else ""
    )
    return line if here == total else f"{line}, of {total:,} since tick 0"


def _report(summary: dict, out: Path, quiet: bool = False, as_json: bool = False) -> None:
    """The result lines; unless ``quiet``, the story of the run and what to try next.

    With ``as_json`` stdout gets only the story and the summary, as one JSON document.
    """
    if as_json:
        story, _next_text, _story_text, load_run = _story_tools()
        doc = {**story(load_run(out)), "summary": summary}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    top = sorted(summary["final_populations"].items(), key=lambda kv: -kv[1])
    pops = ", ".join(f"{k} {v:,}" for k, v in top[:6]) + (
        f" and {len(top) - 6} more species" if len(top) > 6 else ""
    )
    if not any(v for _k, v in top):
        pops = "no species is left"
    n = summary["ticks_run"]
    ticks = f"{n} tick{'' if n == 1 else 's'}"
    click.echo(f"{summary['ended']} after {ticks}: {pops}; {_speed(summary)}")
    if summary["cap_reached_at"] is not None:
        click.echo(
            f"note: the population cap ({summary['population_cap']:,}) was reached at tick "
            f"{summary['cap_reached_at']}; {summary['births_refused_at_cap']:,} births were refused"
        )
    if quiet:  # the detections in one line each; the story tells them per founding lineage
        for kind in ("intelligent", "technological"):
            first = summary[f"first_{kind}"]
            if first:
                click.echo(
                    f"{summary[f'{kind}_species']} species became {kind}; first: {first['species']} "
                    f"at tick {first['tick']} after {first['flop']:.3g} FLOP"
                )
            else:
                click.echo(f"no species became {kind}")
        click.echo(f"run folder: {out}")
        return
    story, next_text, story_text, load_run = _story_tools()
    st = story(load_run(out))
    for hint in st["next"]:
        cost = hint_cost(hint["command"])
        if cost:
            hint["what"] += f"; {cost}"
    click.echo("\n" + story_text(st))
    click.echo(f"run folder: {out}")
    click.echo(next_text(st), nl=False)


main.add_command(view)
main.add_command(experiment)
main.add_command(report)
main.add_command(sweep)
main.add_command(replay)
main.add_command(plot)
main.add_command(schema)

if __name__ == "__main__":  # pragma: no cover
    main()
