"""The agent arrays: dtypes, growth up to the cap, compaction, state round trip."""

from __future__ import annotations

import numpy as np

from evosim.defaults import AGENT_FIELDS, GENOME_DTYPE, N_GENES
from evosim.engine.population import Population


def filled(n: int, capacity: int = 16) -> Population:
    p = Population(capacity)
    p.reserve(n)
    for f in Population.FIELDS:
        a = getattr(p, f)
        a[:n] = (np.arange(n) * 10).reshape((n,) + (1,) * (a.ndim - 1)) + (
            np.arange(N_GENES) if a.ndim == 2 else 0
        )
    p.n = n
    p.next_id = n
    return p


def test_fields_and_dtypes():
    p = Population(10)
    assert p.capacity == 10 and p.n == 0
    for name, dt in AGENT_FIELDS.items():
        assert getattr(p, name).dtype == dt and getattr(p, name).shape == (10,)
    assert p.genome.dtype == GENOME_DTYPE and p.genome.shape == (10, N_GENES)
    assert set(Population.FIELDS) == {*AGENT_FIELDS, "genome"}


def test_reserve_keeps_live_rows():
    p = filled(5, capacity=5)
    before = p.state()
    p.reserve(3)  # never shrinks
    assert p.capacity == 5
    p.reserve(40)
    assert p.capacity == 40
    for f, a in before.items():
        assert np.array_equal(p.live(f), a)
        assert getattr(p, f).shape[0] == 40


def test_ensure_room_grows_by_an_eighth_but_respects_the_cap():
    p = filled(1000, capacity=1000)
    p.ensure_room(1, cap=10_000)
    assert p.capacity == 1125  # x 9/8
    p.ensure_room(600, cap=10_000)
    assert p.capacity == 1600  # more than an eighth needed: exactly what is needed
    p.n = 1600
    p.ensure_room(10, cap=1700)
    assert p.capacity == 1700  # the cap limits the growth
    q = filled(3, capacity=3)
    q.ensure_room(2, cap=5)
    assert q.capacity == 5  # a small cap is not rounded up
    r = filled(10, capacity=10)
    r.ensure_room(0, cap=10**9)
    assert r.capacity == 10  # nothing to do


def test_gather_keeps_the_given_rows_of_every_field():
    p = filled(6)
    keep = np.array([0, 2, 5, 0, 0, 0], np.int64)
    p.gather(keep, 3)
    assert p.n == 3
    assert p.live("id").tolist() == [0, 20, 50]
    assert p.live("genome")[:, 1].tolist() == [1.0, 21.0, 51.0]
    assert p.live("energy").tolist() == [0.0, 20.0, 50.0]
    p.gather(np.arange(3), 3)  # keeping everyone changes nothing
    assert p.live("id").tolist() == [0, 20, 50]
    p.gather(np.array([2, 0, 1]), 3)  # any order, e.g. the order of the cell index
    assert p.live("id").tolist() == [50, 0, 20] and p.live("genome")[:, 1].tolist() == [
        51.0,
        1.0,
        21.0,
    ]
    for f in Population.FIELDS:  # every field, whatever its dtype
        col = p.live(f)[:, 0] if f == "genome" else p.live(f)
        assert col.tolist() == [50, 0, 20], f


def test_state_round_trip_and_views():
    p = filled(7)
    s = p.state()
    assert set(s) == set(Population.FIELDS) and all(len(a) == 7 for a in s.values())
    s["id"][0] = 999  # a copy, not a view
    assert p.id[0] == 0
    q = Population.from_state(p.state(), next_id=p.next_id)
    assert q.n == 7 and q.next_id == 7 and q.capacity >= 7
    for f in Population.FIELDS:
        assert np.array_equal(q.live(f), p.live(f))
    assert np.shares_memory(p.live("x"), p.x)
    rows = p.capacity  # the agent arrays, plus gather's spare genome
    assert (
        p.nbytes()
        == sum(getattr(p, f).nbytes for f in Population.FIELDS) + rows * p.genome[0].nbytes
    )


def test_spare_views_lie_over_the_spare_genome_and_leave_the_live_rows_alone():
    """The tick's float scratch lives in the spare genome's bytes: no memory of its own."""
    p = filled(10, capacity=16)
    before = {f: a.copy() for f, a in p.state().items()}
    want, gain, model_z = p.spare_views()
    assert want.dtype == gain.dtype == np.float64 and model_z.dtype == np.float32
    assert len(want) == len(gain) == len(model_z) == p.capacity
    for v in (want, gain, model_z):
        assert np.shares_memory(v, p._genome_spare) and not np.shares_memory(v, p.genome)
    assert not np.shares_memory(want, gain) and not np.shares_memory(gain, model_z)
    want[:], gain[:], model_z[:] = 1.5, -2.0, 3.0
    for f, a in p.state().items():
        assert np.array_equal(a, before[f]), f
    p.gather(np.arange(9, -1, -1), 10)  # the gather writes the spare genome: fresh views after it
    assert p.live("id").tolist() == before["id"][::-1].tolist()


def test_agents_tuple_is_made_once_per_genome_buffer_and_anew_after_growth():
    """A gather swaps the genome with its spare: the two named tuples come back in turn (the
    kernels' dispatch cache keys each once); a growth replaces the arrays, and the tuple."""
    p = filled(6)
    first = p.agents()
    assert p.agents() is first
    p.gather(np.arange(6), 6)
    second = p.agents()
    assert second is not first and second.genome is p.genome and second.genome is not first.genome
    p.gather(np.arange(6), 6)
    assert p.agents() is first and first.genome is p.genome
    p.reserve(64)
    grown = p.agents()
    assert grown is not first and grown is not second and len(grown.id) == 64 and grown.id is p.id
