"""The end-of-run story: what became of each founding lineage of one run, and why.

``evosim run`` prints it when a run ends (``--json`` prints :func:`story` as
JSON instead); in Python::

    from evosim import load_run
    from evosim.analysis.story import story, story_text
    print(story_text(story(load_run("runs/my-run"))))

Per founding lineage (a *clade*: a root species of the world file and every
species descended from it, species.csv ``root``):

- its **peak mean brain**: the highest mean brain gene any of its species
  had at a sampled tick while it had at least ``detectors.min_population``
  members (the detector's own minimum), against ``detectors.brain_threshold``;
- its **highest milestone** (from the ``milestone`` events) and the share of
  the clade's members holding it, at its last sample and at its peak
  (timeseries.csv ``share_<milestone>`` weighted by population over the
  clade's species: members of all ages, as that column counts them);
- **intelligent at tick T / technological at tick T / never** (species.csv,
  the detectors' ticks) and, for an intelligent clade that never became
  technological, **what held it**: the primary bottleneck of its first
  intelligent species by the rule and code of ``evosim report``
  (:func:`evosim.analysis.outcomes.analyse_run`; docs/experiments.md,
  "Bottlenecks"), with the count of its stuck species per bottleneck;
- the **compute** (FLOP) to the first intelligent and the first
  technological species (summary.json).
"""

from __future__ import annotations

import math
import shlex
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd

from evosim.analysis.outcomes import CLIMBING, Thresholds, analyse_run, milestones_held
from evosim.defaults import GENES
from evosim.io.logs import Run

#: What each primary bottleneck means, said to a user. Fields: {m} the first rung it failed, {final}
#: the last rung, {need} that rung's min_dexterity, {dex} its effective dexterity, {skill} its best
#: skill. (No soft-trait label: the clamp and relief arms test those, docs/experiments.md.)
HELD_BY = {
    "dexterity": "its dexterity {dex:.2f} is below the {need:g} that {m} needs",
    "land": "it lives in water, and {m} needs land",
    "brain/transmission": "every gate met, but its culture never reached the skill of {final} "
    "(best {skill:.1f} < {final_th:g})",
    "diffusion": "at most {adult_share} of its adults held {final} at a sample, never {tech_share} "
    "for {tech_window} ticks",
    "none identified": "members had the skill of {final}, yet none held it",
}


def _num(v: Any) -> float | None:
    """A JSON-safe float: None for NaN or missing."""
    if v is None or v is pd.NA:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _clade_shares(
    ts: pd.DataFrame, ids: set[int], milestone: str
) -> tuple[float | None, float | None]:
    """(share at the clade's last sample with members, peak share) of its members holding ``milestone``."""
    col = f"share_{milestone}"
    rows = ts[ts["species"].isin(ids) & (ts["population"] > 0)]
    if col not in rows or rows.empty:
        return None, None
    held = (rows[col].fillna(0.0) * rows["population"]).groupby(rows["tick"]).sum()
    share = held / rows.groupby("tick")["population"].sum()
    return float(share.iloc[-1]), float(share.max())


def _peak_brain(ts: pd.DataFrame, ids: set[int], min_pop: int) -> dict[str, Any]:
    """Highest species mean brain of a clade at a sample with at least ``min_pop`` members."""
    rows = ts[ts["species"].isin(ids) & (ts["population"] >= min_pop)].dropna(subset=["mean_brain"])
    if rows.empty:
        return {"peak_mean_brain": None, "peak_brain_species": None, "peak_brain_tick": None}
    top = rows.loc[rows["mean_brain"].idxmax()]
    return {
        "peak_mean_brain": float(top["mean_brain"]),
        "peak_brain_species": str(top["name"]),
        "peak_brain_tick": int(top["tick"]),
    }


def _final_adult_share(ts: pd.DataFrame, ids: set[int], min_pop: int) -> float | None:
    """Highest share of adults holding the final milestone, in any species of a clade at a sample with
    at least ``min_pop`` members: what the technology detector compares with ``tech_share``."""
    if "adults_final" not in ts:
        return None
    rows = ts[ts["species"].isin(ids) & (ts["population"] >= min_pop) & (ts["adults"] > 0)]
    return float((rows["adults_final"] / rows["adults"]).max()) if len(rows) else None


def _first(members: pd.DataFrame, col: str) -> tuple[int | None, str | None]:
    """(tick, species name) of the clade's earliest detection in species.csv column ``col``."""
    hit = members[members[col].notna()]
    if hit.empty:
        return None, None
    row = hit.loc[hit[col].astype("int64").idxmin()]
    return int(row[col]), str(row["name"])


def _clade(run: Run, row: Any, stuck: list[dict], ladder: list[dict], levels: dict[int, int],
           min_pop: int) -> dict[str, Any]:  # fmt: skip
    """The story of one founding lineage (a row of :func:`evosim.analysis.outcomes.clades`)."""
    sp, ts, s = run.species, run.timeseries, run.summary or {}
    members = sp[sp["root"] == row.root_id]
    ids = {int(i) for i in members["id"]}
    held = max((levels.get(i, 0) for i in ids), default=0)
    milestone = ladder[held - 1]["name"] if held else None
    share_end, share_peak = _clade_shares(ts, ids, milestone) if milestone else (None, None)
    int_at, int_sp = _first(members, "intelligent_at")
    tech_at, tech_sp = _first(members, "technological_at")
    gone = members["destruction_time"].dropna()
    skill = ts.loc[ts["species"].isin(ids), "max_skill"].max() if len(ts) else math.nan
    mine = [r for r in stuck if r["species_id"] in ids]
    counts: dict[str, int] = {}
    for r in mine:
        counts[r["bottleneck"]] = counts.get(r["bottleneck"], 0) + 1
    # the clade's headline: what held its first intelligent species that never became technological
    first_at = members.set_index("id")["intelligent_at"]
    lead = min(mine, key=lambda r: int(first_at[r["species_id"]]), default=None)
    failed = None
    if lead is not None and lead["milestones_reached"] < len(ladder):
        failed = ladder[lead["milestones_reached"]]["name"]
    return {
        "clade": str(row.clade),
        "root_id": int(row.root_id),
        "species": int(row.species),
        "peak_population": int(row.peak_population),
        "population_end": int(sum(s.get("final_populations", {}).get(str(n), 0) for n in members["name"])),
        "extinct_at": int(gone.max()) if bool(row.extinct) and len(gone) else None,
        **_peak_brain(ts, ids, min_pop),
        "highest_milestone": milestone,
        "milestones_held": held,
        "milestone_share_end": share_end,
        "milestone_share_peak": share_peak,
        "max_skill": _num(skill),
        "final_adult_share_peak": _final_adult_share(ts, ids, min_pop),
        "outcome": "technological" if tech_at is not None
        else "intelligent" if int_at is not None else "never intelligent",
        "intelligent_at": int_at,
        "first_intelligent_species": int_sp,
        "intelligent_species": int(row.intelligent_species),
        "technological_at": tech_at,
        "first_technological_species": tech_sp,
        "technological_species": int(row.technological_species),
        "bottleneck": lead["bottleneck"] if lead else None,
        "bottleneck_species": lead["species"] if lead else None,
        "bottleneck_milestone": failed,
        "lacks": [x for x in lead["lacks"].split(";") if x] if lead else [],
        "bottleneck_genes": {g: lead[g] for g in GENES} if lead else None,
        "bottleneck_manipulators": lead["manipulators"] if lead else None,
        "stuck_species": counts,
        "lost": bool(row.lost),
    }  # fmt: skip


def story(run: Run, th: Thresholds | None = None) -> dict[str, Any]:
    """The end-of-run story of a finished run, as plain data (JSON-serialisable).

    Args:
        run: a run folder loaded with :func:`evosim.io.logs.load_run` (it has its summary).
        th: the conventions of the bottleneck rule (default: those of ``evosim report``).

    Returns:
        ``run`` (folder), ``world``, ``seed``, ``ticks_run``, ``ended``, the detector settings
        (``brain_threshold``, ``intelligence_window``, ``min_population``, ``tech_share``,
        ``tech_window``), ``final_milestone`` and ``final_threshold``, ``clades`` (one dict per
        founding lineage, in founder order; keys in the module doc and docs/outputs.md),
        ``first_intelligent`` and ``first_technological`` (``tick``, ``flop``, ``species``; None
        if none), ``flop_total``, ``neural`` (``compute.neural`` of summary.json: neural compute
        in all, to the first intelligent and the first technological species, per founding
        lineage and for k = 1, 2, 3; None for a run written before it existed) and ``next``
        (commands to try next: ``command``, ``what``).

    Raises:
        ValueError: the run has no summary.json (it has not finished).
    """
    s = run.summary
    if s is None:
        raise ValueError(f"{run.folder}: no summary.json (the run has not finished)")
    th = th or Thresholds()
    det = run.config.get("detectors", {})
    min_pop = int(det.get("min_population", 50))
    ladder = run.config.get("technology", {}).get("ladder", [])
    final = ladder[-1] if ladder else None
    _, stuck, clades, _ = analyse_run(run, "run", 0, th)
    levels = milestones_held(run, ladder) if len(run.species) else {}
    comp = s.get("compute") or {}
    return {
        "run": str(run.folder),
        "world": s.get("world"),
        "seed": s.get("seed"),
        "ticks_run": s.get("ticks_run"),
        "ended": s.get("ended"),
        "brain_threshold": _num(det.get("brain_threshold")),
        "intelligence_window": det.get("intelligence_window"),
        "min_population": min_pop,
        "tech_share": _num(det.get("tech_share")),
        "tech_window": det.get("tech_window"),
        "final_milestone": final["name"] if final else None,
        "final_threshold": _num(final["threshold"]) if final else None,
        "ladder": [
            {
                "name": m["name"],
                "threshold": m["threshold"],
                "min_dexterity": m.get("min_dexterity", 0.0),
            }
            for m in ladder
        ],
        "clades": [_clade(run, r, stuck, ladder, levels, min_pop) for r in clades.itertuples()],
        "first_intelligent": s.get("first_intelligent"),
        "first_technological": s.get("first_technological"),
        "flop_total": _num(comp.get("flop_total")),
        "neural": comp.get("neural"),
        "next": next_steps(run.folder, recorded=Path(run.folder, "frames").is_dir()),
    }


#: The hard-paths experiment of the repository evosim runs from (absent from an installed wheel).
HARD_PATHS = Path(__file__).resolve().parents[2] / "worlds" / "experiments" / "hard_paths.yaml"


def _from_here(path: Path, cwd: Path | None = None) -> str:
    """``path`` as a user types it in ``cwd`` (default: the current folder): relative to it if
    it is inside it, else absolute; quoted for a shell."""
    here = (cwd or Path.cwd()).resolve()
    return shlex.quote(str(path.relative_to(here) if path.is_relative_to(here) else path))


def next_steps(folder: str | Path, recorded: bool, cwd: Path | None = None) -> list[dict[str, str]]:
    """Commands to try after a run in ``folder`` (``command``, ``what``), to type in ``cwd``
    (default: the current folder); ``recorded``: it has replay frames.

    The hard-paths experiment is hinted only where its file is (:data:`HARD_PATHS`), by a
    path that works from ``cwd``.
    """
    f = Path(folder)
    view = (
        {"command": f"evosim view {shlex.quote(str(f))}", "what": "replay it in a window"}
        if recorded
        else {
            "command": f"evosim view {shlex.quote(str(f / 'config.yaml'))}",
            "what": "watch this run again, live in a window (same world and seed)",
        }
    )
    hints = [
        {
            "command": f"evosim plot {shlex.quote(str(f))}",
            "what": f"plots of this run, written to {f / 'plots'}",
        },
        view,
    ]
    if HARD_PATHS.is_file():
        hints.append(
            {
                "command": f"evosim experiment {_from_here(HARD_PATHS, cwd)} --workers 2",
                "what": "the hard-paths experiment: interventions x seeds, then evosim report",
            }
        )
    return hints


#: Widest and narrowest text of the story and the hints at a terminal, and its width elsewhere.
MAX_WIDTH, MIN_WIDTH, PLAIN_WIDTH = 100, 40, 88

#: Where the bottleneck labels ("diffusion", "dexterity", ...) are defined, said after a "held by".
BOTTLENECK_DOCS = 'what the labels mean: docs/experiments.md, "Bottlenecks"'
#: What the compute figures count, said once before them.
FLOP_MEANS = "(FLOP: the estimated operations the simulated evolution spent; docs/model.md §7.15)"
NEURAL_MEANS = (
    "(neural compute: what the animals' brains computed, as in the evolution anchor; "
    "docs/model.md §7.15)"
)


def _ticks(n: int) -> str:
    return f"{n} tick" if n == 1 else f"{n} ticks"


def _pct(v: float | None) -> str:
    """A measured share in whole percent: "<1%" if it is above 0 but rounds to 0, ">99%" if it is
    below 1 but rounds to 100 (a milestone held is never "held by 0%")."""
    if v is None:
        return "?"
    whole = f"{100 * v:.0f}"
    if whole == "0" and v > 0:
        return "<1%"
    if whole == "100" and v < 1:
        return ">99%"
    return f"{whole}%"


def _pct_set(v: float | None) -> str:
    """A share set in the world file (``tech_share``), as set: 0.05 -> "5%", 0.005 -> "0.5%"."""
    return "?" if v is None else f"{100 * v:.3g}%"


def sig(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, trailing zeros kept so that figures side by side
    read alike: ``2e27`` -> ``"2.00e+27"`` (next to ``"1.37e+27"``), ``1.5`` -> ``"1.50"``, ``0`` -> ``"0"``."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    mantissa, e, exponent = f"{x:#.{digits}g}".partition("e")
    return mantissa.rstrip(".") + e + exponent


def _held_by(c: dict[str, Any], st: dict[str, Any]) -> str:
    """Why an intelligent clade never became technological, in words with the numbers."""
    b = c["bottleneck"] or ""
    if st["final_milestone"] is None:
        return "there is no technology ladder to climb"
    genes = c["bottleneck_genes"] or {}
    rung = next((m for m in st["ladder"] if m["name"] == c["bottleneck_milestone"]), None)
    fields = {
        "m": c["bottleneck_milestone"] or st["final_milestone"],
        "final": st["final_milestone"],
        "final_th": st["final_threshold"] or 0.0,
        "need": rung["min_dexterity"] if rung else 0.0,
        "dex": max(genes.get("dexterity", 0.0), c["bottleneck_manipulators"] or 0.0),
        "skill": c["max_skill"] if c["max_skill"] is not None else math.nan,
        "adult_share": _pct(c["final_adult_share_peak"]),
        "tech_share": _pct_set(st["tech_share"]),
        "tech_window": st["tech_window"],
    }
    return HELD_BY[b].format(**fields) if b in HELD_BY else b


def _clade_lines(c: dict[str, Any], st: dict[str, Any]) -> list[str]:
    th = st["brain_threshold"]
    head = f"{c['clade']} ({c['species']} species, " + (
        f"{c['population_end']:,} alive at the end)"
        if c["extinct_at"] is None
        else f"extinct at tick {c['extinct_at']})"
    )
    if c["outcome"] == "technological":
        head += (
            f": intelligent at tick {c['intelligent_at']} ({c['first_intelligent_species']}), "
            f"technological at tick {c['technological_at']} ({c['first_technological_species']})"
        )
    elif c["outcome"] == "intelligent" and c["bottleneck"] == CLIMBING and st["final_milestone"]:
        head += (
            f": intelligent at tick {c['intelligent_at']} ({c['first_intelligent_species']}), not yet "
            "technological and still climbing at the end (its skill or holder share was still "
            "rising: the run stopped first, nothing is known to hold it; run it longer with "
            "--resume and a larger --ticks)"
        )
    elif c["outcome"] == "intelligent":
        head += (
            f": intelligent at tick {c['intelligent_at']} ({c['first_intelligent_species']}), never "
            f"technological; held by {c['bottleneck']}: {_held_by(c, st)} ({BOTTLENECK_DOCS})"
        )
        if sum(c["stuck_species"].values()) > 1:
            head += (
                " [its intelligent species were held by: "
                + ", ".join(f"{k} {v}" for k, v in c["stuck_species"].items())
                + "]"
            )
        if c["lost"]:
            head += "; it died out without leaving artifacts"
    else:
        head += ": never intelligent"
    brain = c["peak_mean_brain"]
    if brain is None:
        b = f"brain: never {st['min_population']} members at once"
    else:
        rel = "above" if th is not None and brain > th else "below"
        b = (
            f"peak mean brain {brain:.2f} ({c['peak_brain_species']}, tick {c['peak_brain_tick']}), "
            f"{rel} the threshold {th:g}"
        )
    if c["highest_milestone"] is None:
        m = "no milestone"
    else:
        m = (
            f"highest milestone {c['highest_milestone']} (rung {c['milestones_held']} of "
            f"{len(st['ladder'])}), held by {_pct(c['milestone_share_end'])} of its members at its "
            f"last sample, {_pct(c['milestone_share_peak'])} at most"
        )
    if c["max_skill"] is not None and st["final_threshold"] is not None:
        m += f"; best skill {c['max_skill']:.1f} ({st['final_milestone']} needs {st['final_threshold']:g})"
    return [head, f"{b}; {m}"]


def _flop(first: dict | None, kind: str) -> str:
    if first:
        return f"{sig(first['flop'])} FLOP to the first {kind} species ({first['species']}, tick {first['tick']})"
    return f"no {kind} species"


def text_width() -> int:
    """Columns to wrap the story and the hints to: at a terminal (standard output), its width
    (``COLUMNS`` if set) up to :data:`MAX_WIDTH`, at least :data:`MIN_WIDTH`; elsewhere
    :data:`PLAIN_WIDTH`."""
    try:
        tty = sys.stdout.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        return PLAIN_WIDTH
    cols = shutil.get_terminal_size((PLAIN_WIDTH, 24)).columns
    return min(MAX_WIDTH, max(MIN_WIDTH, cols - 1))  # the last column free: no wrap at its edge


def story_text(st: dict[str, Any], width: int | None = None, max_clades: int = 8) -> str:
    """The story of :func:`story` as terminal text (wrapped to ``width`` columns, no colour).

    Args:
        st: what :func:`story` returned.
        width: column width of the text (default: :func:`text_width`).
        max_clades: founding lineages told in full (technological, then intelligent ones first,
            then by peak mean brain); the others are named, with their outcome, in one line.
    """
    width = width or text_width()

    def wrap(text: str, first: str = "", rest: str = "") -> list[str]:
        return textwrap.wrap(
            text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
        )

    tech = (
        f"technological once {_pct_set(st['tech_share'])} of its adults hold {st['final_milestone']} for "
        f"{st['tech_window']} ticks"
        if st["final_milestone"]
        else "none can become technological (the technology ladder is empty)"
    )
    lines = wrap(
        f"The story of {st['world']} seed {st['seed']} ({st['ended']}, {_ticks(st['ticks_run'])}): "
        f"a species is intelligent once its mean brain stays above {st['brain_threshold']:g} for "
        f"{st['intelligence_window']} ticks with {st['min_population']}+ members; {tech}. "
        "Per founding lineage:"
    )
    rank = {"technological": 0, "intelligent": 1, "never intelligent": 2}
    told = sorted(st["clades"], key=lambda c: (rank[c["outcome"]], -(c["peak_mean_brain"] or 0.0)))[
        :max_clades
    ]
    for c in st["clades"]:  # in founder order
        if c in told:
            head, detail = _clade_lines(c, st)
            lines += wrap(head, "- ", "  ") + wrap(detail, "    ", "    ")
    others = [f"{c['clade']} ({c['outcome']})" for c in st["clades"] if c not in told]
    if others:
        more = "founding lineage" if len(others) == 1 else "founding lineages"
        lines += wrap(f"{len(others)} more {more}: {', '.join(others)}", "- ", "  ")
    total = f" ({sig(st['flop_total'])} FLOP in all)" if st["flop_total"] is not None else ""
    lines += wrap(
        f"Compute: {_flop(st['first_intelligent'], 'intelligent')}; "
        f"{_flop(st['first_technological'], 'technological')}{total}. {FLOP_MEANS}."
    )
    if st.get("neural"):
        lines += wrap(neural_text(st))
    return "\n".join(lines) + "\n"


def ratio(a: float | None, b: float | None) -> float | None:
    """``b / a``, or None when either is missing or ``a`` is not positive."""
    return b / a if a is not None and b is not None and a > 0 else None


def _times(r: float | None) -> str:
    return "n/a" if r is None else f"{sig(r)}x"


def neural_text(st: dict[str, Any]) -> str:
    """The neural-compute paragraph of :func:`story_text` (``st["neural"]`` is set)."""
    nc = st["neural"]
    intel, tech = nc.get("to_first_intelligent"), nc.get("to_first_technological")
    k = f"{nc['exponent']:g}"
    head = (
        f"Neural compute ({sig(nc['flop_per_agent_tick'])} FLOP x brain^{k} per agent per tick): "
        + (f"{sig(intel['flop'])} FLOP to the first intelligent species" if intel else "no intelligent species")
        + (f", {sig(tech['flop'])} to the first technological" if tech else ", no technological species")
        + f" ({sig(nc['flop'])} in all)."
    )  # fmt: skip
    if intel and tech:
        fi, ft = st["first_intelligent"], st["first_technological"]
        act = ratio(fi["flop"], ft["flop"]) if fi and ft else None
        ks = ", ".join(
            f"{_times(ratio(intel['flop_k'][key], tech['flop_k'][key]))} (k = {key[1:]})"
            for key in ("k1", "k2", "k3")
        )
        head += (
            f" First technological / first intelligent: {_times(ratio(intel['flop'], tech['flop']))} "
            f"by neural compute, {_times(act)} by the activity count; by k: {ks}."
        )
    parts = [
        (what, part)
        for what, part in (
            ("to the first intelligent", intel),
            ("to the first technological", tech),
            ("in all", nc),
        )
        if part
    ]
    cols = " / ".join(what for what, _ in parts)
    per = "; ".join(
        f"{name} " + " / ".join(sig(part["flop_by_clade"].get(name, 0.0)) for _, part in parts)
        for name in nc["flop_by_clade"]
    )
    return f"{head} Per founding lineage ({cols}): {per}. {NEURAL_MEANS}."


def next_text(st: dict[str, Any], width: int | None = None) -> str:
    """The "Next:" hints of :func:`story` as terminal text: a comment wrapped to ``width`` columns
    (default: :func:`text_width`), then the command on one line (pasteable)."""
    width = width or text_width()
    lines = ["Next:"]
    for h in st["next"]:
        lines += textwrap.wrap(h["what"], width, initial_indent="  # ", subsequent_indent="  # ",
                               break_on_hyphens=False, break_long_words=False)  # fmt: skip
        lines.append(f"  {h['command']}")
    return "\n".join(lines) + "\n"
