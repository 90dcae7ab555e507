"""Schema of a replay file and its strict reader (``evosim replay``; docs/replay.md).

A replay file names a finished experiment (or one run folder), the moment to
branch each intelligent, not yet technological clade at, the reliefs, how
many reseeded futures each group gets and for how long. Unknown keys are
errors; :func:`read_replay` turns every problem into one
:class:`~evosim.errors.ConfigError` paragraph naming the file, the key path
and its line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from evosim.config.base import MAX_TICKS, Strict, _f
from evosim.config.interventions import EffectConfig
from evosim.config.load import read_world_file, validation_message
from evosim.errors import ConfigError
from evosim.experiments.spec import NAME_PATTERN

#: Most futures per group and reliefs a replay may ask for (typo guards).
MAX_FUTURES = 1_000
MAX_RELIEFS = 32
#: The effect kinds a relief may have: the ones that act on the target clade alone.
RELIEF_KINDS = ("manipulators", "fire_substitute", "gene_bounds", "population_boost")
#: The moments a clade can be branched at, besides a given tick.
MOMENTS = ("intelligent", "plateau")


class ReliefConfig(Strict):
    """One relief: an intervention applied to the clade (``target: {founder: CLADE}``) from the branch on."""

    name: str = Field(
        ...,
        description="relief name (a column of the causal table; `none` is the unrelieved group); the names hands, "
        "fire, sociality, childhood, lifespan, models are compared with the report's rule-based labels",
        pattern=NAME_PATTERN,
    )
    effect: EffectConfig | list[EffectConfig] = Field(
        ...,
        description="what the relief does: an intervention's effect (kinds manipulators, fire_substitute, "
        "gene_bounds, population_boost), or a list of them applied together (e.g. hands and a fire "
        "substitute: a bottleneck that is a conjunction)",
    )

    def effects(self) -> list[EffectConfig]:
        """The relief's effects (one, or those of its list), in order."""
        return list(self.effect) if isinstance(self.effect, list) else [self.effect]

    def effect_data(self) -> dict | list[dict]:
        """The effect as plain data (a list for a list), as the replay's manifest records it."""
        data = [e.model_dump(mode="json", exclude_none=True) for e in self.effects()]
        return data if isinstance(self.effect, list) else data[0]

    @model_validator(mode="after")
    def _kind(self):
        if self.name == "none":
            raise ValueError("`none` names the unrelieved futures; give the relief another name")
        if not self.effects():
            raise ValueError("a list of effects needs at least one")
        for e in self.effects():
            if e.kind not in RELIEF_KINDS:
                raise ValueError(
                    f"effect kind '{e.kind}' acts on the whole world, not on the clade; a relief is "
                    f"one of {', '.join(RELIEF_KINDS)}"
                )
        return self


#: The reliefs of a replay file without ``reliefs`` (docs/replay.md): hands at the hard-paths level
#: and cost (effective dexterity 0.8, the dexterity upkeep at 0.8), a fire substitute, and the
#: soft relief of the hard-paths experiment (lower bound 0.5) on each soft gene alone, and more
#: models: a one-off population boost that doubles the clade's independent members; and hands and
#: a fire substitute together (the hard-paths experiment's ``both``).
DEFAULT_RELIEFS: list[dict[str, Any]] = [
    {"name": "hands", "effect": {"kind": "manipulators", "level": 0.8}},
    {"name": "fire", "effect": {"kind": "fire_substitute"}},
    {"name": "sociality", "effect": {"kind": "gene_bounds", "gene": "sociality", "min": 0.5}},
    {"name": "childhood", "effect": {"kind": "gene_bounds", "gene": "childhood", "min": 0.5}},
    {"name": "lifespan", "effect": {"kind": "gene_bounds", "gene": "lifespan", "min": 0.5}},
    {"name": "models", "effect": {"kind": "population_boost", "share": 1.0}},
    {
        "name": "hands_fire",
        "effect": [{"kind": "manipulators", "level": 0.8}, {"kind": "fire_substitute"}],
    },
]


def _default_reliefs() -> list[ReliefConfig]:
    return [ReliefConfig.model_validate(r) for r in DEFAULT_RELIEFS]


class ReplaySpec(Strict):
    """A replay: reseeded futures of each intelligent, not yet technological clade, relieved and not."""

    name: str = Field(
        ..., description="replay name (default output folder runs/<name>)", pattern=NAME_PATTERN
    )
    description: str = Field("", description="free text", max_length=10_000)
    source: str = Field(
        ...,
        description="the finished experiment folder (or one run folder) to replay, relative to the replay file "
        "(`evosim replay --source` replaces it)",
        min_length=1,
    )
    arms: list[str] | None = Field(
        None,
        description="the experiment's arms whose replicates are replayed (default: its control arm)",
        min_length=1,
        max_length=64,
    )
    replicates: list[int] | None = Field(
        None, description="the replicates replayed (default: every finished one)", min_length=1
    )
    clades: list[str] | None = Field(
        None,
        description="founding clades replayed, by name (default: every counted clade that is intelligent and "
        "not technological at the moment)",
        min_length=1,
    )
    moment: Literal["intelligent", "plateau"] | int = Field(
        "intelligent",
        description="when each clade branches: `intelligent` (the tick it became intelligent), `plateau` (the "
        "first sampled tick its series is settled by the plateau detector, evosim.analysis.plateau) or a tick",
    )
    futures: int = _f(8, "reseeded futures per group (each relief, and the unrelieved group)", ge=1,
                      le=MAX_FUTURES)  # fmt: skip
    horizon: int = _f(
        ...,
        "ticks each future runs after its branch (H); a longer one extends an existing replay folder's "
        "futures from their final checkpoints (`evosim replay --horizon` replaces it)",
        ge=1,
        le=MAX_TICKS,
    )
    reliefs: list[ReliefConfig] = Field(
        default_factory=_default_reliefs,
        description="the reliefs (default: hands, fire, sociality, childhood, lifespan, models, hands_fire; "
        "docs/replay.md)",
        min_length=1,
        max_length=MAX_RELIEFS,
    )
    checkpoint_every: int | None = _f(
        None,
        "ticks between checkpoints of each future (default horizon // 10); an interrupted future resumes from its "
        "newest",
        ge=1,
        le=MAX_TICKS,
    )
    min_clade_population: int | None = _f(
        None,
        "peak population from which a founding lineage counts as a clade (default: each run's "
        "detectors.min_population, as the report)",
        ge=1,
    )

    @model_validator(mode="after")
    def _consistent(self):
        names = [r.name for r in self.reliefs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"relief names must be unique; repeated: {', '.join(dup)}")
        if isinstance(self.moment, int) and not 1 <= self.moment <= MAX_TICKS:
            raise ValueError(f"moment {self.moment}: a tick must lie in 1..{MAX_TICKS}")
        if self.replicates is not None and (
            min(self.replicates) < 0 or len(set(self.replicates)) != len(self.replicates)
        ):
            raise ValueError("replicates must be distinct and not negative")
        return self

    @property
    def every(self) -> int:
        """Ticks between checkpoints of a future."""
        return self.checkpoint_every or max(1, self.horizon // 10)


def read_replay(path: str | os.PathLike, horizon: int | None = None) -> ReplaySpec:
    """Read and validate a replay file.

    Args:
        path: the replay file.
        horizon: replaces the file's ``horizon`` (``evosim replay --horizon``; a longer one extends
            an existing replay folder's futures).

    Raises:
        ConfigError: unreadable file, bad YAML, or a schema violation (one paragraph: file, key path, line).
    """
    p = Path(path)
    data, node = read_world_file(p, kind="replay", keys="name:, source:, horizon:, ...")
    if horizon is not None and isinstance(data, dict):
        data = {**data, "horizon": horizon}
    try:
        return ReplaySpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, str(p), node, model=ReplaySpec)) from None


def source_of(spec: ReplaySpec, path: str | os.PathLike, override: str | None = None) -> Path:
    """The folder replayed: ``override`` (``--source``, relative to the working folder) or the spec's ``source``
    (relative to the replay file)."""
    if override is not None:
        return Path(override).resolve()
    return (Path(path).parent / spec.source).resolve()
