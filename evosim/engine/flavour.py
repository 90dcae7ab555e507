"""Which build of the kernels a tick runs: the serial or the parallel one, whichever measures faster.

Threads pay only on free cores. On an idle 2-core machine the earthlike world's ticks run
about 1.3x faster on 2 threads (with a bounded spin of the waiting threads,
:mod:`evosim.engine.kernels.conf`); on the same machine busy with two other processes the
same ticks run 3-4x *slower* than on one thread (docs/benchmarks.md, "Threads that measure
themselves"). No fixed population threshold is right for both, and a run does not know which
machine it is on. The outputs are byte-identical whichever build a tick runs
(``tests/test_determinism.py``), so the choice may follow measured time without touching
the result: :class:`FlavourChooser` times every tick and lets each population band (a power
of two of agents) keep the faster build, trying the other one now and then.

How it tries: a *probe* runs the other build for :attr:`FlavourChooser.probe` ticks; the
first of them is not counted (it wakes the sleeping threads, or compiles the parallel
build on its first use); the median time per agent-step of the rest is compared with the
median of the band's last ticks on the incumbent. The faster one becomes the incumbent. A
counted probe tick more than :attr:`FlavourChooser.abort` times the incumbent's median ends
the probe at once, lost; :data:`SLOW_RUN` ticks in a row of the incumbent more than that
times the other build's median hand the band to the other build at once. A probe that
loses doubles the wait before the band's next probe (up to :attr:`FlavourChooser.max_every`
ticks), so on a busy machine probing costs little of a run; a probe that wins resets it.

Compiling the parallel build costs ~40 s once per install, which a short run cannot win back
(threads save ~20 % of a tick on 2 idle cores: a run must last ~3 minutes to repay it). So
while that build is not in the disk cache (``compiled``) it is first tried only after the
run's ticks have taken :attr:`FlavourChooser.compile_after` seconds; the README's first run
(~15 s of ticks) never compiles it.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter

#: Ticks of a build remembered per band (the incumbent's median is over these); a new band runs
#: the serial build this many ticks before its first probe.
RECENT = 8
#: Ticks in a row of the incumbent far slower than the other build (see ``abort``) that hand a
#: band over to the other build before its next probe (one slow tick is often only noise).
SLOW_RUN = 3


@dataclass
class _Band:
    """What one population band has measured: recent costs per agent-step of each build."""

    incumbent: bool = False  # the build this band runs (True: parallel)
    recent: dict[bool, deque[float]] = field(
        default_factory=lambda: {False: deque(maxlen=RECENT), True: deque(maxlen=RECENT)}
    )
    wait: int = 0  # ticks on the incumbent until the next probe
    every: int = 0  # the current wait between probes
    slow: int = 0  # the incumbent's last ticks in a row far slower than the other build


class FlavourChooser:
    """Per population band, the build (serial or parallel) that has measured faster.

    Args:
        min_agents: below this many agents a tick is serial (too little work to share).
        explore_every: ticks on the incumbent before a band's first probe of the other build.
        probe: ticks of a probe (the first is a warm-up, not counted).
        max_every: the longest wait between two probes of a band.
        clock: seconds, monotonic (tests pass a fake one).
        compiled: whether the parallel build is cached (trying it compiles nothing).
        compile_after: while it is not, seconds of timed ticks before it is first tried.
        paused: seconds spent compiling so far (left out of every tick's time: a kernel first
            called mid-run compiles inside a tick, which says nothing of either build's speed).
        abort: a counted probe tick costing more than this many times the incumbent's median
            ends the probe at once, lost (on a busy machine a tick on threads can cost 10x one
            on a single thread: the probe's remaining ticks would only repeat it).

    Use: ``parallel = chooser.choose(n, threads)`` before a tick of ``n`` agents on ``threads``
    threads, ``chooser.done()`` after it.
    """

    def __init__(
        self,
        min_agents: int,
        explore_every: int = 64,
        probe: int = 5,
        max_every: int = 4096,
        clock: Callable[[], float] = perf_counter,
        compiled: Callable[[], bool] = lambda: True,
        compile_after: float = 60.0,
        paused: Callable[[], float] = lambda: 0.0,
        abort: float = 2.0,
    ):
        if probe < 2:
            raise ValueError("a probe needs at least 2 ticks (the first is not counted)")
        self.min_agents = min_agents
        self.explore_every = explore_every
        self.probe = probe
        self.max_every = max_every
        self.clock = clock
        self.compiled = compiled
        self.compile_after = compile_after
        self.paused = paused
        self.abort = abort
        self._compiled = False  # known to be cached (asked until it is)
        self.timed_s = 0.0  # seconds of the ticks timed so far
        self.bands: dict[int, _Band] = {}
        self._probing: int | None = None  # the band being probed
        self._probe_done = 0  # ticks of the probe so far
        self._probe_costs: list[float] = []
        self._tick: tuple[_Band, bool, int, float] | None = None  # (band, build, agents, start)
        self._paused_at = 0.0
        #: ticks run on the parallel build so far (of this process)
        self.parallel_ticks = 0

    def choose(self, n: int, threads: int) -> bool:
        """The build for a tick of ``n`` agents on ``threads`` threads (True: parallel; with one
        thread, or below :attr:`min_agents`, serial and not timed); starts the tick's clock."""
        if threads <= 1 or n < self.min_agents:
            self._tick = None
            return False
        key = n.bit_length()
        band = self.bands.get(key)
        if band is None:
            band = self.bands[key] = _Band(wait=RECENT, every=self.explore_every)
        if self._probing is not None and self._probing != key:
            self._end_probe(None)  # the population left the band: the probe is void
        if self._probing is None and band.wait <= 0:
            if not band.incumbent and not self._may_compile():
                band.wait = self.explore_every  # ask again later
            else:
                self._probing, self._probe_done, self._probe_costs = key, 0, []
        build = (not band.incumbent) if self._probing == key else band.incumbent
        self.parallel_ticks += build
        self._paused_at = self.paused()
        self._tick = (band, build, n, self.clock())
        return build

    def _may_compile(self) -> bool:
        """Whether the parallel build may be tried now: cached, or the run is long enough to repay it."""
        if not self._compiled:
            self._compiled = self.compiled()
        return self._compiled or self.timed_s >= self.compile_after

    def done(self) -> None:
        """The tick chosen by the last :meth:`choose` has ended: record its time."""
        if self._tick is None:
            return
        band, build, n, start = self._tick
        self._tick = None
        seconds = self.clock() - start - (self.paused() - self._paused_at)
        self.timed_s += seconds
        cost = seconds / n
        if self._probing is not None and self.bands.get(self._probing) is band:
            self._probe_done += 1
            if self._probe_done > 1:  # the first tick of a probe wakes threads or compiles
                self._probe_costs.append(cost)
            mine = band.recent[band.incumbent]
            if self._probe_done >= self.probe or (
                self._probe_costs and mine and cost > self.abort * statistics.median(mine)
            ):
                self._end_probe(band)  # (a counted tick far slower than the incumbent: lost now)
            return
        band.recent[build].append(cost)
        band.wait -= 1
        other = band.recent[not build]
        slow = bool(other) and cost > self.abort * statistics.median(other)
        band.slow = band.slow + 1 if slow else 0
        if band.slow >= SLOW_RUN:
            # far slower than the other build measured, tick after tick: the machine changed (or
            # a probe won by luck); hand the band over now rather than at the next probe
            band.incumbent, band.slow = not build, 0
            self._back_off(band)

    def _end_probe(self, band: _Band | None) -> None:
        """Close the probe: the faster build becomes ``band``'s incumbent (None: the probe is void)."""
        self._probing = None
        if band is None:
            return
        other = not band.incumbent
        band.recent[other].clear()
        band.recent[other].extend(self._probe_costs)
        mine = band.recent[band.incumbent]
        if not mine or statistics.median(self._probe_costs) < statistics.median(mine):
            band.incumbent = other  # the probe won (or the incumbent has no time yet)
            band.every = band.wait = self.explore_every
        else:
            self._back_off(band)

    def _back_off(self, band: _Band) -> None:
        """The other build lost: double the wait before ``band``'s next probe of it (at most
        :attr:`max_every` ticks)."""
        band.every = band.wait = min(2 * band.every, self.max_every)

    def summary(self) -> dict[int, str]:
        """Per band (its lowest agent count), the build it runs now: ``"parallel"`` or ``"serial"``."""
        return {
            1 << (k - 1): ("parallel" if b.incumbent else "serial")
            for k, b in sorted(self.bands.items())
        }
