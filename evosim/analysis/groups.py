"""Which species a plot names, and the rest grouped per founding lineage.

Long runs form hundreds of species, most of them small and short-lived. A
plot names at most ``top`` species per founding lineage, ranked
technological first, then intelligent, then by peak population; the other
species of each lineage are pooled into one group, "N other <founder>
species": populations summed, gene means and milestone shares weighted by
population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evosim.defaults import GENES

#: Species named per founding lineage unless asked otherwise.
DEFAULT_TOP = 4


@dataclass(frozen=True)
class Group:
    """One line of a plot: a named species, or the pooled rest of a lineage.

    Attributes:
        key: the group's column in :func:`grouped` (species name, or
            ``"other <founder>"``).
        label: legend text.
        founder: name of the founding species of its lineage.
        founder_rank: position of that founder (0, 1, ...), for its colour.
        rank: 0.. for named species (their rank within the lineage), -1 for
            the pooled rest.
        size: number of species in the group.
    """

    key: str
    label: str
    founder: str
    founder_rank: int
    rank: int
    size: int

    @property
    def pooled(self) -> bool:
        """True for the group of a lineage's other species."""
        return self.rank < 0


def founders(species: pd.DataFrame) -> pd.Series:
    """Founder name of every species, indexed by species id."""
    names = species.set_index("id")["name"]
    return pd.Series(names.loc[species["root"]].to_numpy(), index=species["id"].to_numpy())


def select(species: pd.DataFrame, top: int = DEFAULT_TOP) -> list[Group]:
    """The groups a plot shows: per founder (in id order), ``top`` named species, then the rest pooled.

    Args:
        species: ``load_run(...).species``.
        top: species named per lineage (0: pool every species of a lineage).
    """
    sp = species.assign(
        _tech=species["technological_at"].notna(),
        _intel=species["intelligent_at"].notna(),
    )
    groups: list[Group] = []
    roots = sp[sp["id"] == sp["root"]].sort_values("id")
    for frank, (rid, fname) in enumerate(zip(roots["id"], roots["name"])):
        mine = sp[sp["root"] == rid].sort_values(
            ["_tech", "_intel", "peak_population", "id"], ascending=[False, False, False, True]
        )
        named, rest = mine.iloc[:top], mine.iloc[top:]
        for rank, row in enumerate(named.itertuples()):
            groups.append(Group(str(row.name), _label(row), str(fname), frank, rank, 1))
        if len(rest):
            groups.append(
                Group(
                    f"other {fname}",
                    f"{len(rest)} other {fname} species (pooled)",
                    str(fname),
                    frank,
                    -1,
                    len(rest),
                )
            )
    return groups


def _label(row) -> str:
    """Legend text of a named species: its name, and when it was detected."""
    if pd.notna(row.technological_at):
        return f"{row.name} (technological at {int(row.technological_at)})"
    if pd.notna(row.intelligent_at):
        return f"{row.name} (intelligent at {int(row.intelligent_at)})"
    return str(row.name)


def grouped(timeseries: pd.DataFrame, species: pd.DataFrame, groups: list[Group]) -> pd.DataFrame:
    """``timeseries`` with its species pooled into ``groups``: one row per tick and group.

    ``population``, ``births`` and the death counts are summed; the mean genes,
    ``mean_skill``, ``land_share`` and ``share_<milestone>``
    columns are population-weighted means (NaN where the group has no members).

    Returns:
        Columns ``tick``, ``group`` (a :attr:`Group.key`) and the pooled statistics.
    """
    named = {g.key for g in groups if not g.pooled}
    fnd = founders(species)
    ts = timeseries.copy()
    ts["group"] = np.where(
        ts["name"].isin(named), ts["name"], "other " + fnd.reindex(ts["species"]).to_numpy()
    )
    sums = ["population", "births", "deaths_starvation", "deaths_old_age", "deaths_culled"]
    means = [f"mean_{g}" for g in GENES] + ["land_share", "mean_skill"]
    means += [c for c in ts.columns if c.startswith("share_")]
    pop = ts["population"].astype("float64")
    weighted = ts[means].mul(pop, axis=0).where(pop > 0, 0.0)
    weighted[["tick", "group"]] = ts[["tick", "group"]]
    keys = ["tick", "group"]
    total = ts.groupby(keys, sort=True)[sums].sum()
    wsum = weighted.groupby(keys, sort=True)[means].sum()
    out = wsum.div(total["population"].where(total["population"] > 0), axis=0)
    return pd.concat([total, out], axis=1).reset_index()


def wide(pooled: pd.DataFrame, column: str) -> pd.DataFrame:
    """Tick x group table of one column of :func:`grouped`."""
    return pooled.pivot(index="tick", columns="group", values=column)
