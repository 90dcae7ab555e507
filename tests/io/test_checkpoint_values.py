"""Issue 22 row 2: a checkpoint header without its checksum, or holding values no run can have, is refused."""

from __future__ import annotations

import json
import shutil

import pytest

from evosim import load_world
from evosim.errors import CheckpointError
from evosim.io import checkpoint as ck
from evosim.io import runner
from evosim.io.logs import load_lineage
from tests.helpers import TINY, assert_one_line, read_summary


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A 40-tick tiny run with lineage, checkpoints every 10 ticks (all kept)."""
    out = tmp_path_factory.mktemp("ck") / "run"
    world = load_world(overrides={**TINY, "output.lineage": True, "output.checkpoint_keep": 10})
    runner.run(world, out, ticks=40, checkpoint_every=10)
    return out


def _edit(path, sign: bool, **scalars) -> None:
    h = json.loads(path.read_text())
    h["scalars"].update(scalars)
    del h["header_sha256"]
    if sign:  # a matching checksum: someone who knows the format edited it
        h["header_sha256"] = ck._header_sha(h)
    path.write_text(json.dumps(h, indent=2))


def test_a_header_without_its_checksum_is_refused(finished, tmp_path):
    run = shutil.copytree(finished, tmp_path / "run")
    hp = run / "checkpoints" / "ckpt-0000000040.json"
    _edit(hp, sign=False)  # nothing changed but the checksum line removed
    with pytest.raises(CheckpointError, match=r"checksum \(header_sha256\) is missing"):
        ck.read(hp)


@pytest.mark.parametrize(
    "values, why",
    [
        ({"next_id": 100}, "next_id is 100, but a live agent has id"),
        ({"total_births": -5}, "total_births is -5"),
        ({"agent_steps": 1.5}, "agent_steps is 1.5"),
        ({"cap_reached_at": 99}, "cap_reached_at is 99"),
    ],
)
def test_values_no_run_can_have_are_refused_even_with_a_matching_checksum(
    finished, tmp_path, values, why
):
    run = shutil.copytree(finished, tmp_path / "run")
    hp = run / "checkpoints" / "ckpt-0000000040.json"
    _edit(hp, sign=True, **values)
    with pytest.raises(CheckpointError, match="a state no run can have") as err:
        ck.read(hp)
    assert why in str(err.value)


def test_the_edit_of_the_issue_resumes_from_an_older_checkpoint_and_stays_correct(
    finished, tmp_path, cli
):
    """next_id=100, total_births=-5 and no checksum: used to resume with 12,503 duplicate ids."""
    run = shutil.copytree(finished, tmp_path / "run")
    for hp in sorted((run / "checkpoints").glob("ckpt-*.json"))[-2:]:
        _edit(hp, sign=False, next_id=100, total_births=-5)
    r = cli("run", "--resume", run, "--ticks", 60)
    assert r.exit_code == 0, r.output
    assert "skipped a newer checkpoint" in r.stderr and "header_sha256) is missing" in r.stderr
    assert "resumed from tick 20" in r.output
    lin = load_lineage(run)
    assert lin["id"].is_unique
    ref = tmp_path / "ref"
    world = load_world(overrides={**TINY, "output.lineage": True, "output.checkpoint_keep": 10})
    runner.run(world, ref, ticks=60, checkpoint_every=10)
    assert read_summary(run, timing=False)["births"] == read_summary(ref, timing=False)["births"]
    assert (run / "timeseries.csv").read_bytes() == (ref / "timeseries.csv").read_bytes()
    for hp in sorted((run / "checkpoints").glob("ckpt-*.json")):
        ck.read(hp)  # every checkpoint left is valid again


def test_a_branch_shorter_than_its_checkpoint_is_refused(finished, tmp_path, cli):
    """Issue 22 row 6: --from at tick 40 with --ticks 30 said "completed after 40 ticks", config ticks 30."""
    ckpt = finished / "checkpoints" / "ckpt-0000000040.json"
    r = cli("run", "--from", ckpt, "--ticks", 30, "--out", tmp_path / "b")
    assert r.exit_code == 2, r.output
    assert_one_line(
        r.stderr.strip(), "30 ticks", "already at tick 40", "40 or more", "Nothing was written"
    )
    assert not (tmp_path / "b").exists()
    r = cli("run", "--from", ckpt, "--ticks", 45, "--out", tmp_path / "c")
    assert r.exit_code == 0, r.output
    assert read_summary(tmp_path / "c")["ticks_run"] == 45
