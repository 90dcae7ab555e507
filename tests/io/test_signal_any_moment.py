"""Issue 22 row 11: a signal at any moment gives the documented message and a resumable folder or none.

SIGTERM at 1.3 s (before the tick loop) used to end the run with exit 143, no
message and a folder holding only ``.evosim.lock``; SIGINT at 1.6 s printed
click's ``Aborted!`` and left a folder without a checkpoint that ``--resume``
then rejected.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from evosim.errors import Stopped
from evosim.io import runner
from tests.helpers import TINY_FILE


def test_a_signal_while_the_folder_is_set_up_removes_it(tmp_path, tiny_world, monkeypatch):
    """Deterministic: a Stopped raised while building the simulation leaves no folder."""

    def stop(*_a, **_k):
        raise Stopped(signal.SIGTERM, 143)

    monkeypatch.setattr(runner, "Simulation", stop)
    with pytest.raises(Stopped):
        runner.run(tiny_world, tmp_path / "run", ticks=10)
    assert not (tmp_path / "run").exists()


def _wait_for_evosims_handlers(proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until the child catches SIGTERM (``evosim.cli`` installs its handlers first thing).

    Before that the interpreter is still starting: Python's own handling would answer a signal
    (a KeyboardInterrupt traceback, or death by SIGTERM) before any evosim code runs. On an idle
    machine that is ~50 ms, so this never waits; under load it can outlast the smallest delays,
    which then land at the first moment evosim can answer instead. Linux (/proc); elsewhere
    the delay alone.
    """
    status = f"/proc/{proc.pid}/status"
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            with open(status, encoding="ascii") as f:
                caught = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
        except (OSError, StopIteration):
            return
        if caught >> (signal.SIGTERM - 1) & 1:
            return
        time.sleep(0.002)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("delay", [0.3, 0.6, 0.9, 1.3, 1.6, 2.2, 3.0])
def test_a_signal_at_any_moment(tmp_path, sig, delay):
    """From 0.3 s after the start, or the first moment evosim handles signals if that is later
    (:func:`_wait_for_evosims_handlers`: under load the interpreter may still be starting)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "evosim", "run", TINY_FILE, "--ticks", 3000, "--out", "r", "-q"]
    proc = subprocess.Popen(list(map(str, cmd)), cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    time.sleep(delay)
    _wait_for_evosims_handlers(proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=300)
    if proc.returncode == 0:  # the run finished before the signal: nothing to check
        return
    if proc.returncode == -sig:  # after everything was written and said, the default handlers
        summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
        assert summary["ended"] == "completed" and "completed after 3000 ticks" in out, (
            summary,
            out,
        )
        return
    assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], err
    assert "Traceback" not in err and "Aborted" not in err and "KeyboardInterrupt" not in err, err
    said = err.strip().splitlines()[-1]
    assert said.startswith("interrupted"), err
    folder = tmp_path / "r"
    if said.startswith("interrupted after the run ended"):  # the signal came during the story
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["ended"] == "completed" and summary["ticks_run"] == 3000, summary
        return
    if not folder.exists():
        assert "nothing was written" in said or "nothing was kept" in said, said
        return
    assert f"evosim run --resume {folder.name}" in said, said
    r = subprocess.run([sys.executable, "-m", "evosim", "run", "--resume", "r", "-q"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "completed after 3000 ticks" in r.stdout or "extinct after" in r.stdout


def test_a_signal_during_a_heavy_import_is_reported_without_importing_again(tmp_path):
    """Under load a signal can stop ``import numba`` half-way; the message must not import it again
    (it once did, through io.checkpoint, and died of numba's partially initialised modules)."""
    code = (
        "import sys, signal\n"
        "from evosim.cli import main as m\n"
        "from pathlib import Path\n"
        "out = Path(sys.argv[1]); (out / 'checkpoints').mkdir(parents=True)\n"
        "(out / 'checkpoints' / 'ckpt-0000000010.json').write_text('{}')\n"
        "sys.modules['numba'] = None  # any import of numba now fails, as a half-imported one would\n"
        "print(m._stopped(out, False)); print(m._stopped(out.parent / 'none', False))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "r")], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    kept, none = r.stdout.splitlines()
    assert kept.startswith("interrupted; checkpoint kept") and "--resume" in kept
    assert "nothing was written" in none


def test_a_signal_held_over_an_import_arrives_after_it():
    """signals_held: a SIGINT inside the block only is noted; the handler in force gets it after."""
    from evosim.cli.common import signals_held, stop_on_signals

    reached = []
    with stop_on_signals(), pytest.raises(Stopped) as info:
        with signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            reached.append("the block ran on")
    assert reached == ["the block ran on"] and info.value.exit_code == 130
