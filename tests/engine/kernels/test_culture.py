"""Culture kernels: ranked distinct adult models, the learning curve, complexity, innovation.

Hand-checked cases first, then the kernel against a plain-Python statement of
the rule (docs/model.md §7.9) on random populations, local (torus wrap
included) and well mixed. The full model's group-level behaviour (Henrich's
result, the equilibrium z*) is tested in ``tests/engine/test_culture_model.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evosim.defaults import G_BRAIN, G_DEXTERITY, G_SOCIALITY, GENES, RNG_INNOVATE, RNG_LEARN
from evosim.engine import state as st
from evosim.engine.kernels import culture
from evosim.engine.kernels.phenotype import maturity
from evosim.engine.kernels.rng import gumbel, uniform
from tests.helpers import Agents, cell_groups, params

#: Juveniles are younger than this (maturity_min = maturity_max), adults older.
MATURITY = 10
JUVENILE, ADULT = 0, 100

#: Copying is exact (no loss, no noise) and complete (rho = 1) unless a test says otherwise.
EXACT = {
    "juvenile_rate": 1.0, "adult_rate": 0.0, "alpha0": 0.0, "alpha_dexterity": 0.0,
    "alpha_brain": 0.0, "complexity": 0.0, "beta0": 0.0, "beta_brain": 0.0, "learning_rate": 1.0,
    "learning_rate_brain": 0.0, "innovation_rate": 0.0, "max_models": 32,
    "maturity_min": MATURITY, "maturity_max": MATURITY,
}  # fmt: skip


def cparams(**kw: float):
    """Culture params: :data:`EXACT` with ``kw`` replaced."""
    return params(**{**EXACT, **kw})


def agents(ag: Agents) -> st.Agents:
    """The test's agent arrays as the kernels take them."""
    return st.Agents(**{f: ag.a[f] for f in st.Agents._fields})


def species_only(species: np.ndarray) -> st.Agents:
    """Agents of which only ``species`` matters (for :func:`culture.species_top_models`)."""
    zero = {f: np.zeros(len(species), dt) for f, dt in st.DTYPES[st.Agents].items()}
    zero["genome"] = np.zeros((len(species), len(GENES)), st.DTYPES[st.Agents]["genome"])
    return st.Agents(**{**zero, "species": np.asarray(species, zero["species"].dtype)})


def learn(ag: Agents, shape, p, *, manipulators=None, seed=3, tick=5, n_species=None):
    """One tick of ``learn_and_innovate`` on ``ag`` as the simulation calls it; returns (attempts, innovations)."""
    height, width = shape
    n = ag.n
    a = agents(ag)
    n_species = n_species or int(ag.species[:n].max()) + 1
    model_z = np.zeros(n, np.float32)
    culture.model_skills(a, n, p, model_z)
    index = cell_groups(ag.x, ag.y, width, height, n)
    top = culture.species_top_models(a, model_z, n, n_species, int(p.max_models) + 1)
    grants = np.zeros(n_species, np.float32)
    if manipulators is not None:
        grants[:] = manipulators
    sa = st.SpeciesArrays(
        grants, *(np.zeros(n_species, d) for d in (np.uint8, np.float32)),
        *(np.zeros((n_species, len(GENES)), d) for d in (np.float32,) * 3 + (np.float64,)),
    )  # fmt: skip
    return culture.learn_and_innovate(
        a,
        n,
        culture.Models(model_z, *top),
        st.Cells(np.zeros((height, width), np.uint8), *([None] * 12), 0),
        st.Index(index["order"], index["group_start"], index["cell_end"], index["n_groups"]),
        sa,
        st.Clock(seed, tick),
        p,
    )


# ------------------------------------------------------------------ models and their ranking
def test_model_skills_lists_adults_only():
    p = cparams()
    ag = Agents(4, age=[JUVENILE, MATURITY - 1, MATURITY, ADULT], genome=0.5)
    ag.skill[:4] = [1.0, 2.0, 3.0, 4.0]
    out = np.zeros(4, np.float32)
    culture.model_skills(agents(ag), 4, p, out)
    assert out.tolist() == [-np.inf, -np.inf, 3.0, 4.0]  # adult from the age of maturity on


def test_species_top_models_hand_checked():
    z = np.array([5.0, -np.inf, 7.0, 1.0, 9.0, 3.0, 7.0, -np.inf], np.float32)
    sp = np.array([0, 0, 0, 1, 0, 1, 2, 2], np.int32)
    vals, rows, cnt = culture.species_top_models(species_only(sp), z, 8, 4, 2)
    # species 0 has 3 models, kept to depth 2; juveniles are skipped
    assert cnt.tolist() == [2, 2, 1, 0]
    assert vals[0].tolist() == [9.0, 7.0] and rows[0].tolist() == [4, 2]
    assert vals[1].tolist() == [3.0, 1.0] and rows[1].tolist() == [5, 3]
    assert vals[2].tolist() == [7.0, -np.inf] and rows[2].tolist() == [6, -1]
    assert (vals[3] == -np.inf).all() and (rows[3] == -1).all()


def test_species_top_models_matches_sorting():
    rng = np.random.default_rng(1)
    n, depth = 500, 7
    z = rng.random(n).astype(np.float32) * 10
    z[rng.random(n) < 0.3] = -np.inf
    sp = rng.integers(0, 5, n).astype(np.int32)
    vals, rows, cnt = culture.species_top_models(species_only(sp), z, n, 5, depth)
    for s in range(5):
        mine = np.flatnonzero((sp == s) & (z > -np.inf))
        want = np.sort(z[mine].astype(np.float64))[::-1][:depth]
        assert cnt[s] == len(want) == depth
        np.testing.assert_array_equal(vals[s], want)
        np.testing.assert_array_equal(z[rows[s]], want)  # each row holds its value
        assert len(set(rows[s].tolist())) == depth  # distinct models


def test_the_a_th_lesson_copies_the_model_of_rank_a_plus_1_in_view_with_torus_wrap():
    """Learners on cell (0, 0) of a 10 x 10 torus, social radius 1: the models in view are the adults of
    its species on the 3 x 3 square around it, which wraps to x = 9 and y = 9."""
    p = cparams(social_radius_min=1, social_radius_max=1)
    # rows 0-4: juvenile learners on (0, 0) with 0..4 lessons made; then the models:
    ag = Agents(10, age=JUVENILE, genome=0.5)
    ag.lessons[:5] = [0, 1, 2, 3, 4]
    ag.skill[:5] = [0.0, 0.0, 0.0, 0.0, 6.5]
    models = [  # (x, y, age, species, skill)
        (9, 9, ADULT, 0, 9.0),  # diagonal neighbour across both wraps: rank 1
        (1, 0, ADULT, 0, 7.0),  # rank 2
        (0, 9, ADULT, 0, 5.0),  # across the y wrap: rank 3
        (2, 0, ADULT, 0, 8.0),  # two cells away: out of view
        (0, 0, ADULT, 1, 6.0),  # same cell, another species: not a model
    ]
    for k, (x, y, a, s, z) in enumerate(models, start=5):
        ag.x[k], ag.y[k], ag.age[k], ag.species[k], ag.skill[k] = x, y, a, s, z
    attempts, innovations = learn(ag, (10, 10), p)
    # ranks 1, 2, 3; the learner with 3 lessons sees no 4th model: no lesson (not counted);
    # the learner with 4 lessons and skill 6.5 sees no 5th either and keeps its skill
    assert ag.skill[:5].tolist() == [9.0, 7.0, 5.0, 0.0, 6.5]
    assert ag.lessons[:5].tolist() == [1, 2, 3, 3, 4]
    assert attempts == 3 and innovations == 0
    # adults do not learn (adult_rate 0)
    assert ag.skill[5:10].tolist() == [9.0, 7.0, 5.0, 8.0, 6.0]
    assert ag.lessons[5:10].tolist() == [0] * 5


def test_a_lesson_below_the_learners_skill_changes_nothing_but_counts():
    p = cparams(social_radius_min=1, social_radius_max=1)
    ag = Agents(2, age=[JUVENILE, ADULT], genome=0.5)
    ag.skill[:2] = [8.0, 5.0]
    attempts, _ = learn(ag, (5, 5), p)
    assert (
        ag.skill[0] == 8.0 and ag.lessons[0] == 1 and attempts == 1
    )  # learning never lowers skill


def test_juveniles_are_not_models():
    p = cparams(social_radius_min=1, social_radius_max=1)
    ag = Agents(2, age=[JUVENILE, JUVENILE], genome=0.5)
    ag.skill[:2] = [0.0, 5.0]
    assert learn(ag, (5, 5), p) == (0, 0)
    assert ag.skill[:2].tolist() == [0.0, 5.0] and ag.lessons[:2].tolist() == [0, 0]


def test_well_mixed_learners_rank_every_adult_of_their_species_but_themselves():
    """Social radius 3 on a 6-cell-high grid (2 r >= height): the whole species is in view wherever it is."""
    p = cparams(social_radius_min=3, social_radius_max=3, adult_rate=1.0)
    ag = Agents(7, age=ADULT, genome=0.5, x=[0, 0, 50, 99, 20, 20, 7], y=[0, 5, 3, 1, 2, 2, 0])
    ag.species[:7] = [0, 0, 0, 0, 1, 0, 0]
    ag.age[5:7] = JUVENILE
    ag.skill[:7] = [1.0, 4.0, 3.0, 2.0, 50.0, 0.0, 0.0]
    ag.lessons[:7] = [0, 0, 1, 3, 0, 2, 4]
    attempts, _ = learn(ag, (6, 100), p)
    # adults 0-3 (skills 1, 4, 3, 2) rank among the others: row 0 copies rank 1 = 4; row 1 (the best)
    # copies rank 1 among the others = 3; row 2 rank 2 among (1, 4, 2) = 2 < 3: kept; row 3 wants rank 4
    # among three others: none. Species 1 has no other adult. Juvenile 5 copies rank 3 = 2, juvenile 6
    # wants rank 5 of four: none.
    assert ag.skill[:7].tolist() == [4.0, 4.0, 3.0, 2.0, 50.0, 2.0, 0.0]
    assert ag.lessons[:7].tolist() == [1, 1, 2, 3, 0, 3, 4]
    assert attempts == 4


def test_max_models_ends_learning():
    p = cparams(social_radius_min=1, social_radius_max=1, max_models=2)
    ag = Agents(5, age=ADULT, genome=0.5)
    ag.age[:2] = JUVENILE
    ag.lessons[:2] = [1, 2]
    ag.skill[2:5] = [9.0, 8.0, 7.0]
    assert learn(ag, (5, 5), p)[0] == 1
    assert ag.skill[:2].tolist() == [8.0, 0.0] and ag.lessons[:2].tolist() == [2, 2]


# ------------------------------------------------------------------ the lesson's target and the learning curve
def test_the_learning_curve_approaches_the_target_geometrically():
    """k models of skill 10, alpha0 = 1, complexity 0.1, no noise: target T = 10 - 1 - 0.1 * 10 = 8;
    rho = 0.1 + 0.3 * brain 0.5 = 0.25, so after k lessons z = T (1 - 0.75^k); the 4th tick finds no 4th model."""
    p = cparams(alpha0=1.0, complexity=0.1, learning_rate=0.1, learning_rate_brain=0.3,
                social_radius_min=1, social_radius_max=1)  # fmt: skip
    ag = Agents(4, age=ADULT, genome=0.5)
    ag.age[0] = JUVENILE
    ag.skill[1:4] = 10.0
    curve = []
    for tick in range(1, 6):
        learn(ag, (5, 5), p, tick=tick)
        curve.append(float(ag.skill[0]))
    want = [8.0 * (1 - 0.75**k) for k in (1, 2, 3, 3, 3)]
    assert curve == pytest.approx(want, rel=1e-6)
    assert ag.lessons[0] == 3


def test_rho_is_capped_at_one():
    p = cparams(
        learning_rate=0.8, learning_rate_brain=0.6, social_radius_min=1, social_radius_max=1
    )
    ag = Agents(2, age=[JUVENILE, ADULT], genome=1.0)
    ag.skill[:2] = [2.0, 6.0]
    learn(ag, (5, 5), p)
    assert ag.skill[0] == 6.0  # 0.8 + 0.6 > 1: the whole gap, never beyond the target


def test_copying_loss_and_noise_hand_checked():
    """alpha = alpha0 + alpha_d (1 - d_eff) + alpha_b (1 - brain) + complexity z_m; beta = beta0 + beta_b brain;
    the noise is the Gumbel draw (seed, tick, id, RNG_LEARN, 1); d_eff includes the species' manipulators."""
    p = cparams(alpha0=0.3, alpha_dexterity=0.7, alpha_brain=1.1, complexity=0.05, beta0=0.4,
                beta_brain=0.9, learning_rate=0.2, learning_rate_brain=0.4,
                social_radius_min=1, social_radius_max=1)  # fmt: skip
    ag = Agents(4, age=[JUVENILE, ADULT, JUVENILE, ADULT], genome=0.5, species=[0, 0, 1, 1])
    ag.id[:4] = [17, 18, 19, 20]
    ag.genome[[0, 2], G_BRAIN] = 0.6
    ag.genome[[0, 2], G_DEXTERITY] = 0.2  # species 1 is granted manipulators 0.5 > 0.2
    ag.skill[:4] = [1.0, 12.0, 1.0, 12.0]
    seed, tick = 9, 4
    learn(ag, (5, 5), p, manipulators=[0.0, 0.5], seed=seed, tick=tick)
    brain = float(np.float32(0.6))  # genes are float32
    for row, d_eff in ((0, float(np.float32(0.2))), (2, 0.5)):
        alpha = 0.3 + 0.7 * (1 - d_eff) + 1.1 * (1 - brain) + 0.05 * 12.0
        beta = 0.4 + 0.9 * brain
        target = 12.0 - alpha + beta * gumbel(seed, tick, int(ag.id[row]), RNG_LEARN, 1)
        rho = 0.2 + 0.4 * brain
        want = 1.0 + rho * (target - 1.0) if target > 1.0 else 1.0
        assert ag.skill[row] == pytest.approx(want, rel=1e-6), row
    assert ag.skill[0] < ag.skill[2]  # manipulators lower the copying loss


def test_complexity_makes_advanced_skill_harder_to_copy():
    """The loss grows with the model's skill: with complexity c a noiseless lesson aims at (1 - c) z_m - alpha0."""
    p = cparams(alpha0=0.5, complexity=0.2, social_radius_min=1, social_radius_max=1)
    skills = [1.0, 5.0, 20.0, 100.0]
    ag = Agents(8, age=ADULT, genome=0.5, species=[0, 0, 1, 1, 2, 2, 3, 3])
    ag.age[[0, 2, 4, 6]] = JUVENILE
    ag.skill[[1, 3, 5, 7]] = skills
    learn(ag, (5, 5), p)
    got = ag.skill[[0, 2, 4, 6]].tolist()
    assert got == pytest.approx([max(0.0, 0.8 * z - 0.5) for z in skills], rel=1e-6)
    loss = np.array(skills) - np.array(got)
    assert (np.diff(loss) > 0).all()


def test_lessons_are_made_at_the_juvenile_and_adult_rates():
    p = cparams(juvenile_rate=0.3, adult_rate=0.1, social_radius_min=2, social_radius_max=2)
    n = 4000
    ag = Agents(n, age=JUVENILE, genome=0.5)
    ag.age[n // 2 :] = ADULT
    ag.skill[:n] = 1.0
    ag.id[:n] = np.arange(n) + 1000
    seed, tick = 2, 8
    attempts, _ = learn(ag, (5, 5), p, seed=seed, tick=tick)
    u = np.array([uniform(seed, tick, int(i), RNG_LEARN, 0) for i in ag.id[:n]])
    rate = np.where(np.arange(n) < n // 2, 0.3, 0.1)
    np.testing.assert_array_equal(ag.lessons[:n], (u < rate).astype(ag.lessons.dtype))
    assert attempts == (u < rate).sum()
    assert (
        abs(ag.lessons[: n // 2].mean() - 0.3) < 0.03
        and abs(ag.lessons[n // 2 :].mean() - 0.1) < 0.02
    )


# ------------------------------------------------------------------ innovation
def test_innovation_hand_checked():
    """Adults innovate with chance rate * brain^k * ((1 - w) + w d_eff), gaining the step; juveniles never."""
    p = cparams(juvenile_rate=0.0, innovation_rate=0.6, innovation_brain_exponent=2.0,
                innovation_dexterity_weight=0.5, innovation_step=0.75)  # fmt: skip
    rng = np.random.default_rng(0)
    n = 3000
    ag = Agents(n, age=ADULT, genome=0.5, species=rng.integers(0, 2, n))
    ag.age[: n // 3] = JUVENILE
    ag.genome[:n, G_BRAIN] = rng.random(n)
    ag.genome[:n, G_DEXTERITY] = rng.random(n)
    ag.skill[:n] = 2.0
    seed, tick = 4, 6
    _, innovations = learn(ag, (7, 7), p, manipulators=[0.0, 0.7], seed=seed, tick=tick)
    brain = ag.genome[:n, G_BRAIN].astype(np.float64)
    d_eff = np.maximum(ag.genome[:n, G_DEXTERITY], np.where(ag.species[:n] == 1, 0.7, 0.0))
    chance = 0.6 * brain**2 * (0.5 + 0.5 * d_eff.astype(np.float64))
    u = np.array([uniform(seed, tick, int(i), RNG_INNOVATE, 0) for i in ag.id[:n]])
    hit = (u < chance) & (np.arange(n) >= n // 3)
    np.testing.assert_array_equal(ag.skill[:n], np.where(hit, 2.75, 2.0).astype(np.float32))
    assert innovations == hit.sum() > 200
    assert (ag.lessons[:n] == 0).all()


def test_no_per_individual_cap_on_skill():
    """Skill has no ceiling: a brain-0 adult with dexterity 0 keeps innovating past any old cap."""
    p = cparams(juvenile_rate=0.0, innovation_rate=1.0, innovation_brain_exponent=0.0,
                innovation_dexterity_weight=0.0, innovation_step=7.0)  # fmt: skip
    ag = Agents(1, age=ADULT, genome=0.0)
    for tick in range(10):
        learn(ag, (3, 3), p, tick=tick)
    assert ag.skill[0] == 70.0


# ------------------------------------------------------------------ against the rule stated in plain Python
def reference(ag: Agents, shape, p, manipulators, seed, tick):
    """The rule of docs/model.md §7.9, agent by agent, from the models' skills before anyone learns."""
    height, width = shape
    n = ag.n
    adult = ag.age[:n] >= np.array([maturity(ag.genome[i], p) for i in range(n)])
    z0 = ag.skill[:n].astype(np.float64)
    skill, lessons = z0.copy(), ag.lessons[:n].astype(np.int64).copy()
    for i in range(n):
        sp, idx = int(ag.species[i]), int(ag.id[i])
        brain = float(ag.genome[i, G_BRAIN])
        d_eff = max(float(ag.genome[i, G_DEXTERITY]), float(manipulators[sp]))
        z = skill[i]
        rate = p.adult_rate if adult[i] else p.juvenile_rate
        rank = lessons[i] + 1
        if rate > 0 and rank <= p.max_models and uniform(seed, tick, idx, RNG_LEARN, 0) < rate:
            r = int(p.social_radius_min + (p.social_radius_max - p.social_radius_min)
                    * ag.genome[i, G_SOCIALITY] + 0.5)  # fmt: skip
            dx = np.abs(ag.x[:n].astype(int) - int(ag.x[i]))
            dy = np.abs(ag.y[:n].astype(int) - int(ag.y[i]))
            near = (np.minimum(dx, width - dx) <= r) & (np.minimum(dy, height - dy) <= r)
            if 2 * r >= width or 2 * r >= height:
                near[:] = True
            mine = near & (ag.species[:n] == sp) & adult & (np.arange(n) != i)
            ranked = np.sort(z0[mine])[::-1]
            if len(ranked) >= rank:
                zm = ranked[rank - 1]
                lessons[i] += 1
                alpha = (p.alpha0 + p.alpha_dexterity * (1 - d_eff) + p.alpha_brain * (1 - brain)
                         + p.complexity * zm)  # fmt: skip
                beta = p.beta0 + p.beta_brain * brain
                target = zm - alpha + beta * gumbel(seed, tick, idx, RNG_LEARN, 1)
                if target > z:
                    z += min(1.0, p.learning_rate + p.learning_rate_brain * brain) * (target - z)
        if adult[i] and p.innovation_rate > 0:
            w = p.innovation_dexterity_weight
            chance = p.innovation_rate * brain**p.innovation_brain_exponent * ((1 - w) + w * d_eff)
            if uniform(seed, tick, idx, RNG_INNOVATE, 0) < chance:
                z += p.innovation_step
        skill[i] = z
    return skill, lessons


@pytest.mark.parametrize("r", [1, 2, 4, 9])  # 2 r < 11 for r <= 5: local (r = 9 is well mixed)
def test_kernel_matches_the_rule_on_random_populations(r):
    rng = np.random.default_rng(r)
    width, height, n = 19, 11, 400
    p = cparams(juvenile_rate=0.7, adult_rate=0.2, alpha0=0.2, alpha_dexterity=0.5, alpha_brain=1.0,
                complexity=0.05, beta0=0.5, beta_brain=0.5, learning_rate=0.1, learning_rate_brain=0.5,
                innovation_rate=0.3, max_models=6, social_radius_min=r - 1 if r > 1 else r,
                social_radius_max=r, maturity_min=5, maturity_max=50)  # fmt: skip
    ag = Agents(n, genome=0.5)
    ag.x[:n], ag.y[:n] = rng.integers(0, width, n), rng.integers(0, height, n)
    ag.species[:n] = rng.integers(0, 3, n)
    ag.age[:n] = rng.integers(0, 60, n)
    ag.genome[:n] = rng.random((n, ag.genome.shape[1]))
    ag.skill[:n] = rng.random(n) * 10
    ag.lessons[:n] = rng.integers(0, 7, n)  # some at max_models (6)
    ag.id[:n] = rng.permutation(10 * n)[:n]
    grants = np.array([0.0, 0.6, 0.0])
    want_z, want_lessons = reference(ag, (height, width), p, grants, 7, 3)
    before = ag.lessons[:n].copy()
    attempts, innovations = learn(ag, (height, width), p, manipulators=grants, seed=7, tick=3)
    np.testing.assert_allclose(ag.skill[:n], want_z.astype(np.float32), rtol=1e-6)
    np.testing.assert_array_equal(ag.lessons[:n], want_lessons)
    assert attempts == (want_lessons - before).sum() > n // 10
    assert innovations > 0


def test_kernel_matches_the_rule_in_crowded_windows():
    """Windows of more models than a lesson's gathering buffer holds (culture.RANK_BUF) are ranked
    by the other path (insertion): the same rule, on both sides of the limit."""
    rng = np.random.default_rng(11)
    width, height, n = 11, 9, 2400
    p = cparams(juvenile_rate=0.9, adult_rate=0.5, beta0=0.5, learning_rate=0.3, max_models=60,
                social_radius_min=2, social_radius_max=2, maturity_min=5, maturity_max=5)  # fmt: skip
    ag = Agents(n, genome=0.5)
    crowd = rng.random(n) < 0.75  # three quarters on 2 x 2 cells: > RANK_BUF models in a window
    ag.x[:n] = np.where(crowd, rng.integers(4, 6, n), rng.integers(0, width, n))
    ag.y[:n] = np.where(crowd, rng.integers(3, 5, n), rng.integers(0, height, n))
    ag.species[:n] = rng.integers(0, 2, n)
    ag.age[:n] = np.where(rng.random(n) < 0.9, 10, 1)  # 90 % adults (models)
    ag.skill[:n] = rng.integers(0, 50, n)  # many equal skills
    ag.lessons[:n] = rng.integers(0, 60, n)
    ag.id[:n] = rng.permutation(10 * n)[:n]
    assert (crowd & (ag.age[:n] >= 5)).sum() > culture.RANK_BUF
    want_z, want_lessons = reference(ag, (height, width), p, np.zeros(2), 7, 3)
    attempts, _ = learn(ag, (height, width), p, seed=7, tick=3)
    np.testing.assert_allclose(ag.skill[:n], want_z.astype(np.float32), rtol=1e-6)
    np.testing.assert_array_equal(ag.lessons[:n], want_lessons)
    assert attempts > n // 4


def test_result_does_not_depend_on_row_order():
    rng = np.random.default_rng(5)
    width, height, n = 16, 12, 600
    p = cparams(juvenile_rate=0.8, adult_rate=0.3, alpha0=0.4, beta0=0.6, complexity=0.02,
                learning_rate=0.3, innovation_rate=0.2, social_radius_min=1, social_radius_max=3,
                maturity_min=5, maturity_max=40)  # fmt: skip
    base = Agents(n, genome=0.5)
    base.x[:n], base.y[:n] = rng.integers(0, width, n), rng.integers(0, height, n)
    base.species[:n] = rng.integers(0, 2, n)
    base.age[:n] = rng.integers(0, 50, n)
    base.genome[:n] = rng.random((n, base.genome.shape[1]))
    base.skill[:n] = rng.random(n) * 5
    base.lessons[:n] = rng.integers(0, 4, n)
    results = []
    for perm in (np.arange(n), rng.permutation(n)):
        ag = Agents(n)
        for k, v in base.a.items():
            v_ = v.copy()
            v_[:n] = v[:n][perm]
            ag.a[k] = v_
        learn(ag, (height, width), p)
        by_id = np.argsort(ag.id[:n])
        results.append((ag.skill[:n][by_id], ag.lessons[:n][by_id]))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_gumbel_draws_have_the_moments_the_theory_uses():
    """The mean change of the best of N lessons, -alpha + beta (gamma + ln N), rests on G ~ Gumbel(0, 1)."""
    g = np.array([gumbel(1, 2, i, RNG_LEARN, 1) for i in range(40000)])
    se = math.pi / math.sqrt(6) / math.sqrt(len(g))
    assert abs(g.mean() - 0.5772156649) < 4 * se
    assert g.std() == pytest.approx(math.pi / math.sqrt(6), rel=0.02)


@pytest.mark.parametrize("n_blocks", [1, 2, 7, 8, 9, 18, 28, 31, 32, 33, 100])
def test_the_strided_block_order_is_a_permutation_that_halves_evenly(n_blocks):
    order = [culture._spread.py_func(j, n_blocks) for j in range(n_blocks)]
    assert sorted(order) == list(range(n_blocks))
    # column by column: 0, SPREAD, 2 SPREAD, ... then 1, SPREAD + 1, ...
    assert order == sorted(range(n_blocks), key=lambda b: (b % culture.SPREAD, b))
    # two threads split the order in contiguous halves: each holds blocks from across the grid
    if n_blocks >= 2 * culture.SPREAD:
        half = n_blocks // 2
        first, second = order[:half], order[half:]
        assert min(first) == 0 and max(first) >= n_blocks - culture.SPREAD
        assert min(second) < culture.SPREAD and max(second) >= n_blocks - culture.SPREAD
