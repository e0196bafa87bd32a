"""Composing one viewer image (RGB numpy) from a `Scene`: no window, no font file, no device.

Layout (width x height, default 1280x720):

    +----------------------------+----------------------------+
    | left pane: the retail /    | right pane: the simulation |
    | session frame, scaled;     | (top-down trail, yaw,      |
    | offline: gamepad diagram   | setup, hotspot, coverage,  |
    | drawn over it              | events) or, offline, the   |
    |                            | input history              |
    +----------------------------+----------------------------+
    | HUD: per-stream numbers, then warnings in red           |
    +---------------------------------------------------------+
    | timeline scrubber: position, gaps (red), marks (ticks)  |
    +---------------------------------------------------------+
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from grimjobs.session.actions import InputSnapshot
from grimjobs.viewer.draw import (
    CELL_H,
    CELL_W,
    LINE_H,
    Color,
    Scaler,
    circle_outline,
    draw_line,
    draw_text,
    fill_circle,
    fill_rect,
    polyline,
    rect_outline,
    text_width,
)
from grimjobs.viewer.model import EngineState, Mark

BACKGROUND: Color = (24, 26, 32)
PANE_BACKGROUND: Color = (32, 36, 44)
GRID: Color = (48, 54, 64)
TEXT: Color = (220, 224, 230)
DIM: Color = (130, 138, 150)
WARN: Color = (255, 90, 80)
OK: Color = (110, 220, 120)
TRAIL: Color = (190, 160, 255)
MANNY: Color = (51, 242, 217)
YAW: Color = (250, 238, 120)
PRESSED: Color = (255, 200, 40)
RELEASED: Color = (90, 96, 110)
STICK: Color = (80, 200, 255)
GAP: Color = (200, 50, 50)
MARK: Color = (250, 238, 120)
CURSOR: Color = (255, 255, 255)
PROGRESS: Color = (70, 110, 170)

HUD_LINES = 6
SCRUBBER_H = 26
PAD = 6


@dataclass(slots=True)
class PaneImage:
    """A frame for the left pane: RGB or RGBA pixels (H x W x 3/4), or None with a reason."""

    pixels: np.ndarray | None
    caption: str = ""
    missing: str = "no frame"


@dataclass(slots=True)
class SimView:
    """The simulation pane: state at the displayed moment, the trail up to it, recent marks."""

    state: EngineState | None
    trail: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 2), dtype=np.float64)
    )  # (N, 2) plane coords
    bounds: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 of the map
    marks: Sequence[Mark] = ()
    caption: str = ""
    diff_lines: Sequence[str] = ()  # shown with the diff overlay: labels only one stream saw


@dataclass(slots=True)
class InputView:
    """Offline input state: the snapshot in effect at the frame and axis history around it."""

    snapshot: InputSnapshot | None
    history_t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # seconds relative to the frame
    history_axes: np.ndarray = field(default_factory=lambda: np.zeros((0, 6)))
    window_s: float = 2.0
    caption: str = ""
    info_lines: Sequence[str] = ()


@dataclass(slots=True)
class TimelineView:
    """The scrubber: where we are (0..1), holes and marks along the whole span."""

    position: float
    label: str
    gaps: Sequence[tuple[float, float]] = ()
    marks: Sequence[float] = ()


@dataclass(slots=True)
class Scene:
    left: PaneImage
    sim: SimView | None = None
    inputs: InputView | None = None
    hud: Sequence[str] = ()
    warnings: Sequence[str] = ()
    timeline: TimelineView | None = None
    title: str = ""
    paused: bool = False
    diff: bool = False
    previous_left: np.ndarray | None = None  # for the diff overlay


# -- gamepad ----------------------------------------------------------------------------------

# SDL_GameControllerButton ids
BUTTON_NAMES: Mapping[int, str] = {
    0: "A", 1: "B", 2: "X", 3: "Y", 4: "Back", 5: "Guide", 6: "Start", 7: "LS", 8: "RS",
    9: "LB", 10: "RB", 11: "Up", 12: "Down", 13: "Left", 14: "Right", 15: "Misc",
    16: "P1", 17: "P2", 18: "P3", 19: "P4", 20: "Touch",
}  # fmt: skip
FACE_COLORS: Mapping[int, Color] = {0: (60, 200, 90), 1: (230, 70, 60), 2: (70, 130, 240), 3: (240, 200, 40)}


@dataclass(frozen=True, slots=True)
class GamepadLayout:
    """Where each control of the diagram is, for a diagram of `width` x `height` at (x, y)."""

    x: int
    y: int
    scale: float

    @property
    def width(self) -> int:
        return int(220 * self.scale)

    @property
    def height(self) -> int:
        return int(130 * self.scale)

    def at(self, u: float, v: float) -> tuple[float, float]:
        return self.x + u * self.scale, self.y + v * self.scale

    def button_center(self, button: int) -> tuple[float, float] | None:
        spots = {
            0: (170, 78), 1: (188, 60), 2: (152, 60), 3: (170, 42),  # face buttons
            4: (88, 48), 5: (110, 48), 6: (132, 48),  # back, guide, start
            7: (52, 60), 8: (140, 96),  # stick clicks at the stick centres
            11: (80, 80), 12: (80, 112), 13: (64, 96), 14: (96, 96),  # d-pad
            9: (52, 16), 10: (168, 16),  # shoulders
        }  # fmt: skip
        spot = spots.get(button)
        return None if spot is None else self.at(*spot)

    def stick_center(self, right: bool) -> tuple[float, float]:
        return self.at(140, 96) if right else self.at(52, 60)

    @property
    def stick_radius(self) -> float:
        return 15 * self.scale


def draw_gamepad(image: np.ndarray, layout: GamepadLayout, snapshot: InputSnapshot | None) -> None:
    """The input state as a controller: pressed buttons lit, stick dots, trigger bars, keys."""
    s = layout.scale
    fill_rect(image, layout.x, layout.y, layout.width, layout.height, (16, 18, 22), alpha=0.7)
    pressed = set(snapshot.pressed_buttons) if snapshot else set()
    axes = list(snapshot.axes) if snapshot else []
    axes += [0.0] * (6 - len(axes))
    # triggers: vertical bars filled by the trigger value, at the outer top corners
    for index, u in ((4, 8), (5, 204)):
        tx, ty = layout.at(u, 6)
        bar_h = int(44 * s)
        rect_outline(image, int(tx), int(ty), int(8 * s), bar_h, RELEASED)
        fill_h = int(bar_h * min(max(axes[index], 0.0), 1.0))
        fill_rect(image, int(tx), int(ty) + bar_h - fill_h, int(8 * s), fill_h, PRESSED)
    # shoulders
    for button in (9, 10):
        center = layout.button_center(button)
        assert center is not None
        color = PRESSED if button in pressed else RELEASED
        fill_rect(image, int(center[0] - 18 * s), int(center[1] - 5 * s), int(36 * s), int(10 * s), color)
    # sticks: a ring, and a dot at the deflection (filled ring when clicked)
    for right, ax, ay, click in ((False, 0, 1, 7), (True, 2, 3, 8)):
        cx, cy = layout.stick_center(right)
        r = layout.stick_radius
        if click in pressed:
            fill_circle(image, cx, cy, r, (120, 100, 30))
        circle_outline(image, cx, cy, r, RELEASED, thickness=max(1.5, 2 * s))
        dx = min(max(axes[ax], -1.0), 1.0) * r
        dy = min(max(axes[ay], -1.0), 1.0) * r
        draw_line(image, cx, cy, cx + dx, cy + dy, STICK, thickness=max(1, int(s)))
        fill_circle(image, cx + dx, cy + dy, 4 * s, STICK)
    # d-pad
    for button in (11, 12, 13, 14):
        center = layout.button_center(button)
        assert center is not None
        color = PRESSED if button in pressed else RELEASED
        half = int(7 * s)
        fill_rect(image, int(center[0]) - half, int(center[1]) - half, 2 * half, 2 * half, color)
    # face buttons and the small centre buttons
    for button in (0, 1, 2, 3, 4, 5, 6):
        center = layout.button_center(button)
        assert center is not None
        radius = (8 if button < 4 else 5) * s
        if button in pressed:
            fill_circle(image, center[0], center[1], radius, PRESSED)
        else:
            fill_circle(image, center[0], center[1], radius, RELEASED)
            if button in FACE_COLORS:
                circle_outline(
                    image, center[0], center[1], radius, FACE_COLORS[button], thickness=max(1.5, s)
                )
    # everything else held (paddles, misc, touchpad) and the keys, as text under the diagram
    extra = [BUTTON_NAMES.get(b, f"b{b}") for b in sorted(pressed) if layout.button_center(b) is None]
    keys = [scancode_name(k) for k in snapshot.pressed_keys] if snapshot else []
    mouse = [f"M{b}" for b in snapshot.pressed_mouse_buttons] if snapshot else []
    line = " ".join(extra + keys + mouse)
    if line:
        draw_text(image, layout.x + 4, layout.y + layout.height - LINE_H - 2, "keys: " + line, PRESSED)


_SCANCODE_NAMES: dict[int, str] = {
    40: "Enter", 41: "Esc", 42: "Bksp", 43: "Tab", 44: "Space", 45: "-", 46: "=", 47: "[", 48: "]",
    49: "\\", 51: ";", 52: "'", 53: "`", 54: ",", 55: ".", 56: "/", 57: "Caps",
    73: "Ins", 74: "Home", 75: "PgUp", 76: "Del", 77: "End", 78: "PgDn",
    79: "Right", 80: "Left", 81: "Down", 82: "Up",
    224: "LCtrl", 225: "LShift", 226: "LAlt", 227: "LGui",
    228: "RCtrl", 229: "RShift", 230: "RAlt", 231: "RGui",
}  # fmt: skip


def scancode_name(code: int) -> str:
    """A short name for an SDL scancode (USB HID usage id)."""
    if 4 <= code <= 29:
        return chr(ord("A") + code - 4)
    if 30 <= code <= 39:
        return str((code - 29) % 10)
    if 58 <= code <= 69:
        return f"F{code - 57}"
    return _SCANCODE_NAMES.get(code, f"sc{code}")


# -- the whole image ---------------------------------------------------------------------------


class Renderer:
    """Draws scenes into one reused canvas of `width` x `height`."""

    def __init__(self, width: int = 1280, height: int = 720) -> None:
        if width < 320 or height < 240:
            raise ValueError("the viewer needs at least 320x240 pixels")
        self.width, self.height = width, height
        self.canvas = np.zeros((height, width, 3), dtype=np.uint8)
        self._scaler = Scaler()
        self._diff_scaler = Scaler()
        self.hud_h = HUD_LINES * LINE_H + 2 * PAD
        self.pane_h = height - self.hud_h - SCRUBBER_H - LINE_H - PAD
        self.pane_w = width // 2
        self.pane_y = LINE_H + PAD

    def left_box(self) -> tuple[int, int, int, int]:
        return 0, self.pane_y, self.pane_w, self.pane_h

    def right_box(self) -> tuple[int, int, int, int]:
        return self.pane_w, self.pane_y, self.width - self.pane_w, self.pane_h

    def frame_rect(self, frame_w: int, frame_h: int) -> tuple[int, int, int, int]:
        """Where a frame of that size lands in the left pane (x, y, w, h)."""
        x, y, w, h = self.left_box()
        out_w, out_h = self._scaler.fit(frame_w, frame_h, w - 2, h - 2)
        return x + 1 + (w - 2 - out_w) // 2, y + 1 + (h - 2 - out_h) // 2, out_w, out_h

    def render(self, scene: Scene) -> np.ndarray:
        canvas = self.canvas
        canvas[...] = BACKGROUND
        title = scene.title + ("   [PAUSED]" if scene.paused else "") + ("   [DIFF]" if scene.diff else "")
        draw_text(canvas, PAD, PAD // 2, title, TEXT)
        self._left(scene)
        if scene.sim is not None:
            self._sim(scene.sim, scene.diff)
        elif scene.inputs is not None:
            self._inputs(scene.inputs)
        self._hud(scene)
        if scene.timeline is not None:
            self._scrubber(scene.timeline)
        return canvas

    # -- panes -----------------------------------------------------------------------------------

    def _left(self, scene: Scene) -> None:
        canvas = self.canvas
        x, y, w, h = self.left_box()
        fill_rect(canvas, x, y, w, h, PANE_BACKGROUND)
        pixels = scene.left.pixels
        if pixels is None or pixels.size == 0:
            draw_text(
                canvas, x + w // 2 - text_width(scene.left.missing) // 2, y + h // 2, scene.left.missing, DIM
            )
        else:
            fx, fy, fw, fh = self.frame_rect(pixels.shape[1], pixels.shape[0])
            scaled = self._scaler.scale(pixels, w - 2, h - 2)
            if scene.diff and scene.previous_left is not None and scene.previous_left.shape == pixels.shape:
                previous = self._diff_scaler.scale(scene.previous_left, w - 2, h - 2)
                change = np.abs(scaled.astype(np.int16) - previous.astype(np.int16)).max(axis=2)
                heat = np.clip(change.astype(np.int32) * 4, 0, 255).astype(np.uint8)
                view = canvas[fy : fy + fh, fx : fx + fw]
                view[...] = (scaled // 4)[: view.shape[0], : view.shape[1]]
                view[..., 0] = np.maximum(view[..., 0], heat[: view.shape[0], : view.shape[1]])
            else:
                canvas[fy : fy + fh, fx : fx + fw] = scaled
        if scene.inputs is not None:
            shape = pixels.shape if pixels is not None and pixels.size else None
            layout = self.gamepad_layout(shape[1] if shape else 0, shape[0] if shape else 0)
            draw_gamepad(canvas, layout, scene.inputs.snapshot)
        if scene.left.caption:
            fill_rect(canvas, x, y, w, LINE_H + 4, (0, 0, 0), alpha=0.6)
            draw_text(canvas, x + PAD, y + 2, scene.left.caption, TEXT)

    def gamepad_layout(self, frame_w: int, frame_h: int) -> GamepadLayout:
        """Where the input diagram goes: the bottom-right corner of the frame as displayed (of the
        pane when there is no frame), about 40% of its width. Tests locate buttons with it."""
        if frame_w > 0 and frame_h > 0:
            x, y, w, h = self.frame_rect(frame_w, frame_h)
        else:
            x, y, w, h = self.left_box()
        scale = max(0.5, min(1.6, w * 0.4 / 220, h * 0.5 / 130))
        probe = GamepadLayout(0, 0, scale)
        return GamepadLayout(x + w - probe.width - 2, y + h - probe.height - 2, scale)

    def map_box(self) -> tuple[int, int, int, int]:
        """The top-down map's square inside the right pane."""
        x, y, w, h = self.right_box()
        side = min(w - 2 * PAD - 200, h - 2 * PAD - LINE_H)
        return x + PAD, y + PAD + LINE_H, max(side, 60), max(side, 60)

    def world_to_map(self, points: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
        """Plane coordinates (N, 2) to pixels in the map box; +y up."""
        mx, my, mw, mh = self.map_box()
        x0, y0, x1, y1 = bounds
        span = max(x1 - x0, y1 - y0, 1e-6)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        px = mx + mw / 2 + (points[:, 0] - cx) / span * (mw - 16)
        py = my + mh / 2 - (points[:, 1] - cy) / span * (mh - 16)
        return np.stack([px, py], axis=1)

    def _sim(self, sim: SimView, diff: bool) -> None:
        canvas = self.canvas
        x, y, w, h = self.right_box()
        fill_rect(canvas, x, y, w, h, PANE_BACKGROUND)
        draw_text(canvas, x + PAD, y + 2, sim.caption or "simulation (top-down)", DIM)
        mx, my, mw, mh = self.map_box()
        rect_outline(canvas, mx, my, mw, mh, GRID)
        for i in range(1, 4):
            fill_rect(canvas, mx + mw * i // 4, my, 1, mh, GRID)
            fill_rect(canvas, mx, my + mh * i // 4, mw, 1, GRID)
        state = sim.state
        if sim.bounds is not None and len(sim.trail):
            pixels = self.world_to_map(sim.trail, sim.bounds)
            polyline(canvas, pixels, TRAIL, thickness=2)
        if state is not None and state.position is not None and sim.bounds is not None:
            here = self.world_to_map(np.array([state.position[:2]], dtype=np.float64), sim.bounds)[0]
            if state.yaw is not None:
                # Grim's forward vector for a yaw in degrees: (-sin, cos) in the floor plane.
                angle = math.radians(state.yaw)
                tip = (here[0] - math.sin(angle) * 26, here[1] - math.cos(angle) * 26)
                draw_line(canvas, here[0], here[1], tip[0], tip[1], YAW, thickness=3)
            fill_circle(canvas, here[0], here[1], 8, (18, 128, 112))
            fill_circle(canvas, here[0], here[1], 6, MANNY)
        elif state is None or state.position is None:
            draw_text(canvas, mx + 8, my + mh // 2, "no position yet", DIM)
        # text column right of the map
        tx, ty = mx + mw + PAD * 2, my
        lines: list[tuple[str, Color]] = []
        if state is None:
            lines.append(("no engine state", DIM))
        else:
            pos = "-" if state.position is None else "({:.2f}, {:.2f}, {:.2f})".format(*state.position)
            yaw = "-" if state.yaw is None else f"{state.yaw:.1f} deg"
            lines += [
                (f"setup   {state.active_setup or '-'}", TEXT),
                (f"hotspot {state.active_hotspot or '-'}", MANNY if state.active_hotspot else TEXT),
                (f"pos {pos}", TEXT),
                (f"yaw {yaw}", TEXT),
                (f"frame {state.frame if state.frame is not None else '-'}  seq {state.seq}", TEXT),
            ]
            if state.active_movie:
                lines.append((f"movie {state.active_movie}", YAW))
            lines.append((f"coverage ({len(state.coverage)} hooks)", DIM))
            for key, value in sorted(state.coverage.items())[:12]:
                lines.append((f" {value:>5} {key}", TEXT))
        limit = max(1, (w - (tx - x) - PAD) // CELL_W)
        for text, color in lines:
            draw_text(canvas, tx, ty, text[:limit], color)
            ty += LINE_H
        # recent events and marks under the map
        ey = my + mh + PAD
        draw_text(canvas, x + PAD, ey, "recent events / marks", DIM)
        ey += LINE_H
        room = (y + h - ey) // LINE_H
        width_chars = (w - 2 * PAD) // CELL_W
        if diff and sim.diff_lines:
            for line in list(sim.diff_lines)[:room]:
                draw_text(canvas, x + PAD, ey, line[:width_chars], WARN)
                ey += LINE_H
        else:
            for mark in list(sim.marks)[-room:] if room > 0 else []:
                color = MARK if mark.source == "mark" else (OK if mark.source == "telemetry" else TEXT)
                tag = {"mark": "mark", "event": "evt", "telemetry": "tele"}.get(mark.source, mark.source[:4])
                draw_text(canvas, x + PAD, ey, f"{tag:<4} {mark.label}"[:width_chars], color)
                ey += LINE_H

    def _inputs(self, view: InputView) -> None:
        canvas = self.canvas
        x, y, w, h = self.right_box()
        fill_rect(canvas, x, y, w, h, PANE_BACKGROUND)
        draw_text(canvas, x + PAD, y + 2, view.caption or "inputs", DIM)
        ty = y + PAD + LINE_H
        snapshot = view.snapshot
        lines: list[str] = list(view.info_lines)
        if snapshot is None:
            lines.append("no input recorded before this frame")
        else:
            names = ("LX", "LY", "RX", "RY", "LT", "RT")
            axes = " ".join(f"{n}{v:+.2f}" for n, v in zip(names, snapshot.axes, strict=False))
            lines.append(f"axes {axes or '-'}")
            buttons = " ".join(BUTTON_NAMES.get(b, f"b{b}") for b in snapshot.pressed_buttons)
            lines.append(f"buttons {buttons or '-'}")
            keys = " ".join(scancode_name(k) for k in snapshot.pressed_keys)
            lines.append(f"keys {keys or '-'}")
            if snapshot.pressed_mouse_buttons or snapshot.mouse is not None:
                lines.append(f"mouse {list(snapshot.pressed_mouse_buttons)} at {snapshot.mouse}")
        width_chars = (w - 2 * PAD) // CELL_W
        for line in lines:
            draw_text(canvas, x + PAD, ty, line[:width_chars], TEXT)
            ty += LINE_H
        # axis history: one strip per axis, the frame's moment as a vertical line
        gx, gw = x + PAD, w - 2 * PAD
        strip_h = max(18, (y + h - ty - PAD) // 6 - 4)
        colors: tuple[Color, ...] = (
            (80, 200, 255),
            (80, 160, 255),
            (255, 140, 80),
            (255, 110, 60),
            PRESSED,
            YAW,
        )
        names = ("LX", "LY", "RX", "RY", "LT", "RT")
        for axis in range(6):
            sy = ty + axis * (strip_h + 4)
            if sy + strip_h > y + h:
                break
            fill_rect(canvas, gx, sy, gw, strip_h, (26, 28, 34))
            fill_rect(canvas, gx, sy + strip_h // 2, gw, 1, GRID)
            draw_text(canvas, gx + 2, sy + 1, names[axis], DIM)
            if len(view.history_t) and view.history_axes.shape[1] > axis:
                px = gx + (view.history_t + view.window_s) / (2 * view.window_s) * gw
                values = np.clip(view.history_axes[:, axis], -1, 1)
                py = sy + strip_h / 2 - values * (strip_h / 2 - 2)
                # inputs hold their value until the next snapshot: draw steps, not slopes
                stepped_x = np.repeat(px, 2)[1:]
                stepped_y = np.repeat(py, 2)[:-1]
                polyline(canvas, np.stack([stepped_x, stepped_y], axis=1), colors[axis])
            fill_rect(canvas, gx + gw // 2, sy, 1, strip_h, CURSOR)

    # -- bottom --------------------------------------------------------------------------------

    def _hud(self, scene: Scene) -> None:
        canvas = self.canvas
        top = self.pane_y + self.pane_h + PAD // 2
        width_chars = (self.width - 2 * PAD) // CELL_W
        row = 0
        for line in scene.hud:
            if row >= HUD_LINES:
                break
            draw_text(canvas, PAD, top + row * LINE_H, line[:width_chars], TEXT)
            row += 1
        warnings = list(scene.warnings)
        if warnings and row < HUD_LINES:
            # pack warnings on the remaining lines, separated by " | "
            remaining = HUD_LINES - row
            packed: list[str] = []
            current = ""
            for warning in warnings:
                candidate = warning if not current else current + " | " + warning
                if len(candidate) <= width_chars or not current:
                    current = candidate
                else:
                    packed.append(current)
                    current = warning
            packed.append(current)
            for line in packed[:remaining]:
                draw_text(canvas, PAD, top + row * LINE_H, line[:width_chars], WARN)
                row += 1

    def scrubber_box(self) -> tuple[int, int, int, int]:
        return PAD, self.height - SCRUBBER_H, self.width - 2 * PAD, SCRUBBER_H - PAD

    def _scrubber(self, timeline: TimelineView) -> None:
        canvas = self.canvas
        x, y, w, h = self.scrubber_box()
        bar_y, bar_h = y + h - 8, 8
        fill_rect(canvas, x, bar_y, w, bar_h, (44, 48, 56))
        position = min(max(timeline.position, 0.0), 1.0)
        fill_rect(canvas, x, bar_y, int(w * position), bar_h, PROGRESS)
        for start, end in timeline.gaps:
            gx0 = x + int(w * min(max(start, 0.0), 1.0))
            gx1 = x + math.ceil(w * min(max(end, 0.0), 1.0))
            fill_rect(canvas, gx0, bar_y, max(2, gx1 - gx0), bar_h, GAP)
        for mark in timeline.marks:
            mx = x + int(w * min(max(mark, 0.0), 1.0))
            fill_rect(canvas, mx, bar_y - 4, 1, 4, MARK)
        cx = x + int(w * position)
        fill_rect(canvas, cx - 1, bar_y - 3, 3, bar_h + 3, CURSOR)
        draw_text(canvas, x, y - 3, timeline.label[: w // CELL_W], DIM)

    @staticmethod
    def text_rows() -> int:
        return CELL_H
