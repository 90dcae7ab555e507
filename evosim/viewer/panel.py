"""The side panel: status, species list, inspector, live plot and key help.

Loops here run over species, genes and text lines — never over agents (the
per-species figures come from :class:`~evosim.io.snapshot.SpeciesStats`,
computed with ``np.bincount``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pygame

from evosim.defaults import GENES
from evosim.io.snapshot import History, ViewState
from evosim.viewer import colors as C
from evosim.viewer.layers import Legend, layer_by_name

BG = (22, 24, 30)
FG = (225, 228, 235)
DIM = (140, 146, 160)
ACCENT = (255, 210, 90)
SEL = (60, 66, 86)
GENE_ABBR = {"lifespan": "ls", "childhood": "ch", "sociality": "so", "dexterity": "dx", "habitat": "hb",
             "brain": "br", "fecundity": "fe"}  # fmt: skip
#: Font size of the gene summary under each species name (see :func:`gene_summary`).
GENE_ROW_SIZE = 10

#: Short key help, shown at the bottom of the panel in the window (not in saved figures).
KEY_HELP = (
    "space pause  . → step  +/- speed",
    "1-9,0 layer  wheel z x zoom  r reset",
    "arrows/drag pan  click inspect  esc",
    "n/i intervene  p shot  h help  q quit",
)
#: Full key help (the ``h`` overlay).
FULL_HELP = (
    ("space", "pause / resume"),
    (". or →", "one step while paused (replay: ← steps back)"),
    ("+ / -", "faster / slower (ticks per frame)"),
    (
        "1 .. 9, 0",
        "layer: species, brain, skill, dexterity, food, milestone, sociality, childhood, lifespan, energy",
    ),
    ("wheel, z / x", "zoom in / out (wheel: about the pointer)"),
    ("arrows, drag", "pan (→ steps instead while paused)"),
    ("r", "reset the view (whole world)"),
    ("click", "inspect an agent (map) or a species (panel row)"),
    ("esc", "clear the selection"),
    ("n / i", "choose / apply an intervention to the selected species (live)"),
    ("p", "save a screenshot (PNG) in the current folder"),
    ("h", "this help"),
    ("q", "quit"),
)


@lru_cache(maxsize=16)
def font(size: int, bold: bool = False) -> pygame.font.Font:
    """A monospace font (DejaVu Sans Mono if installed, else pygame's default)."""
    if not pygame.font.get_init():
        pygame.font.init()
    path = pygame.font.match_font("dejavusansmono,liberationmono,couriernew,monospace", bold=bold)
    f = pygame.font.Font(path, size) if path else pygame.font.Font(None, size + 4)
    return f


@lru_cache(maxsize=1024)
def _text(s: str, size: int, color: tuple[int, int, int], bold: bool) -> pygame.Surface:
    return font(size, bold).render(s, True, color)


def text(
    surf: pygame.Surface,
    s: str,
    pos: tuple[int, int],
    size: int = 13,
    color=FG,
    bold: bool = False,
    right: int | None = None,
) -> pygame.Rect:
    """Blit one line of text at ``pos`` (or right-aligned to x ``right``); returns its rect."""
    img = _text(s, size, tuple(color), bold)
    x = right - img.get_width() if right is not None else pos[0]
    return surf.blit(img, (x, pos[1]))


def _fit(s: str, size: int, width: int) -> str:
    f = font(size)
    if f.size(s)[0] <= width:
        return s
    while s and f.size(s + "…")[0] > width:
        s = s[:-1]
    return s + "…"


def num(v: float) -> str:
    """Compact number for axis labels: 12,832 / 4.2k / 0.35."""
    if not np.isfinite(v):
        return "-"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.3g}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.3g}k"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _wrap(parts: list[str], size: int, width: int) -> list[str]:
    """Join ``parts`` with ", " into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    for part in parts:
        if lines and font(size).size(lines[-1] + ", " + part)[0] <= width:
            lines[-1] += ", " + part
        else:
            lines.append(_fit(part, size, width))
    return lines


def _gene_bars(surf: pygame.Surface, x: int, y: int, w: int, values: np.ndarray) -> int:
    """Seven labelled bars (genes in [0, 1]); returns the height used."""
    bar_w = w - 120
    for g, name in enumerate(GENES):
        v = float(values[g]) if np.isfinite(values[g]) else 0.0
        text(surf, name, (x, y + g * 14), 11, DIM)
        pygame.draw.rect(surf, (50, 54, 66), (x + 72, y + g * 14 + 3, bar_w, 8))
        pygame.draw.rect(surf, (120, 190, 255), (x + 72, y + g * 14 + 3, max(1, int(bar_w * v)), 8))
        text(surf, f"{v:.2f}", (0, y + g * 14), 11, FG, right=x + w)
    return len(GENES) * 14


def _short(v: float) -> str:
    """A value in three characters (below 1000) for the species rows: .05, .50, 1.0, 2.5, 14."""
    if v < 0.995:
        return f"{v:.2f}".removeprefix("0")
    if v < 9.95:
        return f"{v:.1f}"
    return f"{v:.0f}"


def gene_summary(mean_genes: np.ndarray, mean_skill: float) -> str:
    """The second line of a species row: mean genes and mean skill, e.g. ``ls.50 ch.49 … fe.49 z14``.

    Args:
        mean_genes: the species' mean of each gene of :data:`GENES` (in [0, 1]).
        mean_skill: its mean skill (NaN: no skill data, left out).

    Returns:
        ``<abbr><value>`` per gene (:data:`GENE_ABBR`), then ``z<skill>``; a
        value takes three characters (a skill of 1000 or more, four), so at
        :data:`GENE_ROW_SIZE` the line fits the panel of a 1200 px wide window.
    """
    parts = [f"{GENE_ABBR.get(g, g[:2])}{_short(float(v))}" for g, v in zip(GENES, mean_genes)]
    if np.isfinite(mean_skill):
        parts.append(f"z{_short(mean_skill)}")
    return " ".join(parts)


def _marks(state: ViewState, s: int, top_milestone: int) -> str:
    out = [
        letter
        for letter, on in (
            ("I", state.intelligent_at[s] >= 0),
            ("T", state.technological_at[s] >= 0),
            ("M", state.manipulators[s] > 0),
            ("F", state.fire_substitute[s]),
        )
        if on
    ]
    if top_milestone > 0:
        out.append(state.milestone_name(top_milestone))
    return " ".join(out)


def _species_list(surf, rect, state, selected, pal, max_rows) -> list[tuple[pygame.Rect, int]]:
    st = state.stats
    alive = np.flatnonzero(st.count > 0)
    order = alive[np.argsort(-st.count[alive], kind="stable")]
    sel = selected.species if selected is not None else None
    shown = list(order[:max_rows])
    if sel is not None and sel < len(st.count) and sel not in shown and max_rows > 0:
        shown = shown[: max_rows - 1] + [sel]
    rows = []
    x, y, w = rect.x, rect.y, rect.w
    for s in shown:  # one per species
        s = int(s)
        r = pygame.Rect(x - 4, y - 1, w + 8, 30)
        if s == sel:
            pygame.draw.rect(surf, SEL, r, border_radius=3)
        pygame.draw.rect(surf, tuple(int(c) for c in pal[s]), (x, y + 2, 12, 12))
        marks = _marks(state, s, int(st.top_milestone[s]))
        text(surf, _fit(state.species_name(s), 13, w - 170), (x + 18, y), 13, FG, bold=True)
        text(surf, f"{int(st.count[s]):,}", (0, y), 13, FG, right=x + w - 96)
        text(surf, _fit(marks, 12, 92), (0, y + 1), 12, ACCENT, right=x + w)
        genes = gene_summary(st.mean_genes[s], float(st.mean_skill[s]))
        text(surf, _fit(genes, GENE_ROW_SIZE, w - 18), (x + 18, y + 15), GENE_ROW_SIZE, DIM)
        rows.append((r, s))
        y += 31
    rest = len(order) - len([s for s in shown if st.count[s] > 0])
    extinct = int((st.count[: state.n_species] == 0).sum())
    if rest > 0 or extinct:
        text(
            surf,
            f"+{rest} more alive, {extinct} extinct" if rest > 0 else f"{extinct} extinct",
            (x + 18, y),
            11,
            DIM,
        )
    return rows


def _inspector(surf, rect, state: ViewState, selected, pal) -> None:
    x, y, w = rect.x, rect.y, rect.w
    st = state.stats
    if selected.agent_id is not None:
        row = state.row_of(selected.agent_id)
        if row is None:
            text(
                surf, f"agent #{selected.agent_id}: not alive at tick {state.tick}", (x, y), 12, DIM
            )
            return
        s = int(state.species[row])
        pygame.draw.rect(surf, tuple(int(c) for c in pal[s]), (x, y + 2, 12, 12))
        text(
            surf,
            f"agent #{selected.agent_id} · {state.species_name(s)}",
            (x + 18, y),
            13,
            FG,
            bold=True,
        )
        y += 17
        parts = [
            f"age {int(state.age[row])}" if state.age is not None else "",
            f"energy {float(state.energy[row]):.3g}" if state.energy is not None else "",
            f"skill {float(state.skill[row]):.3g}" if state.skill is not None else "skill -",
        ]
        text(surf, "  ".join(p for p in parts if p), (x, y), 12)
        y += 15
        pos = f"at ({int(state.x[row])}, {int(state.y[row])})"
        if state.milestone is not None and state.milestone[row] > 0:
            pos += "  " + state.milestone_name(int(state.milestone[row]))
        text(surf, pos, (x, y), 12)
        y += 15
        if state.parent_id is not None:
            line = state.ancestry(row)
            if not line:
                desc = "founder (no parent)"
            else:
                desc = "parent " + " ← ".join(
                    f"#{pid}" + ("" if r is not None else " †") for pid, r in line
                )
            text(surf, _fit(desc, 12, w), (x, y), 12, DIM)
            y += 16
        _gene_bars(surf, x, y, w, np.asarray(state.genome[row], np.float64))
        return
    s = int(selected.species)
    if s >= len(st.count):
        return
    pygame.draw.rect(surf, tuple(int(c) for c in pal[s]), (x, y + 2, 12, 12))
    text(surf, f"species {state.species_name(s)} (id {s})", (x + 18, y), 13, FG, bold=True)
    y += 17
    skill = (
        f"  mean skill {st.mean_skill[s]:.3g}, max {st.max_skill[s]:.3g}"
        if np.isfinite(st.mean_skill[s])
        else ""
    )
    text(surf, _fit(f"population {int(st.count[s]):,}{skill}", 12, w), (x, y), 12)
    y += 15
    marks = []
    if state.intelligent_at[s] >= 0:
        marks.append(f"intelligent at {state.intelligent_at[s]}")
    if state.technological_at[s] >= 0:
        marks.append(f"technological at {state.technological_at[s]}")
    if state.manipulators[s] > 0:
        marks.append(f"manipulators {state.manipulators[s]:.2f}")
    if state.fire_substitute[s]:
        marks.append("fire substitute")
    if state.species_parent[s] >= 0:
        marks.append(f"from {state.species_name(int(state.species_parent[s]))}")
    for mark_line in _wrap(marks or ["not intelligent, not technological (yet)"], 12, w)[:2]:
        text(surf, mark_line, (x, y), 12, DIM)
        y += 15
    if st.count[s] > 0:
        _gene_bars(surf, x, y, w, st.mean_genes[s])
    else:
        text(surf, "extinct", (x, y), 12, DIM)


def _plot(surf, rect: pygame.Rect, history: History | None, which: str, pal, title: str) -> None:
    pygame.draw.rect(surf, (30, 33, 42), rect)
    text(surf, title, (rect.x + 4, rect.y + 2), 11, DIM)
    if history is None or len(history) < 2:
        return
    data = history.pop if which == "pop" else history.skill
    if which == "skill" and not history.has_skill:
        text(surf, "no skill data in this world yet", (rect.x + 4, rect.y + rect.h // 2), 11, DIM)
        return
    last = np.nan_to_num(history.pop[-1])
    top = np.argsort(-last, kind="stable")[:6]
    top = top[last[top] > 0] if which == "skill" else top[history.pop[:, top].max(axis=0) > 0]
    vals = data[:, top]
    hi = float(np.nanmax(vals)) if vals.size and np.isfinite(vals).any() else 0.0
    hi = hi if hi > 0 else 1.0
    t = history.ticks.astype(np.float64)
    span = max(t[-1] - t[0], 1.0)
    inner = rect.inflate(-8, -18).move(0, 6)
    xs = inner.x + (t - t[0]) / span * inner.w
    text(surf, f"max {num(hi)}", (0, rect.y + 2), 11, DIM, right=rect.right - 4)
    for j, s in enumerate(top):  # one line per species
        ys = inner.bottom - np.nan_to_num(vals[:, j], nan=0.0) / hi * inner.h
        pts = np.stack([xs, ys], axis=1).round().astype(int).tolist()
        pygame.draw.lines(surf, tuple(int(c) for c in pal[int(s)]), False, pts, 2)


def _legend(surf: pygame.Surface, x: int, y: int, w: int, legend: Legend) -> int:
    """The layer's legend: a line of text, then a gradient bar or swatches; returns the next y."""
    text(surf, _fit(legend.text, 11, w), (x, y), 11, DIM)
    y += 14
    if legend.lut is not None:
        lo, hi = num(legend.lo), num(legend.hi)
        bar_x, bar_w = (
            x + font(11).size(lo)[0] + 6,
            w - font(11).size(lo)[0] - font(11).size(hi)[0] - 12,
        )
        text(surf, lo, (x, y), 11, DIM)
        idx = np.linspace(0, 255, max(bar_w, 1)).astype(int)
        strip = np.repeat(legend.lut[idx][:, None, :], 8, axis=1)
        surf.blit(pygame.surfarray.make_surface(np.ascontiguousarray(strip)), (bar_x, y + 3))
        text(surf, hi, (0, y), 11, DIM, right=x + w)
    elif legend.items:
        cx, line = x, 0
        for color, label in legend.items:  # one per legend item (a few), on up to two lines
            lw = font(11).size(label)[0] + 18
            if cx + lw > x + w and cx > x:
                if line == 1:
                    break
                cx, line, y = x, 1, y + 14
            pygame.draw.rect(surf, color, (cx, y + 3, 9, 9))
            text(surf, label, (cx + 12, y), 11, DIM)
            cx += lw
    else:
        return y + 4
    return y + 18


def draw_panel(
    surface: pygame.Surface,
    rect: pygame.Rect,
    state: ViewState,
    layer: str,
    legend: Legend,
    selected: Any,
    history: History | None,
    hud: Any,
) -> list[tuple[pygame.Rect, int]]:
    """Draw the side panel in ``rect``; returns (rect, species id) for each species row shown.

    Args:
        surface: the whole target surface (the panel is drawn into ``rect`` of it).
        rect: the panel's area.
        state: the snapshot shown.
        layer: the current layer's name.
        legend: the layer's legend (from drawing the map).
        selected: a :class:`~evosim.viewer.render.Selection` or ``None``.
        history: the plot's history.
        hud: a :class:`~evosim.viewer.render.Hud` (mode, pause, speed, message); with
            ``hud.interactive`` false (a saved figure) the run state, message,
            intervention line and key help are left out.
    """
    surf = surface.subsurface(rect)
    surf.fill(BG)
    w, h = rect.size
    x, inner_w = 12, w - 24
    pal = C.species_palette(state.n_ids)
    y = 8
    text(
        surf,
        _fit(f"evosim · {state.world_name or 'world'}", 16, inner_w),
        (x, y),
        16,
        FG,
        bold=True,
    )
    y += 22
    text(surf, f"tick {state.tick:,}   population {state.n:,}", (x, y), 13)
    y += 17
    if hud.interactive:  # the run state means nothing in a saved figure
        run = "PAUSED" if hud.paused else f"running ×{hud.speed:g}"
        text(
            surf,
            f"{hud.mode} · {run}" + (f" · {hud.position}" if hud.position else ""),
            (x, y),
            12,
            ACCENT if hud.paused else DIM,
        )
        y += 17
    key = layer_by_name(layer).key
    text(surf, f"layer [{key}] {layer}", (x, y), 13, FG, bold=True)
    y += 16
    y = _legend(surf, x, y, inner_w, legend)
    pygame.draw.line(surf, (60, 64, 76), (x, y), (w - x, y))
    y += 6
    # bottom-up layout: help, message, intervention (the window only), plots, inspector;
    # the species list gets the rest
    bottom = h - 8
    if hud.interactive:
        bottom -= len(KEY_HELP) * 14
        for i, line in enumerate(KEY_HELP):
            text(surf, _fit(line, 11, inner_w), (x, bottom + i * 14), 11, DIM)
        bottom -= 18
        if hud.message:
            text(surf, _fit(hud.message, 12, inner_w), (x, bottom), 12, ACCENT)
        bottom -= 16
        if hud.mode == "live":
            iv = (
                f"intervention: {hud.intervention}  [n] next  [i] apply"
                if hud.intervention
                else "no interventions in this world"
            )
            text(surf, _fit(iv, 11, inner_w), (x, bottom), 11, DIM)
            bottom -= 6
    plot_h = 64 if h >= 760 else 44
    bottom -= 2 * plot_h + 6
    _plot(surf, pygame.Rect(x, bottom, inner_w, plot_h), history, "pop", pal, "population")
    _plot(
        surf,
        pygame.Rect(x, bottom + plot_h + 4, inner_w, plot_h),
        history,
        "skill",
        pal,
        "mean skill",
    )
    if selected is not None and (selected.agent_id is not None or selected.species is not None):
        ins_h = 66 + len(GENES) * 14
        bottom -= ins_h + 8
        pygame.draw.line(surf, (60, 64, 76), (x, bottom - 4), (w - x, bottom - 4))
        _inspector(surf, pygame.Rect(x, bottom + 2, inner_w, ins_h), state, selected, pal)
    text(surf, "species", (x, y), 12, DIM)
    text(surf, "pop", (0, y), 12, DIM, right=x + inner_w - 96)
    text(surf, "marks", (0, y), 12, DIM, right=x + inner_w)
    y += 16
    max_rows = max(0, (bottom - y - 18) // 31)
    rows = _species_list(
        surf, pygame.Rect(x, y, inner_w, bottom - y), state, selected, pal, max_rows
    )
    return [(r.move(rect.x, rect.y), s) for r, s in rows]


def draw_help(surf: pygame.Surface) -> None:
    """The full key help as a translucent box over ``surf`` (the map)."""
    w, h = surf.get_size()
    box = pygame.Surface((min(w - 40, 640), 26 + 18 * len(FULL_HELP)), pygame.SRCALPHA)
    box.fill((10, 10, 14, 215))
    text(box, "keys", (14, 6), 14, ACCENT, bold=True)
    for i, (k, what) in enumerate(FULL_HELP):
        text(box, k, (14, 26 + 18 * i), 13, FG, bold=True)
        text(box, _fit(what, 13, box.get_width() - 150), (140, 26 + 18 * i), 13, FG)
    surf.blit(box, ((w - box.get_width()) // 2, max(10, (h - box.get_height()) // 2)))
