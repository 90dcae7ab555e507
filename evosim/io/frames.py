"""Recording frames for replay, and reading them back.

A run records frames when asked (``evosim run --record-every K``): every K
ticks a compact snapshot of the world goes into ``RUN_FOLDER/frames/``:

* ``meta.npz`` — written once: habitat, food capacity, gene names, world name.
* ``chunk-NNNNNN.npz`` — a chunk of consecutive frames. Per-agent arrays of
  all frames of the chunk are concatenated, ``offsets`` marks where each
  frame starts. Positions are ``uint16``; species, ids and ages the smallest
  unsigned integer type that holds them; genes ``uint8`` (value x 255);
  energy and skill ``float16``; milestones ``uint8``; the food grid ``uint8``
  (share of the largest capacity x 255).

Memory stays bounded: at most ``chunk_frames`` frames (or about
``chunk_bytes`` bytes) are held before a chunk is written. Every file is
written to a temporary file in the same folder, fsynced and renamed into
place, so a crash never leaves a half-written chunk. Files are plain
``numpy.savez`` archives of numeric and unicode arrays, read with
``allow_pickle=False``: nothing is ever pickled.

This module does not import pygame.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from evosim.defaults import GENES
from evosim.engine.sim import Simulation
from evosim.errors import ConfigError
from evosim.io.files import atomic_write_bytes, npz_bytes
from evosim.io.snapshot import ViewState, agent_milestones

FRAMES_DIR = "frames"
META_FILE = "meta.npz"
FORMAT_VERSION = 1
_CHUNK_RE = re.compile(r"^chunk-(\d{6,})\.npz$")


def _uint(a: np.ndarray) -> np.ndarray:
    """``a`` (non-negative integers) in the smallest unsigned dtype that holds its maximum."""
    top = int(a.max()) if a.size else 0
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if top <= np.iinfo(dt).max:
            return a.astype(dt)
    raise ValueError("value too large")  # pragma: no cover


class FrameRecorder:
    """Writes replay frames of a running simulation into ``RUN_FOLDER/frames/``.

    Use as the ``on_tick`` hook of :meth:`Simulation.advance` (call it once
    before advancing to record tick 0 too), then :meth:`close`::

        frames = FrameRecorder(out, every_k=10)
        frames.on_tick(sim)           # tick 0
        sim.advance(1000, frames.on_tick)
        frames.close()                # writes the last partial chunk (and the final tick)

    Args:
        run_folder: the run folder (``frames/`` is created inside it on the first frame).
        every_k: record ticks that are multiples of ``every_k``.
        chunk_frames: frames per chunk file.
        chunk_bytes: write a chunk early once the buffered frames hold about this many bytes.
        compress: zip-deflate the chunks (smaller files, slower writes).
    """

    def __init__(
        self,
        run_folder: str | os.PathLike,
        every_k: int = 10,
        chunk_frames: int = 20,
        chunk_bytes: int = 64 << 20,
        compress: bool = True,
    ):
        if int(every_k) < 1:
            raise ConfigError(f"--record-every {every_k}: must be at least 1")
        self.folder = Path(run_folder) / FRAMES_DIR
        self.every = int(every_k)
        self.chunk_frames = max(1, int(chunk_frames))
        self.chunk_bytes = int(chunk_bytes)
        self.compress = compress
        self.frames_written = 0
        self.chunks_written = 0
        self._buffer: list[dict[str, Any]] = []
        self._buffered_bytes = 0
        self._last_tick: int | None = None
        self._sim: Simulation | None = None
        self._meta_written = False
        self._next_chunk = 0
        self._closed = False

    # ------------------------------------------------------------ hooks
    def on_tick(self, sim: Simulation) -> None:
        """Record ``sim`` if its tick is a multiple of ``every_k`` (hook for ``Simulation.advance``)."""
        self._sim = sim
        if sim.tick % self.every == 0 and sim.tick != self._last_tick:
            self.capture(sim)

    def capture(self, sim: Simulation) -> None:
        """Record ``sim`` now, whatever its tick."""
        if self._closed:
            raise RuntimeError("FrameRecorder is closed")
        self._sim = sim
        if not self._meta_written:
            self._write_meta(sim)
        p, n = sim.pop, int(sim.pop.n)
        frame: dict[str, Any] = {
            "tick": int(sim.tick),
            "x": p.x[:n].astype(np.uint16),
            "y": p.y[:n].astype(np.uint16),
            "species": np.asarray(p.species[:n]).copy(),
            "genome": np.round(np.clip(p.genome[:n], 0.0, 1.0) * 255.0).astype(np.uint8),
            "energy": p.energy[:n].astype(np.float16),
            "age": np.maximum(p.age[:n], 0).astype(np.int64),
            "id": np.asarray(p.id[:n]).astype(np.int64),
            "parent_id": np.asarray(p.parent_id[:n]).astype(np.int64) + 1,  # 0 = founder
            "food": np.round(np.clip(sim.grids.food / self._food_scale, 0.0, 1.0) * 255.0).astype(
                np.uint8
            ),
        }
        frame["skill"] = p.skill[:n].astype(np.float16)
        milestone = agent_milestones(sim)
        if milestone is not None:
            frame["milestone"] = milestone
        for key in (
            "manipulators",
            "fire_substitute",
        ):  # granted by interventions, may change any tick
            frame[key] = sim.species.view(key).copy()
        self._buffer.append(frame)
        self._buffered_bytes += sum(v.nbytes for v in frame.values() if isinstance(v, np.ndarray))
        self._last_tick = int(sim.tick)
        if len(self._buffer) >= self.chunk_frames or self._buffered_bytes >= self.chunk_bytes:
            self.flush()

    def flush(self) -> None:
        """Write the buffered frames as one chunk (nothing if none are buffered)."""
        if not self._buffer:
            return
        frames, sim = self._buffer, self._sim
        counts = np.array([len(f["x"]) for f in frames], np.int64)
        out: dict[str, np.ndarray] = {
            "tick": np.array([f["tick"] for f in frames], np.int64),
            "offsets": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            "food": np.stack([f["food"] for f in frames]),
        }
        for key in ("x", "y", "genome", "energy", "skill"):
            out[key] = np.concatenate([f[key] for f in frames])
        for key in ("species", "age", "id", "parent_id"):
            out[key] = _uint(np.concatenate([f[key] for f in frames]).astype(np.int64))
        if "milestone" in frames[0]:  # the ladder is the same for every frame
            out["milestone"] = np.concatenate([f["milestone"] for f in frames])
        assert sim is not None  # set by the capture that buffered the frames
        sp = sim.species
        names = list(sp.names)
        k = len(names)
        out["species_names"] = np.array(names, dtype=str) if names else np.zeros(0, "U1")
        out["milestone_names"] = np.array(sim.detectors.names, dtype="U64")
        out["intelligent_at"] = sp.view("intelligent_at").copy()
        out["technological_at"] = sp.view("technological_at").copy()
        out["species_parent"] = sp.view("parent").copy()
        for key in (
            "manipulators",
            "fire_substitute",
        ):  # (frames, species); species founded later are 0
            table = np.zeros((len(frames), k), sp.view(key).dtype)
            for i, f in enumerate(frames):  # one per frame
                table[i, : len(f[key])] = f[key]
            out[key] = table
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(
            self.folder / f"chunk-{self._next_chunk:06d}.npz", npz_bytes(out, self.compress)
        )
        self._next_chunk += 1
        self.chunks_written += 1
        self.frames_written += len(frames)
        self._buffer, self._buffered_bytes = [], 0

    def close(self) -> None:
        """Record the final tick (if not recorded yet) and write the last chunk."""
        if self._closed:
            return
        if self._sim is not None and self._sim.tick != self._last_tick:
            self.capture(self._sim)
        self.flush()
        self._closed = True

    def buffered(self) -> dict[str, np.ndarray]:
        """The frames captured but not written yet, and the last captured tick, as arrays (for a checkpoint)."""
        out = {"frames.last_tick": np.array(-1 if self._last_tick is None else self._last_tick)}
        for i, frame in enumerate(self._buffer):
            out.update({f"frames.{i}.{k}": np.asarray(v) for k, v in frame.items()})
        return out

    def restore(self, arrays: dict[str, np.ndarray], sim: Simulation) -> None:
        """Continue after a checkpoint of :meth:`buffered`: reload its frames; later chunks follow those on disk.

        Does nothing for a checkpoint that saved no frames (they were all written before it).
        """
        if "frames.last_tick" not in arrays:
            return
        last = int(arrays["frames.last_tick"])
        self._last_tick = None if last < 0 else last
        self._sim = sim
        frames: dict[int, dict[str, Any]] = {}
        for key, value in arrays.items():
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "frames":
                frames.setdefault(int(parts[1]), {})[parts[2]] = value
        self._buffer = [
            {k: int(v) if k == "tick" else v for k, v in frames[i].items()} for i in sorted(frames)
        ]
        self._buffered_bytes = sum(
            v.nbytes for f in self._buffer for v in f.values() if isinstance(v, np.ndarray)
        )
        if (
            self.folder / META_FILE
        ).is_file():  # as _write_meta would find it, without rewriting it
            self._next_chunk = self._chunks_on_disk()
            self._food_scale = self._scale(sim)
            self._meta_written = True

    def __enter__(self) -> FrameRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ helpers
    def _chunks_on_disk(self) -> int:
        """The number of the next chunk: after the ones in the folder (a resumed run appends)."""
        existing = [
            int(m.group(1)) for p in self.folder.iterdir() if (m := _CHUNK_RE.match(p.name))
        ]
        return max(existing) + 1 if existing else 0

    @staticmethod
    def _scale(sim: Simulation) -> float:
        """The food value stored as 255: the largest capacity."""
        capacity = np.asarray(sim.grids.capacity, np.float64)
        return float(capacity.max()) if capacity.size and capacity.max() > 0 else 1.0

    def _write_meta(self, sim: Simulation) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._next_chunk = self._chunks_on_disk()
        capacity = np.asarray(sim.grids.capacity, np.float64)
        self._food_scale = self._scale(sim)
        atomic_write_bytes(self.folder / META_FILE, npz_bytes({
            "format_version": np.array(FORMAT_VERSION),
            "habitat": np.asarray(sim.grids.habitat, np.uint8),
            "capacity": capacity,
            "food_scale": np.array(self._food_scale),
            "every": np.array(self.every),
            "genes": np.array(GENES, dtype=str),
            "world_name": np.array(str(sim.world.name)),
        }, compress=True))  # fmt: skip
        self._meta_written = True


class FrameReader:
    """Reads the frames of a run folder back as :class:`ViewState` objects.

    Chunks are loaded one at a time (the last one is cached), so replaying a
    long run needs the memory of one chunk. If a resumed run recorded a tick
    twice, the later chunk wins.

    Args:
        run_folder: a run folder with a ``frames/`` folder (or the ``frames/`` folder itself).

    Raises:
        ConfigError: no frames, or files that are not evosim frames.
    """

    def __init__(self, run_folder: str | os.PathLike):
        root = Path(run_folder)
        folder = root if (root / META_FILE).is_file() else root / FRAMES_DIR
        if not (folder / META_FILE).is_file():
            raise ConfigError(
                f"{root}: no recorded frames ({FRAMES_DIR}/{META_FILE} is missing); record a run for replay with "
                f"`evosim run WORLD --record-every K`"
            )
        self.folder = folder
        try:
            with np.load(folder / META_FILE, allow_pickle=False) as meta:
                version = int(meta["format_version"])
                if version > FORMAT_VERSION:
                    raise ConfigError(
                        f"{folder}: frames format {version} is newer than this evosim reads ({FORMAT_VERSION})"
                    )
                self.habitat = np.array(meta["habitat"], np.uint8)
                self.capacity = np.array(meta["capacity"], np.float64)
                self.food_scale = float(meta["food_scale"])
                self.every = int(meta["every"])
                self.genes = [str(g) for g in meta["genes"]]
                self.world_name = str(meta["world_name"])
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(
                f"{folder / META_FILE}: not a readable evosim frames file ({exc})"
            ) from None
        if self.genes != list(GENES):
            raise ConfigError(
                f"{folder}: recorded genes {self.genes} differ from this evosim's {list(GENES)}"
            )
        entries: dict[int, tuple[Path, int]] = {}
        chunks = sorted(
            (int(m.group(1)), p) for p in folder.iterdir() if (m := _CHUNK_RE.match(p.name))
        )
        for _, path in chunks:
            try:
                with np.load(path, allow_pickle=False) as z:
                    ticks = np.array(z["tick"])
            except (OSError, KeyError, ValueError) as exc:
                raise ConfigError(f"{path}: not a readable evosim frames chunk ({exc})") from None
            for pos, t in enumerate(ticks.tolist()):  # one per frame
                entries[int(t)] = (path, pos)
        if not entries:
            raise ConfigError(f"{folder}: the run recorded no frames yet")
        self.ticks = np.array(sorted(entries), np.int64)
        self._where = [entries[int(t)] for t in self.ticks]
        self._cache: tuple[Path, dict[str, np.ndarray]] | None = None

    def __len__(self) -> int:
        return len(self.ticks)

    def __iter__(self) -> Iterator[ViewState]:
        for i in range(len(self)):
            yield self.state(i)

    def index_at(self, tick: int) -> int:
        """Index of the first frame at or after ``tick`` (the last frame if none)."""
        return min(int(np.searchsorted(self.ticks, tick, side="left")), len(self.ticks) - 1)

    def _chunk(self, path: Path) -> dict[str, np.ndarray]:
        if self._cache is None or self._cache[0] != path:
            with np.load(path, allow_pickle=False) as z:
                self._cache = (path, {k: z[k] for k in z.files})
        return self._cache[1]

    def state(self, i: int) -> ViewState:
        """Frame ``i`` (0-based) as a :class:`ViewState`."""
        path, pos = self._where[i]
        z = self._chunk(path)
        a, b = int(z["offsets"][pos]), int(z["offsets"][pos + 1])
        tick = int(z["tick"][pos])
        names = [str(s) for s in z["species_names"]]
        # a mark shows from its tick on (chunks store the marks known when they were written)
        intel = np.where(z["intelligent_at"] <= tick, z["intelligent_at"], -1)
        tech = np.where(z["technological_at"] <= tick, z["technological_at"], -1)
        return ViewState(
            tick=tick,
            habitat=self.habitat,
            food=z["food"][pos].astype(np.float32) * np.float32(self.food_scale / 255.0),
            capacity=self.capacity,
            x=z["x"][a:b].astype(np.int32),
            y=z["y"][a:b].astype(np.int32),
            species=z["species"][a:b].astype(np.int32),
            genome=z["genome"][a:b].astype(np.float32) / np.float32(255.0),
            energy=z["energy"][a:b].astype(np.float32),
            age=z["age"][a:b].astype(np.int64),
            id=z["id"][a:b].astype(np.int64),
            parent_id=z["parent_id"][a:b].astype(np.int64) - 1,
            skill=z["skill"][a:b].astype(np.float32) if "skill" in z else None,
            milestone=z["milestone"][a:b] if "milestone" in z else None,
            species_names=names,
            milestone_names=[str(s) for s in z["milestone_names"]],
            intelligent_at=intel,
            technological_at=tech,
            **{key: z[key] for key in ("species_parent",) if key in z},
            **{key: z[key][pos] for key in ("manipulators", "fire_substitute") if key in z},
            world_name=self.world_name,
            source="replay",
        )
