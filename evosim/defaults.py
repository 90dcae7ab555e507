"""Fixed facts of the model: dtypes, gene order and RNG purposes, in one place.

Every array of the agent state (structure of arrays, see
:mod:`evosim.engine.population`) takes its dtype from :data:`AGENT_FIELDS`; every
kernel that draws random numbers names its purpose with one of the ``RNG_*``
constants, so two draws never share a stream by accident.
"""

from __future__ import annotations

import numpy as np

#: Genes of the genome, in column order of ``Population.genome``.
GENES: tuple[str, ...] = (
    "lifespan",
    "childhood",
    "sociality",
    "dexterity",
    "habitat",
    "brain",
    "fecundity",
)
N_GENES = len(GENES)
G_LIFESPAN, G_CHILDHOOD, G_SOCIALITY, G_DEXTERITY, G_HABITAT, G_BRAIN, G_FECUNDITY = range(N_GENES)

#: dtype of every per-agent array (one row per agent).
AGENT_FIELDS: dict[str, np.dtype] = {
    "id": np.dtype(np.int64),  # unique, never reused; keys the RNG
    "parent_id": np.dtype(np.int64),  # -1 for founders
    "species": np.dtype(np.int32),
    "x": np.dtype(np.int32),
    "y": np.dtype(np.int32),
    "energy": np.dtype(np.float32),
    "age": np.dtype(np.int32),
    "birth_tick": np.dtype(np.int32),
    "guardian": np.dtype(np.int32),  # row of the parent while dependent, else -1
    "skill": np.dtype(np.float32),  # cultural skill z >= 0, lost at death
    "lessons": np.dtype(
        np.int16
    ),  # learning attempts made so far (the next copies the model of rank lessons + 1)
}
GENOME_DTYPE = np.dtype(np.float32)  # genome is (n, N_GENES)

#: dtype of the grids.
FOOD_DTYPE = np.dtype(np.float32)
HABITAT_DTYPE = np.dtype(np.uint8)  # 0 water, 1 land
#: Row indices in the simulation's per-agent scratch (spatial index, survivors, parents): the population cap
#: (at most 50 M) fits, and int32 halves their memory traffic.
ROW_DTYPE = np.dtype(np.int32)
WATER, LAND = 0, 1

#: Purposes of random draws: the 4th key of the counter-based generator.
RNG_INIT_POSITION = 1
RNG_INIT_GENOME = 2
RNG_INIT_ENERGY = 3
RNG_MOVE = 4
RNG_MUTATE = 5
RNG_CAP = 6
RNG_LEARN = 7
RNG_INNOVATE = 8
RNG_CULL = 9
RNG_PRIORS = 10  # founders drawn from a prior (evosim.config.priors), not a kernel draw
RNG_RESEED = 11  # the stream of a reseeded branch (evosim.engine.sim.stream_key), not a kernel draw
RNG_BOOST = 12  # which members a population boost copies (evosim.engine.interventions)

#: Causes of death (reported in lineage logs); 0 in a cause array means "survives".
DEATH_STARVATION = 1
DEATH_OLD_AGE = 2
DEATH_CULLED = 3
#: Columns of the per-species death counters, indexed by cause (column 0 unused).
N_DEATH_COLUMNS = 4
