"""The SDL2 window: shows rendered RGB images and reports keys and scrubber clicks.

The renderer draws into a numpy image; the window only uploads it to a streaming texture, so what
the window shows is exactly what a headless screenshot would contain. The logical size stays
fixed (SDL scales on resize and maps mouse coordinates back), so clicks land on the scrubber
whatever the window size.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from grimjobs.errors import UserError


@dataclass(frozen=True, slots=True)
class Input:
    kind: str  # "key", "click", "quit"
    name: str = ""
    x: int = 0
    y: int = 0


class Window:
    def __init__(self, width: int, height: int, title: str) -> None:
        self.width, self.height, self.title = width, height, title
        self._window: object = None
        self._renderer: object = None
        self._texture: object = None

    def open(self) -> None:
        import sdl2

        # A click on the scrubber of a window that is not focused should seek, not just focus it
        # (SDL drops a click that arrives with the focus event unless this is set).
        sdl2.SDL_SetHint(sdl2.SDL_HINT_MOUSE_FOCUS_CLICKTHROUGH, b"1")
        if sdl2.SDL_InitSubSystem(sdl2.SDL_INIT_VIDEO) != 0:
            error = sdl2.SDL_GetError().decode(errors="replace")
            raise UserError(
                f"window: cannot open a display ({error}); set DISPLAY, "
                "or use screenshot=<file.png> to render headless"
            )
        self._window = sdl2.SDL_CreateWindow(
            self.title.encode(),
            sdl2.SDL_WINDOWPOS_CENTERED,
            sdl2.SDL_WINDOWPOS_CENTERED,
            self.width,
            self.height,
            sdl2.SDL_WINDOW_SHOWN | sdl2.SDL_WINDOW_RESIZABLE,
        )
        if not self._window:
            raise UserError(
                f"window: SDL_CreateWindow failed: {sdl2.SDL_GetError().decode(errors='replace')}"
            )
        renderer = sdl2.SDL_CreateRenderer(self._window, -1, sdl2.SDL_RENDERER_ACCELERATED)
        if not renderer:  # no GPU (Xvfb, remote X): the software renderer always works
            renderer = sdl2.SDL_CreateRenderer(self._window, -1, sdl2.SDL_RENDERER_SOFTWARE)
        if not renderer:
            raise UserError(f"window: no SDL renderer: {sdl2.SDL_GetError().decode(errors='replace')}")
        self._renderer = renderer
        sdl2.SDL_RenderSetLogicalSize(renderer, self.width, self.height)
        self._texture = sdl2.SDL_CreateTexture(
            renderer, sdl2.SDL_PIXELFORMAT_RGB24, sdl2.SDL_TEXTUREACCESS_STREAMING, self.width, self.height
        )
        if not self._texture:
            raise UserError(f"window: no texture: {sdl2.SDL_GetError().decode(errors='replace')}")

    def present(self, image: np.ndarray) -> None:
        import sdl2

        if not image.flags.c_contiguous:
            image = np.ascontiguousarray(image)
        sdl2.SDL_UpdateTexture(self._texture, None, image.ctypes.data_as(ctypes.c_void_p), self.width * 3)
        sdl2.SDL_RenderClear(self._renderer)
        sdl2.SDL_RenderCopy(self._renderer, self._texture, None, None)
        sdl2.SDL_RenderPresent(self._renderer)

    def read_back(self) -> np.ndarray:
        """What the window shows now, as RGB (for tests: proves the pixels reached the window)."""
        import sdl2

        out = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        sdl2.SDL_RenderReadPixels(
            self._renderer,
            None,
            sdl2.SDL_PIXELFORMAT_RGB24,
            out.ctypes.data_as(ctypes.c_void_p),
            self.width * 3,
        )
        return out

    def inputs(self, timeout_ms: int = 0) -> list[Input]:
        """Pending keys/clicks/quit; waits up to timeout_ms for the first one."""
        import sdl2

        found: list[Input] = []
        event = sdl2.SDL_Event()
        got = sdl2.SDL_WaitEventTimeout(ctypes.byref(event), timeout_ms) if timeout_ms > 0 else 0
        while got or sdl2.SDL_PollEvent(ctypes.byref(event)):
            got = 0
            if event.type == sdl2.SDL_QUIT:
                found.append(Input("quit"))
            elif event.type == sdl2.SDL_KEYDOWN:
                name = KEYS.get(event.key.keysym.sym)
                if name is not None:
                    found.append(Input("key", name))
            elif event.type == sdl2.SDL_MOUSEBUTTONDOWN and event.button.button == sdl2.SDL_BUTTON_LEFT:
                found.append(Input("click", x=event.button.x, y=event.button.y))
        return found

    def close(self) -> None:
        import sdl2

        if self._texture:
            sdl2.SDL_DestroyTexture(self._texture)
        if self._renderer:
            sdl2.SDL_DestroyRenderer(self._renderer)
        if self._window:
            sdl2.SDL_DestroyWindow(self._window)
        self._texture = self._renderer = self._window = None
        sdl2.SDL_QuitSubSystem(sdl2.SDL_INIT_VIDEO)


def _keys() -> dict[int, str]:
    import sdl2

    return {
        sdl2.SDLK_SPACE: "space",
        sdl2.SDLK_LEFT: "left",
        sdl2.SDLK_RIGHT: "right",
        sdl2.SDLK_HOME: "home",
        sdl2.SDLK_END: "end",
        sdl2.SDLK_d: "d",
        sdl2.SDLK_r: "r",
        sdl2.SDLK_m: "m",
        sdl2.SDLK_q: "q",
        sdl2.SDLK_ESCAPE: "q",
    }


class _LazyKeys(dict[int, str]):
    """SDL key codes -> key names, filled on first use (sdl2 is imported only with a window)."""

    def get(self, key: int, default: str | None = None) -> str | None:  # type: ignore[override]
        if not self:
            self.update(_keys())
        return super().get(key, default)


KEYS = _LazyKeys()
