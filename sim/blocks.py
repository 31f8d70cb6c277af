"""Blocks of days sized for the CPU cache, for work over (days, skus) tables.

At 10,000 SKUs a (days, skus) float64 table of a year is 29 MB; the charges and metrics build
and reduce such tables a block of days at a time instead, each block about 2 MB.
"""

from __future__ import annotations

from collections.abc import Iterator

DAY_BLOCK = 2**18  # (days, skus) cells at once (2 MB of float64)


def day_blocks(first: int, days: int, skus: int) -> Iterator[tuple[int, int]]:
    """(lo, hi) blocks covering the days ``first .. days - 1`` in order."""
    step = max(1, DAY_BLOCK // max(1, skus))
    for lo in range(first, days, step):
        yield lo, min(days, lo + step)
