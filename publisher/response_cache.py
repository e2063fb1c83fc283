"""A small thread-safe LRU cache of rendered answers, bounded in bytes (no web imports).

Entity pages depend only on the data, whose version is part of every key, so an entry never goes stale;
a reload changes the version, and the entity replay (publisher/views/entity_replay.py) clears the cache
when it first sees the new one. Entries are anything that knows its size in bytes: rendered bodies
(CachedAnswer) and what the entity view sent for a request (entity_replay.Recorded).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Protocol


class Entry(Protocol):
    @property
    def size(self) -> int:
        """Bytes the entry holds (about)."""
        ...


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers.items())


class ResponseCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Entry | None:
        with self._lock:
            answer = self._entries.get(key)
            if answer is not None:
                self._entries.move_to_end(key)
            return answer

    def put(self, key: Hashable, answer: Entry) -> None:
        if answer.size > self.max_bytes // 8:  # one huge page must not evict everything else
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= old.size
            self._entries[key] = answer
            self._size += answer.size
            while self._size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._size -= evicted.size

    def clear(self) -> None:
        """Drop every entry (the data they were rendered from is no longer served)."""
        with self._lock:
            self._entries.clear()
            self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._entries)
