"""Interventions: timing, targets, every effect, logging, and refusals of specs that can never apply."""

from __future__ import annotations

import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.defaults import GENES
from evosim.errors import ConfigError

BASE = {
    "world.width": 32, "world.height": 32,
    "species": [
        {"name": "lander", "count": 300, "genes": {"habitat": {"mean": 0.9}}},
        {"name": "fish", "count": 300, "genes": {"habitat": {"mean": 0.1}, "dexterity": {"mean": 0.05, "max": 0.1}}},
    ],
}  # fmt: skip


def sim_with(*interventions, ticks: int = 0, seed: int = 1) -> Simulation:
    sim = Simulation(
        load_world(overrides={**BASE, "interventions": list(interventions)}), seed=seed
    )
    sim.advance(ticks)
    return sim


def logged(sim: Simulation, kind: str = "intervention") -> list[tuple]:
    return [e for e in sim.events if e[1] == kind]


def test_tick_zero_and_every_apply_on_schedule():
    sim = sim_with(
        {
            "name": "a",
            "when": {"tick": 0},
            "target": {"species": ["fish"]},
            "effect": {"kind": "fire_substitute"},
        },
        {
            "name": "b",
            "when": {"every": 5, "start": 3},
            "target": {"species": ["fish"]},
            "effect": {"kind": "fire_substitute"},
        },
        ticks=14,
    )
    assert sim.species.fire_substitute[1] == 1
    ticks = [e[0] for e in logged(sim)]
    assert ticks == [0, 3, 8, 13]


def test_manipulators_raise_effective_dexterity_and_cost_energy():
    sim = sim_with(
        {
            "name": "hands",
            "when": {"tick": 2},
            "target": {"founder": "fish"},
            "effect": {"kind": "manipulators", "level": 0.8, "energy_cost": 0.05},
        },
        ticks=3,
    )
    assert sim.species.manipulators[1] == pytest.approx(0.8) and sim.species.upkeep_extra[
        1
    ] == pytest.approx(0.05)
    assert sim.species.manipulators[0] == 0.0
    weaker = {
        "name": "weak",
        "when": {"tick": 3},
        "target": {"founder": "fish"},
        "effect": {"kind": "manipulators", "level": 0.3},
    }
    sim2 = sim_with(
        {
            "name": "hands",
            "when": {"tick": 2},
            "target": {"founder": "fish"},
            "effect": {"kind": "manipulators", "level": 0.8, "energy_cost": 0.05},
        },
        weaker,
        ticks=4,
    )
    assert sim2.species.manipulators[1] == pytest.approx(0.8) and sim2.species.upkeep_extra[
        1
    ] == pytest.approx(0.05)


def test_selector_targets_by_mean_genes_and_no_match_is_logged():
    sim = sim_with(
        {
            "name": "clumsy",
            "when": {"tick": 1},
            "target": {"selector": {"dexterity": {"max": 0.2}}},
            "effect": {"kind": "fire_substitute"},
        },
        {
            "name": "nobody",
            "when": {"tick": 1},
            "target": {"selector": {"brain": {"min": 0.99}}},
            "effect": {"kind": "fire_substitute"},
        },
        ticks=2,
    )
    assert [e[2] for e in logged(sim)] == [1]
    assert [e[3] for e in logged(sim, "intervention_no_match")] == ["nobody: no species matched"]


def test_gene_bounds_clip_current_agents_and_stay_ordered():
    sim = sim_with(
        {
            "name": "b",
            "when": {"tick": 1},
            "target": {"species": ["lander"]},
            "effect": {"kind": "gene_bounds", "gene": "brain", "min": 0.9},
        },
        ticks=2,
    )
    brain = sim.pop.live("genome")[:, GENES.index("brain")]
    mine = sim.pop.live("species") == 0
    assert (brain[mine] >= 0.9 - 1e-6).all() and sim.species.lo[
        0, GENES.index("brain")
    ] <= sim.species.hi[0, GENES.index("brain")]


def test_cull_removes_the_share_and_records_the_cause():
    sim = sim_with(ticks=5)
    before = sim.species.alive[0]
    sim2 = sim_with(
        {
            "name": "c",
            "when": {"tick": 5},
            "target": {"species": ["lander"]},
            "effect": {"kind": "cull", "share": 0.5},
        },
        ticks=5,
    )
    n_culled = int(logged(sim2)[0][3].split()[2])
    assert 0.35 * before < n_culled < 0.65 * before
    assert sim2.species.alive[0] == int((sim2.pop.live("species") == 0).sum())


BOOST = {
    "name": "boost",
    "when": {"tick": 5},
    "target": {"species": ["lander"]},
    "effect": {"kind": "population_boost", "share": 1.0},
}


def test_population_boost_copies_each_independent_member_as_a_twin():
    before = sim_with(ticks=5)
    sim = sim_with(BOOST, ticks=5)
    n0, n = before.pop.n, sim.pop.n
    lander = before.pop.live("species") == 0
    independent = lander & (before.pop.live("guardian") < 0)
    assert n == n0 + int(independent.sum()) and independent.sum() > 100
    assert logged(sim)[0][3] == (
        f"boost: population boost: copied {int(independent.sum())} of {int(independent.sum())} "
        "independent members"
    )
    # rows 0..n0-1 are the originals untouched; each new row repeats one of them, in row order
    for f in (
        "species",
        "x",
        "y",
        "energy",
        "age",
        "birth_tick",
        "parent_id",
        "skill",
        "lessons",
        "genome",
    ):
        old, got = getattr(before.pop, f)[:n0], getattr(sim.pop, f)
        assert np.array_equal(got[:n0], old), f
        assert np.array_equal(got[n0:n], old[independent]), f
    assert (sim.pop.live("guardian")[n0:] == -1).all()
    ids = sim.pop.live("id")
    assert len(np.unique(ids)) == n and ids[n0:].min() == before.pop.next_id
    assert sim.pop.next_id == before.pop.next_id + (n - n0)
    assert sim.species.alive[0] == int((sim.pop.live("species") == 0).sum())
    assert sim.species.peak[0] >= sim.species.alive[0]
    assert sim.counters.births.sum() == before.counters.births.sum()  # copies are not births


def test_population_boost_share_and_cap():
    half = {**BOOST, "effect": {"kind": "population_boost", "share": 0.5}}
    before, sim = sim_with(ticks=5), sim_with(half, ticks=5)
    independent = int(((before.pop.live("species") == 0) & (before.pop.live("guardian") < 0)).sum())
    copied = sim.pop.n - before.pop.n
    assert 0.35 * independent < copied < 0.65 * independent
    again = sim_with(half, ticks=5)
    assert np.array_equal(again.pop.live("id"), sim.pop.live("id"))
    # at the cap: only what the cap admits, and the event says so
    room = 40
    capped = Simulation(
        load_world(
            overrides={**BASE, "sim.population_cap": before.pop.n + room, "interventions": [BOOST]}
        ),
        seed=1,
    )
    capped.advance(5)
    assert capped.pop.n - before.pop.n <= room and capped.pop.n <= before.pop.n + room
    assert logged(capped)[0][3].endswith("(the population cap allowed no more)")


def test_food_effect_changes_the_region_within_capacity():
    sim = sim_with(
        {
            "name": "f",
            "when": {"tick": 0},
            "target": {"all": True},
            "effect": {
                "kind": "food",
                "amount": -100,
                "region": {"x": 0, "y": 0, "width": 4, "height": 4},
            },
        }
    )
    assert (sim.grids.food[:4, :4] == 0).all() and sim.grids.food[10:, 10:].min() > 0


def test_triggers_fire_once_per_species():
    sim = sim_with(
        {
            "name": "big",
            "when": {"trigger": "population_above", "value": 100},
            "target": {"all": True},
            "effect": {"kind": "fire_substitute"},
        },
        ticks=10,
    )
    assert sorted(e[2] for e in logged(sim)) == [0, 1]


@pytest.mark.parametrize("bad, words", [
    ({"name": "x", "when": {"trigger": "milestone", "milestone": "warp_drive"}, "target": {"all": True},
      "effect": {"kind": "fire_substitute"}}, "not on the technology ladder"),
    ({"name": "x", "when": {"tick": 1}, "target": {"founder": "dolphin"}, "effect": {"kind": "fire_substitute"}},
     "not a founding species"),
    ({"name": "x", "when": {"tick": 1, "every": 2}, "target": {"all": True}, "effect": {"kind": "fire_substitute"}},
     "exactly one of tick, every, trigger"),
    ({"name": "x", "when": {"tick": 1}, "target": {"all": True}, "effect": {"kind": "cull"}}, "needs share"),
    ({"name": "x", "when": {"tick": 1}, "target": {"all": True}, "effect": {"kind": "population_boost"}},
     "needs share"),
])  # fmt: skip
def test_impossible_interventions_are_refused(bad, words):
    with pytest.raises(ConfigError, match=words):
        load_world(overrides={**BASE, "interventions": [bad]})


def test_sharing_never_overfills():
    o = {
        **BASE,
        "traits.sociality.share_rate": 1.0,
        "traits.sociality.share_below": 59.0,
        "traits.sociality.share_above": 1.0,
    }
    sim = Simulation(load_world(overrides=o), seed=2)
    sim.advance(30)
    assert sim.pop.live("energy").max() <= sim.params.max_energy + 1e-3
    assert np.isfinite(sim.pop.live("energy")).all()
