"""map: interactively bind gamepad controls to a game's actions and save an action-mapping profile.

The terminal UI is curses (stdlib); pad events are pumped on the main thread between key reads.
The workflow itself is the pure `grimjobs.dataset.workflow.MapperState`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from grimjobs.errors import ConfigError, UserError
from grimjobs.runner import hydra_job

log = logging.getLogger("grimjobs.map")
FRAME_MS = 30  # key wait per loop: pad events are pumped at least this often

_KEYS: dict[int, str] = {}


def _key_names() -> dict[int, str]:
    import curses

    if not _KEYS:
        _KEYS.update({
            curses.KEY_UP: "up", curses.KEY_DOWN: "down", curses.KEY_LEFT: "left", curses.KEY_RIGHT: "right",
            curses.KEY_ENTER: "enter", 10: "enter", 13: "enter", 32: "space", 27: "esc",
            curses.KEY_BACKSPACE: "backspace", 127: "backspace", 8: "backspace", curses.KEY_DC: "backspace",
            ord("s"): "s", ord("S"): "s", ord("q"): "q", ord("Q"): "q",
        })  # fmt: skip
    return _KEYS


def run_ui(screen: Any, state: Any, pad: Any) -> None:
    import curses

    curses.curs_set(0)
    screen.keypad(True)
    screen.timeout(FRAME_MS)
    keys = _key_names()
    while state.screen not in ("saved", "quit"):
        pad.pump()
        state.on_pad(pad.state.axes, pad.state.buttons)
        lines = state.render()
        lines.append("")
        lines.append(f"pad: {pad.describe()}")
        screen.erase()
        height, width = screen.getmaxyx()
        for row, line in enumerate(lines[: height - 1]):
            screen.addnstr(row, 0, line, width - 1)
        screen.refresh()
        code = screen.getch()
        if code != -1 and code in keys:
            state.on_key(keys[code])


def _quiet_console_logging() -> list[tuple[logging.Handler, int]]:
    """Console log lines would tear the curses screen: silence them while it is up."""
    changed: list[tuple[logging.Handler, int]] = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            changed.append((handler, handler.level))
            handler.setLevel(logging.CRITICAL + 1)
    return changed


@hydra_job("map")
def main(cfg: DictConfig) -> int:
    from grimjobs.dataset.profile import load_profile, save_profile
    from grimjobs.dataset.workflow import MapperState
    from grimjobs.jobs.export import load_definition, resolve_profile

    definition = load_definition(cfg)
    profile = None
    if cfg.profile is not None:
        profile, _ = load_profile(resolve_profile(str(cfg.profile)), definition)
    out_value = cfg.out if cfg.out is not None else cfg.profile
    if out_value is None:
        raise ConfigError("out is required but not set; add out=<profile.yaml> to the command line")
    out = Path(str(out_value))
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("map is interactive and needs a terminal (stdin and stdout must be a TTY)")

    import curses

    from grimjobs.dataset.pad import MapperPad

    state = MapperState.start(definition, profile)
    pad = MapperPad(str(cfg.pad))
    pad.open()
    quieted = _quiet_console_logging()
    try:
        curses.wrapper(run_ui, state, pad)
    finally:
        for handler, level in quieted:
            handler.setLevel(level)
        pad.close()
    if state.screen != "saved":
        print("map: quit without saving", file=sys.stderr)
        return 1
    final = state.profile()
    save_profile(
        final, out, header=f"action-mapping profile for {definition.title or definition.game} (grimjobs map)"
    )
    warnings = [i for i in state.issues() if i.level == "warning"]
    count = sum(len(v) for v in final.bindings.values())
    print(f"map: saved {out} ({count} bindings, {len(warnings)} warnings)")
    return 0
