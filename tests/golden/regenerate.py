"""Rewrite the golden run ``tests/golden/tiny_timeseries.csv``.

Run this (from anywhere) after a change that alters the model *on purpose*,
look at the diff of the CSV, and commit it with the change::

    python tests/golden/regenerate.py

The golden run is the suite's tiny world (``tests/worlds/tiny.yaml``: 32x32,
60 grazers and 60 swimmers) run for 100 ticks with seed 7;
``tests/test_golden.py`` runs it again and compares the time series byte for
byte.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).resolve().with_name("tiny_timeseries.csv")
ROOT = Path(__file__).resolve().parents[2]  # the checkout this file belongs to: use its evosim
WORLD = ROOT / "tests" / "worlds" / "tiny.yaml"
TICKS = 100
SEED = 7


def golden_timeseries() -> bytes:
    """Run the golden world and return its timeseries.csv bytes."""
    from evosim import load_world
    from evosim.io.runner import run

    world = load_world(WORLD)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "golden"
        run(world, out, ticks=TICKS, seed=SEED)
        return (out / "timeseries.csv").read_bytes()


def main() -> int:
    sys.path.insert(0, str(ROOT))
    data = golden_timeseries()
    old = GOLDEN.read_bytes() if GOLDEN.exists() else None
    GOLDEN.write_bytes(data)
    state = "unchanged" if old == data else ("written" if old is None else "updated")
    rows = len(data.splitlines()) - 1
    print(f"{GOLDEN}: {state} ({rows} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
