"""Neural compute of a finished run, as columns of runs.csv and clades.csv (docs/model.md §7.15).

Read from ``summary.json`` ``compute.neural`` and ``first_<kind>`` (a run written before the
measure existed gives NaN). The ratios compare the compute to the first technological species
with the compute to the first intelligent one, by the activity count (``flop``) and by neural
compute (the configured k, and k = 1, 2, 3); they are defined where both detections happened.
"""

from __future__ import annotations

import math

#: The exponents every run keeps (keys of ``compute.neural.flop_k``).
K_KEYS = ("k1", "k2", "k3")
#: runs.csv columns added by :func:`run_columns`.
RUN_COLUMNS = [
    "neural_flop_total",
    *(
        f"first_{kind}_neural_flop{r}"
        for kind in ("intelligent", "technological")
        for r in ("", "_r")
    ),
    *(f"first_{kind}_neural_{k}" for kind in ("intelligent", "technological") for k in K_KEYS),
    "tech_intel_flop_ratio",
    "tech_intel_neural_ratio",
    *(f"tech_intel_neural_ratio_{k}" for k in K_KEYS),
]
#: clades.csv columns added by :func:`clade_columns`.
CLADE_COLUMNS = [
    "neural_flop",
    "neural_flop_to_first_intelligent",
    "neural_flop_to_first_technological",
]


def _ratio(a: float, b: float) -> float:
    """``b / a``; NaN unless both are defined and ``a`` > 0."""
    return b / a if a > 0 and not math.isnan(b) else math.nan


def run_columns(s: dict) -> dict[str, float]:
    """The :data:`RUN_COLUMNS` of one run from its summary ``s``: the world's neural compute in
    all and to each first detection (``_r``: restricted, the total if it never happened), the
    same for k = 1, 2, 3, and the ratios first technological / first intelligent."""
    nc = (s.get("compute") or {}).get("neural") or {}
    total = float(nc.get("flop", math.nan))
    out = {"neural_flop_total": total}
    for kind in ("intelligent", "technological"):
        to = nc.get(f"to_first_{kind}") or {}
        f = float(to.get("flop", math.nan))
        out[f"first_{kind}_neural_flop"] = f
        out[f"first_{kind}_neural_flop_r"] = total if math.isnan(f) else f
        for k in K_KEYS:
            out[f"first_{kind}_neural_{k}"] = float((to.get("flop_k") or {}).get(k, math.nan))
    fi, ft = s.get("first_intelligent") or {}, s.get("first_technological") or {}
    out["tech_intel_flop_ratio"] = _ratio(
        float(fi.get("flop", math.nan)), float(ft.get("flop", math.nan))
    )
    out["tech_intel_neural_ratio"] = _ratio(
        out["first_intelligent_neural_flop"], out["first_technological_neural_flop"]
    )
    for k in K_KEYS:
        out[f"tech_intel_neural_ratio_{k}"] = _ratio(
            out[f"first_intelligent_neural_{k}"], out[f"first_technological_neural_{k}"]
        )
    return {c: out[c] for c in RUN_COLUMNS}


def clade_columns(s: dict, clade: str) -> dict[str, float]:
    """The :data:`CLADE_COLUMNS` of founding lineage ``clade`` (its root species' name): its
    neural compute in all and up to the first intelligent and first technological detection
    (of any lineage; NaN if none)."""
    nc = (s.get("compute") or {}).get("neural") or {}

    def of(part: dict | None) -> float:
        return float((part or {}).get("flop_by_clade", {}).get(clade, math.nan))

    return {
        "neural_flop": of(nc),
        "neural_flop_to_first_intelligent": of(nc.get("to_first_intelligent")),
        "neural_flop_to_first_technological": of(nc.get("to_first_technological")),
    }
