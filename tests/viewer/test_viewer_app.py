"""The event loop driven by posted key and mouse events (dummy video driver)."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from evosim import Simulation, load_world
from evosim.io.frames import FrameReader
from evosim.viewer import panel
from evosim.viewer.app import Viewer
from evosim.viewer.render import agent_pixels
from evosim.viewer.sources import LiveSource, ReplaySource

from .conftest import SMALL, find_text, record

SIZE = (800, 600)


def key(k, **kw):
    pygame.event.post(
        pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode="", scancode=0, **kw)
    )


def click(pos):
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=1))


def frame(viewer, n=1):
    viewer.run(max_frames=n)


@pytest.fixture(autouse=True)
def display(request):
    """A (dummy) display, so events can be posted; not for the headless test."""
    if "headless" not in request.node.name:
        pygame.display.init()
        pygame.display.set_mode(SIZE)
    yield


@pytest.fixture
def viewer(small_sim):
    return Viewer(LiveSource(small_sim), size=SIZE, fps=1000)


def test_pause_step_speed_layer(viewer):
    frame(viewer, 2)
    t = viewer.source.tick
    assert t == 2  # running at 1 tick per frame
    key(pygame.K_SPACE)
    frame(viewer, 3)
    assert viewer.hud.paused and viewer.source.tick == t
    key(pygame.K_PERIOD)
    frame(viewer)
    assert viewer.source.tick == t + 1
    key(pygame.K_RIGHT)  # right arrow steps while paused
    frame(viewer)
    assert viewer.source.tick == t + 2
    key(pygame.K_PLUS)
    key(pygame.K_PLUS)
    key(pygame.K_SPACE)
    frame(viewer, 2)
    assert viewer.speed == 4 and viewer.source.tick == t + 2 + 8
    key(pygame.K_MINUS)
    key(pygame.K_2)
    frame(viewer)
    assert viewer.speed == 2 and viewer.layer == "brain"
    key(pygame.K_5)
    key(pygame.K_0)
    frame(viewer)
    assert viewer.layer == "energy"


def test_click_selects_agent_and_species(viewer):
    key(pygame.K_SPACE)
    frame(viewer)
    state = viewer.source.state()
    rows, px, py = agent_pixels(state, viewer.camera)
    k = len(rows) // 2
    pos = (int(px[k]) + viewer.info.map_rect.x, int(py[k]) + viewer.info.map_rect.y)
    click(pos)
    frame(viewer)
    assert viewer.selected is not None and viewer.selected.agent_id is not None
    picked = state.row_of(viewer.selected.agent_id)
    assert (state.x[picked], state.y[picked]) == (state.x[rows[k]], state.y[rows[k]])
    rect, s = viewer.info.species_rows[1]
    click(rect.center)
    frame(viewer)
    assert viewer.selected.species == s and viewer.selected.agent_id is None
    key(pygame.K_ESCAPE)
    frame(viewer)
    assert viewer.selected is None


def test_zoom_pan_reset_help_quit(viewer):
    frame(viewer)
    s0, cx0 = viewer.camera.scale, viewer.camera.cx
    key(pygame.K_z)
    frame(viewer)
    assert viewer.camera.scale == pytest.approx(s0 * 1.5)
    pygame.event.post(
        pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=1, flipped=False, precise_x=0.0, precise_y=1.0)
    )
    frame(viewer)
    assert viewer.camera.scale == pytest.approx(s0 * 1.5 * 1.25)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(200, 200), button=1))
    pygame.event.post(
        pygame.event.Event(pygame.MOUSEMOTION, pos=(240, 200), rel=(40, 0), buttons=(1, 0, 0))
    )
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(240, 200), button=1))
    frame(viewer)
    assert (
        viewer.camera.cx != pytest.approx(cx0) and viewer.selected is None
    )  # a drag is not a click
    key(pygame.K_x)
    key(pygame.K_r)
    key(pygame.K_h)
    frame(viewer)
    assert viewer.camera.scale == pytest.approx(s0) and viewer.hud.show_help
    key(pygame.K_q)
    frame(viewer, 100)
    assert not viewer.running


def test_no_interventions_in_this_world(viewer):
    frame(viewer)
    key(pygame.K_i)
    frame(viewer)
    assert viewer.hud.message == "no interventions in this world"
    click(viewer.info.species_rows[0][0].center)
    key(pygame.K_i)
    key(pygame.K_n)
    frame(viewer)
    assert viewer.hud.message == "no interventions in this world"
    assert viewer.source.sim.species.view("manipulators").tolist() == [0, 0]


#: Interventions the viewer can apply (their own trigger never fires in these tests).
HANDS = "{name: hands, when: {tick: 100000}, target: {all: true}, effect: {kind: manipulators, level: 0.9}}"
FIRE = "{name: fire, when: {tick: 100000}, target: {all: true}, effect: {kind: fire_substitute}}"


def live_viewer(*interventions: str) -> tuple[Simulation, Viewer]:
    """A small world offering ``interventions`` (YAML mappings), and a viewer stepping it."""
    sim = Simulation(
        load_world(overrides=[*SMALL, f"interventions=[{', '.join(interventions)}]"]), seed=1
    )
    return sim, Viewer(LiveSource(sim), size=SIZE, fps=1000)


def test_choose_and_apply_an_intervention():
    sim, viewer = live_viewer(HANDS, FIRE)
    key(pygame.K_SPACE)
    frame(viewer)
    assert viewer.names == ["hands", "fire"] and viewer.hud.intervention == "hands"
    key(pygame.K_i)
    frame(viewer)
    assert viewer.hud.message == "select a species (click its row) or an agent first"
    rect, s = viewer.info.species_rows[0]
    click(rect.center)
    key(pygame.K_n)
    key(pygame.K_i)
    frame(viewer)
    assert viewer.hud.intervention == "fire"
    assert sim.species.fire_substitute.tolist()[:2] == [int(s == 0), int(s == 1)]
    assert sim.species.view("manipulators").tolist() == [0, 0]  # hands not applied
    assert viewer.hud.message == f"tick {sim.tick}: fire: fire substitute"
    assert viewer.source.state().fire_substitute[s] == 1


def test_replay_steps_forward_and_back(small_sim, tmp_path):
    record(small_sim, tmp_path, ticks=8, every=2, chunk_frames=2)
    viewer = Viewer(ReplaySource(FrameReader(tmp_path)), size=SIZE, fps=1000)
    key(pygame.K_SPACE)
    frame(viewer)
    assert viewer.source.tick == 0 and viewer.hud.mode == "replay"
    key(pygame.K_PERIOD)
    key(pygame.K_PERIOD)
    frame(viewer)
    assert viewer.source.tick == 4
    key(pygame.K_LEFT)
    frame(viewer)
    assert viewer.source.tick == 2
    key(pygame.K_SPACE)
    frame(viewer, 10)  # runs to the end, then pauses
    assert (
        viewer.source.tick == 8
        and viewer.hud.paused
        and "end of the recording" in viewer.hud.message
    )
    key(pygame.K_i)
    frame(viewer)
    assert "live mode" in viewer.hud.message
    np.testing.assert_array_equal(viewer.source.state().x, small_sim.pop.live("x"))


def test_headless_screenshot_and_frames(small_sim, tmp_path):
    viewer = Viewer(LiveSource(small_sim), size=(640, 480))
    out = viewer.screenshot(tmp_path / "shot.png", ticks=6)
    assert small_sim.tick == 6 and pygame.image.load(str(out)).get_size() == (640, 480)
    written = viewer.save_frames(tmp_path / "frames", every=3, ticks=6)
    assert [p.name for p in written] == [
        "frame-00000006.png",
        "frame-00000009.png",
        "frame-00000012.png",
    ]
    assert not pygame.display.get_init()  # nothing opened a window


def test_headless_screenshot_is_a_figure_the_window_keeps_its_help(small_sim, tmp_path):
    """--screenshot and --frames images leave out the key help and run state; the window keeps them."""
    viewer = Viewer(LiveSource(small_sim), size=(1200, 800))
    shot = pygame.image.load(str(viewer.screenshot(tmp_path / "shot.png", ticks=4)))
    frame_png = viewer.save_frames(tmp_path / "frames", every=1, ticks=0)[0]
    state = viewer.source.state()
    window = pygame.Surface(viewer.size)
    viewer.draw(window)  # what the window shows (run() draws with the same call)
    pygame.image.save(window, str(tmp_path / "window.png"))
    window = pygame.image.load(str(tmp_path / "window.png"))
    x = viewer.info.map_rect.right + 12
    window_only = [
        *((line, 11) for line in panel.KEY_HELP),
        ("live · running ×1", 12),
        ("no interventions in this world", 11),
    ]
    for image in (shot, pygame.image.load(str(frame_png))):
        assert [line for line, size in window_only if find_text(image, line, x, size)] == []
    assert [line for line, size in window_only if not find_text(window, line, x, size)] == []
    assert (
        not viewer.hud.show_help and viewer.hud.interactive
    )  # the figure did not change the window's
    for image in (shot, window):  # title, tick and population, species rows in full, plots
        assert find_text(image, f"evosim · {state.world_name}", x, 16, panel.FG, bold=True)
        assert find_text(image, f"tick 4   population {state.n:,}", x, 13, panel.FG)
        assert len(viewer.info.species_rows) == 2
        for _, s in viewer.info.species_rows:
            name_y = find_text(image, state.species_name(s), x + 18, 13, panel.FG, bold=True)
            assert len(name_y) == 1, state.species_name(s)
            line = panel.gene_summary(state.stats.mean_genes[s], float(state.stats.mean_skill[s]))
            assert [y + 15 for y in name_y] == find_text(image, line, x + 18, panel.GENE_ROW_SIZE)
        plot_bg = (30, 33, 42)
        for title in ("population", "mean skill"):
            assert find_text(image, title, x + 4, 11, bg=plot_bg), title


def test_engine_intervention_from_the_keyboard():
    sim, viewer = live_viewer(HANDS)
    key(pygame.K_SPACE)
    frame(viewer)
    assert viewer.names == ["hands"] and viewer.hud.intervention == "hands"
    rect, s = viewer.info.species_rows[0]
    click(rect.center)
    key(pygame.K_i)
    frame(viewer)
    assert sim.species.manipulators[s] == pytest.approx(0.9)
    # granted hands cost the dexterity upkeep at their level by default: 0.05 x 0.9
    cost = sim.world.traits.dexterity.upkeep * 0.9
    assert (
        viewer.hud.message
        == f"tick {sim.tick}: hands: manipulators 0.9 (energy cost {cost:g}/tick)"
    )
    assert sim.events == []  # drained each frame: a long session does not accumulate them
    assert viewer.source.state().manipulators[s] == pytest.approx(0.9)


def test_headless_replay_plots_from_the_time_series(tmp_path):
    from evosim.io.runner import run

    world = load_world(overrides=[*SMALL, "output.record_every=3", "output.sample_every=1"])
    run(world, tmp_path / "run", ticks=12, seed=1)
    src = ReplaySource(FrameReader(tmp_path / "run"))
    assert src.series is not None
    for i, t in enumerate(src.reader.ticks.tolist()):  # the run's samples agree with its frames
        hist = src.history(t)
        assert hist.ticks[-1] == t and len(hist) == t + 1
        count = src.reader.state(i).stats.count
        np.testing.assert_array_equal(hist.pop[-1, : len(count)], count)
    viewer = Viewer(src, size=(640, 480))
    viewer.screenshot(tmp_path / "r.png", ticks=6)
    assert viewer.history.ticks.tolist() == list(range(7)) and src.tick == 6
    written = viewer.save_frames(tmp_path / "frames", every=6)
    assert [p.name for p in written] == [
        "frame-00000000.png",
        "frame-00000006.png",
        "frame-00000012.png",
    ]
    assert viewer.history.ticks[-1] == 12 and len(viewer.history) == 13


def test_headless_replay_without_a_time_series(small_sim, tmp_path):
    record(small_sim, tmp_path, ticks=8, every=2)
    viewer = Viewer(ReplaySource(FrameReader(tmp_path)), size=(640, 480))
    assert viewer.source.series is None
    viewer.screenshot(tmp_path / "r.png", ticks=5)
    assert viewer.history.ticks.tolist() == [
        0,
        2,
        4,
        6,
    ]  # decoded frames, up to the frame at/after tick 5
