"""Top-level windows as plain data, and choosing one by title, id or process.

The platform modules (`x11`, `win32`) enumerate; this module only matches and chooses, so the
rules are tested without a display.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from grimjobs.errors import UserError


@dataclass(frozen=True, slots=True)
class WindowInfo:
    id: int
    title: str
    process: str  # process name ("" when unknown)
    pid: int | None
    x: int  # client area on the desktop, in pixels
    y: int
    width: int
    height: int
    visible: bool = True
    aliases: tuple[str, ...] = ()  # other names the process goes by (WM_CLASS, executable file)

    @property
    def label(self) -> str:
        proc = f" [{self.process}]" if self.process else ""
        return f"0x{self.id:x} {self.title!r}{proc} {self.width}x{self.height}+{self.x}+{self.y}"


@dataclass(frozen=True, slots=True)
class WindowSelector:
    """What the user asked for: any combination of a title substring, an id, a process name."""

    title: str | None = None
    window_id: int | None = None
    process: str | None = None

    def describe(self) -> str:
        parts = []
        if self.window_id is not None:
            parts.append(f"capture.window_id=0x{self.window_id:x}")
        if self.title is not None:
            parts.append(f"capture.title={self.title!r}")
        if self.process is not None:
            parts.append(f"capture.process={self.process!r}")
        return " ".join(parts) or "(nothing)"

    def matches(self, window: WindowInfo) -> bool:
        if self.window_id is not None and window.id != self.window_id:
            return False
        if self.title is not None and self.title.casefold() not in window.title.casefold():
            return False
        if self.process is not None:
            wanted = self.process.casefold().removesuffix(".exe")
            names = (window.process, *window.aliases)
            if not any(wanted in name.casefold() for name in names if name):
                return False
        return True


def parse_window_id(value: int | str | None) -> int | None:
    """Window ids as `xwininfo`/`list` print them (0x1a00003) or as decimal."""
    if value is None or isinstance(value, int):
        return value
    text = value.strip().lower()
    try:
        return int(text, 16) if text.startswith("0x") else int(text)
    except ValueError:
        raise UserError(
            f"capture.window_id={value!r} is not a window id; use the hex id `grimjobs list` prints"
        ) from None


def closest_titles(windows: Sequence[WindowInfo], title: str, n: int = 5) -> list[str]:
    titles = sorted({w.title for w in windows if w.title})
    by_lower = {t.casefold(): t for t in titles}
    close = difflib.get_close_matches(title.casefold(), list(by_lower), n=n, cutoff=0.3)
    return [by_lower[t] for t in close] or titles[:n]


Ask = Callable[[str], str]


def resolve_window(
    windows: Sequence[WindowInfo],
    selector: WindowSelector,
    interactive: bool | None = None,
    ask: Ask | None = None,
) -> WindowInfo:
    """The one window the selector means. Several matches: a numbered chooser on a terminal,
    otherwise an error listing them. No match: an error listing the closest titles."""
    if selector.title is None and selector.window_id is None and selector.process is None:
        raise UserError(
            "capture.title, capture.window_id or capture.process must be set "
            "(e.g. game=manny, or capture.title=<part of the title>; `python -m grimjobs list` shows windows)"
        )
    found = [w for w in windows if selector.matches(w)]
    if len(found) == 1:
        return found[0]
    if not found:
        hint = ""
        if selector.title is not None:
            close = closest_titles(windows, selector.title)
            hint = (
                "; closest titles: " + ", ".join(repr(t) for t in close) if close else "; no titled windows"
            )
        raise UserError(f"{selector.describe()}: no window matches{hint} (see `python -m grimjobs list`)")
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stderr.isatty()
    if interactive:
        return choose(found, selector, ask or _ask_terminal)
    listed = "; ".join(w.label for w in found)
    raise UserError(
        f"{selector.describe()}: {len(found)} windows match: {listed}; "
        "set capture.window_id=<id> or a longer capture.title"
    )


def choose(found: Sequence[WindowInfo], selector: WindowSelector, ask: Ask) -> WindowInfo:
    lines = [f"{selector.describe()} matches {len(found)} windows:"]
    lines += [f"  {number}) {window.label}" for number, window in enumerate(found, start=1)]
    prompt = "\n".join(lines) + f"\nrecord which window? [1-{len(found)}] "
    for _attempt in range(5):
        try:
            answer = ask(prompt).strip()
        except EOFError:
            break
        if answer.isdigit() and 1 <= int(answer) <= len(found):
            return found[int(answer) - 1]
        prompt = f"please type a number from 1 to {len(found)}: "
    raise UserError(f"{selector.describe()}: no window chosen; set capture.window_id=<id>")


def _ask_terminal(prompt: str) -> str:
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line
