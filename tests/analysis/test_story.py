"""The end-of-run story: per founding lineage, the same numbers and classification as the logs and the report."""

from __future__ import annotations

import json
import math
import re
import shlex
from pathlib import Path

import pytest

from evosim import load_run, load_world
from evosim.analysis import story as story_module
from evosim.analysis.outcomes import analyse_run
from evosim.analysis.story import HARD_PATHS, next_steps, next_text, sig, story, story_text
from evosim.io.runner import run
from tests.helpers import TINY


@pytest.fixture(scope="module")
def two_fates(tmp_path_factory):
    """A 120-tick tiny run where both lineages become intelligent, and only the grazers technological.

    A two-rung ladder whose last rung needs land: the swimmers learn its skill but cannot hold it.
    """
    out = tmp_path_factory.mktemp("story") / "two"
    world = load_world(overrides={
        **TINY, "species.grazer.adult": True, "species.swimmer.adult": True,
        "technology.ladder": [{"name": "knots", "threshold": 0.3},
                              {"name": "wheels", "threshold": 0.6, "needs_land": True}],
        "detectors.brain_threshold": 0.45, "detectors.intelligence_window": 5,
        "detectors.min_population": 10, "detectors.tech_window": 5, "detectors.tech_share": 0.05,
        "output.sample_every": 2,
    })  # fmt: skip
    run(world, out, ticks=120, seed=1)
    return load_run(out)


def by_clade(st: dict) -> dict[str, dict]:
    return {c["clade"]: c for c in st["clades"]}


def test_one_entry_per_founder_with_the_detectors_ticks(two_fates):
    st = story(two_fates)
    sp = two_fates.species
    assert [c["clade"] for c in st["clades"]] == list(sp.loc[sp["id"] == sp["root"], "name"])
    g, s = by_clade(st)["grazer"], by_clade(st)["swimmer"]
    for c in (g, s):
        members = sp[sp["root"] == c["root_id"]]
        assert c["intelligent_at"] == members["intelligent_at"].min()
        assert c["species"] == len(members)
    assert (
        g["outcome"] == "technological"
        and g["technological_at"] == sp.loc[sp["root"] == g["root_id"], "technological_at"].min()
    )
    assert g["bottleneck"] is None and g["highest_milestone"] == "wheels"
    assert s["outcome"] == "intelligent" and s["technological_at"] is None
    assert st["first_technological"]["species"] == "grazer"


def test_what_held_a_clade_is_the_reports_classification(two_fates):
    st = story(two_fates)
    s = by_clade(st)["swimmer"]
    _, stuck, _, _ = analyse_run(two_fates, "x", 0)
    mine = [r for r in stuck if r["species"].split(".")[0] == "swimmer"]
    assert mine and s["bottleneck"] == mine[0]["bottleneck"] == "land"
    assert s["bottleneck_milestone"] == "wheels" and s["highest_milestone"] == "knots"
    assert s["stuck_species"] == {"land": len(mine)}
    text = story_text(st)
    flat = " ".join(text.split())
    assert "held by land: it lives in water, and wheels needs land" in flat
    # issue 22, a newcomer: what the label, the skill figure and FLOP mean, in a clause each
    assert '(what the labels mean: docs/experiments.md, "Bottlenecks")' in flat
    assert "(wheels needs " in flat and "(wheels: " not in flat
    assert (
        "(FLOP: the estimated operations the simulated evolution spent; docs/model.md §7.15)"
        in flat
    )


def test_numbers_are_the_logs(two_fates):
    st = story(two_fates)
    ts = two_fates.timeseries
    for c in st["clades"]:
        ids = set(two_fates.species.loc[two_fates.species["root"] == c["root_id"], "id"])
        rows = ts[ts["species"].isin(ids)]
        big = rows[rows["population"] >= st["min_population"]]
        assert c["peak_mean_brain"] == pytest.approx(big["mean_brain"].max())
        assert c["max_skill"] == pytest.approx(rows["max_skill"].max())
        m = c["highest_milestone"]
        live = rows[rows["population"] > 0]
        last = live[live["tick"] == live["tick"].max()]
        share = (last[f"share_{m}"] * last["population"]).sum() / last["population"].sum()
        assert c["milestone_share_end"] == pytest.approx(share)
        held = (live[f"share_{m}"] * live["population"]).groupby(live["tick"]).sum()
        assert c["milestone_share_peak"] == pytest.approx(
            (held / live.groupby("tick")["population"].sum()).max()
        )
        assert c["population_end"] == sum(
            two_fates.summary["final_populations"].get(n, 0)
            for n in two_fates.species.loc[two_fates.species["root"] == c["root_id"], "name"]
        )


def test_the_story_is_json_and_text(two_fates):
    st = story(two_fates)
    assert json.loads(json.dumps(st)) == st  # plain data, no NaN
    text = story_text(st)
    assert "- grazer (" in text and "- swimmer (" in text
    assert f"technological at tick {by_clade(st)['grazer']['technological_at']}" in " ".join(
        text.split()
    )
    assert "FLOP to the first intelligent species" in text
    assert max(len(line) for line in text.splitlines()) <= 88  # not a terminal: 88 columns
    hints = next_text(st)
    assert f"evosim plot {two_fates.folder}" in hints
    assert f"evosim view {two_fates.folder / 'config.yaml'}" in hints  # no frames: watch it live
    assert "evosim experiment " in hints and "hard_paths.yaml --workers 2" in hints


def test_many_species_run(four_founders_run):
    """Four founders, ~30 species, some intelligent: each clade's first detection and bottleneck."""
    r = load_run(four_founders_run)
    st = story(r)
    assert len(st["clades"]) == 4
    _, stuck, clades, _ = analyse_run(r, "x", 0)
    for c, row in zip(st["clades"], clades.itertuples()):
        assert c["root_id"] == row.root_id and c["intelligent_species"] == row.intelligent_species
        if c["outcome"] == "intelligent":
            mine = {x["species"]: x["bottleneck"] for x in stuck}
            assert c["bottleneck"] == mine[c["bottleneck_species"]]
            assert (
                sum(c["stuck_species"].values())
                == row.intelligent_species - row.technological_species
            )
    assert any(c["outcome"] == "intelligent" for c in st["clades"])
    for c in st["clades"]:
        if c["extinct_at"] is not None:
            assert (
                f"- {c['clade']} ({c['species']} species, extinct at tick {c['extinct_at']})"
                in story_text(st)
            )


def test_story_text_names_only_max_clades_in_full(two_fates):
    st = story(two_fates)
    text = story_text(st, max_clades=1)
    assert "- grazer (" in text and "- swimmer (" not in text
    assert "- 1 more founding lineage: swimmer (intelligent)" in text


def test_an_unfinished_run_has_no_story(two_fates, tmp_path):
    import shutil

    shutil.copytree(two_fates.folder, tmp_path / "r")
    (tmp_path / "r" / "summary.json").unlink()
    with pytest.raises(ValueError, match="not finished"):
        story(load_run(tmp_path / "r"))


def test_a_run_without_species_alive_or_intelligent(tmp_path):
    """Extinction: every clade 'extinct at tick T', 'never intelligent', no FLOP to any detection."""
    from tests.helpers import starving_overrides

    world = load_world(overrides={**TINY, **starving_overrides()})
    run(world, tmp_path / "dead", ticks=400, seed=1)
    st = story(load_run(tmp_path / "dead"))
    assert st["ended"] == "extinct"
    assert all(
        c["extinct_at"] is not None and c["outcome"] == "never intelligent" for c in st["clades"]
    )
    assert st["first_intelligent"] is None and not math.isnan(st["flop_total"])
    assert "no intelligent species" in " ".join(story_text(st).split())


def test_a_world_without_a_ladder(tmp_path):
    """An empty technology ladder: intelligence still told, technology said to be impossible."""
    world = load_world(overrides={**TINY, "technology.ladder": [], "detectors.brain_threshold": 0.45,
                                  "detectors.intelligence_window": 5})  # fmt: skip
    run(world, tmp_path / "flat", ticks=30, seed=1)
    st = story(load_run(tmp_path / "flat"))
    assert st["final_milestone"] is None and st["ladder"] == []
    assert {c["outcome"] for c in st["clades"]} == {"intelligent"}
    text = " ".join(story_text(st).split())
    assert "the technology ladder is empty" in text and "no technology ladder to climb" in text
    assert "None" not in text


def test_a_clade_still_climbing_is_not_held_by_anything(two_fates):
    st = story(two_fates)
    assert (
        "soft_thresholds" not in st
    )  # the soft-trait labels are gone (the report no longer gives them)
    s = by_clade(st)["swimmer"]
    s["bottleneck"] = "still climbing"
    flat = " ".join(story_text(st).split())
    assert "not yet technological and still climbing at the end" in flat
    assert "held by still climbing" not in flat


def test_the_story_tells_neural_compute_with_both_ratios_and_the_k_row(two_fates):
    """Issue 24, item 4: neural compute to the first intelligent and technological species, per lineage."""
    st = story(two_fates)
    nc = st["neural"]
    intel, tech = nc["to_first_intelligent"], nc["to_first_technological"]
    assert 0 < intel["flop"] < tech["flop"] <= nc["flop"]
    text = " ".join(story_text(st, width=10_000).split())
    act = st["first_technological"]["flop"] / st["first_intelligent"]["flop"]
    assert (
        f"First technological / first intelligent: {sig(tech['flop'] / intel['flop'])}x by neural "
        f"compute, {sig(act)}x by the activity count" in text
    )
    k3 = tech["flop_k"]["k3"] / intel["flop_k"]["k3"]
    assert f"{sig(k3)}x (k = 3)" in text
    for clade in ("grazer", "swimmer"):
        figures = " / ".join(sig(p["flop_by_clade"][clade]) for p in (intel, tech, nc))
        assert f"{clade} {figures}" in text
    # every figure of the paragraph has 3 significant digits (QA: "2e+27" next to "1.37e+27")
    paragraph = text[text.index("Neural compute") :]
    figures = re.findall(r"(?<![\w.])\d[\d.]*e[+-]\d+", paragraph)
    assert figures and all(re.fullmatch(r"\d\.\d\de[+-]\d+", f) for f in figures), figures


# ------------------------------------------------------------------ QA: the story's cosmetics
def test_sig_keeps_three_significant_digits():
    assert [sig(2e27), sig(1.37e27), sig(1.5), sig(12.0), sig(100.0), sig(0.0)] == [
        "2.00e+27", "1.37e+27", "1.50", "12.0", "100", "0"
    ]  # fmt: skip
    assert sig(123456.0) == "1.23e+05" and sig(float("nan")) == "nan"


def test_a_milestone_held_by_a_few_is_not_held_by_0_percent(two_fates):
    """QA (earthlike, 500 ticks): a milestone reached was "held by 0% ..., 0% at most"."""
    st = story(two_fates)
    s = by_clade(st)["swimmer"]
    cases = [((0.001, 0.004), "held by <1% of its members at its last sample, <1% at most"),
             ((0.0, 0.005), "held by 0% of its members at its last sample, <1% at most"),
             ((0.006, 0.9951), "held by 1% of its members at its last sample, >99% at most"),
             ((0.25, 1.0), "held by 25% of its members at its last sample, 100% at most")]  # fmt: skip
    for (end, peak), words in cases:
        s["milestone_share_end"], s["milestone_share_peak"] = end, peak
        assert words in " ".join(story_text(st).split())
    # a share set in the world file is said as set, not rounded to a whole percent
    st["tech_share"] = 0.005
    assert "technological once 0.5% of its adults hold wheels" in " ".join(story_text(st).split())


def test_the_experiment_hint_works_from_the_users_folder(two_fates, tmp_path, monkeypatch):
    """QA: `evosim experiment worlds/experiments/hard_paths.yaml` failed outside the repository."""
    assert HARD_PATHS.is_file()
    root = HARD_PATHS.parents[2]

    def experiment(cwd: Path) -> str:
        (hint,) = [
            h for h in next_steps(two_fates.folder, False, cwd=cwd) if "experiment" in h["command"]
        ]
        assert hint["command"].endswith(" --workers 2")
        return shlex.split(hint["command"])[2]

    assert (
        experiment(root) == "worlds/experiments/hard_paths.yaml"
    )  # inside it: as the README has it
    assert experiment(root / "worlds") == "experiments/hard_paths.yaml"
    assert experiment(tmp_path) == str(HARD_PATHS)  # elsewhere: absolute
    for cwd in (root, root / "worlds", tmp_path):
        assert (cwd / experiment(cwd)).is_file()
    monkeypatch.chdir(tmp_path)
    assert f"evosim experiment {HARD_PATHS} --workers 2" in next_text(story(two_fates))
    # an installed evosim without the repository's worlds/: no experiment to hint
    monkeypatch.setattr(story_module, "HARD_PATHS", tmp_path / "missing.yaml")
    assert [h["command"].split()[1] for h in next_steps(two_fates.folder, True)] == ["plot", "view"]


def test_hints_are_wrapped_and_commands_kept_whole(two_fates):
    """QA: a 235-column hint line. The comment wraps to the width; the command stays one line."""
    st = story(two_fates)
    long_command = f"evosim experiment {'/very/long/folder' * 6}/hard_paths.yaml --workers 2"
    st["next"] = [{"command": long_command, "what": "the hard-paths experiment: " + "words " * 40}]
    for width in (60, 88):
        lines = next_text(st, width=width).splitlines()
        assert lines[0] == "Next:" and lines[-1] == f"  {long_command}"
        comment = lines[1:-1]
        assert len(comment) > 1 and all(x.startswith("  # ") and len(x) <= width for x in comment)
        assert " ".join(x[4:] for x in comment) == st["next"][0]["what"].strip()


def test_the_width_is_the_terminals_up_to_100_columns_and_88_elsewhere(monkeypatch):
    import sys

    assert story_module.text_width() == 88  # pytest captures stdout: not a terminal

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Tty())
    for cols, width in ((60, 59), (81, 80), (200, 100), (20, 40)):
        monkeypatch.setenv("COLUMNS", str(cols))
        assert story_module.text_width() == width
