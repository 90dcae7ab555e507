"""The batch pipeline every design shares: plan, prepare, run on Dask, collect (docs/experiments.md).

A :class:`~evosim.experiments.design.Design` turns into :class:`~evosim.experiments.task.RunTask`
objects; from there one code path does the rest, whatever the design:

* :func:`plan` -- which runs are finished, which must run, which a longer horizon extends;
* :func:`prepare` -- the folder checked against its manifest, the plan, the pending tasks'
  worlds built (a bad world is refused before anything runs); nothing written;
* :func:`run_design` -- the cluster connected (:func:`connected`: an unreachable scheduler is
  refused before anything is written), the manifest written, the finished runs reported as
  skipped, the pending ones run by :func:`run_batch` on a Dask cluster (:class:`Cluster`), shared
  bases first.

Ctrl-C at a terminal signals the whole process group, the local cluster's worker processes too:
they ignore it (:meth:`Cluster.client`) and the command's process stops them by closing the
cluster; :func:`connected` then removes the lock files the stopped runs left
(:func:`release_locks`), so the next run takes them without a warning.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evosim.errors import ConfigError
from evosim.experiments.design import Design
from evosim.experiments.manifest import save_manifest
from evosim.experiments.shared_past import ensure_base
from evosim.experiments.task import RunTask, ensure_run, needs_extension
from evosim.io.lock import LOCK_NAME, clear_stale
from evosim.io.logs import finished_summary

OnDone = Callable[[dict | None, "Outcome"], None]


@dataclass
class Plan:
    """What a (re-)run of a design does: its tasks split into finished and to do.

    Attributes:
        finished: tasks whose folder is finished at the task's horizon.
        todo: tasks to run (in the design's order), including those to extend.
        extend: the finished runs of ``todo`` that a longer horizon extends, by folder: (ticks
            run, wall seconds per tick of the run so far).
    """

    finished: list[RunTask] = field(default_factory=list)
    todo: list[RunTask] = field(default_factory=list)
    extend: dict[str, tuple[int, float]] = field(default_factory=dict)

    def extension_core_seconds(self) -> float:
        """Estimated core-seconds of the extensions: each run's own seconds per tick so far."""
        ticks = {t.folder: t.ticks for t in self.todo}
        return sum((ticks[f] - done) * per for f, (done, per) in self.extend.items())


def plan(tasks: list[RunTask]) -> Plan:
    """Which of ``tasks`` are finished and which must run (or be extended to their horizon)."""
    p = Plan()
    for t in tasks:
        s = finished_summary(t.folder)
        if s is None:
            p.todo.append(t)
        elif needs_extension(s, t.ticks):
            done = int(s["ticks_run"])
            wall = float((s.get("timing") or {}).get("wall_time_s", math.nan))
            p.extend[t.folder] = (done, wall / max(done, 1))
            p.todo.append(t)
        else:
            p.finished.append(t)
    return p


@dataclass
class Prepared:
    """A design ready to run into a folder (nothing written yet).

    Attributes:
        out: the batch folder (absolute).
        manifest: what ``experiment.json`` will say (checked against the folder's).
        plan: the plan; its pending tasks have their worlds.
    """

    out: Path
    manifest: dict
    plan: Plan


def prepare(design: Design, out: str | os.PathLike) -> Prepared:
    """Check that ``out`` may take ``design``, plan it and build the world of every pending run.

    Raises:
        ConfigError: ``out`` holds other runs or another design, or a pending run's world is
            invalid; nothing is written.
    """
    new = design.manifest(out)
    out = Path(out).resolve()
    p = plan(design.tasks(out))
    p.todo = [design.resolve(t) for t in p.todo]
    return Prepared(out, new, p)


@dataclass
class Outcome:
    """Result of a batch: one result per finished run, and the failures."""

    total: int
    results: list[dict] = field(default_factory=list)
    failures: list[tuple[str, int, str]] = field(default_factory=list)

    def count(self, action: str) -> int:
        """How many runs ended with ``action`` (skipped, ran, resumed, restarted, extended)."""
        return sum(r["action"] == action for r in self.results)


@dataclass(frozen=True)
class Cluster:
    """Where a batch runs: an existing Dask scheduler, or a loopback cluster of ``workers`` processes."""

    workers: int | None = None
    scheduler: str | None = None

    @property
    def where(self) -> str:
        """``scheduler ADDRESS`` or ``a local cluster of N worker process(es)``, for messages."""
        if self.scheduler:
            return f"scheduler {self.scheduler}"
        return f"a local cluster of {self.workers or 'CPU-count'} worker process(es)"

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A Dask client of this cluster (closed, with any cluster it started, on exit).

        Raises:
            ConfigError: the scheduler cannot be reached.
        """
        from dask.distributed import Client, LocalCluster

        if self.scheduler:
            try:
                client = Client(self.scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"--scheduler {self.scheduler}: cannot connect to a Dask scheduler there ({exc})"
                ) from None
            try:
                yield client
            finally:
                client.close()
            return
        cluster = LocalCluster(
            n_workers=self.workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
        try:
            with Client(cluster) as client:
                client.run(_ignore_interrupts)  # Ctrl-C is for this process (it closes the cluster)
                yield client
        finally:
            cluster.close()


def _ignore_interrupts() -> None:
    """In a local cluster's worker (its main thread, :meth:`Cluster.client`): ignore SIGINT.

    Ctrl-C at a terminal signals the whole process group; the command's process stops the
    workers by closing the cluster, and a worker that stopped on its own would leave its run's
    locks and a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def lock_files(tasks: list[RunTask]) -> list[Path]:
    """The lock files of ``tasks`` and their bases: beside each run folder and inside it."""
    runs = {t.folder: t for t in tasks} | {t.base.folder: t.base for t in tasks if t.base}
    return [p for t in runs.values() for p in (t.lock, Path(t.folder) / LOCK_NAME)]


def release_locks(tasks: list[RunTask]) -> list[Path]:
    """Remove the lock files of ``tasks`` (:func:`lock_files`) that no live process holds.

    For after a batch was stopped: its local workers, killed with the cluster, left them. A lock
    still held (a run that goes on, on a scheduler's worker) is left. Returns those removed.
    """
    return [p for p in lock_files(tasks) if clear_stale(p)]


@contextmanager
def connected(cluster: Cluster, tasks: list[RunTask]) -> Iterator[Any]:
    """A Dask client of ``cluster`` to run ``tasks`` (None, and no connection, when there are none).

    Connect before writing anything: an unreachable scheduler then leaves the folder as it was.
    Left by an exception (Ctrl-C included), the client and any local cluster are closed first (its
    workers stop), then the lock files they left are removed (:func:`release_locks`).

    Raises:
        ConfigError: the scheduler cannot be reached.
    """
    if not tasks:
        yield None
        return
    try:
        with cluster.client() as client:
            yield client
    except BaseException:
        release_locks(tasks)
        raise


def _key(tag: str, t: RunTask) -> str:
    """A Dask key naming the run (random tail: a re-run never meets a stale result)."""
    where = t.arm if t.sample is None else f"s{t.sample}-{t.arm}"
    return f"evosim-{tag}-{where}-rep{t.replicate}-{os.urandom(4).hex()}"


def run_batch(tasks: list[RunTask], cluster: Cluster, outcome: Outcome,
              on_done: OnDone | None = None, client: Any = None) -> None:  # fmt: skip
    """Run ``tasks`` with :func:`ensure_run` on ``cluster``; append results and failures to ``outcome``.

    ``client``: a client of ``cluster`` already connected (:func:`connected`); by default one is
    connected here and closed at the end.

    The tasks start in the order of the list (Dask priorities: the first has the highest), so
    a batch stopped part-way has finished a prefix of it: a design lists its tasks in the order
    whose prefixes are most useful (replicate-major for an experiment: whole replicates of
    every arm). A task with a ``base`` waits for the base's task, submitted once for all that
    share it, just ahead of the first of them. A failed task (an exception in it) is recorded without
    stopping the others; ``on_done`` is called after each task with its result (None for a
    failure).
    """
    if not tasks:
        return
    if client is None:
        with connected(cluster, tasks) as own:
            return run_batch(tasks, cluster, outcome, on_done, own)
    tag = hashlib.sha256(os.path.commonpath([t.folder for t in tasks]).encode()).hexdigest()[:8]
    n = len(tasks)
    bases: dict[str, Any] = {}
    for i, t in enumerate(tasks):
        if t.base is not None and t.base.folder not in bases:  # just ahead of its first branch
            run = ensure_base if t.base.watch is not None else ensure_run
            bases[t.base.folder] = client.submit(
                run, t.base, key=_key(tag, t.base), priority=2 * (n - i) + 1
            )
    futures = [
        client.submit(
            ensure_run,
            t,
            bases.get(t.base.folder) if t.base else None,
            key=_key(tag, t),
            priority=2 * (n - i),
        )  # fmt: skip
        for i, t in enumerate(tasks)
    ]
    collect(futures, tasks, outcome, on_done)


def collect(futures: list, tasks: list[RunTask], outcome: Outcome,
            on_done: OnDone | None = None) -> None:  # fmt: skip
    """Wait for Dask ``futures`` (of ``tasks``, in order) as they finish, into ``outcome``."""
    from dask.distributed import as_completed

    which = {f.key: t for f, t in zip(futures, tasks)}
    for f in as_completed(futures):
        t = which[f.key]
        try:
            result = f.result()
        except Exception as exc:  # noqa: BLE001 - one failed run must not stop the others
            outcome.failures.append((t.label, t.replicate, f"{type(exc).__name__}: {exc}"))
            result = None
        else:
            outcome.results.append(result)
        if on_done:
            on_done(result, outcome)


def run_design(
    design: Design,
    out: str | os.PathLike,
    cluster: Cluster | None = None,
    on_done: OnDone | None = None,
    prepared: Prepared | None = None,
    client: Any = None,
) -> Outcome:
    """Run every unfinished run of ``design`` into ``out`` on Dask.

    Args:
        design: what to run.
        out: the batch folder (created; a re-run continues it).
        cluster: where (default: a local cluster of CPU-count workers).
        on_done: called with each finished run's result (``None`` for a failure), including
            skipped ones, e.g. to advance a progress bar.
        prepared: :func:`prepare` of the same design and folder, if the caller has it already.
        client: a client of ``cluster`` the caller connected (:func:`connected`) for the pending
            runs; by default they connect here, before the manifest is written.

    Returns:
        The outcome: one result per finished run and the failures.

    Raises:
        ConfigError: as :func:`prepare`, or the scheduler is unreachable (nothing written).
    """
    prep = prepared or prepare(design, out)
    p = prep.plan
    cluster = cluster or Cluster()
    if client is None and p.todo:
        with connected(cluster, p.todo) as own:
            return run_design(design, out, cluster, on_done, prep, own)
    save_manifest(prep.out, prep.manifest)
    outcome = Outcome(len(p.finished) + len(p.todo))
    for t in p.finished:
        outcome.results.append({**t.identity(), "action": "skipped"})
        if on_done:
            on_done(outcome.results[-1], outcome)
    run_batch(p.todo, cluster, outcome, on_done, client)
    return outcome


#: A checkpoint header's name (as :mod:`evosim.io.checkpoint` writes it; not imported: numba).
_CHECKPOINT = re.compile(r"ckpt-(\d{10})\.json")


@dataclass
class Left:
    """What a stopped batch left of its pending runs (:func:`left_by`).

    Attributes:
        finished: runs now finished at their horizon.
        partial: runs with a checkpoint, which a re-run continues from, by folder: its tick.
        restart: runs begun without reaching a checkpoint (a re-run starts them again).
        running: runs whose lock a live process still holds (a scheduler's worker, which goes on).
        untouched: runs not begun.
    """

    finished: list[RunTask] = field(default_factory=list)
    partial: dict[str, int] = field(default_factory=dict)
    restart: list[RunTask] = field(default_factory=list)
    running: list[RunTask] = field(default_factory=list)
    untouched: list[RunTask] = field(default_factory=list)


def left_by(tasks: list[RunTask]) -> Left:
    """What the run folders of ``tasks`` hold now, after :func:`release_locks`."""
    left = Left()
    for t in tasks:
        folder = Path(t.folder)
        s = finished_summary(folder)
        ticks = [int(m.group(1)) for p in _listing(folder / "checkpoints")
                 if (m := _CHECKPOINT.fullmatch(p))]  # fmt: skip
        if s is not None and not needs_extension(s, t.ticks):
            left.finished.append(t)
        elif t.lock.exists():  # released unless a live process holds it
            left.running.append(t)
        elif ticks and (s is None or max(ticks) > int(s.get("ticks_run", 0))):
            left.partial[t.folder] = max(ticks)
        elif s is not None:  # finished at a shorter horizon: its extension did not begin
            left.untouched.append(t)
        elif _listing(folder):
            left.restart.append(t)
        else:
            left.untouched.append(t)
    return left


def _listing(folder: Path) -> list[str]:
    """The names in ``folder`` (none if it is missing)."""
    try:
        return os.listdir(folder)
    except OSError:
        return []
