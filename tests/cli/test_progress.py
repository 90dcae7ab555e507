"""Issue 22 row 8: the run's progress bar says "compiling…" first; rate and ETA count compiled ticks only."""

from __future__ import annotations

import fcntl
import io
import os
import re
import struct
import termios
from unittest.mock import patch

import pytest

from evosim.cli.progress import MIN_BAR_WIDTH, Bar, TickRate, columns, fit, hms
from tests.cli.terminal import in_pty
from tests.helpers import TINY, set_args


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_compiling_until_the_first_tick_then_the_rate_of_the_compiled_ticks():
    clock = Clock()
    r = TickRate(3000, compiling=True, clock=clock)
    assert r.text().startswith("compiling the kernels")
    assert TickRate(3000, compiling=False, clock=clock).text() == "starting…"
    clock.t = 30.0  # the first tick took 30 s: it compiled the kernels
    r.update(1, 120)
    assert r.rate() is None and r.text() == "population 120"
    clock.t = 31.0  # then 100 ticks in 1 s
    r.update(101, 130)
    assert r.rate() == 100.0
    assert r.text() == "100 ticks/s  ETA 0:29  population 130"  # 2899 ticks left at 100/s
    # what the old bar said: the compile time averaged in (101 ticks in 31 s -> ~15 min left)


def test_a_resumed_run_counts_from_its_first_tick_not_from_zero():
    clock = Clock()
    r = TickRate(10_000, compiling=False, clock=clock)
    clock.t = 2.0
    r.update(5001, 10)
    clock.t = 12.0
    r.update(6001, 10)
    assert r.rate() == 100.0 and "ETA 0:40" in r.text()


def test_a_compile_mid_run_is_left_out_of_the_rate():
    """The parallel build compiles when threads are first tried, mid-run: not a slow rate."""
    clock, paused = Clock(), [0.0]
    r = TickRate(10_000, compiling=False, clock=clock, paused=lambda: paused[0])
    clock.t = 1.0
    r.update(1, 10)
    clock.t, paused[0] = 51.0, 40.0  # 1,000 ticks in 10 s, and a 40 s compile
    r.update(1001, 10)
    assert r.rate() == 100.0 and "ETA 1:30" in r.text()


def test_hms():
    assert [hms(0), hms(59.6), hms(75), hms(3700)] == ["0:00", "1:00", "1:15", "1:01:40"]


def test_the_bar_at_a_terminal_shows_rate_and_eta(tmp_path):
    r = in_pty("run", "--ticks", 40, "--out", "x", *set_args(TINY), cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert re.search(r"40/40\s+[\d,]+ ticks/s  ETA 0:00  population [\d,]+", r.output), r.output


# ------------------------------------------------------------------ QA: the bar fits the terminal
LABEL = "earthlike seed 0"
FULL = ["496 ticks/s  ETA 0:00  population 25,878", "496 ticks/s  ETA 0:00", "ETA 0:00", ""]


def test_fit_keeps_every_field_and_a_full_bar_where_there_is_room():
    line = fit(LABEL, "250/500", FULL, 0.5, 200)
    assert line == f"{LABEL}  [{'#' * 18}{'-' * 18}]  250/500  {FULL[0]}"


def test_fit_shrinks_the_bar_first_then_drops_the_population_then_the_rate():
    fixed = len(f"{LABEL}  []  500/500  {FULL[0]}")  # 72 columns besides the bar
    line = fit(LABEL, "500/500", FULL, 1.0, fixed + 1 + 20)  # room for a 20-column bar
    assert line.endswith("population 25,878") and f"[{'#' * 20}]" in line
    line = fit(LABEL, "500/500", FULL, 1.0, fixed + 1 + MIN_BAR_WIDTH)
    assert line.endswith("population 25,878") and f"[{'#' * MIN_BAR_WIDTH}]" in line
    line = fit(LABEL, "500/500", FULL, 1.0, fixed + MIN_BAR_WIDTH)  # one column short
    assert "population" not in line and line.endswith("496 ticks/s  ETA 0:00")
    assert "[" in line and len(line) <= fixed + MIN_BAR_WIDTH - 1
    assert fit(LABEL, "500/500", FULL, 1.0, 50).endswith("]  500/500  ETA 0:00")
    assert fit(LABEL, "500/500", FULL, 1.0, 40) == f"{LABEL}  [{'#' * 10}]  500/500"
    # too narrow for a bar: the label, the counter and what else fits; at worst cut with "…"
    assert fit(LABEL, "500/500", FULL, 1.0, 39) == f"{LABEL}  500/500  ETA 0:00"
    assert fit(LABEL, "500/500", FULL, 1.0, 35) == f"{LABEL}  500/500"
    assert fit(LABEL, "500/500", FULL, 1.0, 20) == "earthlike seed 0  …"


@pytest.mark.parametrize("columns", range(1, 161))
def test_no_line_of_fit_is_wider_than_the_terminal_less_one_column(columns):
    for info in (FULL, ["compiling the kernels (first run only)…", "compiling…", ""]):
        for done in (0.0, 0.37, 1.0):
            line = fit(f"resume {'x' * 40}", "1234567/10000000", info, done, columns)
            assert 1 <= len(line) <= max(1, columns - 1), (columns, line)


def test_the_bar_blanks_what_a_shorter_line_leaves_and_draws_the_last_update_on_close():
    out, clock, info = io.StringIO(), Clock(), [["population 25,878", ""]]
    bar = Bar("w", 100, lambda: info[0], out, clock=clock, every=1.0)
    with patch.dict(os.environ, {"COLUMNS": "60"}):
        bar.update(1)
        first = out.getvalue()
        assert first == "\r" + fit("w", "1/100", info[0], 0.01, 60)
        info[0] = ["ETA 0:01", ""]
        clock.t = 0.5
        bar.update(50)  # under a second after the last redraw: not drawn
        assert out.getvalue() == first and bar.pending
        bar.close()
    last = out.getvalue()[len(first) :]
    line = fit("w", "50/100", info[0], 0.5, 60)
    assert last == "\r" + line + " " * (len(first) - 1 - len(line)) + "\n"


def test_columns_is_columns_then_the_terminal_then_80(monkeypatch):
    import pty

    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 57, 0, 0))
        with open(slave, "w", closefd=False) as tty:
            monkeypatch.setenv("COLUMNS", "133")
            assert columns(tty) == 133
            monkeypatch.delenv("COLUMNS")
            assert columns(tty) == 57
    finally:
        os.close(master)
        os.close(slave)
    assert columns(io.StringIO()) == 80


@pytest.mark.parametrize("cols", [60, 80])
def test_no_redraw_is_wider_than_a_narrow_terminal(tmp_path, cols):
    """QA: at 80 columns the 107-column bar wrapped, and each redraw left a stray line."""
    r = in_pty("run", "--ticks", 300, "--out", "x", *set_args(TINY), cwd=tmp_path, cols=cols)
    assert r.exit_code == 0, r.output
    bar = r.output[: r.output.index("completed after")]
    redraws = [seg for line in bar.split("\n") for seg in line.split("\r") if seg.strip()]
    assert any("300/300" in seg and "ETA 0:00" in seg for seg in redraws), r.output
    assert all(len(seg) < cols for seg in redraws), [s for s in redraws if len(s) >= cols]
    assert ("population" in redraws[-1]) == (cols == 80), redraws[-1]
    # the story and the hints are wrapped to the terminal too (the commands stay whole: pasteable)
    story = r.output[r.output.index("The story") :].splitlines()
    assert all(len(line) < cols for line in story if not line.startswith("  evosim ")), story
