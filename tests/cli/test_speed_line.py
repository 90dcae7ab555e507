"""The end-of-run speed line: the agent-steps of this process, in its time (QA: after --resume it
gave the steps since tick 0 in the time of the resumed part only)."""

from __future__ import annotations

import re

from evosim.cli.main import _speed
from tests.helpers import read_summary


def summary(steps: int, wall: float, rate: float | None, here: int | None = None) -> dict:
    timing = {"wall_time_s": wall, "agent_steps_per_s": rate}
    return {
        "agent_steps": steps,
        "timing": timing | ({} if here is None else {"agent_steps": here}),
    }


def test_a_run_from_tick_0_gives_its_count():
    line = _speed(summary(7_650_926, 3.391, 2_256_244.8, 7_650_926))
    assert line == "7,650,926 agent-steps in 3.4 s (2.26 M/s)"
    assert _speed(summary(2_400, 0.0, None, 2_400)) == "2,400 agent-steps in 0.0 s"
    # a folder from before timing.agent_steps: the run's count, as the line always gave it
    assert _speed(summary(2_400, 0.229, 10_479.5)) == "2,400 agent-steps in 0.2 s (0.01 M/s)"


def test_a_resumed_run_gives_the_count_of_this_process_then_the_total():
    # the QA case: ticks 700-1500 in 3.0 s at 3.79 M/s, 21,941,730 steps since tick 0
    line = _speed(summary(21_941_730, 3.0, 3_790_000.0, 11_370_000))
    assert line == "11,370,000 agent-steps in 3.0 s (3.79 M/s), of 21,941,730 since tick 0"


def test_resume_at_the_command_line(cli, tiny_sets, tmp_path):
    out = tmp_path / "r"
    r = cli("run", "--out", out, "--ticks", 20, "--checkpoint-every", 10, "-q", *tiny_sets)
    assert r.exit_code == 0, r.output
    before = read_summary(out)["agent_steps"]
    assert f"; {before:,} agent-steps in " in r.stdout and "since tick 0" not in r.stdout
    r = cli("run", "--resume", out, "--ticks", 60, "-q")
    assert r.exit_code == 0, r.output
    s = read_summary(out)
    total, wall = s["agent_steps"], s["timing"]["wall_time_s"]
    m = re.search(
        r"; ([\d,]+) agent-steps in [\d.]+ s \([\d.]+ M/s\), of ([\d,]+) since tick 0", r.stdout
    )
    assert m, r.stdout
    assert int(m[1].replace(",", "")) == total - before == s["timing"]["agent_steps"]
    assert int(m[2].replace(",", "")) == total
    assert wall > 0
