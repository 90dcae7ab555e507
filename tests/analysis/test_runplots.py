"""``evosim plot``'s figures: every PNG written and sensible, groups pooled right, empty panels in words."""

from __future__ import annotations

import copy
import dataclasses
import shutil
import struct

import numpy as np
import pandas as pd
import pytest

from evosim.analysis import groups as G
from evosim.analysis.runplots import (
    PLOTS,
    RunView,
    brain_skill_figure,
    genes_figure,
    milestones_figure,
    not_drawn,
    plot_run,
    population_figure,
)
from evosim.analysis.style import NO_SPECIES
from evosim.analysis.treeplot import phylogeny_figure, tree_rows
from evosim.io.logs import load_run


@pytest.fixture(scope="module")
def run(four_founders_run):
    return load_run(four_founders_run)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def texts(fig) -> list[str]:
    """Every text drawn in a figure's axes."""
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_plot_run_writes_every_png(run, tmp_path):
    out = tmp_path / "plots"
    written = plot_run(run, out)
    assert [p.name for p, _ in written] == list(PLOTS)
    for path, what in written:
        data = path.read_bytes()
        w, h = png_size(data)
        assert 900 <= w <= 2500 and 400 <= h <= 3500, (path.name, w, h)
        assert 20_000 < len(data) < 3_000_000, (path.name, len(data))
        assert what
    assert sorted(p.name for p in out.iterdir()) == sorted(PLOTS)  # no temp files left


def test_tree_has_one_row_per_species(run):
    rows = tree_rows(run)
    raw = pd.read_csv(run.folder / "species.csv")
    assert len(rows) == len(raw) and sorted(rows["id"]) == sorted(raw["id"])
    assert rows["row"].tolist() == list(range(len(raw)))
    assert (rows["end"] >= rows["origin"]).all()
    # one colour per founder, and the detections the plot marks
    assert rows["founder_rank"].nunique() == 4
    assert rows["intelligent_at"].notna().sum() == run.species["intelligent_at"].notna().sum() > 0
    fig = phylogeny_figure(run)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(lb.startswith("detected intelligent (") for lb in labels)
    assert sum("lineage (" in lb for lb in labels) == 4


def test_groups_name_the_top_species_and_pool_the_rest(run):
    sp, ts = run.species, run.timeseries
    groups = G.select(sp, top=2)
    for root in sp.loc[sp["id"] == sp["root"], "name"]:
        mine = [g for g in groups if g.founder == root]
        n = int((G.founders(sp) == root).sum())
        assert len([g for g in mine if not g.pooled]) == min(2, n)
        assert sum(g.size for g in mine) == n
    detected = set(sp.loc[sp["intelligent_at"].notna(), "name"])
    assert detected
    for root in sp.loc[sp["id"] == sp["root"], "name"]:  # detected species first in their lineage
        named = [g for g in groups if g.founder == root and not g.pooled]
        flags = [g.key in detected for g in named]
        assert flags == sorted(flags, reverse=True)
        want = min(
            len(named), int((G.founders(sp)[sp["name"].isin(detected).to_numpy()] == root).sum())
        )
        assert sum(flags) == want
        for g in named:
            assert ("(intelligent at " in g.label) == (g.key in detected)
    pooled = G.grouped(ts, sp, groups)
    total = ts.groupby("tick")["population"].sum()
    assert (pooled.groupby("tick")["population"].sum() == total).all()
    # a named species' statistics are its own; a pooled group's are population-weighted
    name = groups[0].key
    own = ts[ts["name"] == name].set_index("tick")["mean_brain"]
    mine = pooled[pooled["group"] == name].set_index("tick")["mean_brain"]
    assert np.allclose(mine.loc[own.index], own, equal_nan=True)
    other = next(g for g in groups if g.pooled)
    members = ts[
        ts["species"].map(G.founders(sp)).eq(other.founder)
        & ~ts["name"].isin([g.key for g in groups])
    ]
    tick = members.groupby("tick")["population"].sum().idxmax()
    at = members[members["tick"] == tick]
    want = (at["mean_brain"] * at["population"]).sum() / at["population"].sum()
    got = pooled[(pooled["group"] == other.key) & (pooled["tick"] == tick)]["mean_brain"].item()
    assert got == pytest.approx(want)


def test_a_milestone_nobody_held_says_so(run):
    fig = milestones_figure(RunView(run))
    said = texts(fig)
    ladder = [m["name"] for m in run.config["technology"]["ladder"]]
    never = [m for m in ladder if run.timeseries[f"share_{m}"].max() == 0]
    assert never, "in 300 ticks some milestone should stay out of reach"
    assert sorted(t for t in said if t.startswith("no member")) == sorted(
        f"no member of any species\nheld {m}" for m in never
    )


def test_an_unfinished_run_plots_what_its_logs_allow(four_founders_run, tmp_path):
    """No species.csv (a run stopped by a signal): the plots over time are drawn from timeseries.csv
    (species grouped by the founder in their names); the phylogeny says why it is empty, and
    :func:`not_drawn` tells the terminal (issue 22 row 9; the panels used to be empty boxes)."""
    folder = tmp_path / "run"
    shutil.copytree(
        four_founders_run, folder, ignore=shutil.ignore_patterns("checkpoints", "plots")
    )
    full = RunView(load_run(folder))
    (folder / "species.csv").unlink()
    run = load_run(folder)
    assert texts(phylogeny_figure(run)) == [NO_SPECIES]
    view = RunView(run)
    assert sorted(g.founder for g in view.groups if g.rank == 0) == sorted(
        g.founder for g in full.groups if g.rank == 0
    )
    totals = view.table("population").sum(axis=1)
    assert (totals == full.table("population").sum(axis=1)).all() and totals.iloc[0] == 400
    fig = population_figure(view)
    assert NO_SPECIES not in texts(fig) and fig.axes[0].collections  # the stacked lineages
    assert NO_SPECIES not in texts(genes_figure(view))
    assert len(plot_run(run)) == len(PLOTS)
    said = not_drawn(run)
    assert len(said) == 2 and said[0].startswith("phylogeny.png: no species.csv")
    assert "--resume" in said[0]
    assert not_drawn(load_run(four_founders_run)) == []


def test_the_skill_axis_holds_every_line_and_marker(run):
    """A species learns on past the last milestone: its skill line and its ★ stay inside the axes
    (QA: the axis stopped at 1.08 x the last threshold, so the technological primate's line left
    the frame and its star sat on the edge)."""
    top_skill = float(run.timeseries["mean_skill"].max())
    assert top_skill > 0
    cfg = copy.deepcopy(run.config)
    cfg["technology"]["ladder"] = [{**m, "threshold": top_skill * (i + 1) / 10}
                                   for i, m in enumerate(cfg["technology"]["ladder"][:3])]  # fmt: skip
    sp = run.species.copy()
    best = run.timeseries.loc[run.timeseries["mean_skill"].idxmax()]  # technological at its peak
    sp.loc[sp["name"] == best["name"], "technological_at"] = int(best["tick"])
    view = RunView(dataclasses.replace(run, config=cfg, species=sp))
    assert any(g.key == best["name"] and not g.pooled for g in view.groups)
    fig = brain_skill_figure(view)
    fig.draw_without_rendering()
    skill = fig.axes[1]
    lo, hi = skill.get_ylim()
    ys = np.concatenate([np.asarray(ln.get_ydata(), float) for ln in skill.lines])
    assert lo <= np.nanmin(ys) and np.nanmax(ys) < hi
    assert np.nanmax(ys) >= top_skill * 0.99  # the species' own line is among them
    stars = [c for c in skill.collections if len(c.get_offsets())]
    assert stars, "the detection is marked"
    box = skill.get_window_extent()
    for c in stars:  # the whole marker, not just its centre, inside the frame
        ext = c.get_window_extent()
        assert box.y0 <= ext.y0 and ext.y1 <= box.y1, (ext, box)
