"""Safety-stock search: the smallest order-up-to level per (SKU, stocked node) meeting a target.

``optimize`` changes only the ``level`` of a strategy's ``order_up_to`` lanes (and the initial
on-hand that defaults to it) and reruns the engine on common random numbers: every candidate
level sees replication i's same demand, lead times and transit draws. Replication inputs
(demand and lead-time uniforms) are drawn once and reused for every candidate.

Target (``--target METRIC>=VALUE``): for each SKU, the smallest level whose per-SKU metric
interval (Student t over replications, the scenario's confidence) has its lower bound ≥ VALUE.
Per-replication service is monotone non-decreasing in the level (pathwise, for base-stock on
common random numbers), so the smallest level is found by a safeguarded search on integer
levels: start at the classic formula's level, jump to where a normal model (then the secant
through the scores seen, in probit space) puts the crossing until one level meets the target
and one misses it, then shrink that bracket by secant steps, with bisection steps as the
safeguard, until the two levels are neighbours (``smallest_meeting``). In a
strategy, SKU j's service depends only on SKU j's levels unless something couples the SKUs (an
FBA capacity limit, a daily order capacity, a node-wide Prime badge), so every SKU of a node is
searched at once, each with its own bracket, all evaluated in the same runs. A final
confirmation run at the recommended levels gives the reported intervals and total cost; a SKU
that a coupling pushed below its target there is searched again upward (at most
``REPAIR_ROUNDS`` times).

Several stocked nodes: node by node, holding the nodes not yet searched at their scenario levels
and those already searched at their recommended levels, so the recommended combination is the
one the last search checked. Order: the nodes that ship to customers from the last backup to the
primary (the primary, searched last, carries the service; searching it first would let a
generous backup take all the stock), then the nodes that only feed others, nearest the customers
first. This is a coordinate-wise optimum that depends on that order and on the scenario's
levels, not a joint least-cost optimum over all nodes.

Profit (``--objective profit``): per SKU, the level maximising the mean per-SKU profit, found by
walking uphill from the newsvendor level to a bracket and Brent-style parabolic and
golden-section steps on integers (ties go to the smaller level); this assumes mean profit is
unimodal in the level. The search stops early once the profit at both ends of its bracket is
statistically tied with the best level's (paired interval over replications holds 0).

Lanes with ``s_S`` or ``s_Q`` policies are not searched: they keep their scenario values (and
say so in the strategy's notes).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from sim import interrupts
from sim import scenario as sc
from sim.distributions import total_days, z_value
from sim.errors import UserError
from sim.metric_names import INDEX, METRICS, TARGET_METRICS
from sim.metrics import bounded
from sim.model import Lane, Model, StrategyModel, protection_demand
from sim.montecarlo import (
    Inputs,
    batch_size,
    batches,
    draw_inputs,
    run_strategy,
    run_strategy_batch,
)
from sim.stats import Interval, interval, paired
from sim.table import fmt, render
from sim.workers import WorkerLost

WHERE = "--target"
REPAIR_ROUNDS = 3
CACHE_BYTES = 256 * 2**20  # replication inputs kept in memory at most (else drawn again)
ROWS = (INDEX["cycle_service_level"], INDEX["fill_rate"], INDEX["on_time_rate"], INDEX["profit"])
ROW = {k: i for i, k in enumerate(ROWS)}


# --------------------------------------------------------------------------- the question


@dataclass(frozen=True)
class Target:
    """``METRIC>=VALUE``: the per-SKU interval lower bound of METRIC must reach VALUE."""

    metric: str
    value: float


@dataclass(frozen=True)
class Objective:
    """What the search optimises: a service target, or (``target`` None) per-SKU profit."""

    target: Target | None = None

    @property
    def metric(self) -> str:
        return self.target.metric if self.target else "profit"

    @property
    def kind(self) -> str:
        return "target" if self.target else "profit"


def parse_target(text: str) -> Target:
    """Read ``METRIC>=VALUE`` (VALUE in (0, 1], or a percentage like ``95%``)."""
    m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|≥|<=|≤|=|>|<)\s*(\S+)\s*", text)
    if not m:
        raise UserError(
            (WHERE, f"{text!r}: expected METRIC>=VALUE, e.g. cycle_service_level>=0.95")
        )
    metric, op, raw = m.groups()
    if metric not in TARGET_METRICS:
        if metric in METRICS:
            hint = " (use --objective profit)" if metric == "profit" else ""
            raise UserError(
                (
                    WHERE,
                    f"{metric} cannot be a target{hint}; targets: {', '.join(TARGET_METRICS)}",
                )
            )
        raise UserError(
            (
                WHERE,
                f"unknown metric {metric!r}{sc._did_you_mean(metric, TARGET_METRICS)}"
                f" (targets: {', '.join(TARGET_METRICS)})",
            )
        )
    if op not in (">=", "≥"):
        raise UserError((WHERE, f"{text!r}: only METRIC>=VALUE targets (service rises with stock)"))
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UserError((WHERE, f"{raw!r} is not a number")) from None
    if not (math.isfinite(value) and 0 < value <= 1):
        raise UserError((WHERE, f"{raw!r}: the value must be a share in (0, 1], e.g. 0.95"))
    return Target(metric, value)


def select_strategies(model: Model, names: tuple[str, ...] | list[str]) -> list[int]:
    """Indices of the strategies named by ``--strategy`` (all when none is given)."""
    known = model.strategy_names
    if not names:
        return list(range(len(known)))
    out = []
    for name in names:
        if name not in known:
            raise UserError(
                (
                    "--strategy",
                    f"no strategy named {name!r}{sc._did_you_mean(name, known)}"
                    f" (strategies: {', '.join(known)})",
                )
            )
        if known.index(name) not in out:
            out.append(known.index(name))
    return out


# --------------------------------------------------------------------------- evaluation


def with_levels(
    strategy: StrategyModel, levels: dict[int, np.ndarray], fixed: frozenset[int]
) -> StrategyModel:
    """``strategy`` with the order-up-to level of the lanes into the nodes of ``levels`` replaced;
    the initial on-hand of those nodes follows the level unless the scenario set it (``fixed``)."""
    lanes = list(strategy.lanes)
    initial = strategy.initial_on_hand.copy()
    for i, lane in enumerate(lanes):
        if lane.node in levels and _searchable(lane):
            lanes[i] = dataclasses.replace(lane, level=np.asarray(levels[lane.node], np.int64))
            if lane.node not in fixed:
                initial[lane.node] = lanes[i].initial_level
    return dataclasses.replace(strategy, lanes=tuple(lanes), initial_on_hand=initial)


def evaluate(
    model: Model, strategy: StrategyModel, replication: int, inputs: Inputs | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One replication of one strategy: (len(ROWS), skus) per-SKU metrics and (metrics,) totals,
    computed by ``montecarlo.run_strategy`` (so a candidate at the scenario's levels reproduces
    ``run``'s numbers), with the inputs optionally cached."""
    if inputs is None:
        inputs = draw_inputs(model, replication)
    measured = run_strategy(model, strategy, replication, inputs)
    return measured.skus[list(ROWS)], measured.total


@dataclass(frozen=True)
class Task:
    """Replications ``start..stop`` of strategy ``strategy`` at the given node levels."""

    strategy: int
    levels: dict[int, np.ndarray]
    fixed: frozenset[int]
    start: int
    stop: int


class _Worker:
    """The model and the replication inputs a process evaluates candidates with: ``inputs``
    drawn beforehand (shared by forked workers), or drawn on first use and kept while they fit
    in ``cache_bytes`` (a Dask worker keeps this object between tasks)."""

    def __init__(self, model: Model, inputs: list[Inputs] | None, cache_bytes: int = 0):
        self.model = model
        self.inputs = inputs
        self.kept: dict[int, Inputs] = {}
        self.room = cache_bytes

    def _inputs(self, r: int) -> Inputs:
        if self.inputs is not None:
            return self.inputs[r]
        if r in self.kept:
            return self.kept[r]
        got = draw_inputs(self.model, r)
        size = got.demand.nbytes * (1 if got.extra is None else 2)
        size += sum(u.nbytes for u in got.uniforms.values())
        if size <= self.room:
            self.kept[r] = got
            self.room -= size
        return got

    def __call__(self, task: Task) -> tuple[np.ndarray, np.ndarray]:
        base = self.model.strategies[task.strategy]
        strategy = with_levels(base, task.levels, task.fixed)
        return self.run(strategy, task.start, task.stop, list(ROWS))

    def run(self, strategy, start: int, stop: int, rows: list[int]):
        """Replications ``start`` to ``stop`` of the compiled ``strategy``: the per-SKU metric
        ``rows`` of each (replications, rows, SKUs) and its strategy totals."""
        skus, totals = [], []
        for batch in batches(range(start, stop), batch_size(self.model)):
            inputs = [self._inputs(r) for r in batch]
            for measured in run_strategy_batch(self.model, strategy, list(batch), inputs):
                skus.append(measured.skus[rows])
                totals.append(measured.total)
        return np.stack(skus), np.stack(totals)


_WORKER: _Worker | None = None


def _init_worker(model: Model, inputs: list[Inputs] | None) -> None:
    global _WORKER
    _WORKER = _Worker(model, inputs)


def _work(task: Task) -> tuple[np.ndarray, np.ndarray]:
    return _WORKER(task)


def _dask_work(worker: _Worker, task: Task) -> tuple[np.ndarray, np.ndarray]:
    return worker(task)


@dataclass
class Runs:
    """One candidate's results: per-SKU ``rows`` (reps, len(ROWS), skus), totals (reps, metrics)."""

    skus: np.ndarray
    totals: np.ndarray

    def sku(self, metric: str) -> np.ndarray:
        """(reps, skus) per-replication values of a per-SKU metric."""
        return self.skus[:, ROW[INDEX[metric]], :]

    def total(self, metric: str) -> np.ndarray:
        return self.totals[:, INDEX[metric]]


def _inputs_bytes(model: Model) -> int:
    cal, cat = model.calendar, model.catalog
    per_rep = cal.days * 8 * (len(cat.ids) * (2 if cat.has_uplift else 1) + len(model.lead_streams))
    return model.replications * per_rep


class Evaluator:
    """Runs candidates over every replication: serially, in ``workers`` local processes
    (forked once, sharing the replication inputs drawn beforehand), or on Dask.

    Results are gathered in replication order, so they do not depend on the worker count or
    the backend.
    """

    def __init__(
        self,
        model: Model,
        workers: int = 1,
        backend: str = "local",
        scheduler: str | None = None,
        cache_bytes: int = CACHE_BYTES,
    ):
        self.model = model
        self.reps = model.replications
        self.workers = max(1, min(workers, self.reps))
        self.backend = backend
        self.scheduler = scheduler
        inputs = None
        if backend == "local" and _inputs_bytes(model) <= cache_bytes:
            inputs = [draw_inputs(model, r) for r in range(self.reps)]
        self.local = _Worker(model, inputs, cache_bytes)
        self.cache_bytes = cache_bytes
        self.pool = None
        self.client = None
        self.shared = None
        self.passes = 0

    def __enter__(self) -> Evaluator:
        if self.backend == "dask":
            self._start_dask()
        elif self.workers > 1:
            from sim.workers import Pool

            self.pool = Pool(
                self.workers, initializer=_init_worker, initargs=(self.model, self.local.inputs)
            )
        return self

    def _start_dask(self) -> None:
        from sim.dask_backend import dask_client

        self._dask = dask_client(self.workers, self.scheduler)
        self.client = self._dask.__enter__()
        worker = _Worker(self.model, None, self.cache_bytes)
        self.shared = self.client.scatter(worker, broadcast=True, hash=False)
        self.workers = max(1, sum(self.client.nthreads().values()))

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.kill()
            self.pool = None
        if self.client is not None:
            self._dask.__exit__(None, None, None)
            self.client = None

    def run(self, strategy: int, levels: dict[int, np.ndarray], fixed: frozenset[int]) -> Runs:
        """Every replication of ``strategy`` with these node levels."""
        self.passes += 1
        interrupts.check()
        if self.pool is None and self.client is None:
            skus, totals = self.local(Task(strategy, levels, fixed, 0, self.reps))
            return Runs(skus, totals)
        chunks = min(self.reps, self.workers * 4)
        bounds = np.linspace(0, self.reps, chunks + 1).astype(int)
        tasks = [
            Task(strategy, levels, fixed, int(a), int(b))
            for a, b in itertools.pairwise(bounds)
            if b > a
        ]
        if self.client is not None:
            futures = [
                self.client.submit(_dask_work, self.shared, t, pure=False, retries=3) for t in tasks
            ]
            parts = self.client.gather(futures)
        else:
            parts = self.pool.map(_work, tasks)
        return Runs(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


# --------------------------------------------------------------------------- searches

# A search is a generator: it yields the next level to try and is sent the per-replication
# values of the SKU's metric at that level; it returns the level it recommends (None: none).
Search = Generator[int, np.ndarray, int | None]


def smallest_meeting(
    score: Callable[[np.ndarray], float],
    goal: float,
    start: int,
    scale: float,
    cap: int,
    failing: int | None = None,
) -> Search:
    """The smallest integer level in [0, cap] whose ``score(values)`` (a share, e.g. an interval
    lower bound) reaches ``goal``, assuming the score does not fall as the level rises; None
    when even ``cap`` misses it. ``failing``: a level already known to miss (search above it).

    Scores are compared in probit space (Φ⁻¹), where a service level that behaves like a
    normal distribution function of the level is a straight line of slope 1/``scale``
    (``scale``: about the sd of demand over the protection period). Bracket: from ``start``,
    jump to where the model (then the secant through the two scores nearest the goal) puts
    the crossing, a fifth further; from the third jump on, each jump at least doubles the one
    before, so a poor model costs O(log cap) runs. Shrink: test the secant's prediction on the
    side not seen last, bisecting when the same end moved three times in a row and after
    twice the bisection's count of runs, until the two levels are neighbours. With service
    close to the model this takes 4 to 6 runs where bisection from the formula's bracket takes
    8 to 11.
    """
    seen: dict[int, float] = {}

    def test(x: int) -> Generator[int, np.ndarray, float]:
        if x not in seen:
            seen[x] = float(score((yield x)))
        return seen[x]

    def meets(v: float) -> bool:
        return v >= goal - 1e-12

    want = _probit(goal)
    scale = max(float(scale), 1.0)
    floor = 0 if failing is None else failing + 1
    lo, hi = failing, None  # highest level known to miss, lowest known to meet
    x = min(max(start, floor), cap)
    if meets((yield from test(x))):
        hi = x
    else:
        lo = x
    last = 0.0
    while hi is None or lo is None:  # find a bracket
        up = hi is None
        if up and x >= cap:
            return None
        if not up and x <= floor:
            return x
        crossing = _secant(seen, want, scale)
        if crossing is None:  # only scores of 0 or 1 so far: the model from this one
            crossing = x + (want - _probit(seen[x])) * scale
        # aim a little past the crossing (a fifth of the way further): landing short costs a run
        jump = 1.2 * ((math.ceil(crossing - 1e-9) - (0 if up else 1)) - x)
        # the first two jumps go where the model and the secant say; if they fall short, each
        # next jump at least doubles the one before
        jump = max(jump, 1.0, 2.0 * last) if up else min(jump, -1.0, 2.0 * last)
        last = jump if last or len(seen) > 1 else 0.0
        x = min(max(round(x + jump), floor), cap)
        if meets((yield from test(x))):
            hi = x if hi is None else min(hi, x)
        else:
            lo = x if lo is None else max(lo, x)
    # shrink the bracket: test the level the secant predicts, on the side not seen last (the
    # smallest meeting level after a miss, the largest missing one after a meet). When the
    # same end has moved three times in a row the model is off: bisect once; after twice the
    # bisection's count of runs, only bisect (a poor secant costs O(log width) runs).
    budget = 2 * (hi - lo).bit_length() + 2
    streak, side = 1, "lo" if x == lo else "hi"
    while hi - lo > 1:
        x_new = None
        if streak < 3 and budget > 0:
            crossing = _secant(seen, want, scale)
            if crossing is not None:
                c = math.ceil(crossing - 1e-9)
                x_new = min(max(c if side == "lo" else c - 1, lo + 1), hi - 1)
        x = (lo + hi) // 2 if x_new is None else x_new
        budget -= 1
        end = "hi" if meets((yield from test(x))) else "lo"
        if end == "hi":
            hi = x
        else:
            lo = x
        streak = 1 if end != side or x_new is None else streak + 1
        side = end
    return hi


def _secant(seen: dict[int, float], want: float, scale: float) -> float | None:
    """Where the probit of the score reaches ``want``: by the secant through the two levels
    tested whose scores are nearest the goal, or from the nearest alone with the model slope
    1/scale when the secant does not rise. A score of 0 or 1 says nothing about the slope and
    is left out (None when no score is left)."""
    usable = [k for k in seen if SATURATED < seen[k] < 1 - SATURATED]
    near = sorted(usable, key=lambda k: abs(_probit(seen[k]) - want))[:2]
    if not near:
        return None
    if len(near) == 2:
        a, b = sorted(near)
        ya, yb = _probit(seen[a]), _probit(seen[b])
        if yb > ya:
            return a + (want - ya) * (b - a) / (yb - ya)
    return near[0] + (want - _probit(seen[near[0]])) * scale


def _probit(v: float) -> float:
    """Φ⁻¹ of a share, clipped away from 0 and 1."""
    return NORMAL.inv_cdf(min(max(v, SATURATED), 1 - SATURATED))


SATURATED = 1e-6


NORMAL = NormalDist()


GOLDEN = (math.sqrt(5) - 1) / 2


def largest_mean(start: int, step: int, cap: int, confidence: float | None = None) -> Search:
    """The integer level in [0, cap] with the largest mean value (unimodal assumed; ties go to
    the smaller level).

    Bracket: from ``start`` and ``start + step``, walk uphill with doubling steps until the
    value falls, giving levels a < b < c with b the best. Shrink as Brent's method does on
    integers: the vertex of the parabola through (a, b, c) when it lands inside and moves less
    than half the step before last, else a golden-section step into the larger side; until
    both neighbours of b are known to be no better. With ``confidence``, stop as soon as both
    ends of the bracket are statistically tied with b (the paired interval of the difference
    over replications holds 0): the levels in between cannot be told apart by this run.
    """
    seen: dict[int, np.ndarray] = {}

    def f(x: int) -> Generator[int, np.ndarray, float]:
        if x not in seen:
            seen[x] = np.asarray((yield x), dtype=float)
        return float(np.mean(seen[x]))

    def tied(x: int, y: int) -> bool:
        if confidence is None or x == y:
            return x == y
        ci = interval(seen[x] - seen[y], confidence)
        return ci.ci_low is not None and ci.ci_low <= 0 <= ci.ci_high

    if cap <= 0:
        return 0
    x0 = min(max(start, 0), cap)
    x1 = x0 + step if x0 + step <= cap else max(0, x0 - step)
    x0, x1 = min(x0, x1), max(x0, x1)
    f0, f1 = (yield from f(x0)), (yield from f(x1))
    if f1 > f0:  # rising: walk up until it falls (or ties)
        a, b, fb = x0, x1, f1
        while True:
            step *= 2
            c = min(cap, b + step)
            if c == b:
                break
            fc = yield from f(c)
            if fc <= fb:
                break
            a, b, fb = b, c, fc
    else:  # falling or flat: walk down while it does not get worse
        b, c, fb = x0, x1, f0
        while True:
            if b == 0:
                a = 0
                break
            step *= 2
            a = max(0, b - step)
            fa = yield from f(a)
            if fa < fb:
                break
            b, c, fb = a, b, fa
    before_last = last = c - a
    while b - a > 1 or c - b > 1:
        if tied(b, a) and tied(b, c):
            break
        u = None
        if a < b < c:
            fa, fc = (yield from f(a)), (yield from f(c))
            den = (b - a) * (fb - fc) - (b - c) * (fb - fa)
            if den != 0:
                vertex = b - 0.5 * ((b - a) ** 2 * (fb - fc) - (b - c) ** 2 * (fb - fa)) / den
                if a < vertex < c and abs(vertex - b) < before_last / 2:
                    u = round(vertex)
        if u is None or not a < u < c or u == b:
            if c - b >= b - a:
                u = b + max(1, round((1 - GOLDEN) * (c - b)))
            else:
                u = b - max(1, round((1 - GOLDEN) * (b - a)))
        before_last, last = last, abs(u - b)
        fu = yield from f(u)
        if fu > fb or (fu == fb and u < b):
            a, c = (a, b) if u < b else (b, c)
            b, fb = u, fu
        elif u < b:
            a = u
        else:
            c = u
    return b


# --------------------------------------------------------------------------- cells


@dataclass
class Cell:
    """One (SKU, stocked node) of a strategy: what is known before and found by the search."""

    sku: int
    node: int
    scenario_level: int
    protection_mean: float
    protection_sd: float
    formula_level: int | None
    start: int
    step: int
    cap: int
    level: int | None = None
    status: str = "ok"


@dataclass
class StrategyPlan:
    """A strategy's cells in search order and the nodes whose initial on-hand is fixed."""

    index: int
    order: list[int]  # node indices in search order
    cells: dict[int, list[Cell]]  # node -> cells
    fixed: frozenset[int]
    notes: list[str] = field(default_factory=list)


def _searchable(lane) -> bool:
    """A lane whose one order-up-to level per SKU the search can set."""
    return lane.policy == "order_up_to" and lane.levels is None


def plan(scenario: sc.Scenario, model: Model, s: int, objective: Objective) -> StrategyPlan:
    """Which (SKU, node) pairs to search in strategy ``s``, with the formula's level of each."""
    strategy = model.strategies[s]
    spec = scenario.strategies[s]
    names = [n.name for n in strategy.nodes]
    fixed = frozenset(names.index(n) for n in spec.initial_on_hand if n in names)
    cat = model.catalog
    notes: list[str] = []
    by_node = {lane.node: lane for lane in strategy.lanes}
    relevant = _relevant_nodes(strategy, len(cat.ids))
    order = sorted(
        (lane.node for lane in strategy.lanes if _searchable(lane)),
        key=lambda n: _search_rank(strategy, by_node, n),
    )
    for lane in strategy.lanes:
        if not _searchable(lane):
            what = lane.policy if lane.policy != "order_up_to" else "order_up_to (by month)"
            notes.append(
                f"{names[lane.node]}: {what} policy kept at the scenario's values "
                "(only order_up_to levels without months are searched)"
            )
    if fixed & set(order):
        held = ", ".join(names[n] for n in sorted(fixed & set(order)))
        notes.append(f"{held}: initial_on_hand set by the scenario, kept whatever the level")
    cells: dict[int, list[Cell]] = {}
    for n in order:
        lane = by_node[n]
        protection = (
            lane.lead if lane.check_in is None else total_days([lane.lead, lane.check_in], 1)
        )
        cells[n] = []
        for j in range(len(cat.ids)):
            if not relevant[n, j] or lane.level[j] <= 0:
                continue
            mean, sd = protection_demand(cat.demand[j], protection, int(lane.review_days[j]))
            daily = cat.demand[j].expected_mean()
            formula = _formula(objective, model, strategy, lane, j, mean, sd)
            cap = max(
                2 * (formula or 0) + 10,
                math.ceil(daily * (model.calendar.days + protection.mean()) * 1.5) + 10,
            )
            cell = Cell(
                sku=j,
                node=n,
                scenario_level=int(lane.level[j]),
                protection_mean=mean,
                protection_sd=sd,
                formula_level=formula,
                start=min(cap, formula if formula is not None else int(lane.level[j])),
                step=max(1, math.ceil(sd / 2)),
                cap=cap,
            )
            if daily <= 0:
                cell.status, cell.level = "no_demand", 0
            elif objective.kind == "profit" and cat.price[j] <= 0:
                cell.status = "no_price"
            cells[n].append(cell)
        if not cells[n]:
            del cells[n]
    skipped = sorted(
        {
            cat.ids[j]
            for n in order
            for j in range(len(cat.ids))
            if relevant[n, j] and by_node[n].level[j] <= 0
        }
    )
    if skipped:
        notes.append(
            f"not searched where the scenario's level is 0 (not stocked): {', '.join(skipped)}"
        )
    if objective.kind == "profit":
        unpriced = sorted(
            {cat.ids[c.sku] for cs in cells.values() for c in cs if c.status == "no_price"}
        )
        if unpriced:
            notes.append(f"no price, so no profit to maximise: {', '.join(unpriced)} kept as is")
    searched = [n for n in order if n in cells]
    if len(searched) > 1:
        notes.append(
            "nodes searched one at a time in the order "
            + " → ".join(names[n] for n in searched)
            + ": each holds the nodes after it at the scenario's levels and those before it at "
            "their recommended levels (a coordinate-wise optimum, not a joint one)"
        )
    if objective.target and objective.target.metric == "on_time_rate" and not strategy.backorder:
        notes.append(
            "on_time_rate counts shipped orders only; under lost sales it hardly depends on stock"
        )
    return StrategyPlan(s, [n for n in order if n in cells], cells, fixed, notes)


def _relevant_nodes(strategy: StrategyModel, skus: int) -> np.ndarray:
    """(nodes, skus) True where a node ships the SKU or feeds (by transfer) a node that does."""
    out = np.zeros((len(strategy.nodes), skus), dtype=bool)
    for n, mask in strategy.steps:
        out[n] |= True if mask is None else mask
    for _ in strategy.lanes:  # propagate up the transfer chains (at most one lane per node)
        for lane in strategy.lanes:
            if lane.is_transfer:
                out[lane.source] |= out[lane.node]
    return out


def _depth(by_node: dict[int, Lane], node: int) -> int:
    d = 0
    while node in by_node and by_node[node].is_transfer and d <= len(by_node):
        node = by_node[node].source
        d += 1
    return d


def _search_rank(strategy: StrategyModel, by_node: dict[int, Lane], node: int) -> tuple:
    """Search order: nodes that ship to customers from the last backup to the primary (so the
    primary is searched last, with the backups already at their recommended levels), then the
    nodes that only feed others, nearest the customers first."""
    if node in strategy.fulfil:
        return (0, -strategy.fulfil.index(node))
    return (1, -_depth(by_node, node))


def _formula(objective, model, strategy, lane, j, mean, sd) -> int | None:
    """The classic level: μ + z·σ over the protection period, with z from the target (a share
    of cycles for cycle_service_level and on_time_rate; the normal loss function for
    fill_rate), or from the newsvendor critical ratio for profit."""
    if objective.target is None:
        cat = model.catalog
        node = strategy.nodes[lane.node]
        under = (
            cat.price[j]
            - cat.unit_cost[j]
            - cat.referral_per_unit[j]
            - node.cost_per_order[j] / cat.units_per_order[j]
        )
        over = node.storage_per_unit_day[j] * int(lane.review_days[j])
        if under <= 0:
            return 0
        ratio = under / (under + over) if over > 0 else 0.9999
        z = z_value(min(max(ratio, 1e-4), 0.9999))
    elif objective.target.metric == "fill_rate":
        cycle = model.catalog.demand[j].expected_mean() * int(lane.review_days[j])
        if sd <= 0:
            return max(0, math.ceil(mean - 1e-9))
        z = _loss_inverse((1 - objective.target.value) * cycle / sd)
    else:
        z = z_value(min(objective.target.value, 0.9999))
    return max(0, math.ceil(mean + z * sd - 1e-9))


def _loss_inverse(g: float) -> float:
    """k with G(k) = g, G the standard normal loss function E[(Z − k)^+] (decreasing in k)."""

    def loss(k: float) -> float:
        pdf = math.exp(-k * k / 2) / math.sqrt(2 * math.pi)
        return pdf - k * 0.5 * math.erfc(k / math.sqrt(2))

    lo, hi = -50.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if loss(mid) > g:
            lo = mid
        else:
            hi = mid
    return hi


# --------------------------------------------------------------------------- the search


def _lower_bound(confidence: float) -> Callable[[np.ndarray], float]:
    """The interval's lower bound over replications (0 without an interval: fewer than two
    replications with a value)."""

    def low(values: np.ndarray) -> float:
        ci = interval(values, confidence)
        return 0.0 if ci.ci_low is None else ci.ci_low

    return low


def _search_node(
    ev: Evaluator,
    p: StrategyPlan,
    levels: dict[int, np.ndarray],
    node: int,
    searches: dict[int, Search],
    metric: str,
    progress: Callable[[str], None],
    label: str,
) -> dict[int, int | None]:
    """Drive the searches of one node's SKUs together: each run evaluates every SKU at its own
    next candidate (the others held at their current level). Returns SKU → level found."""
    found: dict[int, int | None] = {}
    proposals: dict[int, int] = {}
    for j, g in searches.items():
        try:
            proposals[j] = next(g)
        except StopIteration as stop:
            found[j] = stop.value
    step = 0
    while proposals:
        step += 1
        progress(f"{label}: run {step}, {len(proposals)} SKU(s) searching")
        candidate = levels[node].copy()
        for j, x in proposals.items():
            candidate[j] = x
        runs = ev.run(p.index, {**levels, node: candidate}, p.fixed)
        values = runs.sku(metric)
        for j in list(proposals):
            try:
                proposals[j] = searches[j].send(values[:, j])
            except StopIteration as stop:
                found[j] = stop.value
                del proposals[j]
                if stop.value is not None:
                    levels[node][j] = stop.value
    return found


def optimize_strategy(
    ev: Evaluator,
    scenario: sc.Scenario,
    s: int,
    objective: Objective,
    progress: Callable[[str], None] = lambda _: None,
) -> dict:
    """Search one strategy; return its entry of ``optimize.json``."""
    model = ev.model
    strategy = model.strategies[s]
    p = plan(scenario, model, s, objective)
    conf = model.confidence
    scenario_levels = {lane.node: lane.level.copy() for lane in strategy.lanes if _searchable(lane)}
    levels = {n: v.copy() for n, v in scenario_levels.items()}
    metric = objective.metric
    for n in p.order:
        searches: dict[int, Search] = {}
        for c in p.cells[n]:
            if c.status in ("no_demand", "no_price"):
                if c.status == "no_demand":
                    levels[n][c.sku] = 0
                continue
            if objective.target:
                low, goal = _lower_bound(conf), objective.target.value
                searches[c.sku] = smallest_meeting(low, goal, c.start, c.protection_sd, c.cap)
            else:
                searches[c.sku] = largest_mean(c.start, c.step, c.cap, conf)
        label = f"{strategy.name}: {strategy.nodes[n].name}"
        found = _search_node(ev, p, levels, n, searches, metric, progress, label)
        for c in p.cells[n]:
            if c.sku in found:
                c.level = found[c.sku]
                if c.level is None:
                    c.status = "unreachable"
    progress(f"{strategy.name}: confirmation run")
    final = ev.run(s, levels, p.fixed)
    rounds = 0
    while objective.target and rounds < REPAIR_ROUNDS:
        failing = _failing(p, final, objective.target, conf)
        if not failing:
            break
        rounds += 1
        for n in p.order:
            todo = {c.sku: c for c in p.cells[n] if c.sku in failing.get(n, ())}
            if not todo:
                continue
            low, goal = _lower_bound(conf), objective.target.value
            searches = {
                j: smallest_meeting(low, goal, c.level + 1, c.protection_sd, c.cap, c.level)
                for j, c in todo.items()
            }
            label = f"{strategy.name}: {strategy.nodes[n].name} (again)"
            for j, level in _search_node(
                ev, p, levels, n, searches, metric, progress, label
            ).items():
                todo[j].level = level
                if level is None:
                    todo[j].status = "unreachable"
                    levels[n][j] = todo[j].scenario_level
        final = ev.run(s, levels, p.fixed)
    if objective.target:
        for n, skus in _failing(p, final, objective.target, conf).items():
            for c in p.cells[n]:
                if c.sku in skus:
                    c.status = "not_met"
    if rounds:
        p.notes.append(
            f"SKUs interact in this strategy: {rounds} extra search round(s) after the "
            "confirmation run"
        )
    if any(c.status == "unreachable" for cs in p.cells.values() for c in cs):
        p.notes.append(
            "unreachable: no level up to 1.5× the horizon's demand meets the target; "
            "those SKUs are kept at the scenario's level"
        )
    baseline = ev.run(s, scenario_levels, p.fixed)
    return _entry(model, p, final, baseline, objective)


def _failing(p: StrategyPlan, runs: Runs, target: Target, conf: float) -> dict[int, set[int]]:
    """Per node, the searched SKUs whose final interval misses the target (counted once, at the
    last node searched for that SKU)."""
    low = _lower_bound(conf)
    values = runs.sku(target.metric)
    last: dict[int, int] = {}
    for n in p.order:
        for c in p.cells[n]:
            if c.status == "ok" and c.level is not None:
                last[c.sku] = n
    out: dict[int, set[int]] = {}
    for j, n in last.items():
        if low(values[:, j]) < target.value - 1e-12:
            out.setdefault(n, set()).add(j)
    return out


def _stat(ci: Interval) -> dict:
    return ci.to_dict()


def _entry(
    model: Model, p: StrategyPlan, final: Runs, baseline: Runs, objective: Objective
) -> dict:
    conf = model.confidence
    strategy = model.strategies[p.index]
    ids = model.catalog.ids
    values = final.sku(objective.metric)
    skus: dict[str, dict] = {}
    for n in p.order:
        for c in p.cells[n]:
            ci = interval(values[:, c.sku], conf)
            level = c.level if c.status in ("ok", "not_met", "no_demand") else None
            skus.setdefault(ids[c.sku], {})[strategy.nodes[n].name] = {
                "level": level,
                "safety_units": None if level is None else round(level - c.protection_mean, 4),
                "metric": bounded(
                    objective.metric, {"mean": ci.mean, "ci_low": ci.ci_low, "ci_high": ci.ci_high}
                ),
                "formula_level": c.formula_level,
                "formula_safety_units": None
                if c.formula_level is None
                else round(c.formula_level - c.protection_mean, 4),
                "scenario_level": c.scenario_level,
                "protection_demand": {
                    "mean": round(c.protection_mean, 4),
                    "sd": round(c.protection_sd, 4),
                },
                "status": c.status,
            }
    out = {"skus": skus}
    for m in ("total_cost", "profit"):
        change = paired(final.total(m), baseline.total(m), conf, m == "total_cost")
        out[m] = _stat(interval(final.total(m), conf))
        out[f"scenario_{m}"] = _stat(interval(baseline.total(m), conf))
        out[f"{m}_change"] = {**change.diff.to_dict(), "win_rate": change.win_rate}
    return {
        **out,
        "metrics": {
            m: bounded(m, _stat(interval(final.total(m), conf)))
            for m in ("fill_rate", "cycle_service_level", "on_time_rate")
        },
        "nodes_searched": [strategy.nodes[n].name for n in p.order],
        "notes": p.notes,
    }


def optimize(
    scenario: sc.Scenario,
    model: Model,
    objective: Objective,
    strategies: list[int],
    workers: int = 1,
    progress: Callable[[str], None] = lambda _: None,
    scenario_info: dict | None = None,
    backend: str = "local",
    scheduler: str | None = None,
) -> dict:
    """The content of ``optimize.json``: each selected strategy searched in turn (Ctrl-C keeps
    the strategies already finished, marked ``"complete": false``)."""
    if model.replications < 2:
        raise UserError(
            (
                "--reps",
                "optimize needs at least 2 replications for an interval "
                f"(the scenario has {model.replications})",
            )
        )
    out: dict[str, dict] = {}
    complete = True
    with Evaluator(model, workers, backend, scheduler) as ev:
        try:
            with interrupts.live():
                for s in strategies:
                    out[model.strategies[s].name] = optimize_strategy(
                        ev, scenario, s, objective, progress
                    )
        except KeyboardInterrupt:
            complete = False
        except WorkerLost:
            if interrupts.received() is None:  # not a stop asked for: a real failure
                raise
            complete = False
        passes = ev.passes
    return {
        "schema_version": 1,
        "complete": complete,
        "scenario": scenario_info or {"name": model.name},
        "seed": model.seed,
        "replications": model.replications,
        "confidence": model.confidence,
        "objective": objective.kind,
        "target": None
        if objective.target is None
        else {"metric": objective.target.metric, "value": objective.target.value},
        "method": METHOD[objective.kind],
        "runs": passes,
        "strategies": out,
    }


METHOD = {
    "target": "smallest order-up-to level per SKU whose interval lower bound reaches the target: "
    "bisection on integer levels from the formula's level, common random numbers",
    "profit": "order-up-to level per SKU with the largest mean profit: bracket from the "
    "newsvendor level, then golden-section search on integer levels, common random numbers",
}


# --------------------------------------------------------------------------- output


def csv_rows(rep: dict) -> list[dict]:
    """One row per strategy × SKU × node searched."""
    rows = []
    for name, st in rep["strategies"].items():
        for sku, nodes in st["skus"].items():
            for node, e in nodes.items():
                rows.append(
                    {
                        "strategy": name,
                        "sku": sku,
                        "node": node,
                        "status": e["status"],
                        "level": _cell(e["level"]),
                        "safety_units": _cell(e["safety_units"]),
                        "formula_level": _cell(e["formula_level"]),
                        "scenario_level": e["scenario_level"],
                        "protection_mean": e["protection_demand"]["mean"],
                        "protection_sd": e["protection_demand"]["sd"],
                        "metric": rep["target"]["metric"] if rep["target"] else "profit",
                        "mean": _cell(e["metric"]["mean"]),
                        "ci_low": _cell(e["metric"]["ci_low"]),
                        "ci_high": _cell(e["metric"]["ci_high"]),
                    }
                )
    return rows


def _cell(v):
    return "" if v is None else v


def tables(rep: dict) -> str:
    """A table per strategy (SKU, node, level, safety, metric interval, formula, scenario level)
    and the total cost at the recommended levels."""
    pct = round(100 * rep["confidence"])
    target = rep["target"]
    metric = target["metric"] if target else "profit"
    kind = "pct" if target else "money"
    goal = (
        f"smallest levels with {metric} ≥ {target['value']:g} (lower bound of the {pct}% CI)"
        if target
        else "levels with the largest mean profit per SKU"
    )
    parts = [
        f"{rep['scenario']['name']}: {goal}; {rep['replications']} replications, seed "
        f"{rep['seed']}, common random numbers, {rep['runs']} runs"
        + ("" if rep["complete"] else "  [INCOMPLETE: interrupted]")
    ]
    for name, st in rep["strategies"].items():
        rows = [["SKU", "node", "level", "safety", f"{metric} [{pct}% CI]", "formula", "scenario"]]
        for sku, nodes in st["skus"].items():
            for node, e in nodes.items():
                m = e["metric"]
                ci = (
                    f" [{fmt(m['ci_low'], kind)}, {fmt(m['ci_high'], kind)}]"
                    if m["ci_low"] is not None
                    else ""
                )
                level = "–" if e["level"] is None else str(e["level"])
                if e["status"] != "ok":
                    level += f" ({e['status'].replace('_', ' ')})"
                rows.append(
                    [
                        sku,
                        node,
                        level,
                        "–" if e["safety_units"] is None else f"{e['safety_units']:+.1f}",
                        fmt(m["mean"], kind) + ci,
                        "–" if e["formula_level"] is None else str(e["formula_level"]),
                        str(e["scenario_level"]),
                    ]
                )
        parts += ["", f"{name}:"]
        parts.append(render(rows, right_from=2) if len(rows) > 1 else "  (no order-up-to level)")
        for m in ("total_cost", "profit") if target else ("profit", "total_cost"):
            parts.append(
                f"{m.replace('_', ' ')} at these levels: {_money_ci(st[m])}; at the scenario's "
                f"levels: {_money_ci(st[f'scenario_{m}'])}; change (paired): "
                f"{_money_ci(st[f'{m}_change'], signed=True)}"
            )
        parts += [f"note: {n}" for n in st["notes"]]
    return "\n".join(parts)


def _money_ci(stat: dict, signed: bool = False) -> str:
    mean = fmt(stat["mean"], "money")
    if signed and stat["mean"] is not None and stat["mean"] >= 0:
        mean = "+" + mean
    if stat["ci_low"] is None:
        return mean
    return f"{mean} [{fmt(stat['ci_low'], 'money')}, {fmt(stat['ci_high'], 'money')}]"
