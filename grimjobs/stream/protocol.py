"""GrimStream v1, the one import for users: `from grimjobs.stream import protocol as p`.

Byte-compatible with the reference Rust `grim_stream` crate (serde structs serialized by
`rmp_serde::to_vec_named`): a 12-byte header (b"GRIM", version u16, kind u16, payload length
u32, big-endian) and a MessagePack map payload keyed by field name in declaration order.

The pieces, one concept per module:
- `packing`: MessagePack writing (float32 fields, map headers) and the errors;
- `messages`: the message declarations (field tables) and the registry of kinds;
- `parser`: header checks, payload decoding and the incremental `FrameParser`.
"""

from __future__ import annotations

from grimjobs.stream.messages import *  # noqa: F403 - the facade re-exports the declarations
from grimjobs.stream.packing import U16_MAX as U16_MAX
from grimjobs.stream.packing import U32_MAX as U32_MAX
from grimjobs.stream.packing import U64_MAX as U64_MAX
from grimjobs.stream.packing import FatalStreamError as FatalStreamError
from grimjobs.stream.packing import ProtocolError as ProtocolError
from grimjobs.stream.parser import *  # noqa: F403
