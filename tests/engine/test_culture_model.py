"""Culture in the full model: Henrich's (2004) result, the group equilibrium z*, the ladder's gates.

Every test runs :class:`Simulation` steps (movement, foraging, metabolism,
learning, births, deaths), with the genes fixed (mutation 0), innovation off
unless said, no technology ladder unless said, and food plentiful so that
nobody starves. The theory is docs/model.md §4 ("Cumulative culture at the
group level") and §7.9; :func:`theory_best_skill` is the approximation
derived there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.defaults import DEATH_STARVATION
from tests.helpers import TINY, fixed

EULER_GAMMA = 0.5772156649


# ------------------------------------------------------------------ theory (docs/model.md §4)
def _excess(y: float) -> float:
    """g(y) = E[(G - y)+] for G ~ Gumbel(0, 1) (= gamma - y + E1(exp(-y))), by the trapezoid rule."""
    if y < -8.0:
        return EULER_GAMMA - y  # G > y almost surely
    t = np.linspace(y, y + 60.0, 6001)
    f = -np.expm1(-np.exp(-t))  # P(G > t)
    return float(np.sum((f[1:] + f[:-1]) * 0.5) * (t[1] - t[0]))


def theory_best_skill(alpha: float, beta: float, c: float, rho: float, n: float, k: int) -> float:
    """Equilibrium skill z* of the best model of a group of ``n`` models whose learners take ``k`` lessons.

    The fixed point of z = L(z) + rho beta (gamma + ln n) (docs/model.md §4): lesson a copies the model
    of rank a, z - rho beta H(a-1) (the spacing of the top of a sample with an exponential tail of scale
    rho beta); a learner follows its mean path x_a = x_(a-1) + rho beta g((x_(a-1) - m_a) / beta) from 0,
    m_a = (1 - c) z_(a) - alpha; its chance to end above s is a sum over its lessons of one exceptional
    draw, an exponential tail of scale rho beta and location L = rho beta ln sum_a exp((m_a + (1/rho - 1)
    x_(a-1)) / beta); the best of n learners lies rho beta (gamma + ln n) above L.
    """
    if k < 1 or n < 1:
        return 0.0
    spacing = rho * beta * np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, k))])

    def next_best(z: float) -> float:
        x, terms = 0.0, []
        for a in range(k):
            m = (1.0 - c) * (z - spacing[a]) - alpha
            terms.append((m + (1.0 / rho - 1.0) * x) / beta)
            x += rho * beta * _excess((x - m) / beta)
        t = np.array(terms)
        loc = rho * beta * (t.max() + math.log(np.exp(t - t.max()).sum()))
        return max(0.0, loc + rho * beta * (EULER_GAMMA + math.log(n)), x)

    z = 10.0 * beta
    for _ in range(5000):
        nz = next_best(z)
        if abs(nz - z) < 1e-7:
            break
        z = 0.5 * (z + nz)
    return z


# ------------------------------------------------------------------ (a) one lesson round: Henrich (2004)
def henrich_rounds(
    n: int, groups: int, rounds: int, culture: dict, seed: int = 3, z0: float = 100.0
):
    """Changes of the best skill over one lesson round, ``groups * rounds`` of them.

    Each of ``groups`` species has one adult model of skill ``z0`` and ``n`` juvenile learners; its
    adults are all its members' models (the social radius covers the 16 x 16 world: well mixed), and
    the species are independent groups because models are conspecific. A round is one full tick
    (``Simulation.step``) in which every learner makes its first lesson (``juvenile_rate`` 1) from
    the model of prestige rank 1, after which the learners' skills and lesson counts are reset. The
    learners never mature within the rounds, the model never breeds (its store is smaller than the
    birth energy) and nobody starves.
    """
    genes = {"brain": fixed(0.5), "dexterity": fixed(0.5), "childhood": fixed(0.0),
             "habitat": fixed(1.0), "fecundity": fixed(0.0)}  # fmt: skip
    o = {
        **TINY,  # the tiny world's physics (tests/worlds/tiny.yaml), not the default world's
        "world.width": 16, "world.height": 16, "world.habitat.land_fraction": 1.0,
        "species": [{"name": f"g{s}", "count": n + 1, "genes": genes} for s in range(groups)],
        "traits.sociality.radius_min": 8, "traits.sociality.radius_max": 8,  # 2 r >= 16: well mixed
        "traits.childhood.maturity_min": 5000, "traits.childhood.maturity_max": 5000,
        "traits.lifespan.max_age_min": 10000, "traits.lifespan.max_age_max": 10000,
        "physiology.max_energy": 30.0, "traits.fecundity.birth_energy_max": 40.0,  # no births
        # no upkeep and free moves: whatever the crowding, nobody starves
        "physiology.base_metabolism": 0.0, "physiology.move_cost": 0.0,
        **{f"traits.{t}.upkeep": 0.0 for t in ("lifespan", "sociality", "dexterity", "brain")},
        "culture.complexity": 0.0, "culture.learning_rate": 1.0, "culture.learning_rate_brain": 0.0,
        "culture.juvenile_rate": 1.0, "culture.adult_rate": 0.0, "culture.innovation_rate": 0.0,
        "culture.max_models": 32, "culture.skill_payoff": 0.0, "technology.ladder": [],
        **{f"culture.{k}": v for k, v in culture.items()},
    }  # fmt: skip
    sim = Simulation(load_world(overrides=o), seed=seed)
    p = sim.pop
    first = np.searchsorted(p.live("species"), np.arange(groups))  # founders are listed by species
    p.age[first] = 5000
    models = p.live("id")[first]  # rows move (survivors are stored in cell order): follow the ids
    out = []
    for _ in range(rounds):
        p.skill[: p.n] = np.where(np.isin(p.live("id"), models), z0, 0.0)
        p.lessons[: p.n] = 0
        attempts = sim.counters.learning_attempts
        sim.step()
        assert p.n == groups * (n + 1), "nobody is born or dies during the rounds"
        assert sim.counters.learning_attempts - attempts == groups * n  # one lesson per learner
        learner = ~np.isin(p.live("id"), models)
        sp, z = p.live("species"), p.live("skill")
        best = np.full(groups, -np.inf)
        np.maximum.at(best, sp[learner], z[learner])
        out.append(best - z0)
    return np.concatenate(out)


#: alpha = alpha0 + alpha_d (1 - dexterity 0.5) + alpha_b (1 - brain 0.5) = 2, beta = beta0 + beta_b 0.5 = 1
LOW = {"alpha": 0.5, "alpha_dexterity": 1.0, "alpha_brain": 2.0, "beta": 0.5, "beta_brain": 1.0}
#: alpha = 1 + 1 + 1 = 3, beta = 0.25 + 0.25 = 0.5
HIGH = {"alpha": 1.0, "alpha_dexterity": 2.0, "alpha_brain": 2.0, "beta": 0.25, "beta_brain": 0.5}
#: (culture parameters, N) on both sides of N*
HENRICH_CASES = [(LOW, 2), (LOW, 20), (HIGH, 50), (HIGH, 1000)]


@pytest.mark.parametrize(("culture", "n"), HENRICH_CASES)
def test_henrich_one_lesson_round_changes_the_best_skill_by_minus_alpha_plus_beta_gamma_ln_n(
    culture, n
):
    """E[dz_best] = -alpha + beta (gamma + ln N) within 4 standard errors; skill is gained above
    N* = exp(alpha / beta - gamma) and lost below (alpha 2, beta 1: N* = 4.2; alpha 3, beta 0.5: N* = 226)."""
    alpha = culture["alpha"] + 0.5 * culture["alpha_dexterity"] + 0.5 * culture["alpha_brain"]
    beta = culture["beta"] + 0.5 * culture["beta_brain"]
    groups, rounds = (25, 40) if n < 100 else (20, 25)
    dz = henrich_rounds(n, groups, rounds, culture)
    expected = -alpha + beta * (EULER_GAMMA + math.log(n))
    se = (
        beta * math.pi / math.sqrt(6) / math.sqrt(len(dz))
    )  # a Gumbel maximum's sd is beta pi / sqrt 6
    assert abs(dz.mean() - expected) < 4 * se, (dz.mean(), expected, se)
    assert dz.std() == pytest.approx(beta * math.pi / math.sqrt(6), rel=0.15)
    n_star = math.exp(alpha / beta - EULER_GAMMA)
    assert (dz.mean() > 0) == (n > n_star), "skill accumulates above N* and is lost below"


# ------------------------------------------------------------------ (b) the equilibrium z*
#: alpha = 2 + 14 (1 - brain 0.5) = 9, beta = 2 + 2 (0.5) = 3: N* = exp(3 - gamma) = 11.3;
#: complexity 0.1; rho = 0.3 + 0.4 (0.5) = 0.5
EQ_CULTURE = {
    "alpha": 2.0, "alpha_dexterity": 0.0, "alpha_brain": 14.0, "beta": 2.0, "beta_brain": 2.0,
    "complexity": 0.1, "learning_rate": 0.3, "learning_rate_brain": 0.4, "juvenile_rate": 1.0,
    "adult_rate": 0.0, "innovation_rate": 0.0, "max_models": 64, "skill_payoff": 0.0,
}  # fmt: skip
EQ_ALPHA, EQ_BETA, EQ_C, EQ_RHO = 9.0, 3.0, 0.1, 0.5
N_STAR = math.exp(EQ_ALPHA / EQ_BETA - EULER_GAMMA)
R_MAX = 19  # social radius at sociality 1 (2 R_MAX < 40: always local)
TICKS = 1500


def equilibrium_run(radius: int, lessons: int, seed: int = 1) -> dict[str, float]:
    """One species at fixed brain on a 40 x 40 world with plentiful food, at most 300 agents.

    The sociality gene sets the social radius (1 + 18 sociality), the childhood gene the age of
    maturity (40 childhood = lessons + 0.5: a juvenile makes ``lessons`` lessons, one per tick, as
    long as it sees enough models). Lifespans vary (gene sd 0.3, no mutation) so generations overlap.
    Founders are adults of skill 5. Measured over the second half of the run, every 10 ticks, pooled
    over the juveniles (the learners) present: the best adult skill each sees (the skill of its
    group's best model, z_b; 0 if it sees none) and the number of adults it sees (n_v); over the
    adults: the lessons they made (k) and their mean skill.
    """
    genes = {
        "brain": fixed(0.5), "dexterity": fixed(0.5), "habitat": fixed(1.0), "fecundity": fixed(1.0),
        "sociality": fixed((radius - 1) / (R_MAX - 1)), "childhood": fixed((lessons + 0.5) / 40.0),
        "lifespan": {"mean": 0.5, "sd": 0.3, "mutation": 0.0},
    }  # fmt: skip
    o = {
        **TINY,  # the tiny world's physics (tests/worlds/tiny.yaml), not the default world's
        "world.width": 40, "world.height": 40, "world.habitat.land_fraction": 1.0,
        "world.food.land.regrowth": 0.5, "world.food.land.capacity": 20.0,
        "species": [{"name": "a", "count": 150, "adult": True, "genes": genes}],
        "sim.population_cap": 300,
        "traits.sociality.radius_min": 1, "traits.sociality.radius_max": R_MAX,
        "traits.sociality.attraction": 0.0,
        "traits.childhood.maturity_min": 0, "traits.childhood.maturity_max": 40,
        "traits.lifespan.max_age_min": 40, "traits.lifespan.max_age_max": 120,
        "traits.brain.upkeep": 0.0, "technology.ladder": [],
        **{f"culture.{k}": v for k, v in EQ_CULTURE.items()},
    }  # fmt: skip
    sim = Simulation(load_world(overrides=o), seed=seed)
    p = sim.pop
    p.skill[: p.n] = 5.0
    h, w = sim.grids.habitat.shape
    best, seen, lessons, mean = [], [], [], []
    for t in range(TICKS):
        sim.step()
        if t < TICKS // 2 or t % 10:
            continue
        adult = sim.adults()
        x, y, z = p.live("x").astype(int), p.live("y").astype(int), p.live("skill")
        dx = np.abs(x[~adult, None] - x[None, adult])
        dy = np.abs(y[~adult, None] - y[None, adult])
        near = (np.minimum(dx, w - dx) <= radius) & (np.minimum(dy, h - dy) <= radius)
        best.append(np.where(near, z[None, adult], 0.0).max(axis=1, initial=0.0))
        seen.append(near.sum(axis=1))
        lessons.append(p.live("lessons")[adult].mean())
        mean.append(z[adult].mean())
    assert sim.counters.deaths[:, DEATH_STARVATION].sum() == 0, "food is plentiful: nobody starves"
    n_v, k = float(np.concatenate(seen).mean()), float(np.mean(lessons))
    return {"z_b": float(np.concatenate(best).mean()), "n_v": n_v, "k": k, "mean": float(np.mean(mean)),
            "theory": theory_best_skill(EQ_ALPHA, EQ_BETA, EQ_C, EQ_RHO, n_v, round(k))}  # fmt: skip


def n_eff(n_v: float, k: float) -> float:
    """N_eff = n_v K_k: models in view times the effective number of distinct models copied (docs/model.md §4)."""
    ranks = np.arange(max(1, round(k)))
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, len(ranks)))])
    return n_v * float(np.exp(-(1 - EQ_C) * EQ_RHO * harmonic).sum()) if k >= 0.5 else 0.0


def _check_sweep(runs: list[dict[str, float]], rise: float = 10.0) -> None:
    """Each run near the theory and ~0 below N*; z_b rising along the sweep (allowing 1 of noise) by ``rise``."""
    z = [r["z_b"] for r in runs]
    for r in runs:
        # the approximation of docs/model.md §4, within 30 % + 1.5: it is coarsest near and below N*, where
        # the full model keeps a residue of 0.4-1.1 (seeds 1-4) that it puts at ~0.1
        assert abs(r["z_b"] - r["theory"]) <= 0.3 * r["theory"] + 1.5, r
        if n_eff(r["n_v"], r["k"]) < N_STAR:
            assert r["z_b"] < 1.5, f"below N* = {N_STAR:.1f} skill collapses to ~0: {r}"
    assert all(b > a - 1.0 for a, b in zip(z, z[1:])), f"z* rises with N_eff: {z}"
    assert z[-1] > z[0] + rise, f"z* rises with N_eff: {z}"


def test_equilibrium_skill_rises_with_the_social_radius_and_collapses_below_n_star():
    """Sociality sets how many models a learner sees (n_v grows as the square of the radius)."""
    runs = [equilibrium_run(r, lessons=20) for r in (1, 2, 3, 5, 8, 12, 19)]
    assert [round(r["k"]) for r in runs][-1] >= 18
    assert all(b["n_v"] > a["n_v"] for a, b in zip(runs, runs[1:]))
    _check_sweep(runs)


def test_equilibrium_skill_rises_with_childhood_and_collapses_below_n_star():
    """Childhood sets the number of lessons k (distinct ranked models, the learning curve). With no lesson
    skill dies with the founders; in a small group (radius 3: ~9 models in view) a single lesson leaves
    N_eff below N* while four lift it above -- and lessons cannot outnumber the models in view."""
    runs = [equilibrium_run(8, lessons=k) for k in (0, 1, 2, 4, 8, 16, 30)]
    k = [r["k"] for r in runs]
    assert [round(v) for v in k[:5]] == [0, 1, 2, 4, 8] and k[4] < k[5] < k[6] < 30
    assert runs[0]["z_b"] == 0.0, "no lessons: the founders' skill dies with them"
    _check_sweep(runs)
    small = [equilibrium_run(3, lessons=k) for k in (1, 4, 16)]
    assert n_eff(small[0]["n_v"], small[0]["k"]) < N_STAR < n_eff(small[1]["n_v"], small[1]["k"])
    _check_sweep(small[:2], rise=1.0)
    # a lesson of rank a needs a models in view at that tick: with ~8 in view, far fewer than 16 lessons
    assert small[2]["k"] < 12, "a learner cannot take more lessons than it sees distinct models"


# ------------------------------------------------------------------ innovation and the ladder in the full model
def _innovating_world(genes: dict, extra: dict | None = None, count: int = 400) -> dict:
    """Adult founders that innovate (and make no lesson unless ``extra`` says), on a 48 x 48 world."""
    o = {
        **TINY,  # the tiny world's physics (tests/worlds/tiny.yaml), not the default world's
        "world.width": 48, "world.height": 48,
        "world.food.land.regrowth": 0.3, "world.food.water.regrowth": 0.3,
        "species": [{"name": "a", "count": count, "adult": True, "genes": genes}],
        "traits.sociality.attraction": 0.0,
        "culture.juvenile_rate": 0.0, "culture.adult_rate": 0.0, "culture.innovation_rate": 0.5,
        "culture.innovation_brain_exponent": 2.0, "culture.innovation_dexterity_weight": 0.5,
        "culture.innovation_step": 0.5, "culture.skill_payoff": 0.0,
    }  # fmt: skip
    o.update(extra or {})
    return o


def test_innovation_grows_with_brain_and_dexterity():
    def innovations(brain: float, dex: float) -> int:
        genes = {"brain": fixed(brain), "dexterity": fixed(dex), "childhood": fixed(0.0)}
        sim = Simulation(
            load_world(overrides=_innovating_world(genes, {"culture.innovation_rate": 0.1})), seed=3
        )
        sim.advance(30)
        return sim.counters.innovations

    assert innovations(0.9, 0.5) > innovations(0.3, 0.5) > 0
    assert innovations(0.6, 0.9) > innovations(0.6, 0.1)


#: tools (2, hands 0.3), fire (5, on land), metal (9, hands 0.5)
GATED = [
    {"name": "tools", "threshold": 2.0, "min_dexterity": 0.3, "hard_food": True},
    {"name": "fire", "threshold": 5.0, "needs_land": True},
    {"name": "metal", "threshold": 9.0, "min_dexterity": 0.5},
]


def _ladder_world(habitat: float, dex: float, land_fraction: float, fire_substitute: bool = False):
    """Adults innovate, juveniles copy them faithfully, for 150 ticks: skill passes every threshold."""
    genes = {"habitat": fixed(habitat, min=habitat, max=habitat), "dexterity": fixed(dex),
             "brain": fixed(1.0), "childhood": fixed(0.0)}  # fmt: skip
    learn = {"culture.juvenile_rate": 1.0, "culture.learning_rate": 1.0, "culture.complexity": 0.0,
             "culture.alpha": 0.0, "culture.alpha_dexterity": 0.0, "culture.alpha_brain": 0.0}  # fmt: skip
    o = _innovating_world(
        genes, {"world.habitat.land_fraction": land_fraction, "technology.ladder": GATED, **learn}
    )
    sim = Simulation(load_world(overrides=o), seed=5)
    if fire_substitute:
        sim.species.fire_substitute[0] = 1
    sim.advance(150)
    return sim


def test_requirements_block_holding_not_skill():
    """Skill has no ceiling; a milestone is held only where its requirements are met, with every earlier one."""
    water = _ladder_world(habitat=0.0, dex=0.9, land_fraction=0.4)
    assert water.land_share() == 0.0
    assert water.pop.live("skill").max() > 9.0, "an aquatic culture keeps the skill"
    assert water.milestone_levels().max() == 1, (
        "aquatic agents hold tools, not fire nor anything above"
    )
    clumsy = _ladder_world(habitat=1.0, dex=0.1, land_fraction=0.6)
    assert clumsy.pop.live("skill").max() > 9.0 and clumsy.milestone_levels().max() == 0, (
        "no hands: nothing"
    )
    handy = _ladder_world(habitat=1.0, dex=0.9, land_fraction=0.6)
    assert handy.milestone_levels().max() == 3, "land and hands: the whole ladder"
    mid = _ladder_world(habitat=1.0, dex=0.4, land_fraction=0.6)
    assert mid.milestone_levels().max() == 2, "dexterity 0.4: tools and fire, not metal"
    sub = _ladder_world(habitat=0.0, dex=0.9, land_fraction=0.4, fire_substitute=True)
    assert sub.milestone_levels().max() == 3, "a fire substitute lifts the land requirement"


def test_milestone_events_and_detectors_are_recorded():
    sim = _ladder_world(habitat=1.0, dex=0.9, land_fraction=0.6)
    reached = [e[3] for e in sim.events if e[1] == "milestone"]
    assert any("tools" in d for d in reached) and any("metal" in d for d in reached)
    assert sim.flop() > 0 and sim.counters.innovations > 0


def test_detectors_fire_after_their_windows_with_compute_recorded():
    sim = _ladder_world(
        habitat=1.0, dex=0.9, land_fraction=0.6
    )  # brain fixed at 1.0 > 0.7 from tick 1
    w = sim.world.detectors
    assert (
        sim.species.intelligent_at[0] == w.intelligence_window
    )  # held from tick 1 through `window`
    tech_at = int(sim.species.technological_at[0])
    assert tech_at > w.tech_window, "technology needs the final milestone held for a whole window"
    events = [e for e in sim.events if e[1] == "technological"]
    assert [e[0] for e in events] == [tech_at]
    tick, flop, sid = sim.detectors.first_intelligent
    assert sid == 0 and tick == sim.species.intelligent_at[0] and 0 < flop < sim.flop()
    assert sim.detectors.first_technological[1] > flop
    blind = _ladder_world(
        habitat=0.0, dex=0.9, land_fraction=0.4
    )  # held below fire: never technological
    assert blind.species.intelligent_at[0] > 0 and blind.species.technological_at[0] == -1
