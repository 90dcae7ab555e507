"""The viewer's event loop: live (stepping a Simulation) or replay (reading frames).

:class:`Viewer` owns the mutable things — source, camera, layer, selection,
speed, history — and turns pygame events into changes of them; drawing is
delegated to the pure :func:`evosim.viewer.render.render`. The headless
methods (:meth:`Viewer.screenshot`, :meth:`Viewer.save_frames`) draw onto an
off-screen surface and never open a window; their images are figures, without
the window's key help and run state.

Sources live in :mod:`evosim.viewer.sources`. Interventions are the
engine's: ``sim.interventions.names`` are offered, ``sim.apply_intervention``
applies one.

Events the simulation appends to ``sim.events`` (``(tick, kind, species,
details)`` tuples, which a run's recorder writes to ``events.csv``) are
dropped in live mode before each frame, so a long session does not
accumulate them; the event an intervention logs becomes the panel's message.
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from evosim.io.files import atomic_write_bytes
from evosim.io.snapshot import History
from evosim.viewer.render import LAYERS, Camera, Hud, RenderInfo, Selection, pick_agent, render
from evosim.viewer.sources import LiveSource, ReplaySource

#: Ticks (live) or frames (replay) advanced per displayed frame.
SPEEDS = (0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)
_LAYER_KEYS = {getattr(pygame, f"K_{layer.key}"): layer.name for layer in LAYERS}
_LAYER_KEYS.update({getattr(pygame, f"K_KP{layer.key}"): layer.name for layer in LAYERS})

#: Plot samples taken while a headless mode advances (the history keeps at most 400).
HISTORY_SAMPLES = 300

__all__ = ["HISTORY_SAMPLES", "SPEEDS", "Viewer"]


def _nearest(ticks: np.ndarray, tick: int) -> int:
    """Index of the recorded tick nearest ``tick`` (the later one of two as near)."""
    i = int(np.searchsorted(ticks, tick))
    if i == 0 or (i < len(ticks) and ticks[i] - tick <= tick - ticks[i - 1]):
        return min(i, len(ticks) - 1)
    return i - 1


def _save_png(surface: pygame.Surface, path: Path) -> None:
    """Encode ``surface`` as PNG in memory and write it atomically.

    ``pygame.image.save`` to a path reports success even when the disk is full
    (it wrote an empty file); writing the bytes ourselves raises the OSError.
    """
    buf = io.BytesIO()
    pygame.image.save(surface, buf, "frame.png")
    atomic_write_bytes(path, buf.getvalue())


class Viewer:
    """The interactive viewer (and its headless modes).

    Args:
        source: a :class:`LiveSource` or :class:`ReplaySource`.
        size: window / image size in pixels.
        layer: the layer shown first.
        fps: frame-rate cap of the window.
    """

    def __init__(
        self,
        source: LiveSource | ReplaySource,
        size: tuple[int, int] = (1200, 800),
        layer: str = "species",
        fps: int = 30,
    ):
        self.source = source
        self.size = (int(size[0]), int(size[1]))
        self.layer = layer
        self.fps = fps
        self.camera: Camera | None = None
        self.selected: Selection | None = None
        self.history = History()
        self.hud = Hud(mode=source.mode)
        self.names: list[str] = (
            list(source.sim.interventions.names) if isinstance(source, LiveSource) else []
        )
        self.hud.intervention = self.names[0] if self.names else None
        self.info: RenderInfo | None = None
        self.running = True
        self.stop_at: int | None = None
        self._acc = 0.0
        self._speed_i = SPEEDS.index(1)
        self._drag: dict[str, Any] | None = None

    # ------------------------------------------------------------ stepping
    @property
    def speed(self) -> float:
        return SPEEDS[self._speed_i]

    def step(self, n: int = 1) -> int:
        """Advance ``n`` ticks (live) or frames (replay); returns how many were made."""
        done = 0
        for _ in range(n):
            if self.stop_at is not None and self.source.tick >= self.stop_at:
                self.hud.paused, self.hud.message = (
                    True,
                    f"stopped at tick {self.source.tick} (--ticks)",
                )
                break
            if not self.source.step():
                self.hud.paused = True
                self.hud.message = (
                    "end of the recording"
                    if self.source.mode == "replay"
                    else "all species are extinct"
                )
                break
            done += 1
        return done

    def update(self) -> None:
        """Advance as the speed says (nothing while paused)."""
        if self.hud.paused:
            return
        self._acc += self.speed
        n = int(self._acc)
        self._acc -= n
        if n:
            self.step(n)

    def drain_events(self) -> list[tuple]:
        """Take the live simulation's pending events (nothing in replay); returns them."""
        if not isinstance(self.source, LiveSource):
            return []
        pending = self.source.sim.events
        new = list(pending)
        pending.clear()
        return new

    def draw(self, surface: pygame.Surface, figure: bool = False) -> RenderInfo:
        """Render the current state onto ``surface`` (and add it to the plot's history).

        Args:
            surface: the window or an off-screen surface.
            figure: draw a saved figure (``--screenshot``, ``--frames``): without
                the key help, run state, speed, message and intervention line
                of the window (:attr:`Hud.interactive` false).
        """
        self.drain_events()
        state = self.source.state()
        self.history.add(state)
        self.hud.speed = self.speed
        self.hud.position = self.source.position
        hud = replace(self.hud, interactive=False) if figure else self.hud
        self.info = render(
            state, surface, self.layer, self.camera, self.selected, self.history, hud
        )
        self.camera = self.info.camera
        return self.info

    # ------------------------------------------------------------ input
    def handle(self, event: pygame.event.Event) -> None:
        """React to one pygame event."""
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            self._key(event)
        elif event.type == pygame.MOUSEWHEEL:
            self._zoom(1.25**event.y, pygame.mouse.get_pos() if pygame.display.get_init() else None)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self._drag = {"start": event.pos, "last": event.pos, "moved": False}
        elif event.type == pygame.MOUSEMOTION and self._drag is not None:
            x, y = event.pos
            sx, sy = self._drag["start"]
            if abs(x - sx) + abs(y - sy) > 3:
                self._drag["moved"] = True
            if self._drag["moved"] and self.camera is not None:
                lx, ly = self._drag["last"]
                self.camera.pan(x - lx, y - ly)
            self._drag["last"] = event.pos
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            drag, self._drag = self._drag, None
            if drag is None or not drag["moved"]:
                self.click(event.pos)

    def _key(self, event: pygame.event.Event) -> None:
        k, paused = event.key, self.hud.paused
        if k == pygame.K_SPACE:
            self.hud.paused = not paused
            self.hud.message = "paused" if self.hud.paused else ""
        elif k == pygame.K_PERIOD or (k == pygame.K_RIGHT and paused):
            self.hud.paused = True
            self.step(1)
        elif k == pygame.K_LEFT and paused and self.source.mode == "replay":
            self.source.back()
        elif k in (pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN):
            if self.camera is not None:
                d = min(self.camera.view) / 8
                dx = {pygame.K_LEFT: d, pygame.K_RIGHT: -d}.get(k, 0)
                dy = {pygame.K_UP: d, pygame.K_DOWN: -d}.get(k, 0)
                self.camera.pan(dx, dy)
        elif k in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            self._speed_i = min(self._speed_i + 1, len(SPEEDS) - 1)
            self.hud.message = f"speed ×{self.speed:g}"
        elif k in (pygame.K_MINUS, pygame.K_KP_MINUS):
            self._speed_i = max(self._speed_i - 1, 0)
            self.hud.message = f"speed ×{self.speed:g}"
        elif k in _LAYER_KEYS:
            self.layer = _LAYER_KEYS[k]
        elif k == pygame.K_z:
            self._zoom(1.5)
        elif k == pygame.K_x:
            self._zoom(1 / 1.5)
        elif k in (pygame.K_r, pygame.K_HOME):
            self.camera = None
        elif k == pygame.K_ESCAPE:
            self.selected, self.hud.message = None, ""
        elif k == pygame.K_h:
            self.hud.show_help = not self.hud.show_help
        elif k == pygame.K_q:
            self.running = False
        elif k == pygame.K_n:
            self._next_intervention()
        elif k == pygame.K_i:
            self.intervene()
        elif k == pygame.K_p:
            self._save_screen()

    def _zoom(self, factor: float, about: tuple[int, int] | None = None) -> None:
        if self.camera is None or self.info is None:
            return
        if about is not None and not self.info.map_rect.collidepoint(about):
            about = None
        self.camera.zoom(factor, about)

    def click(self, pos: tuple[int, int]) -> None:
        """Select the species row or the agent at window pixel ``pos`` (or clear the selection)."""
        if self.info is None:
            return
        for rect, s in self.info.species_rows:
            if rect.collidepoint(pos):
                same = (
                    self.selected is not None
                    and self.selected.species == s
                    and self.selected.agent_id is None
                )
                self.selected = None if same else Selection(species=s)
                return
        if self.info.map_rect.collidepoint(pos) and self.camera is not None:
            state = self.source.state()
            m = self.info.map_rect
            row = pick_agent(state, self.camera, (pos[0] - m.x, pos[1] - m.y))
            if row is None or state.id is None:
                self.selected = None
            else:
                self.selected = Selection(agent_id=int(state.id[row]))

    def target_species(self) -> int | None:
        """The selected species, or the species of the selected agent."""
        if self.selected is None:
            return None
        if self.selected.species is not None:
            return self.selected.species
        state = self.source.state()
        row = state.row_of(self.selected.agent_id) if self.selected.agent_id is not None else None
        return None if row is None else int(state.species[row])

    def _next_intervention(self) -> None:
        if not self.names or self.hud.intervention is None:
            self.hud.message = "no interventions in this world"
            return
        i = (self.names.index(self.hud.intervention) + 1) % len(self.names)
        self.hud.intervention = self.names[i]
        self.hud.message = f"intervention: {self.names[i]}"

    def intervene(self) -> None:
        """Apply the chosen intervention to the target species (live mode only)."""
        if not isinstance(self.source, LiveSource):
            self.hud.message = "interventions apply in live mode only"
            return
        if self.hud.intervention is None:
            self.hud.message = "no interventions in this world"
            return
        s = self.target_species()
        if s is None:
            self.hud.message = "select a species (click its row) or an agent first"
            return
        source = self.source
        name, sim = self.hud.intervention, source.sim
        try:
            sim.apply_intervention(name, s)
        except Exception as exc:  # noqa: BLE001 - the viewer reports and keeps running
            traceback.print_exc(file=sys.stderr)
            self.hud.message = f"{name} failed: {exc}"
            return
        source.invalidate()
        logged = [
            e for e in self.drain_events() if "intervention" in e[1]
        ]  # the engine logs every application
        if logged:
            self.hud.message = f"tick {logged[-1][0]}: {logged[-1][3]}"
        else:
            self.hud.message = (
                f"applied {name} to {self.source.state().species_name(s)} at tick {sim.tick}"
            )

    def _save_screen(self) -> None:
        surf = pygame.display.get_surface() if pygame.display.get_init() else None
        if surf is None:
            return
        state = self.source.state()
        path = Path(f"evosim-{state.world_name or 'world'}-t{state.tick:08d}.png")
        pygame.image.save(surf, str(path))
        self.hud.message = f"saved {path}"

    # ------------------------------------------------------------ loops
    def run(self, max_frames: int | None = None, ticks: int | None = None) -> None:
        """Open a window and run until closed (or ``max_frames`` frames, for tests).

        The display is shut down at the end only if this call started it (so
        tests can post events between calls).

        Args:
            max_frames: stop after this many frames.
            ticks: pause once the live simulation reaches this tick.
        """
        self.stop_at = ticks
        owns_display = not pygame.display.get_init()
        pygame.display.init()
        pygame.font.init()
        screen = pygame.display.set_mode(self.size, pygame.RESIZABLE)
        state = self.source.state()
        pygame.display.set_caption(f"evosim · {state.world_name or 'world'} ({self.source.mode})")
        pygame.key.set_repeat(300, 40)
        clock = pygame.time.Clock()
        frames = 0
        try:
            self.draw(screen)
            while self.running and (max_frames is None or frames < max_frames):
                for event in pygame.event.get():
                    self.handle(event)
                if not self.running:
                    break
                self.update()
                # get_surface() is None only once the display is gone: keep drawing on the last one
                screen = pygame.display.get_surface() or screen
                self.draw(screen)
                pygame.display.flip()
                clock.tick(self.fps)
                frames += 1
        finally:
            if owns_display:
                pygame.display.quit()

    def _sample(self, i: int, span: int) -> None:
        """Headless: add the current state to the plot's history if step ``i`` of ``span`` is due.

        One in every ``span // HISTORY_SAMPLES`` steps is sampled (every step of a short span).
        """
        if i % max(1, span // HISTORY_SAMPLES) == 0:
            self.history.add(self.source.state())

    def _replay_history(self, index: int) -> None:
        """Headless replay: the plot's history up to frame ``index``, from the run's time series if it has one.

        Without one, sampled frames up to ``index`` are decoded (one in every
        ``(index + 1) // HISTORY_SAMPLES``).
        """
        src: ReplaySource = self.source  # type: ignore[assignment]
        history = src.history(int(src.reader.ticks[index]))
        if history is not None:
            self.history = history
            return
        for i in range(index + 1):
            src.seek(i)  # lazy: only the sampled frames are decoded
            self._sample(i, index + 1)

    def screenshot(self, path: str | os.PathLike, ticks: int | None = None) -> Path:
        """Headless: advance ``ticks`` ticks (live) or show that tick (replay: the nearest recorded frame;
        default: the last), save a PNG.

        The image is a figure: the panel keeps the title, tick, population,
        layer and legend, species list and plots, and leaves out the window's
        key help, run state and speed (see :meth:`draw`).
        """
        pygame.font.init()
        if self.source.mode == "live":
            span = int(ticks or 0)
            self._sample(0, span)
            for t in range(1, span + 1):
                if not self.source.step():
                    break
                self._sample(t, span)
        else:
            src: ReplaySource = self.source  # type: ignore[assignment]
            target = len(src.reader) - 1 if ticks is None else _nearest(src.reader.ticks, ticks)
            self._replay_history(target)
            src.seek(target)
        self.hud.paused = False
        surface = pygame.Surface(self.size)
        self.draw(surface, figure=True)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        _save_png(surface, path)
        return path

    def save_frames(
        self, folder: str | os.PathLike, every: int, ticks: int | None = None
    ) -> list[Path]:
        """Headless: save a PNG every ``every`` ticks into ``folder`` (for making a video).

        Live: runs ``ticks`` ticks (tick 0 included). Replay: the first frame
        at or after each multiple of ``every`` (up to tick ``ticks``, default all).
        """
        pygame.font.init()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        surface = pygame.Surface(self.size)
        written: list[Path] = []
        every = max(1, int(every))

        def snap() -> None:
            self.draw(surface, figure=True)
            p = folder / f"frame-{self.source.tick:08d}.png"
            _save_png(surface, p)
            written.append(p)

        if self.source.mode == "live":
            start, span = self.source.tick, int(ticks or 0)
            snap()
            while self.source.tick < start + span and self.source.step():
                if self.source.tick % every == 0:
                    snap()
                else:
                    self._sample(self.source.tick - start, span)
        else:
            src: ReplaySource = self.source  # type: ignore[assignment]
            frame_ticks = src.reader.ticks.tolist()
            last = (
                len(frame_ticks)
                if ticks is None
                else int(np.searchsorted(src.reader.ticks, ticks, side="right"))
            )
            last_bucket = None
            for i, t in enumerate(frame_ticks[:last]):
                bucket = (
                    t // every
                )  # the first frame at or after each multiple of `every` starts a bucket
                if bucket != last_bucket:
                    last_bucket = bucket
                    if src.series is not None:
                        self._replay_history(i)
                    src.seek(i)
                    snap()
                elif src.series is None:
                    src.seek(i)
                    self._sample(i, last)
        return written
