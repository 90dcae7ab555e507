"""The JSON Schema of a world file: shipped, current, accepts every ready world, refuses misspelt keys."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from evosim.config.load import load_world
from evosim.config.template import (
    SCHEMA_DIALECT,
    SCHEMA_FILE,
    commented_template,
    world_json_schema,
    world_json_schema_text,
)
from evosim.config.yamlsafe import parse

WORLDS = sorted((Path(__file__).resolve().parents[2] / "worlds").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator():
    schema = world_json_schema()
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft7Validator and schema["$schema"] == SCHEMA_DIALECT
    cls.check_schema(schema)
    return cls(schema)


def errors(validator, data) -> list[str]:
    return [e.message for e in validator.iter_errors(data)]


def test_shipped_schema_is_current():
    assert SCHEMA_FILE.is_file()
    assert SCHEMA_FILE.read_text(encoding="utf-8") == world_json_schema_text(), (
        "evosim/config/world.schema.json is stale: regenerate it with "
        "`evosim schema -o evosim/config/world.schema.json` (remove the old file first)"
    )


@pytest.mark.parametrize("path", WORLDS, ids=lambda p: p.name)
def test_every_ready_world_validates(validator, path):
    data, _ = parse(path.read_text(encoding="utf-8"))
    load_world(path)  # evosim accepts it too
    assert errors(validator, data) == []


def test_the_template_and_an_empty_file_validate(validator):
    assert len(WORLDS) >= 3
    data, _ = parse(commented_template())
    assert errors(validator, data) == []
    assert errors(validator, {}) == []  # every key is optional


@pytest.mark.parametrize(
    ("where", "bad"),
    [((), "speceis"), (("world",), "widht"), (("world", "food", "land"), "capacty")],
)
def test_a_misspelt_key_is_refused(validator, where, bad):
    data, _ = parse(WORLDS[0].read_text(encoding="utf-8"))
    node = data
    for k in where:
        node = node.setdefault(k, {})
    node[bad] = 1
    assert errors(validator, data) == [
        f"Additional properties are not allowed ('{bad}' was unexpected)"
    ]


def test_a_misspelt_key_in_a_species_entry_and_a_bad_value_are_refused(validator):
    data = {"species": [{"name": "x", "cuont": 3}]}
    assert any("'cuont' was unexpected" in m for m in errors(validator, data))
    assert any(
        "-5 is less than the minimum" in m for m in errors(validator, {"world": {"width": -5}})
    )


def test_every_object_forbids_unknown_keys():
    """extra="forbid" on every model becomes additionalProperties: false on every object of the schema."""
    schema = world_json_schema()
    objects = [schema, *schema["$defs"].values()]
    objects = [o for o in objects if o.get("type") == "object" and "properties" in o]
    assert len(objects) > 20
    assert all(o.get("additionalProperties") is False for o in objects)


def test_init_points_editors_at_the_shipped_schema():
    first = commented_template().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["title"] == "World"
    assert commented_template(schema=None).splitlines()[0].startswith("# evosim world file")
