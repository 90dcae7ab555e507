"""Neural compute (issue 24, item 4): per-species sums of brain powers, their capture at the first
detections, and their life across take, growth and a saved state."""

from __future__ import annotations

import numpy as np
import pytest

from evosim import Simulation, load_world
from evosim.defaults import G_BRAIN
from evosim.engine.counters import Counters
from tests.helpers import TINY

#: The tiny world with many speciations and an intelligence detector that fires early.
FAST = {
    **TINY, "speciation.threshold": 0.1, "detectors.brain_threshold": 0.45,
    "detectors.intelligence_window": 5, "detectors.min_population": 10,
    "species.grazer.genes.brain.mean": 0.55, "species.swimmer.genes.brain.mean": 0.3,
}  # fmt: skip


def direct(sim: Simulation, k: float, out: np.ndarray) -> None:
    """Add this tick's sums the plain numpy way: over the live agents, per species."""
    n = sim.pop.n
    b = sim.pop.genome[:n, G_BRAIN].astype(np.float64)
    sp = sim.pop.species[:n]
    for j, power in enumerate((1.0, 2.0, 3.0, k)):
        out[:, j] += np.bincount(sp, weights=b**power, minlength=len(out))


@pytest.mark.parametrize("k", [1.0, 2.0, 1.5])
def test_per_species_sums_equal_a_direct_computation_over_the_agents(k):
    sim = Simulation(load_world(overrides={**FAST, "compute.neural_exponent": k}), seed=2)
    want = np.zeros((400, 4))
    for _ in range(60):
        direct(sim, k, want)  # the agents alive at the start of the tick are counted
        sim.step()
    got = sim.counters.neural
    assert len(sim.species) > 2, "the test needs species formed during the run"
    assert got.shape == (len(sim.species), 4)
    np.testing.assert_allclose(got, want[: len(got)], rtol=1e-12, atol=1e-9)
    seen = got[:, 0] > 0  # (species founded on the last tick have no agent-tick yet)
    assert (got[seen, 0] > got[seen, 1]).all() and (got[seen, 1] > got[seen, 2]).all()  # b < 1
    c = sim.world.compute
    assert sim.neural_flop() == pytest.approx(c.neural_flop_per_agent_tick * want[:, 3].sum())


def test_take_does_not_reset_and_grow_pads():
    c = Counters(2)
    c.neural[:] = [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]
    c.take(3)
    assert c.neural.tolist() == [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]
    c.grow(4)
    assert c.neural.shape == (4, 4) and (c.neural[2:] == 0).all() and c.neural[1, 3] == 8.0
    assert c.neural_intelligent.shape == (0, 4)  # nothing captured: not grown either
    arrays, scalars = c.state()
    back = Counters.from_state(arrays, scalars)
    for name in ("neural", "neural_intelligent", "neural_technological"):
        assert np.array_equal(getattr(back, name), getattr(c, name))


def test_the_sums_are_captured_at_the_tick_of_the_first_detection():
    sim = Simulation(load_world(overrides=FAST), seed=2)
    at_detection = None
    for _ in range(80):
        sim.step()
        if at_detection is None and (sim.species.view("intelligent_at") >= 0).any():
            at_detection = (sim.tick, sim.counters.neural.copy())
    assert at_detection is not None, "the test needs an intelligence detection"
    tick, sums = at_detection
    assert sim.detectors.first_intelligent[0] == tick
    assert np.array_equal(sim.counters.neural_intelligent, sums)  # not moved by later ticks
    assert sim.counters.neural[:, 0].sum() > sums[:, 0].sum()
    assert sim.counters.neural_technological.shape == (0, 4)  # no technology in 80 ticks


def test_a_saved_state_continues_with_the_same_sums():
    world = load_world(overrides=FAST)
    a = Simulation(world, seed=5)
    a.advance(3)  # before the detection (tick 5)
    arrays, scalars = a.state()
    assert {"sim.neural", "sim.neural_intelligent", "sim.neural_technological"} <= set(arrays)
    b = Simulation.from_state(world, arrays, scalars)
    a.advance(40)
    b.advance(40)
    for name in ("neural", "neural_intelligent", "neural_technological"):
        assert np.array_equal(getattr(a.counters, name), getattr(b.counters, name))
    assert len(a.counters.neural_intelligent)  # the capture happened after the save
