"""Refusals named like every bad key: ``FILE: key.path (line N): reason`` or the ``--set`` that caused them.

Covers the habitat map file's refusals (named after the world file, not the map),
:func:`evosim.config.load.locate_problem` for a refusal found after loading (the
founders' start habitat), and ``--set`` key paths in the bracket form of messages.
"""

from __future__ import annotations

import copy

import pytest

from evosim import load_world
from evosim.config.base import ConfigProblem
from evosim.config.load import locate_problem, split_key
from evosim.config.maps import load_map
from evosim.errors import ConfigError
from tests.helpers import assert_one_line

MAP_WORLD = "name: x\nworld:\n  width: 8\n  height: 8\n  habitat:\n    source: file\n    file: {}\n"


def _refusal(path, overrides=()) -> str:
    with pytest.raises(ConfigError) as exc:
        load_world(path, overrides)
    msg = str(exc.value)
    assert_one_line(msg)
    return msg


# ------------------------------------------------------------------ map files
def test_missing_map_is_named_after_the_world_file_with_key_and_line(world_file, tmp_path):
    w = world_file(MAP_WORLD.format("nowhere.png"), "island.yaml")
    msg = _refusal(w)
    assert msg.startswith(f"{w}: world.habitat.file (line 7): no such map file nowhere.png ")
    assert f"(resolved to {(tmp_path / 'nowhere.png').resolve()})" in msg


def test_map_of_the_wrong_size_is_named_after_the_world_file(world_file, tmp_path):
    world_file("####\n....\n", "map.txt")
    w = world_file(MAP_WORLD.format("map.txt"), "island.yaml")
    msg = _refusal(w)
    assert msg == (
        f"{w}: world.habitat.file (line 7): the map map.txt (resolved to "
        f"{(tmp_path / 'map.txt').resolve()}) is 4x2 but world.width x world.height is 8x8"
    )


def test_an_absolute_map_path_is_not_repeated(world_file, tmp_path):
    m = world_file("#\n", "one.txt").resolve()
    w = world_file(MAP_WORLD.format(m), "island.yaml")
    msg = _refusal(w)
    assert f"the map {m} is 1x1" in msg and "resolved to" not in msg


def test_map_set_by_an_override_names_the_override(world_file):
    w = world_file("name: x\n")
    msg = _refusal(w, ["world.habitat.source=file", "world.habitat.file=gone.txt"])
    assert msg.startswith("--set world.habitat.file=gone.txt: world.habitat.file: no such map file")
    assert str(w) not in msg.split(": ", 1)[0]


def test_an_empty_text_map_is_refused_not_a_traceback(tmp_path, world_file):
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(ConfigProblem, match="is empty"):
        load_map(tmp_path / "empty.txt", 4, 4)
    msg = _refusal(world_file(MAP_WORLD.format("empty.txt")))
    assert "world.habitat.file (line 7)" in msg and "is empty" in msg


# ------------------------------------------------------------------ problems found after loading
def _start_problem(k: int = 0, name: str = "primate") -> ConfigProblem:
    return ConfigProblem(
        ("species", k, "start"),
        f"species '{name}' starts on land but the map has no land cells",
        "world.habitat.land_fraction 0.0",
        ("world", "habitat", "land_fraction"),
    )


def test_a_problem_alone_names_its_key_path():
    p = _start_problem()
    assert str(p) == (
        "species[0].start: species 'primate' starts on land but the map has no land cells "
        "(world.habitat.land_fraction 0.0)"
    )
    assert isinstance(p, ConfigError) and p.exit_code == 2
    # rebuilt from __reduce__, as a worker process's exception is shipped back (copy takes the
    # same path as pickling, without unpickling anything)
    back = copy.deepcopy(p)
    assert (type(back), back.loc, back.cause, str(back)) == (ConfigProblem, p.loc, p.cause, str(p))


def test_locate_problem_gives_file_key_line_and_the_causes_line(world_file):
    w = world_file(
        "name: x\nworld:\n  habitat: {land_fraction: 0.0}\nspecies:\n  - name: ape\n    start: land\n"
    )
    msg = str(locate_problem(_start_problem(name="ape"), w))
    assert msg == (
        f"{w}: species[0].start (line 6): species 'ape' starts on land but the map has no land "
        "cells (world.habitat.land_fraction 0.0, line 3)"
    )


def test_locate_problem_names_the_set_that_caused_it(world_file):
    w = world_file("name: x\n")
    msg = str(locate_problem(_start_problem(), w, ["world.habitat.land_fraction=0"]))
    assert msg.startswith(f"{w}: species[0].start: ")
    assert msg.endswith(
        "(world.habitat.land_fraction 0.0, from --set world.habitat.land_fraction=0)"
    )
    msg = str(locate_problem(_start_problem(), None, ["species[0].start=land"]))
    assert msg.startswith("--set species[0].start=land: species[0].start: species 'primate'")
    assert msg.endswith("(world.habitat.land_fraction 0.0)")  # a default: no line, no --set


def test_locate_problem_names_a_drawn_founder_at_its_prior(world_file):
    w = world_file(
        "name: x\nspecies: []\nfounders:\n  count: 2\n  prior:\n    name: f\n    start: land\n"
    )
    msg = str(locate_problem(_start_problem(1, "f2"), w))
    assert msg.startswith(f"{w}: founders.prior.start (line 7): species 'f2' starts on land")


# ------------------------------------------------------------------ --set key paths
@pytest.mark.parametrize(
    "key,parts",
    [
        ("species.0.count", ["species", "0", "count"]),
        ("species[0].count", ["species", "0", "count"]),
        (" species [ 0 ] . count ", ["species", "0", "count"]),
        ("species[primate].genes.brain", ["species", "primate", "genes", "brain"]),
        ("interventions[0].target.species", ["interventions", "0", "target", "species"]),
    ],
)
def test_split_key_reads_both_forms_of_a_list_entry(key, parts):
    assert split_key(key) == parts


@pytest.mark.parametrize(
    "key", ["species[0.count", "species]0[.count", "species[].count", "a..b", ""]
)
def test_split_key_refuses_broken_paths(key):
    with pytest.raises(ValueError):
        split_key(key)


def test_set_takes_the_key_path_of_a_message(world_file):
    w = world_file("name: x\nspecies:\n  - name: ape\n  - name: eel\n    start: water\n")
    assert load_world(w, ["species[1].count=7"]).species[1].count == 7
    assert load_world(w, ["species[eel].count=8"]).species[1].count == 8
    assert load_world(w, ["species.1.count=9"]).species[1].count == 9
    assert load_world(w, {"species[0].genes.brain.mean": 0.3}).species[0].genes.brain.mean == 0.3


def test_an_error_of_a_bracketed_set_names_that_set(world_file):
    w = world_file("name: x\n")
    msg = _refusal(w, ["species[0].count=-5"])
    assert msg.startswith("--set species[0].count=-5: species[0].count: ")
    assert str(w) not in msg


def test_an_unknown_key_added_by_a_set_names_that_set(world_file):
    w = world_file("name: x\n")
    msg = _refusal(w, ["specie[0].count=5"])
    assert msg.startswith("--set specie[0].count=5: specie: unknown key 'specie'")
    assert "did you mean 'species'" in msg and str(w) not in msg
    msg = _refusal(w, ["world.widht=5"])
    assert msg.startswith("--set world.widht=5: world.widht: unknown key 'widht'")


def test_an_unknown_key_in_the_file_still_names_the_file(world_file):
    w = world_file("name: x\nworld:\n  widht: 5\n")
    msg = _refusal(w, ["world.width=8"])
    assert msg.startswith(f"{w}: world.widht (line 3): unknown key 'widht'")


def test_the_last_set_of_a_key_is_named(world_file):
    w = world_file("name: x\n")
    msg = _refusal(w, ["world.width=-4", "world={width: -3}"])
    assert msg.startswith("--set world={width: -3}: world.width: ")


def test_broken_bracket_in_a_set_is_one_message():
    with pytest.raises(ConfigError) as exc:
        load_world(None, ["species[0.count=5"])
    assert_one_line(str(exc.value), "--set species[0.count=5", "unmatched", "species[0]")


# ------------------------------------------------------------------ found by the fuzz test
@pytest.mark.parametrize("tag", ["!!int", "!!float", "!!bool"])
def test_a_tag_with_no_value_is_refused_not_a_traceback(world_file, tag):
    """PyYAML raises IndexError / KeyError for an empty `!!int` / `!!bool`: one message, no traceback."""
    msg = _refusal(world_file(f"world:\n  width: {tag}\n"))
    assert "not valid YAML" in msg and "with no value after it" in msg
