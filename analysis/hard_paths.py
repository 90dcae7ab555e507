"""The hard-paths analysis of an experiment folder, as a script or notebook cells.

The analysis itself lives in the installed package (:mod:`evosim.reports.outcomes`,
also ``evosim report FOLDER``); this file shows how to use it from Python and
how to go further in pandas.

Usage::

    python analysis/hard_paths.py runs/hard_paths            # writes runs/hard_paths/report/
    python analysis/hard_paths.py runs/hard_paths --out figs --bootstrap 10000
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evosim.reports.outcomes import Thresholds, build_report, write_report


def main() -> None:
    """Build the report, write it, and print a few pandas views of it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="experiment folder written by `evosim experiment`")
    ap.add_argument("--out", type=Path, default=None, help="report folder (default: FOLDER/report)")
    ap.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    ap.add_argument(
        "--sociality",
        type=float,
        default=None,
        help="list 'sociality' in a stuck species' lacks below this gene mean (default: not listed)",
    )
    args = ap.parse_args()

    rep = build_report(
        args.folder, n_boot=args.bootstrap, seed=args.seed, th=Thresholds(sociality=args.sociality)
    )
    files = write_report(rep, args.out or args.folder / "report")
    print(rep.markdown)

    # --- going further in pandas -------------------------------------------------
    # One row per replicate: counts, first detections, compute.
    print(
        rep.runs[
            ["arm", "replicate", "seed", "intelligent", "technological", "first_technological_tick"]
        ].to_string(index=False)
    )
    # The n of the hypothesis (clades and species) and the compute saving factor, with intervals.
    print(
        rep.results.query("metric in ['n_clades', 'n', 'compute_saving']")[
            ["arm", "metric", "value", "ci_low", "ci_high", "diff", "diff_low", "diff_high"]
        ].to_string(index=False)
    )
    # Which founding lineages became intelligent, technological, or died out without technology.
    print(
        rep.clades[rep.clades["counted"]]
        .groupby(["arm", "clade"])[["intelligent_species", "technological_species", "lost"]]
        .agg(lambda x: int((x > 0).sum()))
        .to_string()
    )
    # Which founding body plan the stuck species came from, per arm and bottleneck.
    if len(rep.stuck):
        root = rep.stuck["species"].str.split(".").str[0]
        print(
            rep.stuck.assign(founder=root)
            .pivot_table(
                index=["arm", "founder"],
                columns="bottleneck",
                values="species_id",
                aggfunc="count",
                fill_value=0,
            )
            .to_string()
        )
    print("wrote", ", ".join(str(f) for f in files))


if __name__ == "__main__":
    main()
