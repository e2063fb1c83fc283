"""PackedStrings: the sitemap's paths and the search index's labels, kept as one string per cache."""

from __future__ import annotations

import pytest

from publisher.packed import PackedStrings

ITEMS = ["plan/2018-2020/2.1.2", "", "Península Valdés", "line\nbreak", "鯨", "plan/2018-2020/2.1.2"]


def test_packed_strings_give_back_every_item_as_it_was() -> None:
    packed = PackedStrings(ITEMS)
    assert len(packed) == len(ITEMS)
    assert list(packed) == ITEMS
    assert [packed[i] for i in range(-len(ITEMS), 0)] == ITEMS


@pytest.mark.parametrize(
    "window", [slice(0, 2), slice(2, None), slice(None, None, 2), slice(-3, -1), slice(9, 20)]
)
def test_packed_strings_slice_as_a_list_does(window: slice) -> None:
    assert PackedStrings(ITEMS)[window] == ITEMS[window]


@pytest.mark.parametrize("index", [len(ITEMS), -len(ITEMS) - 1])
def test_an_index_past_either_end_is_an_index_error(index: int) -> None:
    with pytest.raises(IndexError):
        PackedStrings(ITEMS)[index]


def test_no_strings_pack_into_an_empty_sequence() -> None:
    assert len(PackedStrings([])) == 0
    assert PackedStrings([])[:] == []
