"""Culture: Henrich's (2004) analytic result, innovation, ceilings and the technology ladder."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.defaults import G_SOCIALITY, GENES
from evosim.engine.kernels import culture
from tests.helpers import Agents, call, cell_groups, fixed, kargs, params

EULER_GAMMA = 0.5772156649


def henrich_world(alpha: float, beta: float, n_learners: int) -> Simulation:
    """Well-mixed single species: one skilled model and ``n_learners`` juveniles, one attempt each per tick."""
    o = {
        "world.width": 16, "world.height": 16, "world.habitat.land_fraction": 1.0,
        "species": [{"name": "a", "count": n_learners + 1}],
        "traits.sociality.radius_min": 64, "traits.sociality.radius_max": 64,  # covers the world: well mixed
        "culture.alpha": alpha, "culture.beta": beta,
        "culture.alpha_dexterity": 0.0, "culture.alpha_brain": 0.0, "culture.beta_brain": 0.0,
        "culture.innovation_rate": 0.0, "culture.juvenile_rate": 1.0, "culture.adult_rate": 0.0,
        "culture.skill_cap": 1e6, "technology.ladder": [],
        "traits.childhood.maturity_min": 1000, "traits.childhood.maturity_max": 1000,
    }  # fmt: skip
    return Simulation(load_world(overrides=o), seed=11)


def best_skill_changes(sim: Simulation, z_model: float, trials: int) -> np.ndarray:
    """Change of the best skill over one learning generation, repeated ``trials`` times."""
    p = sim.pop
    model = 0
    p.age[model] = 5000  # the adult model; everyone else is a juvenile learner
    p.guardian[: p.n] = -1
    sim.index_cells()
    out = np.empty(trials)
    for t in range(trials):
        p.skill[: p.n] = 0.0
        p.skill[model] = z_model
        sim.counters.tick = t + 1  # fresh random keys
        sim.learn()
        out[t] = p.skill[1 : p.n].max() - z_model
    return out


@pytest.mark.parametrize(("alpha", "beta", "n"), [(2.0, 1.0, 20), (5.0, 1.0, 20), (3.0, 0.5, 50)])
def test_henrich_mean_change_of_best_skill(alpha, beta, n):
    """E[dz] = -alpha + beta (gamma + ln N), within 4 standard errors, on both sides of N*."""
    sim = henrich_world(alpha, beta, n)
    trials = 3000
    dz = best_skill_changes(sim, 100.0, trials)
    expected = -alpha + beta * (EULER_GAMMA + math.log(n))
    se = (
        beta * math.pi / math.sqrt(6) / math.sqrt(trials)
    )  # sd of a Gumbel maximum is beta * pi / sqrt(6)
    assert abs(dz.mean() - expected) < 4 * se, (dz.mean(), expected, se)
    n_star = math.exp(alpha / beta - EULER_GAMMA)
    if n > n_star:
        assert dz.mean() > 0, "above the threshold N* skill must accumulate"
    else:
        assert dz.mean() < 0, "below the threshold N* skill must be lost"
    assert sim.counters.learning_attempts == trials * n


def _skill_world(alpha: float, innovation: float = 0.0, extra: dict | None = None) -> dict:
    o = {
        "world.width": 32, "world.height": 32,
        "species.grazer.count": 500, "species.swimmer.count": 500,
        "traits.sociality.radius_min": 64, "traits.sociality.radius_max": 64,
        "culture.alpha": alpha, "culture.beta": 1.0, "culture.alpha_dexterity": 0.0, "culture.alpha_brain": 0.0,
        "culture.beta_brain": 0.0, "culture.innovation_rate": innovation, "culture.skill_cap": 1e6,
        "technology.ladder": [], "traits.sociality.attraction": 0.0,
    }  # fmt: skip
    o.update(extra or {})
    return o


def test_skill_accumulates_in_the_full_model_only_above_the_threshold():
    """From zero skill, learning alone (no innovation): easy skills accumulate, hard ones do not."""
    easy = Simulation(load_world(overrides=_skill_world(alpha=1.0)), seed=2)
    hard = Simulation(load_world(overrides=_skill_world(alpha=12.0)), seed=2)
    easy.advance(200)
    hard.advance(200)
    assert easy.pop.live("skill").mean() > 5.0
    assert hard.pop.live("skill").max() < 1.0


def test_innovation_grows_with_brain_and_dexterity():
    def innovations(brain: float, dex: float) -> int:
        genes = {"brain": fixed(brain), "dexterity": fixed(dex), "childhood": fixed(0.0)}
        o = _skill_world(
            alpha=50.0,
            innovation=0.2,
            extra={"species": [{"name": "a", "count": 600, "genes": genes}]},
        )
        sim = Simulation(load_world(overrides=o), seed=3)
        sim.advance(30)
        return sim.counters.innovations

    assert innovations(0.9, 0.5) > innovations(0.3, 0.5) > 0
    assert innovations(0.6, 0.9) > innovations(0.6, 0.1)


def test_skill_cap_grows_with_brain():
    genes = {"brain": {"mean": 0.5, "sd": 0.3, "mutation": 0.0}, "childhood": fixed(0.0)}
    o = _skill_world(
        alpha=0.0,
        innovation=1.0,
        extra={
            "species": [{"name": "a", "count": 400, "genes": genes}],
            "culture.skill_cap": 1.0,
            "culture.skill_cap_brain": 10.0,
        },
    )
    sim = Simulation(load_world(overrides=o), seed=4)
    sim.advance(100)
    brain = sim.pop.live("genome")[:, GENES.index("brain")]
    assert (sim.pop.live("skill") <= 1.0 + 10.0 * brain + 1e-4).all()
    assert np.corrcoef(brain, sim.pop.live("skill"))[0, 1] > 0.5


def _ladder_world(
    habitat: float, dex: float, land_fraction: float, fire_substitute: bool = False
) -> Simulation:
    genes = {
        "habitat": fixed(habitat, min=habitat, max=habitat),
        "dexterity": fixed(dex),
        "brain": fixed(1.0),
    }
    o = _skill_world(
        alpha=0.5,
        innovation=0.5,
        extra={
            "species": [{"name": "a", "count": 400, "genes": genes}],
            "world.habitat.land_fraction": land_fraction,
            "world.width": 48,
            "world.height": 48,
            "world.food.land.regrowth": 0.3,
            "world.food.water.regrowth": 0.3,
            "culture.skill_cap": 100.0,
            "technology.ladder": [
                {"name": "tools", "threshold": 2.0, "min_dexterity": 0.3, "hard_food": True},
                {"name": "fire", "threshold": 5.0, "needs_land": True},
                {"name": "metal", "threshold": 9.0, "min_dexterity": 0.5},
            ],
        },
    )
    sim = Simulation(load_world(overrides=o), seed=5)
    if fire_substitute:
        sim.species.fire_substitute[0] = 1
    sim.advance(150)
    return sim


def test_unmet_requirements_cap_skill_just_below_the_milestone():
    water = _ladder_world(habitat=0.0, dex=0.9, land_fraction=0.4)
    assert water.land_share() == 0.0
    assert 4.9 < water.pop.live("skill").max() < 5.0, "aquatic agents stop just below fire"
    clumsy = _ladder_world(habitat=1.0, dex=0.1, land_fraction=0.6)
    assert 1.9 < clumsy.pop.live("skill").max() < 2.0, "no hands: stopped below tools"
    handy = _ladder_world(habitat=1.0, dex=0.9, land_fraction=0.6)
    assert handy.pop.live("skill").max() > 9.0, "land and hands: the whole ladder"
    mid = _ladder_world(habitat=1.0, dex=0.4, land_fraction=0.6)
    assert 8.9 < mid.pop.live("skill").max() < 9.0, "dexterity 0.4: fire yes, metal no"
    sub = _ladder_world(habitat=0.0, dex=0.9, land_fraction=0.4, fire_substitute=True)
    assert sub.pop.live("skill").max() > 9.0, "a fire substitute lifts the land requirement"


def test_milestone_events_and_detectors_are_recorded():
    sim = _ladder_world(habitat=1.0, dex=0.9, land_fraction=0.6)
    kinds = [(e[1], e[3]) for e in sim.events]
    reached = [d for k, d in kinds if k == "milestone"]
    assert any("tools" in d for d in reached) and any("metal" in d for d in reached)
    assert sim.flop() > 0 and sim.counters.learning_attempts > 0 and sim.counters.innovations > 0


def test_detectors_fire_after_their_windows_with_compute_recorded():
    sim = _ladder_world(
        habitat=1.0, dex=0.9, land_fraction=0.6
    )  # brain fixed at 1.0 > 0.7 from tick 1
    w = sim.world.detectors
    assert (
        sim.species.intelligent_at[0] == w.intelligence_window
    )  # held from tick 1 through tick `window`
    tech_at = int(sim.species.technological_at[0])
    assert tech_at > w.tech_window, "technology needs the final milestone held for a whole window"
    events = [e for e in sim.events if e[1] == "technological"]
    assert [e[0] for e in events] == [tech_at]
    tick, flop, sid = sim.detectors.first_intelligent
    assert sid == 0 and tick == sim.species.intelligent_at[0] and 0 < flop < sim.flop()
    assert sim.detectors.first_technological[1] > flop
    blind = _ladder_world(
        habitat=0.0, dex=0.9, land_fraction=0.4
    )  # capped below fire: never technological
    assert blind.species.intelligent_at[0] > 0 and blind.species.technological_at[0] == -1


@pytest.mark.parametrize("r", [1, 2, 5])  # 2 r < 11: local (a larger radius is well mixed)
def test_local_learners_copy_the_best_conspecific_within_their_social_radius(r):
    """With no copying loss or noise, a learner ends with the best skill among conspecifics (itself excluded)
    within Chebyshev distance r on the torus -- checked against brute force, wrap-around included."""
    rng = np.random.default_rng(r)
    width, height, n = 19, 11, 160
    ag = Agents(n, age=0, genome=0.5)  # juveniles (age 0 < maturity) learn at juvenile_rate = 1
    ag.x[:n], ag.y[:n] = rng.integers(0, width, n), rng.integers(0, height, n)
    ag.species[:n] = rng.integers(0, 3, n)
    ag.skill[:n] = rng.random(n).astype(ag.skill.dtype) * 10.0
    ag.genome[:n, G_SOCIALITY] = rng.random(n)  # the radius does not depend on it here
    p = params(
        juvenile_rate=1.0,
        adult_rate=1.0,
        alpha0=0.0,
        alpha_dexterity=0.0,
        alpha_brain=0.0,
        beta0=0.0,
        beta_brain=0.0,
        innovation_rate=0.0,
        skill_cap0=1e9,
        social_radius_min=r,
        social_radius_max=r,
    )
    index = cell_groups(ag.x, ag.y, width, height, n)
    before = ag.skill[:n].copy()
    best, row, second = culture.species_top2(ag.species, ag.skill, n, 3)
    none = np.zeros(0, np.float64)
    attempts, innovations = call(
        culture.learn_and_innovate,
        **kargs(
            ag,
            (height, width),
            skill_prev=before.copy(),
            habitat=np.ones((height, width), np.uint8),
            n=n,
            order=index["order"],
            cell_end=index["cell_end"],
            best=best,
            best_row=row,
            second=second,
            threshold=none,
            min_dexterity=none,
            needs_land=np.zeros(0, np.uint8),
            seed=3,
            tick=5,
            p=p,
        ),
    )
    dx = np.abs(ag.x[:n, None].astype(int) - ag.x[None, :n])
    dy = np.abs(ag.y[:n, None].astype(int) - ag.y[None, :n])
    near = (np.minimum(dx, width - dx) <= r) & (np.minimum(dy, height - dy) <= r)
    models = near & (ag.species[:n, None] == ag.species[None, :n]) & ~np.eye(n, dtype=bool)
    want = np.maximum(before, np.where(models, before[None, :], -np.inf).max(axis=1)).astype(
        before.dtype
    )
    assert models.any(axis=1).sum() > n // 2  # most learners have a model
    assert attempts == models.any(axis=1).sum() and innovations == 0  # an attempt needs a model
    np.testing.assert_array_equal(ag.skill[:n], want)
