"""The scenario file format: typed models, defaults, units, cross-checks and the JSON Schema.

A scenario describes a catalog (``skus``), the places stock is held (``nodes``) and the ways of
running them (``strategies``). Everything here is declarative; ``sim.model`` turns a validated
scenario into the numpy arrays the engine runs on.

Union-typed keys (a duration that is a number or a distribution, a policy number that is a
number or a per-SKU mapping) use callable discriminators whose tags start with ``TAG``; the
loader strips those tags from error locations so users see ``skus[2].demand.mean_per_day``.
"""

import datetime as dt
import itertools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.bounds import MAX_INCHES, MAX_POUNDS, harden_field
from sim.errors import excerpt, printable, shorten
from sim.scenario_files import read_file_in_context

TAG = "⟨"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
SUPPLIER = "supplier"
MAX_CHANNELS = 20
AMAZON_CHANNEL = "amazon"  # the name of Amazon's own demand in per-channel results
CM_PER_IN = 2.54
KG_PER_LB = 0.45359237

MAX_HORIZON_DAYS = 36_500
MAX_REPLICATIONS = 100_000
MAX_SKUS = 100_000
MAX_STRATEGIES = 100
MAX_NODES = 100
MAX_DURATION_DAYS = 3_650  # any one duration: ten years
MAX_UNITS = 1e9  # any one policy number or stock level
MAX_DAILY_DEMAND = 1e7  # units a day: a demand mean, or one observed day
MAX_EMPIRICAL_VALUES = 1_000_000
MAX_MONEY = 1e8  # a fixed amount per month or per shipment (per-unit amounts: sim.bounds)
FIRST_DATE = dt.date(1900, 1, 1)
LAST_START_DATE = dt.date(2199, 12, 31)  # + MAX_HORIZON_DAYS stays well inside the calendar


class Strict(BaseModel):
    """Base for every scenario model: unknown keys are errors, models are immutable, numbers are
    strict (``true`` is not 1) and bounded, text has no control characters (``sim.bounds``)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        coerce_numbers_to_str=True,
        allow_inf_nan=False,
        defer_build=True,  # built once, with the Scenario that uses them: faster start-up
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs):
        """Strict, bounded numbers and control-free text in every field (``sim.bounds``)."""
        super().__pydantic_init_subclass__(**kwargs)
        for name, field in cls.model_fields.items():
            harden_field(name, field)


def _tagged(kinds: dict[str, type], pick) -> Any:
    """A union of ``kinds`` chosen by ``pick(value) -> tag`` (tags get the ``TAG`` prefix)."""
    members = tuple(Annotated[t, Tag(TAG + name)] for name, t in kinds.items())
    return Annotated[
        members[0] if len(members) == 1 else _union(members),
        Discriminator(
            lambda v: (TAG + pick(v)) if pick(v) is not None else None,
            custom_error_type="invalid_choice",
            custom_error_message=f"expected one of: {', '.join(kinds)}",
        ),
    ]


def _kind(value: Mapping, key: str, kinds: Mapping) -> str | None:
    """``value[key]`` when it names one of ``kinds`` (a list or mapping there names none)."""
    kind = value.get(key)
    return kind if isinstance(kind, str) and kind in kinds else None


def _union(members: tuple) -> Any:
    u = members[0]
    for m in members[1:]:
        u = u | m
    return u


# --------------------------------------------------------------------------- durations


class Constant(Strict):
    """A fixed duration."""

    dist: Literal["constant"]
    value: float = Field(ge=0, le=MAX_DURATION_DAYS, description="days")


class Uniform(Strict):
    """Uniform between ``low`` and ``high`` days."""

    dist: Literal["uniform"]
    low: float = Field(ge=0, le=MAX_DURATION_DAYS)
    high: float = Field(ge=0, le=MAX_DURATION_DAYS)

    @model_validator(mode="after")
    def _order(self):
        if self.high < self.low:
            raise ValueError("high must be ≥ low")
        return self


class Triangular(Strict):
    """Triangular with ``low`` ≤ ``mode`` ≤ ``high`` days."""

    dist: Literal["triangular"]
    low: float = Field(ge=0, le=MAX_DURATION_DAYS)
    mode: float = Field(ge=0, le=MAX_DURATION_DAYS)
    high: float = Field(ge=0, le=MAX_DURATION_DAYS)

    @model_validator(mode="after")
    def _order(self):
        if not self.low <= self.mode <= self.high:
            raise ValueError("needs low ≤ mode ≤ high")
        return self


class Normal(Strict):
    """Normal with ``mean`` and ``sd`` days, truncated at 0."""

    dist: Literal["normal"]
    mean: float = Field(ge=0, le=MAX_DURATION_DAYS)
    sd: float = Field(ge=0, le=MAX_DURATION_DAYS)


class Lognormal(Strict):
    """Lognormal given the mean and sd of the duration itself (not of its logarithm)."""

    dist: Literal["lognormal"]
    mean: float = Field(ge=1e-6, le=MAX_DURATION_DAYS)
    sd: float = Field(ge=0, le=MAX_DURATION_DAYS)


class Gamma(Strict):
    """Gamma given its mean and sd in days."""

    dist: Literal["gamma"]
    mean: float = Field(ge=1e-6, le=MAX_DURATION_DAYS)
    sd: float = Field(ge=1e-6, le=MAX_DURATION_DAYS)


class Discrete(Strict):
    """Finitely many ``values`` (days) with probabilities ``probs`` summing to 1."""

    dist: Literal["discrete"]
    values: list[float] = Field(min_length=1, max_length=10_000)
    probs: list[float] = Field(min_length=1, max_length=10_000)

    @field_validator("values")
    @classmethod
    def _nonnegative(cls, v):
        if any(x < 0 for x in v):
            raise ValueError("durations must be ≥ 0")
        if any(x > MAX_DURATION_DAYS for x in v):
            raise ValueError(f"durations must be ≤ {MAX_DURATION_DAYS:,} days")
        return v

    @model_validator(mode="after")
    def _probs(self):
        if len(self.values) != len(self.probs):
            raise ValueError(f"values has {len(self.values)} items but probs has {len(self.probs)}")
        if any(p < 0 for p in self.probs):
            raise ValueError("probs must be ≥ 0")
        total = math.fsum(self.probs)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"probs must sum to 1 (they sum to {total:g})")
        return self


DIST_KINDS = {
    "constant": Constant,
    "uniform": Uniform,
    "triangular": Triangular,
    "normal": Normal,
    "lognormal": Lognormal,
    "gamma": Gamma,
    "discrete": Discrete,
}


def _pick_duration(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, Mapping):
        return _kind(v, "dist", DIST_KINDS)
    return None


NonNegative = Annotated[float, Field(ge=0, le=MAX_DURATION_DAYS)]
Duration = _tagged({"number": NonNegative, **DIST_KINDS}, _pick_duration)
"""Days: a number, or ``{dist: constant|uniform|triangular|normal|lognormal|gamma|discrete, ...}``."""


def _pick_dated_duration(v):
    if isinstance(v, Mapping) and "dist" not in v:
        return "months"
    return _pick_duration(v)


def dated_duration() -> Any:
    """A duration, or a mapping from month name (and ``default``) to a duration."""
    months = Annotated[dict[str, Duration], AfterValidator(_month_keys)]
    return _tagged({"number": NonNegative, **DIST_KINDS, "months": months}, _pick_dated_duration)


def _month_keys(value: dict) -> dict:
    bad = [k for k in value if k not in MONTHS and k != "default"]
    if bad:
        raise ValueError(
            f"{bad[0]!r} is not a month: a duration by month has keys jan..dec and default"
        )
    return _complete_months(value)


# --------------------------------------------------------------------------- per-SKU numbers


def _pick_per_sku(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, Mapping):
        return "mapping"
    return None


def per_sku(number: Any) -> Any:
    """A policy number, or a mapping from SKU id (and optional ``default``) to that number."""
    return _tagged({"number": number, "mapping": dict[str, number]}, _pick_per_sku)


def per_sku_month(number: Any) -> Any:
    """A policy number that may change by calendar month: a number, a month mapping
    (``{default: 300, nov: 700, dec: 900}``), or a mapping from SKU id (and ``default``) to
    either. Keys ``jan``..``dec`` are months wherever they appear (see ``month_keys_problems``)."""
    return _tagged({"number": number, "mapping": dict[str, per_sku(number)]}, _pick_per_sku)


def month_mapping(value: Any) -> bool:
    """``value`` is a month mapping: a dict whose keys are month names (and ``default``) only,
    with at least one month."""
    return (
        isinstance(value, Mapping)
        and any(k in MONTHS for k in value)
        and all(k in MONTHS or k == "default" for k in value)
    )


def _complete_months(value: dict) -> dict:
    if "default" not in value:
        missing = [m for m in MONTHS if m not in value]
        if missing:
            raise ValueError(f"no value for {', '.join(missing)} and no 'default'")
    return value


MonthKey = Literal["default", *MONTHS]


def by_month(kind: Any) -> Any:
    """``kind``, or a mapping from month name (and ``default``) to ``kind`` (month of the day)."""
    return Annotated[dict[MonthKey, kind], AfterValidator(_complete_months)]


Units = Annotated[float, Field(ge=0, le=MAX_UNITS)]
PerSkuUnits = per_sku(Units)
PerSkuDays = per_sku(Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)])
PerSkuProbability = per_sku(Annotated[float, Field(gt=0, lt=1)])
PerSkuCover = per_sku(Annotated[float, Field(ge=0, le=MAX_HORIZON_DAYS)])
PolicyUnits = per_sku_month(Units)
PolicyProbability = per_sku_month(Annotated[float, Field(gt=0, lt=1)])
PolicyCover = per_sku_month(Annotated[float, Field(ge=0, le=MAX_HORIZON_DAYS)])
PolicyQuantity = per_sku_month(Annotated[float, Field(gt=0, le=MAX_UNITS)])

# --------------------------------------------------------------------------- demand


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Multiplier = Annotated[float, Field(ge=0, le=1000)]


class StockoutPenalty(Strict):
    """Rank loss after a stockout: demand × (1 − depth) the next day, back to 1 linearly."""

    depth: float = Field(gt=0, le=1, description="share of demand lost right after a stockout")
    recovery_days: float = Field(
        gt=0, le=MAX_HORIZON_DAYS, description="days to recover full demand after a stockout"
    )


class Seasonality(Strict):
    """Multipliers on the mean: by weekday, by calendar month, and a linear trend."""

    weekly: (
        dict[Weekday, Multiplier]
        | Annotated[list[Multiplier], Field(min_length=7, max_length=7)]
        | None
    ) = Field(
        default=None,
        description="mean multiplier per weekday: 7 numbers Mon..Sun, or {mon: 1.2, ...} (missing days 1)",
    )
    monthly: (
        dict[
            Literal[
                "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
            ],
            Multiplier,
        ]
        | Annotated[list[Multiplier], Field(min_length=12, max_length=12)]
        | None
    ) = Field(
        default=None,
        description="mean multiplier per calendar month: 12 numbers Jan..Dec, or {nov: 1.5, ...}",
    )
    trend_per_year: float = Field(
        default=0.0,
        ge=-1,
        le=100,
        description="linear growth of the mean: 0.2 = +20% a year after start_date (never below 0)",
    )
    prime_uplift: float = Field(
        default=0.0,
        ge=0,
        le=10,
        description="extra demand while the offer carries the Prime badge: 0.3 = +30% "
        "(mean_per_day is the demand without the badge)",
    )
    stockout_penalty: StockoutPenalty | None = Field(
        default=None,
        description="rank loss: demand falls by `depth` after a stockout day and recovers "
        "linearly over `recovery_days`",
    )

    def weekly_factors(self) -> list[float]:
        """Seven multipliers, Monday first."""
        return _factors(self.weekly, WEEKDAYS)

    def monthly_factors(self) -> list[float]:
        """Twelve multipliers, January first."""
        return _factors(self.monthly, MONTHS)


def _factors(spec, names) -> list[float]:
    if spec is None:
        return [1.0] * len(names)
    if isinstance(spec, list):
        return [float(x) for x in spec]
    return [float(spec.get(n, 1.0)) for n in names]


class Poisson(Seasonality):
    """Poisson daily demand."""

    distribution: Literal["poisson"]
    mean_per_day: float = Field(ge=0, le=1e7, description="units a day")

    def variance_per_day(self) -> float:
        return self.mean_per_day


class NegativeBinomial(Seasonality):
    """Negative binomial: overdispersed demand given a variance-to-mean ratio > 1 or a cv."""

    distribution: Literal["negative_binomial"]
    mean_per_day: float = Field(gt=0, le=1e7, description="units a day")
    variance_to_mean: float | None = Field(default=None, gt=1, le=1e6)
    cv: float | None = Field(default=None, gt=0, le=100)

    @model_validator(mode="after")
    def _one_spread(self):
        if (self.variance_to_mean is None) == (self.cv is None):
            raise ValueError("give exactly one of variance_to_mean or cv")
        if self.cv is not None and self.ratio() <= 1:
            raise ValueError(
                f"cv {self.cv:g} at mean {self.mean_per_day:g} gives variance ≤ mean; "
                "use poisson or a larger cv"
            )
        return self

    def ratio(self) -> float:
        """Variance-to-mean ratio (from ``cv`` at the base mean when given that way)."""
        if self.variance_to_mean is not None:
            return self.variance_to_mean
        return self.cv**2 * self.mean_per_day

    def variance_per_day(self) -> float:
        return self.mean_per_day * self.ratio()


class NormalDemand(Seasonality):
    """Normal daily demand rounded to whole units, at least 0."""

    distribution: Literal["normal"]
    mean_per_day: float = Field(ge=0, le=1e7, description="units a day")
    sd: float | None = Field(default=None, ge=0, le=1e7)
    cv: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _one_spread(self):
        if (self.sd is None) == (self.cv is None):
            raise ValueError("give exactly one of sd or cv")
        return self

    def sd_per_day(self) -> float:
        return self.sd if self.sd is not None else self.cv * self.mean_per_day

    def variance_per_day(self) -> float:
        return self.sd_per_day() ** 2


class Empirical(Seasonality):
    """Daily demand drawn (with replacement) from observed daily values, inline or from a file."""

    distribution: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0, le=MAX_DAILY_DEMAND)]] | None = Field(
        default=None, max_length=MAX_EMPIRICAL_VALUES
    )
    file: str | None = Field(
        default=None,
        description="text or CSV file of daily values (one per line, or the last column), "
        "relative to the scenario file and inside its folder (unless --allow-outside-files)",
    )

    @model_validator(mode="after")
    def _load(self, info: ValidationInfo):
        if (self.values is None) == (self.file is None):
            raise ValueError("give exactly one of values or file")
        if self.file is not None:
            text = read_file_in_context(info.context, self.file)
            object.__setattr__(self, "values", _read_values(text, self.file))
        if not self.values:
            raise ValueError("needs at least one value")
        return self

    @property
    def mean_per_day(self) -> float:
        return math.fsum(self.values) / len(self.values)

    def variance_per_day(self) -> float:
        m = self.mean_per_day
        return math.fsum((x - m) ** 2 for x in self.values) / len(self.values)


def _read_values(text: str, name: str) -> list[float]:
    """Daily values from a file's text: one per line or the last CSV column; ``#`` comments,
    blank lines and a header row skipped. Messages quote a cell only when it is short and looks
    like a mistyped number, never other content of the file."""
    values = []
    where = shorten(printable(Path(name).name), 60)
    for n, line in enumerate(text.splitlines(), 1):
        cell = line.strip().split(",")[-1].strip()
        if not cell or cell.startswith("#"):
            continue
        try:
            x = float(cell)
        except ValueError:
            if n == 1:  # a header row
                continue
            shown = (
                f" {excerpt(cell)}" if len(cell) <= 20 and any(c.isdigit() for c in cell) else ""
            )
            raise ValueError(
                f"{where} line {n}:{shown} is not a number (one daily value per line, or CSV "
                "with the value in the last column)"
            ) from None
        if not 0 <= x <= MAX_DAILY_DEMAND:
            raise ValueError(
                f"{where} line {n}: daily demand must be between 0 and {MAX_DAILY_DEMAND:,.0f}"
            )
        values.append(x)
        if len(values) > MAX_EMPIRICAL_VALUES:
            raise ValueError(f"{where}: more than {MAX_EMPIRICAL_VALUES:,} daily values")
    return values


DEMAND_KINDS = {
    "poisson": Poisson,
    "negative_binomial": NegativeBinomial,
    "normal": NormalDemand,
    "empirical": Empirical,
}
Demand = _tagged(
    DEMAND_KINDS,
    lambda v: (
        v.get("distribution")
        if isinstance(v, Mapping) and _kind(v, "distribution", DEMAND_KINDS)
        else None
    ),
)

# --------------------------------------------------------------------------- catalog


class Returns(Strict):
    """Customer returns: a share of units sold comes back; some of it can be sold again."""

    rate: float = Field(ge=0, le=1, description="share of units sold that are returned")
    resellable: float = Field(
        default=0.5, ge=0, le=1, description="share of returned units restocked (the rest is lost)"
    )


class Sku(Strict):
    """One product. Size, weight and price matter only where a fee or revenue needs them."""

    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=500)
    length_in: float | None = Field(default=None, gt=0, le=MAX_INCHES)
    width_in: float | None = Field(default=None, gt=0, le=MAX_INCHES)
    height_in: float | None = Field(default=None, gt=0, le=MAX_INCHES)
    weight_lb: float | None = Field(default=None, gt=0, le=MAX_POUNDS)
    length_cm: float | None = Field(default=None, gt=0, le=MAX_INCHES * CM_PER_IN, exclude=True)
    width_cm: float | None = Field(default=None, gt=0, le=MAX_INCHES * CM_PER_IN, exclude=True)
    height_cm: float | None = Field(default=None, gt=0, le=MAX_INCHES * CM_PER_IN, exclude=True)
    weight_kg: float | None = Field(default=None, gt=0, le=MAX_POUNDS * KG_PER_LB, exclude=True)
    price: float | None = Field(default=None, ge=0, description="US dollars per unit")
    unit_cost: float = Field(
        default=0.0, ge=0, description="US dollars per unit (landed product cost)"
    )
    category: str | None = Field(
        default=None,
        max_length=100,
        description="Amazon category: referral rate and return-rate threshold (default: 15% "
        "referral, no returns processing fee)",
    )
    units_per_order: float = Field(
        default=1.0, ge=1, le=10_000, description="units in an average customer order"
    )
    units_per_carton: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="units in a shipping carton (receiving fees, AWD boxes)",
    )
    returns: Returns | None = Field(default=None, description="customer returns")
    demand: Demand
    channel_demand: dict[str, Demand] = Field(
        default_factory=dict,
        max_length=MAX_CHANNELS,
        description="demand on other sales channels (keys of the top-level 'channels'), "
        "same grammar as 'demand'",
    )

    @model_validator(mode="after")
    def _metric_units(self):
        for dim in ("length", "width", "height"):
            cm = getattr(self, f"{dim}_cm")
            if cm is not None:
                if getattr(self, f"{dim}_in") is not None:
                    raise ValueError(f"give {dim}_in or {dim}_cm, not both")
                object.__setattr__(self, f"{dim}_in", cm / CM_PER_IN)
        if self.weight_kg is not None:
            if self.weight_lb is not None:
                raise ValueError("give weight_lb or weight_kg, not both")
            object.__setattr__(self, "weight_lb", self.weight_kg / KG_PER_LB)
        return self


# --------------------------------------------------------------------------- nodes


class NodeBase(Strict):
    """What every node has: the delivery rule of its customer orders and its simple costs.

    Delivery (SPEC §3): an order of day t ships on the ``handling_days``-th ship weekday after
    t (orders after ``cutoff_hour`` count from the next day), at most ``daily_order_capacity``
    orders a ship day (the rest wait: shipped late), and arrives ``transit_days`` delivery
    weekdays later; it is on time when delivered by t + ``promise_days``.
    """

    handling_days: int = Field(default=0, ge=0, le=60, description="business days (ship weekdays)")
    ship_weekdays: list[Weekday] = Field(default=list(WEEKDAYS), min_length=1)
    delivery_weekdays: list[Weekday] = Field(default=list(WEEKDAYS), min_length=1)
    transit_days: Duration = Field(default=0, description="carrier transit time, days")
    promise_days: int = Field(
        default=0,
        ge=0,
        le=365,
        description="an order of day t is on time if delivered by t + promise",
    )
    promise_basis: Literal["calendar", "delivery_days"] = Field(
        default="calendar",
        description="promise_days counted in calendar days (SPEC), or in the node's delivery "
        "weekdays after its first ship day on or after the order day (how Amazon dates a "
        "seller's 'two-day' Prime promise)",
    )
    cutoff_hour: float = Field(
        default=24,
        ge=0,
        le=24,
        description="orders arriving after this hour (orders spread evenly over the day) "
        "count as the next day's; 24 = no cut-off",
    )
    daily_order_capacity: float | None = Field(
        default=None,
        ge=1,
        le=MAX_UNITS,
        description="orders shipped per ship day at most; the rest wait",
    )
    prime: bool = Field(default=False, description="offers shipped from here carry the Prime badge")
    holding_cost_per_unit_day: float = Field(
        default=0.0, ge=0, description="USD per unit-day on hand (cost of capital, insurance)"
    )
    order_cost: float = Field(default=0.0, ge=0, description="USD per customer order shipped")
    fixed_cost_per_month: float = Field(
        default=0.0, ge=0, le=MAX_MONEY, description="USD per 30.4 days"
    )

    @field_validator("ship_weekdays", "delivery_weekdays")
    @classmethod
    def _unique(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("a weekday is listed twice")
        return v


class LabelRates(Strict):
    """A carrier's label prices by billable-weight band and zone, inline or from a CSV file."""

    file: str | None = Field(
        default=None,
        description="CSV in the scenario's folder: header max_lb,zone_2,zone_3,… then one row "
        "a band (its largest billable weight in lb, then its price in each zone)",
    )
    bands: (
        dict[
            Annotated[float, Field(gt=0, le=10_000)],
            dict[Annotated[int, Field(ge=1, le=99)], Annotated[float, Field(ge=0, le=10_000)]],
        ]
        | None
    ) = Field(
        default=None,
        max_length=1_000,
        description="inline table: {max_lb: {zone: USD}}; a package is priced at the first band "
        "whose max_lb is ≥ its billable weight",
    )

    @model_validator(mode="after")
    def _load(self, info: ValidationInfo):
        if (self.bands is None) == (self.file is None):
            raise ValueError("give exactly one of file or bands")
        if self.file is not None:
            from sim import labels

            text = read_file_in_context(info.context, self.file, labels.MAX_RATE_FILE_BYTES)
            object.__setattr__(self, "bands", labels.parse_rate_table(text, self.file))
        if not self.bands:
            raise ValueError("needs at least one band")
        return self


class PeakSurcharge(Strict):
    """A carrier's peak (demand) surcharge per package on the order days from ``from`` to ``to``."""

    start: dt.date = Field(alias="from", description="first day (inclusive)")
    end: dt.date = Field(alias="to", description="last day (inclusive)")
    per_package: float = Field(ge=0, le=1_000, description="USD per package")

    @model_validator(mode="after")
    def _order(self):
        if self.end < self.start:
            raise ValueError("'to' must be on or after 'from'")
        return self


class Surcharges(Strict):
    """Carrier surcharges on every label of a node."""

    fuel_percent: float = Field(
        default=0.0, ge=0, le=100, description="% of the base label price (rate or linear)"
    )
    residential_per_package: float = Field(
        default=0.0, ge=0, le=1_000, description="USD on every package (× the residential share)"
    )
    peak: list[PeakSurcharge] = Field(default_factory=list, max_length=100)

    @field_validator("peak")
    @classmethod
    def _no_overlap(cls, v):
        ranges = sorted(v, key=lambda p: p.start)
        for a, b in itertools.pairwise(ranges):
            if b.start <= a.end:
                raise ValueError(f"peak ranges overlap: {a.start}..{a.end} and {b.start}..{b.end}")
        return v


class SellerCosts(Strict):
    """The costs of a warehouse the seller pays for (own warehouse or 3PL)."""

    pick_pack_per_order: float = Field(default=0.0, ge=0, description="USD per order")
    label_cost_per_order: float = Field(default=0.0, ge=0, description="USD per order's label")
    label_cost_per_lb: float = Field(
        default=0.0, ge=0, description="USD per lb of billable weight shipped (carrier rate)"
    )
    dim_divisor: float = Field(
        default=139.0,  # UPS / FedEx daily rates: sources at sim.labels.DEFAULT_DIM_DIVISOR
        ge=0,
        le=10_000,
        description="billable weight = max(weight, L×W×H ÷ dim_divisor) rounded up to a whole "
        "lb; 139 = UPS/FedEx daily rates; 0 = actual weight only",
    )
    label_rates: LabelRates | None = Field(
        default=None,
        description="label price by billable-weight band × zone (instead of label_cost_per_order "
        "and label_cost_per_lb): {file: rates.csv} or {bands: {max_lb: {zone: USD}}}",
    )
    zones: dict[Annotated[int, Field(ge=1, le=99)], Annotated[float, Field(ge=0, le=1)]] | None = (
        Field(
            default=None,
            max_length=100,
            description="share of orders per carrier zone, e.g. {2: 0.1, 5: 0.5, 8: 0.4}; sums to 1",
        )
    )
    surcharges: Surcharges | None = Field(
        default=None, description="fuel %, residential and peak surcharges on every label"
    )
    storage_per_cubic_foot_month: float = Field(
        default=0.0, ge=0, description="USD per cubic foot of stock per month"
    )
    receiving_per_unit: float = Field(default=0.0, ge=0, description="USD per unit received")
    receiving_per_carton: float = Field(
        default=0.0, ge=0, description="USD per carton received (needs SKU units_per_carton)"
    )
    return_handling_per_unit: float = Field(
        default=0.0, ge=0, description="USD per returned unit handled"
    )

    @field_validator("zones")
    @classmethod
    def _shares(cls, v):
        if v is not None:
            total = math.fsum(v.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"zone shares must sum to 1 (they sum to {total:g})")
        return v

    @model_validator(mode="after")
    def _label_pricing(self):
        if self.label_rates is None:
            if self.zones is not None:
                raise ValueError("zones go with label_rates (a rate table by zone)")
            return self
        if self.label_cost_per_order or self.label_cost_per_lb:
            raise ValueError("give label_rates or label_cost_per_order/label_cost_per_lb, not both")
        if self.zones is None:
            raise ValueError("label_rates needs zones: the share of orders per zone")
        from sim.labels import check_zones

        problem = check_zones(self.label_rates.bands, self.zones)
        if problem:
            raise ValueError(f"label_rates: {problem}")
        return self


class SellerHealth(Strict):
    """What drives the account-health rates of a seller-fulfilled node (help page 200370550
    and facts §5.1): cancellations, tracking and order defects, one share per order."""

    cancel_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of the orders taken from the shelf that the seller cancels before "
        "shipping (e.g. stock sync errors across channels): lost demand, the stock stays",
    )
    valid_tracking_rate: float = Field(
        default=1.0, ge=0, le=1, description="share of shipped orders with valid tracking"
    )
    defect_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="order defects (A-to-z claims, negative feedback, chargebacks) per order "
        "shipped",
    )


# Delivery defaults for FBA chosen to give about 97% on time, the rate Amazon cited for its own
# fulfilment network (MCF, 2022; reference facts §4): not an Amazon figure for FBA, override it.
# (model_construct: constants known valid, with the floats validation would make; validating
# them here would build their models' validators at import, apart from the Scenario's)
FBA_TRANSIT = Discrete.model_construct(
    dist="discrete", values=[1.0, 2.0, 3.0], probs=[0.55, 0.42, 0.03]
)
CubicFeet = Annotated[float, Field(gt=0, le=MAX_UNITS)]
Capacity = _tagged(
    {"number": CubicFeet, "months": by_month(CubicFeet)},
    lambda v: "months" if isinstance(v, Mapping) else _pick_per_sku(v),
)
FBA_CHECK_IN = Triangular.model_construct(dist="triangular", low=2.0, mode=3.0, high=7.0)
MODEL_DEFAULTS = (FBA_TRANSIT, FBA_CHECK_IN)
PLACEMENT_OPTIONS = ("amazon_optimized", "partial", "minimal")


class FbaNode(NodeBase):
    """Fulfilment by Amazon: Amazon's fees, check-in delay, capacity limit and Prime badge."""

    type: Literal["fba"]
    transit_days: Duration = Field(
        default=FBA_TRANSIT, description="days; default gives about 97% on time (unverified)"
    )
    promise_days: int = Field(default=2, ge=0, le=365, description="Prime two-day promise")
    prime: bool = True
    check_in_days: dated_duration() = Field(
        default=FBA_CHECK_IN,
        description="days from delivery at Amazon to sellable (typically 2-6; unverified); "
        "or by month of the delivery day: {default: 3, nov: {dist: uniform, low: 5, high: 14}}",
    )
    capacity_cubic_feet: Capacity | None = Field(
        default=None,
        description="FBA capacity limit: on hand + inbound volume at most; or by month of "
        "the order day: {default: 500, oct: 300}",
    )
    placement: Literal["amazon_optimized", "partial", "minimal"] = Field(
        default="amazon_optimized", description="inbound placement option (fee per unit)"
    )
    amazon_fees: bool = Field(
        default=True, description="charge Amazon's FBA fees (needs every SKU's size and price)"
    )
    low_inventory_fee: bool = True
    aged_inventory_surcharge: bool = True


class FbmNode(NodeBase, SellerCosts, SellerHealth):
    """The seller's own warehouse, shipping to customers (merchant fulfilled)."""

    type: Literal["fbm"]


class SfpNode(NodeBase, SellerCosts, SellerHealth):
    """A seller warehouse held to Seller Fulfilled Prime rules: Prime badge while it keeps
    on-time shipment and on-time delivery over a rolling window; lost for a period otherwise."""

    type: Literal["sfp"]
    prime: bool = True
    ship_weekdays: list[Weekday] = Field(
        default=["mon", "tue", "wed", "thu", "fri", "sat"], min_length=1
    )
    delivery_weekdays: list[Weekday] = Field(
        default=["mon", "tue", "wed", "thu", "fri", "sat"], min_length=1
    )
    promise_days: int = Field(default=2, ge=0, le=365, description="Prime two-day promise")
    on_time_shipment_min: float = Field(default=0.99, ge=0, le=1, description="Amazon: 99%")
    on_time_delivery_min: float = Field(
        default=0.97,
        ge=0,
        le=1,
        description="Amazon: 97%, judged on the orders shipped outside Buy Shipping only",
    )
    buy_shipping_share: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="share of the orders shipped on Buy Shipping labels (Amazon requires at "
        "least buy_shipping_min; the rest are judged on on-time delivery)",
    )
    buy_shipping_min: float = Field(default=0.99, ge=0, le=1, description="Amazon: 99%")
    cancel_rate_max: float = Field(default=0.005, ge=0, le=1, description="Amazon: 0.5%")
    badge_window_days: int = Field(
        default=30, ge=1, le=365, description="rolling window of the SFP checks (our default)"
    )
    badge_loss_days: int = Field(
        default=30, ge=0, le=MAX_HORIZON_DAYS, description="days without the badge after a breach"
    )


class TplNode(NodeBase, SellerCosts, SellerHealth):
    """An overseas or domestic third-party warehouse: ships to customers and feeds FBA."""

    type: Literal["3pl"]
    storage_per_pallet_month: float = Field(
        default=0.0, ge=0, description="USD per pallet position per month (typical $20-40)"
    )
    cubic_feet_per_pallet: float = Field(
        default=60.0, gt=0, description="usable cubic feet of one pallet position"
    )
    pallet_billing: Literal["fractional", "whole"] = Field(
        default="fractional",
        description="fractional: the pallet rate per cubic foot-day on hand; whole: ⌈pallets⌉ "
        "per SKU on the last day of each month",
    )


# Auto-replenishment's target when the node does not set one. Amazon replenishes "to meet optimal
# FBA inventory level as determined by our model" when no threshold is set (Seller Forums
# announcement of AWD min/max thresholds) and publishes no number: 42 days (six weeks, inside
# the 4-8 weeks of cover of Amazon's 2019 storage-discount programme, help BME4XLGJ54NSKHE) is
# ILLUSTRATIVE.
AWD_DAYS_OF_SUPPLY = 42.0


class AwdNode(Strict):
    """Amazon Warehousing and Distribution: bulk storage upstream of FBA. Fed by supply lanes,
    it refills ``fba`` nodes by transfer (``replenish.<fba>.from: <this node>``) and never ships
    to customers. Fees by date from ``sim/fees/data/awd.yaml`` (``sim.awd``)."""

    type: Literal["awd"]
    rate: Literal["base", "smart_storage", "amazon_managed"] = Field(
        default="base",
        description="the SKUs' AWD rate tier from 2025-04-01 (help GAYG62Q3MPE6STFS): base "
        "(manual replenishment), smart_storage (needs auto_replenish), amazon_managed",
    )
    auto_replenish: bool = Field(
        default=False,
        description="AWD refills the FBA nodes it feeds by its own rule (days_of_supply of "
        "FBA position) instead of the strategy's policy; such transfers skip the FBA capacity "
        "limit and the FBA node pays no low-inventory-level fee (help GKH7ASMAL93YECBF)",
    )
    days_of_supply: float = Field(
        default=AWD_DAYS_OF_SUPPLY,
        gt=0,
        le=MAX_HORIZON_DAYS,
        description="auto_replenish target: FBA on hand + in transit up to the expected demand "
        "of the next days_of_supply days, reviewed daily (default 42: illustrative)",
    )
    holding_cost_per_unit_day: float = Field(
        default=0.0, ge=0, description="USD per unit-day on hand (cost of capital, insurance)"
    )

    @model_validator(mode="after")
    def _smart_storage(self):
        if self.rate == "smart_storage" and not self.auto_replenish:
            raise ValueError(
                "rate smart_storage applies to SKUs moved to FBA by AWD auto-replenishment "
                "(help GAYG62Q3MPE6STFS): set auto_replenish: true, or rate: base"
            )
        return self


NODE_KINDS = {"fba": FbaNode, "fbm": FbmNode, "sfp": SfpNode, "3pl": TplNode, "awd": AwdNode}
Node = _tagged(
    NODE_KINDS,
    lambda v: _kind(v, "type", NODE_KINDS) if isinstance(v, Mapping) else None,
)
SELLER_TYPES = frozenset({"fbm", "sfp", "3pl"})


# --------------------------------------------------------------------------- policies


class Safety(Strict):
    """Safety stock on top of cover: exactly one of units, days of mean demand, or a service level."""

    units: PolicyUnits | None = None
    days: PolicyCover | None = None
    service_level: PolicyProbability | None = None

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("units", "days", "service_level") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of units, days or service_level")
        return self


class OrderUpTo(Strict):
    """(R, S): every ``review_days`` order up to S, given as ``level``, ``service_level`` or ``cover_days``."""

    type: Literal["order_up_to"]
    review_days: PerSkuDays = 1
    level: PolicyUnits | None = None
    service_level: PolicyProbability | None = None
    cover_days: PolicyCover | None = None
    safety: Safety | None = None

    @model_validator(mode="after")
    def _one(self):
        given = [
            k for k in ("level", "service_level", "cover_days") if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of level, service_level or cover_days")
        if self.safety is not None and self.cover_days is None:
            raise ValueError("safety goes with cover_days")
        return self


class SS(Strict):
    """(s, S): at a review with position ≤ reorder_point, order up to ``order_up_to``."""

    type: Literal["s_S"]
    review_days: PerSkuDays = 1
    reorder_point: PolicyUnits
    order_up_to: PolicyUnits


class SQ(Strict):
    """(s, Q): at a review with position ≤ reorder_point, order the smallest multiple of Q that lifts it above."""

    type: Literal["s_Q"]
    review_days: PerSkuDays = 1
    reorder_point: PolicyUnits
    quantity: PolicyQuantity


class ForecastError(Strict):
    """How wrong the forecast is: the true mean × a lognormal error per SKU and month of the run."""

    cv: float = Field(ge=0, le=10, description="coefficient of variation of the error")
    bias: float = Field(
        default=0.0, gt=-1, le=10, description="mean error: 0.1 = forecasts 10% too high"
    )


class ForecastUpTo(Strict):
    """Order up to a seasonal forecast: at each review the level is the expected demand of the
    protection period (days t+1 … t+L+R−1) from the scenario's demand model, plus safety; see
    ``sim.forecast``."""

    type: Literal["forecast_up_to"]
    review_days: PerSkuDays = 1
    service_level: PolicyProbability | None = Field(
        default=None, description="the level is this quantile of the protection period's demand"
    )
    cover_days: PolicyCover | None = Field(
        default=None,
        description="the level is the expected demand of the next cover_days days instead of "
        "the protection period",
    )
    safety: Safety | None = Field(
        default=None, description="{days: N} (the next N days' expected demand) or {units: N}"
    )
    forecast_error: ForecastError | None = Field(
        default=None, description="without it the policy knows the true demand model"
    )

    @model_validator(mode="after")
    def _one(self):
        if self.service_level is not None and (
            self.cover_days is not None or self.safety is not None
        ):
            raise ValueError("service_level sets the safety itself: drop cover_days and safety")
        if self.safety is not None and self.safety.service_level is not None:
            raise ValueError("give service_level on the policy, not in safety")
        return self


POLICY_KINDS = {"order_up_to": OrderUpTo, "s_S": SS, "s_Q": SQ, "forecast_up_to": ForecastUpTo}
Policy = _tagged(
    POLICY_KINDS,
    lambda v: _kind(v, "type", POLICY_KINDS) if isinstance(v, Mapping) else None,
)


class Leg(Strict):
    """One step of a supply lane: production, ocean, customs, trucking…"""

    name: str = Field(min_length=1, max_length=100)
    days: dated_duration() = Field(
        description="duration of this step; or by month of the order day: "
        "{default: 30, dec: {dist: uniform, low: 35, high: 50}}"
    )


class SupplyLane(Strict):
    """A named way goods travel from the supplier: legs in sequence, and what it costs.

    The lead time of an order is the sum of its legs, each rounded up to whole days. Strategies
    that use the same lane see the same lead times (common random numbers).
    """

    legs: list[Leg] = Field(min_length=1, max_length=50)
    cost_per_unit: float = Field(default=0.0, ge=0, description="USD per unit")
    cost_per_kg: float = Field(default=0.0, ge=0, description="USD per kg of unit weight")
    cost_per_cubic_foot: float = Field(default=0.0, ge=0, description="USD per cubic foot")
    cost_per_shipment: float = Field(
        default=0.0, ge=0, le=MAX_MONEY, description="USD per shipment"
    )


class Replenishment(Strict):
    """How one node is refilled: from the supplier or by transfer from another node."""

    source: str = Field(default=SUPPLIER, alias="from", description="'supplier' or a node name")
    lane: str | None = Field(
        default=None, description="a named supply lane (instead of lead_time_days)"
    )
    lead_time_days: Duration | None = Field(
        default=None, description="days from order to receipt, rounded up, at least 1"
    )
    policy: Policy | None = Field(
        default=None,
        description="required, except on a lane from an awd node with auto_replenish (its "
        "own rule)",
    )
    freight_cost_per_unit: float = Field(
        default=0.0,
        ge=0,
        description="USD per unit shipped on this lane (transfer cost for a node source)",
    )
    cost_per_shipment: float = Field(
        default=0.0, ge=0, le=MAX_MONEY, description="USD per shipment on this lane"
    )

    @model_validator(mode="after")
    def _one_lead(self):
        if (self.lane is None) == (self.lead_time_days is None):
            raise ValueError("give exactly one of lead_time_days or lane")
        return self


NodeList = Annotated[list[str], Field(min_length=1, max_length=MAX_NODES)]
Route = _tagged(
    {"list": NodeList, "mapping": dict[str, NodeList]},
    lambda v: "list" if isinstance(v, list) else ("mapping" if isinstance(v, Mapping) else None),
)


class Strategy(Strict):
    """One way of running the business: where orders ship from and how stock is refilled."""

    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    fulfil_from: Route = Field(
        description="ordered nodes: the first with stock ships, later ones are backups; or a "
        "mapping from SKU id (and 'default') to such a list, to route SKUs differently"
    )
    unmet_demand: Literal["lost", "backorder"] = "lost"
    replenish: dict[str, Replenishment] = Field(default_factory=dict)
    initial_on_hand: dict[str, PerSkuUnits] = Field(
        default_factory=dict,
        description="units on hand at day 0 per node; default: the node's policy level",
    )
    channel_fulfil_from: dict[str, list[str]] = Field(
        default_factory=dict,
        max_length=MAX_CHANNELS,
        description="per sales channel, the ordered nodes that ship its orders (like "
        "fulfil_from); every channel with demand needs one",
    )

    def route(self, sku_id: str) -> list[str]:
        """The nodes that ship ``sku_id``, in fallback order."""
        if isinstance(self.fulfil_from, list):
            return self.fulfil_from
        return self.fulfil_from.get(sku_id, self.fulfil_from.get("default", []))

    def fulfil_nodes(self) -> list[str]:
        """Every node that ships customer orders, in order of first appearance."""
        lists = (
            [self.fulfil_from] if isinstance(self.fulfil_from, list) else self.fulfil_from.values()
        )
        seen: dict[str, None] = {}
        for nodes in lists:
            seen.update(dict.fromkeys(nodes))
        return list(seen)


# --------------------------------------------------------------------------- scenario


class Channel(Strict):
    """A sales channel other than Amazon (the seller's web shop, another marketplace)."""

    fee_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of the price the channel keeps per unit sold"
    )
    fee_per_order: float = Field(
        default=0.0, ge=0, le=1e6, description="US dollars the channel charges per order"
    )
    promise_days: int = Field(
        default=5, ge=1, le=60, description="days from order to delivery promised (on-time)"
    )
    prime: bool = Field(
        default=False, description="shown with a Prime badge (informational: no demand effect)"
    )
    speed: Literal["standard", "expedited", "priority"] = Field(
        default="standard",
        description="MCF shipping speed of its orders shipped by FBA: the MCF fee column and the "
        "delivery time (standard: 3rd business day after the order, expedited: 2nd)",
    )


class AccountHealth(Strict):
    """How the rolling account-health windows are judged."""

    min_orders: int = Field(
        default=1,
        ge=1,
        le=1_000_000,
        description="a window with fewer seller-fulfilled orders is not judged (Amazon "
        "publishes no minimum; 1 judges every window)",
    )


class Scenario(Strict):
    """A whole scenario file."""

    name: str = Field(min_length=1, max_length=100, description="names the results folder")
    description: str = ""
    start_date: dt.date = Field(default=dt.date(2026, 1, 1))
    horizon_days: int = Field(default=365, ge=1, le=MAX_HORIZON_DAYS)
    warmup_days: int = Field(default=0, ge=0, description="simulated but not counted")
    replications: int = Field(default=100, ge=1, le=MAX_REPLICATIONS)
    seed: int = Field(default=0, ge=0, lt=2**63)
    confidence: float = Field(default=0.95, ge=0.5, le=0.9999)
    baseline: str | None = Field(
        default=None, description="strategy compared against; default the first"
    )
    skus: list[Sku] = Field(min_length=1, max_length=MAX_SKUS)
    nodes: dict[str, Node] = Field(min_length=1, max_length=MAX_NODES)
    lanes: dict[str, SupplyLane] = Field(
        default_factory=dict, max_length=MAX_NODES, description="named supply lanes"
    )
    account_health: AccountHealth = Field(default_factory=lambda: AccountHealth())
    channels: dict[str, Channel] = Field(
        default_factory=dict,
        max_length=MAX_CHANNELS,
        description="sales channels besides Amazon, by name",
    )
    fee_overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="replaces parts of the bundled Amazon fee tables (sim/fees/data/us.yaml), "
        "key by key",
    )
    strategies: list[Strategy] = Field(min_length=1, max_length=MAX_STRATEGIES)
    _uncertain: Any = PrivateAttr(default=None)  # sim.uncertain.Uncertainty, set by the loader

    @property
    def uncertainty(self) -> Any:
        """The uncertain numbers (``sim.uncertain.Uncertainty``), None when there are none."""
        return self._uncertain

    @field_validator("start_date", mode="before")
    @classmethod
    def _date(cls, v):
        if isinstance(v, str):
            try:
                v = dt.date.fromisoformat(v)
            except ValueError:
                raise ValueError(f"{excerpt(v)} is not a date (YYYY-MM-DD)") from None
        if isinstance(v, dt.date) and not FIRST_DATE <= v <= LAST_START_DATE:
            raise ValueError(f"must be between {FIRST_DATE} and {LAST_START_DATE}")
        return v

    @field_validator("fee_overrides")
    @classmethod
    def _fee_overrides(cls, v):
        if v:
            from sim.fees.overrides import check_overrides
            from sim.fees.tables import default_tables

            problems = check_overrides(v, default_tables().data)
            if problems:
                raise CrossCheckError(problems)
        return v

    @model_validator(mode="after")
    def _cross_checks(self):
        problems = list(cross_check(self))
        if problems:
            raise CrossCheckError(problems)
        return self

    @property
    def sku_ids(self) -> list[str]:
        return [s.id for s in self.skus]

    @property
    def baseline_name(self) -> str:
        return self.baseline or self.strategies[0].name


class CrossCheckError(ValueError):
    """Several located problems found after the field-level checks.

    Locations are tuples of keys and list indices, like pydantic's error locations.
    """

    def __init__(self, problems: list[tuple[tuple, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{a}: {b}" for a, b in problems))


def cross_check(sc: Scenario):
    """Yield ``(location tuple, problem)`` for references and rules that span several keys."""
    if sc.warmup_days >= sc.horizon_days:
        yield ("warmup_days",), f"must be < horizon_days ({sc.horizon_days})"
    yield from _duplicates("skus", [s.id for s in sc.skus], "id")
    yield from _duplicates("strategies", [s.name for s in sc.strategies], "name")
    if SUPPLIER in sc.nodes:
        yield ("nodes", SUPPLIER), "'supplier' is reserved for the outside supplier"
    names = [s.name for s in sc.strategies]
    if sc.baseline is not None and sc.baseline not in names:
        yield ("baseline",), f"no strategy named {sc.baseline!r}{_did_you_mean(sc.baseline, names)}"
    skus = set(sc.sku_ids)
    for i, st in enumerate(sc.strategies):
        at = ("strategies", i)
        routes = {None: st.fulfil_from} if isinstance(st.fulfil_from, list) else st.fulfil_from
        for key, nodes in routes.items():
            where = (*at, "fulfil_from") if key is None else (*at, "fulfil_from", key)
            if key is not None and key != "default" and key not in skus:
                yield where, f"no SKU with id {key!r}{_did_you_mean(key, skus)}"
            for j, node in enumerate(nodes):
                if node not in sc.nodes:
                    yield (*where, j), _unknown_node(node, sc.nodes)
                elif sc.nodes[node].type == "awd":
                    yield (
                        (*where, j),
                        f"node {node!r} is an awd node: AWD never ships to customers; feed an "
                        f"fba node from it (replenish.<fba>.from: {node})",
                    )
            if len(set(nodes)) != len(nodes):
                yield where, "a node is listed twice"
        if isinstance(st.fulfil_from, dict) and "default" not in st.fulfil_from:
            missing = [s for s in sc.sku_ids if s not in st.fulfil_from]
            if missing:
                shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
                yield (*at, "fulfil_from"), f"no route for SKU {shown} and no 'default'"
        for node, rep in st.replenish.items():
            where = (*at, "replenish", node)
            if node not in sc.nodes:
                yield where, _unknown_node(node, sc.nodes)
            if rep.source != SUPPLIER and rep.source not in sc.nodes:
                yield (*where, "from"), _unknown_node(rep.source, sc.nodes, supplier=True)
            elif rep.source == node:
                yield (*where, "from"), "a node cannot replenish from itself"
            elif rep.source != SUPPLIER and rep.source not in st.replenish:
                yield (
                    (*where, "from"),
                    f"node {rep.source!r} is not replenished in this strategy, so it has no "
                    f"stock to transfer after day 0 (add replenish.{rep.source})",
                )
            yield from _awd_lane(sc, node, rep, where)
            if rep.lane is not None and rep.lane not in sc.lanes:
                hint = _did_you_mean(rep.lane, list(sc.lanes)) or (
                    f" (lanes: {', '.join(sc.lanes)})" if sc.lanes else " (no lanes are defined)"
                )
                yield (*where, "lane"), f"no lane named {rep.lane!r}{hint}"
            if rep.policy is not None:
                yield from _per_sku_keys(rep.policy, (*where, "policy"), skus)
        cycle = _transfer_cycle(st)
        if cycle:
            yield (*at, "replenish"), "transfers form a cycle: " + " → ".join(cycle)
        used = {*st.fulfil_nodes(), *st.replenish, *(r.source for r in st.replenish.values())}
        used.update(n for route in st.channel_fulfil_from.values() for n in route)
        for node, value in st.initial_on_hand.items():
            where = (*at, "initial_on_hand", node)
            if node not in sc.nodes:
                yield where, _unknown_node(node, sc.nodes)
            elif node not in used:
                yield (
                    where,
                    f"node {node!r} is not used by this strategy (not in fulfil_from or replenish)",
                )
            yield from _per_sku_value(value, where, skus, need_all=False)

    yield from _channel_problems(sc)
    yield from _sku_data_needed(sc)


def _channel_problems(sc: Scenario):
    """Channel names are known and not 'amazon', every channel route names known nodes once,
    and every strategy routes every channel that has demand."""
    if AMAZON_CHANNEL in sc.channels:
        yield ("channels", AMAZON_CHANNEL), "'amazon' names Amazon's own demand (use 'demand')"
    names = list(sc.channels)
    wanted: dict[str, None] = {}
    for i, sku in enumerate(sc.skus):
        for channel in sku.channel_demand:
            if channel not in sc.channels:
                hint = _did_you_mean(channel, names) or (
                    f" (channels: {', '.join(names)})" if names else " (no channels are defined)"
                )
                yield ("skus", i, "channel_demand", channel), f"no channel named {channel!r}{hint}"
            else:
                wanted[channel] = None
    for i, st in enumerate(sc.strategies):
        at = ("strategies", i, "channel_fulfil_from")
        for channel, nodes in st.channel_fulfil_from.items():
            if channel not in sc.channels:
                hint = _did_you_mean(channel, names) or (
                    f" (channels: {', '.join(names)})" if names else " (no channels are defined)"
                )
                yield (*at, channel), f"no channel named {channel!r}{hint}"
            if not nodes:
                yield (*at, channel), "give at least one node"
            for j, node in enumerate(nodes):
                if node not in sc.nodes:
                    yield (*at, channel, j), _unknown_node(node, sc.nodes)
                elif sc.nodes[node].type == "awd":
                    yield (
                        (*at, channel, j),
                        (
                            f"node {node!r} is an awd node: AWD never ships to customers; list the "
                            "fba node it feeds"
                        ),
                    )
            if len(set(nodes)) != len(nodes):
                yield (*at, channel), "a node is listed twice"
        for channel in wanted:
            if channel not in st.channel_fulfil_from:
                yield (
                    at,
                    f"no route for channel {channel!r}, which has demand (add "
                    f"channel_fulfil_from.{channel}: a list of nodes)",
                )


SIZE_KEYS = ("length_in", "width_in", "height_in")


def auto_replenisher(sc: Scenario, rep: Replenishment) -> AwdNode | None:
    """The awd node that refills this lane by its own rule (``auto_replenish``), else None."""
    source = sc.nodes.get(rep.source)
    if source is not None and source.type == "awd" and source.auto_replenish:
        return source
    return None


def _awd_lane(sc: Scenario, node: str, rep: Replenishment, where: tuple):
    """An awd source feeds fba nodes only; its auto-replenishment replaces the lane's policy."""
    source = sc.nodes.get(rep.source)
    dest = sc.nodes.get(node)
    if source is not None and source.type == "awd" and dest is not None and dest.type != "fba":
        yield (
            (*where, "from"),
            f"an awd node feeds fba nodes only (node {node!r} is {dest.type}; AWD's "
            "multi-channel distribution is not modelled)",
        )
    if auto_replenisher(sc, rep) is not None:
        if rep.policy is not None:
            yield (
                (*where, "policy"),
                f"node {rep.source!r} has auto_replenish: true, so AWD sets this lane's "
                "policy (its days_of_supply): drop policy, or set auto_replenish: false",
            )
    elif rep.policy is None:
        yield (*where, "policy"), "missing: how this node is refilled (e.g. {type: order_up_to, …})"


def _sku_data_needed(sc: Scenario):
    """Each SKU must have the size, weight and price the fees and costs in use depend on."""
    used_nodes = {n for st in sc.strategies for n in (*st.fulfil_nodes(), *st.replenish)}
    used_lanes = {r.lane for st in sc.strategies for r in st.replenish.values() if r.lane}
    needs: dict[str, str] = {}  # key -> why
    for name in sorted(used_nodes):
        node = sc.nodes.get(name)
        if node is None:
            continue
        if node.type == "fba" and node.amazon_fees:
            why = f"the Amazon fees of node {name!r} (or set amazon_fees: false)"
            for key in (*SIZE_KEYS, "weight_lb", "price"):
                needs.setdefault(key, why)
        if node.type == "fba" and node.capacity_cubic_feet is not None:
            for key in SIZE_KEYS:
                needs.setdefault(key, f"the capacity limit of node {name!r}")
        if node.type in SELLER_TYPES:
            if node.storage_per_cubic_foot_month or getattr(node, "storage_per_pallet_month", 0):
                for key in SIZE_KEYS:
                    needs.setdefault(key, f"the storage cost of node {name!r}")
            label = "label_cost_per_lb" if node.label_cost_per_lb else None
            label = "label_rates" if node.label_rates is not None else label
            if label:
                needs.setdefault("weight_lb", f"{label} of node {name!r}")
                if node.dim_divisor:
                    for key in SIZE_KEYS:
                        why = f"the dimensional weight of {label} of node {name!r} (or dim_divisor: 0)"
                        needs.setdefault(key, why)
            if node.receiving_per_carton:
                needs.setdefault("units_per_carton", f"receiving_per_carton of node {name!r}")
        if node.type == "awd":
            for key in SIZE_KEYS:
                needs.setdefault(key, f"the AWD fees per cubic foot of node {name!r}")
            needs.setdefault("units_per_carton", f"the AWD fees per box of node {name!r}")
    for name in sorted(used_lanes):
        lane = sc.lanes.get(name)
        if lane is None:
            continue
        if lane.cost_per_kg:
            needs.setdefault("weight_lb", f"cost_per_kg of lane {name!r}")
        if lane.cost_per_cubic_foot:
            for key in SIZE_KEYS:
                needs.setdefault(key, f"cost_per_cubic_foot of lane {name!r}")
    for i, sku in enumerate(sc.skus):
        for key, why in needs.items():
            if getattr(sku, key) is None:
                unit = {"price": "", "weight_lb": " (or weight_kg)", "units_per_carton": ""}.get(
                    key, f" (or {key[:-3]}_cm)"
                )
                yield ("skus", i, key), f"missing{unit}: needed by {why}"


def _duplicates(where, values, key):
    seen = {}
    for i, v in enumerate(values):
        if v in seen:
            yield (where, i, key), f"duplicate {key} {v!r} (also {where}[{seen[v]}])"
        else:
            seen[v] = i


def _did_you_mean(word, choices) -> str:
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown_node(name, nodes, supplier=False) -> str:
    choices = list(nodes) + ([SUPPLIER] if supplier else [])
    hint = _did_you_mean(name, choices) or f" (nodes: {', '.join(choices)})"
    return f"no node named {name!r}{hint}"


def _per_sku_keys(policy, where, skus):
    for field in type(policy).model_fields:
        value = getattr(policy, field)
        if isinstance(value, Safety):
            yield from _per_sku_keys(value, (*where, field), skus)
        elif isinstance(value, dict) and field == "review_days":
            yield from _per_sku_value(value, (*where, field), skus, need_all=True)
        elif isinstance(value, dict):
            yield from _policy_number_keys(value, (*where, field), skus)


def _policy_number_keys(value: dict, where, skus):
    """A policy number's mapping: by month, by SKU, or by SKU then month (jan..dec are months)."""
    for key in value:
        if key in MONTHS and key in skus:
            yield (
                (*where, key),
                f"{key!r} is both a month and a SKU id: in policy numbers jan..dec are months; "
                f"rename the SKU (ids are case-sensitive, e.g. {key.upper()!r}) to give it its "
                "own number",
            )
            return
    if month_mapping(value):
        yield from _month_problems(value, where)
        return
    if any(k in MONTHS for k in value):
        yield (
            where,
            "mixes months and SKU ids: nest the months under a SKU id or default, e.g. "
            "{SKU-A: {default: 300, dec: 900}, default: 200}",
        )
        return
    yield from _per_sku_value(value, where, skus, need_all=True)
    for key, inner in value.items():
        if isinstance(inner, dict):
            if not month_mapping(inner):
                bad = next((k for k in inner if k not in MONTHS and k != "default"), None)
                if bad is not None:
                    yield (*where, key, bad), f"{bad!r} is not a month (jan..dec or default)"
                    continue
            yield from _month_problems(inner, (*where, key))


def _month_problems(value: dict, where):
    try:
        _complete_months(value)
    except ValueError as e:
        yield where, str(e)


def _per_sku_value(value, where, skus, need_all):
    if not isinstance(value, dict):
        return
    for key in value:
        if key != "default" and key not in skus:
            yield (*where, key), f"no SKU with id {key!r}{_did_you_mean(key, skus)}"
    if need_all and "default" not in value:
        missing = [s for s in skus if s not in value]
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            yield where, f"no value for SKU {shown} and no 'default'"


def _transfer_cycle(st: Strategy) -> list[str] | None:
    for start in st.replenish:
        path, node = [start], st.replenish[start].source
        while node in st.replenish:
            if node in path:
                return [*path[path.index(node) :], node]
            path.append(node)
            node = st.replenish[node].source
    return None


def value_for(value, sku_id: str, fallback=None):
    """The number a per-SKU policy value gives one SKU (``fallback`` when the value is None)."""
    if value is None:
        return fallback
    if isinstance(value, dict):
        return value.get(sku_id, value.get("default", fallback))
    return value


def json_schema() -> dict:
    """The JSON Schema of the scenario format (for editors and validators)."""
    for default in MODEL_DEFAULTS:  # the schema shows them, through their models' serializers
        type(default).model_rebuild()
    schema = _dates_either_way(Scenario.model_json_schema(by_alias=True))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "fulfilsim scenario"
    return schema


# YAML 1.1 parsers (PyYAML, and so most Python tools) load an unquoted 2026-01-05 as a date,
# YAML 1.2 parsers (the editors' language server) as the string: a date key accepts both, the
# date object being the one value that is none of JSON's types
NOT_JSON = {"not": {"type": ["string", "number", "boolean", "null", "array", "object"]}}


def _dates_either_way(node):
    """``node`` with every ``{"type": "string", "format": "date"}`` widened to accept a date
    object as well (see ``NOT_JSON``)."""
    if isinstance(node, list):
        return [_dates_either_way(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _dates_either_way(v) for k, v in node.items()}
    if out.get("type") == "string" and out.get("format") == "date":
        out.pop("type")
        fmt = out.pop("format")
        out["anyOf"] = [{"type": "string", "format": fmt}, NOT_JSON]
    return out
