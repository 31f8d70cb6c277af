"""The simulation against exact inventory and delivery theory (SPEC §2–§4).

Every statistical check has the same shape. A metric is a per-replication value x_1..x_n (a time
average, or a ratio of sums, over the counted days); with s their sample standard deviation we
assert |mean − exact| ≤ 4·s/√n. ``exact`` is derived in each test's docstring from the timing
conventions of SPEC §3, with Poisson probabilities from scipy.stats.

Ratio metrics (``fill_rate``, ``on_time_rate``, ``avg_delivery_days``) are F = A/B per replication
with B the units demanded (shipped) over the counted days. Theory gives E[A]/E[B], not E[F]; the
difference is exactly bounded: E[F·B] = E[A] gives E[F] − E[A]/E[B] = −Cov(F, B)/E[B], and
|Cov(F, B)| ≤ sd(F)·sd(B), so |E[F] − E[A]/E[B]| ≤ sd(F)·sd(B)/E[B] = sd(F)/√E[B] because B is
Poisson (sd(B)² = E[B]). Those checks add s/√E[B] (a few percent of the main term) to the
tolerance; no other check adds anything.

The last test checks accounting identities of single replications exactly (no statistics).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import stats

import sim.engine
import sim.loader
import sim.metrics
import sim.model
import sim.montecarlo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --------------------------------------------------------------------------- helpers


def scenario(skus, nodes, strategies, horizon, warmup, reps, seed, start="2026-01-05") -> dict:
    """A scenario dict in the SPEC §2 format; ``skus`` maps SKU id to Poisson mean (or demand)."""
    return {
        "name": "theory",
        "start_date": start,
        "horizon_days": horizon,
        "warmup_days": warmup,
        "replications": reps,
        "seed": seed,
        "skus": [
            {
                "id": sku,
                "demand": d
                if isinstance(d, dict)
                else {"distribution": "poisson", "mean_per_day": d},
            }
            for sku, d in skus.items()
        ],
        "nodes": nodes,
        "strategies": strategies,
    }


def run(d: dict) -> sim.montecarlo.Results:
    return sim.montecarlo.run(sim.model.compile_scenario(sim.loader.validate(d)), workers=1)


def sku_stat(res, metric: str, sku: int, strategy: int = 0) -> tuple[float, float, int]:
    """(mean, sd, n) over replications of one SKU's metric."""
    k = sim.metrics.INDEX[metric]
    n = int(res.sku_count[strategy, k, sku])
    assert n == res.replications, f"{metric}: {res.replications - n} replications have no value"
    return (
        float(res.sku_mean[strategy, k, sku]),
        math.sqrt(res.sku_m2[strategy, k, sku] / (n - 1)),
        n,
    )


def total_stat(res, metric: str, strategy: int = 0) -> tuple[float, float, int]:
    """(mean, sd, n) over replications of a strategy-total metric."""
    x = res.totals[:, strategy, sim.metrics.INDEX[metric]]
    assert not np.isnan(x).any(), f"{metric}: a replication has no value"
    return float(x.mean()), float(x.std(ddof=1)), len(x)


def check(what: str, observed, exact: float, ratio_units: float | None = None, scale=1.0):
    """|mean − exact| ≤ 4·s/√n (+ s/√E[B] for a ratio of sums over E[B] Poisson units).

    ``observed`` is (mean, sd, n); ``scale`` divides the metric first (a sum → a per-day value).
    """
    mean, s, n = observed
    mean, s = mean / scale, s / scale
    tol = 4 * s / math.sqrt(n)
    if ratio_units is not None:
        tol += s / math.sqrt(ratio_units)
    assert s > 0, f"{what}: no spread across replications, the check would be vacuous"
    assert abs(mean - exact) <= tol, (
        f"{what}: simulated {mean:.6g} vs exact {exact:.6g} "
        f"(diff {mean - exact:+.3g}, tolerance {tol:.3g}, sd {s:.3g}, n {n})"
    )


def pois_pmf(mean: float, upto: int) -> np.ndarray:
    """P(X = k) for k = 0..upto."""
    return stats.poisson.pmf(np.arange(upto + 1), mean)


def expected_min(m: float, a: int) -> float:
    """E[min(D, a)] for D ~ Poisson(m) and a ≥ 0: Σ_{k<a} P(D > k)."""
    return float(stats.poisson.sf(np.arange(a), m).sum()) if a > 0 else 0.0


def expected_positive_part(mean: float, s: int) -> tuple[float, float]:
    """(E[(s − Y)^+], E[(Y − s)^+]) for Y ~ Poisson(mean): E[(Y−s)^+] = E[(s−Y)^+] − (s − mean)."""
    k = np.arange(s + 1)
    on_hand = float(((s - k) * stats.poisson.pmf(k, mean)).sum())
    return on_hand, on_hand - (s - mean)


def base_stock_service(m: float, s: int, days_before: int) -> tuple[float, float]:
    """(E[units served on the day], CSL) when the day's demand D ~ Poisson(m) finds (S − X)^+
    on hand, X ~ Poisson(m·days_before) independent of D.

    Served = min(D, (S − X)^+), so E[served] = Σ_x P(X = x)·E[min(D, (S − x)^+)]. All of the
    day's demand is served when D ≤ (S − X)^+: for X ≤ S that is X + D ≤ S; for X > S only D = 0
    qualifies. X + D ~ Poisson(m·(days_before + 1)), so
    CSL = F_{m(days_before+1)}(S) + e^{−m}·(1 − F_{m·days_before}(S)).
    """
    px = pois_pmf(m * days_before, s)
    served = sum(px[x] * expected_min(m, s - x) for x in range(s + 1))
    csl = stats.poisson.cdf(s, m * (days_before + 1)) + math.exp(-m) * stats.poisson.sf(
        s, m * days_before
    )
    return served, float(csl)


def supplier_lane(lead, policy) -> dict:
    return {"from": "supplier", "lead_time_days": lead, "policy": policy}


# --------------------------------------------------------------------------- 1. base stock


def test_daily_base_stock_backorders_matches_poisson_theory():
    """Daily review, order up to S, deterministic lead time L, backorders, Poisson(m) demand.

    Derivation (SPEC §3). Every end of day the order lifts the inventory position
    (on-hand + on order − backorders) back to S; IP starts at S with nothing on order, so the
    order q_u of day u equals D_u. It arrives at the start of day u + L, so after the review of
    day t the orders of days t−L+1..t are on order and
        NI_t = IP_t − on order = S − (D_{t−L+1} + … + D_t) = S − Y,  Y ~ Poisson(mL)  (t ≥ L − 1).
    End-of-day on-hand = (S − Y)^+ and backorders = (Y − S)^+, so
        avg_on_hand = E[(S − Y)^+],   avg_backorder = E[(Y − S)^+] = E[(S − Y)^+] − (S − mL).
    On day t ≥ L, the receipt q_{t−L} arrives first and serves the waiting backorders, so the
    day's demand finds (NI_{t−1} + D_{t−L})^+ = (S − X)^+ on hand, X = D_{t−L+1} + … + D_{t−1}
    ~ Poisson(m(L − 1)), independent of D_t. Units served on the day = min(D_t, (S − X)^+);
    fill rate = E[served]/m; CSL = P(D_t ≤ (S − X)^+) (see ``base_stock_service``).
    Warm-up L: every counted day has t ≥ L, so these hold exactly on each counted day.
    SKU S0 (S = 1 < m(L − 1)) makes the CSL term for D = 0 with X > S matter.
    """
    lead, warmup, horizon, reps = 3, 3, 303, 200
    skus = {"S0": 0.8, "S1": 2.0, "S2": 5.0, "S3": 10.0}
    levels = {"S0": 1, "S1": 8, "S2": 17, "S3": 32}
    d = scenario(
        skus,
        {"wh": {"type": "fbm"}},
        [
            {
                "name": "base-stock",
                "fulfil_from": ["wh"],
                "unmet_demand": "backorder",
                "replenish": {
                    "wh": supplier_lane(
                        lead, {"type": "order_up_to", "review_days": 1, "level": levels}
                    )
                },
            }
        ],
        horizon,
        warmup,
        reps,
        seed=11,
    )
    res = run(d)
    days = horizon - warmup
    for j, (sku, m) in enumerate(skus.items()):
        s = levels[sku]
        served, csl = base_stock_service(m, s, lead - 1)
        on_hand, backorders = expected_positive_part(m * lead, s)
        check(f"{sku} fill_rate", sku_stat(res, "fill_rate", j), served / m, ratio_units=m * days)
        check(f"{sku} cycle_service_level", sku_stat(res, "cycle_service_level", j), csl)
        check(f"{sku} avg_on_hand_units", sku_stat(res, "avg_on_hand_units", j), on_hand)
        check(f"{sku} avg_backorder_units", sku_stat(res, "avg_backorder_units", j), backorders)


# --------------------------------------------------------------------------- 2. lost sales, L = 1


def test_lost_sales_one_day_lead_matches_poisson_theory():
    """Daily review, order up to S, lead time 1 day, lost sales, Poisson(m) demand.

    Derivation (SPEC §3). Under ``lost`` there are no backorders, and with L = 1 nothing is on
    order at the end of a day before that day's review (yesterday's order arrived this morning),
    so IP = on-hand and the order S − on-hand arrives next morning: every day starts with exactly
    S on hand (day 0 too: the initial stock is S). Hence per day, with D ~ Poisson(m):
        served = min(D, S):  fill rate = E[min(D, S)]/m,  CSL = P(D ≤ S),
        lost = (D − S)^+:    lost_units/day = E[(D − S)^+] = m − E[min(D, S)],
        end-of-day on-hand = (S − D)^+.
    All days are identical in distribution, so this holds with no warm-up.
    ``lost_units`` is a sum over the counted days, checked per day.
    """
    horizon, reps = 365, 200
    skus = {"L1": 1.5, "L2": 3.0, "L3": 8.0}
    levels = {"L1": 2, "L2": 4, "L3": 10}
    d = scenario(
        skus,
        {"wh": {"type": "fbm"}},
        [
            {
                "name": "lost",
                "fulfil_from": ["wh"],
                "unmet_demand": "lost",
                "replenish": {
                    "wh": supplier_lane(
                        1, {"type": "order_up_to", "review_days": 1, "level": levels}
                    )
                },
            }
        ],
        horizon,
        0,
        reps,
        seed=12,
    )
    res = run(d)
    for j, (sku, m) in enumerate(skus.items()):
        s = levels[sku]
        served = expected_min(m, s)
        on_hand = float(((s - np.arange(s + 1)) * pois_pmf(m, s)).sum())
        check(f"{sku} fill_rate", sku_stat(res, "fill_rate", j), served / m, m * horizon)
        check(
            f"{sku} cycle_service_level",
            sku_stat(res, "cycle_service_level", j),
            float(stats.poisson.cdf(s, m)),
        )
        check(f"{sku} lost/day", sku_stat(res, "lost_units", j), m - served, scale=horizon)
        check(f"{sku} avg_on_hand_units", sku_stat(res, "avg_on_hand_units", j), on_hand)
        assert sku_stat(res, "backordered_units", j)[0] == 0


# --------------------------------------------------------------------------- 3. delivery rule


def _nth_allowed_after(day: dt.date, allowed: set[str], n: int) -> dt.date:
    """The n-th date strictly after ``day`` whose weekday is in ``allowed``."""
    seen = 0
    while seen < n:
        day += dt.timedelta(days=1)
        if WEEKDAYS[day.weekday()] in allowed:
            seen += 1
    return day


def delivery_offset(order: dt.date, handling: int, ship: set, deliver: set, transit: int) -> int:
    """Days from order date to delivery date under SPEC §3 (an independent implementation).

    Ship day: H = 0 → the first ship weekday on or after the order day; H ≥ 1 → the H-th ship
    weekday strictly after it. Delivery day: T = 0 → the ship day; else the T-th delivery
    weekday strictly after the ship day.
    """
    if handling == 0:
        shipped = order
        while WEEKDAYS[shipped.weekday()] not in ship:
            shipped += dt.timedelta(days=1)
    else:
        shipped = _nth_allowed_after(order, ship, handling)
    delivered = shipped if transit == 0 else _nth_allowed_after(shipped, deliver, transit)
    return (delivered - order).days


DELIVERY_CASES = {
    # H ≥ 1, ship Mon–Fri, deliver Mon–Sat, mixed transit, constant demand
    "h2-weekdays": dict(
        node=dict(
            handling_days=2,
            ship_weekdays=["mon", "tue", "wed", "thu", "fri"],
            delivery_weekdays=["mon", "tue", "wed", "thu", "fri", "sat"],
            transit_days={
                "dist": "discrete",
                "values": [1, 2, 3, 5],
                "probs": [0.3, 0.4, 0.2, 0.1],
            },
            promise_days=5,
        ),
        weekly=None,
        start="2026-01-07",
    ),
    # H = 1, ship Mon/Wed/Fri only, deliver every day
    "h1-mwf": dict(
        node=dict(
            handling_days=1,
            ship_weekdays=["mon", "wed", "fri"],
            transit_days={"dist": "discrete", "values": [1, 2, 4], "probs": [0.5, 0.3, 0.2]},
            promise_days=4,
        ),
        weekly=None,
        start="2026-03-01",
    ),
    # H = 0, weekend-heavy demand: Saturday's and Sunday's orders wait for Monday's pick-up
    "h0-weekend": dict(
        node=dict(
            handling_days=0,
            ship_weekdays=["mon", "tue", "wed", "thu", "fri"],
            delivery_weekdays=["mon", "tue", "wed", "thu", "fri"],
            transit_days={"dist": "discrete", "values": [0, 1, 2], "probs": [0.2, 0.5, 0.3]},
            promise_days=3,
        ),
        weekly=[1, 1, 1, 1, 1, 3, 3],
        start="2026-01-10",
    ),
}


@pytest.mark.parametrize("case", list(DELIVERY_CASES))
def test_on_time_rate_and_delivery_days_match_the_delivery_rule(case):
    """On-time rate and mean days to delivery of a node with plenty of stock.

    Derivation. Stock never runs out (10⁷ units on hand, no replenishment), so every unit
    demanded on day t is one order shipped from the node. Its delivery offset δ(w, T) (days from
    order day to delivery day) depends only on the order weekday w and the transit time T
    (computed by ``delivery_offset`` from SPEC §3's rules, by walking calendar dates). The
    transit time is drawn independently with P(T = T_k) = p_k, so with μ_t the mean demand of
    counted day t (its weekly multiplier × the base mean):
        E[on-time orders] = Σ_t μ_t Σ_k p_k·1[δ(w_t, T_k) ≤ P],   E[orders] = Σ_t μ_t,
        E[days to delivery] = Σ_t μ_t Σ_k p_k·δ(w_t, T_k),
    and the metrics are their ratios (plus the ratio-of-sums term of the module docstring). The
    counted days are whole weeks, so with constant demand this is the plain average over the 7
    order weekdays; the H = 0 case weights Saturday and Sunday 3× (``weekly`` multipliers).
    """
    spec = DELIVERY_CASES[case]
    node = {"type": "fbm", **spec["node"]}
    m, warmup, horizon, reps = 6.0, 7, 7 + 7 * 40, 150
    demand = {"distribution": "poisson", "mean_per_day": m}
    if spec["weekly"] is not None:
        demand["weekly"] = spec["weekly"]
    d = scenario(
        {"X": demand},
        {"n": node},
        [
            {
                "name": "ship",
                "fulfil_from": ["n"],
                "unmet_demand": "lost",
                "initial_on_hand": {"n": 10_000_000},
            }
        ],
        horizon,
        warmup,
        reps,
        seed=13,
        start=spec["start"],
    )
    res = run(d)

    ship, deliver = set(node["ship_weekdays"]), set(node.get("delivery_weekdays", WEEKDAYS))
    tr = node["transit_days"]
    start = dt.date.fromisoformat(spec["start"])
    weekly = spec["weekly"] or [1.0] * 7
    units = on_time = days_sum = 0.0
    for t in range(warmup, horizon):
        day = start + dt.timedelta(days=t)
        mu = m * weekly[day.weekday()]
        for T, p in zip(tr["values"], tr["probs"], strict=True):
            delta = delivery_offset(day, node["handling_days"], ship, deliver, T)
            on_time += mu * p * (delta <= node["promise_days"])
            days_sum += mu * p * delta
        units += mu
    exact_on_time, exact_days = on_time / units, days_sum / units
    assert 0.05 < exact_on_time < 0.95, "the case should have late and on-time orders"
    check(f"{case} on_time_rate", total_stat(res, "on_time_rate"), exact_on_time, units)
    check(f"{case} avg_delivery_days", total_stat(res, "avg_delivery_days"), exact_days, units)
    assert total_stat(res, "lost_units")[0] == 0


# --------------------------------------------------------------------------- 4. (R, S)


def test_periodic_review_backorders_match_poisson_theory():
    """Order up to S every R = 7 days, deterministic lead time L, backorders, Poisson(m).

    Derivation (SPEC §3). Reviews are at the end of days r ≡ 0 (mod 7); each lifts IP to S
    (IP ≤ S always: it starts at S and only falls between reviews). An order of day r arrives
    at the start of day r + L. At the end of day t the orders that have arrived are exactly those
    of reviews r ≤ t − L; let r' be the last of them. IP right after review r' was S, and since
    then demand D_{r'+1} … D_t has occurred while every later order is still in transit, so
        NI_t = S − Σ_{u=r'+1}^{t} D_u,   t − r' = L + j,   j = (t − L) mod 7 ∈ {0..6}.
    The day's demand finds on hand (S − X)^+ with X the demand of the L − 1 + j days before it
    (receipts first serve the backorders). The counted days (warm-up ≥ L, so r' ≥ 0) are whole
    weeks, so each phase j has weight 1/7, and with Y_k ~ Poisson(mk):
        avg_on_hand = (1/7) Σ_j E[(S − Y_{L+j})^+],  avg_backorder = (1/7) Σ_j E[(Y_{L+j} − S)^+],
        fill rate = (1/7) Σ_j E[min(D, (S − Y_{L−1+j})^+)]/m,  CSL = (1/7) Σ_j CSL_j.
    """
    lead, review, warmup, horizon, reps = 4, 7, 7, 7 + 7 * 45, 200
    skus = {"R1": 3.0, "R2": 6.0}
    levels = {"R1": 36, "R2": 70}
    d = scenario(
        skus,
        {"wh": {"type": "fbm"}},
        [
            {
                "name": "weekly",
                "fulfil_from": ["wh"],
                "unmet_demand": "backorder",
                "replenish": {
                    "wh": supplier_lane(
                        lead, {"type": "order_up_to", "review_days": review, "level": levels}
                    )
                },
            }
        ],
        horizon,
        warmup,
        reps,
        seed=14,
    )
    res = run(d)
    days = horizon - warmup
    for j, (sku, m) in enumerate(skus.items()):
        s = levels[sku]
        phases = range(review)
        oh_bo = [expected_positive_part(m * (lead + p), s) for p in phases]
        service = [base_stock_service(m, s, lead - 1 + p) for p in phases]
        on_hand = float(np.mean([x[0] for x in oh_bo]))
        backorders = float(np.mean([x[1] for x in oh_bo]))
        fill = float(np.mean([x[0] for x in service])) / m
        csl = float(np.mean([x[1] for x in service]))
        check(f"{sku} avg_on_hand_units", sku_stat(res, "avg_on_hand_units", j), on_hand)
        check(f"{sku} avg_backorder_units", sku_stat(res, "avg_backorder_units", j), backorders)
        check(f"{sku} fill_rate", sku_stat(res, "fill_rate", j), fill, m * days)
        check(f"{sku} cycle_service_level", sku_stat(res, "cycle_service_level", j), csl)


def test_service_level_sets_the_protection_period_level():
    """``service_level: p`` gives S = ⌈μ + z_p·σ⌉ over the protection period (SPEC §2).

    Protection period P = L + R − 1 days. Daily demand i.i.d. with mean m and variance v
    (Poisson: v = m). With a deterministic lead time, demand over P days has μ = m·P and
    σ² = v·P. With a random whole-day lead time L, the demand over L + R − 1 days is a random
    sum: μ = m·(E[L] + R − 1) and σ² = v·(E[L] + R − 1) + m²·Var[L] (law of total variance).
    Lead {dist: discrete, values: [3, 6], probs: [0.5, 0.5]}: E[L] = 4.5, Var[L] = 2.25.
    """
    z = stats.norm.ppf
    cases = {
        # strategy: (lead spec, review, {sku: (mean, service level)}, E[L], Var[L])
        "fixed": (5, 7, {"A": (4.0, 0.9), "B": (1.5, 0.98)}, 5.0, 0.0),
        "random": (
            {"dist": "discrete", "values": [3, 6], "probs": [0.5, 0.5]},
            7,
            {"A": (4.0, 0.95), "B": (1.5, 0.8)},
            4.5,
            2.25,
        ),
        "daily": (2, 1, {"A": (4.0, 0.99), "B": (1.5, 0.9)}, 2.0, 0.0),
    }
    strategies = [
        {
            "name": name,
            "fulfil_from": ["wh"],
            "replenish": {
                "wh": supplier_lane(
                    lead,
                    {
                        "type": "order_up_to",
                        "review_days": review,
                        "service_level": {k: v[1] for k, v in per_sku.items()},
                    },
                )
            },
        }
        for name, (lead, review, per_sku, _, _) in cases.items()
    ]
    d = scenario({"A": 4.0, "B": 1.5}, {"wh": {"type": "fbm"}}, strategies, 30, 0, 2, seed=1)
    model = sim.model.compile_scenario(sim.loader.validate(d))
    for strategy, (name, (_, review, per_sku, el, vl)) in zip(
        model.strategies, cases.items(), strict=True
    ):
        for j, (sku, (m, p)) in enumerate(per_sku.items()):
            period = el + review - 1
            raw = m * period + z(p) * math.sqrt(m * period + m * m * vl)
            assert abs(raw - round(raw)) > 1e-6, "choose a case away from an integer"
            got = int(strategy.lanes[0].level[j])
            assert got == math.ceil(raw), f"{name}/{sku}: level {got}, expected ⌈{raw:.4f}⌉"


# --------------------------------------------------------------------------- 5. identities


ROUTES = {"P1": ["B", "A", "C"], "P2": ["C", "B"], "default": ["A", "C"]}


def _identity_scenario(mode: str, routed: bool) -> dict:
    nodes = {"A": {"type": "sfp", "prime": False}, "B": {"type": "fbm"}, "C": {"type": "3pl"}}
    strategy = {
        "name": mode,
        "fulfil_from": ROUTES if routed else ["B", "A", "C"],
        "unmet_demand": mode,
        "replenish": {
            "A": supplier_lane(
                {"dist": "triangular", "low": 2, "mode": 4, "high": 9},
                {
                    "type": "s_Q",
                    "review_days": 1,
                    "reorder_point": {"default": 12, "P3": 4},
                    "quantity": {"default": 15, "P1": 25},
                },
            ),
            "B": {
                "from": "A",
                "lead_time_days": {"dist": "uniform", "low": 0.5, "high": 3},
                "policy": {
                    "type": "order_up_to",
                    "review_days": 2,
                    "level": {"default": 10, "P2": 14},
                },
            },
            "C": supplier_lane(
                {"dist": "discrete", "values": [2, 7], "probs": [0.6, 0.4]},
                {"type": "s_S", "review_days": 3, "reorder_point": 3, "order_up_to": 9},
            ),
        },
        "initial_on_hand": {"C": {"default": 2, "P1": 30}},
    }
    return scenario({"P1": 4.0, "P2": 7.0, "P3": 2.0}, nodes, [strategy], 150, 0, 12, seed=15)


@pytest.mark.parametrize("routed", [False, True], ids=["one-route", "per-sku-routes"])
@pytest.mark.parametrize("mode", ["lost", "backorder"])
def test_accounting_identities_hold_exactly(mode, routed):
    """Unit conservation, per node per day and overall, for random lead times and a transfer.

    Nodes A (supplier, s_Q), B (from A: a transfer, order-up-to every 2 days) and C (supplier,
    s_S); fulfilment B → A → C. Units enter only from the supplier and leave only to customers;
    a transfer order leaves A's on-hand when placed (end of day) and joins B at receipt. So:
    * per node n and day t (SPEC §3 order: receipts, backorder fills, demand, review):
      OH_t = OH_{t−1} + receipts_t − fills_t − served_t − transfers out_t, receipts_t being the
      lane orders of days u with u + lead_u = t; end-of-day on-hand ≥ 0;
    * overall: initial + supplier orders = served + backorder fills + final on-hand + units in
      transit on every lane (supplier and transfer);
    * per SKU: demand = served on the day + unmet; unmet is lost (``lost``) or backordered, and
      backordered = fills + final backorders, the end-of-day backorders being the running sum
      of unmet − fills; the metrics report those same numbers;
    * fallback order: a day with unmet demand (or waiting backorders) ends with every node of
      the SKU's route empty, and a node serves a SKU only once the nodes before it in the
      SKU's route are empty (one route B → A → C for all, or per-SKU routes).
    """
    model = sim.model.compile_scenario(sim.loader.validate(_identity_scenario(mode, routed)))
    st = model.strategies[0]
    days, n_nodes, n_skus = model.calendar.days, len(st.nodes), len(model.catalog.ids)
    name = {nd.name: i for i, nd in enumerate(st.nodes)}

    totals = dict(unmet=0, fills=0, transfers=0)
    for rep in range(model.replications):
        streams = sim.montecarlo.Streams(model.seed, rep)
        demand, _ = sim.montecarlo.draw_demand(model, streams)
        uniforms = {s: streams.shared(*s).random(days) for s in model.lead_streams}
        leads = {lane.stream: lane.lead.sample(uniforms[lane.stream]) for lane in st.lanes}
        tr = sim.engine.simulate(st, model.catalog, demand, leads, streams)

        fills = np.zeros((days, n_nodes, n_skus), dtype=np.int64)
        for f in tr.fills:
            assert f.order_day < f.day, "a backorder is filled on a later day"
            fills[f.day, f.node] += f.units
        receipts = np.zeros((days, n_nodes, n_skus), dtype=np.int64)
        out = np.zeros((days, n_nodes, n_skus), dtype=np.int64)
        for i, lane in enumerate(st.lanes):
            for u in range(days):
                if u + tr.lead_days[i, u] < days:
                    receipts[u + tr.lead_days[i, u], lane.node] += tr.orders[i, u]
            if lane.is_transfer:
                out[:, lane.source] += tr.orders[i]
        served = tr.served
        prev = np.vstack([tr.initial[None], tr.on_hand[:-1]])
        balance = prev + receipts - fills - served - out
        bad = np.argwhere(balance != tr.on_hand)
        assert len(bad) == 0, f"rep {rep}: node balance fails at (day, node, sku) {bad[0]}"
        assert (tr.on_hand >= 0).all()
        assert np.array_equal(tr.final_on_hand, tr.on_hand[-1])

        supplier = sum(tr.orders[i].sum(axis=0) for i, ln in enumerate(st.lanes) if ln.source < 0)
        transit = sum(tr.in_transit(i) for i in range(len(st.lanes)))
        lhs = tr.initial.sum(axis=0) + supplier
        rhs = served.sum(axis=(0, 1)) + fills.sum(axis=(0, 1)) + tr.final_on_hand.sum(0) + transit
        assert np.array_equal(lhs, rhs), f"rep {rep}: {lhs} in vs {rhs} out"

        same_day = served.sum(axis=1)  # (days, skus)
        unmet = demand - same_day
        assert (unmet >= 0).all()
        route = {
            j: [name[x] for x in (ROUTES.get(sku, ROUTES["default"]) if routed else "BAC")]
            for j, sku in enumerate(model.catalog.ids)
        }
        empty = np.stack(
            [(tr.on_hand[:, route[j], j] == 0).all(axis=1) for j in range(n_skus)], axis=1
        )
        for j, nodes in route.items():
            outside = [n for n in range(n_nodes) if n not in nodes]
            assert not served[:, outside, j].any(), "a SKU served from outside its route"
            for k in range(1, len(nodes)):
                earlier = tr.on_hand[:, nodes[:k], j].sum(axis=1)
                assert (earlier[served[:, nodes[k], j] > 0] == 0).all(), "route order broken"
        assert empty[unmet > 0].all(), "unmet demand while a fulfilment node had stock"
        measured = sim.metrics.measure(tr, st, model.catalog, model.calendar, streams)
        metric = {k: measured.skus[i] for k, i in sim.metrics.INDEX.items()}
        assert np.array_equal(metric["demand_units"], demand.sum(axis=0))
        assert np.array_equal(metric["sold_units"], same_day.sum(0) + fills.sum(axis=(0, 1)))
        if mode == "lost":
            assert not tr.fills and tr.backorders is None
            assert not tr.final_backorders.any()
            assert np.array_equal(metric["lost_units"], unmet.sum(axis=0))
        else:
            running = np.cumsum(unmet - fills.sum(axis=1), axis=0)
            assert np.array_equal(tr.backorders, running)
            assert np.array_equal(unmet.sum(0), fills.sum(axis=(0, 1)) + tr.final_backorders)
            assert np.array_equal(metric["backordered_units"], unmet.sum(axis=0))
            assert not metric["lost_units"].any()
            assert empty[tr.backorders > 0].all(), "backorders wait while a node had stock"
        totals["unmet"] += int(unmet.sum())
        totals["fills"] += int(fills.sum())
        totals["transfers"] += int(out.sum())
    # the scenario must exercise what it checks
    assert totals["unmet"] > 0 and totals["transfers"] > 0
    assert mode == "lost" or totals["fills"] > 0
