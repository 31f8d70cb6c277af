"""Turn duration and demand specs into fast, vectorized samplers.

Durations that move stock are whole days, so every duration is reduced to the exact probability
mass function of its value rounded up (``ceil``), with a floor (1 day for lead times, 0 for
transit). Sampling is inversion of that pmf from uniforms, so two strategies fed the same
uniforms get coupled draws (common random numbers) even when their distributions differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from sim import scenario as sc

TAIL = 1e-12  # probability mass left out beyond the largest value kept
MAX_DAYS = sc.MAX_HORIZON_DAYS


@dataclass(frozen=True)
class WholeDays:
    """The distribution of a duration rounded up to whole days: ``values`` with ``probs``."""

    values: np.ndarray  # int64, increasing
    probs: np.ndarray  # float64, sums to 1

    @property
    def cumulative(self) -> np.ndarray:
        return np.cumsum(self.probs)

    @property
    def is_constant(self) -> bool:
        return len(self.values) == 1

    def mean(self) -> float:
        return float(self.values @ self.probs)

    def variance(self) -> float:
        m = self.mean()
        return float(((self.values - m) ** 2) @ self.probs)

    def sample(self, u: np.ndarray) -> np.ndarray:
        """Days for uniforms ``u`` in [0, 1) (inversion: larger u, longer duration)."""
        if self.is_constant:
            return np.full(np.shape(u), self.values[0], dtype=np.int64)
        idx = np.searchsorted(self.cumulative[:-1], u, side="right")
        return self.values[idx]


def whole_days(spec, minimum: int = 0) -> WholeDays:
    """The pmf of ``max(minimum, ceil(duration))`` for a duration spec (number or dist model)."""
    if isinstance(spec, int | float):
        return _point(max(minimum, math.ceil(spec)))
    if isinstance(spec, sc.Constant):
        return _point(max(minimum, math.ceil(spec.value)))
    if isinstance(spec, sc.Discrete):
        days = np.maximum(minimum, np.ceil(np.asarray(spec.values, dtype=float))).astype(np.int64)
        values, inverse = np.unique(days, return_inverse=True)
        probs = np.bincount(inverse, weights=np.asarray(spec.probs, dtype=float))
        return _keep(values, probs)
    cdf = _cdf(spec)
    hi = _upper_bound(spec)
    grid = np.arange(0, hi + 1, dtype=np.int64)
    F = np.clip(cdf(grid.astype(float)), 0.0, 1.0)
    F[-1] = 1.0
    probs = np.diff(F, prepend=0.0)  # P(ceil(T) = k) = F(k) - F(k-1); k = 0 gets P(T <= 0)
    values = np.maximum(grid, minimum)
    values, inverse = np.unique(values, return_inverse=True)
    probs = np.bincount(inverse, weights=probs)
    if not (np.isfinite(probs).all() and probs.sum() > 0):  # a degenerate shape: its mean
        return _point(max(minimum, math.ceil(spec.mean)))
    return _keep(values, probs)


def total_days(parts: list[WholeDays], minimum: int = 0) -> WholeDays:
    """The exact pmf of the sum of independent whole-day durations (at least ``minimum``)."""
    values, probs = np.array([0], dtype=np.int64), np.array([1.0])
    for part in parts:
        lo = int(values[0] + part.values[0])
        dense_a = np.zeros(int(values[-1] - values[0]) + 1)
        dense_a[values - values[0]] = probs
        dense_b = np.zeros(int(part.values[-1] - part.values[0]) + 1)
        dense_b[part.values - part.values[0]] = part.probs
        dense = np.convolve(dense_a, dense_b)
        keep = dense > TAIL * 1e-3
        values = (lo + np.arange(len(dense)))[keep].astype(np.int64)
        probs = dense[keep]
    values = np.maximum(values, minimum)
    values, inverse = np.unique(values, return_inverse=True)
    return _keep(values, np.bincount(inverse, weights=probs))


def _point(day: int) -> WholeDays:
    return WholeDays(np.array([day], dtype=np.int64), np.array([1.0]))


def _keep(values: np.ndarray, probs: np.ndarray) -> WholeDays:
    keep = probs > 0
    values, probs = values[keep], probs[keep]
    return WholeDays(values.astype(np.int64), probs / probs.sum())


def _upper_bound(spec) -> int:
    """A whole day beyond which at most ``TAIL`` probability remains."""
    if isinstance(spec, sc.Uniform | sc.Triangular):
        return math.ceil(spec.high)
    cdf = _cdf(spec)
    mean = spec.mean
    sd = max(spec.sd, 1e-9)
    hi = max(1, math.ceil(mean + 8 * sd))
    while cdf(np.array([float(hi)]))[0] < 1 - TAIL and hi < MAX_DAYS:
        hi = min(MAX_DAYS, hi * 2)
    return hi


def _cdf(spec):
    if isinstance(spec, sc.Uniform):
        lo, hi = spec.low, spec.high
        if hi == lo:
            return lambda x: (x >= lo).astype(float)
        return lambda x: np.clip((x - lo) / (hi - lo), 0, 1)
    if isinstance(spec, sc.Triangular):
        a, c, b = spec.low, spec.mode, spec.high
        if b == a:
            return lambda x: (x >= a).astype(float)

        def tri(x):
            x = np.clip(x, a, b)
            left = (x - a) ** 2 / ((b - a) * (c - a)) if c > a else np.ones_like(x)
            right = 1 - (b - x) ** 2 / ((b - a) * (b - c)) if b > c else np.ones_like(x)
            return np.where(x <= c, left, right)

        return tri
    if isinstance(spec, sc.Normal):
        if spec.sd == 0:
            return lambda x: (x >= spec.mean).astype(float)
        nd = NormalDist(spec.mean, spec.sd)
        f0 = nd.cdf(0.0)
        norm = np.vectorize(nd.cdf)
        return lambda x: np.clip((norm(x) - f0) / (1 - f0), 0, 1)  # truncated at 0
    if isinstance(spec, sc.Lognormal):
        if spec.sd / spec.mean < 1e-6:  # no spread to speak of: the mean itself
            return lambda x: (x >= spec.mean).astype(float)
        s2 = math.log(1 + (spec.sd / spec.mean) ** 2)
        nd = NormalDist(math.log(spec.mean) - s2 / 2, math.sqrt(s2))
        norm = np.vectorize(nd.cdf)
        return lambda x: np.where(x > 0, norm(np.log(np.maximum(x, 1e-300))), 0.0)
    if isinstance(spec, sc.Gamma):
        from scipy.special import gammainc  # imported only when a gamma duration is used

        shape = (spec.mean / spec.sd) ** 2
        scale = spec.sd**2 / spec.mean
        return lambda x: gammainc(shape, np.maximum(x, 0) / scale)
    raise TypeError(f"not a duration distribution: {spec!r}")


# --------------------------------------------------------------------------- demand


def daily_multipliers(demand, start_weekday: int, start_month_of_day: np.ndarray) -> np.ndarray:
    """Mean multiplier for each simulated day: weekly × monthly × (1 + trend × t / 365), ≥ 0."""
    days = len(start_month_of_day)
    t = np.arange(days)
    weekly = np.asarray(demand.weekly_factors())[(start_weekday + t) % 7]
    monthly = np.asarray(demand.monthly_factors())[start_month_of_day]
    trend = np.maximum(0.0, 1.0 + demand.trend_per_year * t / 365.0)
    return weekly * monthly * trend


class DemandSampler:
    """Draws one SKU's daily demand over the horizon from its own random stream."""

    def __init__(self, demand, multipliers: np.ndarray):
        self.spec = demand
        self.days = len(multipliers)
        self.kind = demand.distribution
        self.constant = False
        if self.kind == "empirical":
            self.mult = multipliers
            self.values = np.asarray(demand.values, dtype=float)
            self.scaled = not np.all(multipliers == 1.0)
            self._expected = float(self.values.mean() * multipliers.mean())
            return
        self.mean = demand.mean_per_day * multipliers
        self._expected = float(self.mean.mean())
        if self.kind == "negative_binomial":
            ratio = demand.ratio()
            self.p = 1.0 / ratio
            self.n = self.mean / (ratio - 1.0)
            self.zero = self.n <= 0
            self.n = np.where(self.zero, 1.0, self.n)
        elif self.kind == "normal":
            self.sd = demand.sd_per_day() * multipliers
            return  # drawn from the daily arrays, constant or not
        # a constant mean (no season, weekday factor or trend) keeps one day's parameters, not
        # one per day: a 10,000-SKU catalog holds 10,000 samplers
        self.constant = bool(np.all(self.mean == self.mean[0]))
        if self.constant:
            self.mean = self.mean[:1].copy()  # copies: a view would keep the daily arrays
            if self.kind == "negative_binomial":
                self.n, self.zero = self.n[:1].copy(), self.zero[:1].copy()

    def expected_mean(self) -> float:
        """Mean daily demand over the horizon (seasonality and trend included)."""
        return self._expected

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """Whole units demanded on each day of the horizon."""
        if self.kind == "poisson":
            if self.constant:
                return rng.poisson(self.mean[0], self.days)
            return rng.poisson(self.mean)
        if self.kind == "negative_binomial":
            if self.constant:  # the same draws, in the same order, without broadcasting
                d = rng.negative_binomial(self.n[0], self.p, self.days)
                if self.zero[0]:
                    d[:] = 0
                return d
            d = rng.negative_binomial(self.n, self.p)
            d[self.zero] = 0
            return d
        if self.kind == "normal":
            return np.rint(np.maximum(rng.normal(self.mean, self.sd), 0.0)).astype(np.int64)
        draws = self.values[rng.integers(0, len(self.values), size=self.days)]
        if not self.scaled:
            return np.rint(draws).astype(np.int64)
        # unbiased rounding of the scaled value: floor(x + U)
        return np.floor(draws * self.mult + rng.random(len(self.mult))).astype(np.int64)


def z_value(p: float) -> float:
    """Standard normal quantile."""
    return NormalDist().inv_cdf(p)
