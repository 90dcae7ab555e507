"""Strict YAML reading (duplicate keys, aliases), key lines, atomic writes, npz bytes."""

from __future__ import annotations

import json
import os
import stat

import pytest
import yaml

from evosim.config import yamlsafe
from evosim.io import files


def test_parse_returns_data_and_nodes():
    data, node = yamlsafe.parse("a: 1\nb:\n  - x\n  - {c: 2.5}\n")
    assert data == {"a": 1, "b": ["x", {"c": 2.5}]}
    assert node is not None
    assert yamlsafe.parse("") == (None, None)
    assert yamlsafe.parse("# only a comment\n")[0] is None


@pytest.mark.parametrize(
    "text,words",
    [
        ("a: 1\nb: 2\na: 3\n", ["duplicate key 'a'", "first given on line 1"]),
        ("x:\n  y: 1\n  y: 1\n", ["duplicate key 'y'", "first given on line 2"]),
        ("1: a\n1.0: b\n", ["duplicate key"]),  # equal keys of different spellings
        ("a: &x 1\nb: *x\n", ["aliases"]),
        ("a: &x [1, 2]\nb: [*x, *x]\n", ["aliases"]),
        ("a: 1\n---\nb: 2\n", ["another document"]),
        ("? [1, 2]\n: 3\n", ["plain value"]),
        ("a: !!python/name:os.system\n", ["constructor"]),
    ],
)
@pytest.mark.parametrize("fast", [False, True], ids=["parse", "parse_fast"])
def test_parse_refuses(text, words, fast):
    with pytest.raises(yaml.YAMLError) as exc:
        yamlsafe.parse_fast(text) if fast else yamlsafe.parse(text)
    msg = str(exc.value)
    for w in words:
        assert w in msg


def test_the_fast_parse_reads_what_the_strict_one_reads():
    # a run's config.yaml (what load_run reads with libyaml): the same data, and an alias is
    # refused on the line it is used, before anything is composed
    from evosim.config.load import load_world

    text = yamlsafe.dump(load_world("worlds/earthlike.yaml").model_dump(mode="json"))
    assert yamlsafe.parse_fast(text) == yamlsafe.parse(text)[0]
    assert yamlsafe.parse_fast("") is None
    with pytest.raises(yaml.YAMLError) as exc:
        yamlsafe.parse_fast("a: &x 1\nb:\n  c: *x\n")
    assert exc.value.problem_mark.line + 1 == 3


def test_duplicate_key_error_points_at_the_repeat():
    with pytest.raises(yaml.YAMLError) as exc:
        yamlsafe.parse("world:\n  width: 1\n  height: 2\n  width: 3\n")
    assert exc.value.problem_mark.line + 1 == 4


def test_billion_laughs_is_refused_quickly():
    lol = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        lol += f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    with pytest.raises(yaml.YAMLError, match="aliases"):
        yamlsafe.parse(lol)


def test_line_of():
    text = (
        "name: x\nworld:\n  width: 3\n  food:\n    land:\n      capacity: 2\n"
        "species:\n  - name: a\n  - name: b\n    count: 4\n"
    )
    _, node = yamlsafe.parse(text)
    assert yamlsafe.line_of(node, ("name",)) == 1
    assert yamlsafe.line_of(node, ("world", "width")) == 3
    assert yamlsafe.line_of(node, ("world", "food", "land", "capacity")) == 6
    assert yamlsafe.line_of(node, ("species", 1, "count")) == 10
    assert yamlsafe.line_of(node, ("species", 0)) == 8
    assert yamlsafe.line_of(node, ("world", "height")) == 2  # missing key: the deepest line found
    assert yamlsafe.line_of(node, ("species", 7, "name")) == 7
    assert yamlsafe.line_of(None, ("world",)) is None


def test_dump_keeps_order_and_unicode():
    text = yamlsafe.dump({"z": 1, "a": "héllo ✓", "m": [1, 2]})
    assert text.index("z:") < text.index("a:") < text.index("m:")
    assert "héllo ✓" in text
    assert yaml.safe_load(text) == {"z": 1, "a": "héllo ✓", "m": [1, 2]}


def test_atomic_writes(tmp_path):
    p = tmp_path / "f.txt"
    files.atomic_write_text(p, "one ✓\n")
    assert p.read_text(encoding="utf-8") == "one ✓\n"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
    files.atomic_write_bytes(p, b"two")
    assert p.read_bytes() == b"two"
    with pytest.raises(TypeError):
        files.atomic_write_bytes(
            p, "not bytes"
        )  # a failed write keeps the old file and leaves no temp file
    assert p.read_bytes() == b"two"
    assert [x.name for x in tmp_path.iterdir()] == ["f.txt"]
    j = tmp_path / "s.json"
    files.atomic_write_json(j, {"b": 1, "a": [1, 2]})
    text = j.read_text(encoding="utf-8")
    assert text.endswith("\n") and json.loads(text) == {"b": 1, "a": [1, 2]}
    assert text.index('"b"') < text.index('"a"')


@pytest.mark.parametrize("compress", [False, True])
def test_npz_bytes_round_trip_without_pickles(compress):
    import io

    import numpy as np

    arrays = {
        "a": np.arange(12, dtype=np.int64).reshape(3, 4),
        "names": np.array(["x", "yz"]),
        "s": np.array(2.5),
    }
    data = files.npz_bytes(arrays, compress=compress)
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        assert sorted(z.files) == sorted(arrays)
        for k, v in arrays.items():
            assert z[k].dtype == v.dtype and np.array_equal(z[k], v)
    with pytest.raises(ValueError):
        files.npz_bytes({"o": np.array([{}], dtype=object)})
