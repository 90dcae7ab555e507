"""Shared fixtures of the engine test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

from evosim import load_world
from evosim.cli.main import main
from tests.helpers import TINY, set_args

# Property tests: no deadline (the first call of a kernel may compile), no
# example database written into the repository.
settings.register_profile(
    "evosim",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("evosim")


@pytest.fixture
def tiny_world():
    """The tiny world (tests/worlds/tiny.yaml): 32x32, 60 grazers and 60 swimmers."""
    return load_world(overrides=TINY)


@pytest.fixture
def tiny_sets() -> list[str]:
    """The tiny world as ``--set`` options for the CLI."""
    return set_args(TINY)


class Cli:
    """Runs ``evosim ...`` in-process with click's CliRunner, in a temporary working folder."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        old = os.getcwd()
        os.chdir(self.cwd)
        try:
            return self.runner.invoke(
                main, [str(a) for a in args], input=input, catch_exceptions=True
            )
        finally:
            os.chdir(old)


@pytest.fixture
def cli(tmp_path) -> Cli:
    """``cli("run", "--ticks", 5, ...)`` -> click Result; runs in ``tmp_path``."""
    return Cli(tmp_path)


@pytest.fixture
def world_file(tmp_path):
    """``world_file(text, name="world.yaml")`` writes a world file into tmp_path and returns its path."""

    def write(text: str | bytes, name: str = "world.yaml") -> Path:
        p = tmp_path / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
        return p

    return write


@pytest.fixture(scope="session")
def four_founders_run(tmp_path_factory) -> Path:
    """A finished 300-tick run of a 48x48 cut of the earthlike world: four founders, ~70 species.

    A low speciation threshold makes species split and die (0.2: with the
    group-level culture model of issue 15 and adult founders, 0.25 gave only
    6 species); a low brain threshold makes some species intelligent, so plots
    have detections to mark.
    """
    from evosim.io.runner import run

    out = tmp_path_factory.mktemp("runs") / "four"
    world = load_world(
        Path(__file__).resolve().parents[1] / "worlds" / "earthlike.yaml",
        overrides={
            "world.width": 48, "world.height": 48, "speciation.threshold": 0.2,
            **{f"species.{n}.count": 100 for n in ("primate", "cetacean", "corvid", "cephalopod")},
            "detectors.brain_threshold": 0.42, "detectors.intelligence_window": 20,
            "detectors.min_population": 20, "output.sample_every": 5,
        },
    )  # fmt: skip
    run(world, out, ticks=300, seed=1)
    return out
