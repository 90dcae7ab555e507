"""The technology ladder: which milestones an agent holds (each gate), and the foraging-skill payoff."""

from __future__ import annotations

import numpy as np
import pytest

from evosim.config.schema import World
from evosim.defaults import G_DEXTERITY, HABITAT_DTYPE, LAND, WATER
from evosim.engine.kernels import ladder as k_ladder
from evosim.engine.params import ladder_from_world
from evosim.engine.state import Agents as AgentArrays
from evosim.engine.state import SpeciesArrays
from tests.helpers import Agents, named, params, world_arrays

#: tools (2, d_eff >= 0.3), fire (5, on land), cooking (8, no requirement of its own), metal (12, d_eff >= 0.5)
LADDER = [
    {"name": "tools", "threshold": 2.0, "min_dexterity": 0.3, "hard_food": True},
    {"name": "fire", "threshold": 5.0, "needs_land": True},
    {"name": "cooking", "threshold": 8.0, "energy_multiplier": 1.3},
    {"name": "metal", "threshold": 12.0, "min_dexterity": 0.5},
]


#: a grid for the calls that do not read it (no graded land gate): one land cell
LAND1 = np.array([[LAND]], HABITAT_DTYPE)


def lad(**graded):
    """The ladder; ``graded`` maps a rung name to its extra keys (e.g. a gate width)."""
    rungs = [{**m, **graded.get(m["name"], {})} for m in LADDER]
    return ladder_from_world(World.model_validate({"technology": {"ladder": rungs}}))


@pytest.mark.parametrize(
    ("z", "d_eff", "land_ok", "level", "why"),
    [
        (0.0, 1.0, True, 0, "no skill"),
        (1.99, 1.0, True, 0, "below the first threshold"),
        (2.0, 1.0, True, 1, "threshold reached (>=)"),
        (4.9, 1.0, True, 1, "below fire"),
        (7.0, 1.0, True, 2, "fire on land"),
        (7.0, 1.0, False, 1, "fire needs land: held below it"),
        (30.0, 1.0, False, 1, "no land: nothing above fire either, whatever the skill"),
        (
            30.0,
            0.29,
            True,
            0,
            "tools need d_eff 0.3: no milestone at all, though fire and cooking ask no hands",
        ),
        (30.0, 0.3, True, 3, "dexterity 0.3: tools, fire, cooking; metal needs 0.5"),
        (30.0, 0.5, True, 4, "the whole ladder"),
        (11.9, 0.5, True, 3, "below metal's threshold"),
    ],
)
def test_held_level_each_gate(z, d_eff, land_ok, level, why):
    assert k_ladder.held_level(z, d_eff, land_ok, lad(), LAND1, 0, 0) == level, why


def test_empty_ladder_holds_nothing():
    empty = ladder_from_world(World.model_validate({"technology": {"ladder": []}}))
    assert k_ladder.held_level(100.0, 1.0, True, empty, LAND1, 0, 0) == 0


def test_agent_level_reads_the_cell_the_manipulators_and_the_fire_substitute():
    """Where each agent stands now decides land; its species' grants lift dexterity and the land gate."""
    habitat = np.array([[LAND, WATER]], HABITAT_DTYPE)
    ag = Agents(6, genome=0.5, x=[0, 1, 1, 0, 0, 1], species=[0, 0, 1, 0, 2, 2])
    ag.skill[:6] = 30.0
    ag.genome[:6, G_DEXTERITY] = [0.9, 0.9, 0.9, 0.1, 0.1, 0.1]
    manipulators = np.array([0.0, 0.0, 0.6])  # species 2 is granted hands of 0.6
    fire_substitute = np.array([0, 1, 0], np.uint8)  # species 1 may hold fire off land
    sa = named(SpeciesArrays, {**world_arrays(), "manipulators": manipulators,
                               "fire_substitute": fire_substitute})  # fmt: skip
    a = named(AgentArrays, ag.kw())
    got = k_ladder.held_levels(a, habitat, sa, 6, lad())
    # on land: 4; in water: 1; in water with a fire substitute: 4; clumsy: 0; granted hands: 4 on land,
    # 1 in water
    assert got.tolist() == [4, 1, 4, 0, 4, 1]
    # the kernel's two loops (step gates only; a graded rung) agree with the per-agent rule
    for ladder in (lad(), lad(metal={"dexterity_width": 0.2}), lad(fire={"land_width": 0.3})):
        got = k_ladder.held_levels(a, habitat, sa, 6, ladder)
        assert got.tolist() == [k_ladder.agent_level(i, a, habitat, sa, ladder) for i in range(6)]


def test_effective_dexterity_is_the_larger_of_gene_and_grant():
    row = np.zeros(7, np.float32)
    row[G_DEXTERITY] = 0.25
    assert k_ladder.effective_dexterity(row, 0.0) == pytest.approx(0.25)
    assert k_ladder.effective_dexterity(row, 0.7) == 0.7
    assert k_ladder.effective_dexterity(row, 0.1) == pytest.approx(0.25)


def test_skill_payoff_hand_checked():
    p = params(skill_payoff=2.0, skill_payoff_half=8.0)
    assert k_ladder.skill_payoff(0.0, p) == 1.0
    assert k_ladder.skill_payoff(8.0, p) == pytest.approx(
        2.0
    )  # half of the extra 2 at the half-skill
    assert k_ladder.skill_payoff(24.0, p) == pytest.approx(1.0 + 2.0 * 24.0 / 32.0)
    assert k_ladder.skill_payoff(1e9, p) == pytest.approx(3.0)  # saturates at 1 + skill_payoff
    z = np.linspace(0.0, 50.0, 101)
    pay = np.array([k_ladder.skill_payoff(v, p) for v in z])
    assert (np.diff(pay) > 0).all() and (
        np.diff(pay, 2) < 0
    ).all()  # rising, with diminishing returns
    assert k_ladder.skill_payoff(20.0, params(skill_payoff=0.0, skill_payoff_half=8.0)) == 1.0


def test_a_zero_width_is_the_step_gate():
    """Width 0 (the default) on every rung gives the step gate's level for every input."""
    step, zero = lad(), lad(tools={"dexterity_width": 0.0}, fire={"land_width": 0.0})
    water = np.array([[WATER, LAND], [LAND, LAND]], HABITAT_DTYPE)
    for z in (0.0, 1.9, 2.0, 5.0, 7.0, 30.0, 1e6):
        for d in (0.0, 0.29, 0.3, 0.49, 0.5, 1.0):
            for ok in (True, False):
                a = k_ladder.held_level(z, d, ok, step, water, 0, 0)
                assert a == k_ladder.held_level(z, d, ok, zero, water, 0, 0)


def test_graded_dexterity_gate_holds_a_rung_at_reduced_efficacy():
    """Below min_dexterity by g, a rung needs skill threshold / (2 / (1 + exp(g / width)))."""
    g = lad(tools={"dexterity_width": 0.1})
    eff = 2.0 / (1.0 + np.exp((0.3 - 0.2) / 0.1))  # d_eff 0.2: gap 0.1, one width: about 0.54
    need = 2.0 / eff
    assert k_ladder.held_level(need * 0.999, 0.2, True, g, LAND1, 0, 0) == 0
    assert k_ladder.held_level(need * 1.001, 0.2, True, g, LAND1, 0, 0) == 1
    # at or above min_dexterity the gate is met: the plain threshold
    assert k_ladder.held_level(2.0, 0.3, True, g, LAND1, 0, 0) == 1
    # the step gate holds nothing below 0.3 whatever the skill
    assert k_ladder.held_level(1e6, 0.2, True, lad(), LAND1, 0, 0) == 0
    # efficacy falls with the gap: a clumsier agent needs more skill (monotone)
    needs = []
    for d in (0.29, 0.25, 0.2, 0.1, 0.0):
        z = 2.0
        while k_ladder.held_level(z, d, True, g, LAND1, 0, 0) == 0:
            z *= 1.01
        needs.append(z)
    assert needs == sorted(needs) and needs[0] < 2.2 and needs[-1] > 2.0 / (2 / (1 + np.exp(3)))


def test_graded_land_gate_reads_the_land_share_around_the_agent():
    """Off land, fire needs threshold / (2 / (1 + exp((1 - s) / width))), s = land share around."""
    g = lad(fire={"land_width": 0.2})
    # a water cell at (1, 1) with 6 land cells of 9 around it; one in open water at (4, 4)
    hab = np.full((6, 6), WATER, HABITAT_DTYPE)
    hab[0, 0:3] = LAND
    hab[2, 0:3] = LAND
    assert k_ladder.land_share(hab, 1, 1, 1) == pytest.approx(6 / 9)
    assert k_ladder.land_share(hab, 4, 4, 1) == 0.0
    shore = 5.0 / (2.0 / (1.0 + np.exp((1 - 6 / 9) / 0.2)))
    assert k_ladder.held_level(shore * 0.999, 1.0, False, g, hab, 1, 1) == 1
    # held: fire, then cooking and metal (no requirement of their own, and skill beyond them)
    assert k_ladder.held_level(shore * 1.001, 1.0, False, g, hab, 1, 1) == 4
    # open water: far more skill needed than on the shore; the step gate holds nothing above tools
    sea = 5.0 / (2.0 / (1.0 + np.exp(1.0 / 0.2)))
    assert k_ladder.held_level(sea * 0.999, 1.0, False, g, hab, 4, 4) == 1
    assert k_ladder.held_level(sea * 1.001, 1.0, False, g, hab, 4, 4) >= 2
    assert k_ladder.held_level(1e6, 1.0, False, lad(), hab, 1, 1) == 1
    # the share wraps around the grid: (0, 5) sees row 0 (land) below it
    assert k_ladder.land_share(hab, 0, 5, 1) == pytest.approx(2 / 9)


def test_graded_gates_count_agents_held_below_as_gated():
    """An agent with the threshold's skill but below threshold / efficacy is held below (level)."""
    g = lad(tools={"dexterity_width": 0.05})
    assert k_ladder.held_level(2.5, 0.2, True, g, LAND1, 0, 0) == 0
