"""The `gated` and `stuck` triggers and the default cost of manipulators, on a tiny real world."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.defaults import G_CHILDHOOD, GENES, LAND
from evosim.errors import ConfigError
from evosim.io import checkpoint as ckpt

# Adult founders that innovate every tick (+0.5 skill), a ladder whose first rung needs land at skill 1:
# swimmers get the skill for `fire` within two ticks but cannot hold it in water.
WORLD = {
    "world.width": 32, "world.height": 32,
    "species": [
        {"name": "lander", "count": 300, "adult": True,
         "genes": {"habitat": {"mean": 0.9}, "brain": {"mean": 0.85}}},
        {"name": "swimmer", "count": 300, "adult": True,
         "genes": {"habitat": {"mean": 0.1}, "brain": {"mean": 0.85}}},
        {"name": "dull", "count": 300, "adult": True,
         "genes": {"habitat": {"mean": 0.1}, "brain": {"mean": 0.1, "max": 0.2}}},
    ],
    "culture.innovation_rate": 1.0, "culture.innovation_brain_exponent": 0.0,
    "culture.innovation_dexterity_weight": 0.0,
    "technology.ladder": [{"name": "fire", "threshold": 1.0, "needs_land": True},
                          {"name": "writing", "threshold": 1e6}],
    "detectors": {"brain_threshold": 0.5, "intelligence_window": 3, "min_population": 20,
                  "tech_share": 0.5, "tech_window": 5},
}  # fmt: skip
GATED = {"name": "ember", "when": {"trigger": "gated", "milestone": "fire", "window": 4},
         "target": {"all": True}, "effect": {"kind": "fire_substitute"}}  # fmt: skip
STUCK = {"name": "relief", "when": {"trigger": "stuck", "window": 6}, "target": {"all": True},
         "effect": {"kind": "gene_bounds", "gene": "sociality", "min": 0.9}}  # fmt: skip


def world(*interventions, **overrides):
    return load_world(overrides={**WORLD, **overrides, "interventions": list(interventions)})


def fired(sim: Simulation, name: str) -> list[tuple[int, int]]:
    return [(e[0], e[2]) for e in sim.events if e[1] == "intervention" and e[3].startswith(name)]


def held_below_by_hand(sim: Simulation, sid: int) -> tuple[int, int]:
    """(adults, adults with the skill for fire standing in water) of species ``sid``, counted directly."""
    p, q = sim.pop, sim.params
    mine = p.live("species") == sid
    g = p.live("genome")[:, G_CHILDHOOD].astype(np.float64)
    adult = p.live("age") >= q.maturity_min + (q.maturity_max - q.maturity_min) * g
    wet = sim.grids.habitat[p.live("y"), p.live("x")] != LAND
    skilled = p.live("skill").astype(np.float64) >= 1.0
    return int((mine & adult).sum()), int((mine & adult & wet & skilled).sum())


def test_gated_fires_after_the_window_for_species_held_below_the_land_gate():
    """The trigger fires when half the adults have had fire's skill without land for 4 ticks; checked by hand."""
    sim = Simulation(world(GATED), seed=3)
    held_since: dict[int, int] = {}
    expected: dict[int, int] = {}
    for _ in range(12):
        sim.step()
        for sid in range(3):
            adults, below = held_below_by_hand(sim, sid)
            ok = sim.species.alive[sid] >= 20 and adults > 0 and below >= 0.5 * adults
            if not ok:
                held_since.pop(sid, None)
                continue
            held_since.setdefault(sid, sim.tick)
            if sim.tick - held_since[sid] + 1 >= 4 and sid not in expected:
                expected[sid] = sim.tick
    got = {sid: t for t, sid in fired(sim, "ember")}
    # the swimmers and the dull swimmers, never the landers
    assert got == expected and set(got) == {1, 2}
    assert sim.species.fire_substitute[[0, 1, 2]].tolist() == [0, 1, 1]
    # the fire substitute lets the swimmers hold fire where they are: nobody is held below it any more
    lv = sim.milestone_levels()
    assert (lv[(sim.pop.live("species") == 1) & (sim.pop.live("skill") >= 1.0)] >= 1).all()


def test_gated_counts_are_the_adults_stopped_by_the_next_milestones_own_requirement():
    """The survivor pass counts, per species and milestone m, the adults with m's skill holding all before m
    but not m; checked against numpy over the survivors, on a ladder with a dexterity and a land gate."""
    ladder = [{"name": "tools", "threshold": 1.0, "min_dexterity": 0.3},
              {"name": "fire", "threshold": 2.0, "needs_land": True},
              {"name": "writing", "threshold": 1e6}]  # fmt: skip
    species = [dict(WORLD["species"][1], genes={"habitat": {"mean": 0.1}, "dexterity": {"mean": 0.6}}),
               dict(WORLD["species"][2], genes={"habitat": {"mean": 0.1}, "dexterity": {"mean": 0.1}}),
               WORLD["species"][0]]  # fmt: skip
    sim = Simulation(world(**{"technology.ladder": ladder, "species": species}), seed=5)
    thr = sim.ladder.threshold
    seen = np.zeros((3, 3), np.int64)
    for _ in range(8):
        sim.step()
        lv = sim.milestone_levels().astype(np.int64)
        z = sim.pop.live("skill").astype(np.float64)
        adult, sp = sim.adults(), sim.pop.live("species")
        for s in range(3):
            for m in range(3):
                want = int((adult & (sp == s) & (lv == m) & (z >= thr[m])).sum())
                assert sim.scratch.tally.gated[s, m] == want, (sim.tick, s, m)
        seen += sim.scratch.tally.gated[:3]
    # handy swimmers are held below fire (land), handless ones below tools (dexterity); landers below writing
    assert (
        seen[0, 1] > 0
        and seen[1, 0] > 0
        and seen[0, 0] == seen[1, 1] == 0
        and seen[2, :2].sum() == 0
    )


def test_stuck_fires_window_ticks_after_intelligence_and_lifts_the_bound():
    sim = Simulation(world(STUCK), seed=3)
    sim.advance(15)
    at = sim.species.view("intelligent_at")
    assert at[0] >= 0 and at[1] >= 0 and at[2] < 0  # the dull species never becomes intelligent
    got = sorted(fired(sim, "relief"))
    assert got == sorted((int(at[s]) + 6, s) for s in (0, 1))
    soc = sim.pop.live("genome")[:, GENES.index("sociality")]
    sp = sim.pop.live("species")
    assert (soc[sp < 2] >= 0.9 - 1e-6).all() and (soc[sp == 2] < 0.9).any()


def test_a_resumed_run_keeps_the_gated_windows():
    """A checkpoint in the middle of a gated window: the resumed run fires at the same tick."""
    w = world(GATED)
    whole = Simulation(w, seed=3)
    whole.advance(12)
    part = Simulation(w, seed=3)
    part.advance(3)  # the swimmers' window has begun (skill 1 after two ticks)
    arrays, scalars = ckpt.snapshot(part)
    assert any(scalars["interventions_since"])
    resumed = ckpt.restore(w, arrays, json.loads(json.dumps(scalars)))
    resumed.advance(9)
    assert fired(resumed, "ember") == fired(whole, "ember") != []


@pytest.mark.parametrize("cost, upkeep, expected", [(None, 0.05, 0.04), (None, 0.1, 0.08), (0.0, 0.05, 0.0),
                                                    (0.3, 0.05, 0.3)])  # fmt: skip
def test_manipulators_cost_the_dexterity_upkeep_at_the_granted_level_by_default(
    cost, upkeep, expected
):
    effect = {"kind": "manipulators", "level": 0.8} | (
        {} if cost is None else {"energy_cost": cost}
    )
    hands = {
        "name": "hands",
        "when": {"tick": 1},
        "target": {"species": ["swimmer"]},
        "effect": effect,
    }
    sim = Simulation(world(hands, **{"traits.dexterity.upkeep": upkeep}), seed=1)
    sim.advance(2)
    assert sim.species.upkeep_extra[1] == pytest.approx(expected)
    assert fired(sim, "hands")[0] == (1, 1)
    assert (
        f"(energy cost {expected:g}/tick)"
        in [e[3] for e in sim.events if e[1] == "intervention"][0]
    )


@pytest.mark.parametrize("when, words", [
    ({"trigger": "gated"}, "trigger: gated needs `milestone: <name>`"),
    ({"trigger": "gated", "milestone": "warp"}, "not on the technology ladder"),
    ({"trigger": "gated", "milestone": "writing"}, "can never fire"),
    ({"trigger": "stuck"}, "trigger: stuck needs `window: <ticks>`"),
    ({"trigger": "intelligent", "share": 0.5}, "`share` applies to trigger: gated only"),
    ({"trigger": "intelligent", "window": 5}, "`window` applies to triggers gated and stuck only"),
    ({"tick": 3, "milestone": "fire"}, "`milestone` applies to triggers milestone and gated only"),
])  # fmt: skip
def test_triggers_that_can_never_apply_are_refused(when, words):
    iv = {"name": "x", "when": when, "target": {"all": True}, "effect": {"kind": "fire_substitute"}}
    with pytest.raises(ConfigError, match=words):
        world(iv)
