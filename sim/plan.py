"""The shipment plan (``plan.csv``): what each strategy sends where, week by week.

Per replication (in the worker, ``plan_part``): the units ordered on each lane in each ISO week
of the counted days (``trace.orders``, summed over the order days of the week), the day the
week's units arrive (the units-weighted median of order day + that order's lead time, FBA
check-in included: the day they join on-hand), and, on every November 1 of the counted days,
the units at FBA nodes at the start of that day (end-of-day on-hand of October 31, before
November 1's receipts) and the units on their way to them (ordered by October 31, arriving
November 1 or later).

Over replications (in the parent, ``plan_rows``): the median and the 10th and 90th percentiles
of the units (linear interpolation between order statistics, NumPy's default), and the expected
arrival week: the ISO week of the median arrival day over the replications where the week had
an order. Only (lane, week, SKU) cells with an order in some replication get a row. The
replications kept for the plan are the first ``plan_cap`` (all of them unless the catalog is so
large that ``PLAN_BYTES`` would not hold them); the parent keeps their units in a temporary file
(``PlanStore``), not in memory, and computes the percentiles a block of cells at a time
(``QUANTILE_BYTES``), so its memory does not grow with replications.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from sim.engine import Trace
from sim.model import Calendar, Model, StrategyModel

PLAN_BYTES = 256 * 2**20  # units ordered kept (in PlanStore's file) for the percentiles, at most
PLAN_MIN_REPLICATIONS = 10  # ... unless fewer replications than this would be kept
QUANTILES = (0.5, 0.1, 0.9)
ROWS_PER_BLOCK = 50_000  # plan.csv rows built at once (as Python lists, then written)
QUANTILE_BYTES = 8 * 2**20  # the replications' units (as floats) of the cells computed at once
COLUMNS = (
    "strategy",
    "kind",
    "lane",
    "sku",
    "week",
    "date",
    "units_median",
    "units_p10",
    "units_p90",
    "arrival_week",
)


@dataclass(frozen=True)
class PlanCalendar:
    """ISO weeks of the counted days and the counted November 1sts."""

    labels: tuple[str, ...]  # "2026-W45"
    mondays: tuple[dt.date, ...]
    starts: np.ndarray  # (weeks,) first counted day of each week, as an offset from warm-up
    nov1: tuple[int, ...]  # day index of each counted November 1
    cells: np.ndarray  # (weeks, 7) offsets from warm-up of each week's days, -1 past its end


@functools.lru_cache(maxsize=8)
def plan_calendar(calendar: Calendar) -> PlanCalendar:
    """The weeks and November 1sts of ``calendar``'s counted days."""
    labels, mondays, starts, nov1 = [], [], [], []
    for t in range(calendar.warmup, calendar.days):
        day = calendar.start + dt.timedelta(days=t)
        if t == calendar.warmup or day.weekday() == 0:
            year, week, _ = day.isocalendar()
            labels.append(f"{year:04d}-W{week:02d}")
            mondays.append(day - dt.timedelta(days=day.weekday()))
            starts.append(t - calendar.warmup)
        if day.month == 11 and day.day == 1:
            nov1.append(t)
    first = np.array(starts, np.int64)
    ends = np.append(first[1:], calendar.days - calendar.warmup)
    cells = first[:, None] + np.arange(7)
    cells[cells >= ends[:, None]] = -1
    return PlanCalendar(tuple(labels), tuple(mondays), first, tuple(nov1), cells)


def iso_week(day: dt.date) -> str:
    """``day``'s ISO week, e.g. ``2026-W45``."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


@dataclass(frozen=True)
class PlanPart:
    """One replication of one strategy's plan."""

    units: np.ndarray  # (lanes, weeks, skus) units ordered each week (unsigned, smallest type)
    arrival: np.ndarray  # (lanes, weeks) median arrival day of the week's units (NaN: none)
    fba: np.ndarray  # (nov1s, 2, skus) at FBA on Nov 1, and that plus in transit to FBA


def plan_part(trace: Trace, model: StrategyModel, calendar: Calendar) -> PlanPart:
    """The plan's numbers of one replication of one strategy."""
    pc = plan_calendar(calendar)
    w = calendar.warmup
    lanes, _, skus = trace.orders.shape
    weeks = len(pc.labels)
    units = np.zeros((lanes, weeks, skus), dtype=np.int32)
    arrival = np.full((lanes, weeks), np.nan)
    if weeks:
        counted = trace.orders[:, w:]
        ends = [*pc.starts[1:].tolist(), counted.shape[1]]
        for k, (lo, hi) in enumerate(zip(pc.starts.tolist(), ends, strict=True)):
            # week by week (np.add.reduceat copies the whole (lanes, days, skus) array)
            units[:, k] = counted[:, lo:hi].sum(axis=1)
        pad = pc.cells < 0
        for i in range(lanes):
            size = np.where(pad, 0, counted[i].sum(axis=1)[pc.cells])
            due = np.where(
                pad, np.iinfo(np.int64).max, w + pc.cells + trace.lead_days[i, w:][pc.cells]
            )
            arrival[i] = _weighted_median(due, size)
    fba_nodes = [n for n, node in enumerate(model.nodes) if node.fba is not None]
    fba = np.zeros((len(pc.nov1), 2, skus), dtype=np.int64)
    for j, t in enumerate(pc.nov1):
        for n in fba_nodes:
            fba[j, 0] += trace.on_hand[t - 1, n] if t > 0 else trace.initial[n]
        for i, lane in enumerate(model.lanes):
            if lane.node in fba_nodes:
                late = np.arange(t) + trace.lead_days[i, :t] >= t
                fba[j, 1] += trace.orders[i, :t][late].sum(axis=0)
        fba[j, 1] += fba[j, 0]
    return PlanPart(_smallest(units), arrival, _smallest(fba))


def _smallest(units: np.ndarray) -> np.ndarray:
    """Whole units in the smallest unsigned type that holds them (every kept replication's plan
    travels from its worker and waits in the parent's file: most weekly orders fit in one or
    two bytes); as given if any is negative."""
    if not units.size or units.min() < 0:
        return units
    return units.astype(np.min_scalar_type(int(units.max())), copy=False)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row by row, the smallest value with at least half the row's weight at or below it
    (NaN for a row without weight)."""
    order = np.argsort(values, axis=1, kind="stable")
    cum = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
    at = np.argmax(2 * cum >= cum[:, -1:], axis=1)
    got = np.take_along_axis(values, order, axis=1)[np.arange(len(values)), at]
    return np.where(cum[:, -1] > 0, got, np.nan)


@dataclass(frozen=True)
class _Stored:
    """Where one array of a replication's plan is in the store's file."""

    offset: int
    dtype: np.dtype
    shape: tuple[int, ...]


class PlanStore:
    """The kept replications' plans (``PlanPart``), strategy by strategy, with their units in an
    unnamed temporary file (the system's temporary folder; gone when the run ends) instead of
    in memory: what the run holds does not grow with its replications. The percentiles read
    back a block of cells over the replications at a time (``plan_blocks``)."""

    def __init__(self, strategies: int):
        self._file = None  # opened with the first part
        self._end = 0
        self._kept: list[list[tuple[_Stored, np.ndarray, _Stored]]] = [
            [] for _ in range(strategies)
        ]
        self.problem: str | None = None  # why the plan was given up (a full temporary disk)

    def __bool__(self) -> bool:
        return any(self._kept)

    def add(self, strategy: int, part: PlanPart) -> None:
        """Keep one replication's plan of ``strategy`` (the next replication). Should the
        temporary file fail (no room left), the plan is given up — the run goes on without it
        and ``problem`` says why — rather than the run."""
        if self.problem is not None:
            return
        try:
            units, fba = self._put(part.units), self._put(part.fba)
        except OSError as e:
            folder = tempfile.gettempdir()
            self.problem = f"the temporary folder {folder} (TMPDIR) failed: {e.strerror or e}"
            self._kept = [[] for _ in self._kept]
            if self._file is not None:
                self._file.close()
                self._file = None
            return
        self._kept[strategy].append((units, part.arrival, fba))

    def kept(self, strategy: int) -> int:
        """Replications of ``strategy`` kept."""
        return len(self._kept[strategy])

    def part(self, strategy: int, replication: int) -> PlanPart:
        """The ``replication``-th kept plan of ``strategy``, whole."""
        units, arrival, fba = self._kept[strategy][replication]
        return PlanPart(self._get(units), arrival, self._get(fba))

    def arrivals(self, strategy: int, lane: int) -> np.ndarray:
        """(replications, weeks) median arrival day of each week's units on ``lane``."""
        return np.stack([arrival[lane] for _, arrival, _ in self._kept[strategy]])

    def units(self, strategy: int, lane: int, lo: int, hi: int) -> list[np.ndarray]:
        """Each kept replication's units ordered on ``lane`` in the (week, SKU) cells ``lo`` to
        ``hi`` (flat, week by week)."""
        out = []
        for units, _, _ in self._kept[strategy]:
            row = lane * units.shape[1] * units.shape[2]
            out.append(self._get(units, row + lo, row + hi))
        return out

    def fba(self, strategy: int, index: int, lo: int, hi: int) -> list[np.ndarray]:
        """Each kept replication's FBA stock (``PlanPart.fba`` flat: November 1 ``index // 2``,
        without / with what is on the way) of SKUs ``lo`` to ``hi``."""
        out = []
        for _, _, fba in self._kept[strategy]:
            row = index * fba.shape[2]
            out.append(self._get(fba, row + lo, row + hi))
        return out

    def _put(self, a: np.ndarray) -> _Stored:
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the store
        a = np.ascontiguousarray(a)
        self._file.seek(self._end)
        self._file.write(memoryview(a.reshape(-1)).cast("B"))
        stored = _Stored(self._end, a.dtype, a.shape)
        self._end += a.nbytes
        return stored

    def _get(self, stored: _Stored, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Elements ``lo`` to ``hi`` of a stored array, flat (C order); the whole array, in its
        shape, by default."""
        whole = hi is None
        hi = int(np.prod(stored.shape)) if whole else hi
        size = stored.dtype.itemsize
        self._file.seek(stored.offset + lo * size)
        out = np.frombuffer(self._file.read((hi - lo) * size), dtype=stored.dtype)
        return out.reshape(stored.shape) if whole else out


def plan_cap(model: Model) -> int:
    """Replications (the first ones) whose plan is kept: as many as ``PLAN_BYTES`` holds, at
    least ``PLAN_MIN_REPLICATIONS``."""
    weeks = len(plan_calendar(model.calendar).labels)
    per = sum(4 * len(st.lanes) * weeks * len(model.catalog.ids) for st in model.strategies)
    return max(PLAN_MIN_REPLICATIONS, PLAN_BYTES // max(per, 1))


def lane_name(model: StrategyModel, lane) -> str:
    """``supplier->fba`` or ``home->fba``."""
    source = "supplier" if lane.source < 0 else model.nodes[lane.source].name
    return f"{source}->{model.nodes[lane.node].name}"


def plan_rows(model: Model, parts: PlanStore, skus: Sequence[int] | None = None) -> Iterator[dict]:
    """``plan.csv``'s rows as dicts (keys ``COLUMNS``), in the order of :func:`plan_blocks`."""
    for columns, _ in plan_blocks(model, parts, skus):
        for row in zip(*columns, strict=True):
            yield dict(zip(COLUMNS, row, strict=True))


def plan_blocks(
    model: Model, parts: PlanStore, skus: Sequence[int] | None = None
) -> Iterator[tuple[list[list], tuple[int, ...]]]:
    """``plan.csv``'s rows in blocks of columns (``COLUMNS``) with the indices of the columns
    holding user text, strategy by strategy: ``kind`` ``order`` (units ordered on a lane in an
    ISO week, ``date`` its Monday) then ``fba_on_hand`` and ``fba_on_hand_in_transit`` (units at
    FBA at the start of November 1, ``date``, without and with those on the way). ``skus``:
    only these SKUs (indices, in catalog order), default all. Units are rounded to the cent."""
    pc = plan_calendar(model.calendar)
    start = model.calendar.start
    ids = model.catalog.ids
    chosen = np.zeros(len(ids), dtype=bool)
    chosen[list(range(len(ids)) if skus is None else skus)] = True
    text = (0, 2, 3)  # strategy, lane, sku
    mondays = [d.isoformat() for d in pc.mondays]
    for s, strategy in enumerate(model.strategies):
        reps = parts.kept(s)
        if not reps:
            continue
        # (lanes, weeks, skus) whether some replication ordered, one replication at a time
        ordered = parts.part(s, 0).units > 0
        for r in range(1, reps):
            ordered |= parts.part(s, r).units > 0
        ordered &= chosen
        n_skus = ordered.shape[2]
        span = _rows_at_once(reps)  # cells of the (week, SKU) grid read at once
        for i, lane in enumerate(strategy.lanes):
            name = lane_name(strategy, lane)
            grid = ordered[i].ravel()  # week by week, SKU by SKU
            if not grid.any():
                continue
            arrivals = parts.arrivals(s, i)  # (reps, weeks)
            weeks_ordered = np.unique(np.flatnonzero(grid) // n_skus)
            arrive = {k: _arrival_week(arrivals[:, k], start) for k in weeks_ordered.tolist()}
            for lo in range(0, grid.size, span):
                hi = min(lo + span, grid.size)
                cells = np.flatnonzero(grid[lo:hi])
                if not len(cells):
                    continue
                q = _quantiles([u[cells] for u in parts.units(s, i, lo, hi)])  # (3, rows)
                week, sku = np.divmod(lo + cells, n_skus)
                rows = len(cells)
                weeks = week.tolist()
                yield (
                    [
                        [strategy.name] * rows,
                        ["order"] * rows,
                        [name] * rows,
                        [ids[j] for j in sku.tolist()],
                        [pc.labels[k] for k in weeks],
                        [mondays[k] for k in weeks],
                        *(_cents(q[c]) for c in range(len(QUANTILES))),
                        [arrive[k] for k in weeks],
                    ],
                    text,
                )
        if not len(pc.nov1) or not any(node.fba is not None for node in strategy.nodes):
            continue
        where = "+".join(node.name for node in strategy.nodes if node.fba is not None)
        for n, t in enumerate(pc.nov1):
            day = start + dt.timedelta(days=t)
            for c, kind in enumerate(("fba_on_hand", "fba_on_hand_in_transit")):
                for lo in range(0, n_skus, span):
                    hi = min(lo + span, n_skus)
                    picked = np.flatnonzero(chosen[lo:hi])
                    if not len(picked):
                        continue
                    q = _quantiles([f[picked] for f in parts.fba(s, 2 * n + c, lo, hi)])
                    rows = len(picked)
                    yield (
                        [
                            [strategy.name] * rows,
                            [kind] * rows,
                            [where] * rows,
                            [ids[j] for j in (lo + picked).tolist()],
                            [iso_week(day)] * rows,
                            [day.isoformat()] * rows,
                            *(_cents(q[x]) for x in range(len(QUANTILES))),
                            [""] * rows,
                        ],
                        text,
                    )


def _rows_at_once(replications: int) -> int:
    """Cells whose percentiles are computed together: ``ROWS_PER_BLOCK``, fewer when that many
    cells' units over every replication (as floats) would pass ``QUANTILE_BYTES``."""
    return max(1, min(ROWS_PER_BLOCK, QUANTILE_BYTES // (8 * replications)))


def _quantiles(units: list[np.ndarray]) -> np.ndarray:
    """(QUANTILES, cells) percentiles over replications of each cell, from one (cells,) array
    per replication: NumPy's default (linear) interpolation, the same numbers cell by cell
    as over the whole plan at once."""
    sample = np.stack(units).astype(float)  # a copy of its own: sorted in place
    return np.quantile(sample, QUANTILES, axis=0, overwrite_input=True)


def _cents(values: np.ndarray) -> list[float]:
    """``round(x, 2)`` of each value, as Python floats (Python's correctly rounded ``round``,
    not NumPy's, whose scaling by 100 can land a half-cent on the other side). Multiples of
    0.25 are their own rounding (exact in two decimals) and most quantiles of whole units are
    such: only the others go through ``round``."""
    out = values.tolist()
    quarters = values * 4
    for i in np.flatnonzero(quarters != np.floor(quarters)).tolist():
        out[i] = round(out[i], 2)
    return out


def _arrival_week(due: np.ndarray, start: dt.date) -> str:
    """The ISO week of the median (lower) arrival day over the replications that ordered in
    that week (one lane's week: the same for every SKU); "" when none did."""
    due = due[~np.isnan(due)]
    if not len(due):
        return ""
    return iso_week(start + dt.timedelta(days=int(np.quantile(due, 0.5, method="lower"))))
