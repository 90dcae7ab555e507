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

from evosim.io.files import atomic_write_bytes  # noqa: E402
from evosim.reports.sensitivity_data import SweepReport  # noqa: E402
from evosim.reports.sensitivity_indices import INDICES  # noqa: E402

KEY = (
    ("intelligent", "intelligent species / replicate"),
    ("technological", "technological species / replicate"),
    ("p_technological", "P(a technological species)"),
    ("km_median_ticks_to_technological", "median ticks to technology (KM)"),
    ("technological_share_settled", "share technological at the plateau"),
)


def _save(fig, path: Path) -> Path:
    """Write the figure atomically (a half-written PNG is never left behind)."""
    buf = io.BytesIO()
    fig.savefig(buf, dpi=110, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def plot_outcomes(rep: SweepReport, path: Path) -> Path:
    """The key outcomes of each sample against each parameter, one colour per arm (x jittered by arm)."""
    names = rep.names
    s = rep.samples
    ncol = len(names)
    fig, axes = plt.subplots(
        len(KEY), ncol, figsize=(2.6 * ncol + 0.8, 2.3 * len(KEY)), squeeze=False
    )
    for j, name in enumerate(names):
        lo, hi = rep.design["problem"]["bounds"][j]
        log = rep.design["problem"]["dists"][j] == "logunif"
        for r, (m, label) in enumerate(KEY):
            ax = axes[r, j]
            for a_i, arm in enumerate(rep.arms):
                d = s[(s["arm"] == arm) & (s["replicates"] > 0)]
                if m not in d:
                    continue
                x = d[name].to_numpy(np.float64)
                jitter = (a_i - (len(rep.arms) - 1) / 2) * 0.012
                x = x * (1 + jitter) if log else x + jitter * (hi - lo)
                ax.scatter(x, d[m], s=12, alpha=0.7, label=arm)
            if log:
                ax.set_xscale("log")
                ax.set_xticks(np.geomspace(lo, hi, 4))
                ax.xaxis.set_major_formatter(
                    matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.2g}")
                )
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
            if r == len(KEY) - 1:
                ax.set_xlabel(name, fontsize=8)
            ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{rep.name}: each sample's outcome (mean over replicates)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_indices(rep: SweepReport, path: Path) -> Path:
    """Bar chart of the design's main index per parameter (with its interval where SALib gives one)."""
    cols = INDICES[rep.design["sampler"]]
    main, conf = cols[0], (cols[1] if cols[1].endswith("_conf") else None)
    second = {"morris": "sigma", "sobol": "S1"}.get(rep.design["sampler"])
    sens = rep.sensitivity
    panels = [(rep.control, "value", m, label) for m, label in KEY] + [
        (a, "diff", "technological", f"technological: {a} − {rep.control}")
        for a in rep.arms
        if a != rep.control
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.6), squeeze=False)
    names = rep.names
    x = np.arange(len(names))
    for ax, (arm, kind, m, label) in zip(axes[0], panels):
        d = sens[(sens["arm"] == arm) & (sens["kind"] == kind) & (sens["outcome"] == m)].set_index(
            "parameter"
        )
        d = d.reindex(names)
        v = d[main].to_numpy(np.float64) if len(d) else np.full(len(names), np.nan)
        w = 0.4 if second else 0.8
        err = d[conf].to_numpy(np.float64) if conf and len(d) else None
        ax.bar(
            x - (w / 2 if second else 0),
            np.nan_to_num(v),
            w,
            yerr=None if err is None else np.nan_to_num(err),
            capsize=3,
            label=main,
        )
        if second and len(d):
            ax.bar(x + w / 2, np.nan_to_num(d[second].to_numpy(np.float64)), w, label=second)
        note = d["note"].iloc[0] if len(d) and isinstance(d["note"].iloc[0], str) else ""
        if note.startswith("not analysed") or not np.isfinite(v).any():
            ax.text(
                0.5,
                0.5,
                note or "no data",
                ha="center",
                va="center",
                transform=ax.transAxes,
                fontsize=8,
                wrap=True,
            )
        ax.set_xticks(x, names, rotation=35, ha="right", fontsize=7)
        ax.set_title(f"{label} ({arm})" if kind == "value" else label, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{rep.name}: sensitivity indices ({rep.design['sampler']} design)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


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
