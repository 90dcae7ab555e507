"""The engine's state objects: each saves and rebuilds itself, and the whole simulation does too."""

from __future__ import annotations

import typing

import numpy as np

from evosim import Simulation, load_world
from evosim.engine.counters import Counters
from evosim.engine.grids import Grids
from evosim.engine.species import SpeciesRegistry
from tests.helpers import TINY

CULL = {
    "name": "cull",
    "when": {"every": 7},
    "target": {"all": True},
    "effect": {"kind": "cull", "share": 0.1},
}


def assert_same_state(a: Simulation, b: Simulation) -> None:
    (arrays_a, scalars_a), (arrays_b, scalars_b) = a.state(), b.state()
    assert list(arrays_a) == list(arrays_b) and scalars_a == scalars_b
    for k, v in arrays_a.items():
        assert v.dtype == arrays_b[k].dtype and np.array_equal(v, arrays_b[k]), k


def test_a_simulation_rebuilt_from_its_state_continues_identically(tiny_world):
    world = load_world(overrides={**TINY, "interventions": [CULL]})
    a = Simulation(world, seed=2)
    a.advance(25)
    b = Simulation.from_state(world, *a.state())
    assert_same_state(a, b)
    a.advance(30)
    b.advance(30)
    assert a.tick == b.tick == 55 and a.counters.total_deaths > 0
    assert_same_state(a, b)


def test_a_boosted_simulation_resumes_identically(tiny_world):
    boost = {"name": "boost", "when": {"every": 9}, "target": {"all": True},
             "effect": {"kind": "population_boost", "share": 0.3}}  # fmt: skip
    world = load_world(overrides={**TINY, "interventions": [boost]})
    a = Simulation(world, seed=2)
    a.advance(10)  # just after the boost of tick 9
    b = Simulation.from_state(world, *a.state())
    a.advance(20)
    b.advance(20)
    assert_same_state(a, b)
    assert sorted({e[0] for e in a.events if "population boost" in e[3]}) == [0, 9, 18, 27]


def test_state_shares_no_array_with_the_simulation(tiny_world):
    sim = Simulation(tiny_world, seed=1)
    arrays, _ = sim.state()
    arrays["sim.food"][...] = -1.0
    arrays["pop.energy"][...] = -1.0
    assert (sim.grids.food >= 0).all() and (sim.pop.live("energy") > -1).all()


def test_grids_and_counters_round_trip(tiny_world):
    sim = Simulation(tiny_world, seed=3)
    sim.advance(12)
    g = Grids.from_state(tiny_world, sim.grids.state(), sim.grids.halo)
    for k, v in sim.grids.state().items():
        assert np.array_equal(v, getattr(g, k)), k
    c = Counters.from_state(*sim.counters.state())
    assert c.state()[1] == sim.counters.state()[1] and c.tick == 12
    assert c.flop(tiny_world.compute) == sim.flop() > 0


def test_the_registry_declares_every_array_it_holds():
    """The typed declarations (for readers and type checkers) match the arrays actually made."""
    declared = {k for k, v in typing.get_type_hints(SpeciesRegistry).items() if v is np.ndarray}
    assert declared == set(SpeciesRegistry._ARRAYS)


def test_counters_take_resets_the_per_sample_counts(tiny_world):
    sim = Simulation(tiny_world, seed=1)
    sim.advance(150)
    births, deaths = sim.take_counts()
    assert births.sum() > 0 and deaths.sum() > 0 and deaths.shape == (len(sim.species), 4)
    again_b, again_d = sim.take_counts()
    assert again_b.sum() == 0 and again_d.sum() == 0
