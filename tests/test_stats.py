"""Intervals and paired comparisons against scipy and hand computation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sst

from sim.stats import interval, paired, t_cdf, t_quantile


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 10, 29, 99, 300, 301, 1000, 99_999])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.95, 0.975, 0.995, 0.9995])
def test_t_quantile_matches_scipy(df, p):
    assert t_quantile(p, df) == pytest.approx(sst.t.ppf(p, df), rel=1e-9)
    assert t_quantile(1 - p, df) == pytest.approx(sst.t.ppf(1 - p, df), rel=1e-9)


@pytest.mark.parametrize("df", [1, 2, 5, 6, 31])
@pytest.mark.parametrize("x", [-3.0, -0.4, 0.0, 1.1, 8.0])
def test_t_cdf_matches_scipy(df, x):
    assert t_cdf(x, df) == pytest.approx(sst.t.cdf(x, df), abs=1e-12)


def test_interval_is_the_student_t_interval():
    x = np.array([3.0, 5.0, 4.0, 8.0, 6.0])
    iv = interval(x, 0.9)
    lo, hi = sst.t.interval(0.9, 4, loc=x.mean(), scale=sst.sem(x))
    assert (iv.mean, iv.ci_low, iv.ci_high) == pytest.approx((x.mean(), lo, hi), rel=1e-12)
    assert iv.std == pytest.approx(x.std(ddof=1))


def test_interval_ignores_replications_without_a_value():
    iv = interval(np.array([1.0, np.nan, 3.0]), 0.95)
    assert iv.n == 2 and iv.mean == 2.0
    assert interval(np.array([np.nan]), 0.95).mean is None
    single = interval(np.array([4.0]), 0.95)
    assert single.mean == 4.0 and single.ci_low is None


def test_paired_difference_and_win_rate_respect_direction():
    a = np.array([10.0, 12.0, 9.0, 15.0])
    b = np.array([11.0, 10.0, 9.0, 11.0])
    up = paired(a, b, 0.95, lower_is_better=False)
    assert up.diff.mean == pytest.approx(np.mean(a - b))
    assert up.win_rate == 0.5  # 12>10 and 15>11; a tie is not a win
    down = paired(a, b, 0.95, lower_is_better=True)
    assert down.win_rate == 0.25
