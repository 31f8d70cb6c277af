"""Per-SKU routes: which candidate route (an ordered ``fulfil_from`` list) each SKU should take.

``assign`` starts from a strategy of the scenario (the *template*: its replenishment settings of
every node are kept) and chooses, per SKU, one of the candidate routes, to maximise expected
profit (``objective="profit"``), or minimise expected total cost (``"cost"``), optionally subject
to constraints on the mean of any strategy metric (``fill_rate>=0.97``).

An *assignment* is a strategy like the template with ``fulfil_from`` given per SKU: a SKU holds
stock only at the nodes of its route and the nodes feeding them (``model.stocked_nodes``), and a
node whose replenishment no SKU needs is dropped, so its ``fixed_cost_per_month`` is paid only
when at least one SKU uses it. Every assignment is compiled as that strategy (the numbers are
those ``run`` gives for it) and run over the same replications (common random numbers: the
same seed and replication indices, the inputs drawn once), so all comparisons are paired.

Why the search is shaped this way. Without coupling, a SKU's results do not depend on the other
SKUs (its demand has its own stream), so one whole-catalog run per route, with every SKU on that
route, gives every SKU's value on every route at once: R runs, not R × SKUs. What couples the
SKUs is left out of those values: fixed costs (paid once per node in use), per-shipment costs (one
shipment carries every SKU ordered at a review: its cost is shared) and capacity limits (FBA
``capacity_cubic_feet``, ``daily_order_capacity``: shared). Those need whole-catalog runs of the
assignment itself. So:

1. *Per-SKU values.* One run per route with every SKU on it, with the capacity limits lifted and
   no fixed or per-shipment costs (when the routes have any): ``values[r]``, per replication and
   SKU, the SKU's own profit on route r (or minus its own cost). These runs are the per-SKU
   evaluation; the same runs with the real scenario are the single-route strategies the
   assignment is compared with.
2. *Start.* Each SKU on its best route by mean value.
3. *Local search on whole-catalog runs.* Moves, for every node: close it (its SKUs to their best
   route without it), open it (the SKUs better off with it), and move groups of halving size off
   it (the smallest advantage first) or onto it (the largest first), the advantage per cubic
   foot of stock at a node with a capacity limit; single SKUs back to their own best route; and,
   under constraints, groups of SKUs to their best route on the constrained metric. Candidates
   are tried in the order of the objective the per-SKU values minus the shared costs predict
   (fixed costs, and one shipment per review on each lane in use); a move is taken when the
   paired difference of the whole-catalog objective over the replications has its interval
   above zero (it improves the mean by more than its noise), and the search stops when none
   does. An assignment already run is not run again. It is a local search: the result is a
   local optimum of these moves, not a proven best assignment. With constraints (on the mean
   over replications of a strategy metric), an assignment that meets more of them (less total
   relative shortfall) is better whatever its profit.

Per SKU the report gives the chosen route, the runner-up (its best other route by its own value)
and their paired difference of its own value with interval and win rate: ``clear`` when the
interval is above 0, ``too close to call`` when it holds 0, ``coupled`` when it is below 0 (on
its own the SKU would do better on the runner-up; the whole catalog does better with it here: a
fixed cost, shipments or a shared capacity). Then the whole assignment against the template
strategy and against every single-route strategy, as paired differences of profit (and of total
cost).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim import interrupts
from sim import optimize as opt
from sim import scenario as sc
from sim.errors import UserError
from sim.metric_names import INDEX, METRICS, RATES
from sim.metrics import bounded
from sim.model import DAYS_PER_MONTH, Model, StrategyModel, compile_strategy
from sim.stats import interval, paired
from sim.workers import WorkerLost

WHERE_ROUTES = "--routes"
WHERE_CONSTRAINT = "--constraint"
MAX_EVALUATIONS = 400  # whole-catalog runs at most (the search says when it stops there)
PER_SKU = ("profit", "total_cost", "cost_fixed", "avg_on_hand_units")
# the whole assignment's metrics the report always gives (plus those of the constraints)
SHOWN = ("profit", "total_cost", "fill_rate", "on_time_rate", "account_health_breach_rate")


# --------------------------------------------------------------------------- the question


@dataclass(frozen=True)
class Constraint:
    """``METRIC>=VALUE`` or ``METRIC<=VALUE`` on the mean over replications of a strategy metric."""

    metric: str
    op: str
    value: float

    def met(self, mean: float) -> bool:
        return mean >= self.value - 1e-12 if self.op == ">=" else mean <= self.value + 1e-12

    def shortfall(self, mean: float) -> float:
        """How far ``mean`` is from meeting the constraint, relative to the value (0 when met)."""
        gap = self.value - mean if self.op == ">=" else mean - self.value
        return max(0.0, gap) / max(abs(self.value), 1e-9)

    def text(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"


def parse_constraint(text: str) -> Constraint:
    """Read ``METRIC>=VALUE`` or ``METRIC<=VALUE`` (a rate may be given as a percentage)."""
    m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|≥|<=|≤)\s*(\S+)\s*", text)
    if not m:
        raise UserError(
            (
                WHERE_CONSTRAINT,
                f"{text!r}: expected METRIC>=VALUE or METRIC<=VALUE, e.g. fill_rate>=0.97",
            )
        )
    metric, op, raw = m.groups()
    op = {"≥": ">=", "≤": "<="}.get(op, op)
    if metric not in METRICS:
        raise UserError(
            (WHERE_CONSTRAINT, f"unknown metric {metric!r}{sc._did_you_mean(metric, METRICS)}")
        )
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UserError((WHERE_CONSTRAINT, f"{raw!r} is not a number")) from None
    if not math.isfinite(value):
        raise UserError((WHERE_CONSTRAINT, f"{raw!r} is not a finite number"))
    if metric in RATES and not 0 <= value <= 1:
        raise UserError((WHERE_CONSTRAINT, f"{metric} is a share: give a value in [0, 1]"))
    return Constraint(metric, op, value)


def parse_routes(texts: list[str] | tuple[str, ...], scenario: sc.Scenario, template: sc.Strategy):
    """The candidate routes of ``--routes`` (each ``node,node,…``): known nodes that the template
    replenishes, no node twice in a route, no route twice, at least two routes."""
    routes: list[tuple[str, ...]] = []
    for text in texts:
        nodes = tuple(n.strip() for n in text.split(","))
        if not text.strip() or any(not n for n in nodes):
            raise UserError((WHERE_ROUTES, f"{text!r}: expected node names separated by commas"))
        for n in nodes:
            if n not in scenario.nodes:
                raise UserError(
                    (
                        WHERE_ROUTES,
                        f"no node named {n!r}{sc._did_you_mean(n, scenario.nodes)} "
                        f"(nodes: {', '.join(scenario.nodes)})",
                    )
                )
            if n not in template.replenish:
                raise UserError(
                    (
                        WHERE_ROUTES,
                        f"node {n!r} has no replenish settings in strategy {template.name!r} "
                        f"(the template): add replenish.{n} to it",
                    )
                )
        if len(set(nodes)) != len(nodes):
            raise UserError((WHERE_ROUTES, f"{text!r} names a node twice"))
        if nodes in routes:
            raise UserError((WHERE_ROUTES, f"{text!r} is given twice"))
        routes.append(nodes)
    if len(routes) < 2:
        raise UserError(
            (WHERE_ROUTES, "give at least two candidate routes, e.g. --routes fba --routes home")
        )
    return routes


def find_strategy(scenario: sc.Scenario, name: str) -> sc.Strategy:
    """The template strategy ``--strategy NAME``."""
    names = [s.name for s in scenario.strategies]
    if name not in names:
        raise UserError(
            (
                "--strategy",
                f"no strategy named {name!r}{sc._did_you_mean(name, names)} "
                f"(strategies: {', '.join(names)})",
            )
        )
    return scenario.strategies[names.index(name)]


# --------------------------------------------------------------------------- assignments


def assignment_strategy(
    template: sc.Strategy,
    routes: list[tuple[str, ...]],
    choice: np.ndarray,
    ids: tuple[str, ...],
    name: str,
) -> sc.Strategy:
    """The template with SKU j routed through ``routes[choice[j]]``; replenishment (and initial
    stock) kept only for the nodes some SKU's route uses or is fed from."""
    mapping = {sku: list(routes[int(c)]) for sku, c in zip(ids, choice, strict=True)}
    used: set[str] = set()
    for c in set(choice.tolist()):
        for node in routes[c]:
            while node != sc.SUPPLIER and node not in used:
                used.add(node)
                rep = template.replenish.get(node)
                node = sc.SUPPLIER if rep is None else rep.source
    return template.model_copy(
        update={
            "name": name,
            "fulfil_from": mapping,
            "replenish": {n: r for n, r in template.replenish.items() if n in used},
            "initial_on_hand": {n: v for n, v in template.initial_on_hand.items() if n in used},
        }
    )


def relaxed(scenario: sc.Scenario) -> sc.Scenario:
    """``scenario`` without what couples SKUs: capacity limits lifted, no fixed costs, no
    per-shipment costs (a shipment's cost is shared by the SKUs in it)."""
    nodes = {}
    for name, node in scenario.nodes.items():
        update = {}
        if getattr(node, "capacity_cubic_feet", None) is not None:
            update["capacity_cubic_feet"] = None
        if getattr(node, "daily_order_capacity", None) is not None:
            update["daily_order_capacity"] = None
        if getattr(node, "fixed_cost_per_month", 0):
            update["fixed_cost_per_month"] = 0.0
        nodes[name] = node.model_copy(update=update) if update else node
    lanes = {
        n: lane.model_copy(update={"cost_per_shipment": 0.0}) for n, lane in scenario.lanes.items()
    }
    strategies = [
        st.model_copy(
            update={
                "replenish": {
                    n: rep.model_copy(update={"cost_per_shipment": 0.0})
                    for n, rep in st.replenish.items()
                }
            }
        )
        for st in scenario.strategies
    ]
    return scenario.model_copy(update={"nodes": nodes, "lanes": lanes, "strategies": strategies})


def shipment_cost(scenario: sc.Scenario, rep: sc.Replenishment) -> float:
    """A replenishment's cost per shipment (its own and its lane's)."""
    lane = scenario.lanes[rep.lane].cost_per_shipment if rep.lane is not None else 0.0
    return rep.cost_per_shipment + lane


def reviews(policy, days: int) -> int:
    """Reviews in ``days`` at the policy's shortest ``review_days`` (every review of a catalog
    orders something: one shipment each)."""
    values = _numbers(policy.review_days)
    return math.ceil(days / max(1.0, min(values) if values else 1.0))


def _numbers(value) -> list[float]:
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    return []


def capacity_nodes(scenario: sc.Scenario) -> set[str]:
    """Nodes with a limit shared by their SKUs (FBA capacity, daily order capacity)."""
    return {
        name
        for name, node in scenario.nodes.items()
        if getattr(node, "capacity_cubic_feet", None) is not None
        or getattr(node, "daily_order_capacity", None) is not None
    }


# --------------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    """One strategy over every replication: per-SKU ``skus`` (reps, len(rows), skus) and
    ``totals`` (reps, metrics)."""

    skus: np.ndarray
    totals: np.ndarray
    rows: tuple[str, ...]

    def sku(self, metric: str) -> np.ndarray:
        return self.skus[:, self.rows.index(metric), :]

    def total(self, metric: str) -> np.ndarray:
        return self.totals[:, INDEX[metric]]


class _Worker(opt._Worker):
    """Runs (strategy, first, stop, rows) tasks on the replication inputs it holds or draws."""

    def __call__(self, task) -> tuple[np.ndarray, np.ndarray]:
        strategy, start, stop, rows = task
        return self.run(strategy, start, stop, [INDEX[m] for m in rows])


_WORKER: _Worker | None = None


def _init_worker(model: Model, inputs) -> None:
    global _WORKER
    _WORKER = _Worker(model, inputs)


def _work(task):
    return _WORKER(task)


def _dask_work(worker: _Worker, task):
    return worker(task)


class Evaluator(opt.Evaluator):
    """``optimize``'s evaluator (inputs drawn once, forked local workers or Dask, results in
    replication order) running whole strategies; counts the runs."""

    def __init__(self, model: Model, rows: tuple[str, ...], **kw):
        super().__init__(model, **kw)
        self.local = _Worker(model, self.local.inputs, self.cache_bytes)
        self.rows = rows
        self.evaluations = 0

    def __enter__(self) -> Evaluator:
        if self.backend == "dask":
            from sim.dask_backend import dask_client

            self._dask = dask_client(self.workers, self.scheduler)
            self.client = self._dask.__enter__()
            worker = _Worker(self.model, None, self.cache_bytes)
            self.shared = self.client.scatter(worker, broadcast=True, hash=False)
            self.workers = max(1, sum(self.client.nthreads().values()))
        elif self.workers > 1:
            from sim.workers import Pool

            self.pool = Pool(
                self.workers, initializer=_init_worker, initargs=(self.model, self.local.inputs)
            )
        return self

    def evaluate(self, strategy: StrategyModel) -> Evaluation:
        """Every replication of ``strategy`` (a compiled strategy of this scenario)."""
        self.evaluations += 1
        interrupts.check()
        if self.pool is None and self.client is None:
            skus, totals = self.local((strategy, 0, self.reps, self.rows))
            return Evaluation(skus, totals, self.rows)
        chunks = min(self.reps, self.workers * 2)
        bounds = np.linspace(0, self.reps, chunks + 1).astype(int)
        tasks = [
            (strategy, int(a), int(b), self.rows) for a, b in itertools.pairwise(bounds) if b > a
        ]
        if self.client is not None:
            futures = [
                self.client.submit(_dask_work, self.shared, t, pure=False, retries=3) for t in tasks
            ]
            parts = self.client.gather(futures)
        else:
            parts = self.pool.map(_work, tasks)
        return Evaluation(
            np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), self.rows
        )


# --------------------------------------------------------------------------- the search


@dataclass
class Problem:
    """What the search needs: the scenario, the template, the candidate routes, the goal."""

    scenario: sc.Scenario
    model: Model
    template: sc.Strategy
    routes: list[tuple[str, ...]]
    objective: str = "profit"  # profit | cost
    constraints: tuple[Constraint, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return self.model.catalog.ids


def objective_values(ev: Evaluation, objective: str) -> np.ndarray:
    """(reps,) the whole-catalog objective, larger is better (profit, or minus total cost)."""
    return ev.total("profit") if objective == "profit" else -ev.total("total_cost")


def own_values(ev: Evaluation, objective: str) -> np.ndarray:
    """(reps, skus) each SKU's own objective, its share of the fixed costs left out."""
    if objective == "profit":
        return ev.sku("profit") + ev.sku("cost_fixed")
    return -(ev.sku("total_cost") - ev.sku("cost_fixed"))


class Search:
    """The local search (see the module docstring); ``run()`` returns the report's content."""

    def __init__(
        self,
        problem: Problem,
        ev: Evaluator,
        progress: Callable[[str], None] = lambda _: None,
        max_evaluations: int = MAX_EVALUATIONS,
    ):
        self.p = problem
        self.ev = ev
        self.progress = progress
        self.max_evaluations = max_evaluations
        self.conf = problem.model.confidence
        # the nodes each route needs: its own and those feeding them (the template's replenish)
        self.route_nodes = [
            tuple(dict.fromkeys([*r, *_feeders(problem.template, r)])) for r in problem.routes
        ]
        self.real = compile_strategy(problem.scenario, problem.model)
        used = {n for r in self.route_nodes for n in r}
        self.capacity = capacity_nodes(problem.scenario) & used
        shipments = any(
            shipment_cost(problem.scenario, problem.template.replenish[n]) > 0
            for n in used
            if n in problem.template.replenish
        )
        self.free = None  # (compile, template) of the scenario without coupling, when it has any
        if self.capacity or shipments:
            loose = relaxed(problem.scenario)
            template = next(s for s in loose.strategies if s.name == problem.template.name)
            self.free = (compile_strategy(loose, problem.model), template)
        self.seen: dict[bytes, Evaluation] = {}
        self.moves = 0
        self.tried = 0
        self.best: tuple[np.ndarray, Evaluation] | None = None

    # -- running assignments

    def strategy(self, choice: np.ndarray, free: bool = False) -> StrategyModel:
        """The compiled assignment ``choice`` (``free``: in the scenario without coupling)."""
        compile_one, template = self.free if free else (self.real, self.p.template)
        return compile_one(
            assignment_strategy(template, self.p.routes, choice, self.p.ids, "assignment")
        )

    def run_choice(self, choice: np.ndarray) -> Evaluation:
        key = choice.astype(np.int16).tobytes()
        if key not in self.seen:
            self.seen[key] = self.ev.evaluate(self.strategy(choice))
        return self.seen[key]

    def score(self, ev: Evaluation) -> tuple[float, np.ndarray]:
        """(total constraint shortfall, per-replication objective)."""
        short = sum(c.shortfall(float(np.nanmean(ev.total(c.metric)))) for c in self.p.constraints)
        return short, objective_values(ev, self.p.objective)

    def better(self, new: Evaluation, old: Evaluation) -> bool:
        """``new`` meets more of the constraints, or as many and improves the objective by more
        than its noise (the paired difference's interval lies above 0)."""
        s_new, v_new = self.score(new)
        s_old, v_old = self.score(old)
        if s_new < s_old - 1e-12:
            return True
        if s_new > 1e-12:  # neither meets the constraints, and the new one is no nearer
            return False
        d = paired(v_new, v_old, self.conf, False).diff
        return d.ci_low is not None and d.ci_low > 0

    # -- moves

    def shared_costs(self, choice: np.ndarray) -> float:
        """What the SKUs of an assignment share, over the counted days: the fixed costs of the
        nodes it uses and a shipment per review on every lane into them (an estimate)."""
        st = assignment_strategy(self.p.template, self.p.routes, choice, self.p.ids, "x")
        used = set(st.replenish) | set(st.fulfil_nodes())
        cal = self.p.model.calendar
        counted = cal.days - cal.warmup
        fixed = sum(self.p.scenario.nodes[n].fixed_cost_per_month for n in used)
        ships = sum(
            shipment_cost(self.p.scenario, rep) * reviews(rep.policy, counted)
            for rep in st.replenish.values()
        )
        return fixed * counted / DAYS_PER_MONTH + ships

    def predicted(self, choice: np.ndarray) -> float:
        """The objective the per-SKU values and shared costs predict (capacity left out)."""
        j = np.arange(len(choice))
        return float(self.mean[choice, j].sum()) - self.shared_costs(choice)

    def candidates(self, choice: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """Moves from ``choice``: for every node, close it (its SKUs to their best route
        without it) or open it (the SKUs better off with it), and move groups of halving size
        off it (smallest advantage first) or onto it (largest first), the advantage per cubic
        foot of stock at a node with a capacity limit; then single SKUs back to their own best
        route, and, under constraints, groups of SKUs to their best route on the metric."""
        routes, mean = self.p.routes, self.mean
        n_skus = len(choice)
        here = mean[choice, np.arange(n_skus)]
        out: list[tuple[str, np.ndarray]] = []
        nodes = list(dict.fromkeys(n for r in self.route_nodes for n in r))
        has = {n: np.array([n in r for r in self.route_nodes]) for n in nodes}
        for n in nodes:
            uses = has[n][choice]
            scale = self.volume if n in self.capacity else np.ones(n_skus)
            without = np.where(has[n][:, None], -np.inf, mean)
            alt, alt_value = without.argmax(axis=0), without.max(axis=0)
            on = np.flatnonzero(uses & np.isfinite(alt_value))
            if len(on):
                out.append((f"close {n}", np.where(uses, alt, choice)))
                order = on[np.argsort((here[on] - alt_value[on]) / scale[on], kind="stable")]
                for k in _halving(len(order)):
                    new = choice.copy()
                    new[order[:k]] = alt[order[:k]]
                    out.append((f"move {k} SKU(s) off {n}", new))
            with_n = np.where(has[n][:, None], mean, -np.inf)
            best_n, value_n = with_n.argmax(axis=0), with_n.max(axis=0)
            gain = value_n - here
            movers = ~uses & np.isfinite(value_n) & (gain > 0)
            if movers.any():
                out.append((f"open {n}", np.where(movers, best_n, choice)))
            off = np.flatnonzero(movers | (~uses & np.isfinite(value_n) & (n in self.capacity)))
            if len(off):
                order = off[np.argsort(-gain[off] / scale[off], kind="stable")]
                for k in _halving(len(order)):
                    new = choice.copy()
                    new[order[:k]] = best_n[order[:k]]
                    out.append((f"move {k} SKU(s) onto {n}", new))
        best = mean.argmax(axis=0)
        for j in np.flatnonzero(best != choice):
            new = choice.copy()
            new[j] = best[j]
            out.append((f"{self.p.ids[j]} to {','.join(routes[best[j]])}", new))
        for c in self.p.constraints:  # constraint repairs: SKUs to their best route on the metric
            per = self.metric_by_route.get(c.metric)
            if per is None:
                continue
            sign = 1.0 if c.op == ">=" else -1.0
            target = (sign * per).argmax(axis=0)
            gap = sign * (per[target, np.arange(n_skus)] - per[choice, np.arange(n_skus)])
            order = np.flatnonzero(gap > 0)
            order = order[np.argsort(-gap[order], kind="stable")]
            for k in _halving(len(order)):
                new = choice.copy()
                new[order[:k]] = target[order[:k]]
                out.append((f"{k} SKU(s) to their best {c.metric}", new))
        seen, unique = set(), []
        for label, new in out:
            key = new.astype(np.int16).tobytes()
            if key not in seen and (new != choice).any():
                seen.add(key)
                unique.append((label, new))
        unique.sort(key=lambda m: -self.predicted(m[1]))
        return unique

    # -- the whole search

    def run(self) -> dict:
        p, ids = self.p, self.p.ids
        n_skus = len(ids)
        single: list[Evaluation] = []
        own: list[np.ndarray] = []
        for r, route in enumerate(p.routes):
            self.progress(f"route {','.join(route)}: every SKU on it")
            all_r = np.full(n_skus, r)
            single.append(self.run_choice(all_r))
            free = (
                single[-1]
                if self.free is None
                else self.ev.evaluate(self.strategy(all_r, free=True))
            )
            own.append(free)
        self.values = np.stack([own_values(e, p.objective) for e in own])  # (routes, reps, skus)
        self.mean = self.values.mean(axis=1)  # (routes, skus)
        on_hand = np.stack([e.sku("avg_on_hand_units") for e in own]).mean(axis=1)
        cubic = p.model.catalog.cubic_feet
        self.volume = np.maximum(cubic * on_hand.max(axis=0), 1e-9)  # cu ft of stock a SKU holds
        self.metric_by_route = {}
        for c in p.constraints:
            if c.metric in own[0].rows:
                self.metric_by_route[c.metric] = np.stack(
                    [np.nanmean(e.sku(c.metric), axis=0) for e in own]
                )
        self.progress("the template strategy")
        self.template = self.ev.evaluate(self.real(p.template))
        self.single = single
        choice = self.mean.argmax(axis=0)
        self.best = (choice, self.run_choice(choice))
        capped = False
        improved = True
        while improved:
            improved = False
            for label, new in self.candidates(self.best[0]):
                if self.ev.evaluations >= self.max_evaluations:
                    capped = True
                    break
                self.progress(f"move {self.tried + 1}: {label}")
                self.tried += 1
                got = self.run_choice(new)
                if self.better(got, self.best[1]):
                    self.best, improved = (new, got), True
                    self.moves += 1
                    break
            if capped:
                break
        return self.report(capped)

    def partial(self) -> dict:
        """After an interrupt: the best assignment found so far ({} before there is one)."""
        if getattr(self, "best", None) is None:
            return {}
        return self.report(False)

    # -- the report

    def report(self, capped: bool) -> dict:
        """The report's per-SKU and total parts for the best assignment found."""
        p, conf = self.p, self.conf
        (choice, current), template, single = self.best, self.template, self.single
        skus = {}
        for j, sku in enumerate(p.ids):
            c = int(choice[j])
            others = [r for r in range(len(p.routes)) if r != c]
            runner = max(others, key=lambda r: self.mean[r, j])
            pair = paired(self.values[c][:, j], self.values[runner][:, j], conf, False)
            d = pair.diff
            verdict = (
                "too close to call"
                if d.ci_low is None or d.ci_low <= 0 <= d.ci_high
                else ("clear" if d.ci_low > 0 else "coupled")
            )
            skus[sku] = {
                "route": list(p.routes[c]),
                "runner_up": list(p.routes[runner]),
                "diff": {
                    "mean": d.mean,
                    "ci_low": d.ci_low,
                    "ci_high": d.ci_high,
                    "win_rate": pair.win_rate,
                },
                "verdict": verdict,
            }
        against = [
            {
                "name": f"template {p.template.name}",
                "route": None,
                **self._versus(current, template),
            }
        ]
        for route, ev in zip(p.routes, single, strict=True):
            against.append(
                {
                    "name": f"all {','.join(route)}",
                    "route": list(route),
                    **self._versus(current, ev),
                }
            )
        metrics = {*SHOWN, *(c.metric for c in p.constraints)}
        total = {
            m: bounded(m, interval(current.total(m), conf).to_dict())
            for m in sorted(metrics, key=METRICS.index)
        }
        total["constraints"] = [
            {
                "constraint": c.text(),
                "mean": float(np.nanmean(current.total(c.metric))),
                "met": c.met(float(np.nanmean(current.total(c.metric)))),
            }
            for c in p.constraints
        ]
        total["against"] = against
        counts = {",".join(r): int((choice == i).sum()) for i, r in enumerate(p.routes)}
        return {
            "skus": skus,
            "total": total,
            "routes_used": counts,
            "moves": self.moves,
            "moves_tried": self.tried,
            "stopped_at_cap": capped,
        }

    def _versus(self, a: Evaluation, b: Evaluation) -> dict:
        out = {}
        for m in ("profit", "total_cost"):
            pair = paired(a.total(m), b.total(m), self.conf, m == "total_cost")
            out[m] = {**pair.diff.to_dict(), "win_rate": pair.win_rate}
            out[m].pop("std", None)
        return out


def _feeders(template: sc.Strategy, route: tuple[str, ...]) -> list[str]:
    """The nodes that feed ``route``'s nodes by transfer in ``template``, at any depth."""
    out: list[str] = []
    for node in route:
        rep = template.replenish.get(node)
        while rep is not None and rep.source != sc.SUPPLIER and rep.source not in out:
            out.append(rep.source)
            rep = template.replenish.get(rep.source)
    return out


def _halving(n: int) -> list[int]:
    """Group sizes n/2, n/4, …, 1 (and n itself when n is 1)."""
    out, k = [], n // 2
    while k >= 1:
        out.append(k)
        k //= 2
    return out or ([1] if n == 1 else [])


METHOD = (
    "local search on whole-catalog runs from each SKU's best route: close/open-a-node and "
    "capacity group moves and single-SKU moves, taken while the paired difference's interval "
    "lies above 0; common random numbers"
)


def assign(
    problem: Problem,
    workers: int = 1,
    progress: Callable[[str], None] = lambda _: None,
    scenario_info: dict | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    max_evaluations: int = MAX_EVALUATIONS,
) -> dict:
    """The content of ``assign.json``. Ctrl-C: ``"complete": false`` with the best assignment
    found so far (none when the per-route runs were not all finished)."""
    model = problem.model
    if model.replications < 2:
        raise UserError(
            (
                "--reps",
                f"assign needs at least 2 replications (the scenario has {model.replications})",
            )
        )
    rows = tuple(dict.fromkeys([*PER_SKU, *(c.metric for c in problem.constraints)]))
    body: dict = {}
    complete = True
    with Evaluator(model, rows, workers=workers, backend=backend, scheduler=scheduler) as ev:
        search = Search(problem, ev, progress, max_evaluations)
        try:
            with interrupts.live():
                body = search.run()
        except KeyboardInterrupt:
            complete, body = False, search.partial()
        except WorkerLost:
            if interrupts.received() is None:
                raise
            complete, body = False, search.partial()
        evaluations = ev.evaluations
    return {
        "schema_version": 1,
        "complete": complete,
        "scenario": scenario_info or {"name": model.name},
        "seed": model.seed,
        "replications": model.replications,
        "confidence": model.confidence,
        "strategy": problem.template.name,
        "objective": problem.objective,
        "constraints": [c.text() for c in problem.constraints],
        "routes": [list(r) for r in problem.routes],
        "method": METHOD,
        "skus": body.get("skus", {}),
        "total": body.get("total", {}),
        "routes_used": body.get("routes_used", {}),
        "moves": body.get("moves", 0),
        "moves_tried": body.get("moves_tried", 0),
        "stopped_at_cap": body.get("stopped_at_cap", False),
        "evaluations": evaluations,
    }
