"""The viewer's real window on an X server (Xvfb): it opens, takes key and mouse events, and draws what
render() draws. The other viewer tests use SDL's dummy driver, which opens no window at all.

Skipped, saying so, only when Xvfb is not installed (Debian package ``xvfb``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def display():
    """A fresh Xvfb server; yields its DISPLAY (``:N``)."""
    if shutil.which("Xvfb") is None:
        pytest.skip(
            "Xvfb is not installed, so no X server can show the viewer's window "
            "(Debian: apt-get install xvfb; .ci/run installs it)"
        )
    r, w = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    number = b""
    deadline = time.monotonic() + 30
    while not number.endswith(b"\n") and time.monotonic() < deadline:
        if select.select([r], [], [], 0.5)[0]:
            chunk = os.read(r, 16)
            if not chunk:
                break
            number += chunk
    os.close(r)
    if not number.strip().isdigit():
        proc.kill()
        pytest.fail(f"Xvfb did not start (it said {number!r})")
    try:
        yield f":{number.decode().strip()}"
    finally:
        proc.terminate()
        proc.wait(10)


def x11_env(display: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "WAYLAND_DISPLAY")}
    return {
        **env,
        "DISPLAY": display,
        "SDL_AUDIODRIVER": "dummy",
        "PYGAME_HIDE_SUPPORT_PROMPT": "1",
    }


def test_the_window_opens_takes_events_and_draws_the_render(display):
    proc = subprocess.run(
        [sys.executable, "-m", "tests.viewer.window_script"],
        cwd=ROOT,
        env=x11_env(display),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["driver"] == "x11" and got["x_window"] > 0, got  # a real X window, not SDL's dummy
    assert got["window_size"] == [800, 600] and got["caption"].startswith("evosim")
    assert got["tick_running"] == 3 and got["map_colours"] > 3  # ran a tick per frame; drew a map
    # the window shows exactly what render() draws off-screen, before and after the events
    assert (
        got["matches_render"] and got["matches_render_after_keys"] and got["matches_render_at_end"]
    )
    assert got["paused_tick_held"] and got["paused_frames_equal"]  # space pauses
    assert got["step"] == 1 and got["step_changed_picture"]  # '.' steps one tick
    assert got["layer"] == "brain" and got["layer_changed_map"]  # '2' switches layer
    sel, row = got["selected_species"]
    assert sel == row  # a click on a species row selects it
    assert got["zoomed"] and got["closed"]  # the wheel zooms; closing the window ends the loop


def test_evosim_view_opens_a_window_when_there_is_a_display(display, tmp_path):
    """The command's no-display refusal does not fire on a real display: the window stays open."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "evosim",
            "view",
            "--ticks",
            "3",
            "--size",
            "640x480",
            "--set",
            "world.width=32",
            "--set",
            "world.height=32",
        ],  # fmt: skip
        cwd=tmp_path,
        env=x11_env(display),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(8)
        assert proc.poll() is None, f"evosim view exited ({proc.returncode}): {proc.communicate()}"
    finally:
        proc.terminate()
        proc.wait(30)
