"""Species, events and lineage logs: ALife phylogeny format, pandas dtypes, consistency."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evosim import load_world
from evosim.io.logs import (
    line_of_descent,
    load_run,
    populations,
    species_ancestry,
    trait_trajectories,
)
from evosim.io.runner import run
from tests.helpers import TINY


@pytest.fixture(scope="module")
def speciating_run(tmp_path_factory):
    """A small world with a low speciation threshold and lineage on, so species split and die."""
    out = tmp_path_factory.mktemp("runs") / "r"
    world = load_world(overrides={
        **TINY, "world.width": 48, "world.height": 48, "speciation.threshold": 0.15,
        "species.grazer.count": 300, "species.swimmer.count": 300,
        "output.lineage": True, "output.lineage_chunk_rows": 1000, "output.sample_every": 5,
    })  # fmt: skip
    summary = run(world, out, ticks=600, seed=3)
    return out, summary


def test_species_table_is_an_alife_phylogeny(speciating_run):
    out, summary = speciating_run
    sp = load_run(out).species
    assert list(sp.columns[:4]) == ["id", "ancestor_list", "origin_time", "destruction_time"]
    assert len(sp) > 5 and summary["species_formed"] == len(sp)
    roots = sp[sp.ancestor_list == "[none]"]
    assert set(roots.name) == {"grazer", "swimmer"}
    assert (roots.ancestor_id == roots.id).all()
    kids = sp[sp.ancestor_list != "[none]"]
    assert (kids.ancestor_list == "[" + kids.ancestor_id.astype(str) + "]").all()
    parent_origin = sp.set_index("id").loc[kids.ancestor_id, "origin_time"].to_numpy()
    assert (kids.origin_time.to_numpy() >= parent_origin).all()
    dead = sp[~sp.alive]
    assert len(dead), "some species should have gone extinct in this world"
    assert (dead.destruction_time >= dead.origin_time).all()
    assert (dead.destruction_time < summary["ticks_run"]).all()
    # extant species: the ALife standard's ``none``, read as missing
    assert sp.dtypes["destruction_time"] == "Int64"
    assert sp.destruction_time.isna().tolist() == sp.alive.tolist()
    raw = [ln.split(",") for ln in (out / "species.csv").read_text().splitlines()[1:]]
    assert [r[3] == "none" for r in raw] == [r[4] == "True" for r in raw]
    assert sp.dtypes["alive"] == np.dtype(bool) and sp.dtypes["id"] == np.int64


def test_events_record_every_speciation_and_extinction(speciating_run):
    out, _ = speciating_run
    r = load_run(out)
    ev, sp = r.events, r.species
    spec = ev[ev.kind == "speciation"]
    assert sorted(spec.species.astype(int)) == sorted(sp.id[sp.ancestor_list != "[none]"])
    ext = ev[ev.kind == "extinction"].set_index("species")
    dead = sp[~sp.alive].set_index("id")
    assert sorted(ext.index.astype(int)) == sorted(dead.index)
    assert (ext.loc[dead.index, "tick"].to_numpy() == dead.destruction_time.to_numpy()).all()


def test_species_csv_converts_with_the_alife_converter(speciating_run):
    """species.csv as written (``none`` for extant species) is read by alifedata-phyloinformatics-convert."""
    out, _ = speciating_run
    with warnings.catch_warnings():  # it warns that optional ete3 / phylotrackpy are missing
        warnings.simplefilter("ignore")
        from alifedata_phyloinformatics_convert import alife_dataframe_to_dendropy_trees

    raw = pd.read_csv(out / "species.csv")
    trees = alife_dataframe_to_dendropy_trees(raw)
    assert [t.seed_node.id for t in trees] == raw.loc[raw.ancestor_list == "[none]", "id"].tolist()
    parent = dict(zip(raw.id, raw.ancestor_id))
    nodes = [n for t in trees for n in t.preorder_node_iter()]
    assert sorted(n.id for n in nodes) == raw.id.tolist()
    assert all(n.parent_node.id == parent[n.id] for n in nodes if n.parent_node is not None)


def test_lineage_is_complete_and_consistent(speciating_run):
    out, summary = speciating_run
    lin = load_run(out).lineage
    assert lin is not None
    assert len(list((out / "lineage").glob("part-*.parquet"))) > 1, (
        "chunks should be written during the run"
    )
    assert lin.id.is_unique
    assert len(lin) == summary["births"] + 600  # every founder and every child, exactly once
    assert (lin.cause == "alive").sum() == summary["final_population"]
    assert set(lin.cause) <= {"alive", "starvation", "old_age"}
    known = set(lin.id)
    parents = lin.parent_id[lin.parent_id >= 0]
    assert parents.isin(known).all()
    assert (lin.destruction_time >= lin.origin_time).all()
    leaf = int(lin.id.iloc[-1])
    line = line_of_descent(lin, leaf)
    assert line.id.iloc[0] == leaf and line.ancestor_list.iloc[-1] == "[none]"
    assert (np.diff(line.origin_time.to_numpy()) <= 0).all()


def test_timeseries_helpers(speciating_run):
    out, _ = speciating_run
    r = load_run(out)
    ts = r.timeseries
    assert ts.dtypes["population"] == np.int64 and ts.dtypes["land_share"] == np.float64
    swim = ts[ts.name == "swimmer"]
    assert swim.land_share.max() < 0.05, "the aquatic founder species stays in water"
    pops = populations(ts)
    assert pops.loc[0, "grazer"] == 300
    brain = trait_trajectories(ts, "brain")
    assert brain.shape[0] == ts.tick.nunique()
    grandchild = r.species[r.species.ancestor_id != r.species.id].id.max()
    chain = species_ancestry(r.species, int(grandchild))
    assert chain[0] == grandchild and chain[-1] in (0, 1)


def test_species_table_records_grants_and_their_inheritance(tmp_path):
    """species.csv's manipulators / fire_substitute: the registry's values at the end (or at extinction).

    Daughters formed after a grant inherit it, species extinct before it never had it, and a refused
    weaker grant changes nothing.
    """
    ivs = [
        {
            "name": "hands",
            "when": {"tick": 0},
            "target": {"species": ["grazer"]},
            "effect": {"kind": "manipulators", "level": 0.5},
        },
        {
            "name": "strong",
            "when": {"tick": 200},
            "target": {"founder": "grazer"},
            "effect": {"kind": "manipulators", "level": 0.8},
        },
        {
            "name": "fire",
            "when": {"tick": 200},
            "target": {"founder": "swimmer"},
            "effect": {"kind": "fire_substitute"},
        },
        {
            "name": "weak",
            "when": {"tick": 300},
            "target": {"founder": "grazer"},
            "effect": {"kind": "manipulators", "level": 0.3},
        },
    ]
    world = load_world(overrides={
        **TINY, "world.width": 48, "world.height": 48, "speciation.threshold": 0.15,
        "species.grazer.count": 300, "species.swimmer.count": 300, "output.sample_every": 5, "interventions": ivs,
    })  # fmt: skip
    run(world, tmp_path / "r", ticks=400, seed=3)
    r = load_run(tmp_path / "r")
    sp, ev = r.species, r.events
    assert sp.dtypes["manipulators"] == np.float64 and sp.dtypes["fire_substitute"] == np.dtype(
        bool
    )
    assert ev.details.str.contains("manipulators 0.3 ignored").any(), (
        "the weak grant should be refused"
    )
    grazer, swimmer = sp[sp.root == 0], sp[sp.root == 1]
    assert set(grazer.manipulators) == {0.5, 0.8} and not grazer.fire_substitute.any()
    assert (
        (swimmer.manipulators == 0.0).all()
        and swimmer.fire_substitute.any()
        and not swimmer.fire_substitute.all()
    )
    for lineage, col, before, after in (
        (grazer, "manipulators", 0.5, 0.8),
        (swimmer, "fire_substitute", False, True),
    ):
        gone = lineage[
            lineage.destruction_time < 199
        ]  # extinct before the grant at tick 200: keep the older value
        born = lineage[
            lineage.origin_time > 200
        ]  # formed after it, from a granted parent: inherit it
        assert (
            len(gone) and len(born) and (gone[col] == before).all() and (born[col] == after).all()
        )


def test_a_species_dies_out_at_the_tick_its_last_member_dies(speciating_run):
    out, _ = speciating_run
    r = load_run(out)
    sp, lin = r.species, r.lineage
    dead = sp[~sp.alive].set_index("id")
    last_death = lin.groupby("species").destruction_time.max()
    assert len(dead) > 3
    assert (last_death.loc[dead.index].to_numpy() == dead.destruction_time.to_numpy()).all()
