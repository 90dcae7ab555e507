"""The manifest of an experiment folder, ``experiment.json`` (docs/experiments.md).

Also the check that a folder may take it.

The manifest records the spec, the derived seeds, a fingerprint of each arm's
resolved world and the run folders; a re-run into the same folder is refused
when it would mix runs of a different design.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

from evosim.config import yamlsafe
from evosim.config.compat import shapes
from evosim.config.load import world_to_dict
from evosim.config.schema import World
from evosim.errors import ConfigError
from evosim.experiments.samples import Samples, design_differences
from evosim.experiments.spec import Experiment, control_of
from evosim.io.files import atomic_write_json
from evosim.version import __version__

MANIFEST = "experiment.json"
SEED_DERIVATION = (
    "numpy.random.SeedSequence(seed, spawn_key=(k,)).generate_state(1, numpy.uint64)[0] >> 1"
)


def fingerprint(world: World, ticks: int) -> str:
    """SHA-256 of a world's resolved config with the experiment's tick count (seed excluded)."""
    return _digest(world_to_dict(world), ticks)


def fingerprints(world: World, ticks: int) -> set[str]:
    """:func:`fingerprint` of ``world``, and the one an older evosim recorded for the same runs
    (without the keys added since, :func:`evosim.config.compat.shapes`)."""
    return {_digest(d, ticks) for d in shapes(world_to_dict(world))}


def _digest(data: dict, ticks: int) -> str:
    data = {**data, "sim": {**data["sim"], "seed": 0, "ticks": ticks}}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def run_folder(arm: str, k: int) -> str:
    """Relative folder of replicate ``k`` of ``arm``."""
    return f"{arm}/rep-{k}"


def manifest(exp: Experiment) -> dict:
    """The manifest written to ``experiment.json``."""
    s = exp.spec
    return {
        "evosim_version": __version__,
        "name": s.name,
        "spec_file": str(exp.path.resolve()),
        "spec": s.model_dump(mode="json"),
        "world_file": str(exp.world_path),
        "world_file_sha256": hashlib.sha256(exp.world_path.read_bytes()).hexdigest(),
        "control": exp.control,
        "ticks": s.ticks,
        "branch_tick": s.branch_tick,
        "checkpoint_every": s.every,
        "seeds": {"root": s.seed, "derivation": SEED_DERIVATION, "replicates": exp.seeds},
        "base_fingerprint": fingerprint(exp.base, s.fixed_branch or s.ticks),
        "arms": [{"name": a.name, "description": a.description, "fingerprint": fingerprint(exp.arms[a.name], s.ticks),
                  "interventions": [iv.name for iv in exp.arms[a.name].interventions]} for a in s.arms],
        "runs": [{"arm": a.name, "replicate": k, "seed": seed, "folder": run_folder(a.name, k)}
                 for a in s.arms for k, seed in enumerate(exp.seeds)],
    }  # fmt: skip


def sample_folder(i: int) -> str:
    """Relative folder of sample ``i`` of a sweep (its runs are ``<sample folder>/<arm>/rep-<k>``)."""
    return f"sample-{i:04d}"


def sweep_manifest(exp: Experiment, design: Samples) -> dict:
    """A sweep's manifest: ``exp``'s, with the ``design`` (``sweep``) and a run per sample, arm and replicate."""
    m = manifest(exp)
    m["sweep"] = {**design.record(), "replicates": len(exp.seeds)}
    m["runs"] = [
        {
            "sample": i,
            "arm": a,
            "replicate": k,
            "seed": seed,
            "folder": f"{sample_folder(i)}/{run_folder(a, k)}",
        }
        for i in range(design.n)
        for a in exp.arms
        for k, seed in enumerate(exp.seeds)
    ]
    return m


def _arm_history(m: dict) -> dict[str, str | None]:
    """Fingerprint of every arm a manifest's folder ever ran, by name: its ``arm_history`` updated by its ``arms``."""
    return {
        **m.get("arm_history", {}),
        **{a["name"]: a.get("fingerprint") for a in m.get("arms", [])},
    }


def _arm_ticks(out: Path, arm: str) -> set[int]:
    """The horizons (``sim.ticks``) of the run folders of ``arm`` in ``out``, from their config.yaml."""
    found: set[int] = set()
    for cfg in (out / arm).glob("rep-*/config.yaml"):
        try:
            data, _ = yamlsafe.parse(cfg.read_text(encoding="utf-8"))
            t = data["sim"]["ticks"]
        except Exception:  # noqa: BLE001 - an unreadable config says nothing about the horizon
            continue
        if isinstance(t, int) and not isinstance(t, bool):
            found.add(t)
    return found


def _upgraded(
    exp: Experiment,
    out: Path,
    new: dict,
    horizon: int,
    past: set[int],
    history: dict[str, str | None],
) -> dict[str, str | None]:
    """``history`` with the recorded fingerprint of each arm replaced by the current one where the
    arm's runs are the same, though the fingerprints differ, because:

    - an older evosim recorded it: only keys added since, at their defaults, differ
      (:func:`fingerprints`);
    - the arm last ran at a shorter horizon than the folder's (it was left out of the part that
      extended the others): its runs' own ``sim.ticks``, up to ``horizon``, give the match, and
      the runs are extended like every other finished replicate (``past``: the horizons the
      folder had before, from its ``extensions``, for an arm recorded but not yet run).
    """
    out_history = dict(history)
    for a in new["arms"]:
        name = a["name"]
        if name not in history or history[name] == a["fingerprint"] or name not in exp.arms:
            continue
        world = exp.arms[name]
        ticks = sorted(t for t in {new["ticks"], *_arm_ticks(out, name), *past} if t <= horizon)
        if any(history[name] in fingerprints(world, t) for t in ticks):
            out_history[name] = a["fingerprint"]
    return out_history


def _incompatible(old: dict, new: dict, history: dict[str, str | None]) -> list[str]:
    """What differs between an existing manifest and a new one, other than replicates and added or removed arms.

    ``history``: the old manifest's :func:`_arm_history`.
    """
    diff = [k for k in ("name", "ticks") if old.get(k) != new.get(k)]
    if old.get("seeds", {}).get("root") != new["seeds"]["root"]:
        diff.append("seed")
    base_changed = (
        new["branch_tick"] is not None and old.get("base_fingerprint") != new["base_fingerprint"]
    )
    # auto and none make the same runs (an auto arm continues its own past): either may go on
    same = old.get("branch_tick") == new["branch_tick"] or {
        old.get("branch_tick"),
        new["branch_tick"],
    } <= {None, "auto"}
    if not same or base_changed:
        diff.append("branch_tick or the base world")
    diff += [
        f"arm '{a['name']}' (its world or interventions)"
        for a in new["arms"]
        if a["name"] in history and history[a["name"]] != a["fingerprint"]
    ]
    if ("sweep" in old) != ("sweep" in new):
        diff.append("kind of design (a sweep and an experiment without one)")
    elif "sweep" in new:
        diff += [f"sweep {d}" for d in design_differences(old["sweep"], new["sweep"])]
    return diff


def _extension(exp: Experiment, old: dict, new: dict) -> dict | None:
    """``new`` as it would be at the old horizon, if ``new`` only lengthens the folder's experiment; else None.

    A longer ``ticks`` extends every finished replicate from its final checkpoint
    (:func:`evosim.experiments.experiment.ensure_run`); everything else must match at the old horizon,
    so the fingerprints are recomputed with the old tick count. Sweeps are not extended.
    """
    t0 = old.get("ticks")
    if not isinstance(t0, int) or new["ticks"] <= t0 or "sweep" in new or "sweep" in old:
        return None
    s = exp.spec
    return {
        **new,
        "ticks": t0,
        "base_fingerprint": fingerprint(exp.base, s.fixed_branch or t0),
        "arms": [{**a, "fingerprint": fingerprint(exp.arms[a["name"]], t0)} for a in new["arms"]],
    }


def existing(out: str | os.PathLike) -> dict | None:
    """The manifest of the batch folder ``out`` (experiment, sweep, replay, futures), None if there is none yet.

    Every design checks its ``--out`` with this before comparing the manifest with its own.

    Raises:
        ConfigError: ``out`` is a file, its manifest is unreadable, or it is a non-empty folder
            without one (not a batch folder: nothing there may be overwritten).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    path = out / MANIFEST
    if path.is_file():
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{path}: unreadable manifest ({exc}); choose another --out"
            ) from None
        if not isinstance(found, dict):
            raise ConfigError(
                f"{path}: unreadable manifest (not a JSON object); choose another --out"
            )
        return found
    if out.is_dir() and any(p for p in out.iterdir() if not p.name.startswith(".")):
        raise ConfigError(
            f"--out {out}: the folder is not empty and holds no {MANIFEST}; choose another --out"
        )
    return None


def check_out(exp: Experiment, out: str | os.PathLike, new: dict | None = None) -> dict:
    """The manifest ``exp`` would write into ``out``, after checking that ``out`` may take it (nothing is written).

    ``new``: the manifest to write, if not :func:`manifest` of ``exp`` (a sweep's, :func:`sweep_manifest`).

    A larger ``ticks`` than the folder's is an *extension*: allowed when nothing else changed,
    recorded in the manifest's ``extensions`` (``from_ticks``, ``to_ticks``, ``at``).

    Raises:
        ConfigError: ``out`` is a file, a non-empty folder that is not an
            experiment, or an experiment whose runs a different spec made.
    """
    out = Path(out)
    found = existing(out)
    rerun = found is not None
    old: dict = found or {}
    new = new if new is not None else manifest(exp)
    # arms ever run here, so that a removed arm cannot come back with another world over its old folders
    history = _arm_history(old)
    extension = _extension(exp, old, new) if rerun else None
    if rerun:  # recorded by an older evosim, or at another horizon: the same runs all the same
        cand = extension or new
        past = {int(e[k]) for e in old.get("extensions", []) for k in ("from_ticks", "to_ticks")}
        history = _upgraded(exp, out, cand, new["ticks"], past, history)
        tb = exp.spec.fixed_branch or cand["ticks"]
        if cand["branch_tick"] is not None and old.get("base_fingerprint") in fingerprints(
            exp.base, tb
        ):
            old = {**old, "base_fingerprint": cand["base_fingerprint"]}
    diff = _incompatible(old, extension or new, history) if rerun else []
    if diff:
        may = (
            "only `sweep.replicates`, descriptions, the arm list and the `samples` of a morris or sobol design "
            "(SALib appends to those) may change between re-runs"
            if "sweep" in new
            else "only `replicates`, descriptions, the arm list and a larger `ticks` (an extension) may change "
            "between re-runs"
        )
        raise ConfigError(
            f"--out {out}: holds experiment runs made with a different {', '.join(diff)}; re-running there would mix "
            f"them. Choose another --out ({may})"
        )
    new["created"] = old.get("created") or time.strftime("%Y-%m-%dT%H:%M:%S%z")
    new["extensions"] = list(old.get("extensions", []))
    if extension is not None:
        new["extensions"].append(
            {
                "from_ticks": old["ticks"],
                "to_ticks": new["ticks"],
                "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
    new["arm_history"] = _arm_history({**new, "arm_history": history})
    return new


def save_manifest(out: Path, new: dict) -> None:
    """Create ``out`` and write the manifest ``new`` (from :func:`check_out`) into it atomically."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / MANIFEST, new)


def write_manifest(exp: Experiment, out: str | os.PathLike) -> dict:
    """Create ``out`` and write its manifest atomically (see :func:`check_out`); returns the manifest."""
    new = check_out(exp, out)
    save_manifest(Path(out), new)
    return new


def _scan(folder: Path, arm: str, seeds: list[int]) -> list[dict]:
    """The run folders ``<arm>/rep-<k>/`` of ``folder`` as manifest runs (seed from ``seeds``)."""
    runs = []
    for rep in sorted((folder / arm).glob("rep-*")):
        m = re.fullmatch(r"rep-(\d+)", rep.name)
        if rep.is_dir() and m:
            k = int(m.group(1))
            seed = seeds[k] if k < len(seeds) else None
            runs.append({"arm": arm, "replicate": k, "seed": seed, "folder": f"{arm}/{rep.name}",
                         "path": rep})  # fmt: skip
    return runs


def discover(folder: str | Path) -> tuple[str, list[str], str, list[dict]]:
    """(name, arms, control, runs) of an experiment folder.

    Read from ``experiment.json`` or by scanning ``<arm>/rep-<k>/``. An arm that an earlier part
    of the experiment ran but the last part left out (its ``arm_history``) is reported too, after
    the others, with the run folders it has.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such experiment folder")
    mpath = folder / "experiment.json"
    if mpath.is_file():
        try:
            m = json.loads(mpath.read_text(encoding="utf-8"))
            arms = [a["name"] for a in m["arms"]]
            runs = [dict(r, path=folder / r["folder"]) for r in m["runs"]]
            seeds = m.get("seeds", {}).get("replicates", [])
            for arm in _arm_history(m):  # arms left out by the last part: their runs are still here
                if arm not in arms and _scan(folder, arm, seeds):
                    arms.append(arm)
                    runs += _scan(folder, arm, seeds)
            return m.get("name", folder.name), arms, control_of(arms, m.get("control")), runs
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise ConfigError(f"{mpath}: not a readable experiment manifest ({exc})") from None
    runs = []
    for rep in sorted(folder.glob("*/rep-*")):
        m = re.fullmatch(r"rep-(\d+)", rep.name)
        if rep.is_dir() and m and not rep.parent.name.startswith(("_", ".")):
            runs.append(
                {"arm": rep.parent.name, "replicate": int(m.group(1)), "seed": None, "path": rep}
            )
    arms = sorted({r["arm"] for r in runs})
    if not arms:
        raise ConfigError(
            f"{folder}: not an experiment folder (no experiment.json and no <arm>/rep-<k>/ run folders)"
        )
    return folder.name, arms, control_of(arms), runs
