"""The tree-of-life experiment: valid, >= 48 replicates at a long horizon, a tree of life per replicate."""

from __future__ import annotations

from pathlib import Path

from evosim.config.priors import resolve_world
from evosim.experiments.experiment import load_experiment

SPEC = Path(__file__).parents[2] / "worlds" / "experiments" / "tree_of_life.yaml"


def _plans(world) -> list[tuple]:
    return [(s.name, s.genes.habitat.mean, s.genes.dexterity.max, s.genes.sociality.mean,
             s.genes.childhood.mean, s.genes.lifespan.mean) for s in world.species]  # fmt: skip


def test_the_tree_of_life_experiment_is_valid():
    exp = load_experiment(SPEC)
    assert list(exp.arms) == ["control", "manipulators", "fire_substitute", "both"]
    assert exp.spec.replicates >= 48 and exp.spec.ticks >= 30_000 and not exp.notes
    ivs = {
        a: [(iv.when.trigger, iv.effect.kind) for iv in w.interventions]
        for a, w in exp.arms.items()
    }
    assert ivs == {
        "control": [],
        "manipulators": [("intelligent", "manipulators")],
        "fire_substitute": [("intelligent", "fire_substitute")],
        "both": [("intelligent", "manipulators"), ("intelligent", "fire_substitute")],
    }
    for w in exp.arms.values():
        assert w.drawn() and w.founders is not None and w.founders.count == 8 and w.species == []


def test_each_replicate_draws_its_own_tree_of_life_shared_by_the_arms():
    exp = load_experiment(SPEC)
    trees = [_plans(resolve_world(exp.arms["control"], s)) for s in exp.seeds[:4]]
    assert all(len(t) == 8 for t in trees) and len({tuple(t) for t in trees}) == 4
    for arm in exp.arms.values():
        assert _plans(resolve_world(arm, exp.seeds[1])) == trees[1]
    # the priors are wide: over 4 replicates' 32 founders, handless and handed, aquatic and terrestrial
    founders = [f for t in trees for f in t]
    assert min(f[2] for f in founders) < 0.3 < 0.6 < max(f[2] for f in founders)
    assert min(f[1] for f in founders) < 0.2 and max(f[1] for f in founders) > 0.8
