"""Base class and field helpers shared by the schema modules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field

from evosim.errors import ConfigError

#: Hard limits shared by the schema modules.
MAX_GRID_SIDE = 4096
MAX_POPULATION_CAP = 50_000_000
MAX_TICKS = 100_000_000


class Strict(BaseModel):
    """Base: unknown keys are errors, values are checked on assignment too."""

    # strict: a YAML boolean (yes/on/true) or a quoted number is not silently taken for a number
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, validate_default=True, strict=True
    )


def _f(default, description, **kw):
    """Shorthand for a documented field."""
    return (
        Field(default, description=description, allow_inf_nan=False, **kw)
        if isinstance(default, float)
        else Field(default, description=description, **kw)
    )


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The model class in a field's annotation (``X``, ``list[X]``, ``X | None``, ``list[X] | None``), or None."""
    args = get_args(annotation)
    for a in (annotation, *args, *(b for arg in args for b in get_args(arg))):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


class Located(ValueError):
    """A validation problem at a key path below the model whose validator raises it.

    Pydantic places a model validator's errors at the model itself (for the
    whole world: the top level); the error keeps this exception (its ``ctx``),
    so :func:`evosim.config.load.validation_message` names ``loc`` instead,
    with its line and the ``--set`` that set it.

    Args:
        loc: key path below the validated model, e.g. ``("interventions", 0, "target")``.
        msg: the problem.
    """

    def __init__(self, loc: tuple, msg: str):
        super().__init__(msg)
        self.loc = tuple(loc)
        self.msg = msg


def format_path(loc: Iterable[Any]) -> str:
    """``('species', 0, 'genes')`` -> ``species[0].genes``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


class ConfigProblem(ConfigError):
    """A refusal at a key path of a world, found without the world file at hand.

    Raised where the file is not known: reading a habitat map, placing the founders
    of a run. ``str()`` names the key path only; :func:`evosim.config.load.locate_problem`
    turns it into the usual message naming the world file, the key's line (or the
    ``--set`` that set it) and, for ``detail``, where ``cause`` was set.

    Args:
        loc: key path of the world, e.g. ``("species", 0, "start")``.
        reason: the problem.
        detail: what caused it, shown in parentheses, e.g. ``"world.habitat.land_fraction 0.0"``.
        cause: key path of the value ``detail`` names, if it is one.
    """

    def __init__(
        self, loc: tuple, reason: str, detail: str | None = None, cause: tuple | None = None
    ):
        self.loc = tuple(loc)
        self.reason = reason
        self.detail = detail
        self.cause = None if cause is None else tuple(cause)
        super().__init__(f"{format_path(self.loc)}: {reason}" + (f" ({detail})" if detail else ""))

    def __reduce__(self) -> tuple:  # pickled by its arguments, e.g. from a worker process
        return (type(self), (self.loc, self.reason, self.detail, self.cause))
