"""render(): known states drawn, pixels checked."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from evosim import Simulation, load_world
from evosim.defaults import GENES
from evosim.io.snapshot import History, TimeSeries, ViewState
from evosim.viewer import colors as C
from evosim.viewer import panel
from evosim.viewer.panel import GENE_ROW_SIZE, KEY_HELP, gene_summary
from evosim.viewer.render import (
    LAYER_NAMES,
    Camera,
    Hud,
    Selection,
    agent_pixels,
    pick_agent,
    render,
)

from .conftest import SMALL, find_text

SIZE = (800, 600)  # panel 300 px, map 500x600: an 8x8 world at 62.5 px per cell


def pixel_of(state, info, row):
    rows, px, py = agent_pixels(state, info.camera)
    k = int(np.flatnonzero(rows == row)[0])
    return int(px[k]) + info.map_rect.x, int(py[k]) + info.map_rect.y


def color_at(surface, pos):
    return tuple(surface.get_at(pos))[:3]


def test_species_colour_where_agent_stands(make_state):
    state = make_state()
    surf = pygame.Surface(SIZE)
    info = render(state, surf)
    pal = C.species_palette(2)
    for row in range(state.n):
        assert color_at(surf, pixel_of(state, info, row)) == tuple(pal[state.species[row]])
    # the whole 8x8 world fits 500x600 at 62.5 px per cell, centred vertically (50 px above and below)
    scale = info.camera.scale
    assert scale == pytest.approx(62.5)
    assert pixel_of(state, info, 0) == (int(2.5 * scale), 50 + int(3.5 * scale))
    assert color_at(surf, (250, 20)) == C.VOID  # outside the world
    # an empty water cell shows water, not an agent colour
    empty = color_at(surf, (int(0.5 * scale), 50 + int(0.5 * scale)))
    assert empty not in {tuple(c) for c in pal}
    assert empty[2] > empty[0]  # bluish


def test_layer_switch_changes_the_picture(make_state):
    state = make_state()
    a, b = pygame.Surface(SIZE), pygame.Surface(SIZE)
    info = render(state, a, layer="species")
    render(state, b, layer="brain")
    assert pygame.image.tobytes(a, "RGB") != pygame.image.tobytes(b, "RGB")
    brain = state.gene("brain")
    for row in range(state.n):
        want = tuple(C.VIRIDIS[C.lut_index(brain[row : row + 1])][0])
        assert color_at(b, pixel_of(state, info, row)) == want


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_every_layer_draws(make_state, layer):
    full = make_state(
        skill=np.array([0.0, 2.0, 4.0], np.float32),
        milestone=np.array([0, 1, 3], np.uint8),
        milestone_names=["stone tools", "fire", "cooking"],
    )
    for state in (make_state(), full):
        surf = pygame.Surface(SIZE)
        info = render(state, surf, layer=layer)
        assert info.legend.text
        assert len(info.species_rows) == 2


def test_food_layer_shows_food(make_state):
    food = np.zeros((8, 8), np.float32)
    food[0, 0] = 8.0  # full water cell at (0, 0); (1, 0) empty
    state = make_state(food=food)
    surf = pygame.Surface(SIZE)
    render(state, surf, layer="food")
    full, empty = color_at(surf, (31, 81)), color_at(surf, (31 + 62, 81))
    assert sum(full) > sum(empty) + 100


def test_skill_layer_uses_skill_when_present(make_state):
    plain, skilled = make_state(), make_state(skill=np.array([0.0, 5.0, 10.0], np.float32))
    a, b = pygame.Surface(SIZE), pygame.Surface(SIZE)
    ia = render(plain, a, layer="skill")
    ib = render(skilled, b, layer="skill")
    assert "no skill data" in ia.legend.text
    assert color_at(a, pixel_of(plain, ia, 1)) == (150, 150, 150)
    assert color_at(b, pixel_of(skilled, ib, 2)) == tuple(C.PLASMA[255])
    assert color_at(b, pixel_of(skilled, ib, 0)) == tuple(C.PLASMA[0])


def test_selected_species_dims_the_others(make_state):
    state = make_state()
    surf = pygame.Surface(SIZE)
    info = render(state, surf, selected=Selection(species=1))
    pal = C.species_palette(2)
    assert color_at(surf, pixel_of(state, info, 1)) == tuple(pal[1])
    assert color_at(surf, pixel_of(state, info, 0)) == tuple(C.dim(pal[:1])[0])


def test_selected_agent_and_panel_inspector(make_state):
    state = make_state(
        skill=np.array([0.5, 1.5, 2.5], np.float32),
        intelligent_at=np.array([-1, 3]),
        technological_at=np.array([-1, -1]),
    )
    surf = pygame.Surface(SIZE)
    render(state, surf, selected=Selection(agent_id=102))
    assert state.ancestry(2) == [(101, 1), (100, 0)]
    render(state, surf, selected=Selection(agent_id=999))  # not alive: still draws
    render(state, surf, selected=Selection(species=1), hud=Hud(show_help=True, message="hello"))


def saved(surface, path):
    """``surface`` written as PNG and read back (what a user gets on disk)."""
    pygame.image.save(surface, str(path))
    return pygame.image.load(str(path))


def test_a_figure_leaves_out_the_window_only_text(make_state, tmp_path):
    """Key help, run state, message, intervention line and help overlay: in the window, not in a figure."""
    state = make_state(skill=np.array([0.5, 1.5, 2.5], np.float32))
    status = dict(mode="live", show_help=True, message="hello")
    surf = pygame.Surface(SIZE)
    info = render(state, surf, hud=Hud(**status))
    window = saved(surf, tmp_path / "window.png")
    render(state, surf, hud=Hud(**status, interactive=False))
    figure = saved(surf, tmp_path / "figure.png")
    render(state, surf, hud=Hud(mode="live"))
    no_overlay = saved(surf, tmp_path / "no_overlay.png")
    x = info.map_rect.right + 12  # the panel's left margin
    window_only = [
        *((line, 11, panel.DIM) for line in KEY_HELP),
        ("live · running ×1", 12, panel.DIM),
        ("hello", 12, panel.ACCENT),
        ("no interventions in this world", 11, panel.DIM),
    ]
    for line, size, color in window_only:
        assert len(find_text(window, line, x, size, color)) == 1, line
        assert find_text(figure, line, x, size, color) == [], line
    # both keep the title, the tick and population, the layer and the species rows
    for image in (window, figure):
        assert find_text(image, "evosim · hand", x, 16, panel.FG, bold=True)
        assert find_text(image, "tick 7   population 3", x, 13, panel.FG)
        assert find_text(image, "layer [1] species", x, 13, panel.FG, bold=True)
        for name in ("alpha", "beta"):
            assert find_text(image, name, x + 18, 13, panel.FG, bold=True), name
    # the help overlay covers the window's map only: the figure's map is the one without it
    m = info.map_rect
    pixels = {k: pygame.surfarray.array3d(v)[: m.w] for k, v in
              (("window", window), ("figure", figure), ("plain", no_overlay))}  # fmt: skip
    assert np.array_equal(pixels["figure"], pixels["plain"])
    assert not np.array_equal(pixels["window"], pixels["plain"])


def test_gene_summary_format():
    half = np.full(len(GENES), 0.5)
    assert gene_summary(half, 14.3) == "ls.50 ch.50 so.50 dx.50 hb.50 br.50 fe.50 z14"
    genes = np.array([0.049, 0.123, 0.996, 1.0, 0.0, 0.5, 0.994])
    assert gene_summary(genes, 0.123) == "ls.05 ch.12 so1.0 dx1.0 hb.00 br.50 fe.99 z.12"
    assert gene_summary(half, 2.46).endswith(" z2.5")
    assert gene_summary(half, 9.96).endswith(" z10")
    assert gene_summary(half, float("nan")) == "ls.50 ch.50 so.50 dx.50 hb.50 br.50 fe.50"


def test_species_rows_show_the_whole_gene_summary_at_the_default_size(make_state, tmp_path):
    """At 1200x800 the gene line of each species row is drawn in full (it was cut off as "z0.…")."""
    state = make_state(skill=np.array([0.5, 1.5, 2.5], np.float32))
    surf = pygame.Surface((1200, 800))
    info = render(state, surf, hud=Hud(interactive=False))
    image = saved(surf, tmp_path / "rows.png")
    st = state.stats
    x = info.map_rect.right + 12 + 18  # under the species name, right of the colour swatch
    for rect, s in info.species_rows:
        line = gene_summary(st.mean_genes[s], float(st.mean_skill[s]))
        assert line.endswith(" z.50" if s == 0 else " z2.0")  # agent 0; agents 1 and 2
        assert find_text(image, line, x, GENE_ROW_SIZE) == [rect.y + 16], line
    # the widest line (three characters per value) fits the row, right of the swatch
    widest = gene_summary(np.full(len(GENES), 0.55), 0.55)
    row_w = info.species_rows[0][0].w - 8  # the rows' rect is 4 px wider each side
    assert panel.font(GENE_ROW_SIZE).size(widest)[0] <= row_w - 18


def test_zoom_and_pan_move_agents(make_state):
    state = make_state()
    surf = pygame.Surface(SIZE)
    cam = Camera.fit(state.shape, (500, 600))
    before = render(state, surf, camera=cam)
    p0 = pixel_of(state, before, 1)
    cell = cam.cell_at(*p0)
    cam.zoom(2.0, about=p0)
    assert cam.scale == pytest.approx(125.0)
    assert cam.cell_at(*p0) == cell  # zooming about a pixel keeps its cell under it
    after = render(state, surf, camera=cam)
    p1 = pixel_of(state, after, 1)
    assert color_at(surf, p1) == tuple(C.species_palette(2)[1])
    cam.pan(-125, 0)  # drag left by one cell: the world moves left
    moved = render(state, surf, camera=cam)
    assert pixel_of(state, moved, 1) == (p1[0] - 125, p1[1])
    assert color_at(surf, (p1[0] - 125, p1[1])) == tuple(C.species_palette(2)[1])
    cam.zoom(1e-6)
    assert cam.scale == pytest.approx(cam.min_scale)


def test_toroidal_view_wraps(make_state):
    state = make_state(x=np.array([0, 7, 3], np.int32), y=np.array([4, 4, 4], np.int32))
    cam = Camera.fit(state.shape, (500, 600))
    cam.zoom(4.0)
    cam.cx, cam.cy = 0.0, 4.5  # the seam x = 0 / x = 7 in the middle of the view
    rows, px, py = agent_pixels(state, cam)
    seen = dict(zip(rows.tolist(), px.tolist()))
    assert 0 in seen and 1 in seen and 2 not in seen
    assert seen[1] < seen[0]  # x = 7 is drawn just left of x = 0
    assert seen[0] - seen[1] == pytest.approx(cam.scale, abs=1)


def test_pick_agent(make_state):
    state = make_state()
    cam = Camera.fit(state.shape, (500, 600))
    rows, px, py = agent_pixels(state, cam)
    k = int(np.flatnonzero(rows == 2)[0])
    assert pick_agent(state, cam, (int(px[k]) + 3, int(py[k]) - 2)) == 2
    assert pick_agent(state, cam, (10, 590)) is None


def test_empty_world_and_many_species(make_state):
    empty = make_state(
        x=np.zeros(0, np.int32),
        y=np.zeros(0, np.int32),
        species=np.zeros(0, np.int32),
        genome=np.zeros((0, len(GENES)), np.float32),
        energy=np.zeros(0, np.float32),
        age=np.zeros(0, np.int32),
        id=np.zeros(0, np.int64),
        parent_id=np.zeros(0, np.int64),
    )
    surf = pygame.Surface(SIZE)
    assert render(empty, surf).legend.text == "no agents alive"
    n = 40
    many = make_state(
        x=np.arange(n, dtype=np.int32) % 8,
        y=np.arange(n, dtype=np.int32) // 8 % 8,
        species=np.arange(n, dtype=np.int32),
        genome=np.full((n, len(GENES)), 0.3, np.float32),
        energy=None,
        age=None,
        id=None,
        parent_id=None,
        species_names=[f"s{i}" for i in range(n)],
    )
    info = render(many, surf)
    assert 0 < len(info.species_rows) < n
    assert len({tuple(c) for c in C.species_palette(n)}) == n


def test_history_and_plot(make_state):
    hist = History(capacity=8)
    for t in range(40):
        hist.add(make_state(tick=t, skill=np.array([t, t, t], np.float32)))
    assert 4 <= len(hist) <= 8 and hist.ticks[0] == 0 and hist.has_skill
    assert list(hist.pop[-1, :2]) == [1, 2]
    hist.add(make_state(tick=5))  # going back in time (replay) truncates
    assert hist.ticks[-1] == 5
    render(make_state(), pygame.Surface(SIZE), history=hist)


def test_from_real_simulation(small_sim):
    small_sim.advance(3)
    state = ViewState.from_sim(small_sim)
    assert state.n == small_sim.pop.n and state.tick == 3
    np.testing.assert_array_equal(state.x, small_sim.pop.live("x"))
    assert state.stats.count.sum() == state.n
    for layer in LAYER_NAMES:
        render(state, pygame.Surface(SIZE), layer=layer)


def test_from_sim_without_a_ladder():
    sim = Simulation(load_world(overrides=[*SMALL, "technology.ladder=[]"]), seed=1)
    state = ViewState.from_sim(sim)
    assert state.milestone is None and state.milestone_names == []
    assert state.intelligent_at.tolist() == [-1, -1] and state.species_parent.tolist() == [-1, -1]
    assert state.manipulators.tolist() == [0, 0] and state.fire_substitute.tolist() == [0, 0]
    for layer in LAYER_NAMES:
        render(state, pygame.Surface(SIZE), layer=layer, selected=Selection(species=0))


def test_from_sim_reads_skill_milestones_marks_and_grants(small_sim):
    sim = small_sim
    n = sim.pop.n
    sim.pop.skill[:n] = np.resize(
        np.array([0.0, 2.0, 5.5, 30.0], np.float32), n
    )  # ladder: 2, 5, 8, 12, 18
    sp = sim.species
    sp.intelligent_at[0], sp.technological_at[0] = 12, 40
    sp.manipulators[0], sp.fire_substitute[0] = 0.8, 1
    state = ViewState.from_sim(sim)
    assert state.skill.tolist()[:4] == [0.0, 2.0, 5.5, 30.0]
    assert state.milestone.tolist()[:4] == [0, 1, 2, 5]
    assert state.milestone_names == ["stone_tools", "fire", "cooking", "agriculture", "metallurgy"]
    assert state.milestone_name(2) == "fire" and state.species_name(1) == "swimmer"
    assert state.intelligent_at.tolist() == [12, -1] and state.technological_at.tolist() == [40, -1]
    assert state.manipulators.tolist() == [
        pytest.approx(0.8),
        0,
    ] and state.fire_substitute.tolist() == [1, 0]
    # milestones are held where an agent stands: the swimmers (in water, no fire substitute) hold stone tools
    # at most, whatever their skill; the grazers (on land) the whole ladder
    swimmers = sim.pop.live("species") == 1
    assert (state.milestone[swimmers] == np.minimum(state.skill[swimmers] >= 2.0, 1)).all()
    assert state.stats.top_milestone.tolist() == [5, 1] and state.n_ids == 2
    sp.manipulators[0] = 0.0  # a copy: the simulation may change on
    assert state.manipulators[0] == pytest.approx(0.8)
    sp.fire_substitute[1] = 1  # a fire substitute lifts the land requirement
    assert ViewState.from_sim(sim).stats.top_milestone.tolist() == [5, 5]
    for layer in ("milestone", "skill", "species"):
        render(state, pygame.Surface(SIZE), layer=layer, selected=Selection(species=0))
    render(state, pygame.Surface(SIZE), selected=Selection(agent_id=int(state.id[3])))


def test_time_series_history():
    ts = TimeSeries(
        tick=np.array([10, 0, 0, 10, 20]),
        species=np.array([0, 0, 1, 1, 1]),
        population=np.array([4, 5, 6, 7, 8]),
        mean_skill=np.array([1.0, 0.5, np.nan, 2.0, 3.0]),
    )
    h = ts.history(15)
    assert h.ticks.tolist() == [0, 10]
    assert h.pop.tolist() == [[5, 6], [4, 7]]
    assert h.skill[0, 0] == 0.5 and np.isnan(h.skill[0, 1]) and h.has_skill
    last = ts.history(20)
    assert last.pop[-1].tolist() == [0, 8] and np.isnan(last.skill[-1, 0])  # no row: extinct
    assert len(ts.history(-1)) == 0
    many = TimeSeries(np.arange(1000), np.zeros(1000), np.arange(1000), np.zeros(1000)).history(
        10_000, capacity=8
    )
    assert len(many) <= 8 and many.ticks[0] == 0 and many.ticks[-1] == 999
