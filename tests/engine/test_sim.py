"""The simulation loop: founders, food conservation, invariants, growth, cap, extinction, the Python API."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.defaults import GENES, LAND, WATER
from evosim.engine.kernels.phenotype import max_age
from evosim.errors import ConfigError
from evosim.io.runner import run as run_world
from tests.helpers import (
    TINY,
    assert_one_line,
    food_bound,
    plain_food_overrides,
    read_csv,
    read_summary,
    starving_overrides,
)


def test_founders(tiny_world):
    sim = Simulation(tiny_world, seed=3)
    p = sim.pop
    assert p.n == 120 and sim.tick == 0 and p.next_id == 120
    assert p.live("id").tolist() == list(range(120))
    assert (p.live("parent_id") == -1).all() and (p.live("age") == 0).all()
    assert sim.populations() == {"grazer": 60, "swimmer": 60}
    hab = sim.grids.habitat[p.live("y"), p.live("x")]
    sp = p.live("species")
    assert (hab[sp == 0] == LAND).all()  # grazer: habitat mean 0.9 -> starts on land
    assert (hab[sp == 1] == WATER).all()  # swimmer: habitat mean 0.1 -> starts in water
    for s, spec in enumerate(tiny_world.species):
        g = p.live("genome")[sp == s]
        for k, gene in enumerate(GENES):
            gs = getattr(spec.genes, gene)
            assert (g[:, k] >= np.float32(gs.min)).all() and (g[:, k] <= np.float32(gs.max)).all()
            assert abs(g[:, k].mean() - gs.mean) < 4 * gs.sd / np.sqrt(60) + 0.01
        e = p.live("energy")[sp == s]
        assert (e >= 0.5 * spec.energy).all() and (e < 1.5 * spec.energy).all()


def test_adult_founders_start_at_the_age_of_maturity():
    """species[].adult: each founder's age is the first whole age at or above the maturity its own childhood
    gene sets, so it is an adult (a model, a parent) from tick 0 -- and was not one a tick younger."""
    o = {**TINY, "species.grazer.adult": True, "species.grazer.energy": 50.0,
         "species.grazer.genes.childhood.sd": 0.2}  # fmt: skip
    sim = Simulation(load_world(overrides=o), seed=2)
    p, q = sim.pop, sim.params
    grazer = p.live("species") == 0
    g = p.live("genome")[:, GENES.index("childhood")].astype(np.float64)
    maturity = q.maturity_min + (q.maturity_max - q.maturity_min) * g
    age = p.live("age")
    assert np.array_equal(age[grazer], np.ceil(maturity[grazer]))
    assert len(np.unique(age[grazer])) > 10  # each from its own gene
    assert (age[~grazer] == 0).all()  # the default: founders are newborn juveniles
    assert sim.adults().tolist() == grazer.tolist()
    assert ((age[grazer] - 1) < maturity[grazer]).all()
    sim.step()  # they breed at once
    assert sim.counters.total_births > 0 and (p.live("parent_id") >= 0).sum() > 0


def test_start_habitat_options_and_impossible_start():
    w = load_world(
        overrides={**TINY, "species.grazer.start": "water", "species.swimmer.start": "any"}
    )
    sim = Simulation(w, seed=1)
    p = sim.pop
    hab = sim.grids.habitat[p.live("y"), p.live("x")]
    assert (hab[p.live("species") == 0] == WATER).all()
    assert set(hab[p.live("species") == 1].tolist()) == {WATER, LAND}
    w = load_world(overrides={**TINY, "world.habitat.land_fraction": 0.0})
    with pytest.raises(ConfigError) as exc:
        Simulation(w, seed=1)
    assert_one_line(str(exc.value), "grazer", "species[0].start", "land")


def test_seed_argument_overrides_the_world_seed(tiny_world):
    a = Simulation(tiny_world)
    assert a.seed == tiny_world.sim.seed == 0
    b = Simulation(tiny_world, seed=5)
    assert b.seed == 5
    assert not np.array_equal(a.grids.habitat, b.grids.habitat)  # the map is seeded too
    c = Simulation(
        tiny_world.model_copy(update={"sim": tiny_world.sim.model_copy(update={"seed": 5})})
    )
    assert np.array_equal(b.grids.habitat, c.grids.habitat) and np.array_equal(
        b.pop.live("x"), c.pop.live("x")
    )


# ------------------------------------------------------------------ food conservation
def _no_full_stores():
    """The tiny world where agents never reach max_energy (and nothing multiplies food energy).

    There, energy gained = food eaten x food_energy.
    """
    return load_world(overrides={**TINY, **plain_food_overrides()})


def _tolerance(food: np.ndarray, energy: np.ndarray, food_energy: float) -> float:
    """Float32 rounding: half an ulp per stored food cell and per agent's energy (counted fully, to be safe)."""
    return float(np.spacing(food).sum() + np.spacing(energy).sum() / food_energy) + 1e-9


def test_food_is_conserved_in_the_first_tick_process_by_process():
    sim = Simulation(_no_full_stores(), seed=2)
    fe = sim.params.food_energy
    before = sim.grids.food.astype(np.float64).sum()
    sim.regrow_food()
    regrown = sim.grids.food.astype(np.float64).sum() - before
    sim.sense_and_move()
    sim.index_cells_and_count_brains()
    e0 = sim.pop.live("energy").astype(np.float64)
    sim.forage()
    e1 = sim.pop.live("energy").astype(np.float64)
    eaten = (e1 - e0).sum() / fe
    left = sim.grids.food.astype(np.float64).sum()
    assert eaten > 0
    assert abs(eaten + left - (before + regrown)) <= _tolerance(
        sim.grids.food, sim.pop.live("energy"), fe
    )


def test_food_is_conserved_every_tick():
    """eaten + left = before + regrown, every tick, whatever else the tick does."""
    sim = Simulation(_no_full_stores(), seed=4)
    fe = sim.params.food_energy
    rec: dict[str, float] = {}
    forage = sim.forage

    def instrumented_forage():
        e0 = sim.pop.live("energy").astype(np.float64)
        forage()
        rec["eaten"] = (sim.pop.live("energy").astype(np.float64) - e0).sum() / fe
        rec["tol"] = _tolerance(sim.grids.food, sim.pop.live("energy"), fe)

    regrow_food = sim.regrow_food

    def instrumented_regrow():
        f0 = sim.grids.food.astype(np.float64).sum()
        regrow_food()
        rec["regrown"] = sim.grids.food.astype(np.float64).sum() - f0

    sim.forage = instrumented_forage
    sim.regrow_food = instrumented_regrow
    checked = 0
    for _ in range(150):
        before = sim.grids.food.astype(np.float64).sum()
        rec.clear()
        sim.step()
        if "eaten" not in rec:
            continue
        left = sim.grids.food.astype(np.float64).sum()
        err = rec["eaten"] + left - (before + rec["regrown"])
        assert abs(err) <= rec["tol"], f"tick {sim.tick}: food not conserved (error {err})"
        checked += 1
    assert checked == 150 and sim.pop.n > 120  # the population grew while being checked


# ------------------------------------------------------------------ invariants
def test_invariants_over_a_run(tiny_world):
    sim = Simulation(tiny_world, seed=1)
    p, w = sim.pop, tiny_world
    founders = p.n
    steps = 0
    seen_ids: set[int] = set()
    for _ in range(250):
        steps += p.n
        sim.step()
        n = p.n
        assert sim.counters.agent_steps == steps
        assert n <= sim.cap
        assert founders + sim.counters.total_births - sim.counters.total_deaths == n
        x, y = p.live("x"), p.live("y")
        assert ((x >= 0) & (x < w.world.width) & (y >= 0) & (y < w.world.height)).all()
        ids = p.live("id")
        assert len(np.unique(ids)) == n and (ids < p.next_id).all()
        assert (p.live("energy") > 0).all()  # the dead are removed at the end of the tick
        sp = p.live("species")
        s = sim.species
        lo, hi = s.lo[sp], s.hi[sp]
        assert ((p.live("genome") >= lo) & (p.live("genome") <= hi)).all()
        assert np.array_equal(np.bincount(sp, minlength=len(s)), s.view("alive"))
        assert sum(sim.populations().values()) == n
        ages = p.live("age")
        for i in range(0, n, 17):
            assert ages[i] < max_age(p.genome[i], sim.params)
        g = p.live("guardian")
        dep = g >= 0
        assert (g[dep] < n).all()
        assert (
            p.live("id")[g[dep]] == p.live("parent_id")[dep]
        ).all()  # guardian row is the parent
        assert (p.live("birth_tick") <= sim.tick).all()
        seen_ids.update(ids.tolist())
    assert sim.counters.total_births > 0 and sim.counters.total_deaths > 0
    assert len(seen_ids) > founders


def test_no_agent_stores_more_than_max_energy(tiny_world):
    """physiology.max_energy is "the most energy an agent can store": no process may overfill a store."""
    sim = Simulation(tiny_world, seed=1)
    cap = np.float32(tiny_world.physiology.max_energy)
    for _ in range(250):
        sim.step()
        e = sim.pop.live("energy")
        over = np.flatnonzero(e > cap)
        assert not len(over), (
            f"tick {sim.tick}: {len(over)} agent(s) above max_energy {cap}, e.g. energy {e[over[0]]} "
            f"(age {sim.pop.age[over[0]]}, guardian {sim.pop.guardian[over[0]]})"
        )


def test_take_counts_matches_totals(tiny_world):
    sim = Simulation(tiny_world, seed=6)
    born = dead = 0
    for _ in range(20):
        sim.advance(10)
        b, d = sim.take_counts()
        born += int(b.sum())
        dead += int(d.sum())
        assert d[:, 0].sum() == 0  # column 0 is unused
    assert born == sim.counters.total_births and dead == sim.counters.total_deaths
    b, d = sim.take_counts()
    assert b.sum() == 0 and d.sum() == 0


# ------------------------------------------------------------------ end to end
@pytest.mark.parametrize("seed", [0, 1])
def test_population_grows_to_a_food_limited_size(tiny_world, seed):
    sim = Simulation(tiny_world, seed=seed)
    bound = food_bound(tiny_world, sim.grids.habitat)
    founders = sim.pop.n
    sizes = []
    for _ in range(400):
        sim.step()
        sizes.append(sim.pop.n)
    sizes = np.array(sizes)
    assert sizes.max() > 1.5 * founders, "the population never grew from its founders"
    assert sizes.max() < bound, f"population {sizes.max()} above the food bound {bound:.0f}"
    assert sizes[-100:].min() > 0, "the population did not persist"
    assert sim.counters.cap_reached_at is None


def test_extinction_ends_the_run_cleanly(tmp_path):
    starve = load_world(overrides={**TINY, **starving_overrides()})
    sim = Simulation(starve, seed=1)
    sim.advance(1000)
    assert sim.extinct and 0 < sim.tick < 1000 and sim.populations() == {"grazer": 0, "swimmer": 0}
    t, steps = sim.tick, sim.counters.agent_steps
    sim.advance(10)  # nothing happens after extinction
    assert sim.tick == t and sim.counters.agent_steps == steps and sim.pop.n == 0
    summary = run_world(starve, tmp_path / "run", ticks=1000, seed=1)
    assert summary["ended"] == "extinct" and summary["ticks_run"] == sim.tick
    assert summary == read_summary(tmp_path / "run")
    assert summary["final_population"] == 0 and summary["deaths"] == 120
    rows = read_csv(tmp_path / "run" / "timeseries.csv")
    last = [r for r in rows if int(r["tick"]) == sim.tick]
    assert last and all(r["population"] == "0" for r in last)


def test_population_cap_is_reported_never_a_crash(tmp_path):
    w = load_world(overrides={**TINY, "sim.population_cap": 150})
    sim = Simulation(w, seed=2)
    for _ in range(300):
        sim.step()
        assert sim.pop.n <= 150
    assert sim.counters.cap_reached_at is not None and sim.counters.cap_refused > 0
    summary = run_world(w, tmp_path / "run", ticks=300, seed=2)
    assert summary["cap_reached_at"] == sim.counters.cap_reached_at
    assert summary["births_refused_at_cap"] == sim.counters.cap_refused > 0
    assert summary["population_cap"] == 150 and summary["ended"] == "completed"
    # a cap equal to the founders: no birth is ever possible, still no crash
    w = load_world(overrides={**TINY, "sim.population_cap": 120})
    s = run_world(w, tmp_path / "full", ticks=100, seed=2)
    assert s["births"] == 0 and s["cap_reached_at"] is not None


# ------------------------------------------------------------------ Python API
def test_python_api_as_documented(tmp_path):
    """The example of evosim/__init__.py, on a small world file."""
    from evosim import Simulation as S
    from evosim import load_world as lw
    from evosim import run

    f = tmp_path / "earthlike.yaml"
    f.write_text(
        "world:\n  width: 64\n  height: 64\nspecies:\n  - name: grazer\n    count: 50\n",
        encoding="utf-8",
    )
    world = lw(f, overrides={"world.width": 40})
    assert world.world.width == 40 and world.world.height == 64
    sim = S(world, seed=1)
    sim.advance(50)
    assert sim.tick == 50
    pops = sim.populations()
    assert list(pops) == ["grazer"] and pops["grazer"] == sim.pop.n > 0
    summary = run(world, tmp_path / "out", ticks=20, seed=1)
    assert summary["ticks_run"] == 20 and (tmp_path / "out" / "summary.json").is_file()


def test_overrides_as_list_or_mapping_agree():
    a = load_world(overrides=["world.width=40", "species.primate.count=7", "physiology.intake=2.5"])
    b = load_world(
        overrides={"world.width": 40, "species.primate.count": 7, "physiology.intake": 2.5}
    )
    assert a == b and a.species[0].count == 7


def test_mapping_overrides_keep_string_values_as_strings():
    """A dict override gives a Python value: a string stays a string (it is not re-read as YAML)."""
    w = load_world(overrides={"name": "2024", "description": "yes: no # not a comment"})
    assert w.name == "2024"
    assert w.description == "yes: no # not a comment"


def test_sim_module_doctest():
    import evosim.engine.sim

    result = doctest.testmod(evosim.engine.sim, verbose=False)
    assert result.attempted > 0 and result.failed == 0
