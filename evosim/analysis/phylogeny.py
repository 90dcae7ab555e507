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
species); each daughter branches off its parent's lineage at the daughter's
origin tick, and edge lengths are ticks, so a tip's distance from the root is
the tick it ended and the patristic distance between a species and its
daughter is the time both lineages ran since the split. Built directly with
dendropy (the converter puts a daughter at its parent's *origin*). The
virtual root's label is ``founders`` unless a species has that name
(:func:`root_label`).
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
        tree.seed_node.label = root_label(species)
    return tree


def root_label(species: pd.DataFrame) -> str:
    """The virtual root's label: :data:`VIRTUAL_ROOT`, or (if a species has that name) a variant none has."""
    names = set(species["name"].astype(str)) if "name" in species else set()
    label, k = VIRTUAL_ROOT, 1
    while label in names:
        k += 1
        label = f"{VIRTUAL_ROOT}-root{'' if k == 2 else k - 1}"
    return label


def _parents(species: pd.DataFrame) -> dict[int, int | None]:
    """Parent species id of each species (None for a founder), from ``ancestor_list``."""
    out: dict[int, int | None] = {}
    for sid, anc in zip(species["id"], species["ancestor_list"].astype(str)):
        inner = anc.strip("[]").strip()
        out[int(sid)] = None if inner.lower() in ("none", "") else int(inner)
    return out


def time_tree(species: pd.DataFrame, end: int) -> dendropy.Tree:
    """The phylogeny with one tip per species, each daughter branching off at its origin tick.

    A species is a lineage from its origin to its end (``destruction_time``,
    or ``end`` for extant species), ending in a tip (taxon: the species name;
    attribute ``species``: its id). Each of its daughters branches off that
    lineage at the daughter's ``origin_time``: an internal node at that tick
    whose children are the parent's continuation and the daughter's lineage.
    Edge lengths are ticks and the root sits at the founders' origin, so a
    tip's distance from the root is the tick its species ended, and the most
    recent common ancestor of a species and its daughter sits at the tick the
    daughter split off (the patristic distance between their tips is the sum
    of their times since the split). Several founders hang under a virtual
    root (:func:`root_label`) with edges from their common origin.

    Children are ordered so that a drawing with tips in leaf order has no
    crossing lines: a species' own tip first, then its daughters' clades,
    latest daughter first (founders under the virtual root in id order).

    Args:
        species: ``load_run(...).species``.
        end: the last tick of the run (:func:`end_tick`).

    Raises:
        ValueError: ``species`` is empty.
    """
    if not len(species):
        raise ValueError("no species: species.csv is written when the run ends")
    parent = _parents(species)
    origin = {int(k): int(v) for k, v in zip(species["id"], species["origin_time"])}
    name = {int(k): str(v) for k, v in zip(species["id"], species["name"])}
    stop = {int(k): int(v) for k, v in ends(species, end).items()}
    daughters: dict[int, list[int]] = {sid: [] for sid in origin}
    for sid, p in parent.items():
        if p is not None and p in daughters:
            daughters[p].append(sid)
    ns = dendropy.TaxonNamespace()
    # each species' lineage: one node per daughter split (at the daughter's origin), then its tip
    chain: dict[int, list[tuple[dendropy.Node, int]]] = {}
    for sid in origin:
        ds = sorted(daughters[sid], key=lambda d: (origin[d], d))
        tip = dendropy.Node(taxon=ns.require_taxon(label=name[sid]))
        tip.species = sid
        chain[sid] = [(dendropy.Node(), origin[d]) for d in ds] + [(tip, stop[sid])]
        for (node, _t), d in zip(chain[sid], ds):
            node.split_of = (sid, d)
    for sid, nodes in chain.items():
        ds = sorted(daughters[sid], key=lambda d: (origin[d], d))
        for i, d in enumerate(ds):
            split, t = nodes[i]
            for child, ct in (nodes[i + 1], chain[d][0]):  # continuation first, then the daughter
                split.add_child(child)
                child.edge_length = ct - t
    founders = sorted(sid for sid, p in parent.items() if p is None or p not in origin)
    start = min(origin[f] for f in founders)
    root = dendropy.Node()
    if len(founders) > 1:
        root.label = root_label(species)
    for f in founders:
        head, t = chain[f][0]
        root.add_child(head)
        head.edge_length = t - start
    return dendropy.Tree(seed_node=root, taxon_namespace=ns, is_rooted=True)


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
