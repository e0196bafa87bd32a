"""A real X11 window that paints the numbered test pattern (grimjobs.capture.pattern) and counts.

Run as a subprocess: `python painter.py --title T --width W --height H --x X --y Y --fps F`.
Prints the window id (hex) once the first frame is on screen, then paints frame 0, 1, 2, ... at
`fps` until killed or stdin closes. Follows resizes (ConfigureNotify) by rendering at the new size.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import time

import numpy as np
from Xlib import X, Xatom, display

from grimjobs.capture.pattern import PatternRenderer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--title", required=True)
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--height", type=int, default=270)
    parser.add_argument("--x", type=int, default=100)
    parser.add_argument("--y", type=int, default=80)
    parser.add_argument("--fps", type=float, default=60.0)
    parser.add_argument("--log", default=None, help="append 'index monotonic_ns' per paint here")
    args = parser.parse_args()
    paint_log = open(args.log, "w", buffering=1) if args.log else None  # noqa: SIM115

    d = display.Display()
    screen = d.screen()
    window = screen.root.create_window(
        args.x,
        args.y,
        args.width,
        args.height,
        0,
        screen.root_depth,
        X.InputOutput,
        X.CopyFromParent,
        background_pixel=screen.black_pixel,
        event_mask=X.StructureNotifyMask | X.ExposureMask,
        override_redirect=False,
    )
    window.set_wm_name(args.title)
    window.change_property(
        d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"), 8, args.title.encode()
    )
    window.change_property(d.intern_atom("_NET_WM_PID"), Xatom.CARDINAL, 32, [os.getpid()])
    window.set_wm_class("painter", "GrimjobsPainter")
    gc = window.create_gc()
    window.map()
    d.sync()
    max_bytes = d.display.info.max_request_length * 4 - 64

    width, height = args.width, args.height
    renderer = PatternRenderer(width, height, channels=4)
    image = np.zeros((height, width, 4), np.uint8)
    index = 0
    announced = False
    period = 1.0 / args.fps
    next_t = time.monotonic()
    while True:
        while d.pending_events():
            event = d.next_event()
            if event.type == X.ConfigureNotify and (event.width, event.height) != (width, height):
                width, height = event.width, event.height
                renderer = PatternRenderer(width, height, channels=4)
                image = np.zeros((height, width, 4), np.uint8)
        renderer.render(index, image)
        if paint_log is not None:
            # Logged before the first pixel of this index is sent: the server paints it later,
            # so no capture can show index i before this time (the ground truth's invariant).
            paint_log.write(f"{index} {time.monotonic_ns()}\n")
        rows = max(1, max_bytes // (width * 4))
        for top in range(0, height, rows):
            strip = image[top : top + rows]
            window.put_image(gc, 0, top, width, strip.shape[0], X.ZPixmap, 24, 0, strip.tobytes())
        d.sync()
        if not announced:
            print(f"0x{window.id:x}", flush=True)
            announced = True
        index += 1
        next_t += period
        delay = next_t - time.monotonic()
        if delay < 0:
            next_t = time.monotonic()
            delay = 0
        ready, _, _ = select.select([sys.stdin], [], [], delay)
        if ready and not sys.stdin.readline():
            return


if __name__ == "__main__":
    main()
