"""The run folder: config.yaml, timeseries.csv, species.csv, events.csv, summary.json.

Files other than ``summary.json``'s ``timing`` block are pure functions of
(world, seed, ticks): the same inputs give byte-identical files. Whole files
are replaced atomically (temp file, fsync, rename); ``timeseries.csv`` is
appended row by row during the run and flushed at every sample.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from evosim.config.load import world_to_dict
from evosim.config.yamlsafe import dump
from evosim.defaults import DEATH_CULLED, DEATH_OLD_AGE, DEATH_STARVATION, GENES
from evosim.engine import runtime
from evosim.engine.sim import Simulation
from evosim.errors import ConfigError
from evosim.io import checkpoint as ckpt
from evosim.io import neural
from evosim.io.columns import (
    BASE_TIMESERIES_COLUMNS,
    EVENT_COLUMNS,
    SPECIES_COLUMNS,
    timeseries_columns,
)
from evosim.io.files import atomic_write_json, atomic_write_text
from evosim.io.frames import FrameRecorder
from evosim.io.integrity import LogLedger
from evosim.io.lineage import LineageWriter
from evosim.io.lock import LOCK_NAME
from evosim.version import __version__

#: Files a run folder may contain; ``--force`` only replaces folders made of these.
RUN_FILES = {
    "config.yaml",
    "timeseries.csv",
    "summary.json",
    "species.csv",
    "events.csv",
    "lineage",
    "checkpoints",
    "frames",
    LOCK_NAME,
}
#: Keys of a world that act only at tick 0 (the grid, its habitat and the founders):
#: a run continued from a checkpoint keeps the checkpoint's, whatever its world says.
TICK0_KEYS = ("world.width", "world.height", "world.habitat", "species")


def _fmt(v: float) -> str:
    """Shortest round-trip text of a float (deterministic); float32 values keep their float32 digits."""
    if not np.isfinite(v):
        return ""
    return str(v) if isinstance(v, np.float32) else repr(float(v))


def _csv_text(field: str) -> str:
    """``field`` as the csv module writes it in a row of several fields (quoted where needed)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([field, ""])
    return buf.getvalue()[:-2]


def _own_temp(name: str) -> bool:
    """A temp file left by an interrupted atomic write of a run file (``.<name>.*tmp``)."""
    return (
        name.startswith(".")
        and name.endswith("tmp")
        and any(name.startswith(f".{f}.") for f in RUN_FILES)
    )


def prepare_folder(out: str | os.PathLike, force: bool = False) -> Path:
    """Check that ``out`` may be used as a run folder; with ``force`` empty an old run folder.

    Raises:
        ConfigError: the folder exists (without ``force``), is a file, or holds
            files that are not a run's (never deleted, even with ``force``).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(p.name != LOCK_NAME for p in out.iterdir()):
        if not force:
            raise ConfigError(
                f"--out {out}: the folder already exists; choose another --out or pass --force to replace it"
            )
        foreign = sorted(
            p.name for p in out.iterdir() if p.name not in RUN_FILES and not _own_temp(p.name)
        )
        if foreign:
            raise ConfigError(
                f"--out {out}: holds files that are not a run's ({', '.join(foreign[:5])}); "
                "refusing to replace it even with --force"
            )
    return out


def _get(data: Any, dotted: str) -> object:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def tick0_part(world: dict) -> dict:
    """The :data:`TICK0_KEYS` of a world dict (:func:`world_to_dict`), by key."""
    return {k: _get(world, k) for k in TICK0_KEYS}


def world_sha(world: dict) -> str:
    """SHA-256 of a world dict without ``sim.ticks``: the run a checkpoint belongs to, whatever its length."""
    data = {**world, "sim": {k: v for k, v in world["sim"].items() if k != "ticks"}}
    return ckpt.sha256(json.dumps(data, sort_keys=True).encode("utf-8"))


def file_sha(path: str | os.PathLike | None) -> str | None:
    try:
        return ckpt.sha256(Path(path).read_bytes()) if path else None
    except OSError:
        return None


class Recorder:
    """Writes a run folder while a :class:`Simulation` runs.

    Args:
        folder: the run folder (checked with :func:`prepare_folder` first).
        sim: the simulation to record; its world should carry the run's seed
            and length (see :func:`evosim.io.runner.run`).
        force: replace an existing run folder.
        world_file: the world file the run came from (its checksum is kept so
            a resume can detect that it changed).
        checked: ``folder`` was already checked with :func:`prepare_folder`
            (or is the run folder being resumed): do not check it again.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        sim: Simulation,
        force: bool = False,
        world_file: str | os.PathLike | None = None,
        checked: bool = False,
    ):
        self.folder = Path(folder) if checked else prepare_folder(folder, force)
        self.sim = sim
        self.sample_every = sim.world.output.sample_every
        self._started = time.perf_counter()
        self._steps_at_start = sim.counters.agent_steps
        self.lineage: LineageWriter | None = None
        self.milestones = [m.name for m in sim.world.technology.ladder]
        # the share_<milestone> columns of timeseries.csv: this run's milestones, unless it
        # continues logs that name others (a branch under another ladder; see continuation.py)
        self.share_names = list(self.milestones)
        self.ledger = LogLedger(self.folder)
        self.world_file = str(Path(world_file).resolve()) if world_file else None
        self.world_file_sha = file_sha(world_file)
        self.config_sha = ""
        # each species' name as timeseries.csv writes it (UTF-8, end to end), and where each ends
        self._names_utf8 = np.zeros(0, np.uint8)
        self._name_end = np.zeros(0, np.int64)

    def config_text(self) -> str:
        """The resolved config as YAML, with the evosim version and source in comments."""
        head = [
            f"# resolved config written by evosim {__version__}; `evosim run` on this file repeats the run "
            "(a branch also needs its checkpoint: `evosim run --from`)"
        ]
        if self.world_file:
            head.append(f"# world file: {self.world_file}")
        return "\n".join(head) + "\n" + dump(world_to_dict(self.sim.world))

    def _start_folder(self) -> None:
        """Empty (an already checked) folder and write ``config.yaml``."""
        if self.folder.exists():
            for p in self.folder.iterdir():
                if p.name != LOCK_NAME:  # held by this run (io/lock.py)
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)
        text = self.config_text()
        atomic_write_text(self.folder / "config.yaml", text)
        self.config_sha = ckpt.sha256(text.encode("utf-8"))

    def open(self) -> None:
        """Create the folder and write ``config.yaml`` and the time-series header and first row."""
        self._start_folder()
        self._fresh_logs()
        if self.frames is not None:
            self.frames.on_tick(self.sim)  # tick 0
        self._periodic_checkpoint()

    def _fresh_logs(self) -> None:
        """Open new logs, write their headers and sample the current tick."""
        self._open_logs("w")
        self._csv.writerow(timeseries_columns(self.share_names))
        self._evcsv.writerow(EVENT_COLUMNS)
        self.sample()

    def _periodic_checkpoint(self) -> None:
        """Write a checkpoint if the run writes them periodically (``output.checkpoint_every`` > 0)."""
        if self.sim.world.output.checkpoint_every:
            self.checkpoint()

    def _open_logs(self, mode: str) -> None:
        self._ts = open(self.folder / "timeseries.csv", mode, newline="", encoding="utf-8")
        self._csv = csv.writer(self._ts, lineterminator="\n")
        self._ev = open(self.folder / "events.csv", mode, newline="", encoding="utf-8")
        self._evcsv = csv.writer(self._ev, lineterminator="\n")
        every = self.sim.world.output.record_every
        self.frames = FrameRecorder(self.folder, every) if every else None
        if self.sim.world.output.lineage:
            self.lineage = LineageWriter(
                self.folder / "lineage", self.sim.world.output.lineage_chunk_rows
            )
            self.sim.on_death = self.lineage.add

    def checkpoint(self) -> Path:
        """Write a checkpoint of the simulation and of the logs' extent at this tick.

        Replay frames are written out at the periodic checkpoints (where every
        run, interrupted or not, ends a frame chunk); at any other tick (an
        interruption, the last tick) the frames not yet written go into the
        checkpoint instead, like the buffered lineage rows, so a resumed run
        writes the same chunks as one that never stopped.
        """
        every = self.sim.world.output.checkpoint_every
        periodic = bool(every) and self.sim.tick % every == 0
        arrays = self.lineage.buffered() if self.lineage else {}
        if self.frames is not None:
            if periodic:
                self.frames.flush()
            else:
                arrays.update(self.frames.buffered())
        self._ts.flush()
        self._ev.flush()
        os.fsync(self._ts.fileno())
        os.fsync(self._ev.fileno())
        logs, log_sha = (
            self.ledger.record()
        )  # every log's extent and checksum, for a resume to verify
        world = world_to_dict(self.sim.world)
        extra = {
            "lineage_chunks": self.lineage.chunks if self.lineage else 0,
            "world_file": self.world_file,
            "world_file_sha256": self.world_file_sha,
            "log_sha256": log_sha,
            "world_sha256": world_sha(world),
            "tick0": tick0_part(world),
        }
        return ckpt.write(
            self.folder / "checkpoints",
            self.sim,
            self.config_sha,
            logs,
            arrays,
            extra,
            keep=self.sim.world.output.checkpoint_keep,
        )

    def continue_logs(
        self, lineage_chunks: int, arrays: dict[str, np.ndarray], frames: bool = True
    ) -> None:
        """Reopen logs already cut back to a checkpoint (see :mod:`evosim.io.continuation`) for appending.

        Args:
            lineage_chunks: lineage chunks written by the checkpoint's tick (later ones are dropped).
            arrays: the checkpoint's arrays (its buffered lineage rows and frames are reloaded).
            frames: reload its buffered frames (a branch starts its own frames instead).
        """
        with open(self.folder / "timeseries.csv", encoding="utf-8") as fh:
            columns = fh.readline().rstrip("\n").split(",")
        self.share_names = [
            c.removeprefix("share_") for c in columns[len(BASE_TIMESERIES_COLUMNS) :]
        ]
        self._open_logs("a")
        if self.lineage is not None:
            self.lineage.restore(arrays, lineage_chunks)
        if frames and self.frames is not None:
            self.frames.restore(arrays, self.sim)

    def on_tick(self, sim: Simulation) -> None:
        """Hook for :meth:`Simulation.advance`: events every tick, a sample every ``sample_every`` ticks."""
        if sim.events:
            self.write_events()
        if sim.tick % self.sample_every == 0 or sim.extinct:
            self.sample()
        if self.frames is not None:
            self.frames.on_tick(sim)

    def write_events(self) -> None:
        """Append the simulation's pending events to events.csv."""
        for tick, kind, sp, details in self.sim.events:
            self._evcsv.writerow([tick, kind, sp if sp >= 0 else "", details])
        self.sim.events.clear()
        self._ev.flush()

    def sample(self) -> None:
        """Append one row per species (alive or not) for the current tick."""
        sim, p = self.sim, self.sim.pop
        n_sp = len(sim.species)
        obs = sim.observe()
        count, s1, s2, on_land, e_sum = (
            obs.members,
            obs.gene_sum,
            obs.gene_sq,
            obs.on_land,
            obs.energy_sum,
        )
        births, deaths = sim.take_counts()
        species = p.live("species")
        z_mean, z_p90, z_max = obs.skill_mean, obs.skill_p90, obs.skill_max
        n_ms = len(self.milestones)
        levels = obs.levels
        by_level = np.bincount(
            species.astype(np.int64) * (n_ms + 1) + levels, minlength=n_sp * (n_ms + 1)
        )
        # one row per species alive, or born into or dying since the last sample (all at tick 0)
        idx = np.flatnonzero(
            (count[:n_sp] > 0) | (births[:n_sp] > 0) | (deaths[:n_sp].sum(axis=1) > 0)
            | (sim.tick == 0)
        )  # fmt: skip
        # [row, k]: the row's species' agents at level >= k (the rows' counts only)
        holding = np.cumsum(by_level.reshape(n_sp, n_ms + 1)[idx, ::-1], axis=1)[:, ::-1]
        c = count[idx]
        cc = np.where(c > 0, c, 1)[:, None]  # an empty species divides nothing (blank below)
        empty = c == 0
        mean = s1[idx] / cc
        genes = np.empty((len(idx), 2 * len(GENES)))  # mean and sd of each gene, in turn
        genes[:, 0::2] = mean
        genes[:, 1::2] = np.sqrt(np.maximum(s2[idx] / cc - mean * mean, 0.0))
        land_energy = np.column_stack([on_land[idx] / cc[:, 0], e_sum[idx] / cc[:, 0]])
        col = {m: k for k, m in enumerate(self.milestones, 1)}  # a share column's level
        shares = holding[:, [col.get(m, 0) for m in self.share_names]] / cc
        known = np.array([m in col for m in self.share_names], bool)
        shares[:, ~known] = np.nan  # a column of another ladder stays blank
        for part in (genes, land_energy, shares):
            part[empty] = np.nan  # an empty species: no means and no shares (blank fields)
        # the row's fields after its name: counts, gene means and sds, land share and energy,
        # skills, adults and holders, shares (integers written as such; counts are far below 2**53)
        parts = [c, births[idx], deaths[idx][:, [DEATH_STARVATION, DEATH_OLD_AGE, DEATH_CULLED]],
                 genes, land_energy, z_mean[idx], z_p90[idx], z_max[idx], obs.adults[idx],
                 obs.holders[idx], shares]  # fmt: skip
        widths = [1 if q.ndim == 1 else q.shape[1] for q in parts]
        values = np.empty((len(idx), sum(widths)))
        is_int = np.zeros(values.shape[1], np.uint8)
        at = 0
        for part, w in zip(parts, widths):
            values[:, at : at + w] = part.reshape(len(idx), w)
            is_int[at : at + w] = part.dtype.kind in "iu"
            at += w
        self._name_texts(sim.species.names)
        text = runtime.csv_lines(sim.tick, idx, self._names_utf8, self._name_end, values, is_int)
        self._ts.write(text)
        self._ts.flush()

    def _name_texts(self, names: list[str]) -> None:
        """Append the CSV texts of the species named since the last call to ``_names_utf8``."""
        known = len(self._name_end)
        if known == len(names):
            return
        encoded = [_csv_text(name).encode("utf-8") for name in names[known:]]
        start = self._name_end[-1] if known else 0
        ends = start + np.cumsum([len(e) for e in encoded], dtype=np.int64)
        new = np.frombuffer(b"".join(encoded), np.uint8)
        self._names_utf8 = np.concatenate([self._names_utf8, new])
        self._name_end = np.concatenate([self._name_end, ends])

    def close(self, ended: str) -> dict:
        """Write ``summary.json``; returns it. ``ended``: completed, extinct or interrupted.

        Every run ends with a checkpoint of its last tick (whatever
        ``output.checkpoint_every``), so it can be resumed, extended or branched.
        An interrupted run gets that checkpoint and a summary but keeps its logs
        open-ended (no final sample, no survivors in the lineage), so that
        ``--resume`` continues it exactly.
        """
        sim = self.sim
        self.write_events()
        # the state at the last tick, taken before the outputs only an end writes (a final
        # sample, the last frame, the survivors' lineage), so `--resume --ticks` can extend it
        self.checkpoint()
        if ended == "interrupted":
            self._ts.close()
            self._ev.close()
            return self._write_summary(ended)
        if self.frames is not None:
            self.frames.close()  # the last tick too: the replay ends there
        if sim.tick % self.sample_every != 0 and not sim.extinct:
            self.sample()
        self._ts.close()
        self._ev.close()
        if self.lineage is not None:
            self.lineage.close(sim.pop, sim.tick)
        self.write_species()
        return self._write_summary(ended)

    def _write_summary(self, ended: str) -> dict:
        sim, c = self.sim, self.sim.counters
        wall = time.perf_counter() - self._started
        pops = sim.populations(extant_only=True)
        summary = {
            "evosim_version": __version__,
            "world": sim.world.name,
            "seed": sim.seed,
            **(
                {"reseed": {"branch_tick": sim.reseeded[0], "key": sim.reseeded[1]}}
                if sim.reseeded
                else {}
            ),
            "ended": ended,
            "ticks_run": sim.tick,
            "final_population": sum(pops.values()),
            "final_populations": pops,
            "species_formed": len(sim.species),
            "species_extant": len(pops),
            **self._outcomes(),
            "agent_steps": int(c.agent_steps),
            "births": int(c.total_births),
            "deaths": int(c.total_deaths),
            "population_cap": sim.cap,
            "cap_reached_at": c.cap_reached_at,
            "births_refused_at_cap": int(c.cap_refused),
            "timing": {
                "wall_time_s": round(wall, 3),
                "agent_steps": int(c.agent_steps - self._steps_at_start),
                "agent_steps_per_s": round((c.agent_steps - self._steps_at_start) / wall, 1)
                if wall > 0
                else None,
                "threads": runtime.threads(),
                "parallel_ticks": int(sim.flavours.parallel_ticks),
            },
        }
        atomic_write_json(self.folder / "summary.json", summary)
        return summary

    def write_species(self) -> None:
        """Write species.csv (ALife phylogeny format; grants are as of now or of the extinction).

        An extant species' ``destruction_time`` is ``none``, the ALife Data
        Standards' value for "not destroyed" (its ``alive`` column says so too).
        """
        sp = self.sim.species
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(SPECIES_COLUMNS)
        for s in range(len(sp)):
            parent = int(sp.parent[s])
            extant = sp.destruction[s] < 0
            founder = sp.founder[s]
            w.writerow([
                s, "[none]" if parent < 0 else f"[{parent}]", int(sp.origin[s]),
                "none" if extant else int(sp.destruction[s]), extant, s if parent < 0 else parent,
                sp.names[s], int(sp.root[s]), *[_fmt(v) for v in founder], int(sp.peak[s]),
                "land" if founder[GENES.index("habitat")] >= 0.5 else "water",
                int(sp.intelligent_at[s]) if sp.intelligent_at[s] >= 0 else "",
                int(sp.technological_at[s]) if sp.technological_at[s] >= 0 else "",
                _fmt(sp.manipulators[s]), bool(sp.fire_substitute[s]),
            ])  # fmt: skip
        atomic_write_text(self.folder / "species.csv", buf.getvalue())

    def _outcomes(self) -> dict:
        """Detector results and compute for summary.json."""
        sim, sp, det, c = self.sim, self.sim.species, self.sim.detectors, self.sim.counters

        def first(hit, kind):
            if hit is None:
                return None
            tick, flop, sid = hit
            return {
                "tick": tick,
                "flop": flop,
                "species": sp.names[sid],
                **neural.at_first(sim, kind, sid),
            }

        intel = [sp.names[i] for i in np.flatnonzero(sp.view("intelligent_at") >= 0)]
        tech = [sp.names[i] for i in np.flatnonzero(sp.view("technological_at") >= 0)]
        return {
            "intelligent_species": len(intel),
            "technological_species": len(tech),
            "intelligent": intel,
            "technological": tech,
            "first_intelligent": first(det.first_intelligent, "intelligent"),
            "first_technological": first(det.first_technological, "technological"),
            "compute": {
                "flop_total": sim.flop(),
                "agent_steps": int(c.agent_steps),
                "births": int(c.total_births),
                "learning_attempts": int(c.learning_attempts),
                "innovations": int(c.innovations),
                "neural": neural.summary(sim),
            },
        }
