"""The species phylogeny through alifedata-phyloinformatics-convert: forests, the virtual root, Newick."""

from __future__ import annotations

import warnings

import dendropy
import pandas as pd
import pytest

from evosim.analysis import phylogeny as ph
from evosim.io.logs import load_run

with warnings.catch_warnings():  # the converter warns that optional ete3 / phylotrackpy are missing
    warnings.simplefilter("ignore")
    import alifedata_phyloinformatics_convert as apc


@pytest.fixture(scope="module")
def run(four_founders_run):
    return load_run(four_founders_run)


def test_the_run_has_several_founders_and_extinct_and_extant_species(run):
    sp = run.species
    assert (sp["id"] == sp["root"]).sum() == 4
    assert len(sp) > 10 and sp["alive"].any() and (~sp["alive"]).any()


def test_raw_species_csv_is_a_forest_the_converter_reads(run):
    """species.csv as written (``none`` and all) converts to one tree per founder; the one-tree call refuses it."""
    raw = pd.read_csv(run.folder / "species.csv")
    alive = raw[raw["alive"]]
    assert (alive["destruction_time"] == "none").all()
    trees = apc.alife_dataframe_to_dendropy_trees(raw, setup_edge_lengths=True)
    roots = raw.loc[raw["ancestor_list"] == "[none]", "id"].tolist()
    assert sorted(t.seed_node.id for t in trees) == roots
    parent = dict(zip(raw["id"], raw["ancestor_id"]))
    for tree in trees:
        root = tree.seed_node.id
        ids = [n.id for n in tree.preorder_node_iter()]
        assert sorted(ids) == sorted(raw.loc[raw["root"] == root, "id"])
        for n in tree.preorder_node_iter():
            if n is not tree.seed_node:
                assert n.parent_node.id == parent[n.id]
                assert n.edge_length == n.origin_time - n.parent_node.origin_time
    with pytest.raises(ValueError, match="overfull"):
        apc.alife_dataframe_to_dendropy_tree(raw)
    assert [len(list(t.preorder_node_iter())) for t in ph.species_trees(run.species)] == [
        len(list(t.preorder_node_iter())) for t in trees
    ]


def test_virtual_root_joins_the_founders_and_round_trips(run):
    """species_tree: one tree under a virtual root; back through the converter it is species.csv again."""
    sp = run.species
    tree = ph.species_tree(sp)
    vid = int(sp["id"].max()) + 1
    assert tree.seed_node.id == vid and tree.seed_node.label == ph.VIRTUAL_ROOT
    assert sorted(n.id for n in tree.seed_node.child_nodes()) == sorted(
        sp.loc[sp["id"] == sp["root"], "id"]
    )
    assert all(n.edge_length == 0 for n in tree.seed_node.child_nodes())
    back = apc.dendropy_tree_to_alife_dataframe(tree).set_index("id").sort_index()
    assert len(back) == len(sp) + 1
    want = ph.alife_frame(sp).set_index("id").sort_index()
    assert back.index.tolist() == want.index.tolist()
    assert (
        back["ancestor_list"].tolist()
        == want["ancestor_list"].str.replace("[none]", "[None]").tolist()
    )
    assert back["origin_time"].astype(int).tolist() == want["origin_time"].tolist()


def test_one_founder_needs_no_virtual_root(run):
    sp = run.species
    one = sp[sp["root"] == sp.groupby("root").size().idxmax()]
    tree = ph.species_tree(one)
    assert tree.seed_node.id == one["root"].iloc[0] and tree.seed_node.label is None
    assert len(list(tree.preorder_node_iter())) == len(one)


def test_time_tree_has_one_tip_per_species_at_the_tick_it_ended(run):
    sp, end = run.species, ph.end_tick(run)
    tree = ph.time_tree(sp, end)
    tips = tree.leaf_nodes()
    assert len(tips) == len(sp)
    assert sorted(t.taxon.label for t in tips) == sorted(sp["name"])
    ended = dict(zip(sp["name"], sp["destruction_time"].fillna(end).astype(int)))
    for t in tips:
        assert t.distance_from_root() == ended[t.taxon.label]
    assert sorted(ph.tip_species(tree)) == sorted(sp["id"])


def synthetic_species() -> pd.DataFrame:
    """Two founders and three generations of daughters, some extinct (ids in origin order, as evosim writes them)."""
    rows = [  # id, parent, origin, destruction (None: extant)
        (0, -1, 0, None), (1, -1, 0, 90), (2, 0, 10, None), (3, 0, 20, 60), (4, 2, 25, None),
        (5, 2, 30, 50), (6, 4, 40, None), (7, 1, 45, 80), (8, 3, 50, 55), (9, 0, 70, None),
    ]  # fmt: skip
    out = pd.DataFrame(rows, columns=["id", "parent", "origin_time", "destruction_time"])
    out["ancestor_list"] = ["[none]" if p < 0 else f"[{p}]" for p in out["parent"]]
    out["ancestor_id"] = out["parent"].where(out["parent"] >= 0, out["id"])
    out["destruction_time"] = out["destruction_time"].astype("Int64")
    out["name"] = [f"s{i}" for i in out["id"]]
    return out


@pytest.mark.parametrize("which", ["run", "synthetic"])
def test_drawing_order_has_no_crossing_lines(run, which):
    """Tips in leaf order: a species, then its descendants; a branch to a daughter passes only rows starting later."""
    sp = run.species if which == "run" else synthetic_species()
    order = ph.tip_species(ph.time_tree(sp, 100))
    assert sorted(order) == sorted(sp["id"])
    row = {s: i for i, s in enumerate(order)}
    parent = dict(zip(sp["id"], sp["ancestor_id"]))
    origin = dict(zip(sp["id"], sp["origin_time"]))

    def descendants(s):
        kids = [c for c, p in parent.items() if p == s and c != s]
        return [s] + [d for k in kids for d in descendants(k)]

    for s in sp["id"]:
        block = sorted(row[d] for d in descendants(s))
        assert block == list(range(row[s], row[s] + len(block)))  # contiguous, species first
        if s != parent[s]:
            between = order[row[parent[s]] + 1 : row[s]]
            assert all(origin[b] >= origin[s] for b in between)
    if which == "synthetic":
        assert order == [0, 9, 3, 8, 2, 5, 4, 6, 1, 7]


def test_time_tree_of_nested_daughters(tmp_path):
    """Edge lengths are ticks: a tip's depth is its end; a species and its daughter meet at the daughter's origin."""
    sp = synthetic_species()
    tree = ph.time_tree(sp, 100)
    depth = {t.taxon.label: t.distance_from_root() for t in tree.leaf_node_iter()}
    assert depth == {f"s{i}": e for i, e in zip(sp["id"], sp["destruction_time"].fillna(100))}
    splits = {
        n.split_of: n.distance_from_root() for n in tree.internal_nodes() if hasattr(n, "split_of")
    }
    assert (
        splits[(0, 2)] == 10
        and splits[(2, 4)] == 25
        and splits[(0, 3)] == 20
        and splits[(0, 9)] == 70
    )
    assert tree.seed_node.label == ph.VIRTUAL_ROOT


def _patristic_matches_species_csv(sp: pd.DataFrame, end: int, tree: dendropy.Tree) -> int:
    """Assert, for every species and its daughter, the Newick tree's MRCA depth and patristic distance."""
    tips = {t.taxon.label: t for t in tree.leaf_node_iter()}
    pdm = tree.phylogenetic_distance_matrix()
    stop = dict(zip(sp["name"], sp["destruction_time"].fillna(end).astype(int)))
    by_id = sp.set_index("id")
    checked = 0
    for d in sp.itertuples():
        if d.ancestor_id == d.id:
            continue
        p = by_id.loc[d.ancestor_id]
        a, b = tips[str(p["name"])].taxon, tips[str(d.name)].taxon
        assert pdm.mrca(a, b).distance_from_root() == d.origin_time
        want = (stop[p["name"]] - d.origin_time) + (stop[d.name] - d.origin_time)
        assert pdm.patristic_distance(a, b) == want, (p["name"], d.name)
        checked += 1
    return checked


def test_newick_of_a_real_run_splits_each_daughter_at_its_origin(run, tmp_path):
    """Issue 22 row 7: read back from Newick, a species and its daughter meet at the daughter's origin_time."""
    path = ph.write_newick(run, tmp_path / "tree.nwk")
    tree = dendropy.Tree.get(path=path, schema="newick", preserve_underscores=True)
    assert _patristic_matches_species_csv(run.species, ph.end_tick(run), tree) > 10


def test_a_species_named_founders_keeps_its_label_distinct_from_the_virtual_root():
    """Issue 22 row 14: the virtual root never repeats a species' name."""
    sp = synthetic_species()
    sp.loc[sp["id"] == 1, "name"] = "founders"
    sp.loc[sp["id"] == 2, "name"] = "founders-root"
    tree = ph.time_tree(sp, 100)
    text = tree.as_string(schema="newick", suppress_rooting=False)
    labels = [t.taxon.label for t in tree.leaf_node_iter()] + [tree.seed_node.label]
    assert len(labels) == len(set(labels)) == len(sp) + 1
    assert text.count("founders") == 3 and tree.seed_node.label == "founders-root2"
    assert ph.species_tree(sp).seed_node.label == "founders-root2"


def test_newick_export_reads_back_with_one_tip_per_species(run, tmp_path):
    path = ph.write_newick(run, tmp_path / "tree.nwk")
    text = path.read_text()
    assert text.startswith("[&R] (") and text.endswith(";\n") and text.count(";") == 1
    tree = dendropy.Tree.get(path=path, schema="newick", preserve_underscores=True)
    sp, end = run.species, ph.end_tick(run)
    assert sorted(t.taxon.label for t in tree.leaf_node_iter()) == sorted(sp["name"])
    ended = dict(zip(sp["name"], sp["destruction_time"].fillna(end).astype(int)))
    assert all(t.distance_from_root() == ended[t.taxon.label] for t in tree.leaf_node_iter())


def test_no_species_is_refused_in_words():
    empty = pd.DataFrame(
        {c: pd.Series(dtype="int64") for c in ("id", "ancestor_list", "origin_time")}
    )
    with pytest.raises(ValueError, match="species.csv is written when the run ends"):
        ph.species_tree(empty)
