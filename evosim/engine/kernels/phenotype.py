"""Gene -> phenotype maps shared by the kernels (inlined; see docs/model.md).

Every gene g lies in [0, 1]; a physical trait is a linear map between two
YAML values, except brain upkeep, which grows as ``brain ** exponent``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import G_BRAIN, G_CHILDHOOD, G_DEXTERITY, G_FECUNDITY, G_LIFESPAN, G_SOCIALITY
from evosim.engine.kernels.conf import JIT


@nb.njit(inline="always", **JIT)
def lerp(a, b, g):
    """a at g = 0, b at g = 1."""
    return a + (b - a) * g


@nb.njit(inline="always", **JIT)
def power(b, e):
    """b**e with exact fast paths for the common exponents 1 and 2 (pow() is slow)."""
    if e == 2.0:
        return b * b
    if e == 1.0:
        return b
    return b**e


@nb.njit(inline="always", **JIT)
def max_age(genome_row, p):
    """Age (ticks) at which the agent dies of old age."""
    return lerp(p.max_age_min, p.max_age_max, genome_row[G_LIFESPAN])


@nb.njit(inline="always", **JIT)
def maturity(genome_row, p):
    """Age (ticks) from which the agent may reproduce."""
    return lerp(p.maturity_min, p.maturity_max, genome_row[G_CHILDHOOD])


@nb.njit(inline="always", **JIT)
def radius(genome_row, p):
    """Perception radius in cells (rounded to the nearest integer)."""
    return int(lerp(p.radius_min, p.radius_max, genome_row[G_BRAIN]) + 0.5)


@nb.njit(inline="always", **JIT)
def upkeep(genome_row, p):
    """Energy spent per tick: base metabolism plus every gene's cost."""
    return (
        p.base_metabolism
        + p.lifespan_upkeep * genome_row[G_LIFESPAN]
        + p.childhood_upkeep * genome_row[G_CHILDHOOD]
        + p.sociality_upkeep * genome_row[G_SOCIALITY]
        + p.dexterity_upkeep * genome_row[G_DEXTERITY]
        + p.brain_upkeep * power(np.float64(genome_row[G_BRAIN]), p.brain_exponent)
    )


@nb.njit(inline="always", **JIT)
def birth_energy(genome_row, p):
    """Energy needed to reproduce: high fecundity reproduces earlier (r strategy)."""
    return lerp(p.birth_energy_max, p.birth_energy_min, genome_row[G_FECUNDITY])


@nb.njit(inline="always", **JIT)
def offspring_share(genome_row, p):
    """Share of the parent's energy given to a child: high fecundity gives less (r strategy)."""
    return lerp(p.offspring_share_max, p.offspring_share_min, genome_row[G_FECUNDITY])


@nb.njit(inline="always", **JIT)
def habitat_efficiency(h, cell_land, p):
    """Foraging efficiency of habitat gene h on a cell (0 water, 1 land)."""
    e = 1.0 - p.habitat_mismatch * abs(h - cell_land)
    return e if e > 0.0 else 0.0
