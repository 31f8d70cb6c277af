"""Numbers that change with the calendar month: policy numbers and durations by month.

A policy number (``level``, ``reorder_point``, ``quantity``, ``cover_days``, ``service_level``,
``safety``) may be a month mapping such as ``{default: 300, nov: 700, dec: 900}``, alone or as the
value of a SKU id in a per-SKU mapping. Keys ``jan``..``dec`` are always months (a SKU whose id
is a month name must be renamed to get its own number; ``validate`` says so). A day takes the
value of its calendar month. ``check_in_days``, ``capacity_cubic_feet`` and a lane leg's
``days`` may be month mappings too; their month is that of the order day (check-in: the day the
shipment reaches Amazon), and the random draw stays the same uniform from the same stream, so
strategies keep common random numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from sim import scenario as sc
from sim.distributions import WholeDays, whole_days


def calendar_months(start: dt.date, days: int) -> np.ndarray:
    """(days,) calendar month of each day from ``start``, 0 = January."""
    d = np.datetime64(start, "D") + np.arange(days)
    return d.astype("datetime64[M]").astype(np.int64) % 12


def run_months(start: dt.date, days: int) -> np.ndarray:
    """(days,) months since the month of ``start`` (0 for the first month of the run)."""
    d = np.datetime64(start, "D") + np.arange(days)
    first = np.datetime64(start, "M").astype(np.int64)
    return d.astype("datetime64[M]").astype(np.int64) - first


def _by_month(value) -> list:
    """Twelve values (January first) of a plain value or a month mapping."""
    if sc.month_mapping(value):
        return [value.get(m, value.get("default")) for m in sc.MONTHS]
    return [value] * 12


def month_table(value, ids, fallback: float = 0.0) -> np.ndarray:
    """(12, skus) a policy number's value for each calendar month and SKU."""
    if value is None:
        return np.full((12, len(ids)), float(fallback))
    if sc.month_mapping(value) or not isinstance(value, Mapping):
        column = np.array([float(v) for v in _by_month(value)])
        return np.repeat(column[:, None], len(ids), axis=1)
    out = np.empty((12, len(ids)))
    for j, sku in enumerate(ids):
        out[:, j] = [float(v) for v in _by_month(value.get(sku, value.get("default", fallback)))]
    return out


def has_months(value) -> bool:
    """A policy number (or a model of them, like ``safety``) changes with the month."""
    if isinstance(value, sc.Strict):
        return any(has_months(getattr(value, f)) for f in type(value).model_fields)
    if sc.month_mapping(value):
        return True
    return isinstance(value, Mapping) and any(sc.month_mapping(v) for v in value.values())


def for_month(policy, month: int, ids):
    """A copy of ``policy`` (or of its ``safety``) with every month-dependent number replaced by
    its per-SKU values in calendar month ``month`` (0 = January)."""
    update = {}
    for name in type(policy).model_fields:
        value = getattr(policy, name)
        if name == "review_days":
            continue
        if isinstance(value, sc.Safety):
            update[name] = for_month(value, month, ids)
        elif has_months(value):
            table = month_table(value, ids)
            update[name] = {sku: float(table[month, j]) for j, sku in enumerate(ids)}
    return policy.model_copy(update=update)


def durations_by_month(spec, minimum: int) -> tuple[WholeDays, ...] | None:
    """Twelve whole-day distributions (January first) of a duration given by month, or None
    for a plain duration."""
    if not sc.month_mapping(spec) and not (isinstance(spec, Mapping) and "default" in spec):
        return None
    cache: dict[int, WholeDays] = {}
    out = []
    for v in _by_month(spec):
        if id(v) not in cache:
            cache[id(v)] = whole_days(v, minimum=minimum)
        out.append(cache[id(v)])
    return tuple(out)


def mixture(parts: tuple[WholeDays, ...], months: np.ndarray) -> WholeDays:
    """The distribution of a duration of a random day of the run: the months' distributions
    weighted by their days (what the run-average formulas use)."""
    weights = np.bincount(months, minlength=12) / len(months)
    values = np.unique(np.concatenate([p.values for p in parts]))
    probs = np.zeros(len(values))
    for m, part in enumerate(parts):
        if weights[m] > 0:
            probs[np.searchsorted(values, part.values)] += weights[m] * part.probs
    keep = probs > 0
    return WholeDays(values[keep], probs[keep] / probs[keep].sum())


def sample_by_month(parts: tuple[WholeDays, ...], months: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Whole days for uniforms ``u``, each from the distribution of its day's month (same
    uniform whatever the month: common random numbers)."""
    out = np.empty(len(u), dtype=np.int64)
    for m in np.unique(months).tolist():
        at = months == m
        out[at] = parts[m].sample(u[at])
    return out
