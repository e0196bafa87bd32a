"""Reading fragment structure straight from MP4 boxes (moof/traf/tfhd/trun), for tests."""

from __future__ import annotations

from pathlib import Path


def fragments(path: Path) -> tuple[list[list[int]], bool]:
    """Sample durations (TIME_BASE ticks) per complete moof, read from the trun boxes, and
    whether the file ends at a box boundary (False: torn by a crash)."""
    data = path.read_bytes()
    found: list[list[int]] = []
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        if size < 8 or offset + size > len(data):
            return found, False
        if kind == b"moof":
            found.append(_durations(data, offset + 8, offset + size))
        offset += size
    return found, offset == len(data)


def _durations(data: bytes, start: int, end: int) -> list[int]:
    durations: list[int] = []
    default = 0
    offset = start
    while offset < end:
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        if kind == b"traf":
            inner = offset + 8
            while inner < offset + size:
                isize = int.from_bytes(data[inner : inner + 4], "big")
                ikind = data[inner + 4 : inner + 8]
                body = inner + 8
                flags = int.from_bytes(data[body + 1 : body + 4], "big")
                if ikind == b"tfhd":
                    cursor = body + 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
                    if flags & 0x08:
                        default = int.from_bytes(data[cursor : cursor + 4], "big")
                elif ikind == b"trun":
                    count = int.from_bytes(data[body + 4 : body + 8], "big")
                    cursor = body + 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
                    fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
                    for _ in range(count):
                        if 0x100 in fields:
                            durations.append(int.from_bytes(data[cursor : cursor + 4], "big"))
                        else:
                            durations.append(default)
                        cursor += 4 * len(fields)
                inner += isize
        offset += size
    return durations
