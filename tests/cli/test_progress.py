"""Issue 22 row 8: the run's progress bar says "compiling…" first; rate and ETA count compiled ticks only."""

from __future__ import annotations

import re

from evosim.cli.progress import TickRate, hms
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
