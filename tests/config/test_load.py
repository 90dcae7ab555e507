"""Every kind of bad config: refused with one paragraph naming the file, the key path and the line.

Each case is checked three ways: through :func:`evosim.load_world`, through
``evosim validate`` and through ``evosim run --out X`` (exit code 2, one
``evosim: error:`` paragraph, no traceback, and no folder X left behind).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from evosim import load_world
from evosim.config.schema import World
from evosim.config.yamlsafe import MAX_YAML_BYTES
from evosim.errors import ConfigError
from tests.helpers import assert_one_line, set_args


@dataclass
class Case:
    """A bad config: file text (or a special path) and/or --set options, and what the message must say."""

    text: str | bytes | None = "world:\n  width: 32\n"
    sets: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    special: str | None = None  # missing, folder, unreadable
    absent: list[str] = field(default_factory=list)  # what the message must not say


#: An intervention with the target left open (``IV % "{all: true}"``).
IV = "{name: x, when: {tick: 1}, target: %s, effect: {kind: fire_substitute}}"

CASES = {
    # reading the file
    "missing file": Case(special="missing", words=["no such file"]),
    "a folder": Case(special="folder", words=["is a folder"]),
    "not UTF-8": Case(text=b"name: caf\xe9\n", words=["not UTF-8"]),
    "unreadable": Case(special="unreadable", words=["cannot be read"]),
    "too large": Case(
        text="# padding\n" * (MAX_YAML_BYTES // 10 + 1), words=[f"at most {MAX_YAML_BYTES}"]
    ),
    # YAML syntax and safety
    "malformed YAML": Case(text="world:\n  width: [32, 64\n", words=["not valid YAML", "line 3"]),
    "bad indentation": Case(
        text="world:\n  width: 32\n height: 32\n", words=["not valid YAML", "line 3"]
    ),
    "tab": Case(text="world:\n\twidth: 32\n", words=["not valid YAML", "line 2"]),
    "duplicate key": Case(
        text="world:\n  width: 32\n  height: 32\n  width: 64\n",
        words=["duplicate key 'width'", "line 4", "first given on line 2"],
    ),
    "duplicate top-level key": Case(
        text="name: a\nsim:\n  seed: 1\nname: b\n", words=["duplicate key 'name'", "line 4"]
    ),
    "alias": Case(text="world:\n  width: &w 32\n  height: *w\n", words=["aliases", "line 3"]),
    "unsafe tag": Case(
        text="name: !!python/object/apply:os.system ['true']\n", words=["not valid YAML", "line 1"]
    ),
    "two documents": Case(text="name: a\n---\nname: b\n", words=["not valid YAML"]),
    "top level not a mapping": Case(
        text="- world\n- species\n", words=["top level must be a mapping"]
    ),
    # schema
    "unknown key": Case(
        text="world:\n  food:\n    land:\n      capacty: 3\n",
        words=[
            "world.food.land.capacty",
            "line 4",
            "unknown key 'capacty'",
            "allowed here",
            "capacity",
        ],
    ),
    "unknown top-level key": Case(
        text="sim:\n  seed: 1\nspecie: []\n", words=["specie", "line 3", "allowed here"]
    ),
    "unknown gene": Case(
        text="species:\n  - name: ape\n    genes:\n      brains: {mean: 0.5}\n",
        words=["species[0].genes.brains", "line 4", "brain"],
    ),
    "wrong type": Case(
        text="world:\n  width: wide\n", words=["world.width", "line 2", "integer", "'wide'"]
    ),
    "wrong type (mapping)": Case(
        text="world: 32\n", words=["world", "line 1", "expected a mapping of keys (width, height"]
    ),
    "wrong type (list)": Case(text="species:\n  name: ape\n", words=["species", "line 1", "list"]),
    "wrong type (float for int)": Case(
        text="sim:\n  ticks: 10.5\n", words=["sim.ticks", "line 2", "integer"]
    ),
    "out of range": Case(
        text="world:\n  width: 100000\n",
        words=["world.width", "line 2", "less than or equal to 4096"],
    ),
    "negative": Case(
        text="sim:\n  seed: 1\n  ticks: -5\n",
        words=["sim.ticks", "line 3", "greater than or equal to 0"],
    ),
    "share above one": Case(
        text="traits:\n  fecundity:\n    offspring_share_min: 1.5\n",
        words=["traits.fecundity.offspring_share_min", "line 3", "less than 1"],
    ),
    "gene mean outside its bounds": Case(
        text="species:\n  - name: ape\n    genes:\n      brain:\n        mean: 0.9\n        max: 0.5\n",
        words=["species[0].genes.brain", "line 4", "min <= mean <= max"],
    ),
    "bad species name": Case(
        text="species:\n  - name: 'two words'\n", words=["species[0].name", "line 2", "pattern"]
    ),
    "repeated species": Case(
        text="species:\n  - name: a\n  - name: a\n", words=["species", "unique", "a"]
    ),
    "no species": Case(text="species: []\n", words=["species", "at least 1"]),
    "founders above the cap": Case(
        text="sim:\n  population_cap: 100\n", words=["population_cap", "1500", "100"]
    ),
    "file source without a file": Case(
        text="world:\n  habitat:\n    source: file\n", words=["world.habitat", "no habitat.file"]
    ),
    "unknown choice": Case(
        text="world:\n  habitat:\n    source: perlin\n",
        words=["world.habitat.source", "line 3", "'generate'", "'file'"],
    ),
    "NaN": Case(
        text="physiology:\n  intake: .nan\n", words=["physiology.intake", "line 2", "finite"]
    ),
    "infinity": Case(
        text="world:\n  food:\n    land:\n      capacity: .inf\n",
        words=["world.food.land.capacity", "line 4", "finite"],
    ),
    "minus infinity": Case(
        text="species:\n  - name: a\n    energy: -.inf\n",
        words=["species[0].energy", "line 3", "finite"],
    ),
    # --set
    "--set without =": Case(sets=["world.width"], words=["--set world.width", "KEY.PATH=VALUE"]),
    "--set empty key part": Case(
        sets=["world..width=3"], words=["--set world..width=3", "empty part"]
    ),
    "--set unknown path": Case(
        sets=["world.widht=64"],
        words=["--set world.widht=64", "world.widht", "allowed here", "width"],
    ),
    "--set index out of range": Case(
        sets=["species.5.count=3"], words=["--set species.5.count=3", "out of range", "length 4"]
    ),
    "--set negative index": Case(
        sets=["species.-1.count=3"], words=["--set species.-1.count=3", "out of range"]
    ),
    "--set unknown species": Case(
        sets=["species.ape.count=3"], words=["--set species.ape.count=3", "'ape'", "primate"]
    ),
    "--set below a single value": Case(
        sets=["world.width.x=3"], words=["--set world.width.x=3", "single value"]
    ),
    "--set bad value": Case(
        sets=["world.width=wide"], words=["--set world.width=wide", "world.width", "integer"]
    ),
    "--set out of range": Case(
        sets=["physiology.sight_discount=2"],
        words=["--set physiology.sight_discount=2", "less than or equal to 1"],
    ),
    "--set malformed YAML": Case(
        sets=["world.width=[1"], words=["--set world.width=[1", "not valid YAML"]
    ),
    "--set NaN": Case(
        sets=["physiology.intake=.nan"], words=["--set physiology.intake=.nan", "finite"]
    ),
    "--set alias": Case(sets=["world.width=*w"], words=["--set world.width=*w", "aliases"]),
    # nothing to run, misspellings and misleading messages (issue 13)
    "empty file": Case(text="", words=["empty world file", "run without a file for the default"]),
    "comments only": Case(text="# my world\n\n# to do\n", words=["empty world file"]),
    "misspelt key": Case(
        text="world:\n  widht: 40\n", words=["world.widht (line 2)", "did you mean 'width'?"]
    ),
    "misspelt top-level key": Case(text="wrold:\n  width: 40\n", words=["did you mean 'world'?"]),
    "--set misspelt key": Case(sets=["world.heigth=40"], words=["did you mean 'height'?"]),
    "NaN under an unknown key": Case(
        text="food: {regrowth: .nan}\n", words=["food (line 1)", "unknown key 'food'"],
        absent=["finite", "nan"],
    ),
    "gene given as a number": Case(
        text="species:\n  - name: a\n    genes: {habitat: 0.9}\n",
        words=["species[0].genes.habitat (line 3)", "expected a mapping", "{mean: 0.9}"],
        absent=["GeneSpec", "dictionary"],
    ),
    "--set intervention for a missing founder": Case(
        sets=["interventions=[%s]" % (IV % "{founder: dolphin}")],
        words=["--set interventions=", "interventions[0].target.founder", "'dolphin' is not a founding"],
        absent=["top level"],
    ),
    "intervention for a species that cannot exist": Case(
        text="interventions:\n  - %s\n" % (IV % "{species: [primate.4, ghost]}"),
        words=["interventions[0].target.species (line 2)", "'ghost' can never name a species"],
        absent=["top level", "primate.4"],
    ),
    "intervention below population 0": Case(
        sets=["interventions=[{when: {trigger: population_below, value: 0}, effect: {kind: fire_substitute}}]"],
        words=["interventions[0].when.value", "can never happen"],
    ),
    "intervention with an empty selector range": Case(
        sets=["interventions=[%s]" % (IV % "{selector: {brain: {min: 0.8, max: 0.2}}}")],
        words=["interventions[0].target.selector.brain", "no species can match"],
    ),
    "food intervention outside the grid": Case(
        sets=["world.width=32", "interventions=[{effect: {kind: food, amount: 5, region: {x: 40}}}]"],
        words=["interventions[0].effect.region", "outside the 32x"],
    ),
}  # fmt: skip


@pytest.fixture
def make_case(tmp_path, world_file):
    """Materialise a Case: returns (path or None, sets, words including the file name)."""

    def make(case: Case):
        words = list(case.words)
        path: Path | None
        if case.special == "missing":
            path = tmp_path / "nope.yaml"
        elif case.special == "folder":
            path = tmp_path / "a_folder.yaml"
            path.mkdir()
        elif case.special == "unreadable":
            path = unreadable_file(tmp_path)
        elif case.text is None or case.sets and case.text == Case.text:
            path = None  # --set on the embedded world
        else:
            path = world_file(
                case.text, "bad world.yaml"
            )  # a space in the name, to be sure it is quoted right
        if path is not None:
            words.append(str(path))
        return path, case.sets, words

    return make


def unreadable_file(tmp_path: Path) -> Path:
    """A world file that exists but cannot be read: mode 000, or (as root, who reads anything) a path through a file."""
    p = tmp_path / "secret.yaml"
    p.write_text("name: x\n", encoding="utf-8")
    p.chmod(0)
    try:
        p.read_bytes()
    except PermissionError:
        return p
    p.chmod(0o644)
    return p / "world.yaml"  # NotADirectoryError: an OSError other than "no such file"


@pytest.mark.parametrize("name", CASES)
def test_load_world_refuses(name, make_case):
    path, sets, words = make_case(CASES[name])
    with pytest.raises(ConfigError) as exc:
        load_world(path, sets)
    assert_one_line(str(exc.value), *words)
    assert exc.value.exit_code == 2
    assert not [w for w in CASES[name].absent if w in str(exc.value)], str(exc.value)


def _cli_error(result) -> str:
    """The one error paragraph of a CLI result; asserts exit code 2 and no traceback."""
    out = result.output
    assert result.exit_code == 2, f"exit code {result.exit_code}: {out!r} {result.exception!r}"
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in out
    errors = [ln for ln in out.splitlines() if ln.startswith("evosim: error:")]
    assert len(errors) == 1, out
    return errors[0]


@pytest.mark.parametrize("name", CASES)
def test_cli_validate_refuses(name, make_case, cli):
    path, sets, words = make_case(CASES[name])
    args = ["validate", *([str(path)] if path else []), *set_args(sets)]
    msg = _cli_error(cli(*args))
    assert_one_line(msg, *words)
    assert not [w for w in CASES[name].absent if w in msg], msg


@pytest.mark.parametrize("name", CASES)
def test_cli_run_refuses_and_leaves_no_folder(name, make_case, cli, tmp_path):
    path, sets, words = make_case(CASES[name])
    out = tmp_path / "runs" / "X"
    args = [
        "run",
        *([str(path)] if path else []),
        "--out",
        str(out),
        "--ticks",
        "2",
        *set_args(sets),
    ]
    assert_one_line(_cli_error(cli(*args)), *words)
    assert not out.exists() and not (tmp_path / "runs").exists()
    assert not (cli.cwd / "runs").exists() or not any((cli.cwd / "runs").iterdir())


# ------------------------------------------------------------------ map files
#: What a refusal of the 4x2 map of an 8x8 world must name.
WRONG_SIZE_WORDS = ("map.txt", "world.habitat.file", "4x2", "8x8")


@pytest.fixture
def wrong_size_map(world_file):
    world_file("####\n....\n", "map.txt")  # 4x2
    return world_file(
        "world:\n  width: 8\n  height: 8\n  habitat:\n    source: file\n    file: map.txt\n",
        "island.yaml",
    )


def test_load_world_refuses_a_map_of_the_wrong_size(wrong_size_map):
    """`evosim validate` must not pass a world that `evosim run` refuses: load_world checks the map."""
    with pytest.raises(ConfigError) as exc:
        load_world(wrong_size_map)
    assert_one_line(str(exc.value), *WRONG_SIZE_WORDS)


def test_cli_validate_refuses_a_map_of_the_wrong_size(wrong_size_map, cli):
    assert_one_line(_cli_error(cli("validate", wrong_size_map)), *WRONG_SIZE_WORDS)


def test_cli_run_refuses_a_map_of_the_wrong_size(wrong_size_map, cli, tmp_path):
    out = tmp_path / "X"
    err = _cli_error(cli("run", wrong_size_map, "--out", out, "--ticks", "2", "-q"))
    assert_one_line(err, *WRONG_SIZE_WORDS)
    assert not out.exists()


def test_missing_map_file(tmp_path, cli, world_file):
    w = world_file("world:\n  habitat:\n    source: file\n    file: nowhere.png\n")
    out = tmp_path / "X"
    assert_one_line(
        _cli_error(cli("run", w, "--out", out, "-q")), "nowhere.png", "world.habitat.file"
    )
    assert not out.exists()


# ------------------------------------------------------------------ good input and details
def test_valid_files_and_sets_load(world_file):
    p = world_file(
        "# a comment\nname: ok-world\nworld:\n  width: 48\nspecies:\n  - name: ape\n    count: 10\n"
        "    genes:\n      brain: {mean: 0.7, min: 0.2, max: 0.9}\n"
    )
    w = load_world(
        p,
        [
            "world.height=40",
            "species.ape.genes.brain.mutation=0",
            "species.0.count=12",
            "sim.seed=9",
        ],
    )
    assert (w.world.width, w.world.height, w.sim.seed) == (48, 40, 9)
    assert [s.name for s in w.species] == ["ape"] and w.species[0].count == 12
    b = w.species[0].genes.brain
    assert (b.mean, b.min, b.max, b.mutation) == (0.7, 0.2, 0.9, 0.0)
    assert w.species[0].genes.lifespan == World().species[0].genes.lifespan  # unspecified: defaults
    assert load_world() == World()


def test_all_problems_are_reported_in_one_paragraph(world_file):
    p = world_file("world:\n  width: 1\n  height: 2\nsim:\n  ticks: -1\n  seed: -1\nname: ''\n")
    with pytest.raises(ConfigError) as exc:
        load_world(p)
    assert_one_line(str(exc.value), "world.width (line 2)", "world.height (line 3)", "more problem")


def test_set_values_are_typed_as_yaml():
    w = load_world(
        None, ["physiology.intake=3", "output.lineage=true", "world.food.season.amplitude=0.5"]
    )
    assert (
        w.physiology.intake == 3.0
        and w.output.lineage is True
        and w.world.food.season.amplitude == 0.5
    )


def test_overrides_as_values_apply_in_order():
    """A mapping or (key, value) pairs give values directly; pairs apply in order, so a later one wins."""
    assert load_world(None, {"world.width": 40, "culture.alpha": 1.5}).culture.alpha == 1.5
    w = load_world(None, [("world", {"width": 40, "height": 30}), ("world.width", 50)])
    assert (w.world.width, w.world.height) == (50, 30)
    w = load_world(None, [("world.width", 50), ("world", {"width": 40, "height": 30})])
    assert (w.world.width, w.world.height) == (40, 30)
    assert load_world(None, [("name", "1.5")]).name == "1.5"  # a string stays a string
    with pytest.raises(ConfigError, match=r"--set world.width=-4: world.width"):
        load_world(None, [("world.width", -4)])


def test_bool_is_not_a_number(world_file):
    """YAML 1.1 reads yes/no/on/off/true as booleans; a boolean given for a number is a wrong type, not 1 or 0."""
    with pytest.raises(ConfigError) as exc:
        load_world(world_file("physiology:\n  move_noise: on\n"))
    assert_one_line(str(exc.value), "physiology.move_noise", "line 2")
    with pytest.raises(ConfigError):
        load_world(None, ["world.width=yes"])


def test_world_file_read_through_a_pipe_is_size_limited(tmp_path):
    """The size limit holds for files whose size stat() cannot tell (a FIFO, /dev/zero): read at most the limit."""
    fifo = tmp_path / "world.yaml"
    os.mkfifo(fifo)
    chunk = ("# " + "x" * 97 + "\n").encode()
    state = {}

    def writer():
        try:
            with open(fifo, "wb") as fh:
                for _ in range(MAX_YAML_BYTES // len(chunk) + 50):
                    fh.write(chunk)
        except (BrokenPipeError, OSError) as exc:
            state["error"] = exc

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        with pytest.raises(ConfigError) as exc:
            load_world(fifo)
        assert_one_line(str(exc.value), str(fifo))
    finally:
        deadline = time.monotonic() + 5
        while t.is_alive() and time.monotonic() < deadline:
            try:  # unblock a writer still waiting for a reader
                fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
                while os.read(fd, 1 << 16):
                    pass
                os.close(fd)
            except (BlockingIOError, OSError):
                pass
            t.join(0.1)
