"""Calibration runs: one world over several seeds, summarised per founding lineage (clade).

    python analysis/calibrate.py worlds/earthlike.yaml --seeds 0-7 --ticks 10000 --out /tmp/cal \\
        [--set KEY=VALUE ...] [--jobs 2]

Runs ``evosim run`` for each seed (``--jobs`` at a time; a seed whose run folder
already finished is not run again) and prints, per seed and founding lineage:
its peak and final population, peak mean brain, final mean skill, the highest
milestone held by at least half of its adults at the end, and the first ticks
at which one of its species became intelligent or technological. The world
files in ``worlds/`` were tuned with it on the calibration seeds named in
``docs/worlds.md``; results are reported on other seeds (the experiment's
derived seeds).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from evosim import load_run


def seeds_of(text: str) -> list[int]:
    """``"0-3,7"`` -> [0, 1, 2, 3, 7]."""
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


def run_one(world: str, seed: int, ticks: int, out: Path, sets: list[str]) -> Path:
    """Run one seed into ``out/seed-<seed>`` unless it already finished."""
    folder = out / f"seed-{seed}"
    summary = folder / "summary.json"
    if summary.is_file() and json.loads(summary.read_text())["ended"] in ("completed", "extinct"):
        return folder
    cmd = [sys.executable, "-m", "evosim", "run", world, "--seed", str(seed), "--ticks", str(ticks),
           "--out", str(folder), "--force", "-q", "--checkpoint-every", "0"]  # fmt: skip
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return folder


def clades(folder: Path) -> pd.DataFrame:
    """One row per founding lineage of a run folder."""
    r = load_run(folder)
    ts, sp = r.timeseries, r.species
    root = sp.set_index("id")["root"]
    ts = ts.assign(root=ts["species"].map(root))
    names = sp.set_index("id")["name"]
    ms = [c.removeprefix("share_") for c in ts.columns if c.startswith("share_")]
    rows = []
    last = ts["tick"].max()
    for rt, g in ts.groupby("root"):
        w = g["population"]
        by_tick = g.assign(bw=g["mean_brain"] * w, zw=g["mean_skill"] * w).groupby("tick")
        pop = by_tick["population"].sum()
        brain = by_tick["bw"].sum() / pop.where(pop > 0)
        end = g[g["tick"] == last]
        n_end = end["population"].sum()
        level = "-"
        for m in ms:
            if n_end and (end[f"share_{m}"] * end["population"]).sum() / n_end >= 0.5:
                level = m
        mine = sp[sp["root"] == rt]
        intel = mine["intelligent_at"].dropna()
        tech = mine["technological_at"].dropna()
        rows.append({
            "founder": names[rt], "peak_pop": int(pop.max()), "end_pop": int(n_end),
            "peak_brain": round(float(brain.max()), 3), "end_brain": round(float(brain.iloc[-1]), 3)
            if n_end else float("nan"),
            "end_skill": round(float((end["mean_skill"] * end["population"]).sum() / n_end), 2)
            if n_end else float("nan"),
            "end_p90": round(float(end["p90_skill"].max()), 2) if n_end else float("nan"),
            "level_half": level,
            "intelligent_at": int(intel.min()) if len(intel) else None,
            "technological_at": int(tech.min()) if len(tech) else None,
        })  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("world")
    ap.add_argument("--seeds", default="0-3")
    ap.add_argument("--ticks", type=int, default=10000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--set", dest="sets", action="append", default=[])
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    seeds = seeds_of(a.seeds)
    with ThreadPoolExecutor(a.jobs) as ex:
        folders = list(ex.map(lambda s: run_one(a.world, s, a.ticks, a.out, a.sets), seeds))
    tables = []
    for s, f in zip(seeds, folders):
        t = clades(f)
        t.insert(0, "seed", s)
        tables.append(t)
    df = pd.concat(tables, ignore_index=True)
    pd.set_option("display.width", 200)
    print(df.to_string(index=False))
    print()
    g = df.groupby("founder")
    print(pd.DataFrame({
        "alive_at_end": g["end_pop"].apply(lambda v: (v > 0).mean()),
        "intelligent": g["intelligent_at"].apply(lambda v: v.notna().mean()),
        "technological": g["technological_at"].apply(lambda v: v.notna().mean()),
        "peak_brain": g["peak_brain"].mean().round(3),
        "end_skill": g["end_skill"].mean().round(2),
    }).to_string())  # fmt: skip
    runs_tech = df.groupby("seed")["technological_at"].apply(lambda v: v.notna().any()).mean()
    print(f"\nP(a technological lineage) = {runs_tech:.2f} over {len(seeds)} seeds")


if __name__ == "__main__":
    main()
