"""What a stopped batch leaves: the locks of its killed workers are removed, the state of each
pending run is read from its folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from evosim.experiments.batch import left_by, lock_files, release_locks
from evosim.experiments.task import RunTask
from evosim.io.lock import LOCK_NAME, clear_stale, locked


def _killed_holder(path: Path) -> None:
    """A process that takes the lock ``path`` and dies holding it (as a killed worker does)."""
    code = (f"import os; from evosim.io.lock import locked\n"
            f"with locked({str(path)!r}):\n    os._exit(9)\n")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=False, timeout=60)
    assert path.read_text().split()[0].isdigit()  # left behind, with its pid


def test_clear_stale_removes_a_dead_holders_lock_and_keeps_a_live_one(tmp_path):
    dead, live = tmp_path / ".a.lock", tmp_path / ".b.lock"
    _killed_holder(dead)
    assert clear_stale(dead) and not dead.exists()
    assert not clear_stale(dead)  # missing: nothing to do, nothing created
    assert not dead.exists()
    with locked(live):  # held (here through another descriptor: a live holder)
        assert not clear_stale(live) and live.exists()


def _task(out: Path, arm: str, k: int, base: RunTask | None = None) -> RunTask:
    return RunTask(str(out / arm / f"rep-{k}"), None, k, 100, 10, arm, k, base=base)


def test_a_stopped_batch_releases_the_locks_of_its_runs_and_their_bases(tmp_path):
    base = _task(tmp_path, "_base", 0)
    tasks = [_task(tmp_path, "a", 0, base), _task(tmp_path, "b", 0, base)]
    assert set(lock_files(tasks)) == {
        tmp_path / d / n for d in ("_base", "a", "b") for n in (".rep-0.lock", f"rep-0/{LOCK_NAME}")
    }
    for p in lock_files(tasks)[:3]:
        p.parent.mkdir(parents=True, exist_ok=True)
        _killed_holder(p)
    held = lock_files(tasks)[3]
    held.parent.mkdir(parents=True, exist_ok=True)
    with locked(held):  # a run that goes on (a scheduler's worker)
        assert release_locks(tasks) == lock_files(tasks)[:3]
        assert held.exists()
    assert [p for p in lock_files(tasks) if p.exists()] == []


def test_left_by_reads_each_runs_state_from_its_folder(tmp_path):
    tasks = [_task(tmp_path, arm, 0) for arm in ("done", "partial", "nockpt", "untouched", "short",
                                                  "running")]  # fmt: skip
    done, partial, nockpt, untouched, short, running = (Path(t.folder) for t in tasks)
    for f in (done, partial, nockpt, short):
        (f / "checkpoints").mkdir(parents=True)
    (done / "summary.json").write_text(json.dumps({"ended": "completed", "ticks_run": 100}))
    for tick in (10, 20):
        (partial / "checkpoints" / f"ckpt-{tick:010d}.json").write_text("{}")
    (partial / "checkpoints" / "ckpt-0000000030.json.tmp").write_text("")  # half-written: not one
    (nockpt / "config.yaml").write_text("")
    # finished at a shorter horizon: the extension to 100 ticks did not begin
    (short / "summary.json").write_text(json.dumps({"ended": "completed", "ticks_run": 50}))
    (short / "checkpoints" / "ckpt-0000000050.json").write_text("{}")
    Path(tasks[5].lock).parent.mkdir(parents=True)
    with locked(tasks[5].lock):
        left = left_by(tasks)
    assert [t.arm for t in left.finished] == ["done"]
    assert left.partial == {str(partial): 20}
    assert [t.arm for t in left.restart] == ["nockpt"]
    assert [t.arm for t in left.running] == ["running"]
    assert [t.arm for t in left.untouched] == ["untouched", "short"]
    assert untouched.exists() is False
