"""What a run will cost, estimated from the parsed scenario before anything large is built.

``compile_scenario`` already allocates arrays over days × SKUs (each SKU's daily demand means,
Amazon's daily fee tables), and a run adds every worker's daily records; so the estimate is made
from the validated scenario's sizes alone (SKUs, days, nodes, lanes, strategies, replications,
workers), and a run that cannot fit in the machine's available memory is refused (exit 2) with
what it would need and what to reduce, in seconds and before any of it is allocated. A run whose
rough time estimate is long, or whose capacity backlog grows without bound, is announced first.

The figures are estimates on the generous side, calibrated on this machine (see the constants).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim import scenario as sc
from sim.errors import UserError
from sim.model import PATH_SKUS
from sim.montecarlo import PATH_REPLICATIONS, batch_for
from sim.months import MONTH_METRICS
from sim.plan import QUANTILE_BYTES

GB = 2**30
BASE_MEMORY = 100 * 2**20  # interpreter, libraries, scenario (W measures 58 MB in all)
# what reading a scenario leaves in the process that reads it, per SKU: the parsed YAML, its
# line numbers and the validated objects are freed once compiled, but the allocator keeps most
# of their pages (10,000 SKUs: about 140 MB; ``run`` reads a large file in a child process that
# ends before the simulation, counted here all the same: on the generous side)
LOADED_SKU_BYTES = 16 * 2**10
WORKER_MEMORY = 40 * 2**20  # a worker process's own pages (forked: the rest is shared)
# the compiled model: per SKU, its demand sampler, product and prices; per SKU-day, the daily
# demand means of a SKU whose mean varies by day (season, weekday, trend; mean + multiplier,
# negative binomial adds n and a mask) and, per FBA node with Amazon's fees, its share of the
# fee tables (one row per fee period; the aged-inventory bands per snapshot)
SKU_BYTES = 2 * 2**10
DEMAND_BYTES = {"poisson": 16, "negative_binomial": 25, "normal": 24, "empirical": 8}
FEE_BYTES = 4
# per (strategy, metric, SKU) after the run: running moments (24 bytes) and, for the SKUs
# summary.json holds (``results.SKUS_IN_SUMMARY``), their intervals as Python objects (about
# 500 bytes); skus.csv is written a block of rows at a time
SUMMARY_BYTES = 640
# a validated grid point of sweep / sensitivity waiting its turn pickled, per SKU (the
# benchmark catalog: 275 bytes)
PACKED_SKU_BYTES = 320
MOMENT_BYTES = 48

SKU_DAYS_PER_SECOND = 4e6  # simulated, per worker and strategy (the 1,000-SKU benchmark: 4.6e6)
# and at least this per simulated day of each strategy and replication, however few the SKUs
# (the day's array operations; bundled scenarios: 5 µs for a plain FBM node to 100 µs for SFP)
SECONDS_PER_STRATEGY_DAY = 5e-6
# Amazon's fee tables built, per FBA SKU-day (1,000 SKUs: 1.7e6, 10,000: 1.3e6 to 1.5e6; a small
# catalog's fixed 10 ms are in the start-up)
FEE_SKU_DAYS_PER_SECOND = 1.2e6
DRAIN_DAYS_PER_SECOND = 2e6  # backlog shipped after the horizon (measured 1.7e6 to 4.4e6)
LONG_RUN_SECONDS = 60  # announce runs longer than this


@dataclass(frozen=True)
class StrategyShape:
    """A strategy's sizes: stock-holding nodes, replenishment lanes, fulfilment nodes."""

    nodes: int
    lanes: int
    fulfil: int

    def trace_bytes(self, days: int, skus: int) -> int:
        """One replication's daily records in the engine (daily on-hand, served, orders,
        receipts, backorders: 4-byte whole units when they fit, ``engine.trace_dtype``) and
        each fulfilment node's shipping tables."""
        return days * skus * (4 * (3 + 2 * self.nodes + self.lanes) + 16 * self.fulfil)

    @property
    def width(self) -> int:
        """Daily records per SKU-day in 8-byte words, as ``montecarlo.batch_size`` counts them."""
        return 3 + 2 * self.nodes + self.lanes + 4 * self.fulfil


@dataclass(frozen=True)
class Shape:
    """The sizes of a validated scenario that memory and time depend on."""

    name: str
    skus: int
    days: int
    replications: int
    strategies: tuple[StrategyShape, ...]
    model_bytes: int  # the compiled model's arrays over days × SKUs
    fee_sku_days: int  # SKU-days of Amazon fee tables to build

    @property
    def batch(self) -> int:
        """Replications a worker simulates side by side (``montecarlo.batch_size``)."""
        return batch_for(self.days, self.skus, [s.width for s in self.strategies])

    def worker_bytes(self) -> int:
        """A worker at its peak: one strategy's traces of a batch, the batch's demand (and its
        stacked copy), and the metrics' working arrays (about half a trace: they go a block
        of days or SKUs at a time where they can)."""
        trace = max(s.trace_bytes(self.days, self.skus) for s in self.strategies)
        return WORKER_MEMORY + self.batch * (trace + 2 * 8 * self.days * self.skus) + trace // 2

    def results_bytes(self, metrics: int) -> int:
        """What the parent keeps: per-SKU moments and summary, the report's inventory paths."""
        kept = min(self.replications, PATH_REPLICATIONS)
        paths = kept * sum(4 * self.days * s.nodes * PATH_SKUS for s in self.strategies)
        totals = 2 * 8 * self.replications * len(self.strategies) * metrics  # and stacked
        # the shipment plan (its replications' units wait in a temporary file, not in memory:
        # one replication's units by lane, ISO week and SKU at a time, up to 4 bytes, with the
        # cells some replication ordered in, and the percentiles' floats, plan.QUANTILE_BYTES,
        # about twice over) and the month results (months × MONTH_METRICS per replication)
        weeks = self.days // 7 + 2
        plan = max(6 * s.lanes * weeks * self.skus for s in self.strategies) + 3 * QUANTILE_BYTES
        months = 8 * self.replications * len(self.strategies) * (self.days // 28 + 2)
        months *= len(MONTH_METRICS)
        from sim.results import SKUS_IN_SUMMARY  # imported by run anyway

        in_summary = min(self.skus, SKUS_IN_SUMMARY)
        per_sku = in_summary * SUMMARY_BYTES + (self.skus - in_summary) * MOMENT_BYTES
        return (
            len(self.strategies) * metrics * per_sku
            + LOADED_SKU_BYTES * self.skus
            + paths
            + totals
            + plan
            + months
        )


def shape_of(scenario: sc.Scenario) -> Shape:
    """The sizes of ``scenario``, read without compiling it."""
    days, skus = scenario.horizon_days, len(scenario.skus)
    per_day = 0
    for s in scenario.skus:
        if not _daily(s.demand):
            continue
        d = DEMAND_BYTES.get(s.demand.distribution, 32)
        per_day += 2 * d if s.demand.prime_uplift > 0 else d
    shapes, fee_nodes = [], set()
    for st in scenario.strategies:
        used = list(st.fulfil_nodes())
        for node, rep in st.replenish.items():
            for name in (node, rep.source):
                if name != sc.SUPPLIER and name not in used:
                    used.append(name)
        fee_nodes |= {
            n for n in used if scenario.nodes[n].type == "fba" and scenario.nodes[n].amazon_fees
        }
        shapes.append(StrategyShape(len(used), len(st.replenish), len(st.fulfil_nodes())))
    fee_sku_days = len(fee_nodes) * days * skus
    return Shape(
        name=scenario.name,
        skus=skus,
        days=days,
        replications=scenario.replications,
        strategies=tuple(shapes),
        model_bytes=SKU_BYTES * skus + days * (per_day + 16) + FEE_BYTES * fee_sku_days,
        fee_sku_days=fee_sku_days,
    )


def _daily(demand) -> bool:
    """Whether a SKU's demand sampler keeps parameters for every day (a mean that varies by
    day, or a normal or empirical distribution; ``distributions.DemandSampler``)."""
    if demand.distribution not in ("poisson", "negative_binomial"):
        return True
    return (
        any(f != 1 for f in demand.weekly_factors())
        or any(f != 1 for f in demand.monthly_factors())
        or demand.trend_per_year != 0
    )


@dataclass(frozen=True)
class Need:
    """Bytes a command needs at its peak, by part (for the message)."""

    model: int  # compiled scenario(s)
    workers: int  # every worker's arrays
    results: int  # what the parent keeps
    workers_count: int

    @property
    def total(self) -> int:
        return BASE_MEMORY + self.model + self.workers + self.results


def run_need(shape: Shape, workers: int, backend: str = "local", local: bool = True) -> Need:
    """``run``: the model (shared by forked workers; one copy per Dask worker), each worker's
    arrays (only local workers count: a remote scheduler's are not this machine's), results."""
    from sim.metric_names import METRICS

    copies = 1 + (workers if backend == "dask" and local else 0)
    per_worker = shape.worker_bytes() if local else 0
    return Need(
        model=copies * shape.model_bytes,
        workers=max(1, workers) * per_worker,
        results=shape.results_bytes(len(METRICS)),
        workers_count=workers,
    )


def sweep_need(shapes: list[Shape], workers: int, backend: str, local: bool) -> Need:
    """``sweep``: one grid point runs at a time, so the largest point's model, workers and
    results count once; besides, every point waits packed (``sim.packed``) and every finished
    point keeps its strategy totals."""
    from sim.metric_names import METRICS

    largest = max((run_need(s, workers, backend, local) for s in shapes), key=lambda n: n.total)
    kept = sum(
        PACKED_SKU_BYTES * s.skus + 8 * s.replications * len(s.strategies) * len(METRICS)
        for s in shapes
    )
    return Need(
        model=largest.model,
        workers=largest.workers,
        results=largest.results + kept,
        workers_count=workers,
    )


def optimize_need(shape: Shape, workers: int, backend: str, local: bool) -> Need:
    """``optimize``: a run's worker arrays plus, per process, the replication inputs it keeps
    (up to the cache), and the parent's per-candidate results (a few kept at once)."""
    from sim.optimize import CACHE_BYTES  # imported by optimize only

    base = run_need(shape, workers, backend, local)
    inputs = shape.replications * shape.days * 8 * (2 * shape.skus + 4)
    cache = min(inputs, CACHE_BYTES)
    candidates = 8 * 8 * shape.replications * 4 * shape.skus  # (reps, 4 rows, skus) × 8 kept
    per_worker = cache if local else 0
    return Need(
        model=base.model,
        workers=base.workers + max(1, workers) * per_worker,
        results=base.results + cache + candidates,
        workers_count=workers,
    )


def available_memory() -> int | None:
    """Bytes this machine can still give (MemAvailable), or None where that is unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(need: Need, shape: Shape, what: str = "") -> None:
    """Refuse (UserError, exit 2) a command that needs more memory than is available: what is
    too big, how much it would need, and what to reduce."""
    have = available_memory()
    if have is None or need.total <= have:
        return
    parts = [("the compiled scenario", need.model), ("the workers", need.workers)]
    parts.append(("the results", need.results))
    detail = ", ".join(f"{name} {size / GB:.1f} GB" for name, size in parts if size >= GB / 10)
    reduce = []
    one_worker = need.total - need.workers + need.workers // max(1, need.workers_count)
    if need.workers_count > 1 and one_worker <= have:
        fit = max(1, need.workers_count * (have - need.total + need.workers) // need.workers)
        reduce.append(f"--workers {fit}")
    reduce += ["fewer SKUs", "a shorter horizon_days"]
    if need.results >= need.total / 3:
        reduce.append("fewer strategies")
    size = f"{shape.skus:,} SKUs × {shape.days:,} days × {len(shape.strategies)} strategies"
    raise UserError(
        (
            "scenario",
            f"{what}too big for this machine: {size} needs about {need.total / GB:.1f} GB of "
            f"memory with {need.workers_count} worker(s) ({detail}), but {have / GB:.1f} GB is "
            f"available: use {', '.join(reduce[:-1])} or {reduce[-1]}",
        )
    )


def run_seconds(shape: Shape, workers: int) -> float:
    """Rough seconds of a run from its sizes alone: building Amazon's fee tables, then SKU-days
    (and at least a fixed cost per day) of every strategy and replication over the workers.
    A lower figure than most runs take: ``sim.estimate`` times a pilot for the real one."""
    days = shape.days * shape.replications * len(shape.strategies)
    work = max(shape.skus * days / SKU_DAYS_PER_SECOND, days * SECONDS_PER_STRATEGY_DAY)
    return shape.fee_sku_days / FEE_SKU_DAYS_PER_SECOND + work / max(1, workers)


def _duration(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds / 60:,.0f} minutes"


def backlogs(scenario: sc.Scenario) -> list[tuple[str, float, float, float]]:
    """Nodes whose order capacity is below the mean orders routed to them first: (node, orders
    a day, capacity a day averaged over the week, days of shipping the backlog left at the end
    of the horizon needs). The orders are a rough mean (seasonality averaged, trend ignored)."""
    out = []
    for name, node in scenario.nodes.items():
        cap = getattr(node, "daily_order_capacity", None)  # awd nodes ship no orders
        if cap is None:
            continue
        per_day = cap * len(node.ship_weekdays) / 7
        orders = 0.0
        for s in scenario.skus:
            if any(st.route(s.id)[:1] == [name] for st in scenario.strategies):
                d = s.demand
                mean = d.mean_per_day * (1 + d.prime_uplift)
                mean *= sum(d.weekly_factors()) / 7 * sum(d.monthly_factors()) / 12
                orders += mean / s.units_per_order
        if orders > per_day:
            backlog = (orders - per_day) * scenario.horizon_days
            out.append((name, orders, per_day, backlog / per_day))
    return out


def notes(
    scenario: sc.Scenario,
    shape: Shape,
    workers: int,
    extra_seconds: float = 0.0,
    timed: bool = True,
) -> list:
    """``location: note`` lines for a long run (unless ``timed`` is false: the caller times it
    with ``sim.estimate``) or a backlog that grows without bound."""
    out = []
    drain = 0.0
    for name, orders, per_day, days in backlogs(scenario):
        out.append(
            (
                f"nodes.{name}",
                f"about {orders:,.4g} orders a day against a capacity of {per_day:,.4g} a day: "
                f"the backlog grows without bound and ships over about "
                f"{_duration(days * 86400)} after the horizon (raise daily_order_capacity or "
                "route less demand here)",
            )
        )
        drain += days
    seconds = run_seconds(shape, workers) + extra_seconds
    seconds += drain * shape.replications * len(shape.strategies) / DRAIN_DAYS_PER_SECOND
    if timed and seconds > LONG_RUN_SECONDS:
        out.append(
            (
                "",
                f"a large run: about {_duration(seconds)} on {workers} worker(s) (rough "
                "estimate); Ctrl-C keeps what is finished"
                + (
                    "; fewer replications, SKUs or a shorter horizon_days make it shorter"
                    if seconds > 86400
                    else ""
                ),
            )
        )
    return out


def check_run(
    scenario: sc.Scenario,
    workers: int,
    backend: str,
    scheduler: str | None,
    echo,
    replications: int | None = None,
    timed: bool = True,
) -> tuple[Shape, Need]:
    """What ``run`` (and commands like it) does before compiling: refuse a run that cannot fit
    in memory, then ``echo`` the notes on its time (unless ``timed`` is false) and backlogs
    (``echo=None``: quiet). ``replications``: the most the run may make (``--precision``'s
    cap), if more. Returns the run's sizes and memory (for ``sim.estimate``)."""
    if replications is not None and replications > scenario.replications:
        scenario = scenario.model_copy(update={"replications": replications})
    shape = shape_of(scenario)
    need = run_need(shape, workers, backend, local=not scheduler)
    check_memory(need, shape)
    if echo is not None:
        for loc, text in notes(scenario, shape, workers, timed=timed):
            echo(f"{loc}: note: {text}" if loc else f"note: {text}")
    return shape, need


def check_sweep(
    scenarios: Sequence[sc.Scenario],
    workers: int,
    backend: str,
    scheduler: str | None,
    echo,
    timed: bool = True,
) -> tuple[list[Shape], Need]:
    """``sweep`` before compiling any grid point: the largest point and what every point keeps
    count (``sweep_need``); the notes give the time of the whole grid (unless ``timed`` is
    false). Returns the points' sizes and the memory."""
    shapes = [shape_of(s) for s in scenarios]
    need = sweep_need(shapes, workers, backend, local=not scheduler)
    largest = max(shapes, key=lambda s: s.model_bytes + s.worker_bytes())
    check_memory(need, largest, f"sweep over {len(shapes)} grid points: ")
    if echo is None:
        return shapes, need
    seconds = sum(run_seconds(s, workers) for s in shapes) - run_seconds(shapes[0], workers)
    for loc, text in notes(scenarios[0], shapes[0], workers, seconds, timed):
        echo(f"{loc}: note: {text}" if loc else f"note: {text}")
    return shapes, need


def check_optimize(
    scenario: sc.Scenario,
    workers: int,
    backend: str,
    scheduler: str | None,
    echo,
    timed: bool = True,
) -> tuple[Shape, Need]:
    """``optimize`` before compiling: its workers keep replication inputs besides a run's
    arrays; each pass over the replications costs about a run (the search makes a few dozen).
    Returns the sizes and the memory."""
    shape = shape_of(scenario)
    workers = max(1, min(workers, shape.replications))
    need = optimize_need(shape, workers, backend, local=not scheduler)
    check_memory(need, shape)
    if echo is None:
        return shape, need
    for loc, text in notes(scenario, shape, workers):
        if loc:
            echo(f"{loc}: note: {text}")
    seconds = run_seconds(shape, workers)
    if timed and seconds > LONG_RUN_SECONDS:
        echo(
            f"note: a large optimization: each pass over the replications takes about "
            f"{_duration(seconds)} on {workers} worker(s) (rough estimate), and the search "
            "makes a few dozen passes"
        )
    return shape, need
