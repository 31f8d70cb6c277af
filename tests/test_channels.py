"""Sales channels besides Amazon and Multi-Channel Fulfillment (``sim.channels``).

Deterministic cases use `empirical` demand with one value (a constant), so one replication is
exact and every charge is hand arithmetic; fee rows are quoted from the bundled tables
(``sim/fees/data/us.yaml``, ``sim/fees/data/mcf.yaml``) next to each number.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import montecarlo
from sim.channels import CHANNEL_INDEX
from sim.engine import AccountingError, Replications
from sim.loader import validate
from sim.metric_names import INDEX
from sim.model import compile_scenario
from sim.montecarlo import draw_inputs, run_replication

REPO = Path(__file__).resolve().parents[1]


def const(units: float) -> dict:
    return {"distribution": "empirical", "values": [units]}


# 8 x 5 x 0.5 in, 8 oz: small standard (shortest side <= 0.75 in, <= 1 lb), shipping weight = unit
# weight 0.5 lb; price $20 (2026 price band ten_to_fifty)
DETERMINISTIC = {
    "name": "channels-deterministic",
    "start_date": "2026-02-02",  # 60 days end 2026-04-02: before any fuel surcharge or peak
    "horizon_days": 60,
    "replications": 1,
    "seed": 3,
    "channels": {"web": {"fee_rate": 0.029, "fee_per_order": 0.30, "promise_days": 5}},
    "skus": [
        {
            "id": "A",
            "length_in": 8,
            "width_in": 5,
            "height_in": 0.5,
            "weight_lb": 0.5,
            "price": 20.0,
            "unit_cost": 6.0,
            "demand": const(5),
            "channel_demand": {"web": const(3)},
        }
    ],
    "nodes": {
        "fba": {
            "type": "fba",
            "check_in_days": 0,
            "low_inventory_fee": False,
            "aged_inventory_surcharge": False,
        }
    },
    "strategies": [
        {
            "name": "all-fba",
            "fulfil_from": ["fba"],
            "channel_fulfil_from": {"web": ["fba"]},
            "initial_on_hand": {"fba": 1000},
        }
    ],
}


def one(d: dict):
    """(strategy totals by metric, per-channel rows) of replication 0 of the first strategy."""
    model = compile_scenario(validate(d))
    (measured, *_) = run_replication(model, 0)
    return {k: float(measured.total[i]) for k, i in INDEX.items()}, measured.channels


def test_fees_fall_on_the_right_channel():
    m, rows = one(DETERMINISTIC)
    amazon_units, web_units = 5 * 60, 3 * 60
    referral = 0.15 * 20.0  # everything_else: 15% of the $20 price (> the $0.30 minimum)
    fba_fee = 3.54  # 2026 card std_2026_nonpeak, small standard <= 8 oz, $10-50 band
    mcf_fee = 4.95  # MCF standard, small standard 4 to 10 oz, 1-unit order (page 201112650)
    channel_fee = 0.029 * 20.0 + 0.30  # web: 2.9% of the price + $0.30 per 1-unit order
    assert m["cost_referral"] == pytest.approx(amazon_units * referral)  # 900.00
    assert m["cost_fulfillment"] == pytest.approx(amazon_units * fba_fee)  # 1062.00
    assert m["cost_mcf"] == pytest.approx(web_units * mcf_fee)  # 891.00
    assert m["cost_channel"] == pytest.approx(web_units * channel_fee)  # 158.40
    assert m["revenue"] == pytest.approx((amazon_units + web_units) * 20.0)
    assert m["cost_product"] == pytest.approx((amazon_units + web_units) * 6.0)
    assert m["demand_units"] == m["sold_units"] == amazon_units + web_units
    assert m["orders_shipped"] == amazon_units + web_units
    # per channel, Amazon first
    amazon, web = rows
    assert amazon[CHANNEL_INDEX["sold_units"]] == amazon_units
    assert amazon[CHANNEL_INDEX["cost_referral"]] == pytest.approx(900.0)
    assert amazon[CHANNEL_INDEX["cost_fulfillment"]] == pytest.approx(1062.0)
    assert amazon[CHANNEL_INDEX["cost_mcf"]] == amazon[CHANNEL_INDEX["cost_channel"]] == 0
    assert web[CHANNEL_INDEX["sold_units"]] == web_units
    assert web[CHANNEL_INDEX["revenue"]] == pytest.approx(web_units * 20.0)
    assert web[CHANNEL_INDEX["cost_referral"]] == 0
    assert web[CHANNEL_INDEX["cost_fulfillment"]] == 0
    assert web[CHANNEL_INDEX["cost_mcf"]] == pytest.approx(891.0)
    assert web[CHANNEL_INDEX["cost_channel"]] == pytest.approx(158.4)
    assert web[CHANNEL_INDEX["on_time_rate"]] == 1.0  # FBA's 1-day transit within 5 days


def test_units_per_order_picks_the_mcf_column_and_the_order_fee():
    d = copy.deepcopy(DETERMINISTIC)
    d["skus"][0]["units_per_order"] = 2
    m, _ = one(d)
    web_units = 180
    assert m["cost_mcf"] == pytest.approx(web_units * 3.45)  # 2-unit column, 4 to 10 oz
    assert m["cost_channel"] == pytest.approx(web_units * 0.029 * 20 + (web_units / 2) * 0.30)
    assert m["cost_fulfillment"] == pytest.approx(300 * 3.54)  # per unit, as before


def test_fuel_surcharge_on_mcf_from_2026_05_02():
    d = copy.deepcopy(DETERMINISTIC)
    d["start_date"] = "2026-05-01"
    d["horizon_days"] = 2  # 2026-05-01 without, 2026-05-02 with the 3.5% surcharge
    m, _ = one(d)
    assert m["cost_mcf"] == pytest.approx(3 * 4.95 + 3 * round(4.95 * 1.035, 2))  # 5.12


@pytest.mark.parametrize(
    ("speed", "promise", "on_time_days"),
    [
        # standard: delivered on the 3rd business day after the order (help 200332450): an
        # order of Mon or Tue arrives in 3 days, Sun in 3, Sat in 4, Wed-Fri in 5. 60 days from
        # Monday 2026-02-02: 9 Mondays, Tuesdays, Wednesdays, Thursdays; 8 of the others.
        ("standard", 3, 9 + 9 + 8),  # Mon, Tue, Sun
        ("standard", 2, 0),
        ("standard", 5, 60),
        # expedited: the 2nd business day: Mon-Wed and Sun in 2, Sat in 3, Thu and Fri in 4
        ("expedited", 3, 9 + 9 + 9 + 8 + 8),  # Mon, Tue, Wed, Sat, Sun
        ("expedited", 2, 9 + 9 + 9 + 8),  # Mon, Tue, Wed, Sun
    ],
)
def test_mcf_delivers_in_its_business_days_whatever_fbas_transit(speed, promise, on_time_days):
    d = copy.deepcopy(DETERMINISTIC)
    d["channels"]["web"].update(promise_days=promise, speed=speed)
    d["nodes"]["fba"]["transit_days"] = 1  # Amazon's own orders: not the web's
    _, rows = one(d)
    assert rows[1][CHANNEL_INDEX["on_time_rate"]] == pytest.approx(on_time_days / 60)
    assert rows[0][CHANNEL_INDEX["on_time_rate"]] == 1.0  # Amazon's orders: 1 day, promise 2


def test_seller_node_charges_its_own_costs_for_channel_orders():
    d = copy.deepcopy(DETERMINISTIC)
    d["nodes"]["home"] = {
        "type": "fbm",
        "pick_pack_per_order": 1.25,
        "label_cost_per_order": 4.0,
    }
    d["strategies"][0]["channel_fulfil_from"] = {"web": ["home"]}
    d["strategies"][0]["initial_on_hand"] = {"fba": 1000, "home": 1000}
    m, rows = one(d)
    assert m["cost_mcf"] == 0
    # FBA fees on Amazon's 300 units + the seller's pick, pack and label on 180 web orders
    assert m["cost_fulfillment"] == pytest.approx(300 * 3.54 + 180 * (1.25 + 4.0))
    assert rows[1][CHANNEL_INDEX["cost_fulfillment"]] == pytest.approx(180 * 5.25)


def test_per_sku_routes_stock_a_node_that_only_a_channel_ships_from():
    # Amazon orders of A come from home (a per-SKU route), web orders from FBA stock: FBA
    # must still hold A (model.stocked_nodes counts channel routes), and every web unit pays MCF.
    d = copy.deepcopy(DETERMINISTIC)
    d["nodes"]["home"] = {"type": "fbm", "pick_pack_per_order": 1.25}
    d["strategies"][0]["fulfil_from"] = {"A": ["home"]}
    d["strategies"][0]["initial_on_hand"] = {"fba": 1000, "home": 1000}
    m, rows = one(d)
    assert rows[1][CHANNEL_INDEX["sold_units"]] == 180
    assert m["cost_mcf"] == pytest.approx(180 * 4.95)
    assert m["cost_referral"] == pytest.approx(300 * 0.15 * 20.0)
    assert m["cost_fulfillment"] == pytest.approx(300 * 1.25)


def test_amazon_is_served_first_then_channels_in_order():
    """10 units at FBA, 5 Amazon + 3 web + 4 b2b a day, no refill: day 0 ships Amazon 5, web 3
    and b2b 2 (of 4); nothing is left after."""
    d = copy.deepcopy(DETERMINISTIC)
    d["horizon_days"] = 3
    d["channels"]["b2b"] = {"fee_rate": 0.0}
    d["skus"][0]["channel_demand"]["b2b"] = const(4)
    d["strategies"][0]["channel_fulfil_from"]["b2b"] = ["fba"]
    d["strategies"][0]["initial_on_hand"] = {"fba": 10}
    _, rows = one(d)
    sold = [row[CHANNEL_INDEX["sold_units"]] for row in rows]
    lost = [row[CHANNEL_INDEX["lost_units"]] for row in rows]
    assert sold == [5, 3, 2]
    assert lost == [10, 6, 10]


def test_channel_draws_leave_amazon_demand_unchanged():
    """Common random numbers: adding a channel does not move the Amazon demand draws."""
    d = copy.deepcopy(DETERMINISTIC)
    d["skus"][0]["demand"] = {"distribution": "poisson", "mean_per_day": 4}
    d["skus"][0]["channel_demand"] = {"web": {"distribution": "poisson", "mean_per_day": 2}}
    plain = copy.deepcopy(d)
    del plain["channels"], plain["skus"][0]["channel_demand"]
    del plain["strategies"][0]["channel_fulfil_from"]
    with_channel = draw_inputs(compile_scenario(validate(d)), 5)
    without = draw_inputs(compile_scenario(validate(plain)), 5)
    np.testing.assert_array_equal(with_channel.demand, without.demand)
    assert without.channels is None
    assert with_channel.channels.shape == (60, 1, 1)
    assert with_channel.channels.sum() > 0


def _short_stock() -> dict:
    d = copy.deepcopy(DETERMINISTIC)
    d["replications"] = 6
    d["horizon_days"] = 90
    d["skus"][0]["demand"] = {"distribution": "poisson", "mean_per_day": 5}
    d["skus"][0]["channel_demand"] = {"web": {"distribution": "poisson", "mean_per_day": 3}}
    d["nodes"]["home"] = {"type": "fbm", "pick_pack_per_order": 1.0}
    d["strategies"][0]["channel_fulfil_from"] = {"web": ["fba", "home"]}
    d["strategies"][0]["initial_on_hand"] = {"fba": 50, "home": 40}
    d["strategies"][0]["replenish"] = {
        "fba": {
            "from": "supplier",
            "lead_time_days": 9,
            "policy": {"type": "order_up_to", "review_days": 7, "level": 60},
        }
    }
    return d


def test_units_conserved_per_channel_and_node():
    """Stock-outs on both nodes: the daily accounting check passes (FULFILSIM_CHECK=1 in the
    tests) and each channel's demand = sold + lost, Amazon's and the web's alike."""
    model = compile_scenario(validate(_short_stock()))
    assert model.check
    results = montecarlo.run(model)
    assert results.complete and results.error is None
    rows = results.channels[:, 0]  # (reps, channels, metrics)
    demand, sold, lost = (
        rows[:, :, CHANNEL_INDEX[k]] for k in ("demand_units", "sold_units", "lost_units")
    )
    np.testing.assert_array_equal(demand, sold + lost)
    assert (lost[:, 1] > 0).all()  # the web did run short
    totals = results.totals[:, 0]
    np.testing.assert_array_equal(totals[:, INDEX["demand_units"]], demand.sum(axis=1))
    np.testing.assert_array_equal(totals[:, INDEX["lost_units"]], lost.sum(axis=1))


def test_accounting_check_catches_a_channel_unit_that_vanishes(monkeypatch):
    original = Replications._serve_channels

    def leaky(self, t):
        original(self, t)
        if t == 10:
            self.channel_served[t, 0, :, 0, 0] += 1  # recorded shipped, never taken off the shelf

    monkeypatch.setattr(Replications, "_serve_channels", leaky)
    with pytest.raises(montecarlo.ReplicationError, match="accounting check failed on day 10"):
        run_replication(compile_scenario(validate(_short_stock())), 0)
    assert AccountingError  # the engine's error type, wrapped by run_replication


def _cli(tmp_path: Path, d: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d))
    return subprocess.run(
        [sys.executable, str(REPO / "simulate.py"), "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            lambda d: d["skus"][0].update(channel_demand={"wbe": const(1)}),
            "skus[0].channel_demand.wbe",
        ),
        (
            lambda d: d["strategies"][0].update(
                channel_fulfil_from={"wbe": ["fba"], "web": ["fba"]}
            ),
            "strategies[0].channel_fulfil_from.wbe",
        ),
        (
            lambda d: d["strategies"][0].update(channel_fulfil_from={"web": ["fab"]}),
            "strategies[0].channel_fulfil_from.web[0]",
        ),
        (
            lambda d: d["strategies"][0].pop("channel_fulfil_from"),
            "strategies[0].channel_fulfil_from",
        ),
        (lambda d: d["channels"].update(amazon={}), "channels.amazon"),
    ],
)
def test_bad_channel_input_is_located(tmp_path, change, where):
    d = copy.deepcopy(DETERMINISTIC)
    change(d)
    done = _cli(tmp_path, d)
    assert done.returncode == 2, done.stderr
    assert where in done.stderr
    assert "Traceback" not in done.stderr


def test_mcf_on_a_sku_without_a_rate_is_located():
    d = copy.deepcopy(DETERMINISTIC)
    d["channels"]["web"]["speed"] = "priority"  # no priority rows are bundled
    with pytest.raises(Exception, match=r"channels\.web\.speed"):
        compile_scenario(validate(d))


def test_fees_channel_mcf_command():
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "simulate.py"),
            "fees",
            "--length-in",
            "8",
            "--width-in",
            "5",
            "--height-in",
            "0.5",
            "--weight-lb",
            "0.5",
            "--price",
            "20",
            "--date",
            "2026-06-01",
            "--channel",
            "mcf",
            "--units-per-order",
            "2",
            "--speed",
            "standard",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # 2-unit column of small standard 4 to 10 oz: $3.45; fuel 3.5% from 2026-05-02: $0.12
    assert "small_standard" in out
    assert "$3.45" in out
    assert "$0.12" in out
    assert "$3.57" in out


def test_fee_overrides_set_the_mcf_peak_and_rows():
    """2026-10-14 is before the peak window, 2026-10-15 inside it; both after the MCF fuel
    surcharge date. Peak $0.25 (override): 4.95 → fuel 0.17 → 5.12; 4.95 + 0.25 = 5.20 → fuel
    0.18 → 5.38. A row override replaces the tier's rows: $2.00 flat from day one."""
    d = copy.deepcopy(DETERMINISTIC)
    d["start_date"] = "2026-10-14"
    d["horizon_days"] = 2
    d["fee_overrides"] = {"mcf": {"peak": {"per_unit": 0.25}}}
    m, _ = one(d)
    assert m["cost_mcf"] == pytest.approx(3 * 5.12 + 3 * 5.38)
    d["fee_overrides"] = {
        "mcf": {"rates": {"standard": {"small_standard": [{"max_oz": 16, "fee": [2, 2, 2, 2, 2]}]}}}
    }
    m, _ = one(d)
    assert m["cost_mcf"] == pytest.approx(6 * round(2.0 * 1.035, 2))


def test_mcf_fee_override_with_a_typo_is_located(tmp_path):
    d = copy.deepcopy(DETERMINISTIC)
    d["fee_overrides"] = {"mcf": {"peak": {"per_units": 0.25}}}
    done = _cli(tmp_path, d)
    assert done.returncode == 2
    assert "fee_overrides.mcf.peak.per_units" in done.stderr


def test_summary_table_and_report_break_down_by_channel():
    """summary.json strategies.NAME.channels.CHANNEL.metrics (Amazon first), and the channel
    breakdown in the terminal table and the report; none of it without channels."""
    from sim.report import render_html
    from sim.results import summarize, summary_json
    from sim.table import comparison_table

    d = copy.deepcopy(DETERMINISTIC)
    d["replications"] = 2
    model = compile_scenario(validate(d))
    summary = summarize(montecarlo.run(model), "x", "0" * 64, 60, 0)
    channels = summary["strategies"]["all-fba"]["channels"]
    assert list(channels) == ["amazon", "web"]
    web = channels["web"]["metrics"]
    assert web["sold_units"]["mean"] == 180
    assert web["cost_mcf"]["mean"] == pytest.approx(891.0)
    assert web["cost_channel"]["mean"] == pytest.approx(158.4)
    assert channels["amazon"]["metrics"]["cost_fulfillment"]["mean"] == pytest.approx(1062.0)
    text = summary_json(summary)
    assert json_roundtrip(text)["strategies"]["all-fba"]["channels"]["web"] == channels["web"]
    table = comparison_table(summary)
    assert "By sales channel (Amazon first):" in table
    assert "$891 ± 0.00" in table.split("By sales channel")[1]  # cost_mcf of the web
    assert 'id="channels"' in render_html(summary, [], "")
    plain = copy.deepcopy(DETERMINISTIC)
    del plain["channels"], plain["skus"][0]["channel_demand"]
    del plain["strategies"][0]["channel_fulfil_from"]
    summary = summarize(montecarlo.run(compile_scenario(validate(plain))), "x", "0" * 64, 60, 0)
    assert "channels" not in summary["strategies"]["all-fba"]
    assert "By sales channel" not in comparison_table(summary)
    assert 'id="channels"' not in render_html(summary, [], "")


def json_roundtrip(text: str) -> dict:
    import json

    return json.loads(text)


def test_mcf_rate_card_rows_by_hand():
    import datetime as dt

    from sim.fees import Product
    from sim.fees.mcf import mcf_fee, order_column

    # 12 x 9 x 5 in, 3.3 lb: large standard, shipping weight max(3.3, 540 / 139 = 3.885) lb;
    # standard 2 to 21 lb row: $5.95 + $0.38 x ceil(3.885 - 2 = 1.885 -> 2 lb) = $6.71
    box = Product(12, 9, 5, 3.3, price=30)
    quote = mcf_fee(box, dt.date(2026, 3, 1), 1, "standard")
    assert (quote.size_tier, quote.fee_per_unit) == ("large_standard", 6.71)
    assert not quote.verified and quote.notes  # the undated card is an unverified default
    # 5+ column; from 2026-05-02 the 3.5% fuel surcharge: 2.95 + 0.76 = 3.71 -> + 0.13 = 3.84
    assert mcf_fee(box, dt.date(2026, 6, 1), 7, "standard").fee_per_unit == 3.84
    # expedited, small standard 10 to 16 oz (0.9 lb), 3-unit column: $3.49
    flat = Product(10, 6, 0.7, 0.9, price=15)
    assert mcf_fee(flat, dt.date(2026, 3, 1), 3, "expedited").fee_per_unit == 3.49
    assert [order_column(u) for u in (1, 1.2, 1.5, 2.49, 4.6, 12)] == [1, 1, 2, 2, 5, 5]
