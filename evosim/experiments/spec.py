"""Schema of an experiment file and its strict reader (docs/experiments.md).

Like the world schema, unknown keys are errors and every field carries the
description that the error messages quote; :func:`read_spec` turns every
problem into one :class:`~evosim.errors.ConfigError` paragraph naming the
file, the key path and its line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, model_validator

from evosim.config.base import Located, Strict, _f
from evosim.config.interventions import InterventionConfig, never_applies
from evosim.config.load import read_world_file, validation_message
from evosim.config.schema import MAX_TICKS, World
from evosim.errors import ConfigError

#: Most replicates and arms an experiment may ask for (a typo guard, not a hard limit of Dask).
MAX_REPLICATES = 10_000
MAX_ARMS = 64
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_\-]{0,39}$"
#: Override keys an experiment sets itself (per replicate), so they may not be overridden.
RESERVED_KEYS = ("sim.seed", "sim.ticks")


def _check_overrides(v: dict[str, Any]) -> dict[str, Any]:
    """Refuse overrides of :data:`RESERVED_KEYS` (the key paths themselves are checked when the worlds are built)."""
    for key in v:
        k = ".".join(p.strip() for p in str(key).split("."))
        if k in RESERVED_KEYS:
            raise ValueError(
                f"override '{k}' is set by the experiment; use the experiment's `seed` and `ticks` keys instead"
            )
    return v


#: A mapping of ``--set`` style overrides (key path -> value), none of :data:`RESERVED_KEYS`.
OverrideMap = Annotated[dict[str, Any], AfterValidator(_check_overrides)]


def control_of(arms: list[str], control: str | None = None) -> str:
    """The control arm of ``arms``: ``control`` if it is one of them, else the arm named 'control', else the first."""
    if control in arms:
        return control
    return "control" if "control" in arms else arms[0]


class ArmConfig(Strict):
    """One arm: the base world plus this arm's overrides and interventions."""

    name: str = Field(
        ..., description="arm name (its run folders are OUT/<name>/rep-<k>/)", pattern=NAME_PATTERN
    )
    description: str = Field("", description="free text", max_length=10_000)
    overrides: OverrideMap = Field(
        default_factory=dict,
        description="--set style overrides of the world for this arm, e.g. {culture.alpha: 1.5}; applied after the "
        "experiment's common overrides",
    )
    interventions: list[InterventionConfig] = Field(
        default_factory=list,
        description="interventions of this arm (same schema as a world's `interventions`), appended to the world's own",
        max_length=256,
    )


#: Most runs (samples x arms x replicates) a sweep may ask for, and most parameters it may vary.
MAX_SWEEP_RUNS = 1_000_000
MAX_SWEEP_PARAMETERS = 64
SAMPLERS = ("grid", "latin", "morris", "sobol")


class SweepParameter(Strict):
    """One swept parameter: a range (every sampler) or a list of values (grid only)."""

    range: list[float] | None = Field(
        None,
        description="[low, high]: the interval the sampler draws from (grid: `levels` evenly spaced points)",
        min_length=2,
        max_length=2,
    )
    values: list[int | float] | None = Field(
        None,
        description="the values a grid takes for this parameter, in order (grid sampler only)",
        min_length=1,
        max_length=1000,
    )
    scale: Literal["linear", "log"] = Field(
        "linear",
        description="linear: uniform over the range; log: uniform in log(value) (SALib's 'logunif'; needs low > 0)",
    )
    integer: bool = Field(
        False,
        description="round sampled values to integers (for integer keys such as detectors.tech_window); the "
        "analysis uses the design's unrounded values",
    )

    @model_validator(mode="after")
    def _one_of(self):
        if (self.range is None) == (self.values is None):
            raise ValueError("give exactly one of `range: [low, high]` and `values: [...]`")
        if self.range is not None:
            lo, hi = self.range
            if not lo < hi:
                raise ValueError(f"range [{lo}, {hi}]: low must be below high")
            if self.scale == "log" and lo <= 0:
                raise ValueError(f"scale log needs a positive range (got low {lo})")
        elif len(set(self.values or [])) != len(self.values or []):
            raise ValueError("values must be distinct")
        return self


def _check_sweep_keys(v: dict[str, SweepParameter]) -> dict[str, SweepParameter]:
    """Refuse sweeping :data:`RESERVED_KEYS` and keys given twice (``a.b`` and ``a . b``, or one inside another)."""
    _check_overrides(v)
    keys = [".".join(p.strip() for p in str(k).split(".")) for k in v]
    for a in keys:
        for b in keys:
            if a != b and b.startswith(a + "."):
                raise ValueError(f"'{b}' lies inside '{a}'; sweep one or the other")
    if len(set(keys)) != len(keys):
        raise ValueError("a parameter is given twice (spaces around dots do not count)")
    return v


class SweepConfig(Strict):
    """A sweep: a design over some world parameters; every sample runs every arm and replicate."""

    parameters: Annotated[dict[str, SweepParameter], AfterValidator(_check_sweep_keys)] = Field(
        ...,
        description="the swept parameters: key path as for --set (e.g. traits.brain.upkeep) -> {range: [low, "
        "high]} or {values: [...]} (grid)",
        min_length=1,
        max_length=MAX_SWEEP_PARAMETERS,
    )
    sampler: Literal["grid", "latin", "morris", "sobol"] = Field(
        "grid",
        description="grid: every combination; latin: Latin hypercube (SALib.sample.latin); morris: Morris "
        "trajectories (SALib.sample.morris); sobol: Saltelli's scheme on a Sobol' sequence (SALib.sample.sobol)",
    )
    samples: int | None = _f(
        None,
        "latin: number of samples (required); morris: number of trajectories (default 10; each has parameters + 1 "
        "samples); sobol: base sample N, a power of 2 (default 16; N * (parameters + 2) samples); not for grid",
        ge=1,
        le=MAX_SWEEP_RUNS,
    )
    levels: int | None = _f(
        None,
        "morris: grid levels of the trajectories (even; default 4); grid: points per `range` parameter (default 3)",
        ge=2,
        le=1000,
    )
    second_order: bool = Field(
        False,
        description="sobol: also sample for second-order indices (N * (2 * parameters + 2) samples)",
    )
    replicates: int = _f(
        1,
        "replicates per sample and arm; replicate k has the same seed in every sample and arm",
        ge=1,
        le=MAX_REPLICATES,
    )
    seed: int = _f(
        0,
        "seed of the sampler (the design); replicate seeds come from the top-level `seed`",
        ge=0,
        le=2**32 - 1,
    )

    @model_validator(mode="after")
    def _consistent(self):
        s = self.sampler
        if s == "grid" and self.samples is not None:
            raise ValueError(
                "a grid has no `samples`: it runs every combination (set `levels` or `values`)"
            )
        if s == "latin" and self.samples is None:
            raise ValueError("sampler latin needs `samples` (how many points of the hypercube)")
        if s == "sobol" and self.samples is not None and self.samples & (self.samples - 1):
            raise ValueError(
                f"sampler sobol needs `samples` a power of 2 (got {self.samples}; Sobol' sequences "
                "are balanced at powers of 2)"
            )
        if s == "morris" and self.levels is not None and self.levels % 2:
            raise ValueError(f"sampler morris needs an even number of `levels` (got {self.levels})")
        if s in ("latin", "sobol") and self.levels is not None:
            raise ValueError(f"sampler {s} has no `levels`")
        if s != "sobol" and self.second_order:
            raise ValueError("second_order is for sampler sobol")
        return self

    @property
    def n_levels(self) -> int:
        """Levels of a morris design or of a grid's ranges."""
        return self.levels or (4 if self.sampler == "morris" else 3)

    @property
    def n_samples(self) -> int:
        """``samples`` with the sampler's default (latin has none; grid: unused)."""
        return self.samples or {"morris": 10, "sobol": 16}.get(self.sampler, 0)


class ExperimentSpec(Strict):
    """An experiment: arms x replicates of one base world."""

    name: str = Field(
        ..., description="experiment name (default output folder runs/<name>)", pattern=NAME_PATTERN
    )
    description: str = Field("", description="free text", max_length=10_000)
    world: str = Field(
        ..., description="base world file, relative to the experiment file", min_length=1
    )
    overrides: OverrideMap = Field(
        default_factory=dict,
        description="--set style overrides common to every arm, e.g. {world.width: 128, sim.population_cap: 300000}",
    )
    arms: list[ArmConfig] = Field(
        ..., description="the arms (at least one)", min_length=1, max_length=MAX_ARMS
    )
    control: str | None = Field(
        None,
        description="name of the control arm that other arms are compared with (default: the arm named "
        "'control', else the first arm)",
    )
    replicates: int = _f(
        1,
        "replicates per arm; replicate k uses the same seed in every arm",
        ge=1,
        le=MAX_REPLICATES,
    )
    seed: int = _f(
        0,
        "root seed; replicate seeds are derived with numpy.random.SeedSequence",
        ge=0,
        le=2**63 - 1,
    )
    ticks: int = _f(..., "ticks each replicate runs (from tick 0)", ge=1, le=MAX_TICKS)
    branch_tick: Annotated[int, Field(ge=1, le=MAX_TICKS)] | Literal["auto"] | None = _f(
        None,
        "if a tick, each replicate first runs the base world (common overrides, no arm settings) to this tick, "
        "then every arm continues from that shared state; `auto`: the base runs the whole horizon and each arm "
        "whose world is the base's continues it from the newest base checkpoint before the tick its own "
        "interventions would first apply, so every arm's run is the one it would make from tick 0, for less "
        "compute (docs/experiments.md, 'Shared pasts')",
    )
    checkpoint_every: int | None = _f(
        None,
        "ticks between checkpoints of each run (default ticks // 10); an interrupted replicate resumes from its newest",
        ge=1,
        le=MAX_TICKS,
    )
    sweep: SweepConfig | None = Field(
        None,
        description="a parameter sweep (run with `evosim sweep`): every sample of its design runs every arm and "
        "replicate; docs/experiments.md, 'Sweeps and sensitivity'",
    )

    @model_validator(mode="before")
    @classmethod
    def _sweep_arms(cls, data: Any) -> Any:
        """A sweep without arms has one arm, ``control``, with no settings of its own."""
        if isinstance(data, dict) and data.get("sweep") is not None and "arms" not in data:
            return {**data, "arms": [{"name": "control"}]}
        return data

    @model_validator(mode="after")
    def _consistent(self):
        names = [a.name for a in self.arms]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:  # named at the second arm of a repeated name
            second = next(i for i, n in enumerate(names) if n in dup and names.index(n) < i)
            raise Located(
                ("arms", second, "name"), f"arm names must be unique; repeated: {', '.join(dup)}"
            )
        if self.control is not None and self.control not in names:
            raise Located(
                ("control",), f"control '{self.control}' is not an arm; arms: {', '.join(names)}"
            )
        if isinstance(self.branch_tick, int) and self.branch_tick >= self.ticks:
            raise Located(
                ("branch_tick",),
                f"branch_tick ({self.branch_tick}) must be below ticks ({self.ticks})",
            )
        for arm in self.arms:  # (at or before branch_tick: refused when the arms are built)
            late = never_applies(arm.interventions, 0, self.ticks)
            if late:
                raise ValueError(
                    f"arm '{arm.name}': " + "; ".join(late) + ", so it would never apply; change "
                    "its timing or the experiment's `ticks`"
                )
        if self.branch_tick == "auto":
            gated = [
                f"arm '{arm.name}': intervention '{iv.name}'"
                for arm in self.arms
                for iv in arm.interventions
                if iv.when.trigger == "gated"
            ]
            if gated:
                raise ValueError(
                    f"{'; '.join(gated)} has trigger gated, whose record of runs below the gate begins "
                    "before it fires, so branch_tick: auto cannot tell where that arm leaves the shared "
                    "past; give a tick, or drop branch_tick"
                )
        if self.sweep is not None:
            if "replicates" in self.model_fields_set:
                raise ValueError(
                    "a sweep sets its replicates per sample in `sweep.replicates`; drop the top-level "
                    "`replicates`"
                )
            if self.branch_tick is not None:
                raise ValueError(
                    "branch_tick is not supported in a sweep (every sample would need its own base); "
                    "drop it"
                )
        return self

    @property
    def control_arm(self) -> str:
        """The control arm's name."""
        return control_of([a.name for a in self.arms], self.control)

    @property
    def fixed_branch(self) -> int | None:
        """``branch_tick`` when it is a tick (None when it is none or ``auto``)."""
        return self.branch_tick if isinstance(self.branch_tick, int) else None

    @property
    def every(self) -> int:
        """Ticks between checkpoints."""
        return self.checkpoint_every or max(1, self.ticks // 10)


def read_spec(path: str | os.PathLike, ticks: int | None = None) -> tuple[ExperimentSpec, Any]:
    """Read and validate an experiment file; returns (spec, YAML node tree).

    ``ticks``: replaces the file's ``ticks`` (``evosim experiment --ticks``).

    Raises:
        ConfigError: unreadable file, bad YAML, or a schema violation (one paragraph: file, key path, line).
    """
    p = Path(path)
    data, node = read_world_file(p, kind="experiment", keys="name:, world:, arms:, ...")
    if ticks is not None and isinstance(data, dict):
        data = {**data, "ticks": ticks}
    try:
        return ExperimentSpec.model_validate(data), node
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, str(p), node, model=ExperimentSpec)) from None


@dataclass
class Experiment:
    """A validated experiment.

    Attributes:
        spec: the parsed experiment file.
        path: the experiment file.
        world_path: the base world file (resolved against the experiment file).
        base: the base world (common overrides; no arm settings).
        arms: each arm's world (base + arm overrides + arm interventions), by name.
        seeds: one seed per replicate, shared by all arms.
        notes: warnings about the design (printed by the CLI), e.g. triggers a branch can miss.
    """

    spec: ExperimentSpec
    path: Path
    world_path: Path
    base: World
    arms: dict[str, World]
    seeds: list[int]
    notes: list[str] = field(default_factory=list)

    @property
    def control(self) -> str:
        """Name of the control arm."""
        return self.spec.control_arm
