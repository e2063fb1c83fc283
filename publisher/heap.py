"""Handing memory the process freed back to the system."""

from __future__ import annotations

import contextlib
import ctypes


def give_back_freed_memory() -> None:
    """Return the heap that big queries and cache builds freed (glibc keeps it otherwise), so that a
    server holds little more than what it keeps. Does nothing where there is no glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
