"""MessagePack writing with the per-field control the reference's `rmp_serde` output needs.

msgpack-python packs whole values; GrimStream also needs float32 for Rust `f32` fields (msgpack
would write float64) and a map header written before its entries are known. Pure functions, no
state but one reusable `Packer`.
"""

from __future__ import annotations

import struct
from typing import Any, Final

import msgpack

U16_MAX: Final = 0xFFFF
U32_MAX: Final = 0xFFFF_FFFF
U64_MAX: Final = 0xFFFF_FFFF_FFFF_FFFF
F32_MAX: Final = 3.4028234663852886e38
NIL: Final = b"\xc0"

_F32 = struct.Struct(">f")
_packer = msgpack.Packer(use_bin_type=True, use_single_float=False, autoreset=True)


class ProtocolError(ValueError):
    """A message that does not follow GrimStream v1 (the connection may continue); also raised
    for a value that a field's wire type cannot carry."""


class FatalStreamError(ProtocolError):
    """The byte stream cannot be resynchronized (bad magic, unsupported version, oversized
    payload): the connection must be closed."""


def pack(value: Any) -> bytes:
    """One value in its smallest MessagePack form (float64 for floats, bin for bytes)."""
    try:
        packed: bytes = _packer.pack(value)
        return packed
    except (TypeError, ValueError, OverflowError) as exc:
        raise ProtocolError(f"cannot encode {type(value).__name__} as MessagePack: {exc}") from exc


def pack_f32(value: float) -> bytes:
    return b"\xca" + _F32.pack(value)


def bin_header(n: int) -> bytes:
    if n < 0x100:
        return b"\xc4" + n.to_bytes(1, "big")
    if n < 0x10000:
        return b"\xc5" + n.to_bytes(2, "big")
    if n <= U32_MAX:
        return b"\xc6" + n.to_bytes(4, "big")
    raise ProtocolError(f"binary field of {n} bytes does not fit MessagePack bin32")


def map_header(n: int) -> bytes:
    if n < 16:
        return bytes((0x80 | n,))
    return b"\xde" + n.to_bytes(2, "big")


def array_header(n: int) -> bytes:
    if n < 16:
        return bytes((0x90 | n,))
    if n < 0x10000:
        return b"\xdc" + n.to_bytes(2, "big")
    return b"\xdd" + n.to_bytes(4, "big")
