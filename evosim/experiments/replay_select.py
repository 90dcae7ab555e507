"""Which clades a replay branches, and when (``evosim replay``; docs/replay.md).

From a finished experiment folder (or one run folder), every counted founding
clade (:func:`evosim.analysis.outcomes.clades`) of the chosen arms and
replicates that is intelligent, alive and not technological at its *moment*
becomes one :class:`Branch`:

- ``intelligent``: the tick it became intelligent (``intelligent_at``);
- ``plateau``: the first sampled tick after that at which the plateau
  detector (:func:`evosim.analysis.plateau.settled`, with the run cut at that
  tick as its horizon) finds its series settled;
- a tick: that tick, for every clade intelligent and not technological there.

Each branch carries the report's rule-based label of the clade (the most
frequent ``bottleneck`` among its stuck species, :func:`evosim.analysis.outcomes.analyse_run`),
which the causal table is compared with. A run that was itself branched from a
checkpoint is skipped (its past is not a run of its own config.yaml from tick
0), and so is an unfinished one; :func:`select` says why in its notes.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evosim.analysis.outcomes import LABELS, Thresholds, analyse_run, clades
from evosim.analysis.plateau import PlateauRule, settled, species_series
from evosim.errors import ConfigError
from evosim.experiments.replay_spec import ReplaySpec
from evosim.io.logs import FINISHED, Run, load_run


@dataclass(frozen=True)
class Branch:
    """One clade of one run at its moment: the past a replay recreates and branches its futures from.

    Attributes:
        key: the clade's name in the causal table (``arm/rep-k/clade``, or ``clade`` for a run folder).
        run: the source run folder.
        arm, replicate: where the run lies in its experiment (None for a run folder).
        seed: the run's seed.
        clade: the founding species' name (the reliefs' ``target: {founder: clade}``).
        tick: the branch tick (the past runs to it; the futures start after it).
        moment: ``intelligent``, ``plateau`` or ``tick``.
        label: the report's rule-based label of the clade at the run's end ("" if none).
    """

    key: str
    run: Path
    arm: str | None
    replicate: int | None
    seed: int
    clade: str
    tick: int
    moment: str
    label: str

    def past_folder(self) -> str:
        """Relative folder of the recreated past, shared by the clades of a run with the same tick:
        ``<arm>/rep-<k>/past-<tick>`` (``past-<tick>`` for a run folder)."""
        run = self.key.rsplit("/", 1)[0] + "/" if "/" in self.key else ""
        return f"{run}past-{self.tick}"

    def future_folder(self, relief: str, k: int) -> str:
        """Relative folder of future ``k`` under ``relief`` (``none``: unrelieved):
        ``<arm>/rep-<k>/<clade>/<relief>/reseed-<K>``."""
        return f"{self.key}/{relief}/reseed-{k}"


def source_runs(source: Path, spec: ReplaySpec) -> list[tuple[str | None, int | None, Path]]:
    """(arm, replicate, folder) of the runs a replay reads: an experiment's chosen runs, or one run folder.

    Raises:
        ConfigError: no such folder, not an experiment or run folder, an arm it does not have.
    """
    if (source / "config.yaml").is_file():
        return [(None, None, source)]
    from evosim.experiments.manifest import discover  # an experiment folder's arms and runs

    _, arms, control, runs = discover(source)
    want = spec.arms or [control]
    missing = [a for a in want if a not in arms]
    if missing:
        raise ConfigError(
            f"arms: {', '.join(missing)}: not an arm of {source} (its arms: {', '.join(arms)})"
        )
    return [
        (r["arm"], int(r["replicate"]), Path(r["path"]))
        for r in sorted(
            runs,
            key=lambda r: (want.index(r["arm"]) if r["arm"] in want else -1, int(r["replicate"])),
        )  # fmt: skip
        if r["arm"] in want and (spec.replicates is None or int(r["replicate"]) in spec.replicates)
    ]


def plateau_tick(run: Run, ids: set[int], start: float, rule: PlateauRule | None = None) -> float:
    """First sampled tick after ``start`` at which the series of species ``ids`` is settled (NaN: never).

    At each sampled tick t the plateau detector reads the series up to t with t as the horizon
    (its window: the last ``rule.window`` share of t).
    """
    ladder = run.config.get("technology", {}).get("ladder", [])
    last = float(ladder[-1]["threshold"]) if ladder else math.nan
    series = species_series(run.timeseries, ids)
    ticks = series["tick"].to_numpy(np.int64)
    for t in ticks[ticks > start]:
        if (
            settled(series[series["tick"] <= t], int(t), last, rule or PlateauRule())["status"]
            == "settled"
        ):
            return float(t)
    return math.nan


def clade_labels(run: Run, th: Thresholds) -> dict[str, str]:
    """Per clade name, the report's rule-based label: the most frequent bottleneck of its stuck species."""
    _, stuck, _, _ = analyse_run(run, "", 0, th)
    if not stuck:
        return {}
    sp = run.species.set_index("id")
    names = sp["name"].astype(str)
    out = {}
    by: dict[str, Counter] = {}
    for r in stuck:
        clade = str(names.get(int(sp.at[r["species_id"], "root"])))
        by.setdefault(clade, Counter())[r["bottleneck"]] += 1
    for clade, c in by.items():
        top = max(c.values())
        out[clade] = next(b for b in LABELS if c[b] == top)
    return out


def _num(v: object) -> float:
    """A tick of a clade row as a float (NaN for a missing one, whatever its dtype)."""
    return math.nan if pd.isna(v) else float(v)  # type: ignore[arg-type]


def _moment(spec: ReplaySpec, run: Run, row: pd.Series, ids: set[int]) -> tuple[float, str]:
    """(branch tick or NaN, moment kind) of one clade."""
    if isinstance(spec.moment, int):
        return float(spec.moment), "tick"
    if spec.moment == "intelligent":
        return _num(row["intelligent_at"]), "intelligent"
    return plateau_tick(run, ids, _num(row["intelligent_at"])), "plateau"


def branches_of_run(
    spec: ReplaySpec, arm: str | None, replicate: int | None, folder: Path
) -> tuple[list[Branch], list[str]]:
    """The branches of one finished run, and a note for each clade passed over (why)."""
    where = folder.name if arm is None else f"{arm}/rep-{replicate}"
    run = load_run(folder)
    s = run.summary or {}
    if s.get("ended") not in FINISHED:
        return [], [f"{where}: not finished; passed over"]
    ev = run.events
    if len(ev) and (ev["kind"].astype(str) == "branch").any():
        return [], [
            f"{where}: branched from a checkpoint, so its past is not a run of its config.yaml; passed over"
        ]
    min_pop = spec.min_clade_population or int(
        run.config.get("detectors", {}).get("min_population", 50)
    )
    table = clades(run, min_pop)
    labels = clade_labels(run, Thresholds(min_clade_population=min_pop))
    sp = run.species
    out, notes = [], []
    end = int(s.get("ticks_run", 0))
    for _, row in table[table["counted"] & (table["intelligent_species"] > 0)].iterrows():
        name = str(row["clade"])
        if spec.clades is not None and name not in spec.clades:
            continue
        ids = set(int(i) for i in sp.loc[sp["root"] == int(row["root_id"]), "id"])
        tick, kind = _moment(spec, run, row, ids)
        why = ""
        if math.isnan(tick):
            why = "never settled before technology or the end" if kind == "plateau" else "no moment"
        elif not 1 <= tick < end:
            why = f"its moment, tick {tick:.0f}, is not inside the run (1..{end - 1})"
        elif not _num(row["intelligent_at"]) <= tick:
            why = f"not intelligent at tick {tick:.0f}"
        elif _num(row["technological_at"]) <= tick:  # NaN compares False: never technological
            why = f"already technological at tick {tick:.0f}"
        elif _num(row["extinct_at"]) <= tick:
            why = f"extinct at tick {tick:.0f}"
        if why:
            notes.append(f"{where}: clade {name}: {why}; passed over")
            continue
        key = name if arm is None else f"{arm}/rep-{replicate}/{name}"
        out.append(Branch(key, folder, arm, replicate, int(s["seed"]), name, int(tick), kind,
                          labels.get(name, "")))  # fmt: skip
    return out, notes


def select(spec: ReplaySpec, source: Path) -> tuple[list[Branch], list[str]]:
    """Every branch of a replay (module doc), and notes on the runs and clades passed over.

    Raises:
        ConfigError: the source is not an experiment or run folder, or has none of the arms.
    """
    if not source.is_dir():
        raise ConfigError(f"source {source}: no such folder")
    branches, notes = [], []
    for arm, rep, folder in source_runs(source, spec):
        if not (folder / "summary.json").is_file():
            notes.append(f"{arm}/rep-{rep}: not finished; passed over")
            continue
        b, n = branches_of_run(spec, arm, rep, folder)
        branches += b
        notes += n
    return branches, notes
