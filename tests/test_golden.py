"""Golden-run regression: the tiny world's time series must not change unless the model does."""

from __future__ import annotations

import difflib

from tests.golden.regenerate import GOLDEN, SEED, TICKS, golden_timeseries

HOW = (
    "If the model changed on purpose, regenerate the golden file with "
    "`python tests/golden/regenerate.py`, check the diff and commit it."
)


def test_golden_run_is_unchanged():
    assert GOLDEN.exists(), f"{GOLDEN} is missing. {HOW}"
    want = GOLDEN.read_bytes()
    got = golden_timeseries()
    if got != want:
        a = want.decode("utf-8").splitlines()
        b = got.decode("utf-8").splitlines()
        diff = list(difflib.unified_diff(a, b, "committed", "this run", n=0, lineterm=""))[:12]
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        raise AssertionError(
            f"The golden run (32x32, {TICKS} ticks, seed {SEED}) no longer matches "
            f"tests/golden/tiny_timeseries.csv: first difference at line {first + 1} "
            f"({len(a)} committed lines, {len(b)} now). {HOW}\n" + "\n".join(diff)
        )
