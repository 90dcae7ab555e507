"""Neural compute in the experiment report (issue 24, item 4): runs.csv and clades.csv columns, the
ratio of the compute to the first technological over the first intelligent species by both
measures, and the k-sensitivity row."""

from __future__ import annotations

import json
import math

import pytest

from evosim.reports.outcomes import build_report
from tests.reports.test_outcomes import PRIMATE, sp, value, write_run


def add_neural(folder, intel: float | None, tech: float | None, total: float) -> None:
    """Give a written run's summary a ``compute.neural`` block: neural FLOP ``intel`` / ``tech`` at
    the first detections (k = 1, configured); k = 2 and 3 give half and a quarter of them."""
    path = folder / "summary.json"
    s = json.loads(path.read_text())

    def part(f: float | None, clade: float) -> dict | None:
        if f is None:
            return None
        return {"flop": f, "flop_k": {"k1": f, "k2": f / 2, "k3": f / 4},
                "flop_by_clade": {"primate": clade * f}}  # fmt: skip

    s["compute"]["neural"] = {
        "flop_per_agent_tick": 1.0, "exponent": 1.0, **part(total, 0.5),
        "to_first_intelligent": part(intel, 0.25), "to_first_technological": part(tech, 0.75),
    }  # fmt: skip
    path.write_text(json.dumps(s))


def test_ratios_by_both_measures_and_the_k_row(tmp_path):
    # write_run logs compute t * 1e10 at a detection at tick t: activity ratios 300/100, 200/100
    plan = {
        "control": [(sp("primate", PRIMATE, 100, 300), (1.0, 6.0, 8.0)),
                    (sp("primate", PRIMATE, 100, 200), (2.0, 8.0, 9.0)),
                    (sp("primate", PRIMATE, 100), (1.0, None, 5.0))],
    }  # fmt: skip
    for arm, runs in plan.items():
        for k, (species, neural) in enumerate(runs):
            folder = tmp_path / "exp" / arm / f"rep-{k}"
            write_run(folder, [species])
            add_neural(folder, *neural)
    rep = build_report(tmp_path / "exp", n_boot=200, seed=1)
    r = rep.runs.set_index("replicate")
    assert r["tech_intel_flop_ratio"].tolist()[:2] == [3.0, 2.0]
    assert r["tech_intel_neural_ratio"].tolist()[:2] == [6.0, 4.0]
    assert math.isnan(r.loc[2, "tech_intel_neural_ratio"])  # never technological
    assert r.loc[2, "first_technological_neural_flop_r"] == 5.0  # restricted: its total
    assert r.loc[0, "first_technological_neural_k3"] == 6.0 / 4
    expected = {"tech_vs_intel_flop": 2.5, "tech_vs_intel_neural": 5.0,
                "tech_vs_intel_neural_k1": 5.0, "tech_vs_intel_neural_k2": 5.0,
                "neural_to_first_intelligent_rmean": 4 / 3,
                "neural_to_first_technological_rmean": (6 + 8 + 5) / 3}  # fmt: skip
    for metric, v in expected.items():
        assert value(rep, "control", metric) == pytest.approx(v), metric
    assert rep.result("control", "tech_vs_intel_neural")["replicates_defined"] == 2
    c = rep.clades.set_index("replicate")
    assert c.loc[0, "neural_flop"] == 4.0 and c.loc[0, "neural_flop_to_first_technological"] == 4.5
    md = rep.markdown
    assert (
        "| compute to first technological ÷ to first intelligent, neural FLOP | 5 [4, 6] (in 2) |"
        in md
    )
    assert "| same ratio, neural FLOP with k = 1 / 2 / 3 | 5 / 5 / 5 |" in md


def test_runs_written_before_the_measure_give_empty_columns(tmp_path):
    for k in range(2):
        write_run(tmp_path / "exp" / "control" / f"rep-{k}", [sp("primate", PRIMATE, 100, 300)])
    rep = build_report(tmp_path / "exp", n_boot=50, seed=1)
    assert rep.runs["tech_intel_flop_ratio"].tolist() == [3.0, 3.0]
    assert rep.runs["tech_intel_neural_ratio"].isna().all()
    assert math.isnan(value(rep, "control", "tech_vs_intel_neural"))
    assert rep.clades["neural_flop"].isna().all()
