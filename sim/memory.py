"""Giving memory back to the operating system (glibc's allocator; elsewhere nothing is done).

A large catalog's daily arrays are tens of MB each, and glibc's allocator puts such blocks on
its heap once a few have been freed (its mmap threshold rises to 32 MB), where the holes they
leave are rarely returned: the resident memory of a 10,000-SKU run only grows. Blocks of
``LARGE_BYTES`` and more are mapped on their own instead, and go back to the system when freed
(their pages are faulted in again at each allocation: a few percent of a 10,000-SKU run's time,
nothing below about 1,400 SKUs a year, whose arrays are smaller). After loading a scenario, its
parsed text and validated objects are collected and the freed heap is returned.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import sys

LARGE_BYTES = 4 * 2**20  # arrays at least this large get pages of their own
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


@functools.cache
def _libc():
    """glibc's ``mallopt`` and ``malloc_trim``, or None (another C library or platform)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def map_large_arrays() -> None:
    """Allocate blocks of ``LARGE_BYTES`` or more as their own memory maps from now on (also
    in the worker processes forked afterwards)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, LARGE_BYTES)


def trim() -> None:
    """Return the heap's free pages to the system."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def give_back() -> None:
    """Collect unreachable objects and return the heap's free pages to the system."""
    gc.collect()
    trim()
