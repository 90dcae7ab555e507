"""Ctrl-C of ``evosim experiment``, ``sweep``, ``replay`` and ``report``: one truthful message,
exit 130, no lock left behind, no half-written report; and nothing written before the cluster
is reached."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from evosim.errors import ConfigError
from evosim.io.runner import run as run_world
from evosim.reports import outcomes as rp
from tests.experiments.identity import regenerate as fx
from tests.helpers import TINY_FILE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def experiment_folder(tmp_path_factory) -> Path:
    """Two arms x two replicates of the tiny world, run here (no cluster)."""
    from evosim.config.load import load_world

    exp = tmp_path_factory.mktemp("exp") / "exp"
    for arm in ("control", "other"):
        for k in (0, 1):
            run_world(load_world(TINY_FILE), exp / arm / f"rep-{k}", ticks=40, seed=k)
    return exp


def _report(exp: Path, out: Path):
    from evosim.cli.main import main

    return CliRunner().invoke(main, ["report", str(exp), "--out", str(out), "--no-plots",
                                     "--bootstrap", "100"])  # fmt: skip


@pytest.mark.parametrize(
    "signals", [1, 2]
)  # 2: as `timeout` sends it, to the command and its group
def test_ctrl_c_of_a_report_leaves_no_half_report_and_exits_130(
    experiment_folder, tmp_path, monkeypatch, signals
):
    real = rp.write_report

    def interrupted(*args, **kwargs):  # the outcome tables are written by now
        files = real(*args, **kwargs)
        for _ in range(signals):
            os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # (a signal arrives at the next bytecode)
        return files

    monkeypatch.setattr(rp, "write_report", interrupted)
    out = tmp_path / "rpt"
    r = _report(experiment_folder, out)
    assert r.exit_code == 130, r.output
    assert "interrupted; nothing was written" in r.output and "Aborted" not in r.output
    assert not out.exists() and list(tmp_path.iterdir()) == []  # nor the staging folder

    monkeypatch.setattr(rp, "write_report", real)
    r = _report(experiment_folder, out)
    assert r.exit_code == 0, r.output
    done = sorted(p.name for p in out.iterdir())
    assert {"summary.md", "results.csv", "thresholds.csv"} <= set(done)
    before = {p: p.read_bytes() for p in out.iterdir()}

    monkeypatch.setattr(rp, "write_report", interrupted)  # again, into the finished report
    r = _report(experiment_folder, out)
    assert r.exit_code == 130 and f"interrupted; {out} is as it was" in r.output, r.output
    assert {p: p.read_bytes() for p in out.iterdir()} == before


@contextmanager
def _unreachable(_self):
    raise ConfigError("--scheduler tcp://nowhere:1: cannot connect to a Dask scheduler there")
    yield  # pragma: no cover


def test_an_unreachable_scheduler_leaves_nothing_written(tmp_path, monkeypatch):
    from evosim.cli.main import main
    from evosim.experiments.batch import Cluster

    spec = fx.write_spec(tmp_path, "exp.yaml", fx.EXPERIMENT.replace("TICKS", "30"))
    monkeypatch.setattr(Cluster, "client", _unreachable)
    out = tmp_path / "err" / "sch"
    r = CliRunner().invoke(main, ["experiment", str(spec), "--scheduler", "tcp://nowhere:1",
                                  "--out", str(out)])  # fmt: skip
    assert r.exit_code == 2 and "cannot connect" in r.output, r.output
    assert not (tmp_path / "err").exists()
    # so another experiment may use the folder
    other = fx.write_spec(tmp_path, "other.yaml", fx.EXPERIMENT.replace("TICKS", "30")
                          .replace("seed: 11", "seed: 99"))  # fmt: skip
    r = CliRunner().invoke(main, ["experiment", str(other), "--out", str(out), "--dry-run"])
    assert r.exit_code == 0 and "different seed" not in r.output, r.output


def _evosim_in_pty(args: list[str], cwd: Path, until: str, cols: int = 80, timeout: float = 240):
    """``python -m evosim ARGS`` at an 80-column pseudo-terminal, as the leader of its own process
    group; once ``until`` is on the screen, SIGINT to the whole group (as Ctrl-C at a terminal).

    Returns (exit code, the screen's text with ``\\r`` kept).
    """
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([sys.executable, "-m", "evosim", *args], stdin=slave, stdout=slave,
                            stderr=slave, cwd=cwd, env={**env, "TERM": "xterm"},
                            start_new_session=True)  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # every writer closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
                if not sent and until in b"".join(chunks).decode("utf-8", "replace"):
                    os.killpg(proc.pid, signal.SIGINT)
                    sent = True
        else:
            raise AssertionError("evosim did not finish:\n" + b"".join(chunks).decode())
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(), b"".join(chunks).decode("utf-8", "replace")


def test_ctrl_c_at_a_terminal_stops_the_workers_and_says_what_was_kept(tmp_path):
    # two runs on one worker: Ctrl-C once the first has finished, while the second runs
    body = (fx.EXPERIMENT.replace("TICKS", "12000").replace("replicates: 2", "replicates: 1")
            .replace("checkpoint_every: 15", "checkpoint_every: 500"))  # fmt: skip
    fx.write_spec(tmp_path, "exp.yaml", body)
    args = ["experiment", "exp.yaml", "--workers", "1", "--out", "out"]
    code, screen = _evosim_in_pty(args, tmp_path, until="control rep-0 ran")
    text = screen.replace("\r\n", "\n")
    assert code == 130, text
    assert "Traceback" not in text and "interrupted while starting" not in text, text
    assert text.count("interrupted; stopping the workers…") == 1, text
    m = re.search(r"(\d) of 2 replicates finished and kept in out(.*)\. Continue with: "
                  r"evosim experiment exp\.yaml --workers 1 --out out\n", text)  # fmt: skip
    assert m, text
    finished = sorted(p.parent.name + "/" + p.name for p in (tmp_path / "out").glob("*/rep-*")
                      if (p / "summary.json").is_file())  # fmt: skip
    assert int(m.group(1)) == len(finished) >= 1, (finished, text)
    if len(finished) == 1:  # the second was cut: it resumes from its checkpoint, or starts again
        assert re.search(r"1 (partly run, which resumes from its newest checkpoint "
                         r"\(hands/rep-0 at tick \d+\)|begun without a checkpoint yet|not begun)",
                         m.group(2)), text  # fmt: skip
    assert list((tmp_path / "out").rglob("*.lock")) == []  # the stopped worker's locks are gone
    # the bar fits the 80 columns (a wider one wraps and leaves a line per redraw)
    bars = [s for s in re.split(r"[\r\n]", screen) if s.startswith("replicates  [")]
    assert bars and all(len(s) <= 79 for s in bars), bars

    r = subprocess.run([sys.executable, "-m", "evosim", *args, "-q"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=240)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "took over the lock" not in r.stderr and "warning" not in r.stderr, r.stderr
    assert "2 of 2 replicates finished" in r.stdout, r.stdout


@pytest.mark.parametrize("spawned", [False, True])
def test_a_worker_process_of_the_command_ignores_ctrl_c_from_its_start(spawned):
    # a local cluster's worker runs the `evosim` script again (multiprocessing's spawn): it must
    # not take Ctrl-C as the command does ("interrupted while starting", then exit at once)
    code = ("import sys; sys.argv = ['/venv/bin/evosim']; import signal, evosim.cli; "
            "h = signal.getsignal(signal.SIGINT); "
            "print('ignored' if h is signal.SIG_IGN else getattr(h, '__name__', h))")  # fmt: skip
    extra = ["--multiprocessing-fork"] if spawned else []
    r = subprocess.run([sys.executable, "-c", code, *extra], capture_output=True, text=True,
                       timeout=60, cwd=ROOT)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ("ignored" if spawned else "_starting"), r.stdout


def test_ctrl_c_while_a_replay_writes_its_report_keeps_the_old_one_whole(
    tmp_path, monkeypatch, capsys
):
    from types import SimpleNamespace

    import evosim.cli.replay as cli_replay
    import evosim.reports.replay as rr

    out = tmp_path / "replay"
    (out / "control" / "rep-0").mkdir(parents=True)
    (out / "summary.md").write_text("# the report of 4 futures")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def half(folder, *_a, **_k):
        (folder / "futures.csv").write_text("half")
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)

    monkeypatch.setattr(cli_replay, "collect_futures", lambda _design, _out: None)
    monkeypatch.setattr(rr, "write_report", half)
    design = SimpleNamespace(spec=SimpleNamespace(name="r", horizon=10), branches=[])
    again = ["evosim", "replay", "r.yaml", "--workers", "2"]
    with pytest.raises(SystemExit) as exit_:
        cli_replay.write_causal_report(design, out, True, again)
    assert exit_.value.code == 130
    err = capsys.readouterr().err
    assert (
        f"the futures are kept and the report files of {out} are as they were. Write them with: "
        f"evosim replay r.yaml --workers 2 --out {out}\n" in err
    ), err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["replay"]  # no staging folder left
