"""`evosim view` through click's CliRunner: headless screenshot, frames, replay, refusals."""

from __future__ import annotations

import pygame
import pytest
from click.testing import CliRunner

from evosim.cli.main import main
from evosim.cli.view import parse_size, view
from tests.helpers import set_args
from tests.viewer.conftest import SMALL, record

SETS = set_args(SMALL)


def invoke(*args):
    return CliRunner().invoke(view, [str(a) for a in args])


def test_screenshot(tmp_path):
    out = tmp_path / "shot.png"
    r = invoke(
        *SETS,
        "--seed",
        3,
        "--screenshot",
        out,
        "--ticks",
        5,
        "--size",
        "640x480",
        "--layer",
        "brain",
    )
    assert r.exit_code == 0, r.output
    assert "tick 5" in r.output
    assert pygame.image.load(str(out)).get_size() == (640, 480)


def test_frames_every_k(tmp_path):
    r = invoke(*SETS, "--frames", tmp_path / "f", "--every", 4, "--ticks", 8, "--size", "400x300")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == [
        "frame-00000000.png",
        "frame-00000004.png",
        "frame-00000008.png",
    ]


def test_replay_a_run_folder(small_sim, tmp_path):
    record(small_sim, tmp_path / "run", ticks=9, every=3)
    r = invoke(tmp_path / "run", "--screenshot", tmp_path / "replay.png", "--size", "400x300")
    assert r.exit_code == 0, r.output
    assert "tick 9" in r.output and (tmp_path / "replay.png").is_file()
    r = invoke(tmp_path / "run", "--frames", tmp_path / "rf", "--every", 6, "--size", "400x300")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "rf").iterdir()) == [
        "frame-00000000.png",
        "frame-00000006.png",
    ]


@pytest.mark.parametrize("args, message", [
    (["--set", "world.width=-3", "--screenshot", "x.png"], "world.width"),
    (["missing.yaml", "--screenshot", "x.png"], "no such file"),
    (["--size", "big", "--screenshot", "x.png"], "--size big"),
    (["--every", "3", "--screenshot", "x.png"], "--every applies to --frames"),
    (["RUN", "--screenshot", "x.png"], "no recorded frames"),
    (["RUN", "--set", "world.width=64", "--screenshot", "x.png"], "--set and --seed"),
])  # fmt: skip
def test_refusals_exit_2(tmp_path, monkeypatch, args, message):
    (tmp_path / "RUN").mkdir()
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(view, args)
    assert r.exit_code == 2, r.output
    assert "evosim: error:" in r.output and message in r.output


def test_parse_size():
    assert parse_size("1200x800") == (1200, 800)
    assert parse_size(" 640 X 480 ") == (640, 480)


def test_run_record_every_then_view(tmp_path):
    r = CliRunner().invoke(
        main,
        [
            "run",
            "-q",
            "--ticks",
            "12",
            "--record-every",
            "5",
            "--out",
            str(tmp_path / "run"),
            *SETS,
        ],
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        main,
        [
            "view",
            str(tmp_path / "run"),
            "--screenshot",
            str(tmp_path / "r.png"),
            "--size",
            "400x300",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "tick 12" in r.output
