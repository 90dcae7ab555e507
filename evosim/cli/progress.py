"""The progress bar of ``evosim run``: "compiling…" first, then the rate and ETA of compiled ticks.

The first tick of a process compiles (or loads) the numba kernels, which can
take far longer than the ticks after it; a rate averaged from the start
predicted hours for a 48 s run. :class:`TickRate` measures the rate and the
time left only from the ticks after the first one, and says "compiling the
kernels…" (or "starting…" when they are cached) until that tick is done. A
compile later in the run (the parallel build, when threads are first tried)
is left out of the rate too (``paused``).

The bar is drawn only when standard error is a terminal: elsewhere it
would be a stray line before the result. Each redraw fits the terminal's
width (:func:`fit`, measured again at every redraw): a line that wrapped
would leave a stray line per redraw, as ``\r`` returns only to the start of
the last screen line.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

#: Widest and narrowest bar (between its brackets), in columns: the bar shrinks to fit the terminal
#: first, then the least important fields go (:func:`fit`).
BAR_WIDTH, MIN_BAR_WIDTH = 36, 10
#: Between the label, the bar and each field.
SEP = "  "
#: Columns assumed when neither COLUMNS nor the terminal says.
DEFAULT_COLUMNS = 80


def hms(seconds: float) -> str:
    """``75`` -> ``"1:15"``, ``3700`` -> ``"1:01:40"``."""
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TickRate:
    """Rate and time left of a run, counted from its first completed tick.

    Args:
        ticks: the tick the run ends at.
        compiling: the kernels are not cached (the first tick compiles them).
        clock: seconds, monotonic (a parameter for tests).
        paused: seconds the run has spent compiling so far (left out of the rate).
    """

    def __init__(
        self,
        ticks: int,
        compiling: bool,
        clock: Callable[[], float] = time.perf_counter,
        paused: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.ticks = ticks
        self.compiling = compiling
        self.clock = clock
        self.paused = paused
        # (tick, clock - paused) when the first tick ended
        self.first: tuple[int, float] | None = None
        self.tick = 0
        self.population = 0

    def update(self, tick: int, population: int) -> None:
        """The run has finished ``tick`` with ``population`` agents."""
        if self.first is None:
            self.first = (tick, self.clock() - self.paused())
        self.tick, self.population = tick, population

    def rate(self) -> float | None:
        """Ticks per second since the first tick, compiling left out (None until a second tick is done)."""
        if self.first is None:
            return None
        done, dt = self.tick - self.first[0], self.clock() - self.paused() - self.first[1]
        return done / dt if done > 0 and dt > 0 else None

    def variants(self) -> list[str]:
        """What the bar shows after its counter, from the fullest to the shortest ("": nothing).

        Each drops the least important field of the one before: the population, then the
        rate; the time left goes last.
        """
        if self.first is None:
            if self.compiling:
                return ["compiling the kernels (first run only)…", "compiling…", ""]
            return ["starting…", ""]
        rate = self.rate()
        if rate is None:
            return [f"population {self.population:,}", ""]
        speed, eta = f"{rate:,.0f} ticks/s", f"ETA {hms((self.ticks - self.tick) / rate)}"
        full = SEP.join((speed, eta, f"population {self.population:,}"))
        return [full, SEP.join((speed, eta)), eta, ""]

    def text(self) -> str:
        """What the bar shows after its counter, at full width."""
        return self.variants()[0]


def fit(label: str, pos: str, variants: list[str], done: float, columns: int) -> str:
    """The bar's line, at most ``columns - 1`` characters (the last column is left free).

    ``label  [####----]  pos  info``: with the fullest ``info`` of ``variants`` (see
    :meth:`TickRate.variants`) for which the bar keeps at least :data:`MIN_BAR_WIDTH`
    columns, the bar as wide as fits up to :data:`BAR_WIDTH`; if no variant leaves room for
    a bar, no bar and the fullest variant that fits; at worst the label and counter, cut
    with "…".

    Args:
        label: what the bar is of (``earthlike seed 0``).
        pos: the counter (``500/3000``).
        variants: what may follow the counter, fullest first.
        done: the fraction done, 0 to 1.
        columns: the terminal's width.
    """
    room = max(1, columns - 1)
    for info in variants:
        tail = SEP.join(x for x in (pos, info) if x)
        width = min(BAR_WIDTH, room - len(label) - len(tail) - 2 * len(SEP) - 2)
        if width >= MIN_BAR_WIDTH:
            filled = int(min(1.0, max(0.0, done)) * width)
            return f"{label}{SEP}[{'#' * filled}{'-' * (width - filled)}]{SEP}{tail}"
    for info in variants:
        line = SEP.join(x for x in (label, pos, info) if x)
        if len(line) <= room:
            return line
    line = f"{label}{SEP}{pos}"
    return line if len(line) <= room else line[: room - 1] + "…"


def columns(stream: TextIO) -> int:
    """The width of the terminal ``stream`` writes to: ``COLUMNS`` if set (as
    :func:`shutil.get_terminal_size` has it), else the terminal's own, else 80."""
    try:
        n = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        n = 0
    if n <= 0:
        try:
            n = os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            n = 0
    return n if n > 0 else DEFAULT_COLUMNS


class Bar:
    """A one-line progress bar on a terminal, redrawn in place and fitted to its width (:func:`fit`).

    Args:
        label: what the bar is of.
        length: the count at which it is full.
        info: what follows the counter, fullest first (:meth:`TickRate.variants`).
        file: the terminal.
        clock: seconds, monotonic (a parameter for tests).
        every: seconds between redraws (the first and the full bar are always drawn).
    """

    def __init__(
        self,
        label: str,
        length: int,
        info: Callable[[], list[str]],
        file: TextIO,
        clock: Callable[[], float] = time.monotonic,
        every: float = 0.1,
    ) -> None:
        self.label, self.length, self.info, self.file = label, length, info, file
        self.clock, self.every = clock, every
        self.pos = 0
        self.drawn = 0  # length of the line on screen
        self.last: float | None = None
        self.pending = False  # an update not drawn yet

    def update(self, pos: int) -> None:
        """The count is now ``pos``: redraw, unless the last redraw was under ``every`` ago."""
        self.pos = pos
        now = self.clock()
        if self.last is None or now - self.last >= self.every or pos >= self.length:
            self.draw()
            self.last = now
        else:
            self.pending = True

    def draw(self) -> None:
        """Draw the line in place of the last one (blanking what it leaves of it)."""
        done = self.pos / self.length if self.length > 0 else 1.0
        cols = columns(self.file)
        line = fit(self.label, f"{self.pos}/{self.length}", self.info(), done, cols)
        blank = max(0, min(self.drawn, cols - 1) - len(line))
        self.file.write("\r" + line + " " * blank)
        self.file.flush()
        self.drawn, self.pending = len(line), False

    def close(self) -> None:
        """Draw the last update if it was not drawn, and end the line (the cursor goes to the next one)."""
        if self.pending:
            self.draw()
        self.file.write("\n")
        self.file.flush()


def at_terminal() -> bool:
    """True if standard error is a terminal (where a progress bar is drawn)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def with_bar(job: Callable[[Any], Any], label: str, ticks: int, compiling: bool) -> Any:
    """Run ``job(progress)`` under a progress bar of ``ticks`` ticks (see :class:`TickRate`)."""
    from evosim.engine import runtime  # (here: importing it loads numba)

    rate = TickRate(ticks, compiling, paused=runtime.first_calls_seconds)
    bar = Bar(label, ticks, rate.variants, sys.stderr)
    last: dict[str, int | None] = {"tick": None}

    def progress(sim: Any) -> None:
        first = last["tick"] is None
        if first or sim.tick - last["tick"] >= 10 or sim.tick >= ticks or sim.extinct:
            rate.update(sim.tick, sim.pop.n)
            bar.update(sim.tick)
            last["tick"] = sim.tick

    bar.draw()
    try:
        return job(progress)
    finally:
        bar.close()
