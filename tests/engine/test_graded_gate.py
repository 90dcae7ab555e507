"""Graded ladder gates in whole runs: width 0 is the step gate byte for byte; a width lifts levels."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from evosim.config.load import load_world
from evosim.engine.kernels import ladder as k_ladder
from evosim.engine.sim import Simulation
from evosim.io.runner import run
from tests.golden.regenerate import GOLDEN, SEED, TICKS, WORLD
from tests.helpers import TINY


def test_width_zero_gives_the_golden_run_byte_for_byte():
    """Every rung of the golden world given explicit widths 0: the committed golden time series."""
    base = load_world(WORLD)
    ladder = [
        {**m.model_dump(mode="json"), "dexterity_width": 0.0, "land_width": 0.0, "land_radius": 3}
        for m in base.technology.ladder
    ]
    world = load_world(WORLD, {"technology.ladder": ladder})
    assert world.technology.ladder[0].land_radius == 3
    with tempfile.TemporaryDirectory() as tmp:
        run(world, Path(tmp) / "r", ticks=TICKS, seed=SEED)
        assert (Path(tmp) / "r" / "timeseries.csv").read_bytes() == GOLDEN.read_bytes()


def _clumsy(width: float, land_width: float = 0.0, skill: float = 6.0) -> Simulation:
    """The tiny world whose grazers' dexterity (0.2) is below stone tools' 0.3, every agent skilled."""
    ladder = [m.model_dump(mode="json") for m in load_world(WORLD).technology.ladder]
    ladder[0]["dexterity_width"] = width  # stone_tools: min_dexterity 0.3
    ladder[1]["land_width"] = land_width  # fire: needs_land
    over = {**TINY, "technology.ladder": ladder,
            "species.grazer.genes.dexterity": {"mean": 0.2, "sd": 0.0, "max": 0.2, "mutation": 0.0},
            "species.swimmer.genes.dexterity": {"mean": 0.9, "sd": 0.0, "min": 0.9, "mutation": 0.0}}  # fmt: skip
    sim = Simulation(load_world(None, over), seed=3)
    # past stone tools (2.0) and fire (5.0): only the gates decide
    sim.pop.skill[: sim.pop.n] = skill
    return sim


def test_a_graded_dexterity_gate_lets_clumsy_skilled_agents_hold_the_rung():
    grazer = 0  # species id of the first founder
    levels = {}
    for width in (0.0, 0.05, 0.2):
        sim = _clumsy(width)
        mine = sim.pop.species[: sim.pop.n] == grazer
        levels[width] = sim.milestone_levels()[mine]
    assert (levels[0.0] == 0).all()  # the step: no rung below min_dexterity, whatever the skill
    # gap 0.1: efficacy 2/(1+e^2) = 0.24 at width 0.05 (needs skill 8.4 > 6: still held below),
    # 2/(1+e^0.5) = 0.75 at width 0.2 (needs 2.7 <= 6: held)
    assert (levels[0.05] == 0).all()
    assert (levels[0.2] >= 1).all()


def test_a_graded_land_gate_lets_skilled_swimmers_hold_fire_near_the_shore():
    """Skill 7.9, fire at 5: a swimmer off land holds fire where 7.9 * efficacy(land share) >= 5."""
    swimmer = 1
    held = {}
    for width in (0.0, 1.0):
        sim = _clumsy(0.0, land_width=width, skill=7.9)
        p = sim.pop
        wet = (p.species[: p.n] == swimmer) & (sim.grids.habitat[p.y[: p.n], p.x[: p.n]] == 0)
        held[width] = sim.milestone_levels()[wet]
        share = np.array([k_ladder.land_share(sim.grids.habitat, int(x), int(y), 1)
                          for x, y in zip(p.x[: p.n][wet], p.y[: p.n][wet])])  # fmt: skip
    assert held[0.0].max() == 1  # stone tools only: fire needs land
    want = np.where(7.9 * 2.0 / (1.0 + np.exp((1.0 - share) / 1.0)) >= 5.0, 2, 1)
    assert held[1.0].tolist() == want.tolist()
    assert 0 < (want == 2).sum() < len(want)  # some swimmers near the shore, some in open water


def test_a_graded_gate_changes_a_run_in_the_expected_direction():
    """Over 60 ticks the clumsy grazers hold stone tools (hard food) only with a graded gate."""
    out = {}
    for width in (0.0, 0.2):
        sim = _clumsy(width)
        held = 0
        for _ in range(60):
            sim.step()
            mine = sim.pop.species[: sim.pop.n] == 0
            held += int((sim.milestone_levels()[mine] >= 1).sum())
        out[width] = held
    assert out[0.0] == 0 < out[0.2]
    assert np.isfinite(out[0.2])
