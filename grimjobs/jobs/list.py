"""list: monitors, windows and game controllers, with the ids the configs take."""

from __future__ import annotations

import json
import sys
from typing import Any

from omegaconf import DictConfig

from grimjobs.errors import UserError
from grimjobs.runner import hydra_job

SECTIONS = ("monitors", "windows", "controllers")


def list_monitors(display: str | None) -> list[dict[str, Any]]:
    from grimjobs.capture.monitor import open_mss

    with open_mss(display) as sct:
        monitors = sct.monitors
    rows = monitor_rows(monitors)
    if sys.platform == "win32":
        add_dxgi_outputs(rows, windows_dxgi_outputs())
    return rows


def monitor_rows(monitors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """mss's monitors (index 0, the whole virtual screen, left out) as rows. Exactly one is primary:
    the one mss marks (mss >= 10.2 reads MONITORINFOF_PRIMARY / RandR's primary), else monitor 1."""
    marked = [index for index, mon in enumerate(monitors) if index > 0 and mon.get("is_primary")]
    primary = marked[0] if marked else 1
    return [
        {
            "index": index,
            "name": str(mon.get("output") or mon.get("name") or f"monitor {index}"),
            "resolution": f"{mon['width']}x{mon['height']}",
            "position": f"{mon['left']},{mon['top']}",
            "primary": index == primary,
        }
        for index, mon in enumerate(monitors)
        if index > 0
    ]


def windows_dxgi_outputs() -> list[Any]:
    """DXGI outputs in dxcam's order ([] without dxcam)."""
    from grimjobs.capture.dxcam import dxgi_outputs, import_dxcam

    try:
        return dxgi_outputs(import_dxcam())
    except UserError:
        return []


def add_dxgi_outputs(rows: list[dict[str, Any]], outputs: list[Any]) -> None:
    """Add the `dxcam` column: capture=dxcam numbers outputs in DXGI order (per GPU), which need
    not be mss's (EnumDisplayMonitors) order. Matched by the monitor's desktop rectangle."""
    for row in rows:
        row["dxcam"] = ""
        for out in outputs:
            if (
                row["position"] == f"{out.left},{out.top}"
                and row["resolution"] == f"{out.width}x{out.height}"
            ):
                row["dxcam"] = f"device={out.device} monitor={out.output + 1}"


def list_windows(display: str | None, all_windows: bool) -> list[dict[str, Any]]:
    if sys.platform == "win32":
        from grimjobs.capture import win32

        windows = win32.list_windows(visible_only=not all_windows)
    else:
        from grimjobs.capture.x11 import X11Windows

        x11 = X11Windows(display)
        try:
            windows = x11.list_windows(visible_only=not all_windows)
        finally:
            x11.close()
    return [
        {
            "id": f"0x{w.id:x}",
            "title": w.title,
            "process": w.process,
            "pid": w.pid,
            "geometry": f"{w.width}x{w.height}+{w.x}+{w.y}",
            "visible": w.visible,
        }
        for w in windows
        if w.title
    ]


def list_controllers() -> list[dict[str, Any]]:
    """Joysticks SDL sees; the game controllers among them have a mapping (what input=sdl uses).
    The GUID is what `input.pad` takes to pin one physical pad."""
    from grimjobs.input.sdl_pad import guid_string, sdl_init, sdl_quit

    sdl2 = sdl_init()
    try:
        found = []
        for index in range(sdl2.SDL_NumJoysticks()):
            is_controller = bool(sdl2.SDL_IsGameController(index))
            name = (
                sdl2.SDL_GameControllerNameForIndex(index)
                if is_controller
                else sdl2.SDL_JoystickNameForIndex(index)
            )
            found.append(
                {
                    "index": index,
                    "name": (name or b"").decode(errors="replace"),
                    "guid": guid_string(sdl2, sdl2.SDL_JoystickGetDeviceGUID(index)),
                    "game_controller": is_controller,
                }
            )
        return found
    finally:
        sdl_quit(sdl2)


def collect(cfg: DictConfig) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Each requested section, and for a section that could not be read, why (one line)."""
    show = list(cfg.show)
    unknown = [s for s in show if s not in SECTIONS]
    if unknown:
        raise UserError(f"show={show}: unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
    readers = {
        "monitors": lambda: list_monitors(cfg.display),
        "windows": lambda: list_windows(cfg.display, bool(cfg.all_windows)),
        "controllers": list_controllers,
    }
    data: dict[str, list[dict[str, Any]]] = {}
    problems: dict[str, str] = {}
    for section in show:
        try:
            data[section] = readers[section]()
        except (UserError, RuntimeError, OSError, ImportError) as exc:
            data[section] = []
            problems[section] = str(exc)
    return data, problems


def table(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return lines


COLUMNS = {
    "monitors": ["index", "name", "resolution", "position", "primary"]
    + (["dxcam"] if sys.platform == "win32" else []),
    "windows": ["id", "title", "process", "geometry"],
    "controllers": ["index", "name", "guid", "game_controller"],
}
USAGE = {
    "monitors": "capture=monitor capture.monitor=<index>"
    + (
        "; capture=dxcam capture.device=<d> capture.monitor=<m> from the dxcam column"
        if sys.platform == "win32"
        else ""
    ),
    "windows": "capture=window capture.window_id=<id> (or capture.title=<part of the title>)",
    "controllers": "input=sdl",
}


@hydra_job("list")
def main(cfg: DictConfig) -> int:
    if cfg.format not in ("table", "json"):
        raise UserError(f"format={cfg.format!r} is not allowed: choose table or json")
    data, problems = collect(cfg)
    if cfg.format == "json":
        print(json.dumps({**data, "problems": problems}, indent=2))
        return 0
    for section, rows in data.items():
        print(f"{section.capitalize()} ({USAGE[section]}):")
        if section in problems:
            print(f"  unavailable: {problems[section]}")
        elif not rows:
            print("  none")
        else:
            print("\n".join(table(rows, COLUMNS[section])))
        print()
    return 0
