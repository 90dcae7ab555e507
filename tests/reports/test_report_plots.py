"""The report PNGs read at a glance: titles inside the figure, legends over no data, every sample
drawn (with its interval), and words where a panel has nothing to draw (the QA pass of the reports)."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.patches import Rectangle

from evosim.reports.bottlenecks_plots import bottlenecks_figure
from evosim.reports.outcomes_plots import outcomes_figure, trajectories_figure
from evosim.reports.replay_plots import causal_figure
from evosim.reports.sensitivity import INDEX_MEANING, level_tables, markdown
from evosim.reports.sensitivity_data import SweepReport
from evosim.reports.sensitivity_indices import sensitivity_table
from evosim.reports.sensitivity_plots import KEY, indices_figure
from evosim.reports.sensitivity_plots import outcomes_figure as sweep_figure
from evosim.reports.survival_plots import clade_incidence_figure, n_by_tick_figure


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def inside(fig, artist, box=None) -> bool:
    """Whether ``artist`` is drawn within ``box`` (default: the figure), to a pixel."""
    fig.draw_without_rendering()
    ext = artist.get_window_extent()
    box = fig.bbox if box is None else box
    return (ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1 and ext.y0 >= box.y0 - 1
            and ext.y1 <= box.y1 + 1)  # fmt: skip


def titles(fig) -> list:
    """The figure's title and every axes title that has text."""
    out = [fig._suptitle] if fig._suptitle is not None else []
    return out + [ax.title for ax in fig.axes if ax.get_title()]


def texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


# ---------------------------------------------------------------- a sweep
P = "traits.brain.upkeep"
LEVELS = [0.05, 0.1333, 0.2167, 0.3]
#: per level: P(tech) with its interval, technological / replicate, KM median (inf: not reached),
#: share technological at the plateau (nan: no decided clade)
AT = [(1.0, 1.0, 1.0, 1029.0, 1.0), (0.5, 0.0, 1.0, 1300.0, 1.0), (0.5, 0.0, 1.0, 1467.0, math.nan),
      (0.0, 0.0, 0.0, math.inf, 0.0)]  # fmt: skip
METRICS = [("intelligent", "intelligent species / replicate"),
           ("technological", "technological species / replicate"),
           ("p_technological", "P(a technological species)"),
           ("km_median_ticks_to_technological", "median ticks (KM)"),
           ("technological_share_settled", "share technological at the plateau")]  # fmt: skip


def sweep(name: str = "a sweep with a long name that would not fit one column") -> SweepReport:
    """A one-parameter grid sweep of four samples, two replicates each, one arm."""
    rows = []
    for i, (lvl, (p, lo, hi, med, share)) in enumerate(zip(LEVELS, AT)):
        rows.append({"sample": i, "arm": "control", P: lvl, "replicates": 2,
                     "intelligent": 2.0, "intelligent_low": 2.0, "intelligent_high": 2.0,
                     "technological": p, "technological_low": lo, "technological_high": hi,
                     "p_technological": p, "p_technological_low": lo, "p_technological_high": hi,
                     "km_median_ticks_to_technological": med,
                     "technological_share_settled": share, "technological_share_settled_low": share,
                     "technological_share_settled_high": share})  # fmt: skip
    samples = pd.DataFrame(rows)
    design = {"sampler": "grid", "seed": 0, "replicates": 2, "levels": 4, "matrix": [[x] for x in LEVELS],
              "problem": {"num_vars": 1, "names": [P], "bounds": [[0.05, 0.3]], "dists": ["unif"]}}  # fmt: skip
    runs = pd.DataFrame({"sample": [i for i in range(4) for _ in range(2)], "arm": "control",
                         "replicate": [0, 1] * 4, "ticks_run": 1500, "horizon": 1500})  # fmt: skip
    sens = sensitivity_table(samples, design, ["control"], "control", METRICS)
    return SweepReport(Path("."), name, ["control"], "control", design, runs, samples, sens,
                       pd.DataFrame(), METRICS)  # fmt: skip


def test_sweep_outcomes_title_fits_one_column_and_every_sample_is_drawn():
    """A one-parameter sweep: the title fits the narrow figure; intervals are drawn; a median not
    reached is drawn at the horizon and an undefined share in a strip of its own, so every panel
    of the column shows all four samples over the same x range (QA: the title was cut on both
    sides, no error bars, and the infinite median was silently dropped)."""
    fig = sweep_figure(sweep())
    for t in titles(fig):
        assert inside(fig, t), t.get_text()
    axes = fig.axes[: len(KEY)]
    assert len({ax.get_xlim() for ax in axes}) == 1
    lo, hi = axes[0].get_xlim()
    assert lo < LEVELS[0] and LEVELS[-1] < hi
    row = {m: ax for (m, _), ax in zip(KEY, axes)}
    # P(tech): the interval of each sample that has one ([0, 1] at the two middle levels)
    segs = [s for c in row["p_technological"].collections if isinstance(c, LineCollection)
            for s in c.get_segments()]  # fmt: skip
    spans = sorted((round(s[0][1], 6), round(s[1][1], 6)) for s in segs if len(s) == 2)
    assert spans.count((0.0, 1.0)) == 2
    # the KM median: three finite, and the fourth (not reached) as a marker at the horizon
    km = row["km_median_ticks_to_technological"]
    drawn = [
        tuple(p) for c in km.collections if isinstance(c, PathCollection) for p in c.get_offsets()
    ]
    assert any(abs(x - LEVELS[-1]) < 0.01 and y == 1500 for x, y in drawn), drawn
    assert km.get_ylim()[1] > 1500
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "not reached" in legend and "undefined" in legend
    share = row["technological_share_settled"]
    marks = [
        tuple(p)
        for c in share.collections
        if isinstance(c, PathCollection)
        for p in c.get_offsets()
    ]
    assert any(abs(x - LEVELS[2]) < 0.01 for x, _ in marks)  # the undefined sample, drawn
    assert "undefined" in [t.get_text() for t in share.get_yticklabels()]


def test_sensitivity_panels_say_what_the_index_is_and_why_one_is_empty():
    """The y axis names the index; a constant or not-analysed outcome gets words and no bars or
    error caps under them (QA: no y label; the note overlapped the markers; a constant outcome
    got an empty panel)."""
    fig = indices_figure(sweep())
    axes = fig.axes
    by = {m: ax for (m, _), ax in zip(KEY, axes)}
    axis_label = INDEX_MEANING["grid"][0]
    assert by["technological"].get_ylabel() == axis_label
    for m, why in (
        ("intelligent", "constant"),
        ("km_median_ticks_to_technological", "infinite at 1 of 4"),
    ):
        ax = by[m]
        assert why in "\n".join(t.get_text() for t in ax.texts), m
        assert not [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height()], m
        assert not [ln for ln in ax.lines if len(ln.get_xdata())], (
            m
        )  # no error caps under the words
    assert "÷ the outcome's variance" in fig._suptitle.get_text().replace("\n", " ")
    assert inside(fig, fig._suptitle)


def test_a_one_parameter_grid_summary_explains_the_index_and_tabulates_the_outcome():
    rep = sweep()
    text = markdown(rep)
    assert INDEX_MEANING["grid"][2] in text
    assert "With a single parameter it is 1 whenever the outcome varies" in text
    table = "\n".join(level_tables(rep))
    assert "| 0.05 | 2 | 1 [1, 1] | 2 [2, 2] | 1 [1, 1] | 1029 | 1 [1, 1] |" in table
    assert "| 0.1333 | 2 | 0.5 [0, 1] |" in table
    assert "| 0.3 | 2 | 0 [0, 0] | 2 [2, 2] | 0 [0, 0] | not reached (> 1500) | 0 [0, 0] |" in table
    assert "## The outcome at each grid value" in text
    rep.design = {**rep.design, "sampler": "morris"}
    assert level_tables(rep) == []


def test_a_two_parameter_grid_tabulates_level_means():
    rep = sweep()
    s = rep.samples.copy()
    s["culture.innovation_rate"] = [0.01, 0.02, 0.01, 0.02]
    s[P] = [0.05, 0.05, 0.3, 0.3]
    rep.samples = s
    rep.design = {
        **rep.design,
        "problem": {**rep.design["problem"], "names": [P, "culture.innovation_rate"]},
    }
    table = "\n".join(level_tables(rep))
    assert "| 0.05 | 4 | 0.75 |" in table  # P(tech) 1 and 0.5 averaged
    assert "| 0.3 | 4 | 0.25 | 2 | 0.25 | not reached at 1 of 2 |" in table


# ---------------------------------------------------------------- an experiment
def test_clade_incidence_with_no_intelligent_clade_keeps_its_title_and_says_so():
    clades = pd.DataFrame(columns=["arm", "replicate", "clade", "counted", "intelligent_at",
                                   "technological_at", "extinct_at", "end"])  # fmt: skip
    fig = clade_incidence_figure(clades, ["control", "manipulators"], "tiny")
    assert inside(fig, fig._suptitle)
    assert "no intelligent clade" in texts(fig)


def n_table(tech: bool) -> pd.DataFrame:
    ticks = np.arange(0, 1201, 100)
    rows = []
    for arm in ("control", "hands"):
        t = (ticks >= 800).astype(float) if tech and arm == "hands" else np.zeros(len(ticks))
        i = (ticks >= 100) * 2.0
        n = np.where(t > 0, i / np.maximum(t, 1e-9), math.inf)
        rows.append(pd.DataFrame({"arm": arm, "tick": ticks, "intelligent": i, "technological": t,
                                  "n": n, "n_low": n, "n_high": n}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_n_by_tick_without_a_technological_clade_says_so_and_marks_no_plateau():
    """QA: an empty −0.04…0.04 axis and a dotted plateau line at tick 0 when nothing had settled."""
    fig = n_by_tick_figure(
        n_table(tech=False), ["control", "hands"], "tiny", {"control": 0.0, "hands": 0.0}
    )
    top, bottom = fig.axes[:2]
    assert "no technological clade in this experiment" in "\n".join(t.get_text() for t in top.texts)
    assert not top.lines and len(top.get_yticks()) == 0
    assert bottom.get_ylim()[0] <= 0 < 2.0 < bottom.get_ylim()[1]
    # with one: its n and its plateau drawn, the other arm named as without one, the legend above the counts
    fig = n_by_tick_figure(
        n_table(tech=True), ["control", "hands"], "tiny", {"control": 0.0, "hands": 900.0}
    )
    top, bottom = fig.axes[:2]
    assert [ln.get_xdata()[0] for ln in top.lines if len(set(ln.get_xdata())) == 1] == [900.0]
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert labels == ["control: no technological clade (n = ∞ throughout)", "hands"]
    fig.draw_without_rendering()
    leg = bottom.get_legend().get_window_extent()
    top_line = bottom.transData.transform((0, 2.0))[1]
    assert leg.y0 > top_line


class FakeReport(SimpleNamespace):
    def result(self, arm: str, metric: str) -> pd.Series:
        v = self.values.get(metric, 1.0)
        return pd.Series({"value": v, "ci_low": v * 0.9, "ci_high": v * 1.1})


def bars_under(ax, leg) -> list:
    box = leg.get_window_extent()
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0
            and p.get_window_extent().overlaps(box)]  # fmt: skip


def test_outcome_legends_cover_no_bar():
    """QA: the legend of the experiment's outcomes.png covered a bar."""
    rep = FakeReport(name="qa_exp", arms=["control", "hands"],
                     values={"intelligent_clades": 2.0, "technological_clades": 1.0, "lost_clades": 0.0,
                             "n_clades": 2.0, "n": 2.0, "p_technological": 1.0, "stuck_share": 0.5,
                             "flop_to_first_intelligent_rmean": 1.3e9,
                             "flop_to_first_technological_rmean": 1.6e10})  # fmt: skip
    fig = outcomes_figure(rep)
    fig.draw_without_rendering()
    legends = [(ax, ax.get_legend()) for ax in fig.axes if ax.get_legend() is not None]
    assert len(legends) == 5
    for ax, leg in legends:
        assert not bars_under(ax, leg), ax.get_title()
        assert inside(fig, leg, ax.bbox)
    for t in titles(fig):
        assert inside(fig, t)


def test_bottleneck_legend_covers_no_bar():
    stuck = pd.DataFrame({"arm": ["control", "control", "hands", "hands"],
                          "bottleneck": ["dexterity", "dexterity", "land", "land"]})  # fmt: skip
    rep = SimpleNamespace(arms=["control", "hands"], bottlenecks=["dexterity", "land"], stuck=stuck)
    fig = bottlenecks_figure(rep)
    fig.draw_without_rendering()
    ax = fig.axes[0]
    assert not bars_under(ax, ax.get_legend())


def test_trajectories_of_one_arm_keep_their_title():
    tr = pd.DataFrame(columns=["arm", "replicate", "species", "tick", "mean_brain", "mean_skill",
                               "technological"])  # fmt: skip
    rep = SimpleNamespace(arms=["control"], trajectories=tr,
                          config={"detectors": {"brain_threshold": 0.6},
                                  "technology": {"ladder": [{"name": "fire", "threshold": 2}]}})  # fmt: skip
    fig = trajectories_figure(rep)
    assert inside(fig, fig._suptitle)
    assert inside(fig, fig.legends[0])


def test_causal_labels_stay_inside_the_frame():
    """QA: "no fit" labels of the first and last rows were cut by the frame."""
    table = pd.DataFrame({"clade": ["control/rep-0/cetacean"] * 2, "relief": ["hands", "hands_fire"],
                          "diff": [0.0, 0.0], "diff_low": [-0.66, -0.66], "diff_high": [0.66, 0.66],
                          "hr": [math.nan, math.inf], "hr_low": [math.nan] * 2, "hr_high": [math.nan] * 2,
                          "verdict": ["no effect detected"] * 2})  # fmt: skip
    fig = causal_figure(table, "qa_replay")
    hx = fig.axes[1]
    assert len(hx.texts) == 2
    for t in hx.texts:
        assert inside(fig, t, hx.bbox), t.get_text()
