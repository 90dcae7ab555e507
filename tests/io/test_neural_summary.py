"""Neural compute in summary.json (issue 24, item 4): its fields, and a resumed run that keeps them
byte for byte when the first detection falls after the interruption or before it."""

from __future__ import annotations

import pytest

from evosim import load_run, load_world
from evosim.io import runner
from tests.engine.test_neural import FAST
from tests.helpers import folder_bytes, read_summary
from tests.io.test_resume import interrupt_at

TICKS = 60


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("neural") / "run"
    runner.run(load_world(overrides=FAST), out, ticks=TICKS, seed=3, checkpoint_every=10)
    return out


def test_summary_has_the_neural_figures_world_per_clade_and_per_k(reference):
    s = read_summary(reference)
    nc = s["compute"]["neural"]
    assert nc["flop_per_agent_tick"] == 2.6e21 and nc["exponent"] == 1.0
    assert nc["flop"] > 0 and nc["flop_k"]["k1"] == nc["flop"]  # k = 1: the configured column
    assert nc["flop_k"]["k1"] > nc["flop_k"]["k2"] > nc["flop_k"]["k3"] > 0  # brains below 1
    assert set(nc["flop_by_clade"]) == {"grazer", "swimmer"}
    assert sum(nc["flop_by_clade"].values()) == pytest.approx(nc["flop"], rel=1e-12)
    fi, to = s["first_intelligent"], nc["to_first_intelligent"]
    assert fi is not None and fi["neural_flop"] == to["flop"] < nc["flop"]
    sp = load_run(reference).species.set_index("name")
    clade = sp.loc[sp.loc[fi["species"], "root"] == sp["root"]].index[0]
    assert fi["neural_flop_clade"] == to["flop_by_clade"][clade]
    assert s["first_technological"] is None and nc["to_first_technological"] is None


def test_another_exponent_changes_only_the_configured_figures(tmp_path, reference):
    out = tmp_path / "run"
    world = load_world(overrides={**FAST, "compute.neural_exponent": 2.0})
    runner.run(world, out, ticks=TICKS, seed=3)
    a, b = read_summary(reference)["compute"]["neural"], read_summary(out)["compute"]["neural"]
    assert b["flop_k"] == a["flop_k"]  # the same world: k = 1, 2, 3 from either run
    assert b["flop"] == a["flop_k"]["k2"] and b["exponent"] == 2.0


@pytest.mark.parametrize("stop", [3, 7, 31])  # before the first detection (tick 5) and after
def test_interrupted_and_resumed_run_keeps_the_neural_figures_byte_for_byte(
    tmp_path, reference, stop
):
    out = tmp_path / "run"
    with pytest.raises(runner.Interrupted):
        runner.run(
            load_world(overrides=FAST),
            out,
            ticks=TICKS,
            seed=3,
            checkpoint_every=10,
            progress=interrupt_at(stop),
        )
    assert read_summary(out)["compute"]["neural"]["flop"] > 0
    runner.resume(out)
    assert folder_bytes(out, exclude=["checkpoints"]) == folder_bytes(
        reference, exclude=["checkpoints"]
    )
