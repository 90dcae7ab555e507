"""``evosim plot RUN`` and ``evosim plot RUN --newick FILE`` as a user runs them."""

from __future__ import annotations

import shutil

import dendropy
import pandas as pd
import pytest

from evosim.analysis.runplots import PLOTS
from tests.cli.terminal import in_pty
from tests.helpers import assert_one_line


@pytest.fixture
def run_copy(four_founders_run, tmp_path):
    """A private copy of the four-founder run (the command writes into it)."""
    return shutil.copytree(
        four_founders_run, tmp_path / "run", ignore=shutil.ignore_patterns("checkpoints", "plots")
    )


def test_plot_at_a_terminal_writes_and_names_every_png(run_copy, tmp_path):
    r = in_pty("plot", run_copy, cwd=tmp_path)
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == len(PLOTS)
    for line, (name, (_, what)) in zip(lines, PLOTS.items()):
        path = run_copy / "plots" / name
        assert line.startswith(f"{path}  (") and line.endswith(what)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000


def test_newick_export(cli, run_copy, tmp_path):
    target = tmp_path / "tree.nwk"
    r = cli("plot", run_copy, "--newick", target)
    assert r.exit_code == 0, r.output
    species = pd.read_csv(run_copy / "species.csv")
    assert f"{len(species)} species, one tip each" in r.stderr
    tree = dendropy.Tree.get(path=target, schema="newick", preserve_underscores=True)
    assert sorted(t.taxon.label for t in tree.leaf_node_iter()) == sorted(species["name"])
    assert not (run_copy / "plots").exists()  # --newick exports instead of plotting
    r = cli("plot", run_copy, "--newick", "-")
    assert r.exit_code == 0 and r.stdout == target.read_text()
    r = cli("plot", run_copy, "--newick", target)  # never overwrites
    assert r.exit_code == 2
    assert_one_line(r.stderr.strip(), "--newick", "already exists")


def test_plot_refuses_what_is_not_a_run_folder(cli, tmp_path, world_file):
    r = cli("plot", tmp_path / "nope")
    assert r.exit_code == 2
    assert_one_line(r.stderr.strip(), "no such run folder")
    (tmp_path / "empty").mkdir()
    r = cli("plot", tmp_path / "empty")
    assert r.exit_code == 2
    assert_one_line(r.stderr.strip(), "not a run folder", "config.yaml")
    assert not (tmp_path / "empty" / "plots").exists()


def test_newick_of_an_unfinished_run_is_refused(cli, run_copy, tmp_path):
    (run_copy / "species.csv").unlink()
    r = cli("plot", run_copy, "--newick", tmp_path / "t.nwk")
    assert r.exit_code == 2
    assert_one_line(r.stderr.strip(), "no species.csv", "evosim run --resume")
    assert not (tmp_path / "t.nwk").exists()
