"""Parameter uncertainty: any number of a scenario may be ``{uncertain: {dist: …}}``.

An uncertain number is drawn once per replication, from its own named random stream
(``("uncertain", KEY)`` below the replication's key, ``montecarlo.Streams``), where KEY is the
number's path with list items named by their ``id`` or ``name`` (``skus[BOTTLE].demand.prime_uplift``):
adding or removing another uncertain number changes no other draw, and every strategy of a
replication sees the same value (common random numbers). The replication is then simulated on a
model compiled from the scenario with the drawn values, so intervals and P(most profitable)
include what the seller does not know, not only demand noise.

Validation: the scenario is validated with every uncertain number at its distribution's centre
(the value the scenario's other checks and the budget see), and with each one at the lowest and
at the highest value it can draw (the others at their centres): a draw is therefore valid for
its key's own bounds. Numbers whose key takes whole numbers are rounded to the nearest integer.
A ``normal`` is cut at ``low``/``high`` when given and always at mean ± 6 sd (probability
2·10⁻⁹ beyond): an uncertain number must have a bounded range of values.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

from sim.errors import UserError, excerpt

KEY = "uncertain"
KINDS = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
}
OPTIONAL = {"normal": ("low", "high")}
LIMIT = 1e12  # any parameter of an uncertain number (the key's own bounds apply to the draws)
NORMAL_SDS = 6.0
FIXED_KEYS = frozenset(
    {"name", "description", "start_date", "horizon_days", "warmup_days", "replications", "seed",
     "confidence", "baseline"}
)  # fmt: skip
"""Top-level keys that shape the run (its length, replications, seed): never uncertain."""
_STD = NormalDist()


@dataclass(frozen=True)
class Dist:
    """A validated distribution of an uncertain number."""

    kind: str
    params: tuple[tuple[str, float], ...]

    def support(self) -> tuple[float, float]:
        """The lowest and highest value a draw can take."""
        p = dict(self.params)
        if self.kind == "normal":
            lo, hi = p["mean"] - NORMAL_SDS * p["sd"], p["mean"] + NORMAL_SDS * p["sd"]
            return max(lo, p.get("low", -math.inf)), min(hi, p.get("high", math.inf))
        return p["low"], p["high"]

    def centre(self) -> float:
        """The value the scenario is validated and budgeted at: the mean (of the normal before
        truncation, clipped into its range)."""
        p = dict(self.params)
        if self.kind == "uniform":
            return (p["low"] + p["high"]) / 2
        if self.kind == "triangular":
            return (p["low"] + p["mode"] + p["high"]) / 3
        lo, hi = self.support()
        return min(max(p["mean"], lo), hi)

    def draw(self, u: float) -> float:
        """The value at probability ``u`` in [0, 1) (inverse CDF, so one uniform per draw)."""
        p = dict(self.params)
        lo, hi = self.support()
        if hi <= lo:
            return lo
        if self.kind == "uniform":
            return lo + (hi - lo) * u
        if self.kind == "triangular":
            mode = p["mode"]
            cut = (mode - lo) / (hi - lo)
            if u < cut:
                return lo + math.sqrt(u * (hi - lo) * (mode - lo))
            return hi - math.sqrt((1 - u) * (hi - lo) * (hi - mode))
        mean, sd = p["mean"], p["sd"]
        a, b = _STD.cdf((lo - mean) / sd), _STD.cdf((hi - mean) / sd)
        q = min(max(a + u * (b - a), 1e-300), 1 - 1e-16)
        return min(max(mean + sd * _STD.inv_cdf(q), lo), hi)

    def to_dict(self) -> dict:
        return {"dist": self.kind, **dict(self.params)}


@dataclass(frozen=True)
class Input:
    """One uncertain number: where it is, its stream key and its distribution."""

    path: tuple  # keys and list indices into the scenario's plain data
    where: str  # the path as error messages write it: skus[0].demand.prime_uplift
    key: str  # the stream's name: list items by id or name, skus[BOTTLE].demand.prime_uplift
    dist: Dist
    integer: bool = False

    def value(self, u: float) -> float | int:
        x = self.dist.draw(u)
        return round(x) if self.integer else x


def find(data: Any) -> list[Input]:
    """Every ``{uncertain: …}`` in the plain scenario data; raise ``UserError`` (located at
    the key) for a malformed one."""
    found: list[Input] = []
    problems: list[tuple[str, str]] = []
    _walk(data, (), (), found, problems, set())
    if problems:
        raise UserError(problems)
    return found


MAX_DEPTH = 40  # scenario keys nest about 10 deep; deeper data is not searched (nor cycles)


def _walk(node: Any, path: tuple, named: tuple, found: list, problems: list, stack: set) -> None:
    if len(path) > MAX_DEPTH or id(node) in stack:  # a YAML alias can make data recursive
        return
    if isinstance(node, dict):
        if KEY in node:
            _spec(node, path, named, found, problems)
            return
        items = [(k, k, v) for k, v in node.items()]
    elif isinstance(node, list):
        items = []
        for i, v in enumerate(node):
            label = v.get("id", v.get("name", i)) if isinstance(v, dict) else i
            if not isinstance(label, str | int) or isinstance(label, bool):
                label = i
            items.append((i, label, v))
    else:
        return
    stack.add(id(node))
    for k, label, v in items:
        if isinstance(v, dict | list):
            _walk(v, (*path, k), (*named, label), found, problems, stack)
    stack.discard(id(node))


def _spec(node: dict, path: tuple, named: tuple, found: list, problems: list) -> None:
    from sim.loader import format_loc

    where = format_loc(path)
    if len(node) != 1:
        others = ", ".join(str(k) for k in node if k != KEY)
        problems.append(
            (where, f"an uncertain number is {{uncertain: {{…}}}} alone; also has {others}")
        )
        return
    if not path or path[0] in FIXED_KEYS:
        problems.append((where, "this key shapes the run and cannot be uncertain"))
        return
    spec = node[KEY]
    at = f"{where}.{KEY}"
    if not isinstance(spec, dict):
        problems.append(
            (at, f"expected a mapping {{dist: uniform, low: …, high: …}}, got {excerpt(spec)}")
        )
        return
    kind = spec.get("dist")
    if kind not in KINDS:
        problems.append((f"{at}.dist", f"expected one of: {', '.join(KINDS)}; got {excerpt(kind)}"))
        return
    needed, optional = KINDS[kind], OPTIONAL.get(kind, ())
    params: dict[str, float] = {}
    for name, value in spec.items():
        if name == "dist":
            continue
        if name not in needed and name not in optional:
            allowed = ", ".join(("dist", *needed, *optional))
            problems.append((f"{at}.{name}", f"unknown key (allowed: {allowed})"))
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append((f"{at}.{name}", f"expected a number, got {excerpt(value)}"))
        elif not -LIMIT <= value <= LIMIT:
            problems.append((f"{at}.{name}", f"must be between {-LIMIT:g} and {LIMIT:g}"))
        else:
            params[name] = float(value)
    missing = [n for n in needed if n not in spec]
    for name in missing:
        problems.append((f"{at}.{name}", "required key is missing"))
    if missing or len(params) != len(spec) - 1:
        return
    problem = _order(kind, params)
    if problem:
        problems.append((at, problem))
        return
    ordered = tuple((n, params[n]) for n in (*needed, *optional) if n in params)
    key = format_loc(named)
    found.append(Input(path, where, key, Dist(kind, ordered)))


def _order(kind: str, p: dict[str, float]) -> str | None:
    if kind == "uniform" and not p["low"] <= p["high"]:
        return "needs low ≤ high"
    if kind == "triangular" and not p["low"] <= p["mode"] <= p["high"]:
        return "needs low ≤ mode ≤ high"
    if kind == "normal":
        if p["sd"] <= 0:
            return "sd must be > 0 (for a fixed value write the number)"
        if "low" in p and "high" in p and not p["low"] < p["high"]:
            return "needs low < high"
        lo = max(p["mean"] - NORMAL_SDS * p["sd"], p.get("low", -math.inf))
        hi = min(p["mean"] + NORMAL_SDS * p["sd"], p.get("high", math.inf))
        if not lo < hi:
            return f"low … high leaves nothing within {NORMAL_SDS:g} sd of the mean"
    return None


def with_values(data: dict, inputs: list[Input], values: list) -> dict:
    """``data`` with each input's number replaced (containers on the paths copied, the rest
    shared)."""
    out = dict(data)
    for inp, value in zip(inputs, values, strict=True):
        node = out
        for part in inp.path[:-1]:
            child = node[part]
            child = dict(child) if isinstance(child, dict) else list(child)
            node[part] = child
            node = child
        node[inp.path[-1]] = value
    return out


def check(
    data: dict, inputs: list[Input], validate: Callable[[dict], Any], context: dict
) -> tuple[Any, list]:
    """Validate ``data`` at the inputs' centres and each input at its range's ends; return the
    scenario at the centres and the inputs (marked ``integer`` where the key takes whole
    numbers). Raise ``UserError`` naming the input and the end that fails."""
    inputs = _integers(data, inputs, context)
    centres = [_fit(inp, inp.dist.centre()) for inp in inputs]
    scenario, base = None, []
    try:
        scenario = validate(with_values(data, inputs, centres))
    except UserError as e:
        base = list(e.problems)
    problems: list[tuple[str, str]] = []
    for i, inp in enumerate(inputs):
        for end, x in zip(("lowest", "highest"), inp.dist.support(), strict=True):
            values = list(centres)
            values[i] = _fit(inp, x)
            try:
                validate(with_values(data, inputs, values))
            except UserError as e:
                for loc, msg in e.problems:
                    if (loc, msg) not in base:  # not already wrong at the centres
                        text = f"at its {end} value {values[i]:g}: {loc}: {msg}"
                        problems.append((f"{inp.where}.{KEY}", text))
    for loc, msg in base:
        owner = next((inp for i, inp in enumerate(inputs) if _at(loc, inp.where)), None)
        if owner is None:
            problems.append((loc, msg))
        else:
            centre = centres[inputs.index(owner)]
            problems.append((f"{owner.where}.{KEY}", f"at its centre {centre:g}: {loc}: {msg}"))
    if scenario is not None:
        problems += _text_keys(scenario, inputs)
    if problems:
        raise UserError(problems)
    return scenario, inputs


def _text_keys(scenario, inputs: list[Input]) -> list[tuple[str, str]]:
    """Inputs at keys that hold text (a SKU id would read 12.5 as "12.5"): not numbers."""
    from pydantic import BaseModel

    out = []
    for inp in inputs:
        node = scenario
        for part in inp.path:
            if isinstance(node, BaseModel):
                fields = type(node).model_fields
                name = next((n for n, f in fields.items() if part in (n, f.alias)), None)
                node = getattr(node, name) if name else None
            elif isinstance(node, dict | list):
                try:
                    node = node[part]
                except (KeyError, IndexError, TypeError):
                    node = None
            else:
                node = None
        if isinstance(node, str):
            out.append((f"{inp.where}.{KEY}", "this key holds text, not a number"))
    return out


def _at(loc: str, where: str) -> bool:
    """Whether an error location (``skus[0].price (line 9)``) is at or below ``where``."""
    return loc == where or (loc.startswith(where) and loc[len(where)] in " .[")


def _fit(inp: Input, x: float):
    return round(x) if inp.integer else x


def _integers(data: dict, inputs: list[Input], context: dict) -> list[Input]:
    """Mark the inputs whose key refuses a number with a fraction (an integer key)."""
    from pydantic import ValidationError

    from sim.loader import _strip_tags
    from sim.scenario import Scenario

    probe = with_values(data, inputs, [0.5] * len(inputs))
    try:
        Scenario.model_validate(probe, context=context)
        return inputs
    except ValidationError as e:
        whole = {
            _strip_tags(err["loc"], probe)
            for err in e.errors(include_url=False)
            if err["type"] in ("int_from_float", "int_type")
        }
    return [dataclasses.replace(i, integer=True) if i.path in whole else i for i in inputs]


@dataclass(frozen=True)
class Uncertainty:
    """What a replication needs to build its own model: the plain data, the uncertain inputs
    and how files are read (``loader.validate``'s arguments)."""

    data: dict
    inputs: tuple[Input, ...]
    base_dir: Path
    allow_outside_files: bool

    def values(self, seed: int, replication: int) -> list:
        """Replication ``replication``'s draw of every input (its own stream each)."""
        from sim.montecarlo import Streams

        streams = Streams(seed, replication)
        return [inp.value(float(streams.shared(KEY, inp.key).random())) for inp in self.inputs]

    def model_for(self, model, replication: int):
        """``model`` (the scenario compiled at the centres) with the catalog and strategies
        compiled from replication ``replication``'s draws."""
        from sim.loader import validate_plain
        from sim.model import compile_scenario

        data = with_values(self.data, list(self.inputs), self.values(model.seed, replication))
        drawn = compile_scenario(
            validate_plain(data, None, self.base_dir, self.allow_outside_files)
        )
        return dataclasses.replace(
            model,
            catalog=drawn.catalog,
            strategies=drawn.strategies,
            lead_streams=drawn.lead_streams,
            uncertain=None,
        )

    def describe(self) -> dict:
        """``{where: {dist, params…}}`` for summary.json and the report."""
        return {
            inp.where: {**inp.dist.to_dict(), **({"whole_numbers": True} if inp.integer else {})}
            for inp in self.inputs
        }


def describe_dist(spec: dict) -> str:
    """``uniform 20 … 30`` from a summary.json entry (``Uncertainty.describe``)."""
    kind = spec["dist"]
    if kind == "uniform":
        text = f"uniform {spec['low']:g} … {spec['high']:g}"
    elif kind == "triangular":
        text = f"triangular {spec['low']:g} … {spec['mode']:g} … {spec['high']:g}"
    else:
        text = f"normal mean {spec['mean']:g}, sd {spec['sd']:g}"
        cut = [f"{k} {spec[k]:g}" for k in ("low", "high") if k in spec]
        text += f" (cut at {', '.join(cut)})" if cut else ""
    return text + (", whole numbers" if spec.get("whole_numbers") else "")


def uncertain_lines(summary: dict) -> list[str]:
    """One line per uncertain input of a summary, for the terminal and the report."""
    return [
        f"{where}: {describe_dist(spec)}" for where, spec in summary.get("uncertain", {}).items()
    ]
