"""Keys added to the world since checkpoint format 2 are registered, and left out at their defaults."""

from __future__ import annotations

import json
from pathlib import Path

from evosim.config.compat import LATER_KEYS, as_older
from evosim.config.load import load_world, world_to_dict

ROOT = Path(__file__).resolve().parents[2]
#: every key path of the resolved earthlike world as evosim 83a2b19 (checkpoint format 2) wrote it
FORMAT2_KEYS = set(json.loads((Path(__file__).parent / "format2_keys.json").read_text()))


def _paths(d: dict, at: tuple[str, ...] = ()) -> set[str]:
    out: set[str] = set()
    for k, v in d.items():
        out.add(".".join((*at, k)))
        if isinstance(v, dict):
            out |= _paths(v, (*at, k))
    return out


def _earthlike() -> dict:
    return world_to_dict(load_world(ROOT / "worlds" / "earthlike.yaml"))


def test_every_key_added_since_format_2_is_registered():
    added = _paths(_earthlike()) - FORMAT2_KEYS
    registered = {".".join(p) for p in LATER_KEYS}
    assert added <= registered, (
        f"keys added to the world schema without an entry in evosim.config.compat.LATER_KEYS: "
        f"{sorted(added - registered)} (list them there if their default keeps the model as it was)"
    )
    # and nothing was removed: a folder of the older evosim has no key this one lacks
    assert FORMAT2_KEYS <= _paths(_earthlike())


def test_as_older_gives_the_format_2_shape_at_the_defaults():
    data = _earthlike()
    older = as_older(data)
    assert older is not None
    assert _paths(older) == FORMAT2_KEYS
    assert _paths(data) - _paths(older) == {".".join(p) for p in LATER_KEYS}
    assert data["compute"]["neural_exponent"] == 1.0  # the input is not changed


def test_as_older_refuses_a_later_key_off_its_default():
    data = _earthlike()
    data["compute"]["neural_exponent"] = 2.0
    assert as_older(data) is None
