"""The batch pipeline every design shares: plan, prepare, run on Dask, collect (docs/experiments.md).

A :class:`~evosim.experiments.design.Design` turns into :class:`~evosim.experiments.task.RunTask`
objects; from there one code path does the rest, whatever the design:

* :func:`plan` -- which runs are finished, which must run, which a longer horizon extends;
* :func:`prepare` -- the folder checked against its manifest, the plan, the pending tasks'
  worlds built (a bad world is refused before anything runs); nothing written;
* :func:`run_design` -- the manifest written, the finished runs reported as skipped, the pending
  ones run by :func:`run_batch` on a Dask cluster (:class:`Cluster`), shared bases first.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
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
                yield client
        finally:
            cluster.close()


def _key(tag: str, t: RunTask) -> str:
    """A Dask key naming the run (random tail: a re-run never meets a stale result)."""
    where = t.arm if t.sample is None else f"s{t.sample}-{t.arm}"
    return f"evosim-{tag}-{where}-rep{t.replicate}-{os.urandom(4).hex()}"


def run_batch(tasks: list[RunTask], cluster: Cluster, outcome: Outcome,
              on_done: OnDone | None = None) -> None:  # fmt: skip
    """Run ``tasks`` with :func:`ensure_run` on ``cluster``; append results and failures to ``outcome``.

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
    tag = hashlib.sha256(os.path.commonpath([t.folder for t in tasks]).encode()).hexdigest()[:8]
    n = len(tasks)
    with cluster.client() as client:
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
) -> Outcome:
    """Run every unfinished run of ``design`` into ``out`` on Dask.

    Args:
        design: what to run.
        out: the batch folder (created; a re-run continues it).
        cluster: where (default: a local cluster of CPU-count workers).
        on_done: called with each finished run's result (``None`` for a failure), including
            skipped ones, e.g. to advance a progress bar.
        prepared: :func:`prepare` of the same design and folder, if the caller has it already.

    Returns:
        The outcome: one result per finished run and the failures.

    Raises:
        ConfigError: as :func:`prepare`, or the scheduler is unreachable.
    """
    prep = prepared or prepare(design, out)
    save_manifest(prep.out, prep.manifest)
    p = prep.plan
    outcome = Outcome(len(p.finished) + len(p.todo))
    for t in p.finished:
        outcome.results.append({**t.identity(), "action": "skipped"})
        if on_done:
            on_done(outcome.results[-1], outcome)
    run_batch(p.todo, cluster or Cluster(), outcome, on_done)
    return outcome
