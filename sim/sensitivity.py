"""One-at-a-time sensitivity: which inputs decide the recommendation.

Each input is set to a low and a high value, one input at a time, the others kept as in the
scenario; the scenario, every low and every high run on the same seed and replications (common
random numbers), so differences between runs are paired. At the base scenario the strategies are
ranked by mean profit: the best and the runner-up. For each input the paired profit difference
best − runner-up is reported at the low and at the high value with its interval, the strategy
with the highest mean profit at each end, and whether the recommendation **flips** (another
strategy wins at an end). Inputs are ordered by swing: |difference at high − difference at low|.

An input is ``KEY=LOW,HIGH`` in ``sweep``'s path grammar (``sim.sweep``: mapping keys, list
indices, ``*``); a value written ``x0.7`` multiplies the number(s) the key holds instead of
replacing them. Without inputs a default set is used (``defaults``): the inputs that usually
decide between FBA and own fulfilment, those that do not apply to the scenario skipped.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sim import montecarlo
from sim import sweep as sw
from sim.errors import UserError
from sim.loader import format_loc, validate
from sim.metric_names import INDEX
from sim.model import compile_scenario
from sim.packed import Packed
from sim.scenario import Scenario
from sim.stats import interval
from sim.table import fmt, render

WHERE = "--vary"
METRIC = "profit"
FACTOR = re.compile(r"^[x×]\s*(?P<f>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")
SELLER_NODES = ("fbm", "sfp", "3pl")
FEE_NUMBERS = ("fee", "base", "per_interval")
DIST_NUMBERS = ("low", "high", "mode", "mean", "sd", "value")


@dataclass(frozen=True)
class Input:
    """One input varied: its name, the keys it changes, the two ends as typed, and how to set
    an end in the scenario's plain data (``apply(data, end)``, end 0 = low, 1 = high)."""

    name: str
    key: str
    ends: tuple[str, str]
    apply: Callable[[dict, int], None] = field(compare=False)


class Varied(NamedTuple):
    """An input as the report names it (an ``Input`` without its ``apply``: it pickles)."""

    name: str
    key: str
    ends: tuple[str, str]


# --------------------------------------------------------------------------- --vary


def parse_vary(text: str) -> Input:
    """``KEY=LOW,HIGH`` (either end may be ``xF``: the key's numbers times F)."""
    key, eq, rest = text.partition("=")
    values = [v.strip() for v in rest.split(",")] if eq else []
    if len(values) != 2 or not all(values):
        raise UserError((WHERE, f"{text!r}: expected KEY=LOW,HIGH (two values)"))
    param = _as_vary(sw.parse_set, f"{key}={values[0]}")
    ends = []
    for v in values:
        m = FACTOR.match(v)
        ends.append(("scale", float(m["f"])) if m else ("set", _as_vary(sw.parse_value, v, key)))
    parts = param.parts

    def apply(data: dict, end: int) -> None:
        how, value = ends[end]
        if how == "set":
            _as_vary(sw.set_path, data, sw.Parameter(param.key, parts, (value,)), value)
        else:
            _scale_path(data, param.key, parts, value)

    return Input(param.key, param.key, (values[0], values[1]), apply)


def parse_varies(texts) -> list[Input]:
    """Every ``--vary``; a key may appear once."""
    inputs = [parse_vary(t) for t in texts]
    keys = [i.key for i in inputs]
    for key in keys:
        if keys.count(key) > 1:
            raise UserError((WHERE, f"{key}: given twice"))
    return inputs


def _as_vary(fn, *args):
    """Call a ``sim.sweep`` helper, its ``--set`` problems located at ``--vary``."""
    try:
        return fn(*args)
    except UserError as e:
        problems = [(WHERE if loc == sw.WHERE else loc, msg) for loc, msg in e.problems]
        raise UserError(problems) from None


def _scale_path(data: Any, key: str, parts: tuple[str, ...], factor: float) -> None:
    misses: list[str] = []
    if _scale(data, parts, (), factor, misses, key) == 0:
        raise UserError((WHERE, f"{key}: {misses[0]}"))


def _scale(node, parts, at, factor, misses, key) -> int:
    keys = sw._matches(node, parts[0])
    if not keys:
        misses.append(f"nothing matches {parts[0]!r} at {format_loc(at)}{sw._choices(node)}")
        return 0
    if len(parts) > 1:
        return sum(_scale(node[k], parts[1:], (*at, k), factor, misses, key) for k in keys)
    for k in keys:
        if not _number(node[k]):
            where = format_loc((*at, k))
            raise UserError((WHERE, f"{key}: x{factor:g} scales a number; {where} is not one"))
        node[k] = node[k] * factor
    return len(keys)


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


# --------------------------------------------------------------------------- defaults


def defaults(data: dict, scenario: Scenario) -> tuple[list[Input], list[tuple[str, str]]]:
    """The default inputs that apply to ``scenario`` and the (name, reason) of those skipped."""
    types = {node.type for node in scenario.nodes.values()}
    fba = any(n.type == "fba" and n.amazon_fees for n in scenario.nodes.values())
    chosen, skipped = [], []

    def offer(name: str, key: str, ends: tuple[str, str], apply, reason: str | None) -> None:
        if reason is None:
            chosen.append(Input(name, key, ends, apply))
        else:
            skipped.append((name, reason))

    uplifts = [s.demand.prime_uplift for s in scenario.skus if hasattr(s.demand, "prime_uplift")]
    high = round(max([0.1, *(2 * u for u in uplifts)]), 6)
    offer(
        "Prime uplift",
        "skus.*.demand.prime_uplift",
        ("0", f"{high:g}"),
        lambda d, end: _each_demand(d, _setter("prime_uplift", (0, high)[end]), empirical=True),
        None if types & {"fba", "sfp"} else "no FBA or SFP node: nothing carries the Prime badge",
    )
    offer(
        "FBA fee level",
        "fee_overrides.rate_cards: every fulfilment fee",
        ("x0.9", "x1.1"),
        lambda d, end: _scale_fees(d, "rate_cards", (0.9, 1.1)[end]),
        None if fba else "no FBA node charging Amazon's fees",
    )
    storage_keys = _seller_keys(data, ("storage_per_cubic_foot_month", "storage_per_pallet_month"))
    offer(
        "storage rates",
        ", ".join(
            [
                *(["FBA monthly storage"] if fba else []),
                *(f"nodes.{n}.{k}" for n, k in storage_keys),
            ]
        ),
        ("x0.8", "x1.2"),
        lambda d, end: _scale_storage(d, storage_keys, fba, (0.8, 1.2)[end]),
        None if fba or storage_keys else "no storage rate in the scenario",
    )
    leads = _lead_places(data)
    offer(
        "lead time",
        "lanes.*.legs.*.days, strategies.*.replenish.*.lead_time_days",
        ("x0.75", "x1.25"),
        lambda d, end: _scale_leads(d, (0.75, 1.25)[end]),
        None if leads else "no supplier lead time in the scenario",
    )
    demand = [s for s in data.get("skus", []) if _number(_get(s, "demand", "mean_per_day"))]
    offer(
        "demand",
        "skus.*.demand.mean_per_day",
        ("x0.7", "x1.3"),
        lambda d, end: _each_demand(
            d, lambda dem: _times(dem, ("mean_per_day", "sd"), (0.7, 1.3)[end])
        ),
        None if demand else "no SKU with a mean_per_day (empirical demand is not scaled)",
    )
    picks = _seller_keys(data, ("pick_pack_per_order",))
    offer(
        "own pick & pack",
        ", ".join(f"nodes.{n}.pick_pack_per_order" for n, _ in picks) or "-",
        ("x0.7", "x1.3"),
        lambda d, end: [_times(d["nodes"][n], (k,), (0.7, 1.3)[end]) for n, k in picks],
        None if picks else "no own (FBM, SFP or 3PL) node with a pick & pack cost",
    )
    return chosen, skipped


def _setter(key: str, value):
    def put(node: dict) -> None:
        node[key] = value

    return put


def _get(node, *keys):
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


def _each_demand(data: dict, fn, empirical: bool = False) -> None:
    """``fn(demand)`` for every SKU's demand mapping (empirical ones only with ``empirical``)."""
    for sku in data.get("skus", []):
        dem = _get(sku, "demand")
        if isinstance(dem, dict) and (empirical or dem.get("distribution") != "empirical"):
            fn(dem)


def _times(node: dict, keys, factor: float) -> None:
    for k in keys:
        if _number(node.get(k)):
            node[k] = node[k] * factor


def _seller_keys(data: dict, keys) -> list[tuple[str, str]]:
    out = []
    for name, node in (data.get("nodes") or {}).items():
        if isinstance(node, dict) and node.get("type") in SELLER_NODES:
            out += [(name, k) for k in keys if _number(node.get(k)) and node[k] > 0]
    return out


def _effective_fees(data: dict) -> dict:
    from sim.fees import load_tables

    return copy.deepcopy(dict(load_tables(data.get("fee_overrides") or {}).data))


def _scale_fees(data: dict, section: str, factor: float) -> None:
    tables = _effective_fees(data)
    scaled = _scale_numbers(tables[section], FEE_NUMBERS, factor)
    data["fee_overrides"] = {**(data.get("fee_overrides") or {}), section: scaled}


def _scale_numbers(node, names, factor):
    """``node`` with every number under a key in ``names`` (a fee, or a fee by price band)
    times ``factor``."""
    if isinstance(node, dict):
        return {
            k: (_scale_all(v, factor) if k in names else _scale_numbers(v, names, factor))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_scale_numbers(v, names, factor) for v in node]
    return node


def _scale_all(node, factor):
    if _number(node):
        return node * factor
    if isinstance(node, dict):
        return {k: _scale_all(v, factor) for k, v in node.items()}
    if isinstance(node, list):
        return [_scale_all(v, factor) for v in node]
    return node


def _scale_storage(data: dict, keys, fba: bool, factor: float) -> None:
    if fba:
        storage = _effective_fees(data)["storage"]
        rows = storage["monthly_per_cubic_foot"]
        for row in rows:
            for cls in ("standard", "bulky"):
                row[cls] = {k: v * factor for k, v in row[cls].items()}
        over = dict(data.get("fee_overrides") or {})
        over["storage"] = {**over.get("storage", {}), "monthly_per_cubic_foot": rows}
        data["fee_overrides"] = over
    for name, key in keys:
        _times(data["nodes"][name], (key,), factor)


def _lead_places(data: dict) -> list[tuple[dict, str]]:
    places = []
    for lane in (data.get("lanes") or {}).values():
        for leg in _get(lane, "legs") or []:
            if isinstance(leg, dict) and "days" in leg:
                places.append((leg, "days"))
    for st in data.get("strategies") or []:
        for rep in (_get(st, "replenish") or {}).values():
            if isinstance(rep, dict) and "lead_time_days" in rep:
                places.append((rep, "lead_time_days"))
    return places


def _scale_leads(data: dict, factor: float) -> None:
    for node, key in _lead_places(data):
        node[key] = scale_duration(node[key], factor)


def scale_duration(value, factor: float):
    """A duration (number, ``{dist: …}``, month mapping or ``{uncertain: …}``) times ``factor``."""
    if _number(value):
        return value * factor
    if isinstance(value, dict):
        if "uncertain" in value:
            return {"uncertain": scale_duration(value["uncertain"], factor)}
        if "dist" in value:
            out = {
                k: (v * factor if k in DIST_NUMBERS and _number(v) else v) for k, v in value.items()
            }
            if isinstance(value.get("values"), list):
                out["values"] = [v * factor if _number(v) else v for v in value["values"]]
            return out
        return {k: scale_duration(v, factor) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Plan:
    """The scenarios to run, packed (``sim.packed``): the base, then each input's low and high;
    and the base's name, seed, replications and confidence."""

    inputs: list[Varied]
    scenarios: Packed
    name: str
    seed: int
    replications: int
    confidence: float


def prepare(
    data: dict,
    lines: dict,
    base_dir: Path,
    inputs: list[Input],
    overrides: dict | None = None,
    allow_outside_files: bool = False,
) -> Plan:
    """Validate the base scenario (with ``overrides``: replications, seed) and each input's ends;
    raise ``UserError`` naming the input and end that make the scenario invalid."""
    base_data = {**data, **(overrides or {})}
    base = validate(base_data, lines, base_dir, allow_outside_files)
    if len(base.strategies) < 2:
        raise UserError((WHERE, "sensitivity compares strategies: the scenario has only one"))
    scenarios = Packed()
    scenarios.append(base)
    for inp in inputs:
        for end in (0, 1):
            d = copy.deepcopy(base_data)
            inp.apply(d, end)
            try:
                scenarios.append(validate(d, lines, base_dir, allow_outside_files))
            except UserError as e:
                label = f"{inp.name}={inp.ends[end]}"
                raise UserError([(WHERE, f"at {label}: {a}: {b}") for a, b in e.problems]) from None
    varied = [Varied(i.name, i.key, i.ends) for i in inputs]
    return Plan(varied, scenarios, base.name, base.seed, base.replications, base.confidence)


def run_plan(
    plan: Plan,
    workers: int,
    progress: Callable[[int], None] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
) -> tuple[list[montecarlo.RunTotals], bool]:
    """Run the base then each input's low and high; on Ctrl-C keep what finished."""
    results = []
    for i in range(len(plan.scenarios)):
        res = montecarlo.run(
            compile_scenario(plan.scenarios[i]),  # the validated run is dropped once compiled
            workers=workers, progress=progress, backend=backend, scheduler=scheduler,
        )  # fmt: skip
        if not res.complete:
            return results, False
        results.append(res.totals_only())  # not the model and per-SKU results of every run
    return results, True


def report(
    plan: Plan, results: list[montecarlo.RunTotals], complete: bool, scenario: dict, skipped=()
) -> dict:
    """The content of ``sensitivity.json`` for the runs that finished (an input appears once
    both its ends ran)."""
    base = results[0] if results else None
    out: dict = {
        "schema_version": 1,
        "complete": complete,
        "scenario": scenario,
        "metric": METRIC,
        "seed": plan.seed,
        "replications": plan.replications,
        "confidence": plan.confidence,
        "skipped": [{"input": n, "reason": r} for n, r in skipped],
        "inputs": [],
    }
    if base is None:
        return out
    names = base.strategy_names
    means = _means(base)
    order = np.argsort(-means, kind="stable")
    best, runner = int(order[0]), int(order[1])
    conf = base.confidence
    out.update(
        best=names[best],
        runner_up=names[runner],
        base={"diff": _diff(base, best, runner, conf), "winner": names[best]},
    )
    rows = []
    for i, inp in enumerate(plan.inputs):
        if 2 + 2 * i >= len(results):
            break
        low, high = results[1 + 2 * i], results[2 + 2 * i]
        at = []
        for res in (low, high):
            at.append(
                {
                    "diff": _diff(res, best, runner, conf),
                    "winner": names[int(np.argmax(_means(res)))],
                }
            )
        swing = abs(at[1]["diff"]["mean"] - at[0]["diff"]["mean"])
        rows.append(
            {
                "input": inp.name,
                "key": inp.key,
                "low": inp.ends[0],
                "high": inp.ends[1],
                "at_low": at[0],
                "at_high": at[1],
                "swing": swing,
                "flips": any(a["winner"] != names[best] for a in at),
            }
        )
    out["inputs"] = sorted(rows, key=lambda r: -r["swing"])
    return out


def _means(res: montecarlo.RunTotals) -> np.ndarray:
    return res.totals[:, :, INDEX[METRIC]].mean(axis=0)


def _diff(res: montecarlo.RunTotals, best: int, runner: int, conf: float) -> dict:
    k = INDEX[METRIC]
    d = res.totals[:, best, k] - res.totals[:, runner, k]
    st = interval(d, conf)
    return {"mean": st.mean, "ci_low": st.ci_low, "ci_high": st.ci_high}


def csv_rows(rep: dict) -> list[dict]:
    """One row per input: its ends, the difference and winner at each, swing and flip."""
    rows = []
    for r in rep["inputs"]:
        row = {"input": r["input"], "key": r["key"], "low": r["low"], "high": r["high"]}
        for end in ("low", "high"):
            a = r[f"at_{end}"]
            row |= {
                f"diff_{end}": a["diff"]["mean"],
                f"ci_low_{end}": _cell(a["diff"]["ci_low"]),
                f"ci_high_{end}": _cell(a["diff"]["ci_high"]),
                f"winner_{end}": a["winner"],
            }
        rows.append(row | {"swing": r["swing"], "flips": str(r["flips"]).lower()})
    return rows


def _cell(v):
    return "" if v is None else v


def _ci(d: dict) -> str:
    text = fmt(d["mean"], "money")
    if d["ci_low"] is None:
        return text
    return f"{text} [{fmt(d['ci_low'], 'money')}, {fmt(d['ci_high'], 'money')}]"


def ranges_lines(inputs: list[Varied], skipped) -> list[str]:
    """The inputs varied and their ranges, and the defaults skipped (and why)."""
    lines = [
        f"  {i.name}: {i.ends[0]} … {i.ends[1]}" + ("" if i.key == i.name else f"  ({i.key})")
        for i in inputs
    ]
    lines += [f"  skipped {n}: {r}" for n, r in skipped]
    return lines


def table(rep: dict, inputs: list[Varied]) -> str:
    """The terminal table: one row per input, ordered by swing."""
    pct = round(100 * (rep["confidence"] or 0.95))
    head = [
        f"{rep['scenario']['name']}: one-at-a-time sensitivity, {rep['replications']} "
        f"replications per run, seed {rep['seed']} (common random numbers)"
        + ("" if rep["complete"] else "  [INCOMPLETE: interrupted]"),
        "inputs:",
        *ranges_lines(inputs, [(s["input"], s["reason"]) for s in rep["skipped"]]),
    ]
    if "best" not in rep:
        return "\n".join([*head, "", "no run finished"])
    head += [
        "",
        f"at the scenario: {rep['best']} ahead of {rep['runner_up']} by "
        f"{_ci(rep['base']['diff'])} profit ({pct}% CI)",
        "",
    ]
    rows = [["input", "low", "high", f"{rep['best']} − {rep['runner_up']} at low", "at high",
             "wins at low", "at high", "flips"]]  # fmt: skip
    for r in rep["inputs"]:
        rows.append(
            [
                r["input"],
                r["low"],
                r["high"],
                _ci(r["at_low"]["diff"]),
                _ci(r["at_high"]["diff"]),
                r["at_low"]["winner"],
                r["at_high"]["winner"],
                "FLIPS" if r["flips"] else "no",
            ]
        )
    flips = [r["input"] for r in rep["inputs"] if r["flips"]]
    tail = (
        f"the recommendation flips with: {', '.join(flips)}"
        if flips
        else f"{rep['best']} stays ahead at both ends of every input"
    )
    return "\n".join([*head, render(rows, right_from=1), "", tail])
