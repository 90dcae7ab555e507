"""``evosim schema`` and the schema line of ``evosim init``."""

from __future__ import annotations

import json

from evosim.config.template import SCHEMA_FILE, world_json_schema
from tests.helpers import assert_one_line


def test_schema_prints_the_json_schema(cli):
    r = cli("schema")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == world_json_schema()
    assert r.stdout == SCHEMA_FILE.read_text(encoding="utf-8")


def test_schema_writes_a_file_and_never_overwrites(cli, tmp_path):
    out = tmp_path / "world.schema.json"
    r = cli("schema", "-o", out)
    assert r.exit_code == 0 and f"wrote {out}" in r.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == world_json_schema()
    r = cli("schema", "-o", out)
    assert r.exit_code == 2
    assert_one_line(r.stderr.strip(), "already exists")


def test_schema_path_and_init_agree(cli, tmp_path):
    r = cli("schema", "--path")
    assert r.exit_code == 0 and r.stdout.strip() == str(SCHEMA_FILE)
    r = cli("init", "-o", tmp_path / "w.yaml")
    assert r.exit_code == 0
    first = (tmp_path / "w.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    r = cli("validate", tmp_path / "w.yaml")
    assert r.exit_code == 0, r.output
