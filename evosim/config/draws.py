"""Distributions a world file may give instead of a number (founders drawn from a prior).

A founder gene's ``mean``, ``sd``, ``min``, ``max`` and ``mutation`` may each be
a number or one of four one-key mappings (docs/model.md §5, "Founders drawn
from a prior"):

- ``{uniform: [lo, hi]}``: uniform on [lo, hi];
- ``{beta: [a, b]}``: Beta(a, b) on [0, 1], or ``{beta: [a, b, lo, hi]}``
  scaled to [lo, hi];
- ``{normal: [mu, sd, lo, hi]}``: a normal truncated to [lo, hi] (drawn by
  its inverse distribution function, so no draw is ever rejected);
- ``{choice: [v1, v2, ...]}``: one of the values, each equally likely.

Every value of a gene setting lies in [0, 1], so every distribution is
confined to [0, 1] too. :func:`evosim.config.priors.resolve_world` replaces the
draws by numbers, keyed by the run's seed.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, Discriminator, Field, Tag, model_validator

from evosim.config.base import Strict

#: A number in [0, 1] (every gene setting).
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
#: Smallest share of a normal's mass that its truncation interval may hold.
MIN_NORMAL_MASS = 1e-6


class Uniform(Strict):
    """Uniform on [lo, hi]."""

    uniform: list[Unit] = Field(
        ...,
        description="[lo, hi]: uniform on [lo, hi], 0 <= lo <= hi <= 1",
        min_length=2,
        max_length=2,
    )

    @model_validator(mode="after")
    def _ordered(self):
        lo, hi = self.uniform
        if lo > hi:
            raise ValueError(f"uniform: [lo, hi] needs lo <= hi, got [{lo}, {hi}]")
        return self

    def support(self) -> tuple[float, float]:
        """The least and the greatest value a draw can take."""
        return self.uniform[0], self.uniform[1]

    def draw(self, rng: np.random.Generator) -> float:
        """One value."""
        lo, hi = self.uniform
        return float(min(hi, lo + (hi - lo) * rng.random()))


class Beta(Strict):
    """Beta(a, b) on [0, 1], or scaled to [lo, hi]."""

    beta: list[Annotated[float, Field(gt=0.0, le=1e4, allow_inf_nan=False)]] = Field(
        ...,
        description="[a, b]: Beta(a, b) on [0, 1] (mean a / (a + b)); [a, b, lo, hi]: scaled to [lo, hi]",
        min_length=2,
        max_length=4,
    )

    @model_validator(mode="after")
    def _shape(self):
        if len(self.beta) == 3:
            raise ValueError("beta: give [a, b] or [a, b, lo, hi], got three numbers")
        if len(self.beta) == 4:
            lo, hi = self.beta[2:]
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError(
                    f"beta: [a, b, lo, hi] needs 0 <= lo <= hi <= 1, got lo={lo}, hi={hi}"
                )
        return self

    def support(self) -> tuple[float, float]:
        """The least and the greatest value a draw can take."""
        return (self.beta[2], self.beta[3]) if len(self.beta) == 4 else (0.0, 1.0)

    def draw(self, rng: np.random.Generator) -> float:
        """One value."""
        lo, hi = self.support()
        return float(min(hi, lo + (hi - lo) * rng.beta(self.beta[0], self.beta[1])))


class Normal(Strict):
    """A normal truncated to [lo, hi]."""

    normal: list[Annotated[float, Field(ge=-1e3, le=1e3, allow_inf_nan=False)]] = Field(
        ...,
        description="[mu, sd, lo, hi]: normal(mu, sd) truncated to [lo, hi], 0 <= lo <= hi <= 1, sd > 0",
        min_length=4,
        max_length=4,
    )

    @model_validator(mode="after")
    def _valid(self):
        mu, sd, lo, hi = self.normal
        if sd <= 0.0:
            raise ValueError(f"normal: [mu, sd, lo, hi] needs sd > 0, got {sd}")
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(
                f"normal: [mu, sd, lo, hi] needs 0 <= lo <= hi <= 1, got lo={lo}, hi={hi}"
            )
        nd = NormalDist(mu, sd)
        if lo < hi and nd.cdf(hi) - nd.cdf(lo) < MIN_NORMAL_MASS:
            raise ValueError(
                f"normal: N({mu}, {sd}) has almost no mass in [{lo}, {hi}] (below {MIN_NORMAL_MASS}); "
                "move mu into the interval or widen sd"
            )
        return self

    def support(self) -> tuple[float, float]:
        """The least and the greatest value a draw can take."""
        return self.normal[2], self.normal[3]

    def draw(self, rng: np.random.Generator) -> float:
        """One value: the inverse distribution function at a uniform share of the interval's mass."""
        mu, sd, lo, hi = self.normal
        u = rng.random()
        if lo == hi:
            return lo
        nd = NormalDist(mu, sd)
        a, b = nd.cdf(lo), nd.cdf(hi)
        p = min(max(a + (b - a) * u, 1e-300), 1.0 - 1e-16)
        return float(min(hi, max(lo, nd.inv_cdf(p))))


class Choice(Strict):
    """One of a list of values, each equally likely."""

    choice: list[Unit] = Field(
        ...,
        description="[v1, v2, ...]: one of these values, each equally likely",
        min_length=1,
        max_length=64,
    )

    def support(self) -> tuple[float, float]:
        """The least and the greatest value a draw can take."""
        return min(self.choice), max(self.choice)

    def draw(self, rng: np.random.Generator) -> float:
        """One value."""
        return float(self.choice[int(rng.integers(len(self.choice)))])


DRAWS: dict[str, type[Uniform | Beta | Normal | Choice]] = {
    "uniform": Uniform,
    "beta": Beta,
    "normal": Normal,
    "choice": Choice,
}
#: Prefix of the union's tags; :func:`evosim.config.load.validation_message` drops them from key paths.
TAG = "draw:"
FORMS = (
    "a number in [0, 1] or one of {uniform: [lo, hi]}, {beta: [a, b]}, {beta: [a, b, lo, hi]}, "
    "{normal: [mu, sd, lo, hi]}, {choice: [v1, v2, ...]}"
)


def _tag(v: Any) -> str | None:
    if isinstance(v, BaseModel):
        return TAG + next(iter(type(v).model_fields))
    if isinstance(v, dict):
        keys = list(v)
        return TAG + keys[0] if len(keys) == 1 and keys[0] in DRAWS else None
    return TAG + "number"


#: A gene setting: a number in [0, 1] or a distribution over [0, 1].
_FORMS = (
    Annotated[Unit, Tag(TAG + "number")]
    | Annotated[Uniform, Tag(TAG + "uniform")]
    | Annotated[Beta, Tag(TAG + "beta")]
    | Annotated[Normal, Tag(TAG + "normal")]
    | Annotated[Choice, Tag(TAG + "choice")]
)
Drawn = Annotated[
    _FORMS,
    Discriminator(_tag, custom_error_type="draw_form", custom_error_message=f"expected {FORMS}"),
]

Draw = Uniform | Beta | Normal | Choice


def support(v: float | Draw) -> tuple[float, float]:
    """(least, greatest) value of a number (itself twice) or a distribution."""
    return (v, v) if isinstance(v, (int, float)) else v.support()


def is_draw(v: Any) -> bool:
    """True for a distribution (not a number)."""
    return isinstance(v, (Uniform, Beta, Normal, Choice))
