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


# ------------------------------------------------------------------ no silent failure (issue 13)
def test_no_display_exits_2_at_once_with_a_hint(tmp_path):
    """Without a display the window loop used to run unseen forever on SDL's off-screen driver."""
    import os
    import subprocess
    import sys

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")
    }
    proc = subprocess.run(
        [sys.executable, "-m", "evosim", "view", *SETS],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "cannot open a window" in proc.stderr and "no display" in proc.stderr
    assert "--screenshot" in proc.stderr and "--frames" in proc.stderr


def test_dummy_video_driver_is_refused_for_the_window(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    r = invoke(*SETS)
    assert r.exit_code == 2 and "SDL_VIDEODRIVER=dummy draws no window" in r.output, r.output


def test_screenshot_must_be_a_new_png(tmp_path):
    r = invoke(*SETS, "--screenshot", tmp_path / "x.txt", "--ticks", 1)
    assert r.exit_code == 2 and "ending in .png" in r.output and not (tmp_path / "x.txt").exists()
    shot = tmp_path / "x.png"
    shot.write_bytes(b"precious")
    r = invoke(*SETS, "--screenshot", shot, "--ticks", 1)
    assert r.exit_code == 2 and "already exists" in r.output and "--force" in r.output
    assert shot.read_bytes() == b"precious"
    r = invoke(*SETS, "--screenshot", shot, "--ticks", 1, "--force", "--size", "400x300")
    assert r.exit_code == 0, r.output
    assert pygame.image.load(str(shot)).get_size() == (400, 300)


def test_frames_refuse_a_folder_with_frames_unless_forced(tmp_path):
    args = (*SETS, "--frames", tmp_path / "f", "--every", 2, "--ticks", 2, "--size", "400x300")
    assert invoke(*args).exit_code == 0
    r = invoke(*args)
    assert r.exit_code == 2 and "already holds 2 frame image(s)" in r.output
    assert invoke(*args, "--force").exit_code == 0


def test_replay_at_an_unrecorded_tick_shows_the_nearest_frame_and_says_so(small_sim, tmp_path):
    record(small_sim, tmp_path / "run", ticks=60, every=20)
    r = invoke(
        tmp_path / "run", "--screenshot", tmp_path / "a.png", "--ticks", 45, "--size", "400x300"
    )
    assert r.exit_code == 0, r.output
    assert (
        "no frame was recorded at tick 45" in r.output
        and "nearest recorded frame, tick 40" in r.output
    )
    assert "(tick 40," in r.output
    r = invoke(
        tmp_path / "run", "--screenshot", tmp_path / "b.png", "--ticks", 40, "--size", "400x300"
    )
    assert r.exit_code == 0 and "no frame was recorded" not in r.output and "(tick 40," in r.output
