"""Sensitivity indices of a sweep's outcomes, by the design's sampler (docs/experiments.md, "Reading the indices").

* morris -- SALib.analyze.morris: mu, mu_star, sigma, mu_star_conf;
* sobol -- SALib.analyze.sobol: S1, S1_conf, ST, ST_conf (first-order and total);
* latin -- SALib.analyze.rbd_fast: S1, S1_conf;
* grid -- SALib has no analyzer for a full-factorial grid of more than two
  levels, so the classical main effect of an ANOVA on the grid is given:
  ``main_effect`` = Var over the parameter's levels of the mean outcome at that
  level (the others averaged over) / Var of the outcome, and ``effect_range``
  = the largest minus the smallest of those level means.

An outcome undefined or infinite at some sample (no finished run there, a
metric defined only where something happened, n = inf) is not analysed; its
rows say why.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

#: Index columns per sampler, in sensitivity.csv's order; the first is the one tables and bar charts show.
INDICES = {
    "morris": ["mu_star", "mu_star_conf", "mu", "sigma"],
    "sobol": ["ST", "ST_conf", "S1", "S1_conf"],
    "latin": ["S1", "S1_conf"],
    "grid": ["main_effect", "effect_range"],
}
METHOD = {
    "morris": "SALib morris",
    "sobol": "SALib sobol",
    "latin": "SALib rbd_fast",
    "grid": "grid main effect",
}
#: Resamples and level of the confidence intervals SALib bootstraps.
RESAMPLES, CONF_LEVEL = 1000, 0.95


def _problem(design: dict) -> dict:
    p = design["problem"]
    return {
        "num_vars": p["num_vars"],
        "names": list(p["names"]),
        "bounds": p["bounds"],
        "dists": p["dists"],
    }


def analyse(design: dict, y: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """The design's sensitivity indices of outcome ``y`` (one value per sample, in the design's order)."""
    x = np.asarray(design["matrix"], np.float64)
    problem = _problem(design)
    s = design["sampler"]
    with (
        warnings.catch_warnings()
    ):  # SALib divides by a zero variance for a constant outcome (gives 0 or nan)
        warnings.simplefilter("ignore", RuntimeWarning)
        if s == "morris":
            from SALib.analyze import morris

            si = morris.analyze(
                problem,
                x,
                y,
                num_resamples=RESAMPLES,
                conf_level=CONF_LEVEL,
                num_levels=design["levels"],
                seed=seed,
            )
        elif s == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(
                problem,
                y,
                calc_second_order=design["second_order"],
                num_resamples=RESAMPLES,
                conf_level=CONF_LEVEL,
                seed=seed,
            )
        elif s == "latin":
            from SALib.analyze import rbd_fast

            # SALib's default of 10 harmonics needs more than 20 samples (its bias correction divides by 1 - 2M/N)
            si = rbd_fast.analyze(
                problem,
                x,
                y,
                M=rbd_harmonics(len(y)),
                num_resamples=RESAMPLES,
                conf_level=CONF_LEVEL,
                seed=seed,
            )
        else:
            return grid_main_effects(x, y)
    return {k: np.asarray(si[k], np.float64) for k in INDICES[s]}


def rbd_harmonics(n: int) -> int:
    """RBD-FAST's interference parameter M for ``n`` samples: SALib's 10, or fewer so that 2M < n."""
    return max(1, min(10, (n - 1) // 2))


def grid_main_effects(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Main effects on a full-factorial grid: per parameter, the variance (and range) of the level means of ``y``."""
    var = float(np.var(y))
    eff, rng = [], []
    for j in range(x.shape[1]):
        means = pd.Series(y).groupby(x[:, j]).mean().to_numpy()
        eff.append(float(np.var(means)) / var if var > 0 else 0.0)
        rng.append(float(means.max() - means.min()))
    return {"main_effect": np.asarray(eff), "effect_range": np.asarray(rng)}


def sensitivity_table(
    samples: pd.DataFrame,
    design: dict,
    arms: list[str],
    control: str,
    metrics: list[tuple[str, str]],
    seed: int = 0,
) -> pd.DataFrame:
    """One row per outcome and parameter: the design's indices (``INDICES[sampler]``), or a note why none.

    Outcomes: each metric of each arm (kind ``value``) and each other arm's difference from the control
    (kind ``diff``).
    """
    names = design["problem"]["names"]
    n = len(design["matrix"])
    s = design["sampler"]
    cols = INDICES[s]
    rows = []
    for a in arms:
        d = samples[samples["arm"] == a].set_index("sample").reindex(range(n))
        for m, label in metrics:
            for kind, col in (("value", m), ("diff", f"{m}_diff")):
                if kind == "diff" and a == control:
                    continue
                y = d[col].to_numpy(np.float64) if col in d else np.full(n, np.nan)
                note = ""
                if np.isnan(y).any():
                    note = f"not analysed: undefined at {int(np.isnan(y).sum())} of {n} samples"
                elif np.isinf(y).any():
                    note = f"not analysed: infinite at {int(np.isinf(y).sum())} of {n} samples"
                elif s == "latin" and n < 3:
                    note = "not analysed: rbd_fast needs at least 3 samples"
                idx = (
                    analyse(design, y, seed)
                    if not note
                    else {c: np.full(len(names), np.nan) for c in cols}
                )
                if not note and np.ptp(y) == 0:
                    note = "constant over the design"
                for j, p in enumerate(names):
                    rows.append(
                        {
                            "outcome": m,
                            "label": label,
                            "arm": a,
                            "kind": kind,
                            "parameter": p,
                            "method": METHOD[s],
                            **{c: float(idx[c][j]) for c in cols},
                            "samples": n,
                            "note": note,
                        }
                    )
    return pd.DataFrame(
        rows,
        columns=[
            "outcome",
            "label",
            "arm",
            "kind",
            "parameter",
            "method",
            *cols,
            "samples",
            "note",
        ],
    )
