"""Confidence intervals and paired comparisons across replications.

Student-t quantiles are computed here from the exact t distribution function for whole degrees
of freedom (Abramowitz & Stegun 26.7.3-4), so a run does not pay for importing scipy.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def t_cdf(x: float, df: int) -> float:
    """P(T ≤ x) for Student's t with a whole number ``df`` ≥ 1 of degrees of freedom."""
    theta = math.atan2(x, math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    if df % 2 == 1:
        total, term = 0.0, c
        if df > 1:
            total = term
            for k in range(3, df, 2):
                term *= c * c * (k - 1) / k
                total += term
        a = (2 / math.pi) * (theta + s * total)
    else:
        total, term = 1.0, 1.0
        for k in range(2, df, 2):
            term *= c * c * (k - 1) / k
            total += term
        a = s * total
    return 0.5 + 0.5 * a


@functools.lru_cache(maxsize=256)
def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with whole ``df`` ≥ 1.

    Bisection on the exact distribution function up to 300 degrees of freedom; beyond, the
    Cornish-Fisher expansion in 1/df (error below 1e-9 there).
    """
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    if df > 300:
        z = NormalDist().inv_cdf(p)
        return (
            z
            + (z**3 + z) / (4 * df)
            + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * df**4)
        )
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class Interval:
    """Mean over replications with a two-sided Student-t interval and the standard deviation."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    std: float | None
    n: int

    def to_dict(self) -> dict:
        return {"mean": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high, "std": self.std}

    @property
    def half_width(self) -> float | None:
        return None if self.ci_high is None else (self.ci_high - self.ci_low) / 2


def interval_from_moments(n: int, mean: float, m2: float, confidence: float) -> Interval:
    """Interval from a count, mean and sum of squared deviations (NaN-free replications)."""
    if n == 0:
        return Interval(None, None, None, None, 0)
    if n == 1:
        return Interval(float(mean), None, None, None, 1)
    std = math.sqrt(max(m2, 0.0) / (n - 1))
    half = t_quantile(0.5 + confidence / 2, n - 1) * std / math.sqrt(n)
    return Interval(float(mean), float(mean - half), float(mean + half), std, n)


def interval_arrays(
    n: np.ndarray, mean: np.ndarray, m2: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(n, mean, ci_low, ci_high, std)`` of :func:`interval_from_moments` for whole arrays of
    counts, means and sums of squared deviations at once (the same numbers, element by
    element). Entries with ``n <= 1`` have no interval (their ``ci_low``, ``ci_high`` and
    ``std`` are meaningless) and entries with ``n == 0`` no mean: the caller masks them."""
    n = np.asarray(n, dtype=np.int64)
    mean = np.asarray(mean)
    tq = np.zeros(n.shape)
    for df in np.unique(n[n > 1] - 1).tolist():
        tq[n == df + 1] = t_quantile(0.5 + confidence / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        std = np.sqrt(np.maximum(m2, 0.0) / (n - 1))
        half = tq * std / np.sqrt(n)
    return n, mean, mean - half, mean + half, std


def interval_dicts(n: np.ndarray, mean: np.ndarray, m2: np.ndarray, confidence: float) -> list:
    """``interval_from_moments(...).to_dict()`` for whole 2-D arrays of counts, means and sums
    of squared deviations at once (the same numbers, element by element): a list of rows."""
    rows = []
    for n_row, *row in zip(
        *(a.tolist() for a in interval_arrays(n, mean, m2, confidence)), strict=True
    ):
        cells = []
        for k, m, lo, hi, sd in zip(n_row, *row, strict=True):
            if k > 1:
                cells.append({"mean": m, "ci_low": lo, "ci_high": hi, "std": sd})
            else:
                cells.append(
                    {"mean": m if k else None, "ci_low": None, "ci_high": None, "std": None}
                )
        rows.append(cells)
    return rows


def clipped(stat: dict, low: float, high: float) -> dict:
    """``stat`` (a ``to_dict()`` of an interval) with ``ci_low`` and ``ci_high`` clipped to
    [low, high], the values the metric can take; ``mean`` and ``std`` are unchanged. The true mean
    lies in [low, high], so clipping never makes the interval miss it (a Student-t interval of a
    rate near 0 or 1 from few replications can reach past the bounds)."""
    if stat["ci_low"] is None:
        return stat
    return {
        **stat,
        "ci_low": min(max(stat["ci_low"], low), high),
        "ci_high": min(max(stat["ci_high"], low), high),
    }


def interval(values: np.ndarray, confidence: float) -> Interval:
    """Interval over the replications' values, ignoring NaN (a metric a replication lacks)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return Interval(None, None, None, None, 0)
    mean = float(x.mean())
    return interval_from_moments(len(x), mean, float(((x - mean) ** 2).sum()), confidence)


@dataclass(frozen=True)
class Paired:
    """Paired difference strategy − baseline over replications where both have a value."""

    diff: Interval
    win_rate: float | None


def paired(a: np.ndarray, b: np.ndarray, confidence: float, lower_is_better: bool) -> Paired:
    """Mean difference a − b with its interval, and the share of replications a beats b (None
    when a and b are equal in every replication: there is nothing to win)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = ~(np.isnan(a) | np.isnan(b))
    d = a[ok] - b[ok]
    if len(d) == 0 or not d.any():
        return Paired(interval(d, confidence), None)
    wins = (d < 0) if lower_is_better else (d > 0)
    return Paired(interval(d, confidence), float(wins.mean()))
