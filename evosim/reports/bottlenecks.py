"""What held the intelligent species that never became technological, per arm: the Markdown
section of the hard-paths report (the labels and the rule: :mod:`evosim.analysis.outcomes`;
the plot: :mod:`evosim.reports.bottlenecks_plots`)."""

from __future__ import annotations

import pandas as pd

from evosim.analysis.outcomes import CULTURE, GATES
from evosim.analysis.outcomes import LABELS as STUCK_LABELS
from evosim.reports.files import arm_table_head
from evosim.reports.outcomes_data import Report


def section(rep: Report) -> list[str]:
    """Primary bottleneck of every stuck species per arm, grouped by gate and culture."""
    out = [
        "",
        "## What held the intelligent species that never became technological",
        "",
        'Primary label of each such species, all replicates pooled (rule: docs/experiments.md, "Reading the '
        'report"); in brackets, how many lack it at all (a species can lack several). Gates come first: a '
        "species that fails a gate is labelled by it even if its skill still moves. A species that no gate "
        "holds and that has not settled (plateau detector) is *still climbing*: censored, not a bottleneck, "
        "and left out of the held-by sums. A label is a hypothesis; the clamp and relief arms are the test.",
        "",
        *arm_table_head(rep.arms),
    ]
    stuck = {a: rep.stuck[rep.stuck["arm"] == a] for a in rep.arms}
    out.append("| stuck species | " + " | ".join(str(len(stuck[a])) for a in rep.arms) + " |")

    def count(st: pd.DataFrame, group: tuple[str, ...]) -> str:
        c = int(st["bottleneck"].isin(group).sum())
        return f"{c} ({c / len(st):.0%})" if len(st) else "0"

    for b in STUCK_LABELS:
        cells = []
        for a in rep.arms:
            st = stuck[a]
            txt = count(st, (b,))
            if (b in GATES or b in CULTURE) and len(st):
                txt += f" [{int(st['lacks'].str.split(';').apply(lambda x, b=b: b in x).sum())}]"
            cells.append(txt)
        out.append(f"| {b} | " + " | ".join(cells) + " |")
    for label, group in (("held by a gate", GATES), ("held by the culture", CULTURE)):
        out.append(
            f"| **{label}** ({', '.join(group)}) | "
            + " | ".join(count(stuck[a], group) for a in rep.arms)
            + " |"
        )
    return out
