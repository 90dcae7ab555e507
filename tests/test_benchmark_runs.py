"""The earthlike pairs' report (benchmarks/bench_runs.py): the ticks each 2-thread run spent on
threads, read from its run folder, are shown beside the ratio."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_runs  # noqa: E402


def test_parallel_ticks_are_read_from_the_summary(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"timing": {"parallel_ticks": 8479}}))
    assert bench_runs._parallel_ticks(tmp_path) == 8479
    (tmp_path / "summary.json").write_text(json.dumps({"timing": {"threads": 2}}))
    assert bench_runs._parallel_ticks(tmp_path) is None  # an older tree's summary


def test_the_thread_row_names_the_ticks_on_threads_of_each_run():
    threads = {"ticks": 10_000, "pairs": 3, "a_wall": 27.1, "b_wall": 19.3, "wall_ratio": 0.71,
               "parallel_ticks": [9890, 8479, None]}  # fmt: skip
    row = bench_runs.pairs_markdown({}, threads)
    assert "**1.41x** (median of 3 pairs" in row
    assert "9,890, 8,479, ? of 10,000" in row
