"""The choice of each tick's kernel build by measured speed (engine/flavour.py)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.engine.flavour import RECENT, SLOW_RUN, FlavourChooser
from evosim.engine.kernels import conf


class FakeClock:
    """A clock whose tick lasts ``cost[build] * n`` seconds."""

    def __init__(self, cost: dict[bool, float]):
        self.now = 0.0
        self.cost = cost
        self.build = False
        self.n = 0

    def __call__(self) -> float:
        return self.now

    def tick(self, chooser: FlavourChooser, n: int) -> bool:
        build = chooser.choose(n, threads=2)
        self.now += self.cost[build] * n
        chooser.done()
        return build


def _run(clock: FakeClock, chooser: FlavourChooser, n: int, ticks: int) -> list[bool]:
    return [clock.tick(chooser, n) for _ in range(ticks)]


def test_the_faster_build_is_kept_and_the_slower_tried_less_and_less_often():
    clock = FakeClock({False: 3e-7, True: 2e-7})  # parallel faster
    ch = FlavourChooser(min_agents=4000, explore_every=16, probe=3, max_every=128, clock=clock)
    builds = _run(clock, ch, 10_000, 2000)
    assert builds[:RECENT] == [False] * RECENT  # a new band first times the serial build
    assert ch.summary() == {8192: "parallel"}
    assert ch.parallel_ticks == sum(builds)
    tail = builds[1000:]
    assert sum(not b for b in tail) <= 3 * (len(tail) // 128 + 1)  # probes back off to max_every
    # the machine gets busy: threads now lose; the next probe of serial finds it and switches
    clock.cost = {False: 3e-7, True: 9e-7}
    builds = _run(clock, ch, 10_000, 400)
    assert ch.summary() == {8192: "serial"}
    assert builds[-100:].count(True) <= 3  # at most one probe of 3 ticks


def test_serial_is_kept_when_threads_lose():
    clock = FakeClock({False: 3e-7, True: 9e-7})
    ch = FlavourChooser(min_agents=4000, explore_every=16, probe=3, max_every=256, clock=clock)
    builds = _run(clock, ch, 10_000, 3000)
    assert ch.summary() == {8192: "serial"}
    # waits of 32, 64, 128, then 256: about one probe (3 ticks) per max_every ticks
    assert sum(builds) <= 3 * (4 + 3000 // 256)


def test_the_first_tick_of_a_probe_is_not_counted():
    """A probe's first tick (threads waking, or the parallel build compiling) does not decide it."""
    clock = FakeClock({False: 3e-7, True: 2e-7})
    ch = FlavourChooser(min_agents=1, explore_every=16, probe=3, clock=clock)
    _run(clock, ch, 1000, RECENT)
    assert ch.choose(1000, threads=2)  # the probe starts
    clock.now += 1.0  # a compile: 1 s
    ch.done()
    _run(clock, ch, 1000, 2)
    assert ch.summary() == {512: "parallel"}


def test_one_thread_or_few_agents_run_serial_untimed():
    clock = FakeClock({False: 3e-7, True: 1e-9})
    ch = FlavourChooser(min_agents=4000, clock=clock)
    assert not any(ch.choose(100_000, threads=1) or ch.done() for _ in range(200))
    assert not any(ch.choose(3999, threads=2) or ch.done() for _ in range(200))
    assert ch.bands == {}


def test_bands_choose_on_their_own():
    clock = FakeClock({False: 3e-7, True: 2e-7})
    ch = FlavourChooser(min_agents=1000, explore_every=16, probe=3, clock=clock)
    _run(clock, ch, 5000, 200)
    clock.cost = {False: 3e-7, True: 9e-7}
    _run(clock, ch, 50_000, 200)
    assert ch.summary() == {4096: "parallel", 32768: "serial"}


def test_a_probe_that_leaves_its_band_is_void():
    clock = FakeClock({False: 3e-7, True: 2e-7})
    ch = FlavourChooser(min_agents=1000, explore_every=16, probe=3, clock=clock)
    _run(clock, ch, 5000, RECENT)
    assert ch.choose(5000, threads=2)  # probing the parallel build
    ch.done()
    assert not ch.choose(50_000, threads=2)  # another band: its own serial start
    ch.done()
    assert ch.summary() == {4096: "serial", 32768: "serial"}


def test_an_uncompiled_parallel_build_waits_until_the_run_can_repay_it():
    """Not cached: tried only after compile_after seconds of ticks (a short run never compiles it)."""
    clock = FakeClock({False: 3e-7, True: 2e-7})
    cached = [False]
    ch = FlavourChooser(
        min_agents=1000, explore_every=16, probe=3, clock=clock,
        compiled=lambda: cached[0], compile_after=1.0,
    )  # fmt: skip
    builds = _run(clock, ch, 10_000, 300)  # 3 ms a tick: 0.9 s
    assert not any(builds)
    builds = _run(clock, ch, 10_000, 100)  # past 1 s: tried, and kept
    assert any(builds) and ch.summary() == {8192: "parallel"}
    cached[0] = True  # cached: tried from the first probe
    ch2 = FlavourChooser(
        min_agents=1000, explore_every=16, probe=3, clock=clock, compiled=lambda: cached[0]
    )
    assert any(_run(clock, ch2, 10_000, RECENT + 3))


def test_a_compile_inside_a_tick_is_not_its_time():
    """A kernel first called mid-run compiles inside a tick: neither the cost nor the run's time."""
    clock = FakeClock({False: 3e-7, True: 2e-7})
    compiled_s = [0.0]
    ch = FlavourChooser(
        min_agents=1000, clock=clock, compiled=lambda: False, compile_after=1.0,
        paused=lambda: compiled_s[0],
    )  # fmt: skip
    ch.choose(10_000, threads=2)
    clock.now += 30.0  # a 30 s compile of the serial build
    compiled_s[0] += 30.0
    ch.done()
    assert ch.timed_s == 0.0  # the run has not earned the parallel compile with it
    assert not any(_run(clock, ch, 10_000, 200))


def test_a_probe_needs_a_counted_tick():
    with pytest.raises(ValueError, match="at least 2"):
        FlavourChooser(min_agents=1, probe=1)


def _state_hash(sim: Simulation) -> str:
    arrays, scalars = sim.state()
    h = hashlib.sha256(repr(sorted((k, v) for k, v in scalars.items())).encode())
    for k in sorted(arrays):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrays[k]).tobytes())
    return h.hexdigest()


class _Alternating:
    """A chooser that switches build by a fixed random pattern (what timing might do)."""

    def __init__(self, pattern: np.ndarray):
        self.pattern = pattern
        self.t = 0

    def choose(self, n: int, threads: int) -> bool:
        self.t += 1
        return bool(self.pattern[self.t % len(self.pattern)])

    def done(self) -> None:
        pass


def test_a_run_that_switches_builds_tick_by_tick_is_byte_identical(monkeypatch):
    """Whatever the timing picks, tick by tick, the state is the serial run's."""
    world = load_world(overrides={"world.width": 48, "world.height": 48})
    serial = Simulation(world, seed=3)
    serial.advance(60)
    monkeypatch.setattr(conf._Threads, "count", 2)
    mixed = Simulation(world, seed=3)
    mixed.flavours = _Alternating(np.random.default_rng(0).integers(0, 2, 37))  # type: ignore[assignment]
    seen = []
    mixed.advance(60, on_tick=lambda s: seen.append(conf.parallel_now()))
    assert any(seen) and not all(seen)
    assert _state_hash(mixed) == _state_hash(serial)


def test_a_probe_far_slower_than_the_incumbent_ends_at_its_first_counted_tick():
    clock = FakeClock({False: 3e-7, True: 3e-6})  # threads 10x slower: a busy machine
    ch = FlavourChooser(min_agents=4000, explore_every=16, probe=5, max_every=64, clock=clock)
    builds = _run(clock, ch, 10_000, RECENT + 2 + 30)  # (the next probe: 32 ticks on)
    assert builds[RECENT : RECENT + 2] == [True, True]  # warm-up, one counted tick: lost
    assert builds[RECENT + 2 :] == [False] * 30 and ch.summary() == {8192: "serial"}
    # a probe only somewhat slower (under abort x) runs its whole length
    clock = FakeClock({False: 3e-7, True: 5e-7})
    ch = FlavourChooser(min_agents=4000, explore_every=16, probe=5, max_every=64, clock=clock)
    builds = _run(clock, ch, 10_000, RECENT + 5 + 10)
    assert builds[RECENT : RECENT + 5] == [True] * 5 and not any(builds[RECENT + 5 :])


def test_an_incumbent_far_slower_than_the_other_build_hands_over_at_once():
    clock = FakeClock({False: 3e-7, True: 2e-7})  # idle: threads win
    ch = FlavourChooser(min_agents=4000, explore_every=16, probe=3, max_every=1024, clock=clock)
    _run(clock, ch, 10_000, 300)
    assert ch.summary() == {8192: "parallel"}
    for _ in range(SLOW_RUN - 1):  # a few slow ticks (noise) hand nothing over
        clock.cost = {False: 3e-7, True: 3e-6}
        _run(clock, ch, 10_000, SLOW_RUN - 1)
        clock.cost = {False: 3e-7, True: 2e-7}
        assert _run(clock, ch, 10_000, 1) == [True]
    clock.cost = {False: 3e-7, True: 3e-6}  # the machine gets busy: threads 10x slower
    builds = _run(clock, ch, 10_000, 50)
    assert builds[:SLOW_RUN] == [True] * SLOW_RUN and not any(builds[SLOW_RUN:])  # no wait
    assert ch.summary() == {8192: "serial"}
