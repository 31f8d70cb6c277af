"""Replications, random streams and common random numbers.

Replication ``i`` is seeded from ``SeedSequence(seed, spawn_key=(i,))`` (the i-th child of
``SeedSequence(seed)``); each random source gets its own named stream below it (``Streams``):
``("demand", sku_id)``, ``("lead", node, source)``, ``("transit", node)``. Every strategy of
replication i therefore sees the same demand and the same lead-time and transit draws (common
random numbers), and a SKU's demand does not depend on which other SKUs are in the catalog.

Replications run in batches (``run_batch``: up to ``BATCH_REPLICATIONS`` side by side in one
simulation, see ``sim.engine``), serially, in worker processes or on Dask; a replication's
numbers do not depend on its batch, and results are reduced in replication order, so they do not
depend on the batch size, the worker count or the backend.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import math
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from sim import interrupts
from sim.engine import simulate_batch
from sim.metric_names import METRICS
from sim.metrics import Measured, measure
from sim.model import Model, StrategyModel
from sim.months import MONTH_METRICS, check_months, measure_months, month_windows
from sim.plan import PlanStore, plan_cap, plan_part
from sim.stats import interval
from sim.workers import WorkerLost


class Streams:
    """The named random streams of one replication.

    The replication's key is drawn from ``SeedSequence(seed, spawn_key=(replication,))``, the
    replication-th child of ``SeedSequence(seed)``. A named stream's PCG64 state and increment
    are a BLAKE2b hash of that key and the stream's names, so streams are independent of each
    other and of which other streams exist (a SKU's demand does not depend on the catalog), and
    cost about 2 µs each instead of a SeedSequence's 20.
    """

    def __init__(self, seed: int, replication: int):
        seq = np.random.SeedSequence(seed, spawn_key=(replication,))
        self.key = seq.generate_state(4, np.uint32).tobytes()
        self._shared = np.random.Generator(np.random.PCG64(0))

    def _seed(self, bits: np.random.PCG64, names: tuple[str, ...]) -> None:
        digest = hashlib.blake2b(self.key + "\x1f".join(names).encode(), digest_size=32).digest()
        bits.state = {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(digest[:16], "little"),
                "inc": int.from_bytes(digest[16:], "little") | 1,
            },
            "has_uint32": 0,
            "uinteger": 0,
        }

    def new(self, *names: str) -> np.random.Generator:
        """A generator of its own for stream ``names``."""
        gen = np.random.Generator(np.random.PCG64(0))
        self._seed(gen.bit_generator, names)
        return gen

    def shared(self, *names: str) -> np.random.Generator:
        """One reused generator, reseeded to stream ``names`` (valid until the next call)."""
        self._seed(self._shared.bit_generator, names)
        return self._shared


PATH_REPLICATIONS = 200  # inventory paths kept for the report's fan charts (bounded memory)


def draw_demand(model: Model, streams: Streams) -> tuple[np.ndarray, np.ndarray | None]:
    """(days, skus) whole units demanded without the Prime badge, each SKU from its own stream,
    and the extra units the badge would bring (None when no SKU has a ``prime_uplift``)."""
    cat = model.catalog
    shape = (len(cat.ids), model.calendar.days)  # filled a SKU (row) at a time, then transposed
    base = np.empty(shape, dtype=np.int64)
    shared = streams.shared
    for row, sku, sampler in zip(base, cat.ids, cat.demand, strict=True):
        row[:] = sampler.sample(shared("demand", sku))
    if not cat.has_uplift:
        return base.T.copy(), None
    extra = np.zeros(shape, dtype=np.int64)
    for row, sku, sampler in zip(extra, cat.ids, cat.prime_extra, strict=True):
        if sampler is not None:
            row[:] = sampler.sample(shared("prime_demand", sku))
    return base.T.copy(), extra.T.copy()


class ReplicationError(RuntimeError):
    """A replication that raised: names the strategy, replication and seed to rerun it alone.
    ``done`` holds the results of the replications of its batch that came before it."""

    def __init__(
        self, strategy: str, replication: int, seed: int, problem: str, done: list | None = None
    ):
        # args: picklable across workers
        super().__init__(strategy, replication, seed, problem, done or [])
        self.strategy, self.replication, self.seed, self.problem = (
            strategy,
            replication,
            seed,
            problem,
        )
        self.done: list[list[Measured]] = done or []

    def __str__(self) -> str:
        return (
            f"replication {self.replication} of strategy {self.strategy!r} failed (seed "
            f"{self.seed}): {self.problem}"
        )


@dataclass(frozen=True)
class Inputs:
    """What replication i draws before simulating: demand (without and with the Prime badge's
    extra customers) and the lead-time uniforms of every lane stream."""

    demand: np.ndarray
    extra: np.ndarray | None
    uniforms: dict[tuple[str, ...], np.ndarray]
    channels: np.ndarray | None = None  # (days, channels, skus) demand besides Amazon's


def draw_inputs(model: Model, replication: int) -> Inputs:
    """Replication ``replication``'s demand and lead-time uniforms (the same for every
    strategy: common random numbers). The arrays are read-only: candidates may share them."""
    streams = Streams(model.seed, replication)
    demand, extra = draw_demand(model, streams)
    days = model.calendar.days
    uniforms = {s: streams.shared(*s).random(days) for s in model.lead_streams}
    channels = draw_channel_demand(model, streams) if model.catalog.channels else None
    for a in (demand, extra, channels, *uniforms.values()):
        if a is not None:
            a.flags.writeable = False
    return Inputs(demand, extra, uniforms, channels)


def draw_channel_demand(model: Model, streams: Streams) -> np.ndarray:
    """(days, channels, skus) whole units demanded on each channel besides Amazon, each
    (channel, SKU) from its own stream ``("channel_demand", channel, sku)``: the same for every
    strategy, and independent of Amazon's demand and of the other channels."""
    cat = model.catalog
    out = np.zeros((model.calendar.days, len(cat.channels), len(cat.ids)), dtype=np.int64)
    for k, channel in enumerate(cat.channels):
        for j, (sku, sampler) in enumerate(zip(cat.ids, channel.demand, strict=True)):
            if sampler is not None:
                out[:, k, j] = sampler.sample(streams.shared("channel_demand", channel.name, sku))
    return out


def run_strategy(
    model: Model, strategy: StrategyModel, replication: int, inputs: Inputs
) -> Measured:
    """Simulate and measure one strategy on replication ``replication``'s inputs."""
    return run_strategy_batch(model, strategy, [replication], [inputs])[0]


def simulate_inputs(
    model: Model, strategy: StrategyModel, inputs: list[Inputs], streams: list[Streams]
) -> list:
    """The traces of a batch of replications of one strategy from their drawn ``inputs``: lead
    (and FBA check-in) times from each lane's uniforms, then ``engine.simulate_batch``."""
    leads = []
    for got in inputs:
        lead_days = {}
        for lane in strategy.lanes:
            lead_days[lane.stream] = lead = lane.sample_lead(got.uniforms[lane.stream])
            if lane.check_in is not None:
                stream = lane.check_in_stream
                lead_days[stream] = lane.sample_check_in(got.uniforms[stream], lead)
        leads.append(lead_days)
    extra = None if inputs[0].extra is None else [got.extra for got in inputs]
    return simulate_batch(
        strategy,
        model.catalog,
        [got.demand for got in inputs],
        leads,
        streams,
        model.calendar.start_weekday,
        extra_demand=extra,
        check=model.check,
        channel_demand=None if inputs[0].channels is None else [got.channels for got in inputs],
    )


def run_strategy_batch(
    model: Model,
    strategy: StrategyModel,
    replications: list[int],
    inputs: list[Inputs],
    seasonal: bool = False,
) -> list[Measured]:
    """Simulate a batch of replications of one strategy side by side (``engine.simulate_batch``)
    and measure each; the same numbers as one at a time. ``seasonal`` adds the results by
    month and the shipment plan's numbers (``Measured.months``, ``Measured.plan``)."""
    streams = [Streams(model.seed, r) for r in replications]
    traces = simulate_inputs(model, strategy, inputs, streams)
    cal = model.calendar
    out = []
    for r, trace, stream in zip(replications, traces, streams, strict=True):
        measured = measure(trace, strategy, model.catalog, cal, stream)
        if r < PATH_REPLICATIONS:
            paths = trace.on_hand[:, :, model.path_skus].astype(np.int32)
            measured = dataclasses.replace(measured, paths=paths)
        if seasonal:
            months = measure_months(trace, strategy, model.catalog, cal, stream)
            if model.check:
                check_months(months, measured.total, strategy.name)
            plan = plan_part(trace, strategy, cal) if r < plan_cap(model) else None
            measured = dataclasses.replace(measured, months=months, plan=plan)
        out.append(measured)
    return out


def run_replication(model: Model, replication: int) -> list[Measured]:
    """Run every strategy on replication ``replication``; one ``Measured`` per strategy.
    Raises ReplicationError (naming strategy, replication and seed) if anything fails."""
    where = "(demand and lead times)"
    try:
        if model.uncertain is not None:
            where = "(uncertain inputs)"
            model = model.uncertain.model_for(model, replication)
            where = "(demand and lead times)"
        inputs = draw_inputs(model, replication)
        results = []
        for strategy in model.strategies:
            where = strategy.name
            got = run_strategy_batch(model, strategy, [replication], [inputs], seasonal=True)
            results.append(got[0])
        return results
    except Exception as e:  # any failure is reported with where it happened
        raise ReplicationError(where, replication, model.seed, f"{type(e).__name__}: {e}") from e


def run_batch(model: Model, replications: range) -> list[list[Measured]]:
    """``run_replication`` for each of ``replications``, simulated side by side (the same
    numbers). If anything fails, the replications are rerun one at a time, so that the
    ReplicationError names the first that fails alone. With uncertain inputs each replication
    has a model of its own (``sim.uncertain``), so they run one at a time."""
    if model.uncertain is not None:
        done = []
        for r in replications:
            try:
                done.append(run_replication(model, r))
            except ReplicationError as failed:
                raise ReplicationError(*failed.args[:4], done) from failed.__cause__
        return done
    try:
        inputs = [draw_inputs(model, r) for r in replications]
        reps = list(replications)
        by_strategy = [
            run_strategy_batch(model, st, reps, inputs, seasonal=True) for st in model.strategies
        ]
        return [list(measured) for measured in zip(*by_strategy, strict=True)]
    except Exception as e:
        done = []
        for r in replications:  # one at a time: the first that fails alone is the culprit
            try:
                done.append(run_replication(model, r))
            except ReplicationError as failed:
                raise ReplicationError(*failed.args[:4], done) from failed.__cause__
        problem = f"failed only in a batch ({type(e).__name__}: {e})"
        raise ReplicationError("(batch)", replications.start, model.seed, problem) from e


def each_replication(results: Iterable[list[list[Measured]]]) -> Iterator[list[Measured]]:
    """The replications of consecutive batches' results, in order; when a batch failed, those
    of its replications that finished come before its ReplicationError."""
    try:
        for batch in results:
            yield from batch
    except ReplicationError as e:
        yield from e.done
        e.done = []
        raise


def batch_size(model: Model) -> int:
    """Replications simulated side by side: up to ``BATCH_REPLICATIONS``, fewer when one
    replication's daily records are large (``BATCH_BYTES`` for the batch)."""
    widths = [3 + 2 * len(st.nodes) + len(st.lanes) + 4 * len(st.fulfil) for st in model.strategies]
    for i, st in enumerate(model.strategies):  # channels: demand, shipped per node, shippers
        for route in st.channel_routes:
            widths[i] += 1 + len(st.nodes) + 4 * len(route.nodes)
    return batch_for(model.calendar.days, len(model.catalog.ids), widths)


def batch_for(days: int, skus: int, widths: list[int]) -> int:
    """``batch_size`` from the sizes alone: ``widths`` are each strategy's daily records per
    SKU-day, in 8-byte words (3 + 2 · nodes + lanes + 4 · fulfilment nodes)."""
    per_replication = max(1, 8 * days * skus * max(widths))
    return max(1, min(BATCH_REPLICATIONS, BATCH_BYTES // per_replication))


BATCH_REPLICATIONS = 16  # past about 10, wider days no longer pay (measured on workload W)
BATCH_BYTES = 64 * 2**20


def batches(replications: range, size: int) -> list[range]:
    """``replications`` cut into consecutive ranges of at most ``size``."""
    return [
        range(a, min(a + size, replications.stop))
        for a in range(replications.start, replications.stop, size)
    ]


@dataclass
class Results:
    """Per-replication strategy totals and running per-SKU moments, in replication order."""

    model: Model
    totals: np.ndarray  # (reps_done, strategies, metrics)
    sku_count: np.ndarray  # (strategies, metrics, skus) replications with a value
    sku_mean: np.ndarray
    sku_m2: np.ndarray  # sum of squared deviations (Welford)
    complete: bool
    paths: list[list[np.ndarray]] = field(default_factory=list)  # [strategy][rep] (days, nodes, k)
    error: ReplicationError | None = None  # the replication that failed, if one did
    first: int = 0  # index of the first replication (``run --replication N``)
    months: np.ndarray | None = None  # (reps_done, strategies, months, MONTH_METRICS)
    plan: PlanStore | None = None  # the first replications' shipment plans
    # (reps_done, strategies, 1 + channels, CHANNEL_METRICS) when the scenario has channels
    channels: np.ndarray | None = None

    @property
    def replications(self) -> int:
        return self.totals.shape[0]

    def totals_only(self) -> RunTotals:
        """This run's strategy totals (``RunTotals``), to keep when the rest is not needed."""
        m = self.model
        return RunTotals(
            self.totals, m.strategy_names, m.baseline, m.confidence, m.seed, self.complete
        )

    def month_labels(self) -> list[str]:
        """``"YYYY-MM"`` of each month of ``months`` (the counted days' calendar months)."""
        return [label for label, _, _ in month_windows(self.model.calendar)]

    def inventory_paths(self) -> dict[str, dict[str, dict[str, np.ndarray]]]:
        """End-of-day on-hand paths of the top SKUs (by mean demand) at every node each
        strategy uses: ``{strategy: {node: {sku: (replications kept, days)}}}``, from the first
        ``PATH_REPLICATIONS`` replications (for fan charts)."""
        out: dict[str, dict[str, dict[str, np.ndarray]]] = {}
        ids = self.model.catalog.ids
        for s, strategy in enumerate(self.model.strategies):
            if not self.paths or not self.paths[s]:
                continue
            stack = np.stack(self.paths[s])  # (reps, days, nodes, k)
            out[strategy.name] = {
                node.name: {ids[j]: stack[:, :, n, i] for i, j in enumerate(self.model.path_skus)}
                for n, node in enumerate(strategy.nodes)
            }
        return out


@dataclass(frozen=True)
class RunTotals:
    """A finished run as the commands that compare many runs keep it (``sweep``,
    ``sensitivity``): every replication's strategy totals and what reading them needs, without
    the compiled model and the per-SKU results (about 60 MB a run at 10,000 SKUs)."""

    totals: np.ndarray  # (replications, strategies, metrics)
    strategy_names: list[str]
    baseline: str
    confidence: float
    seed: int
    complete: bool

    @property
    def replications(self) -> int:
        return self.totals.shape[0]


class Accumulator:
    """Reduces replications as they arrive (Welford for per-SKU moments), in order."""

    def __init__(self, model: Model):
        shape = (len(model.strategies), len(METRICS), len(model.catalog.ids))
        self.model = model
        self.totals: list[np.ndarray] = []
        self.count = np.zeros(shape)
        self.mean = np.zeros(shape)
        self.m2 = np.zeros(shape)
        self.paths: list[list[np.ndarray]] = [[] for _ in model.strategies]
        self.months: list[np.ndarray] = []
        self.plan = PlanStore(len(model.strategies))
        self.channels: list[np.ndarray] = []

    def add(self, measured: list[Measured]) -> None:
        self.totals.append(np.stack([m.total for m in measured]))
        for s, m in enumerate(measured):
            if m.paths is not None:
                self.paths[s].append(m.paths)
            if m.plan is not None:
                self.plan.add(s, m.plan)
        if all(m.months is not None for m in measured):
            self.months.append(np.stack([m.months for m in measured]))
        if self.model.catalog.channels:  # per-channel totals only when there are channels
            self.channels.append(np.stack([m.channels for m in measured]))
        x = np.stack([m.skus for m in measured])
        ok = ~np.isnan(x)
        self.count += ok
        delta = np.where(ok, x - self.mean, 0.0)
        self.mean += np.where(ok, delta / np.maximum(self.count, 1), 0.0)
        self.m2 += np.where(ok, delta * (x - self.mean), 0.0)

    def results(self, complete: bool) -> Results:
        n_metrics = len(METRICS)
        totals = (
            np.stack(self.totals)
            if self.totals
            else np.zeros((0, len(self.model.strategies), n_metrics))
        )
        months = None
        if self.months and len(self.months) == len(self.totals):
            months = np.stack(self.months)
        elif not self.totals:
            shape = (0, len(self.model.strategies), len(month_windows(self.model.calendar)))
            months = np.zeros((*shape, len(MONTH_METRICS)))
        channels = None
        if self.model.catalog.channels:
            from sim.metric_names import CHANNEL_METRICS

            shape = (len(self.model.strategies), 1 + len(self.model.catalog.channels))
            channels = (
                np.stack(self.channels)
                if self.channels and len(self.channels) == len(self.totals)
                else np.zeros((0, *shape, len(CHANNEL_METRICS)))
            )
        return Results(
            self.model,
            totals,
            self.count,
            self.mean,
            self.m2,
            complete,
            self.paths,
            months=months,
            plan=self.plan,
            channels=channels,
        )


_WORKER_MODEL: Model | None = None


def _init_worker(model: Model) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = model


def _work(replications: range) -> list[list[Measured]]:
    return run_batch(_WORKER_MODEL, replications)


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


Runner = Callable[[range], Iterator[list[Measured]]]

# Backends other than local processes plug into the runner: ``name -> "module:function"``, the
# function a context manager ``(model, workers, scheduler) -> Runner`` built on this module's
# ``run_batch`` / ``each_replication``. The module is imported only when its backend is used
# (Dask is an optional extra), and this module never imports it by name.
BACKENDS = {"dask": "sim.dask_backend:dask_runner"}


def plugged_in(backend: str) -> Callable:
    """The runner factory of ``backend`` (see ``BACKENDS``)."""
    module, attr = BACKENDS[backend].split(":")
    return getattr(importlib.import_module(module), attr)


@contextmanager
def runner(
    model: Model, workers: int, backend: str = "local", scheduler: str | None = None
) -> Iterator[Runner]:
    """A function that yields replications' results in replication order, computed serially,
    by ``workers`` local processes, or on Dask (``backend="dask"``: a local cluster of
    ``workers`` processes, or the scheduler at ``scheduler``). Workers start once per context."""
    if backend != "local":
        with plugged_in(backend)(model, workers, scheduler) as run_elsewhere:
            yield run_elsewhere
        return
    size = batch_size(model)
    if workers <= 1:
        yield lambda replications: each_replication(
            run_batch(model, batch) for batch in batches(replications, size)
        )
        return
    from sim.workers import Pool  # only when there are workers to start

    with Pool(workers, initializer=_init_worker, initargs=(model,)) as pool:

        def run_in_pool(replications: range) -> Iterator[list[Measured]]:
            if len(replications) <= 1:
                return (run_replication(model, r) for r in replications)
            # several batches per worker, so that they finish together
            each = max(1, min(size, len(replications) // (workers * 4)))
            return each_replication(pool.imap(_work, batches(replications, each)))

        yield run_in_pool


@dataclass(frozen=True)
class Precision:
    """Stop adding replications once every strategy's interval on ``metric`` has a half-width of
    at most ``half_width`` (strategy totals, at the scenario's confidence), or at ``max_reps``."""

    metric: str
    half_width: float
    max_reps: int

    def widest(self, totals: np.ndarray, confidence: float) -> float | None:
        """The widest half-width of the strategies' intervals on ``metric`` (None while some
        strategy has fewer than two values: no spread to go by yet)."""
        k = METRICS.index(self.metric)
        worst = 0.0
        for s in range(totals.shape[1]):
            half = interval(totals[:, s, k], confidence).half_width
            if half is None:
                return None
            worst = max(worst, half)
        return worst

    def record(self, totals: np.ndarray, confidence: float) -> dict:
        """``summary.json``'s ``precision``: ``{metric, target, reached, half_width}``."""
        worst = self.widest(totals, confidence) if len(totals) else None
        return {
            "metric": self.metric,
            "target": self.half_width,
            "reached": worst is not None and worst <= self.half_width,
            "half_width": worst,
        }

    def needed(self, totals: np.ndarray, confidence: float) -> int:
        """Replications that should reach the precision, from the spread seen so far (the
        half-width shrinks like 1/√n); 0 when it is already reached."""
        n = totals.shape[0]
        worst = self.widest(totals, confidence)
        if worst is None:
            return n + 10  # fewer than two values: no spread to go by yet
        if worst <= self.half_width:
            return 0
        ratio = worst / self.half_width
        if not ratio < 1e6:  # squared, past any max_reps (and a float's range)
            return 10**12
        return math.ceil(n * ratio**2 * 1.1)


def run(
    model: Model,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    precision: Precision | None = None,
    more: Callable[[int], None] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    first: int = 0,
) -> Results:
    """Run all replications; Ctrl-C keeps those finished and marks the result incomplete, and
    so does a replication that fails (``Results.error`` says which, to rerun it alone with
    ``first=N`` and one replication).

    With ``precision``, replications are added in batches after the scenario's count (the same
    replication indices, hence seeds, a fixed run of that size would use) until the precision is
    reached or ``precision.max_reps``; ``more(n)`` is told of each batch of n added.
    ``backend`` and ``scheduler`` choose where replications run (see ``runner``); the numbers
    do not depend on it.
    """
    acc = Accumulator(model)
    complete, error = True, None
    done, target = first, first + model.replications
    try:
        with interrupts.live(), runner(model, workers, backend, scheduler) as run_batch:
            while done < target:
                for measured in run_batch(range(done, target)):
                    with interrupts.held():  # a replication is counted whole or not at all
                        acc.add(measured)
                    if progress:
                        progress(1)
                    interrupts.check()
                done = target
                if precision is not None:
                    needed = precision.needed(np.stack(acc.totals), model.confidence)
                    if needed:
                        target = first + min(precision.max_reps, max(needed, done - first + 10))
                        if more and target > done:
                            more(target - done)
    except KeyboardInterrupt:
        complete = False
    except WorkerLost:
        if interrupts.received() is None:  # not a stop asked for: a real failure
            raise
        complete = False
    except ReplicationError as e:
        complete, error = False, e
    results = acc.results(complete)
    results.error = error
    results.first = first
    return results
