"""Per-species summaries for the time series."""

from __future__ import annotations

import numpy as np

from evosim.engine.kernels.conf import kernel


@kernel
def species_sums(a, habitat, n, n_species):
    """Per species, over the live agents ``a[:n]``: count, gene sums and sums of squares, agents
    on land (``habitat``), energy sum."""
    species = a.species
    genome = a.genome
    energy = a.energy
    x = a.x
    y = a.y
    n_genes = genome.shape[1]
    count = np.zeros(n_species, np.int64)
    s1 = np.zeros((n_species, n_genes), np.float64)
    s2 = np.zeros((n_species, n_genes), np.float64)
    on_land = np.zeros(n_species, np.int64)
    e_sum = np.zeros(n_species, np.float64)
    for i in range(n):
        s = species[i]
        count[s] += 1
        for g in range(n_genes):
            v = np.float64(genome[i, g])
            s1[s, g] += v
            s2[s, g] += v * v
        on_land[s] += habitat[y[i], x[i]]
        e_sum[s] += energy[i]
    return count, s1, s2, on_land, e_sum
