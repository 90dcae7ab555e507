"""A commented world template, a parameter table and a JSON Schema, all generated from the schema.

``evosim init`` prints :func:`commented_template`: every key with its default
and, above it, the field's description (MABE2-style self-documenting config).
Its first line points YAML editors (yaml-language-server: VS Code's YAML
extension, neovim, Helix, ...) at the JSON Schema of a world file, which the
package ships as :data:`SCHEMA_FILE` and ``evosim schema`` prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from evosim.config.base import model_of
from evosim.config.schema import World
from evosim.config.yamlsafe import dump


def _scalar(v: Any) -> str:
    return (
        dump(v).strip().removesuffix("\n...").strip()
        if not isinstance(v, str)
        else dump(v).strip().removesuffix("...").strip()
    )


def _emit(model: BaseModel, indent: int, lines: list[str]) -> None:
    pad = "  " * indent
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if field.description:
            lines.append(f"{pad}# {field.description}")
        if isinstance(value, BaseModel):
            lines.append(f"{pad}{name}:")
            _emit(value, indent + 1, lines)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            lines.append(f"{pad}{name}:")
            for item in value:
                sub: list[str] = []
                _emit(item, indent + 2, sub)
                first = next(i for i, ln in enumerate(sub) if not ln.lstrip().startswith("#"))
                sub[first] = "  " * (indent + 1) + "- " + sub[first].lstrip()
                lines.extend(sub)
        else:
            lines.append(f"{pad}{name}: {_scalar(value)}")


#: The JSON Schema of a world file as shipped with the package (regenerate it with
#: ``evosim schema -o evosim/config/world.schema.json`` when the schema changes; a test checks).
SCHEMA_FILE = Path(__file__).with_name("world.schema.json")
#: JSON Schema dialect declared: pydantic's output uses only draft-07 keywords (its ``$defs``
#: are reached by JSON pointers), and draft 7 is what yaml-language-server validates.
SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"


def world_json_schema() -> dict[str, Any]:
    """The JSON Schema of a world file: pydantic's ``World.model_json_schema()`` with its dialect.

    Unknown keys are refused (``additionalProperties: false``, from the
    models' ``extra="forbid"``). Checks that need code (memory budget,
    cross-field rules) are only made by ``evosim validate``.
    """
    return {"$schema": SCHEMA_DIALECT, **World.model_json_schema()}


def world_json_schema_text() -> str:
    """:func:`world_json_schema` as indented JSON text (what ``evosim schema`` prints)."""
    return json.dumps(world_json_schema(), indent=2, ensure_ascii=False) + "\n"


def schema_modeline(schema: str | Path = SCHEMA_FILE) -> str:
    """The comment that makes yaml-language-server check and complete a file against ``schema``.

    Args:
        schema: a URL, an absolute path, or a path relative to the YAML file.
    """
    return f"# yaml-language-server: $schema={schema}"


def commented_template(world: World | None = None, schema: str | Path | None = SCHEMA_FILE) -> str:
    """YAML text of ``world`` (default: the embedded default world) with a comment on every key.

    Args:
        world: the world to write out.
        schema: where the first line points editors for the JSON Schema
            (default: the copy shipped with the installed package); None: no
            such line.
    """
    lines = [schema_modeline(schema)] if schema is not None else []
    lines += [
        "# evosim world file. Every key is optional: a missing key takes the default shown here.",
        "# Validate with `evosim validate FILE`; run with `evosim run FILE`.",
    ]
    _emit(world or World(), 0, lines)
    if "founders: null" in lines:
        at = lines.index("founders: null")
        lines[at + 1 : at + 1] = FOUNDERS_EXAMPLE.splitlines()
    return "\n".join(lines) + "\n"


#: Printed by ``evosim init`` below ``founders: null``: the prior form, commented out.
FOUNDERS_EXAMPLE = """\
# for example, 8 founding species drawn per seed from one body-plan prior (docs/model.md §5;
# worlds/tree_of_life.yaml); a gene setting left out takes its number default:
# founders:
#   count: 8
#   prior:
#     name: founder            # founder1 ... founder8
#     count: 375
#     adult: true
#     genes:
#       habitat: {mean: {choice: [0.05, 0.95]}, sd: 0.03}
#       dexterity: {mean: {uniform: [0.0, 1.0]}, max: {uniform: [0.05, 1.0]}}
#       sociality: {mean: {beta: [2, 2]}}
#       childhood: {mean: {normal: [0.4, 0.2, 0.0, 1.0]}}"""


def parameter_rows(
    model: BaseModel | type[BaseModel] | None = None, prefix: str = ""
) -> list[tuple[str, str, str]]:
    """(key path, default, description) for every leaf key of the schema.

    Defaults are read from an instance, so nested defaults (water food differs
    from land food) are shown as they really are; list items (species) show
    the defaults of a species entry that does not set the key.

    Args:
        model: an instance (default: the default world), or a model class
            (a list item's): its field defaults are shown, ``(required)``
            where there is none.
        prefix: prepended to every key path.
    """
    model = World() if model is None else model
    cls = model if isinstance(model, type) else type(model)
    rows: list[tuple[str, str, str]] = []
    for name, field in cls.model_fields.items():
        path = f"{prefix}{name}"
        value = (
            field.get_default(call_default_factory=True) if model is cls else getattr(model, name)
        )
        item = model_of(field.annotation)
        if value is None and item is not None:  # an optional section (founders): its keys
            rows.append((path, "null", field.description or ""))
            rows.extend(parameter_rows(item, f"{path}."))
        elif isinstance(value, BaseModel):
            rows.extend(parameter_rows(value, f"{path}."))
        elif isinstance(value, list) and item is not None:
            rows.append((path, f"{len(value)} entries", field.description or ""))
            rows.extend(parameter_rows(item, f"{path}[]."))
        else:
            rows.append(
                (
                    path,
                    "(required)" if value is PydanticUndefined else _scalar(value),
                    field.description or "",
                )
            )
    return rows


def parameter_table() -> str:
    """Markdown table of every leaf key (used to write docs/parameters.md)."""
    out = ["| key | default | meaning |", "|---|---|---|"]
    bar = "\\|"
    out += [f"| `{k}` | `{d}` | {m.replace('|', bar)} |" for k, d, m in parameter_rows()]
    return "\n".join(out) + "\n"
