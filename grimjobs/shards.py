"""Splitting a list of sessions into shards: pure, deterministic, every session in exactly one shard.

A multirun over shards (`export -m ... shards=8`, see docs/SCALE.md) gives each worker one shard.
The partition depends only on the sorted, de-duplicated session list and the shard count, so any
machine that lists the same sessions computes the same shards, and a plan's digest tells whether
two runs (or a run and its resume) mean the same split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence


def check_shard(shard: object, shards: object) -> tuple[int, int]:
    """(shard, shards) as ints, or ValueError saying what is wrong (bools are not counts)."""
    if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
        raise ValueError(f"shards={shards!r}: must be an integer >= 1")
    if not isinstance(shard, int) or isinstance(shard, bool) or not 0 <= shard < shards:
        raise ValueError(f"shard={shard!r}: must be an integer with 0 <= shard < shards ({shards})")
    return shard, shards


def canonical(items: Iterable[str]) -> tuple[str, ...]:
    """The session list every shard is cut from: sorted, each item once."""
    return tuple(sorted(set(items)))


def partition(items: Iterable[str], shards: int) -> tuple[tuple[str, ...], ...]:
    """`shards` shards of the canonical list, dealt round-robin: item i goes to shard i % shards.

    Round-robin keeps shard sizes within one of each other and spreads sessions recorded close
    together (similar names, often similar lengths) over different workers. Shards past the
    number of items are empty.
    """
    check_shard(0, shards)
    ordered = canonical(items)
    return tuple(ordered[k::shards] for k in range(shards))


def shard_items(items: Iterable[str], shards: int, shard: int) -> tuple[str, ...]:
    """The items of one shard (what `partition(items, shards)[shard]` is, without the others)."""
    check_shard(shard, shards)
    return canonical(items)[shard::shards]


def shard_of(item: str, items: Iterable[str], shards: int) -> int:
    """The shard an item lands in; ValueError if it is not one of the items."""
    check_shard(0, shards)
    return canonical(items).index(item) % shards


def digest(items: Iterable[str], shards: int) -> str:
    """Names one split: equal for the same session set and shard count, whatever the input order."""
    check_shard(0, shards)
    h = hashlib.sha256(f"{shards}\n".encode())
    for item in canonical(items):
        h.update(item.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()[:16]


def missing(shards: int, done: Iterable[int]) -> list[int]:
    """The shards not in `done`, in order (what a resume must still run)."""
    check_shard(0, shards)
    finished = set(done)
    return [k for k in range(shards) if k not in finished]


def sweep_value(shards: Sequence[int]) -> str:
    """A Hydra sweep override value for these shard numbers: `3` or `1,4,5` (for resume hints)."""
    return ",".join(str(k) for k in shards)
