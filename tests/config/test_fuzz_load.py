"""Hostile input (issue 7, item 5): thousands of generated world configs.

Every config must either validate or be refused with a ConfigError whose
message is one non-empty paragraph -- never another exception, a traceback, a
hang or a memory blow-up. Configs that would need more memory than allowed
are refused with a message saying so. A sample of the valid ones is run
through the CLI for two ticks on a tiny grid: exit 0 or 2, nothing else.

Examples per test are set so that the whole file stays around a minute.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from evosim import load_world
from evosim.cli.main import main
from evosim.config.schema import World
from evosim.errors import ConfigError
from tests.helpers import assert_one_line, set_args

BASE = World().model_dump(mode="json")
YAML_TAGS = ["str", "int", "float", "binary", "set", "python/object", "omap", "timestamp"]


# ------------------------------------------------------------------ the schema's key paths
def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:2]):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)
KEY_NAMES = sorted({p[-1] for p in PATHS if isinstance(p[-1], str)})


def _default_at(path: tuple) -> Any:
    node: Any = BASE
    for part in path:
        node = node[part]
    return node


LEAF_PATHS = [p for p in PATHS if not isinstance(_default_at(p), (dict, list))]

# ------------------------------------------------------------------ value strategies
YAMLISH = [
    "", " ", "yes", "no", "on", "off", "~", "null", "NULL", ".nan", ".NaN", "-.inf", ".inf", "0x1F", "0o17", "017",
    "1e3", "1.0e3", "1_000", "12:30", "2020-01-01", "2020-01-01T00:00:00Z", "∞", "१२३", "٣", "0.", ".5", "+1",
    "-0", "1e-400", "1e400", "9" * 40, "nan", "inf", "True", "[]", "{}", "'", '"', "#", "&", "*", "!", "%", "@",
    "`", "|", ">", "- ", "? ", ": ", "\t", "\x00", "\u2028", "\ufeff", "a\nb", "🦖", "ｗｉｄｔｈ", "width ",
]  # fmt: skip

KEYS = st.one_of(
    st.sampled_from(KEY_NAMES), st.text(min_size=1, max_size=12), st.sampled_from(YAMLISH[:30])
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=-3, max_value=5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-2.0, max_value=2.0),
    st.text(max_size=24),
    st.sampled_from(YAMLISH),
)
VALUES = st.recursive(
    SCALARS,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(KEYS, c, max_size=4),
    max_leaves=12,
)


def _plausible(path: tuple) -> st.SearchStrategy:
    """A value of the right type near the default (so that many configs validate)."""
    d = _default_at(path)
    if isinstance(d, bool):
        return st.booleans()
    if isinstance(d, int):
        return st.integers(min_value=d // 2, max_value=2 * d + 1)
    if isinstance(d, float):
        return st.floats(
            min_value=d / 2, max_value=min(1.5 * d, 1.0) if d <= 1.0 else 2 * d, allow_nan=False
        )
    if d is None:
        return st.none()
    return st.just(d)


def _set_in(cfg: Any, path: tuple, value: Any) -> Any:
    """Set ``path`` in a sparse config (dicts and lists created as needed)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        lst = cfg if isinstance(cfg, list) else []
        while len(lst) <= head:
            lst.append({"name": f"s{len(lst)}"})
        lst[head] = _set_in(lst[head], rest, value)
        return lst
    d = cfg if isinstance(cfg, dict) else {}
    d[head] = _set_in(d.get(head), rest, value)
    return d


@st.composite
def config_dicts(draw, hostile: bool = True) -> dict:
    cfg: dict = {}
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.integers(0, 9)) if hostile else 0
        if kind <= 3:
            path = draw(st.sampled_from(LEAF_PATHS))
            value = draw(_plausible(path))
        elif kind <= 7:
            path = draw(st.sampled_from(PATHS))
            value = draw(VALUES)
        else:  # unknown keys, anywhere
            path = (*draw(st.sampled_from(PATHS))[:-1], draw(KEYS))
            value = draw(VALUES)
        cfg = _set_in(cfg, path, value)
    return cfg


def _dump(cfg: Any) -> str:
    return yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False)


# ------------------------------------------------------------------ the property checked everywhere
def check(fn) -> World | None:
    """Run ``fn``: a World, or a ConfigError with one clean line; anything else fails the test."""
    try:
        return fn()
    except ConfigError as exc:
        assert_one_line(str(exc))
        assert exc.exit_code == 2
        return None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _load_text(scratch: Path, text: str | bytes) -> World | None:
    p = scratch / "world.yaml"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8", errors="surrogatepass")
    return check(lambda: load_world(p))


# ------------------------------------------------------------------ generated dicts, YAML texts, raw input
@settings(max_examples=1200)
@given(cfg=config_dicts())
def test_generated_configs(scratch, cfg):
    _load_text(scratch, _dump(cfg))


@st.composite
def mangled_texts(draw) -> str:
    """A dumped config, then textual damage: repeated lines, anchors and aliases, tags, stray characters."""
    lines = _dump(draw(config_dicts())).splitlines()
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.integers(0, 6))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if not lines:
            lines = [""]
        if op == 0:
            lines.insert(i, lines[i])  # repeated line: often a duplicate key
        elif op == 1:
            lines[i] = re.sub(r":( |$)", r": &a\1", lines[i], count=1)  # an anchor ...
            lines.append(f"{draw(st.sampled_from(KEY_NAMES))}: *a")  # ... and an alias
        elif op == 2:
            lines[i] = lines[i].replace(
                ": ",
                f": !!{draw(st.sampled_from(YAML_TAGS))} ",
                1,
            )
        elif op == 3:
            lines[i] = lines[i] + draw(st.sampled_from(YAMLISH))
        elif op == 4:
            lines.insert(i, draw(st.text(max_size=20)))
        elif op == 5:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            lines.insert(i, "<<: {width: 8}")
    return "\n".join(lines) + "\n"


@settings(max_examples=700)
@given(text=mangled_texts())
def test_mangled_yaml_texts(scratch, text):
    _load_text(scratch, text)


@settings(max_examples=300)
@given(text=st.text(max_size=200))
@example(text="\ufeffname: x\n")
@example(text="%YAML 1.1\n---\nname: x\n")
@example(text="--- !!map\nname: x\n")
@example(text="!!binary aGVsbG8=\n")
@example(text="name: !!binary aGVsbG8=\n")
@example(text="? !!python/name:os.system\n: 1\n")
def test_random_text(scratch, text):
    _load_text(scratch, text)


@settings(max_examples=150)
@given(data=st.binary(max_size=300))
@example(data=b"name: caf\xe9\n")
@example(data=b"\xff\xfe" + "name: x\n".encode("utf-16-le"))
def test_random_bytes(scratch, data):
    _load_text(scratch, data)


@st.composite
def duplicated(draw) -> tuple[str, str]:
    cfg = draw(config_dicts(hostile=False))
    key = draw(st.sampled_from(sorted(cfg)))
    return _dump(cfg) + f"{key}: {draw(st.sampled_from(['1', 'x', '{}', '[]']))}\n", key


@settings(max_examples=200)
@given(case=duplicated())
def test_duplicate_keys_are_refused(scratch, case):
    text, key = case
    p = scratch / "dup.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_world(p)
    assert_one_line(str(exc.value), "duplicate key", "line")


@st.composite
def laughs(draw) -> str:
    """Billion-laughs documents: each level refers to the previous one many times (or via merge keys)."""
    depth = draw(st.integers(1, 12))
    width = draw(st.integers(1, 12))
    merge = draw(st.booleans())
    lines = ["l0: &l0 [lol, lol, lol]" if not merge else "l0: &l0 {a: lol}"]
    for d in range(1, depth + 1):
        if merge:
            lines.append(f"l{d}: &l{d}\n  <<: *l{d - 1}\n  b{d}: 1")
        else:
            lines.append(f"l{d}: &l{d} [" + ", ".join([f"*l{d - 1}"] * width) + "]")
    where = draw(st.sampled_from(["description", "world", "name", None]))
    if where:
        lines.append(f"{where}: *l{depth}")
    return "\n".join(lines) + "\n"


@settings(max_examples=100)
@given(text=laughs())
def test_billion_laughs_are_refused(scratch, text):
    p = scratch / "lol.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="alias"):
        load_world(p)


@settings(max_examples=80)
@given(
    depth=st.integers(1, 5000),
    kind=st.sampled_from(["flow-seq", "flow-map", "block-map", "block-seq"]),
)
@example(depth=320, kind="flow-seq")
@example(depth=330, kind="flow-map")
@example(depth=4000, kind="flow-seq")
def test_deep_nesting(scratch, depth, kind):
    if kind == "flow-seq":
        text = "description: " + "[" * depth + "]" * depth + "\n"
    elif kind == "flow-map":
        text = "world:\n  food: " + "{a: " * depth + "1" + "}" * depth + "\n"
    elif kind == "block-map":
        text = (
            "world:\n"
            + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(depth))
            + " " * (depth + 1)
            + "x: 1\n"
        )
    else:
        text = "species:\n" + "".join(" " * i + "-\n" for i in range(depth)) + " " * depth + "- 1\n"
    _load_text(scratch, text)


# ------------------------------------------------------------------ --set and mapping overrides
def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


SET_VALUES = st.one_of(
    st.sampled_from(YAMLISH),
    st.text(max_size=30),
    st.integers(-(10**30), 10**30).map(str),
    VALUES.map(
        lambda v: yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()
    ),
)
SET_KEYS = st.one_of(
    st.sampled_from(PATHS).map(_dotted),
    st.sampled_from(PATHS).map(
        lambda p: (
            _dotted(p)
            .replace("species.0", "species.primate")
            .replace("species.1", "species.cetacean")
        )
    ),
    st.text(max_size=25),
    st.lists(KEYS, min_size=1, max_size=4).map(".".join),
)


@settings(max_examples=600)
@given(
    sets=st.lists(
        st.one_of(st.builds(lambda k, v: f"{k}={v}", SET_KEYS, SET_VALUES), st.text(max_size=20)),
        max_size=4,
    )
)
@example(sets=["species=[]", "species.0.count=3"])
def test_set_overrides(sets):
    check(lambda: load_world(None, sets))


@settings(max_examples=300)
@given(overrides=st.dictionaries(SET_KEYS, VALUES, max_size=4))
def test_mapping_overrides(overrides):
    check(lambda: load_world(overrides=overrides))


# ------------------------------------------------------------------ the cases the fuzzing found, pinned
@pytest.mark.parametrize(
    "text",
    [
        "world:\n  width: "
        + "9" * 5000
        + "\n",  # Python refuses int() of > 4300 digits: a ValueError
        "sim:\n  seed: -" + "1" * 4500 + "\n",
        "name: x\x00\n",  # a control character: yaml's ReaderError prints on two lines
        "\x1f",
        '"a\\nb": 1\n',  # a key with a line break: the key path is printed raw
        'world:\n  food:\n    land:\n      "\\r": 1\n',
        "function: 1\n",  # a key starting with 'function' is dropped from the path: IndexError
        "world:\n  functions: 1\n",
        'world:\n  "w[0]": 1\n',  # a key with '[' likewise
        "world:\n  width: !!int wide\n",  # explicit tags: the constructor raises ValueError ...
        "world:\n  width: !!int 0.0\n",
        "physiology:\n  intake: !!float fast\n",
        "name: !!timestamp someday\n",  # ... or AttributeError
    ],
    ids=[
        "huge int",
        "huge negative int",
        "NUL",
        "unit separator",
        "key with newline",
        "nested key with CR",
        "key function",
        "nested key functions",
        "key with bracket",
        "!!int word",
        "!!int float",
        "!!float word",
        "!!timestamp word",
    ],
)
def test_pinned_file_cases(scratch, text):
    assert _load_text(scratch, text) is None


def test_unknown_key_messages_name_the_key_they_are_about(scratch):
    p = scratch / "k.yaml"
    p.write_text("sim:\n  seed: 1\nworld:\n  functions: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_world(p)
    assert "world.functions (line 4)" in str(exc.value) and "unknown key 'functions'" in str(
        exc.value
    )
    with pytest.raises(ConfigError) as exc:
        load_world(None, ["world.func=1"])
    assert str(exc.value).startswith("--set world.func=1: world.func: unknown key 'func'")


@pytest.mark.parametrize(
    "sets",
    [
        ["world.width=" + "9" * 5000],
        ["description=" + "[" * 2000 + "]" * 2000],  # RecursionError while parsing the value
        ["description=" + "{a: " * 400 + "1" + "}" * 400],
        ["world.x\ny=1"],
        ["description=\x00"],
        ["functional=1"],
        ["[=1"],
        ["world.width=!!int wide"],
    ],
    ids=[
        "huge int",
        "deep list",
        "deep mapping",
        "key with newline",
        "NUL value",
        "key functional",
        "key [",
        "!!int word",
    ],
)
def test_pinned_set_cases(sets):
    assert check(lambda: load_world(None, sets)) is None


@pytest.mark.parametrize(
    "overrides",
    [{"world.width": 10**4400}, {"world.width": 100000}, {"sim.population_cap": 0}],
    ids=["huge int", "out of range", "zero cap"],
)
def test_pinned_mapping_cases(overrides):
    """Mapping overrides are refused like --set ones (the int is not written as YAML with an end marker '...')."""
    assert check(lambda: load_world(overrides=overrides)) is None


# ------------------------------------------------------------------ memory
GIB = 2**30


@settings(max_examples=150)
@given(
    width=st.integers(4, 10**7),
    height=st.integers(4, 10**7),
    cap=st.integers(1, 10**13),
)
@example(width=4096, height=4096, cap=50_000_000)
@example(width=100_000, height=100_000, cap=1000)
@example(width=64, height=64, cap=10**12)
def test_memory_impossible_configs_are_refused_with_a_memory_message(width, height, cap):
    """A grid and population cap that need more than 32 GiB (more than this machine and the schema's budget)."""
    need = width * height * 16 + cap * 100  # at least 16 B per cell and 100 B per agent
    if need <= 32 * GIB:
        return
    with pytest.raises(ConfigError) as exc:
        load_world(
            overrides={"world.width": width, "world.height": height, "sim.population_cap": cap}
        )
    msg = str(exc.value)
    assert re.search(r"memory|GiB", msg, re.IGNORECASE), (
        f"the refusal does not say it is about memory: {msg}"
    )
    assert_one_line(msg)


# ------------------------------------------------------------------ a sample of valid configs, run for real
_counter = itertools.count()
TINY_GRID = ["world.width=12", "world.height=10"]


@settings(max_examples=60)
@given(cfg=config_dicts(hostile=False))
def test_valid_configs_run_or_exit_2(scratch, cfg):
    from click.testing import CliRunner

    p = scratch / "run.yaml"
    p.write_text(_dump(cfg), encoding="utf-8")
    world = check(lambda: load_world(p, TINY_GRID))
    out = scratch / f"run{next(_counter)}"
    if world is None:
        event("refused by load_world")
        r = CliRunner().invoke(
            main, ["run", str(p), "--ticks", "2", "--out", str(out), "-q", *set_args(TINY_GRID)]
        )
        assert r.exit_code == 2 and isinstance(r.exception, SystemExit), (r.output, r.exception)
        assert not out.exists()
        return
    if sum(s.count for s in world.species) > 3000:
        event("valid, not run (too many founders)")
        return  # keep it fast: founders are allocated up front
    r = CliRunner().invoke(
        main, ["run", str(p), "--ticks", "2", "--out", str(out), "-q", *set_args(TINY_GRID)]
    )
    event(f"valid, run: exit {r.exit_code}")
    assert r.exit_code in (0, 2), f"exit {r.exit_code}: {r.output} {r.exception!r}"
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    if r.exit_code == 0:
        assert (out / "summary.json").is_file()
    else:
        assert not out.exists()
