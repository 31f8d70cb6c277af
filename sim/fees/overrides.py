"""Checks a scenario's ``fee_overrides`` against the structure of the bundled fee tables.

Nothing here knows the shape of a particular section: the override is walked side by side with
the tables (``data/us.yaml``), and each value is compared with what the tables hold at the same
place. Lists hold alike items, so an item of an override list is compared with every item of
the table's lists there; a key is compared with every value the tables have under that key.

* A mapping whose values are all mappings (``referral.categories``, ``rate_cards``) is a table
  keyed by names: a new name is allowed (its value is checked against the existing entries'),
  unless it is one letter or two away from an existing name (then it is reported as a typo).
* A mapping of three or more numbers or texts (``returns_processing_fee.thresholds``) is
  treated the same way.
* Any other mapping is a record: an unknown key is an error, with "did you mean".
* Where the tables hold a number, the override must be a number (not true/false, not text),
  finite, between 0 and ``MAX_FEE_NUMBER``; a date must be a date, a flag true or false, text
  text without control characters; ``null`` only where the tables have one.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

MAX_FEE_NUMBER = 1e6
MAX_LIST_ITEMS = 10_000
TYPO_CUTOFF = 0.85
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

Problem = tuple[tuple, str]


def check_overrides(overrides: Mapping[str, Any], tables: Mapping[str, Any]) -> list[Problem]:
    """``(location, problem)`` pairs for every part of ``overrides`` that does not fit
    ``tables``; locations are tuples of keys and indices inside ``overrides``."""
    return list(_check(overrides, [tables], ()))


def _check(value: Any, examples: list, at: tuple) -> Iterator[Problem]:
    if value is None:
        if None not in examples and examples:
            yield at, f"null is not allowed here (expected {_kinds(examples)})"
        return
    kind = _kind(value)
    like = [e for e in examples if _kind(e) == kind]
    if examples and not like:
        yield at, f"expected {_kinds(examples)}, got {_shown(value)}"
        return
    if kind == "mapping":
        yield from _check_mapping(value, like, at)
    elif kind == "list":
        if len(value) > MAX_LIST_ITEMS:
            yield at, f"a list of at most {MAX_LIST_ITEMS:,} items"
            return
        items = [item for e in like for item in e]
        for i, item in enumerate(value):
            yield from _check(item, items, (*at, i))
    elif kind == "number":
        if not math.isfinite(value):
            yield at, "must be a finite number"
        elif value < 0:
            yield at, "must be ≥ 0"
        elif value > MAX_FEE_NUMBER:
            yield at, f"must be ≤ {MAX_FEE_NUMBER:,.0f}"
    elif kind == "text" and _CONTROL.search(value):
        yield at, f"has a control character, not allowed here: {_shown(value)}"


def _check_mapping(value: Mapping, like: list[Mapping], at: tuple) -> Iterator[Problem]:
    known: dict[Any, list] = {}
    for e in like:
        for k, v in e.items():
            known.setdefault(k, []).append(v)
    open_table = bool(like) and all(_is_table(e) for e in like)
    entries = [v for e in like for v in e.values()]
    for key, item in value.items():
        where = (*at, key)
        if key in known:
            yield from _check(item, known[key], where)
            continue
        if not isinstance(key, str) or _CONTROL.search(key):
            yield where, f"keys here are names without control characters, got {_shown(key)}"
            continue
        names = [str(k) for k in known]
        if open_table:
            close = difflib.get_close_matches(key, names, n=1, cutoff=TYPO_CUTOFF)
            if close:
                yield where, f"unknown key; did you mean {close[0]!r}?"
            else:
                yield from _check(item, entries, where)
            continue
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f" (allowed: {', '.join(names)})"
        yield where, "unknown key" + _limit(hint)


def _is_table(mapping: Mapping) -> bool:
    """Whether a mapping of the fee tables is keyed by names (new names may be added)."""
    kinds = {_kind(v) for v in mapping.values()}
    if kinds == {"mapping"}:
        return len(mapping) >= 2
    return len(mapping) >= 3 and len(kinds) == 1 and kinds <= {"number", "text"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return "null" if value is None else type(value).__name__


def _kinds(examples: list) -> str:
    names = dict.fromkeys(
        {
            "number": "a number",
            "mapping": "a mapping",
            "list": "a list",
            "date": "a date (YYYY-MM-DD, unquoted)",
        }.get(k, k)
        for k in map(_kind, examples)
        if k != "null"
    )
    return " or ".join(names) or "nothing"


def _shown(value: Any) -> str:
    from sim.errors import excerpt

    if isinstance(value, bool):
        return str(value).lower()
    return excerpt(value)


def _limit(text: str, n: int = 200) -> str:
    return text if len(text) <= n else text[: n - 2] + " …"
