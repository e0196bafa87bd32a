"""The shard partition (grimjobs/shards.py): every session in exactly one shard, balanced,
independent of listing order, the same on every machine; exhaustive over small cases."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grimjobs import shards as sh

NAMES = st.lists(st.text(min_size=1, max_size=8), max_size=40)


@pytest.mark.parametrize("count", range(0, 13))
@pytest.mark.parametrize("shards", range(1, 10))
def test_every_item_in_exactly_one_shard_and_sizes_within_one(count: int, shards: int) -> None:
    items = [f"/rec/s{i:03d}" for i in range(count)]
    parts = sh.partition(items, shards)
    assert len(parts) == shards
    flat = [x for part in parts for x in part]
    assert sorted(flat) == items and len(set(flat)) == count
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1
    for k in range(shards):
        assert sh.shard_items(items, shards, k) == parts[k]
        assert all(sh.shard_of(x, items, shards) == k for x in parts[k])
    assert sh.missing(shards, range(shards)) == []


def test_order_and_duplicates_do_not_change_the_split() -> None:
    items = ["b", "a", "d", "c", "e"]
    expected = sh.partition(items, 2)
    assert expected == (("a", "c", "e"), ("b", "d"))
    for perm in itertools.permutations(items):
        assert sh.partition([*perm, perm[0]], 2) == expected
        assert sh.digest(perm, 2) == sh.digest(items, 2)


@given(NAMES, st.integers(min_value=1, max_value=12))
def test_partition_properties(items: list[str], shards: int) -> None:
    parts = sh.partition(items, shards)
    flat = [x for part in parts for x in part]
    assert sorted(flat) == sorted(set(items))
    assert sh.partition(list(reversed(items)), shards) == parts
    for k, part in enumerate(parts):
        assert list(part) == sorted(part)  # each shard keeps the canonical order
        assert sh.shard_items(items, shards, k) == part


@given(NAMES, st.integers(min_value=1, max_value=6))
def test_digest_names_the_split(items: list[str], shards: int) -> None:
    d = sh.digest(items, shards)
    assert d == sh.digest(sorted(set(items)), shards)
    assert d != sh.digest(items, shards + 1)
    assert d != sh.digest([*items, "\x00new"], shards)


def test_missing_lists_unfinished_shards_in_order() -> None:
    assert sh.missing(5, [4, 0, 2]) == [1, 3]
    assert sh.missing(3, []) == [0, 1, 2]
    assert sh.sweep_value([1, 3]) == "1,3"


@pytest.mark.parametrize(
    ("shard", "shards"), [(0, 0), (0, -1), (2, 2), (-1, 3), (True, 2), (0, True), ("0", 2), (0, 2.0)]
)
def test_bad_shard_numbers_are_refused(shard: object, shards: object) -> None:
    with pytest.raises(ValueError, match="shard"):
        sh.check_shard(shard, shards)


def test_item_outside_the_list_has_no_shard() -> None:
    with pytest.raises(ValueError):
        sh.shard_of("z", ["a", "b"], 2)
