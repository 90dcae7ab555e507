"""A longer horizon extends a replay folder (docs/replay.md): each future continues from its final
checkpoint and ends byte-identical to a fresh future of the longer horizon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evosim.analysis.replay import NONE
from evosim.errors import ConfigError
from evosim.experiments.replay_design import Replay
from evosim.experiments.replay_select import Branch
from evosim.experiments.replay_spec import read_replay
from evosim.experiments.replay_worlds import source_world
from tests.experiments.test_replay import SPEC, WORLD, spec_file

H0, H1, TICK = 40, 70, 120


# ------------------------------------------------------------------ the validity check
def _design(tmp_path: Path, horizon: int) -> tuple[Replay, Path]:
    """A replay of one branch (tick 120) of a run whose world has an intervention at tick 180, and a
    folder whose manifest records that branch at H0 (nothing runs)."""
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    iv = "interventions:\n  - {name: meteor, when: {tick: 180}, effect: {kind: cull, share: 0.1}}\n"
    (run / "config.yaml").write_text(WORLD + "sim: {ticks: 240, seed: 5}\n" + iv, encoding="utf-8")
    assert [i.name for i in source_world(run).interventions] == ["meteor"]
    spec = read_replay(spec_file(tmp_path, SPEC), horizon)
    b = Branch("control/rep-0/swimmer", run, "control", 0, 5, "swimmer", TICK, "tick", "")
    design = Replay(spec, tmp_path / "r.yaml", tmp_path, [b])
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    old = {**design.manifest(tmp_path / "empty"), "horizon": H0}
    (out / "experiment.json").write_text(json.dumps(old), encoding="utf-8")
    return design, out


def test_an_intervention_of_the_source_in_the_extension_window_is_refused(tmp_path):
    design, out = _design(tmp_path, H1)  # the window 161..190 holds the meteor at 180
    with pytest.raises(ConfigError) as e:
        design.manifest(out)
    msg = str(e.value)
    assert "cannot extend" in msg and "meteor" in msg and "161..190" in msg, msg
    assert f"control/rep-0/swimmer ({NONE})" in msg, msg


def test_an_extension_short_of_the_intervention_is_allowed_and_recorded(tmp_path):
    design, out = _design(tmp_path, 50)  # 161..170: the meteor comes later
    m = design.manifest(out)
    assert m["horizon"] == 50
    assert [(e["from_horizon"], e["to_horizon"]) for e in m["extensions"]] == [(H0, 50)]
