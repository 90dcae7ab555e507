"""Loading a world: YAML file + ``--set`` overrides -> validated :class:`World`.

Every way a config can be wrong ends in one :class:`ConfigError` whose text is
a single paragraph naming the file, the key path (with its YAML line) and what
is allowed. The CLI prints it and exits with code 2.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from evosim.config import yamlsafe
from evosim.config.base import ConfigProblem, Located, format_path, model_of
from evosim.config.maps import load_map
from evosim.config.schema import World
from evosim.errors import ConfigError

EMBEDDED = "<embedded default world>"


def locate(source: str | os.PathLike, loc: tuple, node: Any = None) -> str:
    """``"<source>: <key path> (line N)"``: where a problem is; the line if ``node`` (a YAML tree) has ``loc``."""
    line = yamlsafe.line_of(node, loc)
    return f"{source}: {format_path(loc)}{f' (line {line})' if line else ''}"


def _where(loc: tuple, source: str, node: Any, set_paths: Mapping[tuple, str] | None) -> str:
    """:func:`locate` of ``loc``, named after the ``--set`` override that set it (or a key above it), if one did."""
    origin = _set_by(loc, set_paths)
    return locate(f"--set {origin}", loc) if origin else locate(source, loc, node)


def _set_by(loc: tuple, set_paths: Mapping[tuple, str] | None) -> str | None:
    """The text of the ``--set`` override that set ``loc`` or a key above it, if one did.

    ``set_paths`` is in the order the overrides applied: the last one covering ``loc`` gave its value.
    """
    return next(
        (s for p, s in reversed(list((set_paths or {}).items())) if loc[: len(p)] == p), None
    )


def _model_at(
    model: type[BaseModel] | None, loc: tuple
) -> tuple[FieldInfo | None, type[BaseModel] | None]:
    """(field at ``loc`` below ``model``, model of that field's value); (None, None) where ``loc`` leaves the schema."""
    fld = None
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", None) or {}
        if part not in fields:
            return None, None
        fld = fields[part]
        model = model_of(fld.annotation)
    return fld, model


def _field_help(model: type[BaseModel], loc: tuple) -> str | None:
    """Description of the schema field at ``loc``, if there is one."""
    fld, _ = _model_at(model, loc)
    return fld.description if fld is not None else None


_PYDANTIC_TAG = re.compile(
    r"^(function-(after|before|wrap|plain)|tagged-union|union|nullable|lax-or-strict|json-or-python|default|chain)\["
    r"|^draw:"  # the tags of a gene setting's forms (evosim.config.draws)
)


def _clean_loc(loc: tuple) -> tuple:
    # pydantic inserts validator names like 'function-after[...]' into loc; user keys stay
    return tuple(p for p in loc if not (isinstance(p, str) and _PYDANTIC_TAG.match(p)))


def _safe_repr(v: Any, limit: int = 80) -> str:
    """repr() that never raises (ints of > 4300 digits) and stays short."""
    try:
        r = repr(v)
    except ValueError:
        return f"<an integer of about {int(v.bit_length() * 0.30103)} digits>"
    return r if len(r) <= limit else r[: limit - 3] + "..."


def validation_message(
    err: ValidationError,
    source: str,
    node: Any,
    set_paths: Mapping[tuple, str] | None = None,
    model: type[BaseModel] = World,
) -> str:
    """One paragraph for a failed validation of ``model``: at most three problems, each naming where it is.

    Args:
        err: the validation error.
        source: what was validated (a file name), named in front of each problem.
        node: the YAML tree of ``source`` (for line numbers), or None.
        set_paths: key paths set by ``--set`` overrides -> the override's text; a
            problem at or below one of them is named after that override.
        model: the validated schema (for the allowed keys and field descriptions).
    """
    problems = []
    for e in err.errors(include_url=False):
        raw = tuple(e["loc"])
        loc = (
            (*_clean_loc(raw[:-1]), raw[-1])
            if e["type"] == "extra_forbidden" and raw
            else _clean_loc(raw)
        )
        msg = e["msg"].removeprefix("Value error, ")
        located = (e.get("ctx") or {}).get("error")
        if isinstance(located, Located):  # a model validator's problem below the model
            loc, msg = (*loc, *located.loc), located.msg
        where = _where(loc, source, node, set_paths)
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1], model)
            guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
            msg = f"unknown key '{loc[-1]}'" + (f" (did you mean '{guess[0]}'?)" if guess else "")
            msg += f"; allowed here: {', '.join(allowed)}" if allowed else ""
        elif e["type"] in ("model_type", "model_attributes_type", "dict_type"):
            msg = _mapping_expected(model, loc, e.get("input"))
        elif (
            e["type"] not in ("value_error", "assertion_error")
            and "input" in e
            and not isinstance(e["input"], (dict, list))
        ):
            msg += f" (got {_safe_repr(e['input'])})"
        help_ = _field_help(model, loc)
        if help_ and e["type"] != "extra_forbidden":
            msg += f"; {format_path(loc)} is: {help_}"
        problems.append(f"{where}: {msg}")
    extra = len(problems) - 3
    text = " | ".join(problems[:3])
    if extra > 0:
        text += f" | and {extra} more problem(s)"
    return text


def _mapping_expected(model: type[BaseModel], loc: tuple, got: Any) -> str:
    """The message for a single value (or list) where a mapping of keys belongs: its keys and an example."""
    _, at = _model_at(model, loc)
    keys = list(getattr(at, "model_fields", {}))
    number = isinstance(got, (int, float)) and not isinstance(got, bool)
    if "mean" in keys and number:  # a gene given as its mean
        field, value = "mean", got
    else:  # the first key with a plain default
        plain = [(k, f.default) for k, f in getattr(at, "model_fields", {}).items()
                 if isinstance(f.default, (str, int, float)) and not isinstance(f.default, bool)]  # fmt: skip
        field, value = plain[0] if plain else (keys[0] if keys else "key", "...")
    return (
        f"expected a mapping of keys ({', '.join(keys)}), got {_safe_repr(got)}; "
        f"for example {{{field}: {value}}}"
    )


def _allowed_keys(loc: tuple, model: type[BaseModel] = World) -> list[str]:
    """Keys allowed in the mapping at ``loc`` below ``model`` (none if ``loc`` is not a mapping of the schema)."""
    _, at = _model_at(model, loc)
    return list(getattr(at, "model_fields", {}))


def _unknown_key(loc: tuple, model: type[BaseModel] | None = World) -> bool:
    """True if ``loc`` passes through a key the schema does not have (validation reports those)."""
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None:  # a free-form mapping (e.g. a selector): its keys are checked by type
            return False
        fields = model.model_fields
        if part not in fields:
            return True
        model = model_of(fields[part].annotation)
    return False


def _check_finite(data: Any, loc: tuple = ()) -> None:
    """Refuse NaN and infinities (YAML's .nan / .inf) under the schema's keys.

    An unknown key is left to validation, which names it as such.
    """
    if isinstance(data, float) and not math.isfinite(data) and not _unknown_key(loc):
        raise ValueError((loc, f"{data} is not allowed; give a finite number"))
    if isinstance(data, Mapping):
        for k, v in data.items():
            _check_finite(v, (*loc, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _check_finite(v, (*loc, i))


_NO_VALUE = object()

_KEY_PIECE = re.compile(r"\s*([^\[\]]*?)\s*((?:\[[^\[\]]*\]\s*)*)")


def split_key(key: str) -> list[str]:
    """The parts of a ``--set`` key path: ``"species[0].genes.brain"`` -> ``["species", "0", "genes", "brain"]``.

    A list entry is selected by index or name either way: ``species.0`` and
    ``species[0]`` (the form of the key paths in messages) are the same key, as are
    ``species.primate`` and ``species[primate]``.

    Raises:
        ValueError: an empty part (``a..b``, ``a[]``) or an unmatched bracket; the
            text says which.
    """
    parts: list[str] = []
    for piece in key.split("."):
        m = _KEY_PIECE.fullmatch(piece)
        if m is None:
            raise ValueError(
                "has an unmatched '[' or ']' (a list entry is written species[0] or species.0)"
            )
        name, brackets = m.groups()
        subs = [b.strip() for b in re.findall(r"\[([^\[\]]*)\]", brackets)]
        if (not name and not subs) or any(not b for b in subs):
            raise ValueError("has an empty part")
        parts += ([name] if name else []) + subs
    return parts


def _apply_set(data: dict, assignment: str, value: Any = _NO_VALUE) -> tuple[tuple, str]:
    """Apply one ``a.b.c=VALUE`` to ``data`` in place; return (where, assignment).

    ``value``: a Python value for the key path ``assignment`` (the mapping
    form of overrides); by default VALUE is read from the assignment as YAML.
    ``where`` is the key path set, or the first key on it that ``data`` did not
    have: a problem at or below it comes from this override (an unknown key it
    adds is named after it, not after the world file).
    """
    if value is _NO_VALUE:
        if "=" not in assignment:
            raise ConfigError(
                f"--set {assignment}: expected KEY.PATH=VALUE, for example --set world.width=128"
            )
        key, _, raw = assignment.partition("=")
        try:
            value, _ = yamlsafe.parse(raw) if raw.strip() else (None, None)
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"--set {assignment}: the value is not valid YAML ({_yaml_reason(exc)})"
            ) from None
        except RecursionError:
            raise ConfigError(f"--set {assignment}: the value is nested too deeply") from None
    else:
        key = assignment
        assignment = f"{key}={_safe_repr(value)}"
    try:
        parts = split_key(key)
    except ValueError as exc:
        raise ConfigError(f"--set {assignment}: the key path '{key.strip()}' {exc}") from None
    loc: list[Any] = []
    added: int | None = None  # length of loc at the first key data did not have
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if part.lstrip("-").isdigit():
                idx = int(part)
            else:  # a list of named things (species): select by name
                found = next(
                    (
                        j
                        for j, x in enumerate(node)
                        if isinstance(x, dict) and x.get("name") == part
                    ),
                    None,
                )
                if found is None:
                    names = [x.get("name") for x in node if isinstance(x, dict)]
                    raise ConfigError(
                        f"--set {assignment}: no entry named '{part}' in {format_path(loc)}; names: {names}"
                    )
                idx = found
            if not 0 <= idx < len(node):
                raise ConfigError(
                    f"--set {assignment}: index {idx} is out of range for {format_path(loc)} (length {len(node)})"
                )
            loc.append(idx)
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            loc.append(part)
            if added is None and part not in node:
                added = len(loc)
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ConfigError(
                f"--set {assignment}: {format_path(loc)} is a single value, it has no key '{part}'"
            )
    return tuple(loc[:added]), assignment


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):  # its str() spans two lines
        return f"character {exc.position + 1}: {exc.character!r} is not allowed in YAML text"
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"


def _merge(base: dict, top: dict) -> dict:
    """Deep-merge ``top`` over ``base``: mappings merge, everything else replaces."""
    out = dict(base)
    for k, v in top.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_world_file(
    path: str | Path, kind: str = "world", keys: str = "world:, species:, ..."
) -> tuple[dict, Any]:
    """Read a world (or another evosim YAML ``kind``) file into (raw mapping, node tree). Raises ConfigError."""
    p = Path(path)
    try:
        if p.is_dir():
            raise ConfigError(f"{p}: is a folder, expected a {kind} YAML file")
        with open(p, "rb") as fh:  # read at most the limit: stat() says 0 for pipes and devices
            raw = fh.read(yamlsafe.MAX_YAML_BYTES + 1)
        if len(raw) > yamlsafe.MAX_YAML_BYTES:
            raise ConfigError(
                f"{p}: the file is larger than a {kind} file may be (at most {yamlsafe.MAX_YAML_BYTES} bytes)"
            )
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except PermissionError:
        raise ConfigError(f"{p}: cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    try:
        data, node = yamlsafe.parse(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML at {_yaml_reason(exc)}") from None
    except RecursionError:
        raise ConfigError(f"{p}: the YAML is nested too deeply") from None
    if data is None:
        hint = (
            "; run without a file for the default world (evosim run), or start from the "
            "commented template: evosim init > my_world.yaml"
            if kind == "world"
            else ""
        )
        raise ConfigError(f"{p}: empty {kind} file (nothing but blank lines or comments){hint}")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{p}: the top level must be a mapping of keys ({keys}), got {type(data).__name__}"
        )
    return data, node


#: Overrides: ``--set`` strings ``"a.b.c=VALUE"`` (VALUE read as YAML), a mapping ``{"a.b.c": value}``, or
#: ``("a.b.c", value)`` pairs (applied in order, so a later one wins).
Overrides = Iterable[str] | Mapping[str, Any] | Iterable[tuple[str, Any]]


def _override_items(overrides: Overrides) -> Iterator[tuple[str, Any]]:
    """(key path or ``--set`` string, value or ``_NO_VALUE``) of each override, in order."""
    for item in overrides.items() if isinstance(overrides, Mapping) else overrides:
        if isinstance(item, str):
            yield item, _NO_VALUE
        else:
            key, value = item
            yield str(key), copy.deepcopy(value)


def load_world(path: str | Path | None = None, overrides: Overrides = ()) -> World:
    """Load and validate a world.

    Args:
        path: a world YAML file; ``None`` for the embedded default world.
        overrides: ``--set`` style strings ``"a.b.c=VALUE"``, a mapping
            ``{"a.b.c": value}`` or ``("a.b.c", value)`` pairs, applied in order.

    Returns:
        The validated world.

    Raises:
        ConfigError: with a one-paragraph message naming file, key path, line.
    """
    if path is None:
        return world_from_data({}, None, EMBEDDED, overrides)
    data, node = read_world_file(path)
    return world_from_data(data, node, str(path), overrides, Path(path).parent)


def world_from_data(
    data: dict, node: Any, source: str, overrides: Overrides = (), folder: Path | None = None
) -> World:
    """Validate a world read by :func:`read_world_file` (``data`` is not changed), with ``overrides`` applied.

    Args:
        data: the file's raw mapping (missing keys take their defaults).
        node: its YAML tree (for line numbers), or None.
        source: the file's name in messages.
        overrides: as for :func:`load_world`.
        folder: the file's folder, against which a habitat map file is resolved.

    Raises:
        ConfigError: with a one-paragraph message naming file, key path, line.
    """
    data, set_paths = _with_overrides(data, overrides)
    try:
        _check_finite(data)
    except ValueError as exc:
        loc, msg = exc.args[0]
        raise ConfigError(f"{_where(loc, source, node, set_paths)}: {msg}") from None
    try:
        world = World.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, source, node, set_paths)) from None
    habitat = world.world.habitat
    given = habitat.file
    if habitat.file and folder is not None:
        habitat.file = str((folder / habitat.file).resolve())
    if habitat.source == "file":
        assert given is not None  # the schema requires a file for `source: file`
        resolved = str(Path(habitat.file or given).resolve())
        name = given if given == resolved else f"{given} (resolved to {resolved})"
        try:
            load_map(resolved, world.world.width, world.world.height, name)
        except ConfigProblem as exc:
            raise _placed(exc, source, node, set_paths, data) from None
    return world


def _with_overrides(data: dict, overrides: Overrides) -> tuple[dict, dict[tuple, str]]:
    """A copy of a world file's ``data`` with the defaults filled in and ``overrides`` applied.

    Returns:
        The data, and the key paths the overrides set (see :func:`_apply_set`) -> their
        ``--set`` text, in the order they applied.

    Raises:
        ConfigError: an override that cannot be applied.
    """
    data = copy.deepcopy(data)
    if "founders" in data and "species" not in data:  # drawn founders only
        data["species"] = []
    data = _merge(World().model_dump(mode="json"), data)
    set_paths: dict[tuple, str] = {}
    for key, value in _override_items(overrides):
        loc, text = _apply_set(data, key, value)
        set_paths.pop(loc, None)  # re-inserted: the order is the order applied
        set_paths[loc] = text
    return data, set_paths


def _placed(
    problem: ConfigProblem, source: str, node: Any, set_paths: Mapping[tuple, str], data: dict
) -> ConfigError:
    """``problem`` as the one-paragraph message: ``FILE: key.path (line N): reason (detail, line M)``.

    ``data`` is the world's data with the overrides applied (:func:`_with_overrides`): a
    species of a run past those of ``species`` was drawn from ``founders.prior``, and is
    named there.
    """
    loc = problem.loc
    species = data.get("species")
    n_listed = len(species) if isinstance(species, list) else 0
    if loc[:1] == ("species",) and len(loc) > 1 and isinstance(loc[1], int) and loc[1] >= n_listed:
        if data.get("founders"):
            loc = ("founders", "prior", *loc[2:])
    text = f"{_where(loc, source, node, set_paths)}: {problem.reason}"
    if problem.detail:
        at = ""
        if problem.cause is not None:  # where the value that caused it was given, if it was
            origin = _set_by(problem.cause, set_paths)
            line = yamlsafe.line_of(node, problem.cause, exact=True)
            at = f", from --set {origin}" if origin else f", line {line}" if line else ""
        text += f" ({problem.detail}{at})"
    return ConfigError(text)


def locate_problem(
    problem: ConfigProblem, path: str | Path | None = None, overrides: Overrides = ()
) -> ConfigError:
    """A refusal found once the world was loaded (e.g. by the engine), named where it is in that world.

    The world file ``path`` is read again for the lines, and ``overrides`` applied again to
    tell which ``--set`` set a key.

    Args:
        problem: the refusal, at a key path of the world.
        path: the world file the world was loaded from; None for the embedded default world.
        overrides: the overrides it was loaded with, as for :func:`load_world`.

    Returns:
        The error to raise, its message as that of any other bad key:
        ``FILE: key.path (line N): reason (detail, line M)``, or ``--set KEY=VALUE: key.path: ...``
        for a key that an override set.
    """
    data: dict = {}
    node: Any = None
    if path is not None:
        try:
            data, node = read_world_file(path)
        except ConfigError:  # no longer readable: no lines to give
            pass
    try:
        data, set_paths = _with_overrides(data, overrides)
    except ConfigError:
        set_paths = {}
    return _placed(problem, EMBEDDED if path is None else str(path), node, set_paths, data)


def world_to_dict(world: World) -> dict:
    """Plain-data form of a world, as written to a run's ``config.yaml``."""
    return world.model_dump(mode="json")
