"""The page cache keeps recent answers within its byte budget."""

from __future__ import annotations

from publisher.response_cache import CachedAnswer, ResponseCache


def test_least_recently_used_entries_go_first() -> None:
    cache = ResponseCache(max_bytes=80)
    for key in "abcd":
        cache.put(key, CachedAnswer(b"x" * 10))
    assert cache.get("a") == CachedAnswer(b"x" * 10)  # now the most recent
    for key in "efghi":
        cache.put(key, CachedAnswer(b"y" * 10))
    assert cache.size <= 80
    assert cache.get("b") is None
    assert cache.get("a") is not None


def test_a_body_too_large_for_the_budget_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=80)
    cache.put("small", CachedAnswer(b"s"))
    cache.put("huge", CachedAnswer(b"h" * 50))
    assert cache.get("huge") is None
    assert cache.get("small") == CachedAnswer(b"s")


def test_replacing_an_entry_keeps_the_size_right() -> None:
    cache = ResponseCache(max_bytes=100)
    cache.put("k", CachedAnswer(b"1234"))
    cache.put("k", CachedAnswer(b"12"))
    assert cache.size == 2
    assert len(cache) == 1
