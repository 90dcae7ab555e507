"""Schema of an experiment file and its strict reader (docs/experiments.md).

Like the world schema, unknown keys are errors and every field carries the
description that the error messages quote; :func:`read_spec` turns every
problem into one :class:`~evosim.config.ConfigError` paragraph naming the
file, the key path and its line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, model_validator

from evosim.config.base import Strict, _f
from evosim.config.interventions import InterventionConfig
from evosim.config.load import read_world_file, validation_message
from evosim.config.schema import MAX_TICKS
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
    branch_tick: int | None = _f(
        None,
        "if given, each replicate first runs the base world (common overrides, no arm settings) to this tick, "
        "then every arm continues from that shared state",
        ge=1,
        le=MAX_TICKS,
    )
    checkpoint_every: int | None = _f(
        None,
        "ticks between checkpoints of each run (default ticks // 10); an interrupted replicate resumes from its newest",
        ge=1,
        le=MAX_TICKS,
    )

    @model_validator(mode="after")
    def _consistent(self):
        names = [a.name for a in self.arms]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"arm names must be unique; repeated: {', '.join(dup)}")
        if self.control is not None and self.control not in names:
            raise ValueError(f"control '{self.control}' is not an arm; arms: {', '.join(names)}")
        if self.branch_tick is not None and self.branch_tick >= self.ticks:
            raise ValueError(f"branch_tick ({self.branch_tick}) must be below ticks ({self.ticks})")
        return self

    @property
    def control_arm(self) -> str:
        """The control arm's name."""
        return control_of([a.name for a in self.arms], self.control)

    @property
    def every(self) -> int:
        """Ticks between checkpoints."""
        return self.checkpoint_every or max(1, self.ticks // 10)


def read_spec(path: str | os.PathLike) -> tuple[ExperimentSpec, Any]:
    """Read and validate an experiment file; returns (spec, YAML node tree).

    Raises:
        ConfigError: unreadable file, bad YAML, or a schema violation (one paragraph: file, key path, line).
    """
    p = Path(path)
    data, node = read_world_file(p, kind="experiment", keys="name:, world:, arms:, ...")
    try:
        return ExperimentSpec.model_validate(data), node
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, str(p), node, model=ExperimentSpec)) from None
