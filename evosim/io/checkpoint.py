"""Checkpoints: the complete state of a run, written atomically, checked on load.

A checkpoint is two files in ``checkpoints/``:

* ``ckpt-<tick>.npz`` -- every array (agents, grids, species registry with
  the detector state, per-sample counters, buffered lineage rows), written as
  a ``numpy.savez`` archive and read with ``allow_pickle=False``;
* ``ckpt-<tick>.json`` -- the header: format version, tick, seed, evosim
  version, the scalars of the state, the SHA-256 of the ``.npz`` and of the
  resolved config, and the sizes of the append-only logs at that tick.

The ``.npz`` is written first (temp file, fsync, rename), then the header the
same way: a checkpoint without a header, or whose checksum does not match, is
not valid. Because random numbers are keyed by (seed, tick, agent id,
purpose), this state is all a run needs to continue exactly as if it had never
stopped.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from evosim.config.schema import World
from evosim.engine.counters import NEURAL_POWERS
from evosim.engine.sim import Simulation
from evosim.errors import CheckpointError
from evosim.io.files import atomic_write_bytes, atomic_write_json, npz_bytes
from evosim.version import __version__

#: 2: detector state (max level, compute at detection) moved into the species registry;
#: 3: the neural-compute sums (counters `neural`, `neural_intelligent`, `neural_technological`)
FORMAT_VERSION = 3
#: Older formats this evosim still reads, upgraded on reading (:func:`_upgrade`).
READS_VERSIONS = (2, FORMAT_VERSION)
_NAME = re.compile(r"^ckpt-(\d{10})\.json$")


def tick_of(header: str | os.PathLike) -> int:
    """The tick of a checkpoint header, from its name (``ckpt-0000002000.json``)."""
    m = _NAME.match(Path(header).name)
    if m is None:
        raise CheckpointError(f"{header}: not a checkpoint header (ckpt-<tick>.json)")
    return int(m.group(1))


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def snapshot(
    sim: Simulation, extra_arrays: dict[str, np.ndarray] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays and scalars that make up the state of ``sim`` (:meth:`Simulation.state`), plus ``extra_arrays``."""
    arrays, scalars = sim.state()
    arrays.update(extra_arrays or {})
    return arrays, scalars


def restore(world: World, arrays: dict[str, np.ndarray], scalars: dict[str, Any]) -> Simulation:
    """A :class:`~evosim.engine.sim.Simulation` that continues a snapshot under ``world`` (same grid).

    See :meth:`Simulation.from_state` (a branch with other interventions starts with none fired).
    """
    return Simulation.from_state(world, arrays, scalars)


def write(
    folder: str | os.PathLike,
    sim: Simulation,
    config_sha: str,
    logs: dict[str, int],
    extra_arrays: dict[str, np.ndarray] | None = None,
    extra: dict | None = None,
    keep: int = 3,
) -> Path:
    """Write a checkpoint of ``sim`` into ``folder`` (created); keep the newest ``keep``.

    Args:
        folder: the ``checkpoints/`` folder.
        sim: the simulation (between ticks).
        config_sha: SHA-256 of the run's resolved config text.
        logs: sizes in bytes of the append-only log files at this tick.
        extra_arrays: more arrays to save (e.g. buffered lineage rows).
        extra: more JSON-able header data (e.g. the lineage chunk count).
        keep: how many checkpoints to keep.

    Returns:
        Path of the header.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays, scalars = snapshot(sim, extra_arrays)
    data = npz_bytes(arrays)
    stem = f"ckpt-{sim.tick:010d}"
    atomic_write_bytes(folder / f"{stem}.npz", data)
    header = {
        "format_version": FORMAT_VERSION,
        "evosim_version": __version__,
        "tick": sim.tick,
        "seed": sim.seed,
        "npz_sha256": sha256(data),
        "config_sha256": config_sha,
        "logs": logs,
        "scalars": scalars,
        "extra": extra or {},
    }
    header["header_sha256"] = _header_sha(header)
    atomic_write_json(folder / f"{stem}.json", header)
    _prune(folder, keep)
    return folder / f"{stem}.json"


def _header_sha(header: dict) -> str:
    """SHA-256 of a header's content (all but this checksum): the scalars of the state live there."""
    body = {k: v for k, v in header.items() if k != "header_sha256"}
    return sha256(json.dumps(body, sort_keys=True).encode("utf-8"))


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _header_problem(hp: Path, header: dict) -> str | None:
    """What is wrong with a header's fields (types, consistency, checksum), or None."""
    if "header_sha256" not in header:
        return "its checksum (header_sha256) is missing: every header evosim writes has one, so it was edited"
    if header["header_sha256"] != _header_sha(header):
        return "its checksum does not match its content: the header was edited or damaged"
    fields = {
        "tick": (_whole, "a whole number"),
        "seed": (_whole, "a whole number"),
        "npz_sha256": (lambda v: isinstance(v, str) and len(v) == 64, "a SHA-256 in hex"),
        "logs": (
            lambda v: isinstance(v, dict) and all(_whole(n) for n in v.values()),
            "a mapping of log files to sizes in bytes",
        ),
        "scalars": (lambda v: isinstance(v, dict), "a mapping"),
        "extra": (lambda v: isinstance(v, dict), "a mapping"),
    }
    for key, (ok, what) in fields.items():
        if key not in header or not ok(header[key]):
            got = f"is {header[key]!r}"[:60] if key in header else "is missing"
            return f"'{key}' {got}, expected {what}"
    for key in ("tick", "seed"):
        if header["scalars"].get(key) != header[key]:
            return f"scalars.{key} {header['scalars'].get(key)!r} differs from {key} {header[key]}"
    m = _NAME.match(hp.name)
    if m and int(m.group(1)) != header["tick"]:
        return f"its file name says tick {int(m.group(1))}, its content tick {header['tick']}"
    return None


#: Counters of the state that are whole numbers >= 0 whenever they are present.
_COUNTS = ("agent_steps", "total_births", "total_deaths", "cap_refused", "learning_attempts",
           "innovations", "next_id")  # fmt: skip


def _state_problem(scalars: dict, arrays: dict[str, np.ndarray]) -> str | None:
    """Values no run can have (even under a matching checksum), or None.

    Negative or non-integer counts; a ``cap_reached_at`` after the tick; agent
    ids repeated, or not below ``next_id`` (the next id handed out: a resumed
    run would give a newborn the id of a live agent).
    """
    for key in _COUNTS:
        if key in scalars and not _whole(scalars[key]):
            return f"scalars.{key} is {scalars[key]!r}, which no run can have (a whole number >= 0)"
    cap = scalars.get("cap_reached_at")
    if cap is not None and not (_whole(cap) and cap <= scalars["tick"]):
        return f"scalars.cap_reached_at is {cap!r}, not a tick up to {scalars['tick']}"
    reseed = scalars.get("reseed")
    if reseed is not None and not (
        isinstance(reseed, list) and len(reseed) == 2 and all(_whole(v) for v in reseed)
        and reseed[0] <= scalars["tick"]
    ):  # fmt: skip
        return f"scalars.reseed is {reseed!r}, not [branch tick up to {scalars['tick']}, key >= 0]"
    ids = arrays.get("pop.id")
    if ids is not None and len(ids):
        if "next_id" in scalars and int(ids.max()) >= scalars["next_id"]:
            return (
                f"scalars.next_id is {scalars['next_id']}, but a live agent has id {int(ids.max())}: "
                "new agents would reuse live ids"
            )
        if len(np.unique(ids)) != len(ids):
            return "two live agents share an id"
    return None


def _prune(folder: Path, keep: int) -> None:
    headers = sorted(p for p in folder.iterdir() if _NAME.match(p.name))
    for old in headers[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
        old.with_suffix(".npz").unlink(missing_ok=True)
    for tmp in folder.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def read(
    header_path: str | os.PathLike, config_sha: str | None = None
) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify one checkpoint; returns (header, arrays).

    Raises:
        CheckpointError: missing or unreadable files, a wrong format version,
            a header whose fields are damaged or edited, a checksum mismatch
            (truncated, corrupted or hand-edited data), or
            (with ``config_sha``) a checkpoint of another config.
    """
    hp = Path(header_path)
    if hp.suffix == ".npz":
        hp = hp.with_suffix(".json")
    try:
        header = json.loads(hp.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{hp}: no such checkpoint header") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{hp}: the checkpoint header is unreadable ({exc})") from None
    if not isinstance(header, dict) or header.get("format_version") not in READS_VERSIONS:
        got = header.get("format_version") if isinstance(header, dict) else None
        raise CheckpointError(
            f"{hp}: checkpoint format version {got!r}; this evosim reads versions "
            + ", ".join(map(str, READS_VERSIONS))
        )
    problem = _header_problem(hp, header)
    if problem:
        raise CheckpointError(f"{hp}: the checkpoint header is not usable: {problem}")
    npz = hp.with_suffix(".npz")
    try:
        data = npz.read_bytes()
    except OSError as exc:
        raise CheckpointError(
            f"{npz}: cannot read the checkpoint data ({exc.strerror or exc})"
        ) from None
    if sha256(data) != header.get("npz_sha256"):
        raise CheckpointError(
            f"{npz}: checksum mismatch: the checkpoint data is truncated, corrupted or was edited"
        )
    if config_sha is not None and header.get("config_sha256") != config_sha:
        raise CheckpointError(f"{hp}: this checkpoint belongs to a different config")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001 - any decoding failure means a bad file
        raise CheckpointError(f"{npz}: the checkpoint data cannot be decoded ({exc})") from None
    problem = _state_problem(header["scalars"], arrays)
    if problem:
        raise CheckpointError(f"{hp}: the checkpoint holds a state no run can have: {problem}")
    return header, _upgrade(header, arrays)


def _upgrade(header: dict, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays of an older format as the current format has them (``header`` says which).

    Format 2 (before neural compute) has no neural-compute sums: the run's compute up to the
    checkpoint was never counted, so the sums are NaN -- *unknown*, not zero -- and stay NaN
    for the rest of the run (summary.json says null; docs/reliability.md). Everything the
    dynamics read is in format 2 as in format 3, so the run continues byte for byte.
    """
    if header.get("format_version") != 2:
        return arrays
    n = len(arrays.get("species.intelligent_at", ()))
    unknown = np.full((n, len(NEURAL_POWERS)), np.nan)
    out = dict(arrays)
    out["sim.neural"] = unknown
    for kind in ("intelligent", "technological"):
        happened = (np.asarray(arrays.get(f"species.{kind}_at", ())) >= 0).any()
        out[f"sim.neural_{kind}"] = unknown.copy() if happened else unknown[:0].copy()
    return out


def headers(folder: str | os.PathLike) -> list[Path]:
    """Checkpoint header paths in ``folder``, newest first (none if it is not a folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if _NAME.match(p.name)), reverse=True)


def newest_valid(
    folder: str | os.PathLike, config_sha: str | None = None
) -> tuple[Path, dict, dict, list[str]]:
    """The newest checkpoint in ``folder`` that verifies, falling back to older ones.

    Returns:
        (header path, header, arrays, messages about refused newer checkpoints).

    Raises:
        CheckpointError: no valid checkpoint.
    """
    folder = Path(folder)
    refused: list[str] = []
    for hp in headers(folder):
        try:
            header, arrays = read(hp, config_sha)
            return hp, header, arrays, refused
        except CheckpointError as exc:
            refused.append(str(exc))
    detail = f" (refused: {'; '.join(refused)})" if refused else ""
    raise CheckpointError(f"{folder}: no valid checkpoint to resume from{detail}")
