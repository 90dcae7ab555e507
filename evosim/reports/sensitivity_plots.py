"""PNG plots of a sweep report and of re-detection at other thresholds (matplotlib, Agg backend)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from evosim.analysis.style import say, suptitle, wrap  # noqa: E402
from evosim.io.files import atomic_write_bytes  # noqa: E402
from evosim.reports.sensitivity_data import INDEX_MEANING, SweepReport  # noqa: E402
from evosim.reports.sensitivity_indices import INDICES, METHOD  # noqa: E402

KEY = (
    ("intelligent", "intelligent species / replicate"),
    ("technological", "technological species / replicate"),
    ("p_technological", "P(a technological species)"),
    ("km_median_ticks_to_technological", "median ticks to technology (Kaplan–Meier; no interval)"),
    ("technological_share_settled", "share technological at the plateau"),
)
#: Outcomes of :data:`KEY` that are probabilities or shares (drawn on 0-1).
SHARES = {"p_technological", "technological_share_settled"}
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
#: How a sample whose value is infinite (a median not reached by the horizon) or undefined is drawn.
NOT_REACHED = {"marker": "^", "s": 34, "facecolors": "none", "linewidths": 1.2, "zorder": 4}
UNDEFINED = {"marker": "x", "s": 26, "color": "0.35", "linewidths": 1.0, "zorder": 4}


def _save(fig, path: Path) -> Path:
    """Write the figure atomically (a half-written PNG is never left behind)."""
    buf = io.BytesIO()
    fig.savefig(buf, dpi=110, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _horizons(rep: SweepReport) -> pd.Series:
    """The horizon (ticks) of each (sample, arm): the longest of its runs."""
    r = rep.runs
    if not len(r) or "horizon" not in r:
        return pd.Series(dtype=float)
    return r.groupby(["sample", "arm"])["horizon"].max().astype(float)


def outcomes_figure(rep: SweepReport) -> Figure:
    """The key outcomes of each sample against each parameter, one colour per arm (x jittered by arm).

    Each sample is drawn at its mean over its replicates with its 95% bootstrap interval (from
    samples.csv). A median that is not reached by the horizon is drawn as a hollow ▲ at the horizon
    (dotted line); an undefined value (nothing to measure at that sample) as a grey × in a shaded
    "undefined" strip under the values, so no sample is left out and every panel of a column spans
    the same x range (the parameter's bounds).
    """
    names = rep.names
    s = rep.samples
    horizon = _horizons(rep)
    ncol = len(names)
    fig, axes = plt.subplots(
        len(KEY), ncol, figsize=(max(3.0 * ncol + 1.0, 6.4), 2.3 * len(KEY) + 1.2),
        squeeze=False, sharex="col", layout="constrained",
    )  # fmt: skip
    special: dict[str, bool] = {"inf": False, "nan": False}
    for j, name in enumerate(names):
        lo, hi = rep.design["problem"]["bounds"][j]
        log = rep.design["problem"]["dists"][j] == "logunif"
        for r, (m, label) in enumerate(KEY):
            ax = axes[r, j]
            undefined: list[float] = []
            for a_i, arm in enumerate(rep.arms):
                d = s[(s["arm"] == arm) & (s["replicates"] > 0)] if len(s) else s
                if m not in d or not len(d):
                    continue
                color = COLORS[a_i % len(COLORS)]
                x = d[name].to_numpy(np.float64)
                jitter = (a_i - (len(rep.arms) - 1) / 2) * 0.012
                x = x * (1 + jitter) if log else x + jitter * (hi - lo)
                v = d[m].to_numpy(np.float64)
                ok = np.isfinite(v)
                if f"{m}_low" in d and f"{m}_high" in d:
                    low = d[f"{m}_low"].to_numpy(np.float64)
                    high = d[f"{m}_high"].to_numpy(np.float64)
                    # an interval end that is infinite or undefined is drawn at the value
                    err = np.vstack([np.where(np.isfinite(low), v - low, 0.0),
                                     np.where(np.isfinite(high), high - v, 0.0)])  # fmt: skip
                    err = np.clip(np.nan_to_num(err[:, ok]), 0.0, None)
                else:
                    err = None
                ax.errorbar(x[ok], v[ok], yerr=err, fmt="o", ms=4, color=color, alpha=0.8,
                            elinewidth=1, capsize=2, label=arm)  # fmt: skip
                inf = np.isposinf(v)
                if inf.any():  # a median not reached: at the horizon of its sample
                    special["inf"] = True
                    at = [horizon.get((int(i), arm), np.nan) for i in d["sample"][inf]]
                    ax.scatter(x[inf], at, edgecolors=color, **NOT_REACHED)
                    for h in set(a for a in at if np.isfinite(a)):
                        ax.axhline(h, color="0.5", ls=":", lw=0.9)
                undefined += list(x[np.isnan(v)])
            if log:
                ax.set_xscale("log")
                ax.set_xticks(np.geomspace(lo, hi, 4))
                ax.xaxis.set_major_formatter(
                    matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.2g}")
                )
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
                ax.set_xlim(lo / (hi / lo) ** 0.05, hi * (hi / lo) ** 0.05)
            else:
                ax.set_xlim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
            if m in SHARES:  # probabilities and shares on their whole scale, counts from 0
                ax.set_ylim(-0.05, 1.05)
            elif m != "km_median_ticks_to_technological":  # a count: from 0, a 0 drawn whole
                ax.set_ylim(-0.04 * ax.get_ylim()[1], ax.get_ylim()[1])
            if undefined:  # in a strip of their own under the values
                special["nan"] = True
                y0, y1 = ax.get_ylim()
                at = y0 - 0.1 * (y1 - y0)
                ax.set_ylim(y0 - 0.18 * (y1 - y0), y1)
                ax.axhspan(y0 - 0.18 * (y1 - y0), y0, color="0.93", zorder=0)
                ax.scatter(undefined, np.full(len(undefined), at), **UNDEFINED)
                ticks = [t for t in ax.get_yticks() if y0 <= t <= y1]
                ax.set_yticks([at, *ticks], ["undefined", *(f"{t:g}" for t in ticks)])
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel(wrap(label, 2.0, 8), fontsize=8)
            if r == len(KEY) - 1:
                ax.set_xlabel(name, fontsize=8)
            ax.tick_params(labelsize=7)
    handles = [Line2D([], [], marker="o", ls="-", color=COLORS[i % len(COLORS)], ms=4, label=arm)
               for i, arm in enumerate(rep.arms)]  # fmt: skip
    if special["inf"]:
        handles.append(Line2D([], [], marker="^", ls=":", color="0.5", mfc="none", ms=6,
                              label="median not reached by the horizon (drawn at it)"))  # fmt: skip
    if special["nan"]:
        handles.append(Line2D([], [], marker="x", ls="", color="0.35", ms=6,
                              label="undefined at that sample (nothing to measure there)"))  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 2), fontsize=7)
    suptitle(fig, f"{rep.name}: each sample's outcome (mean over its replicates, "
                  "with its 95% bootstrap interval)", fontsize=9)  # fmt: skip
    return fig


def plot_outcomes(rep: SweepReport, path: Path) -> Path:
    """Write :func:`outcomes_figure` to ``path``."""
    return _save(outcomes_figure(rep), path)


def indices_figure(rep: SweepReport) -> Figure:
    """Bar chart of the design's main index per parameter (with its interval where SALib gives one).

    One panel per key outcome; a panel whose outcome was not analysed (undefined or infinite at
    some sample) or is constant over the design says so instead of drawing empty bars. The y axis
    says what the index is.
    """
    sampler = rep.design["sampler"]
    cols = INDICES[sampler]
    main, conf = cols[0], (cols[1] if cols[1].endswith("_conf") else None)
    second = {"morris": "sigma", "sobol": "S1"}.get(sampler)
    axis, meaning, _ = INDEX_MEANING[sampler]
    sens = rep.sensitivity
    panels = [(rep.control, "value", m, label.replace("; no interval", "")) for m, label in KEY] + [
        (a, "diff", "technological", f"technological: {a} − {rep.control}")
        for a in rep.arms
        if a != rep.control
    ]
    names = rep.names
    width = max(2.4, 0.9 + 0.55 * len(names))
    fig, axes = plt.subplots(1, len(panels), figsize=(width * len(panels) + 0.6, 4.2),
                             squeeze=False, layout="constrained")  # fmt: skip
    x = np.arange(len(names))
    w = 0.4 if second else 0.8
    for ax, (arm, kind, m, label) in zip(axes[0], panels):
        d = sens[(sens["arm"] == arm) & (sens["kind"] == kind) & (sens["outcome"] == m)]
        d = d.set_index("parameter").reindex(names)
        v = d[main].to_numpy(np.float64) if len(d) else np.full(len(names), np.nan)
        notes = [n for n in d["note"] if isinstance(n, str) and n] if "note" in d else []
        note = notes[0] if notes else ("no data" if not np.isfinite(v).any() else "")
        skip = note.startswith("not analysed") or note == "no data" or note.startswith("constant")
        ax.set_title(wrap(f"{label} ({arm})" if kind == "value" else label, width - 0.2, 9),
                     fontsize=9)  # fmt: skip
        ax.set_xticks(x, names, rotation=35, ha="right", fontsize=7)
        ax.set_xlim(-0.6, len(names) - 0.4)
        if skip:  # words, not empty bars at 0
            why = (
                "constant over the design:\nno parameter moves it"
                if note.startswith("constant")
                else note
            )
            say(ax, wrap(why.replace("not analysed: ", "not analysed:\n"), width - 0.4, 9))
            ax.set_yticks([])
            continue
        ax.set_ylabel(axis, fontsize=8)
        err = d[conf].to_numpy(np.float64) if conf else None
        ax.bar(x - (w / 2 if second else 0), np.nan_to_num(v), w, capsize=3, color=COLORS[0],
               yerr=None if err is None else np.nan_to_num(err), label=main)  # fmt: skip
        if second:
            ax.bar(x + w / 2, np.nan_to_num(d[second].to_numpy(np.float64)), w, color=COLORS[1],
                   label=second)  # fmt: skip
        if sampler == "grid" and "effect_range" in d:  # the effect in the outcome's own units
            for xi, vi, ri in zip(x, v, d["effect_range"].to_numpy(np.float64)):
                if np.isfinite(vi) and np.isfinite(ri):
                    ax.annotate(f"range {ri:.3g}", (xi, vi), xytext=(0, 3),
                                textcoords="offset points", ha="center", fontsize=7)  # fmt: skip
        ylo, yhi = ax.get_ylim()  # room for the labels; a variance share on its 0-1 scale
        ax.set_ylim(min(ylo, 0.0), max(yhi * 1.08, 0.0 if sampler == "morris" else 1.0))
        ax.grid(alpha=0.3, axis="y")
    handles = [Patch(color=COLORS[0], label=main + (f" (± {conf})" if conf else ""))]
    if second:
        handles.append(Patch(color=COLORS[1], label=second))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8)
    suptitle(fig, f"{rep.name}: sensitivity indices ({METHOD[sampler]}) of each key outcome\n{meaning}",
             fontsize=9)  # fmt: skip
    return fig


def plot_indices(rep: SweepReport, path: Path) -> Path:
    """Write :func:`indices_figure` to ``path``."""
    return _save(indices_figure(rep), path)


def plot_thresholds(df: pd.DataFrame, path: Path, by: str = "arm") -> Path:
    """Species per replicate against each re-detection threshold, one line per arm (a sweep: mean over samples)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    labels = {
        "brain_threshold": ("detectors.brain_threshold", "intelligent species / replicate"),
        "tech_share": ("detectors.tech_share", "technological species / replicate"),
    }
    for ax, det in zip(axes, labels):
        d = df[df["detector"] == det]
        for arm, g in d.groupby(by, sort=False):
            m = g.groupby("value")["species_per_replicate"].mean()
            ax.plot(m.index, m.to_numpy(), marker="o", ms=3, label=str(arm))
        ax.set_xlabel(labels[det][0])
        ax.set_ylabel(labels[det][1])
        ax.grid(alpha=0.3)
        if not math.isnan(float(d["species_per_replicate"].max() if len(d) else math.nan)):
            ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        "Detections recomputed from the logs at other thresholds (docs/experiments.md)", fontsize=10
    )
    fig.tight_layout()
    return _save(fig, path)


def plot_sweep(rep: SweepReport, out: Path) -> list[Path]:
    """outcomes.png, sensitivity.png and thresholds.png of a sweep report."""
    files = [plot_outcomes(rep, out / "outcomes.png"), plot_indices(rep, out / "sensitivity.png")]
    if len(rep.thresholds):
        files.append(plot_thresholds(rep.thresholds, out / "thresholds.png"))
    return files
