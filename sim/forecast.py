"""The ``forecast_up_to`` policy: order up to the seasonal forecast of the protection period.

At a review at the end of day t (SPEC §3), an order placed now arrives at the start of day
t + L and the next order (placed at t + R) at the start of t + R + L, so this order must cover
the demand of days t+1 … t+L+R−1: the protection period, L the lead time (FBA check-in
included) and R ``review_days``. The level is taken from the scenario's own demand model — the
expected demand of each day, ``mean_per_day`` × weekly × monthly × trend (× (1 + prime_uplift) at
a node whose offer carries the Prime badge) — so it rises ahead of a peak and falls before the
peak ends. Safety on top:

- ``service_level: p``: the level is the p-quantile of the period's demand. With a fixed lead
  time the period's demand is a sum of independent days: Poisson days sum to a Poisson with
  the summed mean, negative-binomial days (a fixed variance-to-mean ratio, so one ``p`` for
  every day) to a negative binomial with the summed size, so the quantile is exact. With a
  random lead time (a mixture over L) and for normal or empirical demand it is the normal
  approximation μ + z_p·σ, with μ and σ² the exact mean and variance of the mixture
  (lead-time variance included).
- ``safety: {days: N}``: plus the expected demand of the N days after the period;
  ``safety: {units: N}``: plus N units.
- ``cover_days: c``: the expected demand of days t+1 … t+c instead of the protection period
  (plus ``safety`` when given). Fractional days count the next day pro rata.

A node that feeds other nodes (a 3PL or AWD sending stock to FBA) sees their orders, not
customers: its forecast is approximated as the downstream nodes' demand forecasts shifted
earlier by their mean lead times (the downstream orders on day s what it expects to sell around
s + L), summed over the nodes it feeds.

Levels are (days, skus) arrays computed once at compile time with cumulative sums of the daily
means. With ``forecast_error: {cv, bias}`` the policy forecasts with the true mean × a
lognormal error of mean 1 + bias and that cv, one per SKU and month of the run, drawn from the
stream ``("forecast_error", sku)`` of the replication (shared by strategies: common random
numbers); the levels are then recomputed per replication. Without it the policy knows the true
demand model, which is optimistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim import scenario as sc
from sim.distributions import WholeDays, daily_multipliers, total_days
from sim.seasonal import calendar_months, month_table, run_months


@dataclass(frozen=True)
class Forecast:
    """What one lane's forecast levels are computed from (all per day of an extended
    calendar that reaches past the horizon by the longest window)."""

    ids: tuple[str, ...]
    days: int
    span: int  # days past the horizon the longest window reaches (plus pro rata slack)
    kinds: tuple[str, ...]  # each SKU's demand distribution
    ratio: np.ndarray  # (skus,) variance-to-mean ratio of a day's demand (negative binomial)
    mean: np.ndarray  # (ext, skus) expected customer demand per day (no uplift, no shift)
    var: np.ndarray  # (ext, skus) its variance
    parts: tuple[tuple[int, np.ndarray], ...]  # (shift days, (skus,) scale) summed
    leads: tuple[WholeDays, ...]  # distinct protection-lead distributions
    lead_of_day: np.ndarray  # (days,) index into ``leads`` of each review day
    review: np.ndarray  # (skus,)
    service: np.ndarray | None  # (days, skus) probability
    cover: np.ndarray | None  # (days, skus) days
    safety_days: np.ndarray | None
    safety_units: np.ndarray | None
    error: sc.ForecastError | None
    run_month: np.ndarray  # (ext,) months since the start month

    def levels(self, errors: np.ndarray | None = None) -> np.ndarray:
        """(days, skus) order-up-to level of every review day; ``errors`` (months, skus)
        multiplies the daily means of each month of the run (the forecast error)."""
        mean, var = self.mean, self.var
        if errors is not None:
            e = errors[self.run_month]
            mean = mean * e
            normal = np.array([k == "normal" for k in self.kinds])
            var = var * np.where(normal, e * e, e)
        node_mean = np.zeros((self.days + self.span, mean.shape[1]))
        node_var = np.zeros_like(node_mean)
        n = len(node_mean)
        for shift, scale in self.parts:
            node_mean += mean[shift : shift + n] * scale
            node_var += var[shift : shift + n] * scale
        return self._levels(node_mean, node_var)

    def replication_levels(self, streams) -> np.ndarray:
        """(days, skus) levels of one replication: with its forecast errors when the policy
        has ``forecast_error``, else the exact levels."""
        if self.error is None:
            return self.levels()
        months = int(self.run_month[-1]) + 1
        sigma2 = math.log1p(self.error.cv**2)
        mu = math.log1p(self.error.bias) - sigma2 / 2
        z = np.empty((months, len(self.ids)))
        for j, sku in enumerate(self.ids):
            z[:, j] = streams.new("forecast_error", sku).standard_normal(months)
        return self.levels(np.exp(mu + math.sqrt(sigma2) * z))

    def _levels(self, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
        days, skus = self.days, mean.shape[1]
        cum = np.zeros((len(mean) + 1, skus))
        np.cumsum(mean, axis=0, out=cum[1:])
        cumv = np.zeros_like(cum)
        np.cumsum(var, axis=0, out=cumv[1:])
        t = np.arange(days)[:, None]
        cols = np.arange(skus)[None, :]

        def window(c: np.ndarray, first: np.ndarray, k) -> np.ndarray:
            """Sum over days first+1 … first+k (k may be fractional: the last day pro rata)."""
            if first is start and np.ndim(k) == 0:  # one whole k for all: slices, no gather
                k = int(k)
                return c[1 + k : 1 + k + days] - c[1 : 1 + days]
            k = np.broadcast_to(np.asarray(k, dtype=float), (days, skus))
            whole = np.floor(k + 1e-9).astype(np.int64)
            frac = np.maximum(k - whole, 0.0)
            a = c[first + whole, cols] - c[first, cols]
            return a + frac * (c[first + whole + 1, cols] - c[first + whole, cols])

        start = np.broadcast_to(t + 1, (days, skus))
        if self.cover is not None:
            level = window(cum, start, self.cover)
            return _whole(level + self._safety(cum, start + np.floor(self.cover), window))
        level = np.zeros((days, skus))
        for g, lead in enumerate(self.leads):
            rows = self.lead_of_day == g
            if not rows.any():
                continue
            mu = np.zeros((days, skus))
            second = np.zeros((days, skus))
            var = np.zeros((days, skus))
            extra = np.zeros((days, skus))
            same_review = bool((self.review == self.review[0]).all())
            for value, p in zip(lead.values.tolist(), lead.probs.tolist(), strict=True):
                k = value + (int(self.review[0]) if same_review else self.review) - 1
                w = window(cum, start, k)
                mu += p * w
                if self.service is not None:  # the spread matters only for a quantile
                    second += p * w * w
                    var += p * window(cumv, start, k)
                if self.safety_days is not None:
                    extra += p * window(cum, start + k, self.safety_days)
            if self.service is None:
                x = mu + extra
                if self.safety_units is not None:
                    x = x + self.safety_units
                level[rows] = x[rows]
                continue
            sd = np.sqrt(np.maximum(var + second - mu * mu, 0.0))
            level[rows] = self._quantile(mu, sd, lead.is_constant)[rows]
        return _whole(level)

    def _safety(self, cum, after, window) -> np.ndarray:
        out = np.zeros((self.days, len(self.ids)))
        if self.safety_days is not None:
            out += window(cum, after.astype(np.int64), self.safety_days)
        if self.safety_units is not None:
            out += self.safety_units
        return out

    def _quantile(self, mu: np.ndarray, sd: np.ndarray, exact: bool) -> np.ndarray:
        """The service level's quantile of the period's demand, SKU by SKU."""
        p = self.service
        out = mu + _norm_ppf(p) * sd
        if not exact:
            return out

        for j, kind in enumerate(self.kinds):
            if kind == "poisson":
                out[:, j] = _poisson_ppf(p[:, j], mu[:, j])
            elif kind == "negative_binomial":
                r = self.ratio[j]
                size = np.maximum(mu[:, j] / (r - 1.0), 1e-300)
                q = _nbinom_ppf(p[:, j], size, 1.0 / r)
                out[:, j] = np.where(mu[:, j] > 0, q, 0.0)
        return out


# The quantiles of scipy.stats' norm, poisson and nbinom (``ppf``), computed as scipy.stats
# computes them, from the same scipy.special functions: importing scipy.special takes about a
# third of a second here, scipy.stats a second. Levels are in (0, 1) (the scenario checks it);
# a parameter outside a distribution's domain gives nan, as in scipy.stats, and ``+ 0.0`` is
# scipy.stats' ``+ loc``. tests/test_forecast.py checks them against scipy.stats bit for bit.


def _norm_ppf(q: np.ndarray) -> np.ndarray:
    """``scipy.stats.norm.ppf(q)``."""
    from scipy import special

    return special.ndtri(q) * 1.0 + 0.0


def _poisson_ppf(q: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``scipy.stats.poisson.ppf(q, mu)``."""
    from scipy import special

    vals = np.ceil(special.pdtrik(q, mu))
    vals1 = np.maximum(vals - 1, 0)
    temp = special.pdtr(vals1, mu)
    return np.where(mu >= 0, np.where(temp >= q, vals1, vals) + 0.0, np.nan)


def _scipy_nbinom_ppf():
    """The function scipy.stats.nbinom.ppf calls, or None: it is private, another scipy may
    not have it (then scipy.stats itself is used)."""
    from scipy.special import _ufuncs

    return getattr(_ufuncs, "_nbinom_ppf", None)


def _nbinom_ppf(q: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """``scipy.stats.nbinom.ppf(q, n, p)``."""
    ppf = _scipy_nbinom_ppf()
    if ppf is None:
        from scipy import stats

        return stats.nbinom.ppf(q, n, p)
    with np.errstate(over="ignore"):  # as scipy.stats (scipy gh-17432)
        value = ppf(q, n, p) + 0.0
    return np.where((n > 0) & (p > 0) & (p <= 1), value, np.nan)


def _whole(level: np.ndarray) -> np.ndarray:
    """Whole units, at least 0 (the same rounding as the order_up_to formulas)."""
    return np.maximum(0, np.ceil(level - 1e-9)).astype(np.int64)


def daily_demand(skus: list[sc.Sku], start, days: int) -> tuple[np.ndarray, np.ndarray]:
    """(days, skus) expected demand and its variance on each day from ``start`` (the calendar
    may reach past the horizon), seasonality and trend included, no Prime uplift."""
    weekday = start.weekday()
    months = calendar_months(start, days)
    mean = np.zeros((days, len(skus)))
    var = np.zeros((days, len(skus)))
    for j, s in enumerate(skus):
        d = s.demand
        mult = daily_multipliers(d, weekday, months)
        mean[:, j] = d.mean_per_day * mult
        if d.distribution == "normal":
            var[:, j] = (d.sd_per_day() * mult) ** 2
        elif d.mean_per_day > 0:
            var[:, j] = d.variance_per_day() / d.mean_per_day * mean[:, j]
    return mean, var


def build(
    scenario: sc.Scenario,
    policy: sc.ForecastUpTo,
    days: int,
    review: np.ndarray,
    leads: tuple[WholeDays, ...],
    lead_of_day: np.ndarray,
    parts: tuple[tuple[int, np.ndarray], ...],
) -> Forecast:
    """One lane's forecast: ``leads`` the distinct protection-lead distributions (lead time +
    check-in) with ``lead_of_day`` naming each review day's, ``parts`` the (shift, scale) of the
    customer demand the node's orders follow."""
    ids = tuple(scenario.sku_ids)
    months = calendar_months(scenario.start_date, days)

    def per_day(value):
        return None if value is None else month_table(value, ids)[months]

    safety = policy.safety
    cover = per_day(policy.cover_days)
    safety_days = per_day(safety.days) if safety else None
    longest = max(int(w.values[-1]) for w in leads) + int(review.max())
    extra = sum(float(a.max()) for a in (cover, safety_days) if a is not None)
    ext = days + longest + math.ceil(extra) + 2 + max(shift for shift, _ in parts)
    mean, var = daily_demand(scenario.skus, scenario.start_date, ext)
    skus = scenario.skus
    return Forecast(
        ids=ids,
        days=days,
        span=longest + math.ceil(extra) + 2,
        kinds=tuple(s.demand.distribution for s in skus),
        ratio=np.array(
            [
                s.demand.ratio() if s.demand.distribution == "negative_binomial" else 1.0
                for s in skus
            ]
        ),
        mean=mean,
        var=var,
        parts=parts,
        leads=leads,
        lead_of_day=lead_of_day,
        review=review,
        service=per_day(policy.service_level),
        cover=cover,
        safety_days=safety_days,
        safety_units=per_day(safety.units) if safety else None,
        error=policy.forecast_error,
        run_month=run_months(scenario.start_date, ext),
    )


def protection_leads(
    lead: WholeDays,
    lead_months: tuple[WholeDays, ...] | None,
    check_in: WholeDays | None,
    check_in_months: tuple[WholeDays, ...] | None,
    start,
    days: int,
) -> tuple[tuple[WholeDays, ...], np.ndarray]:
    """The distinct distributions of lead time + check-in of an order placed on each day, and
    which one each day's is: by month of the order day (lead) and of the day the mean lead
    brings it to Amazon (check-in)."""
    if lead_months is None and check_in_months is None:
        whole = lead if check_in is None else total_days([lead, check_in], minimum=1)
        return (whole,), np.zeros(days, dtype=np.int64)
    longest = max(int(w.values[-1]) for w in (lead, *(lead_months or ())))
    months = calendar_months(start, days + longest + 1)
    order_month = months[:days]
    found: dict[tuple[int, int], int] = {}
    out: list[WholeDays] = []
    index = np.zeros(days, dtype=np.int64)
    for t in range(days):
        lm = int(order_month[t])
        lt = lead if lead_months is None else lead_months[lm]
        am = int(months[t + round(lt.mean())])
        key = (lm if lead_months is not None else -1, am if check_in_months is not None else -1)
        if key not in found:
            ci = check_in if check_in_months is None else check_in_months[am]
            found[key] = len(out)
            out.append(lt if ci is None else total_days([lt, ci], minimum=1))
        index[t] = found[key]
    return tuple(out), index
