"""Write and read 8-bit RGB PNG files with zlib only (headless screenshots need no image library)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(image: np.ndarray, level: int = 6) -> bytes:
    """PNG bytes of an H x W x 3 uint8 RGB image (filter type 0 on every row)."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("encode_png expects an H x W x 3 uint8 image")
    h, w = image.shape[:2]
    rows = np.empty((h, 1 + w * 3), dtype=np.uint8)
    rows[:, 0] = 0
    rows[:, 1:] = image.reshape(h, w * 3)
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
        + _chunk(b"IEND", b"")
    )


def write_png(path: Path, image: np.ndarray) -> None:
    """Write atomically, so a reader never sees half a screenshot."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(encode_png(image))
    tmp.replace(path)


def read_png(path: Path) -> np.ndarray:
    """Read back an 8-bit RGB, non-interlaced PNG (what `write_png` and most tools write).

    Handles all five row filters, so PNGs written by other tools (e.g. FFmpeg) read too.
    """
    data = path.read_bytes()
    if not data.startswith(SIGNATURE):
        raise ValueError(f"{path}: not a PNG file")
    pos, idat, width, height, channels = 8, bytearray(), 0, 0, 3
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color not in (2, 6) or interlace:
                raise ValueError(f"{path}: only 8-bit RGB/RGBA non-interlaced PNGs are supported")
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = np.frombuffer(zlib.decompress(bytes(idat)), dtype=np.uint8).reshape(height, 1 + width * channels)
    out = np.zeros((height, width * channels), dtype=np.uint8)
    previous = np.zeros(width * channels, dtype=np.int32)
    for y in range(height):
        kind_byte, row = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind_byte == 0:
            line = row
        elif kind_byte == 2:
            line = (row + previous) & 0xFF
        else:  # Sub, Average, Paeth depend on the left neighbour: go pixel by pixel
            line = np.zeros_like(row)
            for i in range(len(row)):
                left = line[i - channels] if i >= channels else 0
                up = previous[i]
                upleft = previous[i - channels] if i >= channels else 0
                if kind_byte == 1:
                    predictor = left
                elif kind_byte == 3:
                    predictor = (left + up) // 2
                else:
                    p = left + up - upleft
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                    predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upleft)
                line[i] = (row[i] + predictor) & 0xFF
        out[y] = line
        previous = line
    return out.reshape(height, width, channels)[:, :, :3]
