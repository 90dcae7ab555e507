"""Schema of an experiment file and its strict reader (docs/experiments.md).

Like the world schema, unknown keys are errors and every field carries the
description that the error messages quote; :func:`read_spec` turns every
problem into one :class:`~evosim.config.ConfigError` paragraph naming the
file, the key path and its line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from evosim import yamlio
from evosim.config import ConfigError, _clean_loc, format_path, read_world_file
from evosim.schema import MAX_TICKS
from evosim.schema_base import Strict, _f
from evosim.schema_interventions import InterventionConfig

#: Most replicates and arms an experiment may ask for (a typo guard, not a hard limit of Dask).
MAX_REPLICATES = 10_000
MAX_ARMS = 64
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_\-]{0,39}$"
#: Override keys an experiment sets itself (per replicate), so they may not be overridden.
RESERVED_KEYS = ("sim.seed", "sim.ticks")


def _check_overrides(v: dict[str, Any]) -> dict[str, Any]:
    for key in v:
        k = str(key).strip()
        if not k or any(not p.strip() for p in k.split(".")):
            raise ValueError(f"override key '{key}' has an empty part; write dotted key paths such as world.width")
        if k in RESERVED_KEYS:
            raise ValueError(f"override '{k}' is set by the experiment; use the experiment's `seed` and `ticks` keys instead")
    return v


class ArmConfig(Strict):
    """One arm: the base world plus this arm's overrides and interventions."""

    name: str = Field(..., description="arm name (its run folders are OUT/<name>/rep-<k>/)", pattern=NAME_PATTERN)
    description: str = Field("", description="free text", max_length=10_000)
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="--set style overrides of the world for this arm, e.g. {culture.alpha: 1.5}; applied after the "
        "experiment's common overrides",
    )
    interventions: list[InterventionConfig] = Field(
        default_factory=list,
        description="interventions of this arm (same schema as a world's `interventions`), appended to the world's own",
        max_length=256,
    )

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _check_overrides(v)


class ExperimentSpec(Strict):
    """An experiment: arms x replicates of one base world."""

    name: str = Field(..., description="experiment name (default output folder runs/<name>)", pattern=NAME_PATTERN)
    description: str = Field("", description="free text", max_length=10_000)
    world: str = Field(..., description="base world file, relative to the experiment file", min_length=1)
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="--set style overrides common to every arm, e.g. {world.width: 128, sim.population_cap: 300000}",
    )
    arms: list[ArmConfig] = Field(..., description="the arms (at least one)", min_length=1, max_length=MAX_ARMS)
    control: str | None = Field(
        None, description="name of the control arm that other arms are compared with (default: the arm named "
        "'control', else the first arm)"
    )
    replicates: int = _f(1, "replicates per arm; replicate k uses the same seed in every arm", ge=1, le=MAX_REPLICATES)
    seed: int = _f(0, "root seed; replicate seeds are derived with numpy.random.SeedSequence", ge=0, le=2**63 - 1)
    ticks: int = _f(..., "ticks each replicate runs (from tick 0)", ge=1, le=MAX_TICKS)
    branch_tick: int | None = _f(
        None,
        "if given, each replicate first runs the base world (common overrides, no arm settings) to this tick, "
        "then every arm continues from that shared state",
        ge=1,
        le=MAX_TICKS,
    )
    checkpoint_every: int | None = _f(
        None, "ticks between checkpoints of each run (default ticks // 10); an interrupted replicate resumes from its newest",
        ge=1,
        le=MAX_TICKS,
    )

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _check_overrides(v)

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
        names = [a.name for a in self.arms]
        if self.control:
            return self.control
        return "control" if "control" in names else names[0]

    @property
    def every(self) -> int:
        """Ticks between checkpoints."""
        return self.checkpoint_every or max(1, self.ticks // 10)


def _model_at(model: type[BaseModel] | None, loc: tuple) -> tuple[Any, Any]:
    """(field, model of the field's value) at ``loc`` below ``model``."""
    fld = None
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return None, None
        fld = fields[part]
        ann = fld.annotation
        cands = (ann, *(getattr(ann, "__args__", ()) or ()))
        cands += tuple(a for c in cands for a in (getattr(c, "__args__", ()) or ()))
        model = next((a for a in cands if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return fld, model


def _spec_message(err: ValidationError, source: Path, node) -> str:
    problems = []
    for e in err.errors(include_url=False):
        loc = _clean_loc(tuple(e["loc"]))
        path = format_path(loc)
        line = yamlio.line_of(node, loc)
        at = f" (line {line})" if line else ""
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            _, parent = _model_at(ExperimentSpec, _clean_loc(loc[:-1])) if loc[:-1] else (None, ExperimentSpec)
            allowed = list(getattr(parent, "model_fields", {}))
            msg = f"unknown key '{loc[-1]}'" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
        else:
            if e["type"] not in ("value_error", "assertion_error") and "input" in e and not isinstance(e["input"], (dict, list)):
                msg += f" (got {e['input']!r})"
            fld, _ = _model_at(ExperimentSpec, loc)
            if fld is not None and fld.description:
                msg += f"; {path} is: {fld.description}"
        problems.append(f"{source}: {path}{at}: {msg}")
    text = " | ".join(problems[:3])
    return text + (f" | and {len(problems) - 3} more problem(s)" if len(problems) > 3 else "")


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
        raise ConfigError(_spec_message(exc, p, node)) from None
