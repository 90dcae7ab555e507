"""The layers hold at run time: cheap entry points stay cheap (the import contracts are `lint-imports`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numba", "pygame", "evosim.engine.sim")


def loaded(statement: str) -> set[str]:
    """Which of :data:`HEAVY` (and pandas) a fresh interpreter has loaded after ``statement``."""
    code = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split()) & {*HEAVY, "pandas"}


@pytest.mark.parametrize(
    "statement",
    ["import evosim.io.logs", "from evosim import load_run", "from evosim.io.logs import load_run"],
)
def test_reading_a_run_folder_loads_neither_numba_nor_pygame(statement):
    assert loaded(statement) == {"pandas"}


def test_import_evosim_loads_nothing_heavy():
    assert loaded("import evosim") == set()


def test_the_public_names_resolve():
    assert loaded("from evosim import load_world, Simulation, run, load_run") >= {
        "numba",
        "evosim.engine.sim",
    }
