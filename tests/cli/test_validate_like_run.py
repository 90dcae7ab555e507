"""`evosim validate` refuses what `evosim run` refuses, with the same message naming file, key and line.

The founders' start habitat is checked on the habitat map a run would build; map
file refusals name the world file; `--set` takes key paths as messages write them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import TINY, assert_one_line, set_args

NO_LAND = "name: x\nworld:\n  width: 32\n  height: 32\n  habitat: {land_fraction: 0.0}\n"


def _error(result) -> str:
    """The one ``evosim: error:`` line of a refused command (exit code 2, no traceback), without its prefix."""
    assert result.exit_code == 2, f"exit code {result.exit_code}: {result.output!r}"
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("evosim: error: ")]
    assert len(lines) == 1, result.output
    assert_one_line(lines[0])
    return lines[0].removeprefix("evosim: error: ")


def _validate_and_run(cli, tmp_path: Path, *args) -> tuple[str, str]:
    """(validate's message, run's message) for the same arguments; the run leaves no folder."""
    out = tmp_path / "runs" / "X"
    v = _error(cli("validate", *args))
    r = _error(cli("run", *args, "--ticks", 2, "-q", "--out", out))
    assert not out.exists()
    return v, r


def test_no_land_is_refused_by_validate_as_by_run(cli, tmp_path, world_file):
    w = world_file(NO_LAND, "57_noland.yaml")
    v, r = _validate_and_run(cli, tmp_path, w)
    assert v == r
    assert v == (
        f"{w}: species[0].start: species 'primate' starts on land (start: match, and "
        "genes.habitat.mean is 0.9) but the map has no land cells "
        "(world.habitat.land_fraction 0.0, line 5)"
    )


def test_a_start_given_in_the_file_has_its_line(cli, tmp_path, world_file):
    w = world_file(
        "world:\n  width: 32\n  height: 32\n  habitat: {land_fraction: 1.0}\n"
        "species:\n  - name: eel\n    count: 5\n    start: water\n"
    )
    v, r = _validate_and_run(cli, tmp_path, w)
    assert v == r
    assert v.startswith(f"{w}: species[0].start (line 8): species 'eel' starts on water but ")
    assert v.endswith("the map has no water cells (world.habitat.land_fraction 1.0, line 4)")


def test_a_start_habitat_removed_by_a_set_names_the_set(cli, tmp_path):
    v, r = _validate_and_run(cli, tmp_path, "--set", "world.habitat.land_fraction=0")
    assert v == r
    assert v.startswith(
        "<embedded default world>: species[0].start: species 'primate' starts on land"
    )
    assert v.endswith("(world.habitat.land_fraction 0.0, from --set world.habitat.land_fraction=0)")


def test_a_start_set_by_a_set_is_named_after_it(cli, tmp_path, world_file):
    w = world_file(NO_LAND)
    args = [w, "--set", "species[0].start=land"]
    v, r = _validate_and_run(cli, tmp_path, *args)
    assert v == r
    assert v.startswith("--set species[0].start=land: species[0].start: species 'primate' starts")


def test_a_rounded_land_fraction_says_so(cli, world_file):
    w = world_file(NO_LAND.replace("0.0}", "0.0001}"))
    v = _error(cli("validate", w))
    assert "(world.habitat.land_fraction 0.0001 of the 32x32 cells rounds to no land, line 5)" in v


def test_drawn_founders_are_named_at_their_prior(cli, tmp_path, world_file):
    w = world_file(
        "world:\n  width: 32\n  height: 32\n  habitat: {land_fraction: 0.0}\nspecies: []\n"
        "founders:\n  count: 2\n  prior:\n    name: f\n    count: 5\n    start: land\n"
    )
    v, r = _validate_and_run(cli, tmp_path, w)
    assert v == r
    assert v.startswith(f"{w}: founders.prior.start (line 11): species 'f1' starts on land but ")


def test_validate_passes_a_world_whose_founders_fit(cli, world_file):
    w = world_file(NO_LAND.replace("0.0}", "0.5}"))
    r = cli("validate", w)
    assert r.exit_code == 0, r.output
    assert f"{w}: OK" in r.output
    anywhere = [a for k in range(4) for a in ("--set", f"species.{k}.start=any")]
    r = cli("validate", world_file(NO_LAND), *anywhere)
    assert r.exit_code == 0, r.output


# ------------------------------------------------------------------ map files
@pytest.fixture
def map_world(world_file):
    """``map_world(file)``: an 8x8 world reading its habitat from ``file`` (line 7)."""

    def make(name: str) -> Path:
        return world_file(
            f"name: x\nworld:\n  width: 8\n  height: 8\n  habitat:\n    source: file\n    file: {name}\n",
            "island.yaml",
        )

    return make


def test_missing_map_names_the_world_file_key_and_line(cli, tmp_path, map_world):
    w = map_world("nonexistent.png")
    v, r = _validate_and_run(cli, tmp_path, w)
    assert (
        v
        == r
        == (
            f"{w}: world.habitat.file (line 7): no such map file nonexistent.png "
            f"(resolved to {(tmp_path / 'nonexistent.png').resolve()})"
        )
    )


def test_map_of_the_wrong_size_names_the_world_file_key_and_line(cli, tmp_path, map_world):
    (tmp_path / "map.txt").write_text("####\n....\n", encoding="utf-8")
    w = map_world("map.txt")
    v, r = _validate_and_run(cli, tmp_path, w)
    assert (
        v
        == r
        == (
            f"{w}: world.habitat.file (line 7): the map map.txt (resolved to "
            f"{(tmp_path / 'map.txt').resolve()}) is 4x2 but world.width x world.height is 8x8"
        )
    )


def test_a_map_without_land_is_named_in_the_start_refusal(cli, tmp_path, map_world):
    (tmp_path / "sea.txt").write_text("........\n" * 8, encoding="utf-8")
    w = map_world("sea.txt")
    v, r = _validate_and_run(cli, tmp_path, w)
    assert v == r
    assert v.startswith(f"{w}: species[0].start: species 'primate' starts on land")
    assert v.endswith(f"(world.habitat.file {(tmp_path / 'sea.txt').resolve()}, line 7)")


# ------------------------------------------------------------------ --set key paths
def test_set_takes_a_key_path_copied_from_a_message(cli, tmp_path):
    r = cli("validate", *set_args(TINY), "--set", "species[0].count=5")
    assert r.exit_code == 0, r.output
    out = tmp_path / "runs" / "ok"
    r = cli("run", *set_args(TINY), "--set", "species[1].count=5", "--ticks", 1, "-q", "--out", out)
    assert r.exit_code == 0, r.output
    assert "count: 5" in (out / "config.yaml").read_text(encoding="utf-8")


def test_a_bad_bracketed_set_names_the_set_not_the_file(cli, tmp_path, world_file):
    w = world_file("name: x\n")
    v, r = _validate_and_run(cli, tmp_path, w, "--set", "species[0].count=-5")
    assert v == r
    assert v.startswith("--set species[0].count=-5: species[0].count: ")
    assert str(w) not in v
    v = _error(cli("validate", w, "--set", "specie[0].count=5"))
    assert v.startswith(
        "--set specie[0].count=5: specie: unknown key 'specie' (did you mean 'species'?)"
    )


def test_view_names_the_world_file_too(cli, tmp_path, world_file):
    """`evosim view WORLD --screenshot` refuses a world as `run` does (its argument is `source`)."""
    w = world_file(NO_LAND, "57_noland.yaml")
    shot = tmp_path / "x.png"
    v = _error(cli("view", w, "--screenshot", shot))
    r = _error(cli("run", w, "--ticks", 2, "-q", "--out", tmp_path / "runs" / "X"))
    assert v == r and v.startswith(f"{w}: species[0].start: ")
    assert not shot.exists()
