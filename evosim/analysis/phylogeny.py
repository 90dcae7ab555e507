"""The species phylogeny of a run as dendropy trees and Newick.

``species.csv`` is an ALife Data Standards phylogeny; the conversion to trees
is `alifedata-phyloinformatics-convert`'s (``alife_dataframe_to_dendropy_trees``),
not code of ours. A world with several founding species gives a *forest*, one
tree per founder, which the converter's single-tree function refuses
("overfull"). Two ways out, both offered:

* :func:`species_trees`: one tree per founder (the forest as it is);
* :func:`species_tree`: one tree whose root is a **virtual root** (no
  species; label :data:`VIRTUAL_ROOT`) joining the founders with edges of
  length 0 at the founders' origin tick. It says only "these lineages started
  together", not that they share an ancestor. It is added as one extra row of
  the ALife table (:func:`alife_frame`), so the converter does the rest.

In these trees each species is a node, so a species with descendants is an
internal node. :func:`time_tree` makes the tree that ``evosim plot`` draws and
``evosim plot --newick`` writes: **one tip per species**, placed at the tick
its species ended (its ``destruction_time``, or the end of the run for extant
species); the internal node of a species sits at its origin tick, and edge
lengths are ticks, so a tip's distance from the root is the tick it ended.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dendropy
import pandas as pd

from evosim.io.files import atomic_write_text
from evosim.io.logs import Run

#: Label of the virtual root that joins several founders into one tree.
VIRTUAL_ROOT = "founders"


def _convert():
    """The converter module, imported quietly.

    It imports ete3 and phylotrackpy if it can and warns when it cannot;
    we use neither (only its dendropy functions), so those warnings are noise.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import alifedata_phyloinformatics_convert as apc
    return apc


def end_tick(run: Run) -> int:
    """The last tick of the run (``summary.json``'s ticks_run, else the last sample)."""
    if run.summary is not None and "ticks_run" in run.summary:
        return int(run.summary["ticks_run"])
    return int(run.timeseries["tick"].max()) if len(run.timeseries) else 0


def ends(species: pd.DataFrame, end: int) -> pd.Series:
    """Tick each species ended: ``destruction_time``, or ``end`` for extant species (indexed by id)."""
    out = species["destruction_time"].astype("Int64").fillna(end).astype("int64")
    return pd.Series(out.to_numpy(), index=species["id"].to_numpy(), name="end")


def alife_frame(species: pd.DataFrame, joined: bool = True) -> pd.DataFrame:
    """``species`` reduced to the standard columns the converter reads.

    Args:
        species: ``load_run(...).species`` (or species.csv read raw).
        joined: with several founders, add the virtual root row (id one past
            the largest species id, ``ancestor_list`` ``[none]``) and make it
            every founder's parent.

    Returns:
        Columns ``id``, ``ancestor_list``, ``origin_time``.
    """
    df = species[["id", "ancestor_list", "origin_time"]].copy()
    df["ancestor_list"] = df["ancestor_list"].astype(str)
    roots = df["ancestor_list"] == "[none]"
    if joined and roots.sum() > 1:
        vid = int(df["id"].max()) + 1
        df.loc[roots, "ancestor_list"] = f"[{vid}]"
        virtual = {
            "id": vid,
            "ancestor_list": "[none]",
            "origin_time": df.loc[roots, "origin_time"].min(),
        }
        df = pd.concat([pd.DataFrame([virtual]), df], ignore_index=True)
    return df.astype({"id": "int64", "origin_time": "int64"})


def species_trees(species: pd.DataFrame) -> list[dendropy.Tree]:
    """One dendropy tree per founder (node ``id`` = species id, edge lengths in ticks)."""
    return _convert().alife_dataframe_to_dendropy_trees(
        alife_frame(species, joined=False), setup_edge_lengths=True
    )


def species_tree(species: pd.DataFrame) -> dendropy.Tree:
    """One dendropy tree: the founders joined under the virtual root when there are several.

    Raises:
        ValueError: ``species`` is empty.
    """
    if not len(species):
        raise ValueError("no species: species.csv is written when the run ends")
    tree = _convert().alife_dataframe_to_dendropy_tree(
        alife_frame(species), setup_edge_lengths=True
    )
    if tree.seed_node.id not in set(species["id"]):
        tree.seed_node.label = VIRTUAL_ROOT
    return tree


def time_tree(species: pd.DataFrame, end: int) -> dendropy.Tree:
    """The phylogeny with one tip per species, drawn against time.

    Each species node of :func:`species_tree` gets a tip child (taxon: the
    species name; attribute ``species``: its id) whose edge spans the
    species' life, from its origin to its end (``destruction_time``, or
    ``end`` for extant species); dendropy's ``suppress_unifurcations`` then
    folds the nodes of species without descendants into their tips. Children
    are ordered so that a drawing with tips in leaf order has no crossing
    lines: a species' own tip first, then its daughters' clades, latest
    daughter first (founders under the virtual root in id order).

    Args:
        species: ``load_run(...).species``.
        end: the last tick of the run (:func:`end_tick`).
    """
    tree = species_tree(species)
    info = species.set_index("id")
    stop = ends(species, end)
    for node in list(tree.preorder_node_iter()):
        sid = int(node.id)
        if sid not in info.index:  # the virtual root
            node.set_child_nodes(sorted(node.child_nodes(), key=lambda n: n.id))
            continue
        tip = dendropy.Node(
            taxon=tree.taxon_namespace.require_taxon(label=str(info.at[sid, "name"])),
            edge_length=int(stop[sid]) - int(info.at[sid, "origin_time"]),
        )
        tip.species = sid
        daughters = sorted(node.child_nodes(), key=lambda n: (-n.origin_time, -n.id))
        node.set_child_nodes([tip, *daughters])
    tree.suppress_unifurcations()
    return tree


def tip_species(tree: dendropy.Tree) -> list[int]:
    """Species ids of the tips of a :func:`time_tree`, in leaf (drawing) order."""
    return [int(n.species) for n in tree.leaf_node_iter()]


def newick(run: Run) -> str:
    """The run's :func:`time_tree` as one Newick line (rooted; edge lengths in ticks)."""
    tree = time_tree(run.species, end_tick(run))
    return tree.as_string(schema="newick", suppress_rooting=False).strip() + "\n"


def write_newick(run: Run, path: str | Path) -> Path:
    """Write :func:`newick` to ``path`` (atomically) and return the path."""
    atomic_write_text(path, newick(run))
    return Path(path)
