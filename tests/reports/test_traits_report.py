"""``evosim report`` on an experiment of drawn body plans: which traits predict technology."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from evosim.analysis import traits
from evosim.cli.experiment import experiment as experiment_cmd
from evosim.cli.experiment import report as report_cmd

WORLD = """\
name: drawn
world: {width: 32, height: 32}
species: []
founders:
  count: 3
  prior:
    name: f
    count: 60
    adult: true
    genes:
      dexterity: {mean: {uniform: [0.0, 1.0]}, max: {uniform: [0.2, 1.0]}}
      habitat: {mean: {choice: [0.1, 0.9]}}
      brain: {mean: 0.5, min: 0.45}
detectors: {brain_threshold: 0.3, min_population: 5}
output: {sample_every: 5}
"""
SPEC = """\
name: drawn_exp
world: drawn.yaml
ticks: 120
replicates: 3
seed: 5
arms:
  - name: control
  - name: hands
    interventions:
      - name: grant
        when: {trigger: intelligent}
        target: {selector: {dexterity: {max: 0.6}}}
        effect: {kind: manipulators, level: 0.8}
"""


def test_the_report_of_drawn_body_plans_says_which_traits_predict_technology(tmp_path):
    (tmp_path / "drawn.yaml").write_text(WORLD, encoding="utf-8")
    (tmp_path / "exp.yaml").write_text(SPEC, encoding="utf-8")
    out = tmp_path / "exp"
    r = CliRunner().invoke(experiment_cmd, [str(tmp_path / "exp.yaml"), "--out", str(out),
                                            "--workers", "1", "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    # one pass: every run's logs are read once, for the outcomes, the thresholds and the traits
    import evosim.io.logs as logs
    from evosim.reports import outcomes, thresholds

    loaded: list[str] = []

    def counting(folder):
        loaded.append(str(folder))
        return logs.load_run(folder)

    import evosim.cli.experiment as cli_experiment

    with pytest.MonkeyPatch.context() as mp:
        for module in (outcomes, thresholds, traits):
            mp.setattr(module, "load_run", counting)
        mp.setattr(cli_experiment, "at_terminal", lambda: True)  # as at a terminal: the bar
        r = CliRunner().invoke(report_cmd, [str(out)])
    assert r.exit_code == 0, r.output
    assert len(loaded) == 6 and len(set(loaded)) == 6, loaded  # 2 arms x 3 replicates
    assert "reading runs" in r.stderr and "analysing (bootstrap, survival, plots)" in r.stderr
    seen: list[tuple[int, int]] = []
    outcomes.build_report(out, n_boot=10, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(k, 6) for k in range(7)]  # before each run, and once all are read
    assert "## Which traits predict technology (drawn body plans)" in r.output
    rep = out / "report"
    # founders drawn per replicate: a founder's name is another body plan in each, so the
    # per-clade analyses pool every clade; clades.csv keeps the names
    clade_rows = pd.read_csv(rep / "survival.csv")
    per_clade = clade_rows[clade_rows["analysis"] == "clade_intelligent_to_technological"]
    assert set(per_clade["clade"]) == {"all clades"}
    assert set(pd.read_csv(rep / "whether_when.csv")["clade"]) <= {"all clades"}
    assert pd.read_csv(rep / "clades.csv")["clade"].str.startswith("f").all()
    for name in ("trait_hazards.csv", "trait_n.csv", "trait_blocked.csv", "trait_lineages.csv",
                 "traits.md", "trait_hazards.png"):  # fmt: skip
        assert (rep / name).is_file(), name
    # the files are analyse_experiment's tables
    want = traits.analyse_experiment(out)
    lineages = pd.read_csv(rep / "trait_lineages.csv")
    assert len(lineages) == len(want["lineages"]) > 0
    assert lineages["founder_dexterity"].nunique() > 1  # each replicate drew its own founders
    n = pd.read_csv(rep / "trait_n.csv")
    assert list(n["arm"]) == ["control", "hands"] and (n["replicates"] == 3).all()
    assert n["intelligent"].tolist() == want["n"]["intelligent"].tolist()
    hz = pd.read_csv(rep / "trait_hazards.csv")
    assert set(hz["arms"]) == {"control", "all (strata)"}
    assert set(hz["covariate"]) == set(traits.default_covariates(want["lineages"]))
    assert (rep / "traits.md").read_text(encoding="utf-8") in r.output
    assert "All arms pooled (arm as strata; the variance clustered by replicate" in r.output


def test_the_log_axis_labels_do_not_crowd():
    from evosim.reports.traits_plots import _ticks

    # near 1 every candidate fits; over two decades only spaced ones are kept, 1 always
    assert _ticks(0.7, 1.5) == [0.8, 0.9, 1, 1.1, 1.25, 1.5]
    wide = _ticks(0.15, 25)
    assert 1 in wide and 0.9 not in wide and 1.1 not in wide
    assert all(b / a >= (25 / 0.15) ** 0.1 for a, b in zip(wide, wide[1:]))


def _experiment(root, drawn: bool, replicates: int = 2, arms=("control", "hands")):
    """Synthetic runs (tests.reports.test_outcomes.write_run) of a primate that becomes
    technological and a cetacean that does not, in every replicate; ``drawn``: the founders'
    genes in config.yaml differ by replicate, as a prior draws them."""
    from evosim.config.yamlsafe import dump, parse_fast
    from tests.reports.test_outcomes import CETACEAN, PRIMATE, sp, write_run

    for arm in arms:
        for k in range(replicates):
            folder = root / arm / f"rep-{k}"
            write_run(folder, [sp("primate", PRIMATE, 100, 300 + 50 * k, 5),
                               sp("cetacean", CETACEAN, 150)], seed=100 + k)  # fmt: skip
            if drawn:
                cfg = parse_fast((folder / "config.yaml").read_text(encoding="utf-8"))
                for s in cfg["species"]:
                    s["genes"]["dexterity"]["mean"] = round(
                        s["genes"]["dexterity"]["mean"] - 0.01 * k, 3
                    )
                (folder / "config.yaml").write_text(dump(cfg), encoding="utf-8")
    return root


def test_an_ordinary_experiment_has_no_traits_section(tmp_path):
    """Hand-made founders, the same in every replicate: a primate and a cetacean differ in every
    trait, but two body plans are no sample of body plans: no section, no files."""
    from evosim.reports import traits as tt

    exp = _experiment(tmp_path / "exp", drawn=False)
    runs = traits.experiment_runs(exp)
    df = traits.lineages(runs)
    assert set(df["clade"]) == {"primate", "cetacean"} and df["founder_dexterity"].nunique() == 2
    assert tt.write_traits(exp, tmp_path / "out", "control") == ([], "")
    assert not traits.founders_drawn(runs)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("trait*"))
    r = CliRunner().invoke(report_cmd, [str(exp), "--no-plots", "--bootstrap", "100"])
    assert r.exit_code == 0, r.output
    assert "Which traits predict technology" not in r.output
    assert not list((exp / "report").glob("trait*")) and not (exp / "report" / "traits.md").exists()


def test_founders_drawn_reads_the_configs_per_arm(tmp_path):
    drawn = _experiment(tmp_path / "d", drawn=True)
    assert traits.founders_drawn(traits.experiment_runs(drawn))
    one = _experiment(tmp_path / "one", drawn=True, replicates=1)  # nothing to compare with
    assert not traits.founders_drawn(traits.experiment_runs(one))


def test_a_degenerate_drawn_experiment_says_not_estimable(tmp_path):
    """Drawn founders, but 2 replicates x 2 arms: 4 events in 8 clade-arms, and the dexterity
    separates the technological primates from the cetaceans: no ratio, the reason instead."""
    from evosim.reports import traits as tt

    exp = _experiment(tmp_path / "exp", drawn=True)
    files, md = tt.write_traits(exp, tmp_path / "out", "control", plots=True)
    assert "## Which traits predict technology (drawn body plans)" in md
    assert md.count("**No hazard ratio is estimable**") == 2  # the control, and pooled
    assert "too few events (2 < 5)" in md and "too few events (4 < 5)" in md
    assert "∞" not in md.split("Control arm")[1] and "e+" not in md and "e-" not in md
    hz = pd.read_csv(tmp_path / "out" / "trait_hazards.csv")
    assert hz["hazard_ratio"].isna().all() and hz["p"].isna().all() and hz["note"].notna().all()
    assert (tmp_path / "out" / "trait_hazards.png").is_file()
    # with the events rule lowered, lifelines' own diagnostics still refuse the separated traits
    control = traits.lineages(traits.experiment_runs(exp))
    control = control[control["arm"] == "control"]
    got = traits.trait_hazards(control, ["founder_dexterity", "founder_habitat"], min_events=1)
    assert got["hazard_ratio"].isna().all()
    assert got["note"].str.startswith("complete separation").all(), got["note"].tolist()
