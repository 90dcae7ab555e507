"""Run folders written by an older evosim: the keys added since, at their defaults, left out.

A newer evosim adds parameters, each with a default that keeps the model as it was (the
project's rule: a new mechanism is off, or equal to the old behaviour, by default). A run's
resolved config then gains keys, and every hash of it -- the checkpoint's ``world_sha256``, an
experiment's arm fingerprints -- changes although the run is the same, so a folder written by
the older evosim could no longer be resumed or extended. :data:`LATER_KEYS` lists the keys added
since the oldest format this evosim continues; :func:`as_older` gives a resolved world as the
older evosim wrote it, so those hashes can be compared, and refuses when a later key is set to
anything but its default (then the older evosim could not have made the run).
tests/config/test_compat.py fails when a key is added to the schema without being listed here.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from evosim.config.schema import World

#: Keys of the resolved world added since checkpoint format 2 (evosim before neural compute),
#: the oldest run folders this evosim resumes and extends. Each one's default keeps the model and
#: every output the older evosim wrote as they were.
LATER_KEYS: tuple[tuple[str, ...], ...] = (
    ("compute", "neural_flop_per_agent_tick"),  # neural compute (issue 24); checkpoint format 3
    ("compute", "neural_exponent"),
)


def _value(data: dict, path: tuple[str, ...]) -> Any:
    for k in path:
        data = data[k]
    return data


def at_default(data: dict, path: tuple[str, ...]) -> bool:
    """Whether ``data``'s value at ``path`` is :class:`World`'s default for that key.

    False when the path does not lead through the schema's models to a field (e.g. into a list).
    """
    cls: Any = World
    for i, key in enumerate(path):
        fields = getattr(cls, "model_fields", None)
        if not isinstance(fields, dict) or key not in fields:
            return False
        field = fields[key]
        if i == len(path) - 1:
            default = field.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):
                default = default.model_dump(mode="json")
            return bool(_value(data, path) == default)
        cls = field.annotation
    return False


def as_older(data: dict) -> dict | None:
    """``data`` (a resolved world, ``world_to_dict``) without :data:`LATER_KEYS`, if each is at
    its default; None when one is set to something else (no older evosim made such a run)."""
    present = [p for p in LATER_KEYS if _has(data, p)]
    if not all(at_default(data, p) for p in present):
        return None
    out = copy.deepcopy(data)
    for path in present:
        del _value(out, path[:-1])[path[-1]]
    return out


def shapes(data: dict) -> list[dict]:
    """``data`` (a resolved world) as this evosim writes it, then as an older one wrote it (if an
    older evosim could have made the run): every hash of a run's world that a folder may hold is
    the hash of one of these."""
    older = as_older(data)
    return [data] if older is None else [data, older]


def _has(data: dict, path: tuple[str, ...]) -> bool:
    for k in path:
        if not isinstance(data, dict) or k not in data:
            return False
        data = data[k]
    return True
