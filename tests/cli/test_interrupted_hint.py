"""An interrupted experiment names the command that continues it, with the horizon it was given."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from evosim.cli.experiment import experiment as experiment_cmd
from evosim.experiments import batch
from tests.experiments.identity import regenerate as fx


@pytest.mark.parametrize("extra", [[], ["--ticks", "45"]])
def test_the_continue_hint_repeats_ticks(tmp_path, monkeypatch, extra):
    spec = fx.write_spec(tmp_path, "exp.yaml", fx.EXPERIMENT.replace("TICKS", "30"))

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run_design", interrupted)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        experiment_cmd, [str(spec), "--out", str(out), "-q", "--workers", "1", *extra]
    )
    assert r.exit_code == 130, r.output
    hint = f"(evosim experiment {spec}{' --ticks 45' if extra else ''} --out {out})"
    assert hint in r.output
