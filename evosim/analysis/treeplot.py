"""The species phylogeny drawn against time.

Each species is one row (a tip of :func:`evosim.analysis.phylogeny.time_tree`,
in that tree's leaf order): a horizontal line from its origin tick to its
end (extinction, or the end of the run), as wide as its peak population
(log scale), in its founder's colour. A thin vertical line joins a species
to its parent at its origin tick. Triangles and stars mark the ticks at which
species were detected intelligent and technological. Founders, detected
species and the largest species of each lineage are named.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from evosim.analysis import groups as G
from evosim.analysis.phylogeny import end_tick, ends, time_tree, tip_species
from evosim.analysis.style import NO_SPECIES, founder_color, say
from evosim.io.logs import Run


def tree_rows(run: Run) -> pd.DataFrame:
    """One row per species in drawing order: id, name, row (0 at the top), origin, end, parent, founder rank.

    Raises:
        ValueError: the run has no species table.
    """
    sp = run.species
    end = end_tick(run)
    order = tip_species(time_tree(sp, end))
    info = sp.set_index("id").loc[order]
    roots = sorted(sp.loc[sp["id"] == sp["root"], "id"])
    return pd.DataFrame({
        "id": order,
        "name": info["name"].to_numpy(),
        "row": np.arange(len(order)),
        "origin": info["origin_time"].to_numpy(),
        "end": ends(sp, end).loc[order].to_numpy(),
        "parent": info["ancestor_id"].to_numpy(),
        "founder_rank": [roots.index(r) for r in info["root"]],
        "peak": info["peak_population"].to_numpy(),
        "intelligent_at": info["intelligent_at"].to_numpy(),
        "technological_at": info["technological_at"].to_numpy(),
    })  # fmt: skip


def _labelled(rows: pd.DataFrame, run: Run, top: int) -> list[int]:
    """Species ids to name, most important first: founders, detected, then the largest per lineage."""
    named = [g.key for g in G.select(run.species, top) if not g.pooled]
    ids = dict(zip(run.species["name"], run.species["id"]))
    first = rows.loc[rows["id"] == rows["parent"], "id"].tolist()
    detected = rows.loc[rows["intelligent_at"].notna(), "id"].tolist()
    return list(dict.fromkeys(first + detected + [int(ids[n]) for n in named]))


def phylogeny_figure(run: Run, top: int = G.DEFAULT_TOP) -> Figure:
    """The phylogeny of ``run`` against time (see the module docstring)."""
    n = len(run.species)
    height = float(np.clip(2.2 + 0.055 * n, 4.5, 30))
    fig = Figure(figsize=(13, height), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xlabel("tick")
    ax.set_ylabel("species (one row each)")
    if not n:
        say(ax, NO_SPECIES)
        ax.set_title("Species phylogeny")
        return fig
    rows = tree_rows(run)
    end = end_tick(run)
    y = -rows["row"].to_numpy(dtype=float)  # first tip at the top
    colors = [founder_color(r) for r in rows["founder_rank"]]
    peak = np.maximum(rows["peak"].to_numpy(dtype=float), 1.0)
    width = 0.4 + 3.2 * np.log10(peak) / max(np.log10(peak.max()), 1.0)
    if n > 150:  # thin rows: keep lines thinner than the row spacing
        width *= 0.6
    spans = [[(o, yy), (e, yy)] for o, e, yy in zip(rows["origin"], rows["end"], y)]
    ax.add_collection(LineCollection(spans, colors=colors, linewidths=width, capstyle="butt"))
    ypos = dict(zip(rows["id"], y))
    kids = rows[rows["id"] != rows["parent"]]
    links = [
        [(o, ypos[p]), (o, ypos[c])] for o, p, c in zip(kids["origin"], kids["parent"], kids["id"])
    ]
    link_colors = [colors[i] for i in kids.index]
    ax.add_collection(LineCollection(links, colors=link_colors, linewidths=0.5, alpha=0.7))
    for kind, marker, size in (("intelligent_at", "^", 60), ("technological_at", "*", 160)):
        hit = rows[rows[kind].notna()]
        ax.scatter(hit[kind].astype(float), y[hit.index], marker=marker, s=size, zorder=4,
                   color=[colors[i] for i in hit.index], edgecolors="black", linewidths=0.8)  # fmt: skip
    ax.axvline(end, color="0.4", ls=":", lw=1)
    _labels(ax, rows, y, _labelled(rows, run, top), fig, end)
    ax.set_xlim(rows["origin"].min() - 0.01 * max(end, 1), end * 1.16 + 1)
    ax.set_ylim(y.min() - 1, 1)
    ax.set_yticks([])
    counts = rows.groupby("founder_rank").size()
    roots = rows[rows["id"] == rows["parent"]].set_index("founder_rank")["name"]
    handles: list[Artist] = [Patch(color=founder_color(r), label=f"{roots[r]} lineage ({counts[r]} species)")
               for r in counts.index]  # fmt: skip
    handles += [
        Line2D([], [], marker="^", ls="", color="white", markeredgecolor="black", markersize=8,
               label=f"detected intelligent ({int(rows['intelligent_at'].notna().sum())})"),
        Line2D([], [], marker="*", ls="", color="white", markeredgecolor="black", markersize=12,
               label=f"detected technological ({int(rows['technological_at'].notna().sum())})"),
        Line2D([], [], color="0.4", ls=":", label=f"end of the run (tick {end})"),
        Line2D([], [], color="0.2", lw=0.6, label="line width: peak population (log)"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8)
    ax.set_title(
        f"Species phylogeny against time — {run.config.get('name', '?')} seed "
        f"{run.config.get('sim', {}).get('seed', '?')}: {n} species. Each line runs from a "
        "species' origin to its extinction\n(or the end of the run); a vertical line joins it to "
        "its parent species. Named: founders, detected species and the largest "
        f"{top} per lineage (if there is room).",
        fontsize=10,
    )
    return fig


def _labels(ax, rows: pd.DataFrame, y: np.ndarray, ids: list[int], fig: Figure, end: int) -> None:
    """Name species at the end of their line, skipping a name that would overlap one already placed."""
    fontsize = 7.5
    row_pt = fig.get_figheight() * 72 * 0.85 / max(len(rows), 1)  # points per row, roughly
    gap = max(1, int(np.ceil(fontsize * 1.2 / row_pt)))
    # a label is ~0.6 em per character wide; in ticks, across ~85% of the figure width
    tick_per_pt = (end * 1.17 + 1) / (fig.get_figwidth() * 72 * 0.85)
    placed: list[tuple[float, float, float]] = []  # (row, x0, x1)
    by_id = rows.set_index("id")
    for sid in ids:
        r = by_id.loc[sid]
        x0 = float(r["end"])
        x1 = x0 + len(str(r["name"])) * fontsize * 0.6 * tick_per_pt
        if any(abs(r["row"] - pr) < gap and x0 < b and a < x1 for pr, a, b in placed):
            continue
        placed.append((r["row"], x0, x1))
        ax.annotate(str(r["name"]), (x0, y[int(r["row"])]), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=fontsize,
                    bbox={"fc": "white", "alpha": 0.75, "lw": 0, "pad": 0.4})  # fmt: skip
