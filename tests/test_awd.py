"""AWD nodes (``type: awd``) on a deterministic scenario: every charge is hand arithmetic.

The case: one SKU of exactly 1 cu ft (12 x 12 x 12 in), 4 units a carton, 5 units a day of
constant demand, over 2025-03-01 .. 2025-04-30 (61 days: the 2025-04-01 fee change falls in the
run). FBA (no Amazon fees, no check-in) is kept at a position of 15 units, refilled from AWD
with a 2-day lead time, so AWD sends 5 units (2 boxes, 5 cu ft) every day. AWD starts with 320
units and orders once, on day 0 (review every 1000 days), up to 355: 40 units that arrive on
day 35 (2025-04-05), i.e. 10 boxes. AWD on hand at the end of day t is
320 - 5 (t + 1) + 40 [t >= 35].

Rates (help pages GAYG62Q3MPE6STFS, GPB467PZW3AZC4V3; sim/fees/data/awd.yaml): until
2025-03-31 storage $0.48/cu ft/month, processing $2.50/box (at outbound only), transport
$1.00/cu ft; from 2025-04-01 storage $0.48 base / $0.43 smart storage / $0.38 Amazon managed,
processing $1.35 in + $1.35 out per box, transport $1.15 ($1.04 Amazon managed).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import montecarlo
from sim.awd import awd_rates
from sim.errors import UserError
from sim.loader import validate
from sim.metric_names import INDEX
from sim.model import compile_scenario
from sim.montecarlo import Streams
from sim.months import MONTH_INDEX, measure_months, month_windows
from tests.test_modes import replicate

REPO = Path(__file__).resolve().parents[1]

SKU = {
    "id": "A",
    "price": 30.0,
    "unit_cost": 6.0,
    "length_in": 12,
    "width_in": 12,
    "height_in": 12,
    "weight_lb": 5,
    "units_per_carton": 4,
    "demand": {"distribution": "empirical", "values": [5]},
}
AWD_LANE = {
    "lead_time_days": 35,
    "policy": {"type": "order_up_to", "review_days": 1000, "level": 355},
}
MANUAL = {
    "name": "manual",
    "fulfil_from": ["fba"],
    "replenish": {
        "fba": {
            "from": "awd",
            "lead_time_days": 2,
            "policy": {"type": "order_up_to", "review_days": 1, "level": 15},
        },
        "awd": AWD_LANE,
    },
    "initial_on_hand": {"awd": 320},
}


def auto(name: str, node: str) -> dict:
    """The same flows under auto-replenishment: 3 days of supply of 5 a day = 15 units."""
    return {
        "name": name,
        "fulfil_from": ["fba"],
        "replenish": {"fba": {"from": node, "lead_time_days": 2}, node: AWD_LANE},
        "initial_on_hand": {node: 320},
    }


def scenario(fba_fees: bool = False) -> dict:
    fba = {"type": "fba", "check_in_days": 0, "amazon_fees": fba_fees}
    return {
        "name": "awd",
        "start_date": "2025-03-01",
        "horizon_days": 61,
        "replications": 1,
        "skus": [copy.deepcopy(SKU)],
        "nodes": {
            "fba": fba,
            "awd": {"type": "awd"},
            "awd_smart": {
                "type": "awd",
                "auto_replenish": True,
                "rate": "smart_storage",
                "days_of_supply": 3,
            },
            "awd_managed": {
                "type": "awd",
                "auto_replenish": True,
                "rate": "amazon_managed",
                "days_of_supply": 3,
            },
        },
        "strategies": copy.deepcopy(
            [MANUAL, auto("smart", "awd_smart"), auto("managed", "awd_managed")]
        ),
    }


# hand arithmetic -----------------------------------------------------------------------------
MARCH_UNIT_DAYS = sum(320 - 5 * (t + 1) for t in range(31))  # 7,440: 240 on average
APRIL_UNIT_DAYS = sum(320 - 5 * (t + 1) + 40 * (t >= 35) for t in range(31, 61))  # 3,665
BOXES_A_DAY = 2  # ceil(5 / 4)
MARCH_DAYS, APRIL_DAYS = 31, 30


def expected(april_storage: float, april_transport: float) -> dict[str, float]:
    march_storage = MARCH_UNIT_DAYS / 31 * 0.48  # average cu ft x monthly rate = $115.20
    storage = march_storage + APRIL_UNIT_DAYS / 30 * april_storage
    receiving = 10 * 1.35  # 40 units on 2025-04-05: 10 boxes in
    transfer = (
        MARCH_DAYS * (BOXES_A_DAY * 2.50 + 5 * 1.00)  # one processing fee, at outbound
        + APRIL_DAYS * (BOXES_A_DAY * 1.35 + 5 * april_transport)
    )
    return {"cost_storage": storage, "cost_receiving": receiving, "cost_transfer": transfer}


def test_hand_arithmetic_constants():
    assert MARCH_UNIT_DAYS == 7440 and APRIL_UNIT_DAYS == 3665
    assert expected(0.48, 1.15) == pytest.approx(
        {"cost_storage": 115.20 + 58.64, "cost_receiving": 13.50, "cost_transfer": 563.50}
    )


@pytest.mark.parametrize(
    "strategy, april_storage, april_transport",
    [("manual", 0.48, 1.15), ("smart", 0.43, 1.15), ("managed", 0.38, 1.04)],
)
def test_awd_storage_processing_and_transport_by_hand(strategy, april_storage, april_transport):
    runs = {r.model.name: r for r in replicate(scenario())}
    run = runs[strategy]
    awd = run.node("awd" if strategy == "manual" else f"awd_{strategy}")
    t = np.arange(61)
    np.testing.assert_array_equal(run.trace.on_hand[:, awd, 0], 320 - 5 * (t + 1) + 40 * (t >= 35))
    np.testing.assert_array_equal(run.trace.orders[0][:, 0], 5)  # FBA lane: 5 units a day
    want = expected(april_storage, april_transport)
    for metric, value in want.items():
        assert run.m[metric] == pytest.approx(value, abs=1e-9), metric
    assert run.m["cost_freight"] == 0 and run.m["cost_fulfillment"] == 0
    sold = 5 * 61
    referral = 0.15 * 30.0  # no category: 15% (everything_else)
    assert run.m["cost_referral"] == pytest.approx(sold * referral)
    assert run.m["profit"] == pytest.approx(sold * (30.0 - 6.0 - referral) - sum(want.values()))


def test_awd_charges_by_month_straddle_the_fee_change():
    d = scenario()
    model = compile_scenario(validate(d))
    runs = {r.model.name: r for r in replicate(d)}
    run = runs["manual"]
    months = measure_months(run.trace, run.model, model.catalog, model.calendar, Streams(0, 0))
    assert [m for m, _, _ in month_windows(model.calendar)] == ["2025-03", "2025-04"]
    march, april = months
    assert march[MONTH_INDEX["cost_storage"]] == pytest.approx(115.20)
    assert april[MONTH_INDEX["cost_storage"]] == pytest.approx(3665 / 30 * 0.48)
    assert march[MONTH_INDEX["cost_receiving"]] == 0  # no inbound fee before 2025-04-01 ...
    assert april[MONTH_INDEX["cost_receiving"]] == pytest.approx(13.50)  # ... 10 boxes after
    assert march[MONTH_INDEX["cost_transfer"]] == pytest.approx(31 * (2 * 2.50 + 5 * 1.00))
    assert april[MONTH_INDEX["cost_transfer"]] == pytest.approx(30 * (2 * 1.35 + 5 * 1.15))


def test_auto_replenishment_exempts_fba_from_the_low_inventory_level_fee():
    """FBA holds 5-10 units against 5 sold a day (1-2 days of supply < 28): the manual
    strategy pays the LIL fee from day 30; auto-replenished, the node is exempt (help
    GKH7ASMAL93YECBF: >= 70% of inbound by auto-replenishment) and pays every other FBA fee
    the same. The unit is 12 x 12 x 6 in (large standard: in 2025 the fee applies to standard
    size only)."""
    d = scenario(fba_fees=True)
    d["skus"][0]["height_in"] = 6
    runs = {r.model.name: r for r in replicate(d)}
    manual, smart = runs["manual"], runs["smart"]
    assert manual.m["cost_low_inventory"] > 0
    assert smart.m["cost_low_inventory"] == 0
    for metric in ("cost_fulfillment", "cost_referral", "cost_placement"):
        assert smart.m[metric] == pytest.approx(manual.m[metric]), metric


def test_auto_replenishment_ignores_the_fba_capacity_limit():
    """With FBA capacity 8 cu ft (8 units), the manual lane is cut to fit (position 10 + 5 >
    8) and FBA runs short; AWD auto-replenishment is exempt from capacity limits."""
    d = scenario()
    d["nodes"]["fba"]["capacity_cubic_feet"] = 8
    runs = {r.model.name: r for r in replicate(d)}
    assert runs["manual"].m["fill_rate"] < 1
    assert runs["smart"].m["fill_rate"] == 1


def test_awd_target_follows_the_forecast_days_of_supply():
    d = scenario()
    d["nodes"]["awd_smart"]["days_of_supply"] = 6  # FBA position up to 30 units
    model = compile_scenario(validate(d))
    lane = model.strategies[1].lanes[0]
    assert lane.policy == "forecast_up_to"
    assert (lane.levels[:, 0] == 30).all()


def test_awd_rates_are_dated():
    before, after = dt.date(2025, 3, 31), dt.date(2025, 4, 1)
    assert awd_rates("smart_storage", before).storage_per_cubic_foot_month == 0.48
    assert awd_rates("smart_storage", after).storage_per_cubic_foot_month == 0.43
    assert (
        awd_rates("base", before).inbound_per_box,
        awd_rates("base", before).outbound_per_box,
    ) == (
        0.0,
        2.50,
    )
    assert awd_rates("amazon_managed", after).transport_per_cubic_foot == 1.04
    assert awd_rates("base", after).verified
    assert not awd_rates("base", dt.date(2026, 6, 1)).verified  # carried on past verified_until


def test_fee_overrides_replace_awd_rates():
    d = scenario()
    d["fee_overrides"] = {
        "awd": {
            "versions": [
                {
                    "effective_from": dt.date(2024, 1, 1),
                    "verification": "official",
                    "source": ["A1"],
                    "storage_per_cubic_foot_month": {
                        "base": 0.62,
                        "smart_storage": 0.62,
                        "amazon_managed": 0.62,
                    },
                    "processing_per_box": {"inbound": 0.0, "outbound": 0.0},
                    "transport_per_cubic_foot": {
                        "base": 0.0,
                        "smart_storage": 0.0,
                        "amazon_managed": 0.0,
                    },
                }
            ]
        }
    }
    run = replicate(d)[0]
    assert run.m["cost_storage"] == pytest.approx((7440 / 31 + 3665 / 30) * 0.62)
    assert run.m["cost_transfer"] == 0 and run.m["cost_receiving"] == 0


def _problems(d: dict) -> list[tuple[str, str]]:
    with pytest.raises(UserError) as e:
        compile_scenario(validate(d))
    return [(str(loc), msg) for loc, msg in e.value.problems]


@pytest.mark.parametrize(
    "change, location, words",
    [
        (
            lambda d: d["strategies"][0].update(fulfil_from=["awd"]),
            "strategies[0].fulfil_from[0]",
            "never ships to customers",
        ),
        (
            lambda d: (
                d.update(channels={"web": {"fee_rate": 0.03}})
                or d["skus"][0].update(
                    channel_demand={"web": {"distribution": "poisson", "mean_per_day": 1}}
                )
                or d["strategies"][0].update(channel_fulfil_from={"web": ["awd"]})
            ),
            "strategies[0].channel_fulfil_from.web[0]",
            "never ships to customers",
        ),
        (lambda d: d["nodes"]["awd"].update(rate="premium"), "nodes.awd", "base"),
        (lambda d: d["nodes"]["awd"].update(rate="smart_storage"), "nodes.awd", "auto_replenish"),
        (
            lambda d: d["strategies"][1]["replenish"]["fba"].update(
                policy={"type": "order_up_to", "level": 5}
            ),
            "strategies[1].replenish.fba.policy",
            "drop policy",
        ),
        (
            lambda d: d["strategies"][0]["replenish"]["fba"].pop("policy"),
            "strategies[0].replenish.fba.policy",
            "missing",
        ),
        (lambda d: d["skus"][0].pop("units_per_carton"), "skus[0].units_per_carton", "per box"),
    ],
)
def test_bad_awd_input_is_a_located_user_error(change, location, words, tmp_path):
    d = scenario()
    change(d)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "simulate.py", "validate", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith(location)]
    assert lines, proc.stdout + proc.stderr
    assert any(words in line for line in lines), lines


def test_awd_feeds_fba_nodes_only():
    d = scenario()
    d["nodes"]["wh"] = {"type": "fbm"}
    d["strategies"][0]["fulfil_from"] = ["wh"]
    d["strategies"][0]["replenish"]["wh"] = d["strategies"][0]["replenish"].pop("fba")
    with pytest.raises(UserError) as e:
        validate(d)
    text = str(e.value.problems)
    assert "replenish" in text and "fba nodes only" in text


def test_fees_command_prints_the_awd_line():
    """28 x 18 x 10 in = 5,040 cu in = 2.9167 cu ft; on 2025-06-01 at the Amazon managed rate:
    $0.38 x 2.9167 = $1.1083 a month, $1.04 x 2.9167 = $3.0333 to FBA, $1.35 a box each way."""
    args = ["--length-in", "28", "--width-in", "18", "--height-in", "10", "--weight-lb", "22"]
    args += ["--price", "89.99"]
    json_args = ["--date", "2025-06-01", "--awd-rate", "amazon_managed", "--format", "json"]
    proc = subprocess.run(
        [sys.executable, "simulate.py", "fees", *args, *json_args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    awd = json.loads(proc.stdout)["awd"]
    cu_ft = 28 * 18 * 10 / 1728
    assert awd["storage_monthly_per_unit"] == round(0.38 * cu_ft, 4) == 1.1083
    assert awd["transport_per_unit"] == round(1.04 * cu_ft, 4) == 3.0333
    assert (awd["inbound_processing_per_box"], awd["outbound_processing_per_box"]) == (1.35, 1.35)
    assert awd["verified"] is True
    table = subprocess.run(
        [sys.executable, "simulate.py", "fees", *args, "--date", "2025-03-01"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "AWD processing      $0.00 per box in + $2.50 per box out" in table
    assert "AWD storage         $1.4000 per unit per month ($0.48 per cu ft, base)" in table


def test_awd_conserves_stock_with_random_demand_and_lead_times():
    """FULFILSIM_CHECK (set by conftest): every day, at every node (AWD included), on hand =
    yesterday + received − served − transferred out, and the months of every cost add up to
    the run's (AWD storage, receiving and transfer charges dated by ``sim.months``)."""
    d = scenario(fba_fees=True)
    d["skus"][0]["demand"] = {"distribution": "poisson", "mean_per_day": 5, "monthly": {"apr": 2}}
    d["replications"] = 8
    for st in d["strategies"]:
        st["replenish"]["fba"]["lead_time_days"] = {"dist": "uniform", "low": 1, "high": 6}
    d["nodes"]["fba"]["check_in_days"] = {"dist": "uniform", "low": 0, "high": 3}
    model = compile_scenario(validate(d))
    assert model.check
    res = montecarlo.run(model, workers=1)
    costs = [INDEX[m] for m in ("cost_storage", "cost_receiving", "cost_transfer")]
    assert (res.totals[:, :, costs] > 0).all()
