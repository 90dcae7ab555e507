"""`evosim init`: the commented template is the default world, and every key is documented."""

from __future__ import annotations

from typing import get_args

from pydantic import BaseModel

from evosim import load_world
from evosim.config.schema import World
from evosim.config.template import commented_template, parameter_rows, parameter_table


def models(root: type[BaseModel] = World) -> dict[str, type[BaseModel]]:
    """Every model class reachable from ``root`` (fields, list items, optionals)."""
    out: dict[str, type[BaseModel]] = {}
    todo = [root]
    while todo:
        m = todo.pop()
        if m.__name__ in out:
            continue
        out[m.__name__] = m
        for f in m.model_fields.values():
            for a in (f.annotation, *get_args(f.annotation)):
                if isinstance(a, type) and issubclass(a, BaseModel):
                    todo.append(a)
    return out


def test_every_schema_field_has_a_description():
    missing = [
        f"{name}.{field}"
        for name, m in models().items()
        for field, info in m.model_fields.items()
        if not (info.description and info.description.strip())
    ]
    assert not missing, f"undocumented keys: {missing}"


def test_template_loads_back_to_the_default_world(tmp_path):
    text = commented_template()
    p = tmp_path / "template.yaml"
    p.write_text(text, encoding="utf-8")
    assert load_world(p) == World()


def test_template_of_another_world_round_trips(tmp_path):
    w = load_world(
        overrides={
            "world.width": 40,
            "species.primate.genes.brain.max": 0.6,
            "physiology.intake": 2.5,
        }
    )
    p = tmp_path / "w.yaml"
    p.write_text(commented_template(w), encoding="utf-8")
    assert load_world(p) == w


def test_template_comments_every_key():
    lines = commented_template().splitlines()
    assert lines[0].startswith("#")
    for i, ln in enumerate(lines):
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        key = s.removeprefix("- ").split(":")[0]
        assert lines[i - 1].strip().startswith("#"), f"line {i + 1} ({key}) has no comment above it"


def test_parameter_table_lists_every_leaf_key():
    table = parameter_table()
    lines = table.splitlines()
    assert lines[0] == "| key | default | meaning |" and lines[1] == "|---|---|---|"
    rows = parameter_rows()
    assert len(lines) == 2 + len(rows)
    keys = [r[0] for r in rows]
    assert len(keys) == len(set(keys))
    for k in (
        "world.width",
        "physiology.intake",
        "species[].genes.brain.mutation",
        "sim.population_cap",
    ):
        assert k in keys
    for ln in lines[2:]:
        cells = ln.replace("\\|", "").split("|")
        assert len(cells) == 5, ln  # three columns: pipes inside a cell are escaped
        assert cells[3].strip(), f"no meaning for {cells[1]}"


def test_docs_parameter_table_is_current():
    """docs/parameters.md holds the table generated from the schema (regenerate it when the schema changes)."""
    from pathlib import Path

    from evosim.config.template import parameter_table

    doc = (Path(__file__).resolve().parents[2] / "docs" / "parameters.md").read_text(
        encoding="utf-8"
    )
    assert parameter_table().strip() in doc, (
        "docs/parameters.md is stale: see its header for the regenerate command"
    )
