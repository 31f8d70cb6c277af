"""The backorders of one replication: first come, first served, per SKU.

Each order day with unmet demand adds an entry (its units short, per SKU). A receipt fills the
oldest waiting units of each SKU first. Walking every entry on every receipt costs O(backlog)
a receipt, which a backlog that grows without bound (demand beyond what the node can receive)
turns into O(days²). Here each SKU's waiting entries are linked (``next``), and ``head`` holds
each SKU's oldest; a fill visits only the entries it fills (plus one where a SKU runs out of
stock), in order of order day, with exactly the units, order and side effects of the walk.
A short queue is filled in one vectorized pass over all its entries instead (the same numbers).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

NONE = -1  # no entry
FEW = 32  # up to this many entries, a fill handles them all at once (fewer numpy calls)


class BackorderQueue:
    """Waiting backorders by order day and SKU (rows ``lo .. n`` of ``units``)."""

    def __init__(self, skus: int, rows: int = 8):
        self.day = np.zeros(rows, dtype=np.int64)
        self.units = np.zeros((rows, skus), dtype=np.int64)
        self.next = np.full((rows, skus), NONE, dtype=np.int64)  # the SKU's next entry
        self.head = np.full(skus, NONE, dtype=np.int64)  # the SKU's oldest waiting entry
        self.tail = np.zeros(skus, dtype=np.int64)  # the SKU's newest (while it has one)
        self.lo = self.n = 0

    def __bool__(self) -> bool:
        return self.lo < self.n

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        """(order day, units still waiting) of every entry, oldest first."""
        for i in range(self.lo, self.n):
            yield int(self.day[i]), self.units[i]

    def append(self, day: int, units: np.ndarray) -> None:
        """Units short on order day ``day`` (later than every entry's)."""
        if self.n == len(self.day):
            self._make_room()
        k = self.n
        self.day[k], self.units[k], self.next[k] = day, units, NONE
        has = units > 0
        linked = np.flatnonzero(has & (self.head != NONE))
        self.next[self.tail[linked], linked] = k
        self.head[has & (self.head == NONE)] = k
        self.tail[has] = k
        self.n += 1

    def fill(
        self, available: np.ndarray, routed: np.ndarray | None = None
    ) -> list[tuple[int, np.ndarray]]:
        """Fill waiting units from ``available`` (lowered in place), oldest order day first,
        only SKUs in ``routed`` when given: [(order day, units filled)], oldest first, for the
        entries that got any (what walking every entry with min(waiting, available) gives)."""
        open_ = available > 0
        if routed is not None:
            open_ &= routed
        if self.n - self.lo <= FEW:
            out = self._fill_all(available, open_)
        else:
            out = self._fill_linked(available, open_ & (self.head != NONE))
        pending = self.head != NONE
        self.lo = int(self.head[pending].min()) if pending.any() else self.n
        if self.lo == self.n:
            self.lo = self.n = 0
        return out

    def _fill_all(self, available: np.ndarray, open_: np.ndarray) -> list:
        """A short queue in one pass: entry e gets min(its units, what is left after the
        entries before it) of each open SKU; then each SKU's oldest is found again (the links
        stay right: a SKU's entries after its oldest are untouched)."""
        units = self.units[self.lo : self.n]  # a view: filled in place
        wanted = units * open_
        before = np.cumsum(wanted, axis=0) - wanted
        take = np.minimum(wanted, np.maximum(available - before, 0))
        filled = np.flatnonzero(take.any(axis=1))
        if not len(filled):
            return []
        units -= take
        available -= take.sum(axis=0)
        has = units > 0
        self.head[:] = np.where(has.any(axis=0), self.lo + has.argmax(axis=0), NONE)
        return [(int(self.day[self.lo + e]), take[e]) for e in filled.tolist()]

    def _fill_linked(self, available: np.ndarray, open_: np.ndarray) -> list:
        """A long queue entry by entry, visiting only the entries filled."""
        head, out = self.head, []
        while open_.any():
            i = int(head[open_].min())  # the oldest entry any SKU can be filled from
            units = self.units[i]
            take = np.minimum(units, available) * open_  # SKUs whose oldest is i (others: 0)
            available -= take
            units -= take
            done = (take > 0) & (units == 0)
            head[done] = self.next[i, done]
            open_ &= (available > 0) & (head != NONE)
            out.append((int(self.day[i]), take))
        return out

    def _make_room(self) -> None:
        """Drop the entries filled completely (the links follow), and double the rows when
        more than half are still waiting: amortized O(1) rows an entry."""
        keep = self.lo + np.flatnonzero(self.units[self.lo : self.n].any(axis=1))
        rows = len(self.day) if len(keep) <= len(self.day) // 2 else 2 * len(self.day)
        remap = np.full(self.n + 1, NONE, dtype=np.int64)  # remap[NONE] is NONE
        remap[keep] = np.arange(len(keep))
        day = np.zeros(rows, dtype=np.int64)
        units = np.zeros((rows, self.units.shape[1]), dtype=np.int64)
        nxt = np.full((rows, self.units.shape[1]), NONE, dtype=np.int64)
        day[: len(keep)], units[: len(keep)] = self.day[keep], self.units[keep]
        nxt[: len(keep)] = remap[self.next[keep]]
        pending = self.head != NONE
        self.head[pending] = remap[self.head[pending]]
        self.tail[pending] = remap[self.tail[pending]]
        self.day, self.units, self.next = day, units, nxt
        self.lo, self.n = 0, len(keep)
