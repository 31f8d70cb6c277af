"""Rules every scenario value obeys whatever its key: numbers are numbers and bounded, text has
no control characters.

``sim.scenario.Strict`` applies ``harden`` to the annotation of every field of every scenario
model when the model class is created (before pydantic builds its validator), so a key added
later gets the same rules without writing them:

* ``float`` and ``int`` are validated in pydantic's strict mode: ``true``/``false`` and text
  (``"12"``) are refused instead of being read as 1, 0 or 12; an ``int`` refuses ``12.0`` too
  (a ``float`` accepts ``12``).
* A number without an upper bound of its own gets ``≤ MAX_NUMBER`` (and ``≥ -MAX_NUMBER`` without
  a lower bound): money, rates and sizes stay where float arithmetic over 36,500 days × 10⁷
  units a day cannot overflow. Keys that need more (or less) say so with their own ``le``.
* Text (values and mapping keys) refuses control characters (C0, DEL, C1: ESC, CR, BEL…), which
  would otherwise reach the terminal in messages and tables; ``description`` keys may hold
  line breaks and tabs.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any

import annotated_types as at
from pydantic import GetCoreSchemaHandler
from pydantic.fields import FieldInfo

MAX_NUMBER = 1e6
"""Default bound of a number whose key has no upper bound of its own (USD, rates, sizes…)."""

MAX_INCHES = 2_000
"""Any one side of a unit, in inches (Amazon's size tiers end with extra-large above 59 in and
Overmax above 96 in: sim/fees/data/us.yaml, size_tiers; 2,000 in leaves room for freight)."""
MAX_POUNDS = 10_000
"""A unit's weight in pounds (the last size tier is extra-large above 150 lb, same source)."""
MAX_PRICE = MAX_NUMBER
"""A unit's price in US dollars."""

# Written as regex escapes (not the characters themselves): the JSON Schema shows them as text.
ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTI_LINE = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"  # tab and line feed allowed
MULTI_LINE_FIELDS = frozenset({"description"})


_hardened: dict[int, Any] = {}
"""The annotations ``harden`` made, by id (fields are shared between subclasses: a field seen
again is left as it is). Kept here rather than as a marker in the annotation's metadata, which
pydantic would inspect like every other constraint, once per use of the annotation."""


def _made(ann: Any) -> Any:
    _hardened[id(ann)] = ann
    return ann


@dataclass(frozen=True)
class _Rules:
    """The rules ``harden`` adds to a number or text, as one annotation: the core schema pydantic
    would make of ``Strict()``, ``Le``, ``Ge`` (a pattern for text) written at once, which is
    cheaper for pydantic to build than the three (the validation and the JSON Schema are the
    same)."""

    constraints: tuple[tuple[str, Any], ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler):
        return {**handler(source), **dict(self.constraints)}


def harden_field(name: str, field: FieldInfo) -> None:
    """Rewrite ``field``'s annotation in place (see the module docstring)."""
    upper, lower = _bounds(field.metadata)
    field.annotation = harden(field.annotation, upper, lower, name in MULTI_LINE_FIELDS)


def harden(ann: Any, upper: bool = False, lower: bool = False, multi_line: bool = False) -> Any:
    """``ann`` with strict, bounded numbers and control-free text at every level.

    ``upper``/``lower`` say the number at this level is already bounded above/below (by the
    field's own constraints).
    """
    if ann is float or ann is int:
        rules: list = [("strict", True)]
        if not upper:
            rules.append(("le", MAX_NUMBER))
        if not lower:
            rules.append(("ge", -MAX_NUMBER))
        return _made(Annotated[ann, _Rules(tuple(rules))])
    if ann is str:
        pattern = MULTI_LINE if multi_line else ONE_LINE
        return _made(Annotated[str, _Rules((("pattern", pattern),))])
    if _hardened.get(id(ann)) is ann:
        return ann
    origin = typing.get_origin(ann)
    if origin is Annotated:
        inner, *meta = typing.get_args(ann)
        up, low = _bounds(meta)
        return _made(Annotated[(harden(inner, upper or up, lower or low, multi_line), *meta)])
    if origin in (typing.Union, types.UnionType):
        members = tuple(harden(m, upper, lower, multi_line) for m in typing.get_args(ann))
        return typing.Union[members]  # noqa: UP007 - built from a tuple
    if origin is list:
        (item,) = typing.get_args(ann)
        return list[harden(item)]
    if origin is dict:
        key, value = typing.get_args(ann)
        return dict[harden(key), harden(value)]
    return ann  # models harden their own fields; literals, dates, bools, Any stay


def _bounds(meta) -> tuple[bool, bool]:
    """Whether constraints in ``meta`` bound a number above and below."""
    flat = []
    for m in meta:
        flat.extend(m.metadata if isinstance(m, FieldInfo) else [m])
    upper = any(isinstance(m, at.Le | at.Lt) for m in flat)
    lower = any(isinstance(m, at.Ge | at.Gt) for m in flat)
    return upper, lower
