"""The columns of a run folder's CSV logs.

Shared by the writer (:mod:`evosim.io.recorder`) and the reader (:mod:`evosim.io.logs`).

Imports nothing but the gene names, so reading a run folder never loads numba.
"""

from __future__ import annotations

from evosim.defaults import GENES

EVENT_COLUMNS = ["tick", "kind", "species", "details"]
SPECIES_COLUMNS = [
    "id", "ancestor_list", "origin_time", "destruction_time", "alive", "ancestor_id", "name", "root",
    *[f"founder_{g}" for g in GENES], "peak_population", "habitat", "intelligent_at", "technological_at",
    "manipulators", "fire_substitute",
]  # fmt: skip
BASE_TIMESERIES_COLUMNS = [
    "tick", "species", "name", "population", "births", "deaths_starvation", "deaths_old_age", "deaths_culled",
    *[f"{stat}_{g}" for g in GENES for stat in ("mean", "sd")],
    "land_share", "mean_energy", "mean_skill", "p90_skill", "max_skill", "adults", "adults_final",
]  # fmt: skip


def timeseries_columns(milestones: list[str]) -> list[str]:
    """Columns of timeseries.csv: the base columns and one ``share_<milestone>`` per milestone."""
    return BASE_TIMESERIES_COLUMNS + [f"share_{m}" for m in milestones]
