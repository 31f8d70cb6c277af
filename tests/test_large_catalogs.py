"""Large catalogs at flat cost: per-SKU output from arrays, the summary's size bound, the LIL fee
for paying SKUs only, scalar negative-binomial draws, and a start-up that imports only what
the command needs. Every faster path is checked against the plain computation it replaces."""

from __future__ import annotations

import csv
import inspect
import io
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from sim import charges, report, results
from sim.cli import LazyGroup, cli
from sim.distributions import DemandSampler
from sim.loader import validate
from sim.model import compile_scenario
from sim.montecarlo import run
from sim.plan import _cents
from sim.results import csv_text, summarize, top_skus, write_columns_atomic, write_results
from sim.scenario import NegativeBinomial
from tests.helpers import ROOT
from tests.test_modes import const, scen, strategy, up_to


def three_skus() -> dict:
    """SKUs A, B, C with constant demand 1, 5 and 3 a day from one warehouse, 3 replications."""
    skus = [
        {"id": "A", "price": 20.0, "unit_cost": 6.0, "demand": const(1)},
        {"id": "B", "price": 30.0, "unit_cost": 9.0, "demand": const(5)},
        {"id": "C", "price": 25.0, "unit_cost": 7.0, "demand": const(3)},
    ]
    wh = {"type": "fbm", "handling_days": 0, "transit_days": 1, "promise_days": 3}
    st = strategy(["wh"], {"wh": up_to({"A": 4, "B": 12, "C": 8}, lead=2)})
    return scen(skus, {"wh": wh}, [st], 30, replications=3)


def test_summary_points_to_skus_csv_above_the_bound(tmp_path, monkeypatch):
    res = run(compile_scenario(validate(three_skus())))
    whole = summarize(res, "t", "0" * 64, 30, 0)
    write_results(tmp_path / "whole", whole, res)
    monkeypatch.setattr(results, "SKUS_IN_SUMMARY", 2)
    big = summarize(res, "t", "0" * 64, 30, 0)
    write_results(tmp_path / "big", big, res)
    for name, strat in big["strategies"].items():
        assert "skus" not in strat and strat["skus_file"] == "skus.csv"
        assert strat["metrics"] == whole["strategies"][name]["metrics"]
    on_disk = json.loads((tmp_path / "big" / "summary.json").read_text())
    assert on_disk == big
    # skus.csv does not depend on the bound, and holds what summary.json holds below it
    text = (tmp_path / "big" / "skus.csv").read_text()
    assert text == (tmp_path / "whole" / "skus.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["sku"] for r in rows] == ["A", "B", "C"]
    for row in rows:
        stats = whole["strategies"][row["strategy"]]["skus"][row["sku"]]["metrics"]
        assert float(row["demand_units"]) == stats["demand_units"]["mean"]
        assert float(row["profit_ci_low"]) == stats["profit"]["ci_low"]
    # the report's per-SKU table: the top SKUs by mean demand (30, 150, 90 units), in order
    top = top_skus(big, res, 2)
    name = res.model.strategy_names[0]
    assert list(top["strategies"][name]["skus"]) == ["B", "C"]
    assert top["sku_total"] == 3
    for sku in ("B", "C"):
        assert top["strategies"][name]["skus"][sku] == whole["strategies"][name]["skus"][sku]
    monkeypatch.setattr(report, "MAX_SKUS", 2)
    html = report._skus(top)
    assert "The 2 SKUs with the most demand of 3" in html
    assert ">B<" in html and ">C<" in html and ">A<" not in html


def test_columns_write_the_bytes_of_csv_text(tmp_path):
    names = ["=SUM(A1)", "plain", "a\rb", "", "-1", "x,y", 'say "hi"']
    values = [1.5, -0.0, 1e-17, "", 3.0, 2.25, float("inf")]
    rows = [{"name": n, "value": v, "text": n[::-1]} for n, v in zip(names, values, strict=True)]
    columns = [names, values, [n[::-1] for n in names]]
    write_columns_atomic(tmp_path / "x.csv", ["name", "value", "text"], [(columns, (0, 2))])
    assert (tmp_path / "x.csv").read_bytes() == csv_text(rows).encode()
    # in several blocks, and a block without a carriage return
    blocks = [([c[:2] for c in columns], (0, 2)), ([c[2:] for c in columns], (0, 2))]
    write_columns_atomic(tmp_path / "y.csv", ["name", "value", "text"], blocks)
    assert (tmp_path / "y.csv").read_bytes() == csv_text(rows).encode()
    # without a carriage return (quotes, commas, new lines, -0.0, inf, NaN)
    names = ["=SUM(A1)", "x,y", 'say "hi"', "a\nb", "", "+1", "plain"]
    values = [-0.0, float("nan"), float("-inf"), "", 0.1 + 0.2, 1e300, 7.0]
    rows = [{"name": n, "value": v, "x": 2.5} for n, v in zip(names, values, strict=True)]
    columns = [names, values, [2.5] * len(names)]
    write_columns_atomic(tmp_path / "z.csv", ["name", "value", "x"], [(columns, (0,))])
    assert (tmp_path / "z.csv").read_bytes() == csv_text(rows).encode()


def test_cents_are_pythons_round():
    rng = np.random.default_rng(7)
    units = rng.integers(0, 60, (10, 4000)).astype(float)
    values = np.concatenate(
        [
            np.quantile(units, (0.5, 0.1, 0.9), axis=0).ravel(),
            rng.random(4000) * 500,
            np.arange(0, 100, 0.005),  # every half-cent, where NumPy's rounding can differ
        ]
    )
    assert _cents(values) == [round(float(v), 2) for v in values]


def lil_by_the_rule(fees, on_hand, shipped, warmup):
    """The LIL fee per unit shipped on every day from the first charged one, for every SKU, as
    the module docstring of ``sim.charges`` states it (windows of 30 and 90 days ending the day
    before, the larger days of supply, no fee after fewer than 20 units in 7 days)."""
    first = max(fees.lil_first_day, warmup)
    cum_on = np.concatenate([np.zeros((1, fees.skus)), np.cumsum(on_hand, axis=0, dtype=float)])
    cum_sh = np.concatenate([np.zeros((1, fees.skus)), np.cumsum(shipped, axis=0, dtype=float)])
    days = np.arange(first, fees.days)
    supply = []
    for window in (30, 90):
        lo = np.maximum(0, days - window)
        sold, stock = cum_sh[days] - cum_sh[lo], cum_on[days] - cum_on[lo]
        supply.append(np.divide(stock, sold, out=np.full_like(stock, np.inf), where=sold > 0))
    band = np.searchsorted(fees.lil_thresholds, np.maximum(*supply), side="right")
    rate = fees.lil_per_unit[fees.period_of_day[days][:, None], band, np.arange(fees.skus)]
    return first, np.where(cum_sh[days] - cum_sh[days - 7] >= 20, rate, 0.0)


@pytest.mark.parametrize("warmup", [0, 45])
def test_lil_fee_of_paying_skus_in_blocks_is_the_rule_bit_for_bit(warmup):
    rng = np.random.default_rng(3)
    days, skus = 365, 1200  # more than LIL_BLOCK SKUs pay: several blocks
    mean = rng.lognormal(1.0, 1.2, skus)
    shipped = rng.poisson(mean, (days, skus))
    on_hand = rng.poisson(mean * rng.uniform(1, 60, skus), (days, skus))
    per_unit = rng.random((3, 4, skus)) * (np.arange(4) < 3)[None, :, None]  # > 28 days: free
    fees = SimpleNamespace(
        days=days,
        skus=skus,
        lil_per_unit=per_unit,
        lil_first_day=30,
        lil_thresholds=np.array([14.0, 21.0, 28.0]),
        period_of_day=np.repeat([0, 1, 2], [100, 100, 165]),
    )
    stacked = np.stack([on_hand, shipped], axis=1)  # strided views, as the engine's trace gives
    first, want = lil_by_the_rule(fees, on_hand, shipped, warmup)
    got_first, got = charges.lil_rates(fees, stacked[:, 0], stacked[:, 1], warmup)
    assert got_first == first and np.array_equal(got, want)
    payers = np.flatnonzero(want.any(axis=0))
    assert charges.LIL_BLOCK < len(payers) < skus  # some SKUs skipped
    total = charges._lil_charge(fees, stacked[:, 0], stacked[:, 1], warmup)
    plain = np.einsum("ij,ij->j", shipped[first:], want, dtype=float)
    assert total.tobytes() == plain.tobytes()


def test_constant_negative_binomial_draws_as_the_daily_form():
    demand = NegativeBinomial(
        distribution="negative_binomial", mean_per_day=2.5, variance_to_mean=1.8
    )
    sampler = DemandSampler(demand, np.ones(365))
    assert sampler.constant
    got = sampler.sample(np.random.default_rng(11))
    n = np.full(365, 2.5 / 0.8)
    want = np.random.default_rng(11).negative_binomial(n, 1 / 1.8)
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_group_help_lists_lazy_commands_from_their_own_help():
    for name in LazyGroup.lazy:
        command = LazyGroup.get_command(cli, None, name)
        first = inspect.cleandoc(command.help).split("\n\n")[0]
        assert LazyGroup.summaries[name] == " ".join(first.split())  # as click reflows it


def test_start_up_imports_only_what_the_command_needs():
    probe = (
        "import sys; from click.testing import CliRunner; from sim.cli import cli; "
        "CliRunner().invoke(cli, sys.argv[1:]); import sim.montecarlo; "
        "print(sorted(m for m in ('sim.optimize', 'sim.dask_backend', 'sim.sweep') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_transit_drawn_in_day_blocks_is_the_draw_all_at_once(monkeypatch):
    """Blocks of days keep the multinomial draws in the same order (day by day, SKU by SKU)."""
    from sim.shipping import Shipper

    rng = np.random.default_rng(0)
    units = rng.poisson(2.0, (365, 2, 700))[:, 1]  # a strided view, as the engine's served
    probs = np.array([0.5, 0.3, 0.2])
    ok = (rng.random((365, 3)) < 0.7).astype(np.int64)
    offsets = rng.integers(1, 6, (365, 3))
    monkeypatch.setattr("sim.shipping.TRANSIT_BLOCK", 3 * 700 * 40)  # 40 days a block
    ship = SimpleNamespace(
        rng=np.random.default_rng(9), rule=SimpleNamespace(transit=SimpleNamespace(probs=probs))
    )
    on_time, days_sum = Shipper._transit(ship, units, ok, offsets)
    counts = np.random.default_rng(9).multinomial(units, probs)
    assert np.array_equal(on_time, np.einsum("dsk,dk->ds", counts, ok))
    assert np.array_equal(days_sum, np.einsum("dsk,dk->ds", counts, offsets))


def blocked_catalog(skus: int = 60) -> dict:
    """FBA with Amazon's fees, an own warehouse and a hybrid of the two; returns; half the SKUs
    seasonal (daily demand parameters), half constant (one day's)."""
    rng = np.random.default_rng(5)
    lead = {"dist": "triangular", "low": 20, "mode": 25, "high": 40}
    policy = {"type": "order_up_to", "review_days": 7, "service_level": 0.9}
    items = []
    for i in range(skus):
        demand = {
            "distribution": "negative_binomial",
            "mean_per_day": float(np.round(rng.lognormal(0.5, 1.0), 3)),
            "variance_to_mean": 1.8,
        }
        if i % 2:
            demand["monthly"] = {"oct": 1.5, "nov": 2.5, "dec": 3.0}
        items.append(
            {
                "id": f"S{i:03d}",
                "length_in": 10.0,
                "width_in": 6.0,
                "height_in": float(1 + i % 5),
                "weight_lb": 0.5 + 0.05 * i,
                "price": 25.0,
                "unit_cost": 8.0,
                "category": "home_kitchen",
                "returns": {"rate": 0.05, "resellable": 0.6},
                "demand": demand,
            }
        )
    wh = {"type": "fbm", "handling_days": 1, "transit_days": 3, "promise_days": 6}
    return {
        "name": "blocks",
        "start_date": "2026-06-01",
        "horizon_days": 240,
        "warmup_days": 20,
        "replications": 2,
        "seed": 4,
        "skus": items,
        "nodes": {"fba": {"type": "fba"}, "wh": wh},
        "strategies": [
            {
                "name": "fba",
                "fulfil_from": ["fba"],
                "replenish": {"fba": {"lead_time_days": lead, "policy": policy}},
                # a year of stock of two SKUs: some of it ages past 180 days
                "initial_on_hand": {"fba": {"S000": 900, "S002": 2000, "default": 40}},
            },
            {
                "name": "hybrid",
                "fulfil_from": ["fba", "wh"],
                "replenish": {
                    "fba": {
                        "from": "wh",
                        "lead_time_days": 4,
                        "policy": {**policy, "service_level": 0.8},
                    },
                    "wh": {"lead_time_days": lead, "policy": policy},
                },
            },
        ],
    }


def test_metrics_in_blocks_of_days_and_skus_are_the_whole_table_bit_for_bit(monkeypatch):
    """The FBA fee sums, the deliveries of several nodes and the aged-inventory and LIL fees
    worked out a block of days or SKUs at a time give the same floats as the whole tables."""
    from sim.metric_names import METRICS

    scenario = blocked_catalog()
    whole = run(compile_scenario(validate(scenario)))
    monkeypatch.setattr("sim.blocks.DAY_BLOCK", 60 * 17)  # 17 days a block, several SKUs
    monkeypatch.setattr(charges, "SKU_BLOCK", 7)
    monkeypatch.setattr(charges, "LIL_BLOCK", 5)
    blocked = run(compile_scenario(validate(scenario)))
    assert whole.totals.tobytes() == blocked.totals.tobytes()
    assert whole.sku_mean.tobytes() == blocked.sku_mean.tobytes()
    assert whole.months.tobytes() == blocked.months.tobytes()
    # the fees the blocks work out are there to compare
    fba = whole.totals[:, 0]
    for part in ("cost_fulfillment", "cost_storage", "cost_aged_inventory", "cost_returns"):
        assert (fba[:, METRICS.index(part)] > 0).all(), part


def test_fee_tables_are_held_per_period_not_per_day():
    model = compile_scenario(validate(blocked_catalog(skus=4)))
    fees = next(n.fba for n in model.strategies[0].nodes if n.fba is not None)
    periods = len(fees.period_start)
    assert periods < 20 and fees.fulfillment_by_period.shape == (periods, 4)
    # the daily view is the per-period table, day by day
    assert np.array_equal(fees.fulfillment, fees.fulfillment_by_period[fees.period_of_day])
    assert fees.storage_per_unit_day.shape == (240, 4)


def test_constant_demand_keeps_one_days_parameters():
    demand = NegativeBinomial(
        distribution="negative_binomial", mean_per_day=2.5, variance_to_mean=1.8
    )
    sampler = DemandSampler(demand, np.ones(365))
    assert sampler.mean.shape == sampler.n.shape == (1,) and sampler.mean.base is None
    assert sampler.expected_mean() == float(np.full(365, 2.5).mean())
    seasonal = DemandSampler(demand, np.linspace(0.5, 1.5, 365))
    assert not seasonal.constant and seasonal.mean.shape == (365,)


def test_skus_csv_written_in_blocks_of_rows_is_the_same_file(tmp_path, monkeypatch):
    res = run(compile_scenario(validate(three_skus())))
    summary = summarize(res, "t", "0" * 64, 30, 0)
    write_results(tmp_path / "whole", summary, res)
    monkeypatch.setattr(results, "SKU_ROWS_PER_BLOCK", 2)  # 3 SKUs: two blocks a strategy
    assert len(list(results.sku_blocks(res))) == 2 * len(res.model.strategy_names)
    write_results(tmp_path / "blocks", summary, res)
    whole = (tmp_path / "whole" / "skus.csv").read_bytes()
    assert whole == (tmp_path / "blocks" / "skus.csv").read_bytes()
    assert whole.count(b"\n") == 1 + 3 * len(res.model.strategy_names)


def test_fee_table_of_a_catalog_is_each_products_quote():
    """The shared look-ups give every product the quote it gets alone, on dates of every
    schedule, in and out of the peak, with the sizes kept between dates."""
    import datetime as dt

    from sim.fees import Product, fulfillment_fee, fulfillment_fee_table

    rng = np.random.default_rng(8)
    products = [
        Product(
            float(rng.choice([5.0, 12.0, 18.0, 30.0, 60.0])),
            float(rng.choice([3.0, 8.0, 14.0, 30.0])),
            float(rng.choice([0.5, 1.0, 4.0, 20.0])),
            float(np.round(rng.choice([0.1, 0.4, 0.9, 2.5, 12.0, 40.0]), 2)),
            price=float(rng.choice([8.0, 10.0, 24.99, 60.0])),
        )
        for _ in range(150)
    ]
    sizes: dict = {}
    days = ("2024-06-01", "2024-11-20", "2025-03-01", "2025-10-20", "2026-01-20", "2026-12-01")
    for day in days:
        on = dt.date.fromisoformat(day)
        tier, weight, base, fee = fulfillment_fee_table(products, on, sizes=sizes)
        for j, product in enumerate(products):
            q = fulfillment_fee(product, on)
            assert (tier[j], weight[j], base[j], fee[j]) == (
                q.size_tier,
                q.shipping_weight_lb,
                q.base_fee,
                q.fulfillment_fee,
            )
    assert len(sizes) < len(products) * len(days)  # sizes shared between dates


@pytest.fixture
def pools(monkeypatch) -> list:
    """The arguments of every worker pool started while the test runs."""
    import sim.workers

    started = []
    real = sim.workers.Pool

    def counted(*args, **kwargs):
        started.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.workers, "Pool", counted)
    return started


def test_a_large_scenario_is_prepared_in_a_child_process_with_the_same_results(
    tmp_path, monkeypatch, pools
):
    """Above ``PREPARE_APART_BYTES`` the scenario is read, checked and compiled in a child
    process (its validated objects' pages die with it); the run and its files are the same."""
    import yaml

    import sim.cli
    from sim.cli import main

    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(three_skus(), sort_keys=False), encoding="utf-8")
    args = ["run", str(path), "--workers", "1", "--no-report", "--quiet"]
    main([*args, "--out", str(tmp_path / "here")])
    assert pools == []  # a small file: read in this process
    monkeypatch.setattr(sim.cli, "PREPARE_APART_BYTES", 0)
    main([*args, "--out", str(tmp_path / "apart")])
    assert pools == [(1,)]
    for name in ("skus.csv", "replications.csv", "months.csv", "plan.csv"):
        here = (tmp_path / "here" / name).read_bytes()
        assert here == (tmp_path / "apart" / name).read_bytes(), name
    a, b = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("here", "apart"))
    assert a["strategies"] == b["strategies"] and a["scenario"] == b["scenario"]


@pytest.mark.parametrize(
    "command",
    [
        ["sweep", "--set", "nodes.wh.promise_days=2,3", "--format", "json"],
        ["sensitivity", "--vary", "nodes.wh.promise_days=2,4", "--format", "json"],
    ],
    ids=["sweep", "sensitivity"],
)
def test_sweep_and_sensitivity_read_a_large_scenario_apart_with_the_same_results(
    tmp_path, monkeypatch, pools, command
):
    """sweep and sensitivity read and validate a large file's points in a child process too
    (they come back packed); the files are the same."""
    import yaml

    import sim.cli
    from sim.cli import main

    data = three_skus()
    second = strategy(["wh"], {"wh": up_to({"A": 6, "B": 15, "C": 10}, lead=2)})
    data["strategies"].append({**second, "name": "more"})
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    args = [command[0], str(path), *command[1:], "--workers", "1", "--quiet"]
    main([*args, "--out", str(tmp_path / "here")])
    assert pools == []
    monkeypatch.setattr(sim.cli, "PREPARE_APART_BYTES", 0)
    main([*args, "--out", str(tmp_path / "apart")])
    assert pools == [(1,)]
    for name in (f"{command[0]}.csv", f"{command[0]}.json"):
        here = (tmp_path / "here" / name).read_bytes()
        assert here == (tmp_path / "apart" / name).read_bytes(), name


def test_a_mistake_in_a_large_scenario_reads_as_in_a_small_one(tmp_path, monkeypatch, capsys):
    import sim.cli
    from sim.cli import main
    from tests.helpers import ROOT

    typos = str(ROOT / "tests" / "data" / "readme" / "typos.yaml")
    with pytest.raises(SystemExit) as e:
        main(["run", typos, "--out", str(tmp_path / "a")])
    here = capsys.readouterr().err
    monkeypatch.setattr(sim.cli, "PREPARE_APART_BYTES", 0)
    with pytest.raises(SystemExit) as e2:
        main(["run", typos, "--out", str(tmp_path / "b")])
    assert e.value.code == e2.value.code == 2
    assert capsys.readouterr().err == here
    assert here.startswith("skus[0].demand.mean_per_dy (line 13): unknown key")


def test_a_bad_grid_point_of_a_large_scenario_reads_as_in_a_small_one(
    tmp_path, monkeypatch, capsys
):
    import yaml

    import sim.cli
    from sim.cli import main

    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(three_skus(), sort_keys=False), encoding="utf-8")
    args = ["sweep", str(path), "--set", "nodes.wh.promise_days=2,-1", "--quiet"]
    errors = []
    for apart in (2**20, 0):
        monkeypatch.setattr(sim.cli, "PREPARE_APART_BYTES", apart)
        with pytest.raises(SystemExit) as e:
            main([*args, "--out", str(tmp_path / str(apart))])
        assert e.value.code == 2
        errors.append(capsys.readouterr().err)
    assert errors[0] == errors[1]
    assert errors[0].startswith("--set: at nodes.wh.promise_days=-1: nodes.wh.promise_days")


def test_a_user_error_crosses_processes_whole():
    import pickle

    from sim.errors import UserError

    e = UserError([("a.b (line 3)", "must be ≥ 0"), ("c", "unknown key")])
    back = pickle.loads(pickle.dumps(e))
    assert back.problems == e.problems and str(back) == str(e)


def test_summary_json_is_written_in_pieces_as_one_json_document(tmp_path):
    """summary.json is encoded while it is written (a large catalog's text is never held
    whole): the file is the summary, one SKU per line, and the text ``summary_json`` gives."""
    res = run(compile_scenario(validate(three_skus())))
    summary = summarize(res, "t", "0" * 64, 30, 0)
    pieces = list(results.summary_pieces(summary))
    assert len(pieces) > 20 and max(map(len, pieces)) < len("".join(pieces)) / 3
    write_results(tmp_path, summary, res)
    text = (tmp_path / "summary.json").read_text(encoding="utf-8")
    assert text == results.summary_json(summary) and text.endswith("}\n")
    assert json.loads(text) == json.loads(json.dumps(summary))
    sku_lines = [line for line in text.splitlines() if line.startswith('        "A": ')]
    assert len(sku_lines) == len(res.model.strategy_names)
