"""One check of a batch folder's ``--out`` for every design (experiments.manifest.existing)."""

from __future__ import annotations

import json

import pytest

from evosim.errors import ConfigError
from evosim.experiments.manifest import MANIFEST, existing


def test_a_new_or_empty_folder_has_no_manifest(tmp_path):
    assert existing(tmp_path / "new") is None
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".hidden").write_text("x")
    assert existing(tmp_path / "empty") is None


def test_a_batch_folder_gives_its_manifest(tmp_path):
    (tmp_path / MANIFEST).write_text(json.dumps({"kind": "experiment", "ticks": 5}))
    assert existing(tmp_path) == {"kind": "experiment", "ticks": 5}


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda p: p.write_text("a file"), "exists and is not a folder"),
        (lambda p: (p.mkdir(), (p / MANIFEST).write_text("{not json")), "unreadable manifest"),
        (lambda p: (p.mkdir(), (p / MANIFEST).write_text("[1, 2]")), "not a JSON object"),
        (lambda p: (p.mkdir(), (p / "notes.txt").write_text("mine")), "not empty and holds no"),
    ],
)
def test_anything_else_is_refused_and_left_alone(tmp_path, make, says):
    out = tmp_path / "out"
    make(out)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(ConfigError, match=says):
        existing(out)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
