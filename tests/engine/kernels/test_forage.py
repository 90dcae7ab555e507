"""Foraging: a cell's food shared among its agents by an order-blind rule; private payoffs; food sharing."""

from __future__ import annotations

import numpy as np
import pytest

from evosim.config.schema import World
from evosim.defaults import FOOD_DTYPE, G_DEXTERITY, HABITAT_DTYPE, LAND, WATER
from evosim.engine.kernels import forage as k_forage
from evosim.engine.kernels.ladder import held_level, skill_payoff
from evosim.engine.params import Ladder, ladder_from_world
from evosim.engine.state import SpeciesArrays
from tests.helpers import Agents, call, cell_groups, kargs, named, params, world_arrays


def eat(
    ag: Agents,
    food,
    habitat,
    p,
    *,
    hard=None,
    lad: Ladder | None = None,
    manipulators=None,
    fire_substitute=None,
):
    """One call of ``forage`` on ``ag`` (default ladder, no hard food, no grants); returns the levels it wrote."""
    h, w = food.shape
    g = cell_groups(ag.x, ag.y, w, h, ag.n)
    n_sp = int(ag.species[: ag.n].max()) + 1 if ag.n else 1
    grants = np.zeros(n_sp) if manipulators is None else np.asarray(manipulators, np.float64)
    fire = (
        np.zeros(n_sp, np.uint8)
        if fire_substitute is None
        else np.asarray(fire_substitute, np.uint8)
    )
    cap = max(ag.n, 1)
    level = np.full(cap, 99, np.uint8)  # junk: forage must write every agent's level
    call(
        k_forage.forage,
        **ag.kw(),
        **g,
        food=food,
        hard=np.zeros(food.shape, FOOD_DTYPE) if hard is None else hard,
        habitat=habitat,
        farmed=np.zeros(food.shape, FOOD_DTYPE),
        sa=named(
            SpeciesArrays, {**world_arrays(), "manipulators": grants, "fire_substitute": fire}
        ),
        lad=ladder_from_world(World()) if lad is None else lad,
        p=p,
        want=np.full(cap, np.nan),
        gain=np.full(cap, np.nan),
        level=level,
    )
    return level


def cell(value, land=True, shape=(1, 1)):
    food = np.full(shape, value, FOOD_DTYPE)
    hab = np.full(shape, LAND if land else WATER, HABITAT_DTYPE)
    return food, hab


def test_plenty_each_agent_eats_its_intake():
    p = params(intake=2.0, food_energy=1.5, max_energy=100.0)
    ag = Agents(1, energy=10.0, genome=1.0)
    food, hab = cell(10.0)
    eat(ag, food, hab, p)
    assert food[0, 0] == pytest.approx(8.0)
    assert ag.energy[0] == pytest.approx(10.0 + 2.0 * 1.5)


def _pair(order):
    """Agents A (terrestrial, demand 2) and B (h = 0.5: efficiency 0.5, demand 1) in the given row order."""
    p = params(intake=2.0, food_energy=1.0, max_energy=100.0, habitat_mismatch=1.0)
    ag = Agents(2, energy=0.0, genome=0.5)
    h = {"A": 1.0, "B": 0.5}
    ag.set_gene("habitat", [h[k] for k in order])
    food, hab = cell(1.0)
    eat(ag, food, hab, p)
    return {k: float(ag.energy[i]) for i, k in enumerate(order)}, float(food[0, 0])


def test_scarce_food_every_agent_gets_the_same_fraction_of_its_demand():
    got, left = _pair("AB")
    # total demand 3 > food 1: each gets 1/3 of its demand
    assert got["A"] == pytest.approx(2.0 / 3.0, rel=1e-6)
    assert got["B"] == pytest.approx(1.0 / 3.0, rel=1e-6)
    assert left == 0.0
    assert got["A"] / 2.0 == got["B"] / 1.0  # exactly the same fraction


def test_sharing_does_not_depend_on_index_order():
    assert _pair("AB") == _pair("BA")


def test_equal_agents_get_equal_shares():
    p = params(intake=2.0, max_energy=100.0)
    ag = Agents(3, energy=7.0, genome=1.0)
    food, hab = cell(1.5)
    eat(ag, food, hab, p)
    assert ag.energy[0] == ag.energy[1] == ag.energy[2]
    assert ag.energy[0] == pytest.approx(7.5)
    assert food[0, 0] == 0.0


def test_demand_is_limited_by_room_in_the_store():
    p = params(intake=2.0, food_energy=2.0, max_energy=20.0)
    ag = Agents(3, energy=[19.0, 20.0, 25.0], genome=1.0)  # room 1 -> demand 0.5; full; over full
    food, hab = cell(10.0)
    eat(ag, food, hab, p)
    assert ag.energy[:3].tolist() == pytest.approx([20.0, 20.0, 25.0])
    assert food[0, 0] == pytest.approx(9.5)


def test_no_efficiency_no_food():
    """An aquatic agent (habitat gene 0, mismatch 1) gets nothing from a land cell; the food stays."""
    p = params(habitat_mismatch=1.0)
    ag = Agents(1, energy=5.0, genome=0.0)
    food, hab = cell(4.0, land=True)
    eat(ag, food, hab, p)
    assert ag.energy[0] == 5.0 and food[0, 0] == 4.0
    food, hab = cell(4.0, land=False)
    eat(ag, food, hab, p)
    assert ag.energy[0] == pytest.approx(5.0 + p.intake * p.food_energy)


def test_juveniles_forage_at_a_share_of_the_adult_intake():
    p = params(intake=2.0, juvenile_intake=0.25, max_energy=100.0, maturity_min=10, maturity_max=10)
    ag = Agents(2, energy=5.0, genome=1.0, age=[3, 10])  # a juvenile and a just-mature adult
    food, hab = cell(10.0)
    eat(ag, food, hab, p)
    assert ag.energy[:2].tolist() == pytest.approx([5.0 + 0.5, 5.0 + 2.0])


def test_many_cells_order_blind_and_conserving():
    rng = np.random.default_rng(2)
    h, w, n = 4, 5, 200
    hab = (rng.random((h, w)) < 0.5).astype(HABITAT_DTYPE)
    food0 = (rng.random((h, w)) * 6).astype(FOOD_DTYPE)
    p = params(max_energy=60.0, food_energy=1.25)
    base = Agents(
        n, x=rng.integers(0, w, n), y=rng.integers(0, h, n), energy=rng.random(n) * 70, genome=0.5
    )
    base.set_gene("habitat", rng.random(n))
    base.a["age"][:n] = rng.integers(0, 200, n)
    results = []
    for perm in (np.arange(n), rng.permutation(n), np.arange(n)[::-1]):
        ag = Agents(n)
        for k, v in base.a.items():
            v_ = v.copy()
            v_[:n] = v[:n][perm]
            ag.a[k] = v_
        food = food0.copy()
        e0 = ag.energy[:n].astype(np.float64).copy()
        eat(ag, food, hab, p)
        gain = ag.energy[:n].astype(np.float64) - e0
        assert (gain >= 0).all()
        eaten_per_cell = np.zeros((h, w))
        np.add.at(eaten_per_cell, (ag.y[:n], ag.x[:n]), gain / p.food_energy)
        tol = np.spacing(np.maximum(food0, food)).astype(np.float64) + 1e-5
        assert (
            np.abs(eaten_per_cell + food - food0) <= tol
        ).all()  # per cell: eaten + left = before
        back = np.empty(n)
        back[perm] = ag.energy[:n]
        results.append((back, food.copy()))
    for back, food in results[1:]:
        np.testing.assert_allclose(back, results[0][0], rtol=1e-6)
        np.testing.assert_allclose(food, results[0][1], rtol=1e-6, atol=1e-6)


def test_share_food_among_conspecifics_on_a_cell():
    p = params(neutral=False, share_rate=0.5, share_above=30.0, share_below=10.0)
    # species 0: a rich giver (40 -> gives (40 - 30) * 0.5 * sociality 1 = 5) and two hungry takers (2.5 each);
    # species 1 on the same cell is hungry too but gets nothing; a lone giver elsewhere keeps its energy
    ag = Agents(
        5,
        x=[0, 0, 0, 0, 1],
        energy=[5.0, 40.0, 5.0, 5.0, 40.0],
        species=[0, 0, 1, 0, 0],
        genome=1.0,
    )
    g = cell_groups(ag.x, ag.y, 2, 1, ag.n)
    call(k_forage.share_food, **kargs(ag, (1, 2), **g, p=p))
    assert ag.energy[:5].tolist() == pytest.approx([7.5, 35.0, 5.0, 7.5, 40.0])


#: stone tools (2, hands 0.3: hard food, energy x 1.05), fire (5, on land: x 1.05), cooking (8: x 1.3),
#: metal (12, hands 0.5: hard-food yield x 1.5)
LADDER = [
    {"name": "stone_tools", "threshold": 2.0, "min_dexterity": 0.3, "hard_food": True,
     "energy_multiplier": 1.05},
    {"name": "fire", "threshold": 5.0, "needs_land": True, "energy_multiplier": 1.05},
    {"name": "cooking", "threshold": 8.0, "energy_multiplier": 1.3},
    {"name": "metal", "threshold": 12.0, "min_dexterity": 0.5, "hard_food_multiplier": 1.5},
]  # fmt: skip


def test_hard_food_needs_a_milestone_skill_and_dexterity():
    """Hard food: demand hard_intake * min(1, skill / skill_scale) * effective dexterity, for milestone holders."""
    p = params(hard_intake=3.0, hard_skill_scale=6.0, hard_energy=2.0, max_energy=1000.0)
    lad = ladder_from_world(World.model_validate({"technology": {"ladder": LADDER}}))
    first = float(lad.threshold[0])  # the first milestone grants hard food
    assert lad.hard_access[1] and not lad.hard_access[0]
    # skills: none (no access), 3 (half yield), 6 (full yield), 6 with dexterity 0.5; dexterity 1 unless said
    ag = Agents(4, energy=10.0, genome=1.0)
    ag.a["skill"][:4] = [first - 0.5, 3.0, 6.0, 6.0]
    ag.set_gene("dexterity", [1.0, 1.0, 1.0, 0.5])
    ag.set_gene("habitat", 1.0)
    food, hab = cell(0.0)  # no easy food
    hard = np.full((1, 1), 100.0, FOOD_DTYPE)
    level = eat(ag, food, hab, p, hard=hard, lad=lad)
    # energy per unit is multiplied by the milestones held (here on land: tools, then fire)
    lv = [
        held_level(float(z), float(d), True, lad, hab, 0, 0)
        for z, d in zip(ag.skill[:4], ag.genome[:4, G_DEXTERITY])
    ]
    assert level[:4].tolist() == lv == [0, 1, 2, 2]
    mult = lad.energy_mult
    want = [
        0.0,
        3.0 * 0.5 * 2.0 * mult[lv[1]],
        3.0 * 2.0 * mult[lv[2]],
        3.0 * 0.5 * 2.0 * mult[lv[3]],
    ]
    assert (ag.energy[:4] - 10.0).tolist() == pytest.approx(want, rel=1e-6)
    assert hard[0, 0] == pytest.approx(100.0 - (3.0 * 0.5 + 3.0 + 1.5))


def test_a_dexterity_gate_blocks_hard_food_whatever_the_skill():
    """Skill 30 with dexterity 0.2 holds no milestone (stone tools need 0.3): no hard food, no multiplier;
    manipulators of 0.6 granted to its species lift the gate."""
    p = params(
        hard_intake=3.0, hard_skill_scale=6.0, hard_energy=2.0, max_energy=1000.0, skill_payoff=0.0
    )
    lad = ladder_from_world(World.model_validate({"technology": {"ladder": LADDER}}))
    for grant, want_level in ((0.0, 0), (0.6, len(lad.threshold))):
        ag = Agents(1, energy=10.0, genome=1.0)
        ag.skill[0] = 30.0
        ag.set_gene("dexterity", 0.2)
        food, hab = cell(0.0)
        hard = np.full((1, 1), 100.0, FOOD_DTYPE)
        level = eat(ag, food, hab, p, hard=hard, lad=lad, manipulators=[grant])
        assert level[0] == want_level
        d_eff = max(float(np.float32(0.2)), grant)
        gained = (
            0.0
            if grant == 0.0
            else 3.0 * d_eff * lad.hard_mult[want_level] * 2.0 * lad.energy_mult[want_level]
        )
        assert ag.energy[0] - 10.0 == pytest.approx(gained, rel=1e-6)


# ------------------------------------------------------------------ private payoffs
def test_easy_food_energy_is_private_milestones_held_here_times_the_skill_payoff():
    """Three agents share one land cell's food by the same fraction of their demand, but each turns a unit into
    food_energy x (its held milestones' multipliers) x (1 + payoff z / (z + half))."""
    p = params(
        intake=2.0, food_energy=1.0, max_energy=1000.0, skill_payoff=2.0, skill_payoff_half=8.0
    )
    lad = ladder_from_world(World.model_validate({"technology": {"ladder": [
        {"name": "fire", "threshold": 5.0, "needs_land": True, "energy_multiplier": 1.1},
        {"name": "cooking", "threshold": 8.0, "energy_multiplier": 1.5},
    ]}}))  # fmt: skip
    ag = Agents(3, energy=0.0, genome=1.0)
    ag.skill[:3] = [0.0, 6.0, 12.0]
    food, hab = cell(3.0)  # demand 6 > 3: each eats half its demand, 1 unit
    level = eat(ag, food, hab, p, lad=lad)
    assert level[:3].tolist() == [0, 1, 2]
    want = [1.0, 1.1 * (1 + 2 * 6 / 14), 1.1 * 1.5 * (1 + 2 * 12 / 20)]
    assert ag.energy[:3].tolist() == pytest.approx(want, rel=1e-6)
    assert food[0, 0] == 0.0


def test_on_water_skill_pays_as_foraging_skill_but_land_milestones_do_not():
    """An aquatic agent with the skill for cooking holds neither fire nor cooking in water: only its skill pays.
    A fire substitute for its species gives it both."""
    p = params(
        intake=2.0, food_energy=1.0, max_energy=1000.0, skill_payoff=1.0, skill_payoff_half=4.0
    )
    lad = ladder_from_world(World.model_validate({"technology": {"ladder": [
        {"name": "fire", "threshold": 5.0, "needs_land": True},
        {"name": "cooking", "threshold": 8.0, "energy_multiplier": 1.5},
    ]}}))  # fmt: skip
    for substitute, lv, mult in ((0, 0, 1.0), (1, 2, 1.5)):
        ag = Agents(1, energy=0.0, genome=0.0)  # habitat gene 0: fully aquatic
        ag.skill[0] = 12.0
        food, hab = cell(10.0, land=False)
        level = eat(ag, food, hab, p, lad=lad, fire_substitute=[substitute])
        assert level[0] == lv
        assert ag.energy[0] == pytest.approx(2.0 * mult * skill_payoff(12.0, p), rel=1e-6)
        assert skill_payoff(12.0, p) == pytest.approx(1.75)


def census(x, y, species, width, height, *, halo=0, code=None, written=None, n_written=-1):
    """One call of ``forage`` with aggregation on, on empty cells: returns (census_pad, census_cells,
    how many it set). ``code``, ``written``: the census grid and cells of the last census (-1 of
    them: unknown, so the whole grid is cleared)."""
    h, w = height + 2 * halo, width + 2 * halo
    code = np.full((h, w), 5, np.int64) if code is None else code
    written = np.zeros(16, np.int64) if written is None else written
    n = np.array([n_written], np.int64)
    ag = Agents(len(x), x=x, y=y, species=np.asarray(species, np.int32))
    food, hab = cell(0.0, shape=(height, width))
    call(
        k_forage.forage,
        **kargs(ag, (height, width)),
        **cell_groups(ag.x, ag.y, width, height, ag.n),
        food=food,
        habitat=hab,
        code=code,
        written=written,
        census_n=n,
        halo=halo,
        p=params(social_attraction=1.0),
    )
    return code, written, int(n[0])


def test_census_majority_species_ties_to_lowest_id():
    """Census code per cell: species * 65536 + count of its majority species (ties: lowest id); -1 where empty."""
    # cell (0,0): species 2,1,2,1 (tie -> 1); cell (1,0): 0,3,3 (-> 3); cell (2,1): one of species 4
    x = [0, 0, 0, 0, 1, 1, 1, 2]
    y = [0, 0, 0, 0, 0, 0, 0, 1]
    code, written, k = census(x, y, [2, 1, 2, 1, 0, 3, 3, 4], width=3, height=2)
    assert code.tolist() == [[1 * 65536 + 2, 3 * 65536 + 2, -1], [-1, -1, 4 * 65536 + 1]]
    assert k == 3 and sorted(written[:k].tolist()) == [0, 1, 5]


def test_census_clears_only_what_it_wrote_and_writes_the_interior_of_a_padded_grid():
    halo = 2
    code = np.full((2 + 2 * halo, 3 + 2 * halo), -1, np.int64)
    code, written, k = census([0, 2], [0, 1], [1, 2], width=3, height=2, halo=halo, code=code)
    inner = code[halo:-halo, halo:-halo]
    assert inner.tolist() == [[65537, -1, -1], [-1, -1, 2 * 65536 + 1]]
    code[0, 0] = 99  # a halo cell: not the census's business
    census([1], [1], [1], width=3, height=2, halo=halo, code=code, written=written, n_written=k)
    assert inner.tolist() == [[-1, -1, -1], [-1, 65537, -1]]
    assert code[0, 0] == 99
    code[halo, halo + 2] = 77  # an interior cell the last census did not write: left alone
    census([0], [1], [1], width=3, height=2, halo=halo, code=code, written=written, n_written=1)
    assert inner.tolist() == [[-1, -1, 77], [65537, -1, -1]]


def test_no_census_without_aggregation():
    """With ``social_attraction`` 0 foraging leaves the census grid and its record alone."""
    code = np.full((2, 3), 5, np.int64)
    n = np.array([-1], np.int64)
    ag = Agents(2, x=[0, 2], y=[0, 1])
    food, hab = cell(1.0, shape=(2, 3))
    call(
        k_forage.forage,
        **kargs(ag, (2, 3)),
        **cell_groups(ag.x, ag.y, 3, 2, ag.n),
        food=food,
        habitat=hab,
        code=code,
        census_n=n,
        p=params(),
    )
    assert (code == 5).all() and n[0] == -1
