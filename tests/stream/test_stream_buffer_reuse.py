"""The parser's payload buffers are recycled at steady state: a receiver does not allocate (and
zero-fill) a new frame-sized buffer per frame, even when frame ids grow a wider integer."""

from __future__ import annotations

from grimjobs.stream import protocol as p


def test_frame_buffers_are_reused_as_frame_ids_grow() -> None:
    parser = p.FrameParser(payload_buffers=2)
    pixels = bytes(range(256)) * 64  # 16 KiB: above the small-message path
    seen: set[int] = set()
    held: p.Frame | None = None  # the consumer keeps the previous frame, as a viewer does
    for frame_id in (*range(0, 300, 7), 70_000, 2**33):
        wire = p.Frame(frame_id, 10**18 + frame_id, pixels).encode()
        events = parser.feed(wire)
        assert len(events) == 1 and isinstance(events[0], p.Frame)
        frame = events[0]
        assert frame.frame_id == frame_id and bytes(frame.data) == pixels
        seen.add(id(memoryview(frame.data).obj))
        held = frame
    assert held is not None
    assert len(seen) <= 2, f"{len(seen)} distinct payload buffers for a 2-buffer pool"


def test_a_held_frame_is_never_overwritten() -> None:
    parser = p.FrameParser(payload_buffers=1)
    first = parser.feed(p.Frame(1, 1, b"a" * 10_000).encode())[0]
    second = parser.feed(p.Frame(2, 2, b"b" * 10_000).encode())[0]
    assert isinstance(first, p.Frame) and isinstance(second, p.Frame)
    assert bytes(first.data) == b"a" * 10_000 and bytes(second.data) == b"b" * 10_000
