"""How long a command will take: ``--estimate`` and the note before a run longer than a minute.

The simulation's cost per replication varies by a factor of 20 between strategies of the same
size (an SFP node's daily badge checks, FBA's daily fee tables and check-in delays, a seller
node's per-order account-health draws, a backlog), far more than any count of SKU-days can
tell. So the estimate times a short **pilot**: the first ``PILOT_REPLICATIONS`` replications of
every strategy, simulated side by side as a run does, in CPU time (so that other processes on a
busy machine do not inflate it), then scales that up to the run's replications over its workers
and adds start-up, the workers' start and the report; on a machine busy with other work the
whole is stretched by the share of the cores it will get, judged from the share the pilot got
(its CPU time ÷ its wall time; the 1-minute load average lags by minutes). A rough figure from the sizes alone
(``budget.run_seconds``, which never overstates the simulation by much) decides whether a run is
long enough for the pilot to be worth its cost before the automatic note; ``--estimate`` always
runs it. Calibrated on the bundled scenarios at 100 and 2,000 replications (``bench/estimate.py``
prints estimate against actual).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from sim import montecarlo
from sim.budget import LONG_RUN_SECONDS, Need, Shape, run_seconds

PILOT_REPLICATIONS = 4  # simulated side by side; their cost is ≤ 1 % of a run worth timing
# a replication in a batch of 16 costs about this share of one in a batch of 4 (bundled
# scenarios: 0.7 to 1.0; 1 measured closer at 2,000 replications, where the workers' pipes and
# memory traffic take back what the wider batch saves)
BATCH_GAIN = 1.0
# the parent's own work per replication and strategy while the workers simulate (its share of
# the cores): the running moments per SKU, the months, the plan (starter: about 0.6 ms)
REDUCE_SECONDS = 5e-4
STARTUP_SECONDS = 0.8  # Python, numpy, pydantic, SimPy, click; loading and checking the scenario
# and per SKU: reading the scenario file, checking it (1,000 SKUs: 0.45 s, 10,000: 3.3 s); each
# further grid point of sweep / sensitivity is checked again from the parsed file and packed
# (10,000 SKUs: 1.1 s to validate, 0.3 s to copy, pack and unpack)
LOAD_SECONDS_PER_SKU = 3.5e-4
POINT_SECONDS_PER_SKU = 1.5e-4
WORKER_START_SECONDS = 0.1  # each local worker process (forked)
DASK_START_SECONDS = 3.0  # a local Dask cluster
# matplotlib and the charts of report.html, each in a wide and a phone layout (bundled, 3 December
# 2026 on a quiet machine: 2.7 to 3.9 s, matplotlib's import about 0.9 s of it; an earlier
# measurement gave 0.9 to 1.7 s)
REPORT_SECONDS = 3.0
# summarizing and writing the files, per strategy × SKU × metric and per row (1,000 SKUs: 1.2e-5,
# 10,000: 6.7e-6; the fixed part weighs less)
WRITE_SECONDS_PER_ROW = 1e-5
MIN_PILOT_WALL = 0.02  # a pilot shorter than this tells nothing of the machine's load
_others: float | None = None  # other processes the last pilot shared the cores with
PILOT_ABOVE_SECONDS = 2.0  # rough simulation time above which the note pilots first
# optimize: each search step reruns one strategy on the cached replication inputs (demand and
# lead times drawn once), about this many steps per searched node, plus one confirmation run
OPTIMIZE_RUNS_PER_NODE = 8
OPTIMIZE_RUN_SHARE = 0.8  # a step on cached inputs against a run that draws them
# and the parent's share, serial: per-SKU results of every replication, for every candidate
# (starter: 2.5 ms a replication a step, against 4 ms of simulation)
OPTIMIZE_PARENT_SHARE = 0.6
# assign: moves tried per node its routes use (catalog-50: 2 nodes, 16 passes in all), and a
# pass's CPU time against a run's per strategy (cached inputs; the parent's share of the per-SKU
# results overlaps the workers: catalog-50 at 2,000 replications, 33.6 s a pass against 30.7 s)
ASSIGN_MOVES_PER_NODE = 4
ASSIGN_PASS_SHARE = 0.9


@dataclass(frozen=True)
class Estimate:
    """Seconds and peak memory of a command, on ``workers`` workers."""

    seconds: float
    memory: int  # bytes
    workers: int

    def line(self) -> str:
        """``estimate: about N s, M MB on W workers``."""
        plural = "" if self.workers == 1 else "s"
        return (
            f"estimate: about {_round(self.seconds)} s, {_round(self.memory / 2**20)} MB on "
            f"{self.workers} worker{plural}"
        )


def _round(x: float) -> str:
    """Two significant figures, at least 1, with thousands separators."""
    if x < 1:
        return "1"
    digits = len(str(int(x)))
    return f"{round(x, 2 - digits):,.0f}"


def replication_seconds(model, replications: int = PILOT_REPLICATIONS) -> float:
    """CPU seconds of one replication of every strategy of the compiled ``model``, from a pilot
    of its first replications side by side, as a run's batches of 16 would cost them."""
    global _others
    k = max(1, min(replications, model.replications))
    t0, w0 = time.process_time(), time.perf_counter()
    montecarlo.run_batch(model, range(k))
    spent, wall = time.process_time() - t0, time.perf_counter() - w0
    _others = others_from(spent / wall) if wall >= MIN_PILOT_WALL else None
    return spent / k * (BATCH_GAIN if model.replications > k else 1.0)


def others_from(share: float) -> float:
    """Other processes wanting the cores, from the share of a core the pilot got (CPU ÷ wall
    time): n others and the pilot on C cores give it C ÷ (n + 1) of one. A share near 1 says
    only that there was a core to spare: counted as none."""
    if share >= 0.9:
        return 0.0
    return max(0.0, cores() / max(share, 1e-3) - 1)


def cores() -> int:
    """Cores this process may use."""
    return montecarlo.default_workers()


def load() -> float:
    """Processes already running or waiting for a core: as the last pilot found them (the
    load of the moment), else the 1-minute load average (0 where the system does not tell)."""
    if _others is not None:
        return _others
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        return 0.0


def sharing(parallel: int) -> float:
    """How much slower than alone the run's ``parallel`` processes go on a busy machine: with
    ``load`` other processes wanting the cores too, each gets cores ÷ (load + parallel) of one
    (1 when there are cores to spare)."""
    return max(1.0, (load() + parallel) / cores())


def simulation_seconds(per_replication: float, replications: int, workers: int) -> float:
    """Wall seconds of ``replications`` at ``per_replication`` CPU seconds each over ``workers``
    (no faster than the cores allow, slower while other processes share them), the workers'
    start included."""
    parallel = max(1, min(workers, replications, cores()))
    start = WORKER_START_SECONDS * workers if workers > 1 else 0.0
    return per_replication * replications / parallel * sharing(parallel) + start


def overhead_seconds(shape: Shape, backend: str, report: bool) -> float:
    """What a command costs besides the simulation: start-up and reading the scenario, building
    Amazon's fee tables, writing the results, the report (one process: slower while others
    share the cores)."""
    from sim.metric_names import METRICS

    rows = len(shape.strategies) * (shape.skus * len(METRICS) + shape.replications)
    out = STARTUP_SECONDS + LOAD_SECONDS_PER_SKU * shape.skus + compile_seconds(shape)
    out += WRITE_SECONDS_PER_ROW * rows
    if backend == "dask":
        out += DASK_START_SECONDS
    return (out + (REPORT_SECONDS if report else 0.0)) * sharing(1)


def compile_seconds(shape: Shape) -> float:
    """Building the model: Amazon's fee tables (the rest is small beside them)."""
    from sim.budget import FEE_SKU_DAYS_PER_SECOND

    return shape.fee_sku_days / FEE_SKU_DAYS_PER_SECOND


def run_estimate(
    model, shape: Shape, need: Need, workers: int, backend: str = "local", report: bool = True
) -> Estimate:
    """``run``: the pilot scaled to the run's replications (``shape.replications``, which is
    ``--precision``'s cap when given)."""
    per = replication_seconds(model) + REDUCE_SECONDS * len(shape.strategies)
    sim = simulation_seconds(per, shape.replications, workers)
    return Estimate(sim + overhead_seconds(shape, backend, report), need.total, workers)


def sweep_estimate(scenarios, shapes: list[Shape], need: Need, workers: int, backend: str):
    """``sweep`` (and ``sensitivity``): the first and the last grid point piloted (volume
    changes the cost; the points between are taken at their mean), one start-up and read of
    the file; each point checked, compiled and simulated (no per-SKU files)."""
    from sim.model import compile_scenario

    ends = [0, len(scenarios) - 1] if len(scenarios) > 1 else [0]
    per = sum(replication_seconds(compile_scenario(scenarios[i])) for i in ends) / len(ends)
    per += REDUCE_SECONDS * len(shapes[0].strategies)
    seconds = (STARTUP_SECONDS + LOAD_SECONDS_PER_SKU * shapes[0].skus) * sharing(1)
    seconds += DASK_START_SECONDS if backend == "dask" else 0.0
    for shape in shapes:
        seconds += simulation_seconds(per, shape.replications, workers)
        seconds += (POINT_SECONDS_PER_SKU * shape.skus + compile_seconds(shape)) * sharing(1)
    return Estimate(seconds, need.total, workers)


def optimize_estimate(model, shape: Shape, need: Need, workers: int, searched: int, backend: str):
    """``optimize``: ``searched`` (strategy, node) pairs, a few search steps each, every step a
    pass of one strategy over the replications (the pilot's per-strategy share) on the workers
    and its results taken apart in the parent."""
    per_strategy = replication_seconds(model) / max(1, len(shape.strategies))
    runs = searched * OPTIMIZE_RUNS_PER_NODE + len(shape.strategies)
    one = simulation_seconds(per_strategy * OPTIMIZE_RUN_SHARE, shape.replications, workers)
    one += per_strategy * OPTIMIZE_PARENT_SHARE * shape.replications * sharing(1)
    seconds = overhead_seconds(shape, backend, report=False) + runs * one
    return Estimate(seconds, need.total, workers)


def assign_estimate(
    model, shape: Shape, need: Need, workers: int, routes: int, nodes: int, backend: str
) -> Estimate:
    """``assign``: whole-catalog passes of one strategy over the replications (on inputs drawn
    once, as ``optimize``'s steps): one per candidate route, the same again without coupling
    (when the scenario has any), the template, the start, and about ``ASSIGN_MOVES_PER_NODE``
    moves tried per node the routes use."""
    per_strategy = replication_seconds(model) / max(1, len(shape.strategies))
    runs = 2 * routes + 2 + ASSIGN_MOVES_PER_NODE * nodes
    one = simulation_seconds(per_strategy * ASSIGN_PASS_SHARE, shape.replications, workers)
    seconds = overhead_seconds(shape, backend, report=False) + runs * one
    return Estimate(seconds, need.total, workers)


def searched_nodes(scenario, chosen: list[int], every_month: bool = False) -> int:
    """(strategy, node) pairs ``optimize`` searches among the ``chosen`` strategies: nodes
    refilled by an ``order_up_to`` policy (and ``forecast_up_to`` with ``--every-month``)."""
    kinds = {"order_up_to", "forecast_up_to"} if every_month else {"order_up_to"}
    return sum(
        rep.policy.type in kinds
        for i in chosen
        for rep in scenario.strategies[i].replenish.values()
    )


def worth_a_pilot(shape: Shape, workers: int) -> bool:
    """Whether a run may be long enough (rough figure from its sizes) to time a pilot first."""
    return run_seconds(shape, workers) > PILOT_ABOVE_SECONDS


def long_note(estimate: Estimate, what: str = "run") -> str | None:
    """The note before a command longer than a minute (None when it is shorter)."""
    if estimate.seconds <= LONG_RUN_SECONDS:
        return None
    minutes = estimate.seconds / 60
    took = f"{minutes:,.0f} minutes" if minutes >= 2 else f"{estimate.seconds:,.0f} s"
    tail = "; fewer replications, SKUs or a shorter horizon_days make it shorter"
    return (
        f"a large {what}: about {took} on {estimate.workers} worker"
        f"{'' if estimate.workers == 1 else 's'} ({estimate.line()}); Ctrl-C keeps what is "
        f"finished{tail if estimate.seconds > 3600 else ''}"
    )
