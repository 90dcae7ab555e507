"""The design of a sweep: the sample matrix of a ``sweep:`` block, drawn by SALib (docs/experiments.md).

A :class:`Samples` matrix is a pure function of the block: the same block (and SALib
version) gives the same matrix, so a re-run can check that a folder holds runs
of the same design and an extended design (more replicates; more morris
trajectories or sobol base samples, which SALib appends) keeps its finished
runs. Rows are samples, columns the parameters in the block's order.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from evosim.config.load import split_key
from evosim.errors import ConfigError
from evosim.experiments.spec import MAX_SWEEP_RUNS, SweepConfig


def normalise_key(key: str) -> str:
    """``" traits . brain.upkeep"`` -> ``"traits.brain.upkeep"``, ``"species[0].count"`` ->
    ``"species.0.count"``: a key path as ``--set`` reads it (:func:`evosim.config.load.split_key`),
    so the two forms of one key are one key. A malformed path is only stripped (applying it
    refuses it)."""
    try:
        return ".".join(split_key(str(key)))
    except ValueError:
        return ".".join(p.strip() for p in str(key).split("."))


def salib_version() -> str:
    """The installed SALib's version (recorded with a design: another version may draw other samples)."""
    from importlib.metadata import version

    return version("SALib")


@dataclass(frozen=True)
class Samples:
    """A sweep's sample matrix and what SALib needs to analyse it.

    Attributes:
        sampler: grid, latin, morris or sobol.
        names: the parameters' key paths (normalised), in the block's order.
        problem: SALib's problem dict (``num_vars``, ``names``, ``bounds``, ``dists``).
        matrix: (samples, parameters) design values, unrounded (the analysis uses these).
        integer: per parameter, whether runs get the value rounded to an integer.
        levels: morris levels (``num_levels``), grid points per range; None for latin and sobol.
        second_order: sobol's ``calc_second_order``.
        seed: the sampler's seed.
        samples: the block's ``samples`` (morris trajectories, sobol N, latin points; grid: rows).
        typed: per parameter of a grid with ``values``, float value -> the value as written (keeps ints ints).
    """

    sampler: str
    names: list[str]
    problem: dict
    matrix: np.ndarray
    integer: list[bool]
    levels: int | None
    second_order: bool
    seed: int
    samples: int
    typed: list[dict[float, Any] | None]

    @property
    def n(self) -> int:
        """Number of samples (rows)."""
        return int(self.matrix.shape[0])

    def value(self, i: int, j: int) -> Any:
        """The value run for parameter ``j`` at sample ``i`` (rounded if integer, as written if a grid value)."""
        x = float(self.matrix[i, j])
        typed = self.typed[j]
        if typed is not None:
            return typed[x]
        return int(round(x)) if self.integer[j] else x

    def overrides(self, i: int) -> dict[str, Any]:
        """``{key path: value}`` of sample ``i``, to apply to each arm's world."""
        return {name: self.value(i, j) for j, name in enumerate(self.names)}

    def label(self, i: int) -> str:
        """``sample 3 (culture.alpha=1.2, ...)`` for messages."""
        vals = ", ".join(
            f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in self.overrides(i).items()
        )
        return f"sample {i} ({vals})"

    def centre(self) -> dict[str, Any]:
        """The middle of the design (range midpoint, geometric for log; the middle grid value), for a size probe."""
        out: dict[str, Any] = {}
        for j, name in enumerate(self.names):
            col = np.unique(self.matrix[:, j])
            lo, hi = self.problem["bounds"][j]
            typed = self.typed[j]
            if typed is not None:
                out[name] = typed[float(col[len(col) // 2])]
                continue
            mid = math.sqrt(lo * hi) if self.problem["dists"][j] == "logunif" else (lo + hi) / 2
            out[name] = int(round(mid)) if self.integer[j] else mid
        return out

    def record(self) -> dict:
        """Plain data for the manifest: enough to re-analyse the sweep and to check an extension."""
        return {
            "sampler": self.sampler,
            "seed": self.seed,
            "samples": self.samples,
            "levels": self.levels,
            "second_order": self.second_order,
            "salib_version": salib_version(),
            "problem": self.problem,
            "integer": self.integer,
            "matrix": self.matrix.tolist(),
        }


def _grid_points(p, levels: int, integer: bool) -> tuple[list[float], dict[float, Any] | None]:
    """(points, float -> value as written) of one grid parameter."""
    if p.values is not None:
        return [float(v) for v in p.values], {float(v): v for v in p.values}
    lo, hi = p.range
    pts = np.geomspace(lo, hi, levels) if p.scale == "log" else np.linspace(lo, hi, levels)
    if integer:
        pts = np.round(pts)
        if len(set(pts.tolist())) < levels:
            raise ValueError(
                f"{levels} levels over [{lo}, {hi}] rounded to integers repeat values; use fewer `levels` or `values`"
            )
    return [float(x) for x in pts], None


def make_design(cfg: SweepConfig) -> Samples:
    """Draw the sample matrix of a sweep block with SALib (grid: every combination, first parameter slowest).

    Raises:
        ConfigError: a design SALib cannot draw, or one larger than :data:`MAX_SWEEP_RUNS` samples (the
            message names the ``sweep`` key; the caller adds the file).
    """
    names = [normalise_key(k) for k in cfg.parameters]
    params = list(cfg.parameters.values())
    if cfg.sampler != "grid":
        bad = [n for n, p in zip(names, params) if p.values is not None]
        if bad:
            raise ConfigError(
                f"parameters.{bad[0]}.values: sampler {cfg.sampler} draws from ranges; give "
                f"`range: [low, high]` (value lists are for sampler grid)"
            )
    integer = [p.integer for p in params]
    typed: list[dict[float, Any] | None] = [None] * len(params)
    if cfg.sampler == "grid":
        axes = []
        for j, (name, p) in enumerate(zip(names, params)):
            try:
                pts, typed[j] = _grid_points(p, cfg.n_levels, p.integer)
            except ValueError as exc:
                raise ConfigError(f"parameters.{name}: {exc}") from None
            axes.append(pts)
        rows = math.prod(len(a) for a in axes)
        if rows > MAX_SWEEP_RUNS:
            raise ConfigError(
                f"the grid has {rows} combinations, more than {MAX_SWEEP_RUNS}; use fewer levels or values"
            )
        matrix = np.array(list(itertools.product(*axes)), dtype=np.float64).reshape(rows, len(axes))
        bounds = [[min(a), max(a)] for a in axes]
    else:
        ranges = [p.range for p in params]
        assert all(r is not None for r in ranges)  # the spec refuses values for a non-grid sampler
        bounds = [[float(r[0]), float(r[1])] for r in ranges if r is not None]
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": bounds,
        "dists": ["logunif" if p.scale == "log" else "unif" for p in params],
    }
    n_par = len(names)
    n = cfg.n_samples
    expected = {
        "latin": n,
        "morris": n * (n_par + 1),
        "sobol": n * ((2 * n_par + 2) if cfg.second_order else (n_par + 2)),
    }
    if cfg.sampler != "grid" and expected[cfg.sampler] > MAX_SWEEP_RUNS:
        raise ConfigError(
            f"samples: the {cfg.sampler} design would have {expected[cfg.sampler]} samples, more "
            f"than {MAX_SWEEP_RUNS}"
        )
    if cfg.sampler == "latin":
        from SALib.sample import latin

        matrix = latin.sample(dict(problem), n, seed=cfg.seed)
    elif cfg.sampler == "morris":
        from SALib.sample import morris

        matrix = morris.sample(dict(problem), n, num_levels=cfg.n_levels, seed=cfg.seed)
    elif cfg.sampler == "sobol":
        from SALib.sample import sobol

        matrix = sobol.sample(dict(problem), n, calc_second_order=cfg.second_order, seed=cfg.seed)
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    if (
        cfg.sampler != "grid" and matrix.shape[0] != expected[cfg.sampler]
    ):  # pragma: no cover - SALib's contract
        raise ConfigError(f"SALib drew {matrix.shape[0]} samples, expected {expected[cfg.sampler]}")
    levels = cfg.n_levels if cfg.sampler in ("grid", "morris") else None
    return Samples(
        cfg.sampler,
        names,
        problem,
        matrix,
        integer,
        levels,
        cfg.second_order,
        cfg.seed,
        n if cfg.sampler != "grid" else matrix.shape[0],
        typed,
    )


def design_differences(old: dict, new: dict) -> list[str]:
    """What makes a recorded design (``record()``) and a new one incompatible; [] if the new one may run there.

    Equal designs are compatible, and so are designs equal but for ``samples`` whose matrices agree on
    their common rows (SALib appends morris trajectories and sobol base samples; a latin design or a
    grid redraws everything, so it is refused).
    """
    diff = [
        k
        for k in ("sampler", "seed", "levels", "second_order", "integer")
        if old.get(k) != new.get(k)
    ]
    po, pn = old.get("problem") or {}, new.get("problem") or {}
    if po.get("names") != pn.get("names"):
        diff.append("parameters (their keys or order)")
    elif po.get("bounds") != pn.get("bounds") or po.get("dists") != pn.get("dists"):
        diff.append("parameter ranges, values or scales")
    if diff:
        return diff
    a, b = old.get("matrix") or [], new.get("matrix") or []
    m = min(len(a), len(b))
    if a[:m] != b[:m]:
        why = "samples (the new design is not the old one with samples appended"
        if old.get("salib_version") != new.get("salib_version"):
            why += f"; SALib {old.get('salib_version')} drew the old one, {new.get('salib_version')} the new"
        diff.append(why + ")")
    return diff
