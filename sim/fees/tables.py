"""The fee tables: ``data/us.yaml`` loaded once, optional user overrides, dated look-ups."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from sim.fees.product import FeeError

DATA_PACKAGE = "sim.fees"
DATA_FILE = "us.yaml"
SECTION_FILES = {"awd": "awd.yaml", "mcf": "mcf.yaml"}  # more tables, each under its key
OZ_PER_LB = 16.0


@dataclass(frozen=True, eq=False)
class FeeTables:
    """The parsed fee data (the structure of ``data/us.yaml``), read-only by convention."""

    data: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def in_force(self, entries: Iterable[Mapping[str, Any]], on: dt.date, what: str) -> Mapping:
        """The first entry whose ``effective_from``..``effective_to`` (inclusive) holds ``on``.

        Raises FeeError (location ``date``) naming the dates the entries cover.
        """
        entries = list(entries)
        for entry in entries:
            if _covers(entry, on):
                return entry
        covered = ", ".join(_span(entry) for entry in entries)
        raise FeeError(("date", f"{on.isoformat()} is outside every {what} (covered: {covered})"))


@functools.cache
def default_tables() -> FeeTables:
    """The bundled US tables, parsed on first use and cached: ``us.yaml``, plus each file of
    ``SECTION_FILES`` under its key (the file's one top-level key of that name, or the whole
    file)."""
    data = _read(DATA_FILE)
    for key, name in SECTION_FILES.items():
        section = _read(name)
        data[key] = section[key] if list(section) == [key] else section
    return FeeTables(data)


def _read(name: str) -> dict:
    text = resources.files(DATA_PACKAGE).joinpath("data", name).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster
    return yaml.load(text, Loader=loader)


def load_tables(overrides: Mapping[str, Any] | None = None) -> FeeTables:
    """The bundled tables with ``overrides`` merged in (mappings merge key by key, anything
    else, lists included, replaces the default). Use it to replace unverified defaults."""
    data = copy.deepcopy(dict(default_tables().data))
    return FeeTables(_merge(data, overrides or {}))


def as_date(on: dt.date) -> dt.date:
    """``on`` as a plain date (a datetime is cut to its date)."""
    return on.date() if isinstance(on, dt.datetime) else on


def band_fee(rows: Mapping | list[Mapping], weight_lb: float, column: str | None = None) -> float:
    """The fee of the first weight band holding ``weight_lb`` (see the conventions in us.yaml).

    ``column`` picks the price-band value where a cell is a mapping (the 2026 card).
    """
    for row in rows if isinstance(rows, list) else [rows]:
        if weight_lb <= _max_lb(row):
            if "fee" in row:
                return round(_cell(row["fee"], column), 2)
            base = _cell(row["base"], column)
            excess = weight_lb - row.get("above_lb", 0.0)
            if excess <= 0 or "per_interval" not in row:
                return round(base, 2)
            # Rounding to 9 places keeps 0.1 + 0.2-style float noise from adding an interval.
            intervals = math.ceil(round(excess / row["interval_lb"], 9))
            return round(base + row["per_interval"] * intervals, 2)
    raise FeeError(("fee_tables", f"no weight band holds {weight_lb:g} lb"))


def _max_lb(row: Mapping) -> float:
    if "max_oz" in row:
        return row["max_oz"] / OZ_PER_LB
    return row.get("max_lb", math.inf)


def _cell(value: Any, column: str | None) -> float:
    return value[column] if isinstance(value, Mapping) else value


def _covers(entry: Mapping, on: dt.date) -> bool:
    start, end = entry.get("effective_from"), entry.get("effective_to")
    return (start is None or start <= on) and (end is None or on <= end)


def _span(entry: Mapping) -> str:
    start, end = entry.get("effective_from"), entry.get("effective_to")
    if start is None:
        return f"until {end}"
    return f"{start} to {end}" if end is not None else f"from {start}"


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base
