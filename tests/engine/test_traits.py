"""Each gene's mechanism, shown by comparing two configurations over several seeds.

Every test would fail if its mechanism were removed: the two configurations
differ only in the parameter that switches the mechanism on.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.defaults import DEATH_OLD_AGE, GENES
from evosim.engine.kernels.phenotype import maturity
from tests.helpers import fixed

SEEDS = (1, 2, 3)


def small(extra: dict | None = None, size: int = 48, count: int = 400) -> dict:
    """Overrides for a small one-species world of generalists on uniform food, culture off."""
    o = {
        "culture.juvenile_rate": 0.0,
        "culture.adult_rate": 0.0,
        "culture.innovation_rate": 0.0,
        "world.width": size,
        "world.height": size,
        "world.habitat.land_fraction": 0.5,
        "species": [{"name": "a", "count": count, "genes": {"habitat": fixed(0.5)}}],
        "traits.habitat.mismatch": 0.0,
    }
    o.update(extra or {})
    return o


def run(overrides: dict, seed: int, ticks: int) -> Simulation:
    sim = Simulation(load_world(overrides=overrides), seed=seed)
    sim.advance(ticks)
    assert not sim.extinct, "the test world died out; it cannot show anything"
    return sim


def across_seeds(
    overrides: dict, ticks: int, measure: Callable[[Simulation], float]
) -> list[float]:
    """``measure`` of the world ``overrides`` after ``ticks`` ticks, for each of SEEDS."""
    return [measure(run(overrides, seed, ticks)) for seed in SEEDS]


def gene_mean(gene: str) -> Callable[[Simulation], float]:
    """A measure: the mean of ``gene`` over the living agents (:meth:`Simulation.mean_gene`)."""
    return lambda sim: sim.mean_gene(gene)


def _patchy(radius_max: int) -> dict:
    """Sparse food patches (4% of cells) with strong seasons; brain mutates fast."""
    return small({
        "traits.brain.upkeep": 0.2, "physiology.sight_discount": 0.9, "traits.brain.radius_max": radius_max,
        "world.width": 96, "world.height": 96,
        "world.habitat.land_fraction": 0.04, "world.habitat.smoothness": 0.0,
        "world.food.water.capacity": 0.01, "world.food.land.capacity": 40.0, "world.food.land.regrowth": 0.3,
        "world.food.season.amplitude": 0.9, "world.food.season.period": 60,
        "species": [{"name": "a", "count": 600, "genes": {
            "habitat": fixed(0.5), "brain": {"mean": 0.5, "sd": 0.05, "mutation": 0.04}}}],
    })  # fmt: skip


def test_brain_falls_under_its_cost_without_benefit():
    """Uniform food, perception fixed at radius 1: a bigger brain only costs, so it declines."""
    no_benefit = small({"traits.brain.radius_max": 1, "traits.brain.upkeep": 0.3})
    flat = across_seeds(no_benefit, 1500, gene_mean("brain"))
    assert max(flat) < 0.45, f"brain should fall below its initial 0.5 under its cost: {flat}"


def test_brain_rises_where_sight_finds_patchy_food():
    """Same patchy seasonal world: brain rises when it widens perception, and falls when it does not."""
    sight = across_seeds(_patchy(6), 2000, gene_mean("brain"))
    blind = across_seeds(_patchy(1), 2000, gene_mean("brain"))
    assert min(sight) > 0.5, f"brain should rise above its initial 0.5: {sight}"
    assert np.mean(sight) > np.mean(blind) + 0.05, (sight, blind)


@pytest.mark.parametrize("gene", ["lifespan", "dexterity"])
def test_gene_upkeep_selects_against_the_gene(gene):
    """The same world with and without the gene's upkeep: costly, the gene ends lower."""
    costly = across_seeds(small({f"traits.{gene}.upkeep": 0.6}), 1200, gene_mean(gene))
    free = across_seeds(small({f"traits.{gene}.upkeep": 0.0}), 1200, gene_mean(gene))
    assert np.mean(costly) < np.mean(free) - 0.05, (costly, free)


def test_old_age_kills():
    sim = run(
        small(
            {
                "traits.lifespan.max_age_min": 30,
                "traits.lifespan.max_age_max": 30,
                "traits.childhood.maturity_max": 10,
            }
        ),
        1,
        200,
    )
    assert sim.pop.live("age").max() < 30
    _, deaths = sim.take_counts()
    assert deaths[:, DEATH_OLD_AGE].sum() > 0, "nobody died of old age"


def test_aquatic_agents_stay_in_water():
    """With habitat mismatch on, an aquatic species stays in water; with it off it spreads onto land."""
    spec = [{"name": "fish", "count": 400, "genes": {"habitat": fixed(0.0, min=0.0, max=0.0)}}]
    on = across_seeds(
        small({"species": spec, "traits.habitat.mismatch": 1.0}), 300, Simulation.land_share
    )
    off = across_seeds(
        small({"species": spec, "traits.habitat.mismatch": 0.0}), 300, Simulation.land_share
    )
    assert on == [0.0] * len(SEEDS), on
    assert min(off) > 0.2, off


def test_sociality_aggregates_conspecifics():
    """Attraction on: more conspecifics per occupied cell than with attraction off."""

    def crowding(sim: Simulation) -> float:
        occ = np.bincount(sim.pop.live("y").astype(np.int64) * 48 + sim.pop.live("x"))
        occ = occ[occ > 0]
        return float((occ**2).sum() / occ.sum())  # mean group size seen by an agent

    spec = [
        {
            "name": "a",
            "count": 400,
            "genes": {"habitat": fixed(0.5), "sociality": fixed(1.0, min=1.0)},
        }
    ]
    a = across_seeds(small({"species": spec, "traits.sociality.attraction": 3.0}), 150, crowding)
    b = across_seeds(small({"species": spec, "traits.sociality.attraction": 0.0}), 150, crowding)
    assert min(a) > max(b), (a, b)


def test_food_sharing_moves_energy_to_hungry_conspecifics():
    sim = Simulation(load_world(overrides=small({"traits.sociality.share_rate": 0.5})), seed=1)
    p = sim.pop
    p.x[:2], p.y[:2] = 5, 5
    p.energy[:2] = [50.0, 2.0]
    p.genome[:2, GENES.index("sociality")] = 1.0
    sim.index_cells_and_count_brains()
    before = p.energy[:2].copy()
    total = p.energy[: p.n].astype(np.float64).sum()
    from evosim.engine.kernels.forage import share_food

    share_food(p.agents(), sim.scratch.index(), sim.params)
    assert p.energy[0] < before[0] and p.energy[1] > before[1]
    assert p.energy[: p.n].astype(np.float64).sum() == pytest.approx(total, rel=1e-6), (
        "energy is passed on, not made"
    )


def test_orphaned_juveniles_starve_more_often():
    """Juveniles whose parent died (fend for themselves at juvenile intake) starve more than fed ones."""
    o = small({
        "species": [{"name": "a", "count": 400, "genes": {"habitat": fixed(0.5), "childhood": fixed(0.6)}}],
        "traits.childhood.juvenile_intake": 0.3, "traits.childhood.feed_rate": 1.0,
    })  # fmt: skip
    orphan = np.zeros(2)
    fed = np.zeros(2)  # [juvenile-ticks, starvation deaths]
    for seed in SEEDS:
        sim = Simulation(load_world(overrides=o), seed=seed)
        for _ in range(400):
            for process in (
                sim.regrow_food,
                sim.sense_and_move,
                sim.index_cells_and_count_brains,
                sim.forage,
                sim.metabolise,
                sim.reproduce,
            ):
                process()
            p = sim.pop
            juvenile = p.live("age") < np.array([maturity(g, sim.params) for g in p.live("genome")])
            is_orphan = juvenile & (p.live("guardian") < 0)
            is_fed = juvenile & (p.live("guardian") >= 0)
            starving = p.live("energy") <= 0
            orphan += [is_orphan.sum(), (is_orphan & starving).sum()]
            fed += [is_fed.sum(), (is_fed & starving).sum()]
            sim.die()
            sim.counters.tick += 1
            sim.update_species()
    assert orphan[0] > 50 and fed[0] > 50, (orphan, fed)
    assert orphan[1] / orphan[0] > 2 * fed[1] / fed[0], (orphan, fed)


def test_parents_pay_for_their_dependants():
    o = small({"species": [{"name": "a", "count": 50, "genes": {"childhood": fixed(0.8)}}]})
    sim = Simulation(load_world(overrides=o), seed=1)
    p = sim.pop
    p.guardian[1] = 0  # agent 1 depends on agent 0
    p.energy[:2] = [30.0, 1.0]
    total = p.energy[:2].sum()
    from evosim.engine.kernels.life import feed_dependants

    feed_dependants(p.agents(), p.n, sim.params, sim.scratch.arena(p))
    assert p.energy[1] == pytest.approx(1.0 + sim.params.feed_rate)
    assert p.energy[:2].sum() == pytest.approx(total)


def test_fecundity_trades_threshold_for_investment():
    """High fecundity reproduces at lower energy (more births) and gives each child a smaller share."""
    births = {}
    for f in (0.1, 0.9):
        o = small(
            {
                "species": [
                    {
                        "name": "a",
                        "count": 400,
                        "genes": {"habitat": fixed(0.5), "fecundity": fixed(f)},
                    }
                ]
            }
        )
        births[f] = sum(across_seeds(o, 60, lambda sim: sim.counters.total_births))
    assert births[0.9] > births[0.1]
    o = small({"species": [{"name": "a", "count": 2, "genes": {"childhood": fixed(0.0)}}]})
    sim = Simulation(load_world(overrides=o), seed=1)
    p = sim.pop
    p.genome[:2, GENES.index("fecundity")] = [0.1, 0.9]
    p.energy[:2] = 50.0
    p.age[:2] = 100
    sim.reproduce()
    assert p.n == 4
    child_of = dict(zip(p.parent_id[2:4], p.energy[2:4]))
    assert child_of[p.id[1]] < child_of[p.id[0]], "the fecund parent invests less per child"
