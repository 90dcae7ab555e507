"""Per-individual genealogy in the ALife Data Standards phylogeny format.

One row per individual, written when it dies (and for the survivors when the
run ends): ``id``, ``ancestor_list`` (``[none]`` for founders, else
``[<parent id>]``), ``origin_time`` (birth tick), ``destruction_time`` (death
tick, or the final tick for survivors), ``species``, the genome at death
(``<gene>`` columns; the genome at birth unless a ``gene_bounds``
intervention clipped it) and ``cause`` (starvation, old_age, culled, alive). Rows are
buffered and written as numbered Parquet chunks
(``lineage/part-00000.parquet`` ...), so memory stays bounded; each chunk is
written atomically (temp file, fsync, rename).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from evosim.defaults import DEATH_CULLED, DEATH_OLD_AGE, DEATH_STARVATION, GENES
from evosim.engine.population import Population
from evosim.io.files import atomic_write_bytes

CAUSES = {
    DEATH_STARVATION: "starvation",
    DEATH_OLD_AGE: "old_age",
    DEATH_CULLED: "culled",
    0: "alive",
}


class LineageWriter:
    """Buffers individuals' records and writes Parquet chunks.

    Args:
        folder: the ``lineage/`` folder (created).
        chunk_rows: rows per chunk.
    """

    def __init__(self, folder: str | os.PathLike, chunk_rows: int):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.chunk_rows = chunk_rows
        self._parts: list[dict[str, np.ndarray]] = []
        self._rows = 0
        self.chunks = 0

    def add(self, p: Population, rows: np.ndarray, cause: np.ndarray, tick: int) -> None:
        """Record the agents at ``rows`` of ``p`` that end at ``tick`` with ``cause``.

        Also the :data:`~evosim.engine.sim.DeathHook` of a recorded simulation.
        """
        part = {
            "id": p.id[rows].copy(),
            "parent_id": p.parent_id[rows].copy(),
            "origin_time": p.birth_tick[rows].astype(np.int64),
            "destruction_time": np.full(len(rows), tick, np.int64),
            "species": p.species[rows].astype(np.int64),
            "genome": p.genome[rows].copy(),
            "cause": np.asarray(cause, np.int8).copy(),
        }
        self._parts.append(part)
        self._rows += len(rows)
        if self._rows >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        """Write buffered rows as one chunk (nothing if empty)."""
        if not self._rows:
            return
        cat = self._joined()
        parent = cat["parent_id"]
        ancestor = np.where(
            parent < 0, "[none]", np.char.add(np.char.add("[", parent.astype(str)), "]")
        )
        cols = {
            "id": pa.array(cat["id"]),
            "ancestor_list": pa.array(ancestor.tolist(), pa.string()),
            "origin_time": pa.array(cat["origin_time"]),
            "destruction_time": pa.array(cat["destruction_time"]),
            "species": pa.array(cat["species"]),
            **{g: pa.array(cat["genome"][:, k]) for k, g in enumerate(GENES)},
            "cause": pa.array([CAUSES[int(c)] for c in cat["cause"]], pa.string()),
        }
        sink = pa.BufferOutputStream()
        pq.write_table(pa.table(cols), sink)
        atomic_write_bytes(
            self.folder / f"part-{self.chunks:05d}.parquet", sink.getvalue().to_pybytes()
        )
        self.chunks += 1
        self._parts, self._rows = [], 0

    def _joined(self) -> dict[str, np.ndarray]:
        """The buffered parts joined into one array per column (empty if nothing is buffered)."""
        if not self._parts:
            return {}
        return {k: np.concatenate([p[k] for p in self._parts]) for k in self._parts[0]}

    def buffered(self) -> dict[str, np.ndarray]:
        """The rows not yet written, as arrays (saved in checkpoints)."""
        return {f"lineage.{k}": v for k, v in self._joined().items()}

    def restore(self, arrays: dict[str, np.ndarray], chunks: int) -> None:
        """Resume after a checkpoint: drop chunks written after it, reload its buffered rows."""
        for path in self.folder.glob("part-*.parquet"):
            if int(path.stem.split("-")[1]) >= chunks:
                path.unlink()
        self.chunks = chunks
        part = {
            k.removeprefix("lineage."): v for k, v in arrays.items() if k.startswith("lineage.")
        }
        self._parts = [part] if part else []
        self._rows = len(part["id"]) if part else 0

    def close(self, p: Population, tick: int) -> None:
        """Record the survivors of ``p`` (cause ``alive``, destruction_time = the final ``tick``) and flush."""
        rows = np.arange(p.n)
        if len(rows):
            self.add(p, rows, np.zeros(len(rows), np.int8), tick)
        self.flush()
