"""A longer horizon extends an experiment folder: byte-identical to running it that long from tick 0."""

from __future__ import annotations

import json

from click.testing import CliRunner

from evosim.cli.experiment import experiment as experiment_cmd
from tests.experiments.test_experiment import spec_text, write_spec
from tests.helpers import folder_bytes, read_summary

T1, T2 = 40, 90
EVERY = "checkpoint_every: 10\n"


def run(spec, out, *args):
    r = CliRunner().invoke(
        experiment_cmd, [str(spec), "--out", str(out), "--workers", "1", "-q", *args]
    )
    assert r.exit_code == 0, r.output
    return r


def test_extension_equals_a_run_to_the_new_horizon_from_tick_0(tmp_path):
    spec = write_spec(tmp_path, spec_text(ticks=T1, replicates=2, extra=EVERY))
    ext, ref = tmp_path / "ext", tmp_path / "ref"
    run(spec, ext)
    assert read_summary(ext / "hands" / "rep-1")["ticks_run"] == T1
    # the dry run names the replicates it would extend and the cost, and changes nothing
    before = folder_bytes(ext)
    dry = run(spec, ext, "--ticks", T2, "--dry-run")
    assert f"to extend: {ext / 'control' / 'rep-0'} (tick {T1} -> {T2})" in dry.output
    assert "4 finished replicate(s) to extend" in dry.output and "core-minute" in dry.output
    assert folder_bytes(ext) == before
    out = run(spec, ext, "--ticks", T2)
    assert "4 extended" in out.output
    run(write_spec(tmp_path / "long", spec_text(ticks=T2, replicates=2, extra=EVERY)), ref)
    for arm in ("control", "hands"):
        for k in range(2):
            a, b = ext / arm / f"rep-{k}", ref / arm / f"rep-{k}"
            assert read_summary(a)["ticks_run"] == T2
            assert folder_bytes(a) == folder_bytes(b), (arm, k)
    m = json.loads((ext / "experiment.json").read_text(encoding="utf-8"))
    assert m["ticks"] == T2 and [(e["from_ticks"], e["to_ticks"]) for e in m["extensions"]] == [
        (T1, T2)
    ]
    # run again: nothing left to do
    assert "4 skipped" in run(spec, ext, "--ticks", T2).output


def test_a_shorter_horizon_or_another_world_is_refused(tmp_path):
    control = "arms:\n  - name: control\n"  # no timed intervention that a shorter run would miss
    spec = write_spec(tmp_path, spec_text(ticks=T1, replicates=1, extra=EVERY, arms=control))
    out = tmp_path / "ext"
    run(spec, out)
    r = CliRunner().invoke(experiment_cmd, [str(spec), "--out", str(out), "--ticks", "30", "-q"])
    assert r.exit_code == 2 and "different ticks" in r.output
    other = write_spec(
        tmp_path / "o",
        spec_text(
            ticks=T1, replicates=1, extra=EVERY + "overrides: {world.width: 40}\n", arms=control
        ),
    )
    r = CliRunner().invoke(experiment_cmd, [str(other), "--out", str(out), "--ticks", "60", "-q"])
    assert r.exit_code == 2 and "arm 'control'" in r.output
