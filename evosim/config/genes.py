"""Schema of a founding species' genes: per gene its initial distribution, bounds and mutation size.

Each setting is a number in [0, 1] or a distribution (:mod:`evosim.config.draws`): a world
with distributions is *unresolved* until :func:`evosim.config.priors.resolve_world` draws
them from the run's seed.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from evosim.config.base import Strict, _f
from evosim.config.draws import Drawn, is_draw, support
from evosim.defaults import GENES

_SETTINGS = ("mean", "sd", "min", "max", "mutation")


class GeneSpec(Strict):
    """One gene of a founding species (each setting a number or a distribution over [0, 1])."""

    # (Field, not _f: the number form refuses NaN itself; a union takes no such constraint)
    mean: Drawn = Field(
        0.5,
        description="initial mean; drawn (or with drawn bounds), it is clipped into the drawn "
        "[min, max]",
    )
    sd: Drawn = Field(
        0.05, description="initial standard deviation (values are clipped to [min, max])"
    )
    min: Drawn = Field(0.0, description="hard lower bound (body plan)")
    max: Drawn = Field(1.0, description="hard upper bound (body plan)")
    mutation: Drawn = Field(
        0.02, description="standard deviation of a mutation per birth (0 = fixed)"
    )

    @model_validator(mode="after")
    def _ordered(self):
        lo_min, hi_min = support(self.min)
        lo_max, hi_max = support(self.max)
        if not self.drawn():
            if not self.min <= self.mean <= self.max:  # type: ignore[operator]
                raise ValueError(
                    f"need min <= mean <= max, got min={self.min}, mean={self.mean}, max={self.max}"
                )
        elif hi_min > lo_max:
            raise ValueError(
                f"impossible prior: a draw can give min > max (min can be as large as {hi_min}, "
                f"max as small as {lo_max}); every draw must allow min <= mean <= max, so keep the "
                "ranges of min and max apart"
            )
        return self

    def drawn(self) -> bool:
        """True if any setting is a distribution."""
        return any(is_draw(getattr(self, k)) for k in _SETTINGS)

    def values(self) -> dict[str, float]:
        """The settings of a resolved gene, as numbers.

        Raises:
            ValueError: a setting is still a distribution (the world is unresolved).
        """
        out = {}
        for k in _SETTINGS:
            v = getattr(self, k)
            if is_draw(v):
                raise ValueError(
                    f"gene setting {k} is still a distribution: resolve the world first"
                )
            out[k] = float(v)
        return out


def _gene_field(gene: str, mean: float = 0.5):
    return _f(GeneSpec(mean=mean), f"the {gene} gene")


class GenesConfig(Strict):
    """Per-gene initial distribution, bounds and mutation size."""

    lifespan: GeneSpec = _gene_field("lifespan")
    childhood: GeneSpec = _gene_field("childhood")
    sociality: GeneSpec = _gene_field("sociality")
    dexterity: GeneSpec = _gene_field("dexterity")
    habitat: GeneSpec = _gene_field("habitat")
    brain: GeneSpec = _gene_field("brain")
    fecundity: GeneSpec = _gene_field("fecundity")

    def drawn(self) -> bool:
        """True if any gene has a distribution."""
        return any(getattr(self, g).drawn() for g in GENES)


assert tuple(GenesConfig.model_fields) == GENES
