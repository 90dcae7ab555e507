"""The progress bar of ``evosim experiment``, ``sweep`` and ``replay`` fits the terminal and says
the time left as ``evosim run``'s does; its costs read as a person says them."""

from __future__ import annotations

import io
import re

import pytest

from evosim.analysis.cost import core_amount, cost_text, duration
from evosim.cli.batch import RunsBar, at_most, command


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _lines(stream: io.StringIO) -> list[str]:
    return [x.rstrip() for x in re.split(r"[\r\n]", stream.getvalue()) if x.strip()]


@pytest.mark.parametrize("cols", [40, 80, 120])
def test_no_redraw_is_wider_than_the_terminal_less_one_column(monkeypatch, cols):
    monkeypatch.setenv("COLUMNS", str(cols))
    clock, out = Clock(), io.StringIO()
    bar = RunsBar("replicates", 4, lambda r: f"{r['arm']} rep-{r['replicate']} {r['action']}",
                  file=out, clock=clock)  # fmt: skip
    for k, arm in enumerate(["control", "sample-0003/a_long_arm_name_to_wrap_with", "x", "y"]):
        clock.t += 14
        bar.done({"arm": arm, "replicate": k, "action": "ran"})
    bar.close()
    drawn = [x for x in re.split(r"[\r\n]", out.getvalue()) if x]
    assert len(drawn) == 5 and all(len(x) <= cols - 1 for x in drawn), drawn


def test_the_time_left_counts_the_runs_made_here_and_no_estimate_is_in_the_label(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    clock, out = Clock(), io.StringIO()
    bar = RunsBar("replicates", 4, lambda r: f"{r['arm']} rep-{r['replicate']} {r['action']}",
                  file=out, clock=clock)  # fmt: skip
    bar.done({"arm": "control", "replicate": 0, "action": "skipped"})  # skipped: costs nothing
    assert (
        _lines(out)[-1]
        == "replicates  [#########---------------------------]  1/4  control rep-0 skipped"
    )
    clock.t = 10.0
    bar.done({"arm": "hands", "replicate": 0, "action": "ran"})  # 1 made in 10 s, 2 to go
    assert _lines(out)[-1].endswith("2/4  ETA 0:20  hands rep-0 ran")
    clock.t = 12.0
    bar.done(None)  # a failed run counts as done
    assert _lines(out)[-1].endswith("3/4  ETA 0:06  a run failed")
    clock.t = 75.0
    bar.done({"arm": "hands", "replicate": 1, "action": "resumed"})
    bar.close()
    assert _lines(out)[-1].endswith("4/4  took 1:15  hands rep-1 resumed")
    assert "about" not in out.getvalue() and "estimated" not in out.getvalue()
    assert out.getvalue().endswith("\n")


def test_durations_and_core_times_read_as_a_person_says_them():
    assert [duration(s) for s in (0.4, 59, 60, 150, 5399, 5400, 36_000, 100_000, 400_000)] == [
        "under a minute", "under a minute", "about 1 min", "about 2 min", "about 90 min",
        "about 1.5 h", "about 10 h", "about 28 h", "about 4.6 days",
    ]  # fmt: skip
    assert [core_amount(s) for s in (1, 59, 60, 150, 5400, 130_000, 4_000_000)] == [
        "under a core-minute", "under a core-minute", "1 core-minute", "2 core-minutes",
        "1.5 core-hours", "36 core-hours", "1,100 core-hours",
    ]  # fmt: skip
    assert cost_text(1.0, 2) == "under a core-minute: under a minute on 2 workers"
    assert cost_text(3.7, 1) == "under a core-minute: under a minute on 1 worker"
    assert cost_text(168 * 3600 / 94, 2) == "1.8 core-hours: about 54 min on 2 workers"
    assert at_most("3.6 core-hours: about 1.8 h on 2 workers").startswith("at most 3.6")
    assert at_most("under a core-minute: under a minute on 2 workers").startswith("under")


def test_the_continue_command_repeats_every_option_given():
    assert command("evosim", "experiment", "a b.yaml", ticks=None, workers=2, scheduler=None,
                   quiet=True) == ["evosim", "experiment", "a b.yaml", "--workers", "2", "--quiet"]  # fmt: skip
    assert command("evosim", "replay", "r.yaml", source="E", horizon=700, quiet=False) == [
        "evosim", "replay", "r.yaml", "--source", "E", "--horizon", "700",
    ]  # fmt: skip
