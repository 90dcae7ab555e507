"""Schema of interventions: when, to whom, and what (see docs/interventions.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from evosim.config.base import MAX_TICKS, Strict, _f
from evosim.defaults import GENES

TRIGGERS = (
    "intelligent",
    "technological",
    "milestone",
    "population_above",
    "population_below",
    "gated",
    "stuck",
)


class WhenConfig(Strict):
    """Exactly one of ``tick``, ``every`` or ``trigger``."""

    tick: int | None = _f(None, "apply once, at the end of this tick", ge=0)
    every: int | None = _f(None, "apply every this many ticks (from `start`)", ge=1)
    start: int = _f(0, "first tick for `every`", ge=0)
    trigger: Literal[TRIGGERS] | None = _f(  # type: ignore[valid-type]
        None,
        "apply to a species when it becomes intelligent or technological, first reaches `milestone`, "
        "its population goes above / below `value`, is held below `milestone` by that milestone's own "
        "requirement for `window` ticks (gated), or has been intelligent for `window` ticks without "
        "becoming technological (stuck)",
    )
    milestone: str | None = _f(None, "milestone name for trigger: milestone or gated")
    value: int | None = _f(
        None, "population for trigger: population_above / population_below", ge=0
    )
    share: float | None = _f(
        None,
        "for trigger: gated: share of the species' adults that must be held below `milestone` "
        "(default: detectors.tech_share)",
        gt=0.0,
        le=1.0,
    )
    window: int | None = _f(
        None,
        "for trigger: gated (default: detectors.tech_window) and stuck (required): ticks the "
        "condition must hold",
        ge=1,
        le=MAX_TICKS,
    )
    once: bool = _f(True, "for triggers: apply at most once per species")

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("tick", "every", "trigger") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of tick, every, trigger (got {', '.join(given) or 'none'})"
            )
        if self.trigger in ("milestone", "gated") and not self.milestone:
            raise ValueError(f"trigger: {self.trigger} needs `milestone: <name>`")
        if self.trigger == "stuck" and self.window is None:
            raise ValueError("trigger: stuck needs `window: <ticks>`")
        if self.share is not None and self.trigger != "gated":
            raise ValueError("`share` applies to trigger: gated only")
        if self.window is not None and self.trigger not in ("gated", "stuck"):
            raise ValueError("`window` applies to triggers gated and stuck only")
        if self.milestone is not None and self.trigger not in ("milestone", "gated"):
            raise ValueError("`milestone` applies to triggers milestone and gated only")
        if self.trigger in ("population_above", "population_below") and self.value is None:
            raise ValueError(f"trigger: {self.trigger} needs `value: <population>`")
        return self


class GeneRange(Strict):
    """Bounds on a species' mean gene."""

    min: float = _f(0.0, "species mean at least this", ge=0.0, le=1.0)
    max: float = _f(1.0, "species mean at most this", ge=0.0, le=1.0)


class TargetConfig(Strict):
    """Exactly one of ``species``, ``founder``, ``selector`` or ``all``."""

    species: list[str] | None = _f(None, "species names (exact)")
    founder: str | None = _f(None, "a founding species' name: it and all species descended from it")
    selector: dict[Literal[GENES], GeneRange] | None = _f(  # type: ignore[valid-type]
        None,
        "extant species whose mean genes lie in these ranges, e.g. {dexterity: {max: 0.3}, brain: {min: 0.7}}",
    )
    all: bool = _f(False, "every extant species")

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("species", "founder", "selector") if getattr(self, k) is not None] + (
            ["all"] if self.all else []
        )
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of species, founder, selector, all (got {', '.join(given) or 'none'})"
            )
        return self


class RegionConfig(Strict):
    """A rectangle of cells (clipped to the grid)."""

    x: int = _f(0, "left column", ge=0)
    y: int = _f(0, "top row", ge=0)
    width: int = _f(1, "columns", ge=1)
    height: int = _f(1, "rows", ge=1)


class EffectConfig(Strict):
    """What an intervention does; ``kind`` says which other keys apply."""

    kind: Literal[
        "manipulators", "fire_substitute", "gene_bounds", "food", "cull", "population_boost"
    ] = _f(
        "manipulators",
        "manipulators | fire_substitute | gene_bounds | food | cull | population_boost",
    )
    level: float | None = _f(
        None, "manipulators: effective dexterity granted (max with the gene)", ge=0.0, le=1.0
    )
    energy_cost: float | None = _f(
        None,
        "manipulators: extra energy per member per tick for using them (default: the dexterity upkeep "
        "at the granted level, traits.dexterity.upkeep * level, so hands granted cost what evolved "
        "hands cost)",
        ge=0.0,
        le=1e6,
    )
    gene: Literal[GENES] | None = _f(None, "gene_bounds: which gene")  # type: ignore[valid-type]
    min: float | None = _f(None, "gene_bounds: new lower bound", ge=0.0, le=1.0)
    max: float | None = _f(None, "gene_bounds: new upper bound", ge=0.0, le=1.0)
    region: RegionConfig | None = _f(None, "food: the cells changed (default: the whole grid)")
    amount: float | None = _f(
        None, "food: added per cell (negative removes), clipped to [0, capacity]", ge=-1e9, le=1e9
    )
    layer: Literal["easy", "hard"] = _f("easy", "food: which food layer")
    share: float | None = _f(
        None,
        "cull: share of the target species' agents removed; population_boost: share of its "
        "independent members (not dependants) copied once, each copy beside its original (1: the "
        "species doubles, then its numbers fall back to what the world feeds)",
        ge=0.0,
        le=1.0,
    )

    @model_validator(mode="after")
    def _needs(self):
        need = {
            "manipulators": ["level"],
            "gene_bounds": ["gene"],
            "food": ["amount"],
            "cull": ["share"],
            "population_boost": ["share"],
        }.get(self.kind, [])
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"effect kind '{self.kind}' needs {', '.join(missing)}")
        if self.kind == "gene_bounds":
            if self.min is None and self.max is None:
                raise ValueError("effect kind 'gene_bounds' needs min and/or max")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"gene_bounds: min {self.min} > max {self.max}")
        return self


class InterventionConfig(Strict):
    """One intervention."""

    name: str = Field(
        "intervention",
        description="name (in events.csv and the viewer)",
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$",
    )
    when: WhenConfig = _f(WhenConfig(tick=0), "when it applies")
    target: TargetConfig = _f(TargetConfig(all=True), "to which species")
    effect: EffectConfig = _f(EffectConfig(kind="manipulators", level=0.5), "what it does")


def never_applies(interventions: list[InterventionConfig], first: int, last: int) -> list[str]:
    """Interventions timed so that no tick of ``first .. last`` applies them (one message each).

    Ticks ``tick`` or ``every``/``start`` are checked; triggers depend on the run and are not.

    Args:
        interventions: a world's interventions.
        first: the first tick the run applies interventions at (0 for a new run, the
            checkpoint's tick + 1 for a branch).
        last: the run's last tick.
    """
    out = []
    for k, iv in enumerate(interventions):
        w = iv.when
        if w.tick is not None:
            due, what = w.tick, f"when.tick {w.tick}"
        elif w.every is not None:
            t0 = max(first, w.start)
            due = w.start + -(-(t0 - w.start) // w.every) * w.every  # first due tick >= t0
            what = f"when.every {w.every} from start {w.start} (first due at tick {due})"
        else:
            continue
        if not first <= due <= last:
            out.append(
                f"interventions[{k}] '{iv.name}': {what} lies outside ticks {first}..{last}, "
                "the ticks at which this run applies interventions"
            )
    return out
