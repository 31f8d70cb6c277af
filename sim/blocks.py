"""Blocks of days sized for the CPU cache, for work over (days, skus) tables.

At 10,000 SKUs a (days, skus) float64 table of a year is 29 MB; the charges and metrics build
and reduce such tables a block of days at a time instead, each block about 2 MB.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

DAY_BLOCK = 2**18  # (days, skus) cells at once (2 MB of float64)


def day_blocks(first: int, days: int, skus: int) -> Iterator[tuple[int, int]]:
    """(lo, hi) blocks covering the days ``first .. days - 1`` in order."""
    step = max(1, DAY_BLOCK // max(1, skus))
    for lo in range(first, days, step):
        yield lo, min(days, lo + step)


def carried_sums(blocks: Iterable[np.ndarray], columns: int) -> np.ndarray:
    """(columns,) the column sums of a table given as consecutive blocks of its rows, each
    block's first row carrying the sums so far: every column is still summed row by row in
    order, the same floats as summing the whole (rows, columns) table along its rows when it
    has several columns (NumPy then adds the rows one after another). The blocks are changed."""
    total = np.zeros(columns)
    for block in blocks:
        block[0] += total
        total = block.sum(axis=0)
    return total
