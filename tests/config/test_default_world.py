"""The embedded default world is a 128x128 cut of the calibrated earthlike world (docs/worlds.md).

If the earthlike world is recalibrated, this test names the keys to carry over to the schema's
defaults (evosim/config/schema.py and culture.py), so the two never drift apart silently.
"""

from __future__ import annotations

from pathlib import Path

from evosim import load_world
from evosim.config.schema import World
from tests.helpers import dotted

EARTHLIKE = Path(__file__).resolve().parents[2] / "worlds" / "earthlike.yaml"
#: what the cut changes: the area (a quarter) and with it the founders; the name and description
CUT = {"name", "description", "world.width", "world.height"}


def test_default_world_is_earthlike_on_a_quarter_of_its_area():
    default, earth = World(), load_world(EARTHLIKE)
    a, b = dotted(default.model_dump(mode="json")), dotted(earth.model_dump(mode="json"))
    differ = sorted(k for k in a if a[k] != b[k] and k != "species")
    assert set(differ) <= CUT, (
        f"the default world and worlds/earthlike.yaml differ at {sorted(set(differ) - CUT)}: "
        "carry the recalibration over to the schema defaults (or the other way round)"
    )
    area = default.world.width * default.world.height / (earth.world.width * earth.world.height)
    assert area == 0.25
    assert [s.name for s in default.species] == ["primate", "cetacean", "corvid", "cephalopod"]
    for mine, theirs in zip(default.species, earth.species, strict=True):
        assert mine.count == round(theirs.count * area)
        assert mine.model_copy(update={"count": theirs.count}) == theirs


def test_no_file_is_the_default_world():
    assert load_world() == World()
    assert World().sim.ticks == 10000 and World().name == "default"


def test_the_default_world_runs_and_tells_of_its_four_lineages(cli, tmp_path):
    r = cli("run", "--out", tmp_path / "d", "--ticks", 60)
    assert r.exit_code == 0, r.output
    for name in ("primate", "cetacean", "corvid", "cephalopod"):
        assert f"- {name} (" in r.stdout
    assert "The story of default seed 0 (completed, 60 ticks)" in r.stdout
