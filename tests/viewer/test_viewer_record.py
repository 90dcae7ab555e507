"""FrameRecorder / FrameReader: a short run recorded in chunks and read back."""

from __future__ import annotations

import numpy as np
import pytest

from evosim.errors import ConfigError
from evosim.io.frames import FrameReader, FrameRecorder
from evosim.io.snapshot import ViewState

from .conftest import record


def test_record_and_read_back(small_sim, tmp_path):
    held = []
    rec = record(
        small_sim,
        tmp_path,
        ticks=23,
        every=5,
        chunk_frames=3,
        watch=lambda r: held.append(len(r._buffer)),
    )
    assert (
        len(held) == 23 and max(held) < 3
    )  # never more than chunk_frames frames held: memory stays bounded
    frames = tmp_path / "frames"
    names = sorted(p.name for p in frames.iterdir())
    assert names == ["chunk-000000.npz", "chunk-000001.npz", "meta.npz"]  # no temp files left
    for p in frames.iterdir():  # plain arrays, no pickles
        with np.load(p, allow_pickle=False) as z:
            assert all(z[k].dtype != object for k in z.files)
    reader = FrameReader(tmp_path)
    assert reader.ticks.tolist() == [0, 5, 10, 15, 20, 23]  # close() adds the final tick
    assert rec.frames_written == 6 and rec.chunks_written == 2
    last = reader.state(len(reader) - 1)
    p = small_sim.pop
    np.testing.assert_array_equal(last.x, p.live("x"))
    np.testing.assert_array_equal(last.y, p.live("y"))
    np.testing.assert_array_equal(last.species, p.live("species"))
    np.testing.assert_array_equal(last.id, p.live("id"))
    np.testing.assert_array_equal(last.parent_id, p.live("parent_id"))
    np.testing.assert_array_equal(last.age, p.live("age"))
    np.testing.assert_allclose(last.genome, p.live("genome"), atol=0.5 / 255 + 1e-6)
    np.testing.assert_allclose(last.energy, p.live("energy"), rtol=2e-3, atol=1e-3)
    np.testing.assert_allclose(
        last.food, small_sim.grids.food, atol=small_sim.grids.capacity.max() / 255
    )
    np.testing.assert_array_equal(last.habitat, small_sim.grids.habitat)
    assert last.species_names == list(small_sim.species.names) and last.source == "replay"
    assert [s.tick for s in reader] == reader.ticks.tolist()
    assert reader.index_at(11) == 3 and reader.index_at(10_000) == len(reader) - 1


def test_optional_fields_round_trip(small_sim, tmp_path):
    p, sp = small_sim.pop, small_sim.species
    # a known skill crossing the ladder's thresholds in both species (the land-bound ones are held on land only)
    p.skill[: p.n] = np.resize(np.linspace(0, 9, 10), p.n)
    sp.intelligent_at[0] = 3
    sp.manipulators[1] = 0.5
    rec = FrameRecorder(tmp_path, every_k=2, chunk_frames=10)
    small_sim.advance(4, rec.on_tick)
    rec.close()
    reader = FrameReader(tmp_path)
    first, last = reader.state(0), reader.state(1)
    assert first.tick == 2 and last.tick == 4
    np.testing.assert_allclose(last.skill, p.skill[: p.n], rtol=1e-3)
    live = ViewState.from_sim(small_sim)
    np.testing.assert_array_equal(last.milestone, live.milestone)
    assert last.milestone.max() >= 2 and last.milestone_names == live.milestone_names
    assert first.intelligent_at.tolist() == [-1, -1]  # marked at tick 3: not shown at tick 2
    assert last.intelligent_at.tolist() == [3, -1] and last.technological_at.tolist() == [-1, -1]
    assert last.manipulators.tolist() == [0, 0.5] and last.species_parent.tolist() == [-1, -1]


def test_reader_refuses_missing_or_bad_frames(tmp_path):
    with pytest.raises(ConfigError, match="no recorded frames"):
        FrameReader(tmp_path)
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "meta.npz").write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="not a readable"):
        FrameReader(tmp_path)
    with pytest.raises(ConfigError):
        FrameRecorder(tmp_path, every_k=0)


def test_context_manager_and_uncompressed(small_sim, tmp_path):
    with FrameRecorder(tmp_path, every_k=1, chunk_frames=100, compress=False) as rec:
        small_sim.advance(3, rec.on_tick)
    assert FrameReader(tmp_path / "frames").ticks.tolist() == [1, 2, 3]
