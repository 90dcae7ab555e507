"""Metabolism, parental feeding, reproduction with mutation, death and compaction."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest

from evosim.config.schema import World
from evosim.defaults import (
    DEATH_OLD_AGE,
    DEATH_STARVATION,
    G_DEXTERITY,
    GENES,
    HABITAT_DTYPE,
    LAND,
    N_GENES,
    RNG_MUTATE,
)
from evosim.engine.kernels import life
from evosim.engine.kernels.conf import JIT
from evosim.engine.kernels.ladder import held_level
from evosim.engine.kernels.phenotype import maturity
from evosim.engine.kernels.rng import normal_array
from evosim.engine.params import ladder_from_world
from evosim.engine.state import Arena, Tally
from tests.helpers import Agents, call, kargs, named, params

GENOME = [
    0.5,
    0.25,
    1.0,
    0.2,
    0.9,
    0.5,
    0.3,
]  # lifespan childhood sociality dexterity habitat brain fecundity


def test_metabolise_charges_the_upkeep_of_every_gene_and_ages():
    p = params(
        base_metabolism=0.4,
        lifespan_upkeep=0.1,
        childhood_upkeep=0.2,
        sociality_upkeep=0.02,
        dexterity_upkeep=0.05,
        brain_upkeep=0.4,
        brain_exponent=2.0,
    )
    ag = Agents(2, energy=10.0, age=[0, 41], genome=GENOME)
    ag.genome[1] = 0.0  # all genes 0: base metabolism only
    call(life.metabolise, **kargs(ag, p=p))
    upkeep = 0.4 + 0.1 * 0.5 + 0.2 * 0.25 + 0.02 * 1.0 + 0.05 * 0.2 + 0.4 * 0.5**2
    assert ag.energy[:2].tolist() == pytest.approx([10.0 - upkeep, 10.0 - 0.4])
    assert ag.age[:2].tolist() == [1, 42]


def test_brain_upkeep_is_steep():
    p = params(
        base_metabolism=0.0,
        lifespan_upkeep=0,
        childhood_upkeep=0,
        sociality_upkeep=0,
        dexterity_upkeep=0,
        brain_upkeep=1.0,
        brain_exponent=3.0,
    )
    ag = Agents(3, energy=10.0, genome=0.0)
    ag.set_gene("brain", [0.0, 0.5, 1.0])
    call(life.metabolise, **kargs(ag, p=p))
    assert ag.energy[:3].tolist() == pytest.approx([10.0, 10.0 - 0.125, 9.0])


def test_children_leave_their_parent_at_maturity():
    p = params(maturity_min=3, maturity_max=3)
    ag = Agents(3, energy=10.0, age=[50, 2, 0], genome=GENOME)
    ag.guardian[1:3] = 0
    call(life.metabolise, **kargs(ag, p=p))
    assert ag.guardian[:3].tolist() == [-1, -1, 0]


def test_feed_dependants_hand_checked():
    p = params(feed_rate=0.6, feed_reserve=5.0)
    # parent 0 (20: surplus 15, two children: 0.6 each); parent 3 (6: surplus 1, four children: 0.25 each);
    # parent 8 (4: below its reserve, feeds nothing)
    e = [20.0, 1.0, 1.0, 6.0, 1.0, 1.0, 1.0, 1.0, 4.0, 1.0]
    g = [-1, 0, 0, -1, 3, 3, 3, 3, -1, 8]
    ag = Agents(10, energy=e, guardian=g)
    call(life.feed_dependants, **kargs(ag, p=p, n_dep=np.zeros(10, np.int64), share=np.zeros(10)))
    assert ag.energy[:10].tolist() == pytest.approx(
        [18.8, 1.6, 1.6, 5.0, 1.25, 1.25, 1.25, 1.25, 4.0, 1.0]
    )
    # energy is passed on, not made
    assert ag.energy[:10].sum() == pytest.approx(sum(e))


def test_find_parents_needs_maturity_and_energy():
    p = params(maturity_min=10, maturity_max=10, birth_energy_min=12.0, birth_energy_max=40.0)
    # fecundity 0.5: birth energy 26
    ag = Agents(5, age=[9, 10, 50, 50, 10], energy=[100.0, 26.0, 25.9, 30.0, 0.0], genome=0.5)
    out = np.full(5, -1, np.int64)
    k = call(life.find_parents, **kargs(ag, p=p, out=out))
    assert k == 2 and out[:2].tolist() == [1, 3]
    ag.set_gene("fecundity", 1.0)  # r strategist: 12 is enough
    k = call(life.find_parents, **kargs(ag, p=p, out=out))
    assert out[:k].tolist() == [1, 2, 3]


def births(
    ag: Agents,
    parents,
    *,
    next_id=100,
    tick=7,
    seed=3,
    lo=0.0,
    hi=1.0,
    mutation=0.0,
    centroid=None,
    p=None,
    n_species=2,
):
    """Give birth to a child of each of ``parents``; ``lo``, ``hi``, ``mutation``: one value, or one per gene."""
    parents = np.asarray(parents, np.int64)
    k = len(parents)
    shape = (n_species, N_GENES)
    centroid = np.full(shape, 0.5) if centroid is None else np.asarray(centroid, np.float64)
    distant = np.zeros(k, np.uint8)
    bounds = {
        "lo": np.full(shape, lo, np.float32),
        "hi": np.full(shape, hi, np.float32),
        "mutation": np.full(shape, mutation, np.float32),
        "centroid": centroid,
    }
    call(
        life.give_birth,
        **kargs(
            ag,
            parents=parents,
            n_births=k,
            next_id=next_id,
            tick=tick,
            seed=seed,
            **bounds,
            p=p or params(),
            distant=distant,
        ),
    )
    ag.n += k
    return distant


def test_give_birth_hand_checked():
    p = params(offspring_share_min=0.2, offspring_share_max=0.6, maturity_min=5, maturity_max=5)
    ag = Agents(
        4,
        capacity=6,
        x=[1, 2, 3, 4],
        y=[5, 6, 7, 8],
        energy=[30.0, 26.0, 1.0, 20.0],
        species=[0, 1, 0, 1],
        genome=GENOME,
    )
    ag.id[:4] = [10, 11, 12, 13]
    ag.skill[:4] = 9.0
    ag.lessons[:4] = 5
    births(ag, [1, 3], p=p)
    # fecundity 0.3: share 0.6 + (0.2 - 0.6) * 0.3 = 0.48
    assert ag.n == 6
    assert ag.id[4:6].tolist() == [100, 101]
    assert ag.parent_id[4:6].tolist() == [11, 13]
    assert ag.species[4:6].tolist() == [1, 1]
    assert ag.x[4:6].tolist() == [2, 4] and ag.y[4:6].tolist() == [6, 8]
    assert ag.age[4:6].tolist() == [0, 0] and ag.birth_tick[4:6].tolist() == [7, 7]
    assert ag.energy[4:6].tolist() == pytest.approx([26.0 * 0.48, 20.0 * 0.48])
    assert ag.energy[[1, 3]].tolist() == pytest.approx([26.0 * 0.52, 20.0 * 0.52])
    assert np.array_equal(ag.genome[4:6], ag.genome[[1, 3]])  # no mutation: exact copies
    assert ag.guardian[4:6].tolist() == [1, 3]  # dependent on the parent's row
    # culture is learned, not inherited
    assert ag.skill[4:6].tolist() == [0.0, 0.0] and ag.lessons[4:6].tolist() == [0, 0]
    assert ag.energy[[0, 2]].tolist() == [30.0, 1.0]  # others untouched


def test_mutation_is_keyed_by_child_id_and_gene():
    n = 300
    ag = Agents(n, capacity=2 * n, genome=0.5)
    ag.id[:n] = np.arange(n) * 3 + 1
    births(ag, np.arange(n), next_id=5000, tick=11, seed=21, mutation=0.01)
    child = ag.genome[n : 2 * n].astype(np.float64)
    cid = np.arange(5000, 5000 + n, dtype=np.int64)
    for g in range(N_GENES):
        z = normal_array(21, 11, cid, RNG_MUTATE, g)
        want = np.clip(np.float32(0.5) + np.float32(0.01) * z, 0.0, 1.0).astype(np.float32)
        np.testing.assert_allclose(child[:, g], want, atol=1e-7)
    d = child - 0.5
    assert abs(d.mean()) < 0.002 and d.std() == pytest.approx(0.01, rel=0.1)


def test_mutation_is_clipped_to_the_species_bounds():
    n = 500
    ag = Agents(n, capacity=2 * n, genome=0.3)
    births(ag, np.arange(n), lo=0.2, hi=0.4, mutation=1.0)
    child = ag.genome[n : 2 * n]
    assert (child >= np.float32(0.2)).all() and (child <= np.float32(0.4)).all()
    assert (child == np.float32(0.2)).mean() > 0.3 and (child == np.float32(0.4)).mean() > 0.3
    inside = (child > np.float32(0.2)) & (child < np.float32(0.4))
    assert inside.any()


def test_fixed_genes_do_not_mutate():
    n = 50
    ag = Agents(n, capacity=2 * n, genome=0.37)
    mutation = np.zeros(N_GENES)
    mutation[GENES.index("brain")] = 0.2
    births(
        ag,
        np.arange(n),
        next_id=n,
        tick=1,
        seed=1,
        mutation=mutation,
        centroid=np.full((1, N_GENES), 0.37),
        n_species=1,
    )
    child = ag.genome[n : 2 * n]
    b = GENES.index("brain")
    assert (np.delete(child, b, axis=1) == np.float32(0.37)).all()
    assert (child[:, b] != np.float32(0.37)).mean() > 0.9


def test_distant_children_are_flagged_for_speciation():
    p = params(speciation_threshold=0.3)
    ag = Agents(2, capacity=4, genome=0.5)
    ag.genome[1] = 0.5
    ag.genome[1, 0] = 0.9  # 0.4 from the centroid along one gene
    distant = births(ag, [0, 1], p=p, centroid=np.full((2, N_GENES), 0.5))
    assert distant.tolist() == [0, 1]


def survivors(ag: Agents, p, *, cause, deaths, alive, gene_sum, lad=None, habitat=None,
              manipulators=None, fire_substitute=None, counts=None, centroid=None,
              tally=life.tally):  # fmt: skip
    """The deaths (``judge``, then ``tally``) on ``ag`` (default: land everywhere, empty ladder, no
    grants); returns m. ``tally`` may be one of its builds."""
    n_sp = len(alive)
    lad = (
        ladder_from_world(World.model_validate({"technology": {"ladder": []}}))
        if lad is None
        else lad
    )
    habitat = np.full((1, 1), LAND, HABITAT_DTYPE) if habitat is None else habitat
    grants = np.zeros(n_sp) if manipulators is None else np.asarray(manipulators, np.float64)
    fire = (
        np.zeros(n_sp, np.uint8)
        if fire_substitute is None
        else np.asarray(fire_substitute, np.uint8)
    )
    if counts is None:
        counts = (np.zeros(n_sp, np.int64), np.zeros(n_sp, np.int64), np.zeros(n_sp, np.int64),
                  np.zeros((n_sp, len(lad.threshold)), np.int64))  # fmt: skip
    kw = kargs(ag, p=p, habitat=habitat, manipulators=grants, fire_substitute=fire, lad=lad,
               cause=cause, deaths=deaths, alive=alive, sums=Tally(gene_sum, *counts))  # fmt: skip
    if centroid is not None:
        kw["centroid"] = centroid
    kw["buf"] = named(Arena, kw)  # one arena: judge writes the status tally reads
    call(life.judge, **kw)
    return call(tally, **kw)


def test_select_survivors_hand_checked():
    p = params(max_age_min=100, max_age_max=100)
    ag = Agents(
        6,
        energy=[1.0, 0.0, -2.0, 5.0, -1.0, 3.0],
        age=[5, 5, 5, 100, 100, 99],
        species=[0, 1, 0, 1, 1, 0],
        genome=0.5,
    )
    cause = np.full(6, -1, np.int8)
    deaths = np.zeros((2, 3), np.int64)
    alive = np.array([3, 3], np.int64)
    gene_sum = np.full((2, N_GENES), 99.0)
    centroid = np.full((2, N_GENES), 7.0)
    m = survivors(ag, p, cause=cause, deaths=deaths, alive=alive, gene_sum=gene_sum,
                  centroid=centroid)  # fmt: skip
    assert m == 2 and np.flatnonzero(cause == 0).tolist() == [0, 5]
    # starvation (energy <= 0) comes before old age (age >= max age)
    assert cause.tolist() == [
        0,
        DEATH_STARVATION,
        DEATH_STARVATION,
        DEATH_OLD_AGE,
        DEATH_STARVATION,
        0,
    ]
    assert deaths.tolist() == [[0, 1, 0], [0, 2, 1]]
    assert alive.tolist() == [2, 0]
    np.testing.assert_allclose(gene_sum, [[1.0] * N_GENES, [0.0] * N_GENES])
    # the survivors' mean genome; a species left without members keeps its last centroid
    assert centroid.tolist() == [[0.5] * N_GENES, [7.0] * N_GENES]


def test_lifespan_gene_sets_the_age_of_death():
    p = params(max_age_min=60, max_age_max=600)
    ag = Agents(3, energy=1.0, age=[59, 60, 329], genome=0.0)
    ag.set_gene("lifespan", [0.0, 0.0, 0.5])  # max ages 60, 60, 330
    cause = np.full(3, -1, np.int8)
    m = survivors(ag, p, cause=cause, deaths=np.zeros((1, 3), np.int64), alive=np.array([3]),
                  gene_sum=np.zeros((1, N_GENES)))  # fmt: skip
    assert m == 2 and np.flatnonzero(cause == 0).tolist() == [0, 2]


#: stone (1, d_eff >= 0.3), fire (3, on land), metal (6, d_eff >= 0.6)
GATED_LADDER = [
    {"name": "stone", "threshold": 1.0, "min_dexterity": 0.3},
    {"name": "fire", "threshold": 3.0, "needs_land": True},
    {"name": "metal", "threshold": 6.0, "min_dexterity": 0.6},
]


def test_select_survivors_counts_adults_holders_top_level_and_gated_per_species():
    """The detectors' and triggers' per-species counts, over survivors only, from the milestones each holds
    where it stands (dexterity and land gates, manipulators, fire substitute): compared with a direct count."""
    rng = np.random.default_rng(4)
    n, n_sp = 600, 3
    p = params(max_age_min=60, max_age_max=60, maturity_min=20, maturity_max=20)
    lad = ladder_from_world(World.model_validate({"technology": {"ladder": GATED_LADDER}}))
    habitat = (rng.random((6, 7)) < 0.5).astype(HABITAT_DTYPE)
    ag = Agents(n, energy=rng.uniform(-1, 5, n), age=rng.integers(0, 70, n), species=rng.integers(0, n_sp, n),
                genome=0.5, x=rng.integers(0, 7, n), y=rng.integers(0, 6, n))  # fmt: skip
    ag.skill[:n] = rng.uniform(0, 8, n)
    ag.genome[:n, G_DEXTERITY] = rng.random(n)
    manipulators = np.array([0.0, 0.0, 0.65])
    fire_substitute = np.array([0, 1, 0], np.uint8)
    adults, holders, top = (np.full(5, 9, np.int64) for _ in range(3))
    gated = np.full((5, 3), 9, np.int64)
    m = survivors(ag, p, lad=lad, habitat=habitat, manipulators=manipulators,
                  fire_substitute=fire_substitute, cause=np.zeros(n, np.int8),
                  deaths=np.zeros((n_sp, 4), np.int64), alive=np.zeros(n_sp, np.int64),
                  gene_sum=np.zeros((n_sp, N_GENES)), counts=(adults, holders, top, gated))  # fmt: skip
    live = (ag.energy[:n] > 0) & (ag.age[:n] < 60)
    assert m == live.sum() and 0 < m < n
    adult = ag.age[:n] >= maturity(ag.genome[0], p)
    sp = ag.species[:n]
    d_eff = np.maximum(ag.genome[:n, G_DEXTERITY].astype(np.float64), manipulators[sp])
    land_ok = (habitat[ag.y[:n], ag.x[:n]] == LAND) | (fire_substitute[sp] == 1)
    z = ag.skill[:n].astype(np.float64)
    level = np.array([held_level(z[i], d_eff[i], bool(land_ok[i]), lad, habitat, int(ag.x[i]), int(ag.y[i]))
                      for i in range(n)])  # fmt: skip
    # by hand: the level is the first milestone whose skill or requirement is missing
    blocked_by_need = np.zeros(n, bool)
    for i in range(n):
        lv = level[i]
        if lv < 3 and z[i] >= lad.threshold[lv]:
            blocked_by_need[i] = True
            need = d_eff[i] < lad.min_dexterity[lv] or (lad.needs_land[lv] and not land_ok[i])
            assert need, "a milestone whose skill is reached is withheld only by its requirement"
    for s in range(n_sp):
        mine = live & (sp == s) & adult
        assert adults[s] == mine.sum()
        assert holders[s] == (mine & (level == 3)).sum()
        assert top[s] == level[live & (sp == s)].max()
        for k in range(3):
            assert gated[s, k] == (mine & blocked_by_need & (level == k)).sum()
    assert gated[:n_sp].sum() > 20 and holders[:n_sp].sum() > 5  # the case is not empty
    assert (
        gated[2, 0] == 0 and gated[1, 1] == 0
    )  # granted hands pass 0.3; the substitute passes fire
    assert (adults[n_sp:] == 0).all() and (top[n_sp:] == 0).all() and (gated[n_sp:] == 0).all()


def test_compact_moves_kept_rows_to_the_front():
    a = np.array([10, 11, 12, 13, 14, 15])
    g = np.arange(12, dtype=np.float32).reshape(6, 2)
    keep = np.array([1, 2, 5, 0, 0, 0])
    life.compact(a, keep, 3)
    life.compact(g, keep, 3)
    assert a[:3].tolist() == [11, 12, 15]
    assert g[:3].tolist() == [[2, 3], [4, 5], [10, 11]]
    b = np.array([1, 2, 3])
    life.compact(b, np.array([0, 1, 2]), 3)
    assert b.tolist() == [1, 2, 3]


def test_remap_guardians_after_compaction():
    # rows 0..5; row 2 (a parent) dies, row 4 dies; children: 1 -> 0, 3 -> 2, 5 -> 0
    ag = Agents(6, guardian=[-1, 0, -1, 2, -1, 0])
    guardian = ag.guardian
    keep = np.array([0, 1, 3, 5], np.int64)
    life.compact(guardian, keep, 4)
    call(life.remap_guardians, **kargs(ag, keep=keep, m=4, n_old=6, new_row=np.zeros(6, np.int64)))
    assert guardian[:4].tolist() == [-1, 0, -1, 0]  # row 3 (now 2) is orphaned


TALLIES = {
    "tally": life.tally.serial,  # the one-thread flavour: one pass
    "split, serial": nb.njit(**JIT)(life.tally.py_func),  # the two tasks, one after the other
    "split, 2 threads": life.tally.parallel,  # the two tasks on numba's threads
}


@pytest.mark.parametrize("build", list(TALLIES))
def test_the_two_task_tally_gives_the_one_pass_bits(build):
    """Random deaths, genomes, skills and milestones: every output of ``tally``'s two-task form
    (compiled serially, and its parallel flavour on numba's threads) equals its one-thread
    flavour's one pass byte for byte."""
    rng = np.random.default_rng(11)
    n, n_sp = 4000, 5
    lad = ladder_from_world(
        World.model_validate(
            {"technology": {"ladder": [{"name": "a", "threshold": 1.0},
                                       {"name": "b", "threshold": 2.0, "min_dexterity": 0.5}]}}
        )
    )  # fmt: skip
    p = params(max_age_min=50, max_age_max=150)
    ag = Agents(n, species=rng.integers(0, n_sp, n), energy=rng.normal(3.0, 3.0, n),
                age=rng.integers(0, 200, n))  # fmt: skip
    ag.genome[:n] = rng.random((n, N_GENES)).astype(ag.genome.dtype)
    ag.skill[:n] = rng.random(n) * 3.0
    out = {}
    for name in ("tally", build):
        alive = np.bincount(ag.species[:n], minlength=n_sp).astype(np.int64)
        cause = np.full(n, -1, np.int8)
        deaths = np.zeros((n_sp, 4), np.int64)
        gene_sum = np.full((n_sp, N_GENES), 99.0)
        counts = (np.full(n_sp, 7, np.int64), np.full(n_sp, 7, np.int64),
                  np.full(n_sp, 7, np.int64), np.full((n_sp, 2), 7, np.int64))  # fmt: skip
        centroid = np.full((n_sp, N_GENES), 3.0)
        m = survivors(ag, p, cause=cause, deaths=deaths, alive=alive, gene_sum=gene_sum, lad=lad,
                      counts=counts, centroid=centroid, tally=TALLIES[name])  # fmt: skip
        out[name] = [m, *(x.tobytes() for x in (cause, deaths, alive, gene_sum, *counts, centroid))]
    assert 0 < out["tally"][0] < n and out["tally"][2] != np.zeros((n_sp, 4), np.int64).tobytes()
    assert out[build] == out["tally"]
