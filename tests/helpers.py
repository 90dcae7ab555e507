"""Shared helpers for the engine tests (imported as ``tests.helpers``).

Kernels are called through :func:`call`, which passes each argument *by the
name the kernel declares*, so a kernel that gains an argument (``age``,
``guardian`` ...) keeps working with these tests as long as the test supplies
an array of that name; otherwise the error names the missing argument. A
kernel argument that is one of the engine's named tuples (``a``, ``cells``,
``sa``, ``index``, ``buf``, ``clock``, ``sums``, ``lad``; :data:`NAMED`) is
built from the arrays of its fields' names (:func:`named`).
"""

from __future__ import annotations

import csv
import inspect
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from evosim.config.load import load_world
from evosim.config.schema import HardFoodConfig, World
from evosim.defaults import AGENT_FIELDS, GENES, GENOME_DTYPE, N_GENES, ROW_DTYPE
from evosim.engine import runtime
from evosim.engine import state as st
from evosim.engine.kernels import spatial
from evosim.engine.params import Params, ladder_from_world, params_from_world
from evosim.engine.species import SpeciesRegistry
from evosim.engine.world import food_arrays

#: The tiny world of the suite (32x32; 60 grazers on land, 60 swimmers in water; the physics of the
#: default world before issue 14), a world file of its own.
TINY_FILE = Path(__file__).resolve().parent / "worlds" / "tiny.yaml"


def dotted(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists (species, the ladder) stay whole values."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, Mapping):
            out.update(dotted(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


#: The tiny world as overrides of the embedded default world (``load_world(overrides=TINY)``,
#: ``--set`` options through :func:`set_args`): every key of :data:`TINY_FILE`.
TINY: dict[str, Any] = dotted(yaml.safe_load(TINY_FILE.read_text(encoding="utf-8")))

#: Params fields that switch off mechanisms added after the engine skeleton
#: (aggregation, sharing, juvenile intake, parental feeding).
NEUTRAL = {"social_attraction": 0.0, "share_rate": 0.0, "juvenile_intake": 1.0, "feed_rate": 0.0}


def _food_layers(model=None, path: str = "world."):
    """(key path, layer config, parent config) of every food layer (a config with regrowth and initial) of the grid."""
    from pydantic import BaseModel

    model = World().world if model is None else model
    for name in type(model).model_fields:
        v = getattr(model, name)
        if isinstance(v, BaseModel):
            if {"regrowth", "initial", "capacity"} <= set(type(v).model_fields):
                yield f"{path}{name}", v, model
            else:
                yield from _food_layers(v, f"{path}{name}.")


def starving_overrides() -> dict[str, float]:
    """Overrides that leave no food at all: every food layer starts empty and never regrows."""
    out: dict[str, float] = {}
    for key, _, _ in _food_layers():
        out[f"{key}.regrowth"] = 0
        out[f"{key}.initial"] = 0
    return out


def plain_food_overrides() -> dict[str, Any]:
    """A world where the energy an agent gains is exactly food_energy x the easy food it eats.

    Stores never fill (huge max_energy), the technology ladder is empty (no
    cooking multiplier, no hard food) and skill does not pay on food.
    """
    return {
        "physiology.max_energy": 1e9,
        "physiology.food_energy": 1.5,
        "technology.ladder": [],
        "culture.skill_payoff": 0.0,
    }


def food_bound(world: World, habitat: np.ndarray) -> float:
    """Most agents the food of ``habitat`` can sustain, an upper bound.

    Every cell of every food layer regrowing at its fastest -- logistic
    r (1 + season amplitude) (1 + farming bonus) max(F, floor) (1 - F/K) is
    at most that rate times max(K/4, floor) -- converted to energy at the
    best multiplier any milestone gives (times the largest foraging-skill
    payoff, 1 + ``culture.skill_payoff``, on easy food), shared by agents
    that each pay at least base_metabolism per tick.
    """
    lad = ladder_from_world(world)
    mult = float(np.max(lad.energy_mult))
    bonus = float(np.max(lad.regrowth_bonus))
    energy_per_tick = 0.0
    groups = {
        id(g): g for _, _, g in _food_layers(world.world)
    }  # each group has a land and a water layer
    for group in groups.values():
        cap, rate = food_arrays(group)
        if isinstance(group, HardFoodConfig):  # no seasons; its own energy per unit
            season, unit = 0.0, group.energy
        else:  # easy food
            season = group.season.amplitude
            unit = world.physiology.food_energy * (1 + world.culture.skill_payoff)
        floor = group.regrowth_floor
        per_cell = rate * (1 + season) * (1 + bonus) * np.maximum(cap / 4, np.minimum(floor, cap))
        energy_per_tick += float(per_cell[habitat].sum()) * unit * mult
    return energy_per_tick / world.physiology.base_metabolism


def set_strings(overrides: Mapping[str, Any]) -> list[str]:
    """``"key.path=VALUE"`` strings for a mapping {key path: value} (lists and mappings as JSON, which is YAML)."""
    return [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in overrides.items()]


def set_args(overrides: Mapping[str, Any] | Iterable[str]) -> list[str]:
    """``--set`` options of the CLI for ``overrides``: a mapping {key path: value} or ``"key.path=value"`` strings."""
    items = set_strings(overrides) if isinstance(overrides, Mapping) else list(overrides)
    return [arg for item in items for arg in ("--set", item)]


def fixed(mean: float, **kw: float) -> dict[str, float]:
    """A gene's config in a species: every founder at ``mean``, no mutation (``kw``: more settings, e.g. ``min``)."""
    return {"mean": mean, "sd": 0.0, "mutation": 0.0, **kw}


def tiny() -> World:
    """The tiny world (:data:`TINY_FILE`)."""
    return load_world(overrides=TINY)


def params(neutral: bool = True, **kw: float) -> Params:
    """Params of the tiny world with ``kw`` replaced (all as floats)."""
    p = params_from_world(tiny())
    if neutral:
        p = p._replace(**NEUTRAL)
    unknown = set(kw) - set(p._fields)
    assert not unknown, f"Params has no field(s) {unknown}"
    return p._replace(**{k: float(v) for k, v in kw.items()})


def world_arrays(shape: tuple[int, int] = (1, 1), world: World | None = None) -> dict[str, Any]:
    """Grids and per-species/ladder arrays that kernels may take besides the agents, neutral by default.

    No hard food, no farming bonus; the species arrays of ``world``'s registry
    (default: the tiny world; no manipulators, no extra upkeep) and its technology
    ladder as arrays (agents with skill 0 hold no milestone).
    """
    world = world or tiny()
    out: dict[str, Any] = {
        "hard": np.zeros(shape, np.float32),
        "farmed": np.zeros(shape, np.float32),
        "bonus": np.zeros(shape, np.float32),
        "adults": np.zeros(
            64, np.int64
        ),  # per-species outputs of select_survivors (tests use few species)
        "holders": np.zeros(64, np.int64),
        "top": np.zeros(64, np.int64),
        "gated": np.zeros((64, 64), np.int64),  # species x milestone
        "want": np.zeros(
            4096, np.float64
        ),  # per-agent scratch of forage (tests use far fewer agents)
        "gain": np.zeros(4096, np.float64),
    }
    reg = SpeciesRegistry(world)
    out.update({name: getattr(reg, name) for name in reg._ARRAYS})
    out.update(ladder_from_world(world)._asdict())
    return out


def cell_groups(
    x, y, width: int, height: int, n: int | None = None, capacity: int | None = None
) -> dict[str, Any]:
    """Agents ``0..n-1`` (default: all of ``x``) grouped by cell with :func:`spatial.cell_index`.

    Returns the index under the names the kernels give it: ``order``,
    ``group_start``, ``n_groups`` and ``cell_end`` (cell_index's ``counts``:
    where each cell's run in ``order`` ends). The scratch arrays (``capacity``
    rows, default ``len(x)``, at least 1) start filled with junk, so a kernel
    that relies on clean scratch fails.
    """
    x = np.asarray(x, AGENT_FIELDS["x"])
    y = np.asarray(y, AGENT_FIELDS["y"])
    n = len(x) if n is None else n
    cap = capacity or max(len(x), 1)
    counts = np.full(width * height + 1, 99, ROW_DTYPE)  # the dtype the simulation indexes with
    order = np.full(cap, -7, ROW_DTYPE)
    group_start = np.full(cap + 1, -7, ROW_DTYPE)
    g = spatial.cell_index(x, y, n, width, st.Index(order, group_start, counts, -1))
    return {"order": order, "group_start": group_start, "n_groups": g, "cell_end": counts}


def kargs(
    ag: Agents | None = None, shape: tuple[int, int] = (1, 1), **explicit: Any
) -> dict[str, Any]:
    """Arguments for :func:`call`: neutral world arrays, then the agents' arrays, then ``explicit``."""
    out = world_arrays(shape)
    if ag is not None:
        out.update(ag.kw())
    out.update(explicit)
    return out


#: Kernel argument names of the engine's named tuples (evosim.engine.state).
NAMED: dict[str, type] = {
    "a": st.Agents,
    "cells": st.Cells,
    "sa": st.SpeciesArrays,
    "index": st.Index,
    "buf": st.Arena,
    "clock": st.Clock,
    "sums": st.Tally,
    "lad": st.Ladder,
}
#: Other names tests give some fields by (field -> names tried in order).
ALIASES = {
    "dependants": ("n_dep",),
    "offer": ("share",),
    "cell_end": ("counts",),
    "status": ("level",),
    "survivors": ("keep",),
    "sort_tmp": ("tmp",),
    "census_pad": ("code",),
    "census_cells": ("written",),
    "farmed": ("bonus",),
}
#: Rows of the arena buffers :func:`named` makes up (tests use far fewer agents).
ARENA_ROWS = 4096


def named(kind: type, available: Mapping[str, Any]) -> Any:
    """The named tuple ``kind`` from the arrays of ``available`` named as its fields.

    A field ``available`` lacks (under its name or an :data:`ALIASES` name) is made up when
    it is a kernel's scratch or something the test does not care about: zeros of the field's
    dtype (:data:`evosim.engine.state.DTYPES`) -- arena buffers (and an index's ``cell_end``) of
    :data:`ARENA_ROWS` rows, agent fields as long as the agent fields given,
    grids of ``habitat``'s shape (else 1 x 1), per-habitat arrays of 2, a halo of 0 -- else it is an error.
    """
    dtypes = st.DTYPES.get(kind, {})
    values = {}
    for f in kind._fields:  # type: ignore[attr-defined]
        names = (f, *ALIASES.get(f, ()))
        hit = next((available[k] for k in names if k in available), None)
        if hit is not None:
            values[f] = hit
        elif kind is st.Arena or (kind is st.Index and f == "cell_end"):
            values[f] = np.zeros(ARENA_ROWS, dtypes[f])
        elif kind is st.Agents and any(k in available for k in kind._fields):  # type: ignore[attr-defined]
            rows = len(next(available[k] for k in kind._fields if k in available))  # type: ignore[attr-defined]
            values[f] = np.zeros((rows, N_GENES) if f == "genome" else rows, dtypes[f])
        elif kind is st.Cells and f == "halo":
            values[f] = 0
        elif kind is st.Cells and f in ("capacity", "hard_capacity", "hard_rate"):
            values[f] = np.zeros(2, dtypes[f])
        elif kind is st.Cells and f == "census_cells":
            values[f] = np.zeros(ARENA_ROWS, dtypes[f])
        elif kind is st.Cells and f == "census_n":
            values[f] = np.full(1, -1, dtypes[f])  # unknown: a census clears the whole grid
        elif kind is st.Cells:
            shape = np.shape(available.get("habitat", np.zeros((1, 1))))
            if f.endswith("_pad"):
                shape = tuple(s + 2 * int(available.get("halo", 0)) for s in shape)
            values[f] = np.zeros(shape, dtypes[f])
        else:
            raise TypeError(f"the test gives no value for field '{f}' of {kind.__name__}")
    return kind(**values)


def call(kernel, **available: Any):
    """Call a numba kernel, passing its declared arguments by name from ``available``.

    Arguments named in :data:`NAMED` are built by :func:`named` unless given.
    """
    fn = getattr(kernel, "py_func", kernel)
    args = []
    for name, prm in inspect.signature(fn).parameters.items():
        if name in available:
            args.append(available[name])
        elif name in NAMED:
            args.append(named(NAMED[name], available))
        elif prm.default is not inspect.Parameter.empty:
            break
        else:
            raise TypeError(
                f"the test gives no value for argument '{name}' of kernel {fn.__name__}"
                f"{inspect.signature(fn)}; update tests/helpers.py"
            )
    return kernel(*args)


class Agents:
    """Agent arrays for kernel tests, named as the kernels name them.

    Every per-agent field of :data:`AGENT_FIELDS` (``id`` is also ``ids``,
    ``parent_id`` also ``parent_ids``) and ``genome`` is allocated with
    ``capacity`` rows; ``n`` rows are live.
    """

    def __init__(
        self,
        n: int,
        capacity: int | None = None,
        *,
        x=0,
        y=0,
        energy=10.0,
        age=1000,
        species=0,
        genome=0.5,
        guardian=-1,
    ):
        cap = max(n, capacity or n, 1)
        self.n = n
        self.a: dict[str, np.ndarray] = {
            name: np.zeros(cap, dt) for name, dt in AGENT_FIELDS.items()
        }
        self.a["genome"] = np.zeros((cap, N_GENES), GENOME_DTYPE)
        self.a["id"][:n] = np.arange(n)
        self.a["parent_id"][:n] = -1
        self.a["guardian"][:] = -1
        self.a["guardian"][:n] = guardian
        self.a["x"][:n] = x
        self.a["y"][:n] = y
        self.a["energy"][:n] = energy
        self.a["age"][:n] = age
        self.a["species"][:n] = species
        self.a["genome"][:n] = genome

    def __getattr__(self, name):
        a = self.__dict__.get("a", {})
        if name in a:
            return a[name]
        raise AttributeError(name)

    def set_gene(self, gene: str, values) -> None:
        self.a["genome"][: self.n, GENES.index(gene)] = values

    def kw(self) -> dict[str, Any]:
        """Keyword arguments for :func:`call`."""
        out = dict(self.a)
        out["ids"] = self.a["id"]
        out["parent_ids"] = self.a["parent_id"]
        out["n"] = self.n
        return out


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def read_summary(folder: str | Path, timing: bool = True) -> dict:
    """``summary.json`` of a run folder; with ``timing=False`` without its (always present) "timing" block."""
    s = json.loads(Path(folder, "summary.json").read_text(encoding="utf-8"))
    if not timing:
        s.pop("timing")
    return s


def folder_bytes(folder: str | Path, exclude: Iterable[str] = ()) -> dict[str, bytes]:
    """Every file of a run folder (recursively) by relative path; summary.json without "timing".

    Files under a folder named in ``exclude`` (e.g. ``"checkpoints"``), or named there themselves, are left out.
    """
    folder = Path(folder)
    exclude = set(exclude)
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and not exclude & set(rel.parts):
            data = p.read_bytes()
            if rel.as_posix() == "summary.json":
                data = json.dumps(read_summary(folder, timing=False), sort_keys=True).encode()
            out[rel.as_posix()] = data
    return out


def assert_one_line(msg: str, *words: str) -> None:
    """``msg`` (an error message) is one non-empty line, no traceback, and contains every one of ``words``."""
    assert msg.strip(), "empty message"
    assert "\n" not in msg and "\r" not in msg, f"not one line: {msg!r}"
    assert "Traceback" not in msg, msg
    for w in words:
        assert w in msg, f"{w!r} missing from: {msg}"


def one_paragraph(text: str) -> bool:
    """True if ``text`` (stripped) is one non-empty paragraph: no blank line, no traceback."""
    t = text.strip()
    return bool(t) and "\n\n" not in t and "Traceback" not in t


def csv_text(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def float_texts(a: np.ndarray) -> list[str]:
    """Each row of the float64 matrix ``a`` as the recorder's lines write floats (the ``repr`` of
    each value joined by commas, a non-finite value blank): :func:`evosim.engine.runtime.csv_lines`
    for a species with an empty name, its tick, id and name cut off (its refusals are csv_lines')."""
    cols = a.shape[1] if a.ndim == 2 else 0
    rows = len(a)
    text = runtime.csv_lines(0, np.zeros(rows, np.int64), np.zeros(0, np.uint8),
                             np.zeros(1, np.int64), a, np.zeros(cols, np.uint8))  # fmt: skip
    lead = "0,0,," if cols else "0,0,"  # tick, id, the empty name (and the first value's comma)
    return [line[len(lead) :] for line in text.split("\n")[:-1]]
