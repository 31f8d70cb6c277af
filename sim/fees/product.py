"""The product being priced (packaged size, weight, price) and the fee engine's error type."""

from __future__ import annotations

from dataclasses import dataclass

from sim.bounds import MAX_INCHES, MAX_POUNDS, MAX_PRICE
from sim.errors import UserError

CM_PER_INCH = 2.54
KG_PER_LB = 0.45359237
CUBIC_INCHES_PER_CUBIC_FOOT = 1728.0

_MEASURES = ("length_in", "width_in", "height_in", "weight_lb")
_LIMITS = {"length_in": MAX_INCHES, "width_in": MAX_INCHES, "height_in": MAX_INCHES}


class FeeError(UserError):
    """A product, date or category the fee tables cannot price.

    Locations are the field names of the input (``weight_lb``, ``price``, ``date``,
    ``category``...), so a caller can map them to its own option or key names.
    """


@dataclass(frozen=True)
class Product:
    """One sellable unit as packaged and ready to ship, in inches, pounds and US dollars.

    The dimensions may be given in any order; fee rules use them sorted (longest, median,
    shortest). Raises FeeError for a missing or non-positive measure or a negative price, and
    for a side over ``MAX_INCHES``, a weight over ``MAX_POUNDS`` or a price over ``MAX_PRICE``
    (beyond them the fee arithmetic would lose its meaning, or overflow).
    """

    length_in: float
    width_in: float
    height_in: float
    weight_lb: float
    price: float

    def __post_init__(self) -> None:
        problems = [
            (name, why)
            for name in _MEASURES
            if (why := _bad_measure(getattr(self, name), _LIMITS.get(name, MAX_POUNDS)))
        ]
        if self.price is None:
            problems.append(("price", "missing"))
        elif not _is_number(self.price) or not 0 <= self.price <= MAX_PRICE:
            problems.append(
                ("price", f"must be a number between 0 and {MAX_PRICE:,.0f}, got {self.price!r}")
            )
        if problems:
            raise FeeError(problems)

    @classmethod
    def from_metric(
        cls, length_cm: float, width_cm: float, height_cm: float, weight_kg: float, price: float
    ) -> Product:
        """Build a product from centimetres and kilograms (exact conversion factors)."""
        return cls(
            length_in=_divide(length_cm, CM_PER_INCH),
            width_in=_divide(width_cm, CM_PER_INCH),
            height_in=_divide(height_cm, CM_PER_INCH),
            weight_lb=_divide(weight_kg, KG_PER_LB),
            price=price,
        )

    @property
    def sorted_dims(self) -> tuple[float, float, float]:
        """(longest, median, shortest) side in inches."""
        longest, median, shortest = sorted(
            (self.length_in, self.width_in, self.height_in), reverse=True
        )
        return longest, median, shortest

    @property
    def length_plus_girth_in(self) -> float:
        """Longest side + 2 x (median + shortest), in inches."""
        longest, median, shortest = self.sorted_dims
        return longest + 2 * (median + shortest)


def cubic_feet(product: Product) -> float:
    """Unit volume in cubic feet (the basis of storage and aged-inventory fees)."""
    return product.length_in * product.width_in * product.height_in / CUBIC_INCHES_PER_CUBIC_FOOT


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bad_measure(value: object, limit: float) -> str | None:
    if value is None:
        return "missing"
    if not _is_number(value):
        return f"must be a positive number, got {value!r}"
    if not 0 < value <= limit:
        unit = "lb" if limit == MAX_POUNDS else "in"
        return f"must be a positive number ≤ {limit:,} {unit}, got {value:g} {unit}"
    return None


def _divide(value: float | None, factor: float) -> float | None:
    """Convert a metric measure, passing None and non-numbers through for validation."""
    return value / factor if _is_number(value) else value
