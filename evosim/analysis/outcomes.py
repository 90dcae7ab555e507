"""Outcomes of one run: counts, first detections, clades, bottlenecks.

Used by the hard-paths report (``evosim report``, :mod:`evosim.reports.outcomes`)
and by the end-of-run story of ``evosim run`` (:mod:`evosim.analysis.story`),
so both classify a run the same way.

One finished run folder gives one row of ``runs.csv`` (:func:`analyse_run`),
the intelligent species that never became technological with what held each
(``stuck_species.csv``), its clades (``clades.csv``) and the trajectories of
its intelligent species.

**Restricted means.** ``first_<kind>_tick_r`` is the tick of the first
intelligent / technological species, or the run's horizon (``sim.ticks``,
the length it was meant to run) if it never got there; ``first_<kind>_flop_r``
is the compute spent to that detection, or the run's total compute at its last
tick (``summary.json`` ``compute.flop_total``) if it never got there. Their
mean over replicates is the restricted mean (a mean time to the event capped
at the horizon), defined in every run, unlike the conditional mean over the
runs that got there.

**Clades.** A clade is a founding lineage: a root species of the world file
and every species descended from it (species.csv ``root``). Its population at
a sampled tick is the sum over its species (timeseries.csv); a clade counts
when its peak population reaches ``min_clade_population`` (default: the run's
``detectors.min_population``, the size at which a species can be detected at
all). Per run: counted clades, intelligent clades (at least one intelligent
species), technological clades (at least one technological species) and lost
clades: intelligent clades with no species alive at the end and none ever
technological (they died out without leaving artifacts).

**Bottleneck rule** (an intelligent species that never became technological;
genes are its final mean genes, else its founder genes; effective dexterity
is max(dexterity gene, its ``manipulators`` in species.csv -- granted to it, or
inherited from its parent species when it formed); L = how many milestones it
held (milestone events); the *culture fell short* when its highest skill at
any sample (``max_skill``) stayed below the final milestone's threshold; its
*plateau* is the plateau detector's verdict on its own series
(:mod:`evosim.analysis.plateau`: settled, climbing, extinct or short)):

1. ``dexterity`` -- effective dexterity below ``min_dexterity`` of the first
   milestone not held, ``ladder[L]``; ``land`` -- the species is aquatic
   (under half its members stood on land at its last sample, ``land_share``;
   its mean habitat gene < 0.5 if that is unknown), that milestone
   ``needs_land`` and no fire substitute (dexterity is named first
   when both fail there). Gates block holding a milestone, not skill: such a
   species may have the skill and still not hold it;
2. the same two gates on a later milestone, in ladder order;
3. ``still climbing`` -- alive at the end and not settled (climbing, or too few
   samples to judge): censored, **not a bottleneck**; given time it may get there;
4. ``diffusion`` -- it held the final milestone and its holder share settled
   below the technological share (``detectors.tech_share``): the last rung
   reached some members and stopped spreading;
5. ``brain/transmission`` -- every gate met, settled, the culture fell short;
6. ``none identified`` -- no gate failed on its mean genes and some member had
   the skill of the final milestone, yet none held it (the skilled members
   failed a gate their species' mean genes meet).

The soft-trait labels (sociality, childhood, lifespan below a fixed level) are
gone as primary bottlenecks: the primates that do become technological have
childhood 0.15-0.18, below the old "childhood < 0.2" rule (issue 20). Whether
a soft trait binds is what the clamp and relief arms test. ``Thresholds`` may
still name levels (default None: none), and a species below one lists that
trait in ``lacks``.

``lacks`` lists every gate it fails, its soft traits below a given level, and
``brain/transmission`` whenever the culture fell short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from evosim.analysis.neural import CLADE_COLUMNS as NEURAL_CLADE_COLUMNS
from evosim.analysis.neural import clade_columns, run_columns
from evosim.analysis.plateau import PlateauRule, judge
from evosim.defaults import GENES
from evosim.errors import ConfigError
from evosim.io.logs import Run

#: primary bottleneck categories, in the order tables and plots list them
BOTTLENECKS = ("dexterity", "land", "brain/transmission", "diffusion", "none identified")
#: the label of a stuck species that has not settled: censored, never a bottleneck
CLIMBING = "still climbing"
#: every label of a stuck species, in the order tables and plots list them
LABELS = (*BOTTLENECKS, CLIMBING)
#: the categories of a species held by a gate, and by the culture
GATES = ("dexterity", "land")
CULTURE = ("brain/transmission",)

STUCK_COLUMNS = ["arm", "replicate", "species", "species_id", "milestones_reached", "max_skill",
                 "land_share", "plateau", "plateau_skill", "plateau_share", "bottleneck", "lacks",
                 "manipulators", "fire_substitute",
                 *GENES]  # fmt: skip
CLADE_COLUMNS = ["arm", "replicate", "clade", "root_id", "peak_population", "counted", "species",
                 "intelligent_species", "technological_species", "extinct", "lost", "intelligent_at",
                 "technological_at", "extinct_at", "end", "plateau", "plateau_skill",
                 "plateau_share", *NEURAL_CLADE_COLUMNS]  # fmt: skip
TRAJECTORY_COLUMNS = ["arm", "replicate", "tick", "species", "name", "mean_brain", "mean_skill",
                      "technological"]  # fmt: skip


@dataclass(frozen=True)
class Thresholds:
    """Classification conventions of the report.

    Attributes:
        sociality, childhood, lifespan: gene levels (in [0, 1]) below which a stuck species lists
            that soft input of cultural transmission in ``lacks`` (None, the default: not listed;
            never a primary bottleneck, module doc).
        aquatic: share of members on land (else mean habitat gene) below which a species counts as
            aquatic: an agent holds a ``needs_land`` milestone only where it stands on land.
        min_clade_population: peak population from which a founding lineage counts as a clade
            (None: each run's ``detectors.min_population``).
        plateau: the plateau detector's conventions (:class:`evosim.analysis.plateau.PlateauRule`).
    """

    sociality: float | None = None
    childhood: float | None = None
    lifespan: float | None = None
    aquatic: float = 0.5
    min_clade_population: int | None = None
    plateau: PlateauRule = PlateauRule()


def column(bottleneck: str) -> str:
    """The ``runs.csv`` column counting the stuck species of a bottleneck (``stuck_brain_transmission``)."""
    return "stuck_" + bottleneck.replace(" ", "_").replace("/", "_")


def _grants(run: Run) -> pd.DataFrame:
    """species.csv indexed by id, with its ``manipulators`` and ``fire_substitute`` columns.

    Those are the registry's values at the end of the run (at extinction for an
    extinct species); a daughter species inherits them from its parent when it forms.
    A species.csv written before these columns existed is read as "no grants"
    unless the run's config has a manipulators or fire_substitute intervention.
    """
    sp = run.species
    if not {"manipulators", "fire_substitute"} <= set(sp.columns):
        kinds = {
            (iv.get("effect") or {}).get("kind", "manipulators")
            for iv in run.config.get("interventions") or []
        }
        if kinds & {"manipulators", "fire_substitute"}:
            raise ConfigError(
                f"{run.folder / 'species.csv'}: no manipulators / fire_substitute columns (written by an "
                "older evosim) although the run has such interventions; re-run it to report on it"
            )
        sp = sp.assign(manipulators=0.0, fire_substitute=False)
    return sp.set_index("id")


def milestones_held(run: Run, ladder: list[dict]) -> dict[int, int]:
    """Milestones held per species id (a count: 1 = the first rung), from the milestone events.

    The detectors log one event per species and milestone reached.
    """
    names = [m["name"] for m in ladder]
    out: dict[int, int] = {}
    ev = run.events
    if ev.empty:
        return out
    rows = ev[(ev["kind"].astype(str) == "milestone") & ev["species"].notna()]
    for sid, details in zip(rows["species"], rows["details"].astype(str)):
        hit = details.rsplit("first reached ", 1)[-1].strip()
        if hit in names:
            out[int(sid)] = max(out.get(int(sid), 0), names.index(hit) + 1)
    return out


def final_genes(run: Run, sid: int) -> dict[str, float]:
    """Mean genes of a species at its last sampled tick with members, else its founder genes."""
    ts = run.timeseries
    rows = ts[(ts["species"] == sid) & (ts["population"] > 0)]
    if len(rows) and rows[[f"mean_{g}" for g in GENES]].iloc[-1].notna().all():
        last = rows.iloc[-1]
        return {g: float(last[f"mean_{g}"]) for g in GENES}
    sp = run.species.set_index("id").loc[sid]
    return {g: float(sp[f"founder_{g}"]) for g in GENES}


def final_land_share(run: Run, sid: int) -> float:
    """Share of a species' members standing on land at its last sampled tick with members (NaN: none)."""
    ts = run.timeseries
    rows = ts.loc[(ts["species"] == sid) & (ts["population"] > 0), "land_share"]
    return float(rows.iloc[-1]) if len(rows) else math.nan


def classify(
    genes: dict[str, float],
    level: int,
    ladder: list[dict],
    manipulators: float = 0.0,
    fire_substitute: bool = False,
    th: Thresholds = Thresholds(),
    max_skill: float = math.nan,
    land_share: float = math.nan,
    plateau: str | None = None,
) -> tuple[str, list[str]]:
    """(primary label, everything it lacks) of an intelligent, never technological species.

    Args:
        genes: its mean genes.
        level: milestones it held.
        ladder: the run's technology ladder (config dicts).
        manipulators, fire_substitute: its grants.
        th: the classification thresholds.
        max_skill: its highest skill at any sample (NaN: unknown, the culture is then not judged).
        land_share: share of its members on land at its last sample (NaN: unknown, the mean
            habitat gene decides whether it is aquatic).
        plateau: the plateau detector's status of its series (None: not judged, so never
            ``still climbing``).

    Rule: module doc.
    """
    eff_dex = max(genes["dexterity"], manipulators)
    on_land = genes["habitat"] if math.isnan(land_share) else land_share
    aquatic = on_land < th.aquatic and not fire_substitute
    hard: list[str] = []
    for m in ladder[level:]:
        if eff_dex < m.get("min_dexterity", 0.0) and "dexterity" not in hard:
            hard.append("dexterity")
        if aquatic and m.get("needs_land", False) and "land" not in hard:
            hard.append("land")
    levels = {g: getattr(th, g) for g in ("sociality", "childhood", "lifespan")}
    soft = [g for g, v in levels.items() if v is not None and genes[g] < v]
    short = bool(ladder) and max_skill < ladder[-1]["threshold"]  # False when max_skill is NaN
    lacks = hard + soft + (["brain/transmission"] if short else [])
    if hard:
        return hard[0], lacks
    if plateau in ("climbing", "short"):
        return CLIMBING, lacks
    if level >= len(ladder):
        return "diffusion", lacks
    if short:
        return "brain/transmission", lacks
    return "none identified", lacks


def clades(run: Run, min_population: int, rule: PlateauRule | None = None) -> pd.DataFrame:
    """One row per founding lineage of a run: its peak population, whether it counts, its species' outcomes.

    Columns: ``clade`` (the root species' name), ``root_id``, ``peak_population`` (largest sum over
    its species at a sampled tick), ``counted`` (peak >= ``min_population``), ``species`` (formed),
    ``intelligent_species``, ``technological_species``, ``extinct`` (no species alive at the end)
    and ``lost`` (counted, intelligent, extinct, never technological); the times of the survival
    analysis (:mod:`evosim.analysis.survival`): ``intelligent_at`` / ``technological_at`` (first
    tick one of its species was detected so; NaN: never), ``extinct_at`` (last extinction of its
    species; NaN: alive at the end) and ``end`` (the run's last tick); and, for an intelligent clade,
    the plateau detector's verdict (:mod:`evosim.analysis.plateau`): ``plateau`` (technological,
    settled, climbing, extinct or short), ``plateau_skill`` and ``plateau_share`` (mean skill and
    holder share of the final milestone over the detector's window).
    """
    sp = run.species
    if not len(sp):
        return pd.DataFrame(columns=CLADE_COLUMNS[2:])
    end = int(
        (run.summary or {}).get(
            "ticks_run", run.timeseries["tick"].max() if len(run.timeseries) else 0
        )
    )
    horizon = int(run.config.get("sim", {}).get("ticks", end))
    ladder = run.config.get("technology", {}).get("ladder", [])
    last = float(ladder[-1]["threshold"]) if ladder else math.nan
    root = sp.set_index("id")["root"]
    ts = run.timeseries
    by_tick = ts.assign(root=ts["species"].map(root)).groupby(["root", "tick"])["population"].sum()
    peak = by_tick.groupby(level="root").max() if len(by_tick) else pd.Series(dtype="int64")
    g = sp.assign(
        intel=sp["intelligent_at"].notna(), tech=sp["technological_at"].notna(), alive=sp["alive"]
    ).groupby("root")
    out = pd.DataFrame(
        {
            "species": g.size(),
            "intelligent_species": g["intel"].sum(),
            "technological_species": g["tech"].sum(),
            "extinct": ~g["alive"].any(),
        }
    )
    names = sp.set_index("id")["name"]
    out["clade"] = [str(names.get(r, r)) for r in out.index]
    out["peak_population"] = peak.reindex(out.index).fillna(0).astype("int64")
    out["counted"] = out["peak_population"] >= min_population
    out["lost"] = (
        out["counted"]
        & (out["intelligent_species"] > 0)
        & (out["technological_species"] == 0)
        & out["extinct"]
    )
    times = sp.assign(
        died=pd.to_numeric(sp["destruction_time"], errors="coerce"),
        i_at=pd.to_numeric(sp["intelligent_at"], errors="coerce"),
        t_at=pd.to_numeric(sp["technological_at"], errors="coerce"),
    ).groupby("root")
    out["intelligent_at"] = times["i_at"].min()
    out["technological_at"] = times["t_at"].min()
    out["extinct_at"] = times["died"].max().where(out["extinct"])
    out["end"] = end
    verdicts = {}
    for root in out.index[out["intelligent_species"] > 0]:
        ids = set(int(i) for i in sp.loc[sp["root"] == root, "id"])
        verdicts[root] = judge(
            run.timeseries,
            ids,
            horizon,
            last,
            bool(out.at[root, "technological_species"]),
            rule or PlateauRule(),
        )
    v = pd.DataFrame.from_dict(verdicts, orient="index") if verdicts else None
    out["plateau"] = v["status"].reindex(out.index) if v is not None else None
    out["plateau_skill"] = v["skill"].reindex(out.index) if v is not None else math.nan
    out["plateau_share"] = v["share"].reindex(out.index) if v is not None else math.nan
    for col, values in zip(
        NEURAL_CLADE_COLUMNS,
        zip(*(clade_columns(run.summary or {}, c).values() for c in out["clade"])),
    ):
        out[col] = list(values)
    out = out.rename_axis("root_id").reset_index()
    return out[CLADE_COLUMNS[2:]]


def _open_clades(counted: pd.DataFrame) -> int:
    """Intelligent clades alive at the end, not technological, not settled (plateau detector): censored."""
    intel = counted["intelligent_species"] > 0
    return int(
        (
            intel
            & ~counted["extinct"].astype(bool)
            & counted["plateau"].isin(["climbing", "short"])
        ).sum()
    )


def _first(s: dict, kind: str, horizon: int, flop_total: float) -> dict[str, float]:
    """First detection of ``kind``: tick and FLOP (NaN if none), and both restricted to the horizon."""
    hit = s.get(f"first_{kind}") or {}
    tick, flop = hit.get("tick", math.nan), hit.get("flop", math.nan)
    return {
        f"first_{kind}_tick": tick,
        f"first_{kind}_flop": flop,
        f"first_{kind}_tick_r": horizon if math.isnan(tick) else tick,
        f"first_{kind}_flop_r": flop_total if math.isnan(flop) else flop,
    }


def analyse_run(
    run: Run, arm: str, replicate: int, th: Thresholds = Thresholds()
) -> tuple[dict, list[dict], pd.DataFrame, pd.DataFrame]:
    """Per-run outcomes, its stuck species, its clades and its intelligent species' trajectories.

    ``run`` is a finished run (it has its summary).

    Returns:
        (the ``runs.csv`` row, the ``stuck_species.csv`` rows, the ``clades.csv`` rows, the
        ``trajectories.csv`` rows).
    """
    s = run.summary or {}
    sp = run.species
    ladder = run.config.get("technology", {}).get("ladder", [])
    intel = sp["intelligent_at"].notna() if len(sp) else pd.Series(dtype=bool)
    tech = sp["technological_at"].notna() if len(sp) else pd.Series(dtype=bool)
    n_int, n_tech = int(s["intelligent_species"]), int(s["technological_species"])
    horizon = int(run.config.get("sim", {}).get("ticks", s.get("ticks_run", 0)))
    flop_total = float((s.get("compute") or {}).get("flop_total", math.nan))
    min_clade = th.min_clade_population
    if min_clade is None:
        min_clade = int(run.config.get("detectors", {}).get("min_population", 50))
    cl = clades(run, min_clade, th.plateau)
    counted = cl[cl["counted"]]
    n_open = _open_clades(counted)
    row = {
        "arm": arm, "replicate": replicate, "seed": s.get("seed"), "folder": str(run.folder),
        "ended": s.get("ended"), "ticks_run": s.get("ticks_run"), "horizon": horizon,
        "intelligent": n_int, "technological": n_tech,
        "stuck": int((intel & ~tech).sum()) if len(sp) else 0, "any_technological": float(n_tech > 0),
        "lost_species": int((intel & ~tech & ~sp["alive"]).sum()) if len(sp) else 0,
        "clades": len(counted), "intelligent_clades": int((counted["intelligent_species"] > 0).sum()),
        "technological_clades": int((counted["technological_species"] > 0).sum()),
        "lost_clades": int(counted["lost"].sum()),
        "open_clades": n_open, "decided_clades": int((counted["intelligent_species"] > 0).sum()) - n_open,
        **_first(s, "intelligent", horizon, flop_total), **_first(s, "technological", horizon, flop_total),
        "flop_total": flop_total,
    }  # fmt: skip
    stuck_rows: list[dict] = []
    last = float(ladder[-1]["threshold"]) if ladder else math.nan
    if len(sp):
        levels = milestones_held(run, ladder)
        grants = _grants(run)
        ts = run.timeseries
        top_skill = ts.groupby("species")["max_skill"].max() if len(ts) else pd.Series(dtype=float)
        for sid in sp.loc[intel & ~tech, "id"]:
            sid = int(sid)
            level_m = float(grants.at[sid, "manipulators"])
            has_fire = bool(grants.at[sid, "fire_substitute"])
            genes = final_genes(run, sid)
            z = float(top_skill.get(sid, math.nan))
            level = levels.get(sid, 0)
            land = final_land_share(run, sid)
            plat = judge(ts, {sid}, horizon, last, False, th.plateau)
            primary, lacks = classify(
                genes, level, ladder, level_m, has_fire, th, z, land, str(plat["status"])
            )
            stuck_rows.append(
                {
                    "arm": arm, "replicate": replicate, "species": str(grants.at[sid, "name"]),
                    "species_id": sid, "milestones_reached": level, "max_skill": z, "land_share": land,
                    "plateau": plat["status"], "plateau_skill": plat["skill"], "plateau_share": plat["share"],
                    "bottleneck": primary, "lacks": ";".join(lacks), "manipulators": level_m,
                    "fire_substitute": has_fire, **{g: genes[g] for g in GENES},
                }
            )  # fmt: skip
    for b in LABELS:
        row[column(b)] = sum(r["bottleneck"] == b for r in stuck_rows)
    row.update(run_columns(s))  # last: the columns before them keep their places
    cl.insert(0, "replicate", replicate)
    cl.insert(0, "arm", arm)
    traj = pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    if len(sp) and intel.any():
        ids = set(int(i) for i in sp.loc[intel, "id"])
        ts = run.timeseries
        traj = ts.loc[
            ts["species"].isin(ids) & (ts["population"] > 0),
            ["tick", "species", "name", "mean_brain", "mean_skill"],
        ].copy()
        traj["technological"] = traj["species"].isin(set(int(i) for i in sp.loc[tech, "id"]))
        traj.insert(0, "replicate", replicate)
        traj.insert(0, "arm", arm)
    return row, stuck_rows, cl, traj
