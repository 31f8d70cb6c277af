"""``import-orders``: per-SKU demand fitted from Amazon All Orders reports and CSV files."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import subprocess
import sys

import numpy as np
import pytest
import yaml
from scipy import stats

from sim.cli import main
from sim.import_orders import parse_day, parse_timezone
from sim.loader import validate
from tests.helpers import ROOT, scenario

DATA = ROOT / "tests" / "data"
SAMPLE = DATA / "all-orders-sample.txt"
MALFORMED = DATA / "all-orders-malformed.txt"
DAILY_CSV = DATA / "daily-units.csv"


def cli(capsys, *args) -> tuple[int, str, str]:
    """Run the command line in-process: (exit code, stdout, stderr)."""
    try:
        main(["import-orders", *map(str, args)])
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def skus(text: str) -> dict[str, dict]:
    return {s["id"]: s for s in yaml.safe_load(text)["skus"]}


def write_tsv(
    path, rows, header=("purchase-date", "order-status", "sales-channel", "sku", "quantity")
):
    path.write_text("\n".join(["\t".join(header), *("\t".join(r) for r in rows)]) + "\n")
    return path


# --------------------------------------------------------------------------- expected values


def expected_fit(days: np.ndarray, start: dt.date) -> dict:
    """The documented fit, recomputed from one SKU's daily units."""
    n = len(days)
    m = days.mean()
    wd = (start.weekday() + np.arange(n)) % 7
    by_day = np.array([days[wd == w].mean() for w in range(7)])
    mu_w = by_day[wd]
    keep = mu_w > 0
    within = (((days - mu_w) ** 2)[keep] / mu_w[keep]).sum() / (n - 7)
    between = ((mu_w - m) ** 2).sum() / m
    weekly_p = stats.f.sf(between / 6 / max(within, 1.0), 6, n - 7)
    if n >= 28 and weekly_p < 0.05:
        mean, weekly, ratio, df = by_day.mean(), by_day / by_day.mean(), within, n - 7
    else:
        mean, weekly, ratio, df = m, None, days.var(ddof=1) / m, n - 1
    nb = ratio > 1.1 and stats.chi2.sf(ratio * df, df) < 0.05
    return {"mean": mean, "weekly": weekly, "ratio": ratio, "nb": nb}


def sample_rows(path=SAMPLE):
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def daily_units(rows, keep) -> tuple[dict[str, np.ndarray], dt.date]:
    days = [dt.datetime.fromisoformat(r["purchase-date"]).date() for r in rows]
    start, end = min(days), max(days)
    n = (end - start).days + 1
    out: dict[str, np.ndarray] = {}
    for r, d in zip(rows, days, strict=True):
        if keep(r):
            out.setdefault(r["sku"], np.zeros(n))[(d - start).days] += float(r["quantity"])
    return out, start


def amazon_com_not_cancelled(r) -> bool:
    return (
        r["order-status"] != "Cancelled"
        and r["item-status"] != "Cancelled"
        and r["sales-channel"] == "Amazon.com"
    )


# --------------------------------------------------------------------------- the sample report


def test_sample_fits_match_the_data(capsys):
    code, out, err = cli(capsys, SAMPLE)
    assert code == 0, err
    got = skus(out)
    daily, start = daily_units(sample_rows(), amazon_com_not_cancelled)
    assert set(got) == set(daily) == {"KETTLE-GOOSENECK", "FILTER-PAPER-100", "MUG-11OZ"}
    for sku, days in daily.items():
        want = expected_fit(days, start)
        demand = got[sku]["demand"]
        assert demand["mean_per_day"] == pytest.approx(want["mean"], rel=1e-3)
        if want["nb"]:
            assert demand["distribution"] == "negative_binomial"
            assert demand["variance_to_mean"] == pytest.approx(want["ratio"], rel=5e-3)
        else:
            assert demand["distribution"] == "poisson"
            assert "variance_to_mean" not in demand
        if want["weekly"] is None:
            assert "weekly" not in demand
        else:
            assert demand["weekly"] == pytest.approx(list(want["weekly"]), abs=0.006)
    # the sample was generated as: kettle lumpy, filters with a weekend peak, mug Poisson
    assert got["KETTLE-GOOSENECK"]["demand"]["distribution"] == "negative_binomial"
    assert "weekly" in got["FILTER-PAPER-100"]["demand"]
    assert got["MUG-11OZ"]["demand"] == {
        "distribution": "poisson",
        "mean_per_day": pytest.approx(daily["MUG-11OZ"].mean(), rel=1e-3),
    }
    assert got["MUG-11OZ"]["price"] == 24.99 and got["KETTLE-GOOSENECK"]["price"] == 44.99
    assert got["MUG-11OZ"]["name"].startswith('Stoneware Coffee Mug 11 oz, 4.5" Tall')


def test_sample_header_accounts_for_every_row(capsys):
    code, out, err = cli(capsys, SAMPLE)
    assert code == 0, err
    rows = sample_rows()
    cancelled = sum(
        r["order-status"] == "Cancelled" or r["item-status"] == "Cancelled" for r in rows
    )
    other = sum(
        r["sales-channel"] != "Amazon.com"
        and r["order-status"] != "Cancelled"
        and r["item-status"] != "Cancelled"
        for r in rows
    )
    used = len(rows) - cancelled - other
    assert cancelled >= 5 and other >= 10  # the sample has both
    assert (
        f"# Rows: {len(rows)} read, {used} used; skipped: {cancelled} cancelled, {other} other"
        in out
    )
    assert "Amazon.ca" in out and "Non-Amazon" in out
    assert f"{used} of {len(rows)} rows used, 3 SKUs" in err
    assert "# Range: 2026-03-02 .. 2026-04-26 (56 days" in out


def test_cancelled_orders_are_excluded(capsys, tmp_path):
    f = write_tsv(
        tmp_path / "orders.txt",
        [
            ["2026-03-02T10:00:00+00:00", "Shipped", "Amazon.com", "A", "2"],
            ["2026-03-02T11:00:00+00:00", "Cancelled", "Amazon.com", "A", "50"],
            ["2026-03-03T09:00:00+00:00", "Pending", "Amazon.com", "A", "1"],
            ["2026-03-04T09:00:00+00:00", "Shipped", "Amazon.com", "A", "3"],
        ],
    )
    code, out, err = cli(capsys, f, "--min-days", "1")
    assert code == 0, err
    assert skus(out)["A"]["demand"]["mean_per_day"] == 2  # (2 + 1 + 3) / 3 days
    assert "1 cancelled" in out and "1 cancelled" in err


def test_item_status_cancelled_is_excluded_too(capsys, tmp_path):
    header = ("purchase-date", "order-status", "item-status", "sku", "quantity")
    f = write_tsv(
        tmp_path / "orders.txt",
        [
            ["2026-03-02", "Shipped", "Shipped", "A", "1"],
            ["2026-03-03", "Shipped", "Cancelled", "A", "4"],
            ["2026-03-04", "Shipped", "Shipped", "A", "2"],
        ],
        header,
    )
    code, out, _ = cli(capsys, f, "--min-days", "1")
    assert code == 0
    assert skus(out)["A"]["demand"]["mean_per_day"] == 1


def test_other_marketplaces_are_skipped_and_counted(capsys, tmp_path):
    f = write_tsv(
        tmp_path / "orders.txt",
        [
            ["2026-03-02T10:00:00+00:00", "Shipped", "Amazon.com", "A", "1"],
            ["2026-03-02T12:00:00+00:00", "Shipped", "Amazon.ca", "A", "7"],
            ["2026-03-03T12:00:00+00:00", "Shipped", "Amazon.ca", "B", "5"],
            ["2026-03-03T13:00:00+00:00", "Shipped", "Non-Amazon", "A", "9"],
            ["2026-03-04T10:00:00+00:00", "Shipped", "amazon.com", "A", "2"],
        ],
    )
    code, out, err = cli(capsys, f, "--min-days", "1")
    assert code == 0, err
    got = skus(out)
    assert set(got) == {"A"} and got["A"]["demand"]["mean_per_day"] == 1  # (1 + 2) / 3
    assert "3 other sales channels" in err
    assert "other sales channels: Amazon.ca 2, Non-Amazon 1" in out
    code, out, _ = cli(capsys, f, "--min-days", "1", "--marketplace", "Amazon.ca")
    assert skus(out)["B"]["demand"]["mean_per_day"] == pytest.approx(5 / 3, rel=1e-3)
    code, out, _ = cli(capsys, f, "--min-days", "1", "--marketplace", "all")
    assert skus(out)["A"]["demand"]["mean_per_day"] == pytest.approx(19 / 3, rel=1e-3)


def test_no_rows_for_the_marketplace_is_an_error_naming_the_channels(capsys, tmp_path):
    f = write_tsv(tmp_path / "o.txt", [["2026-03-02", "Shipped", "Amazon.de", "A", "1"]])
    code, out, err = cli(capsys, f)
    assert code == 2 and out == ""
    assert "no orders left to fit (1 other sales channels)" in err
    assert "Amazon.de (1)" in err and "--marketplace" in err


# --------------------------------------------------------------------------- bad rows


BAD_LINES = {
    5: "date '2026-03-0x' is not YYYY-MM-DD or an ISO 8601 date-time",
    9: "quantity 'two' is not a number",
    12: "quantity '-1' must be a number ≥ 0",
    15: "no sku",
    18: "has 10 fields, the header has 28",
    21: "no date",
}


def test_bad_rows_are_listed_with_line_numbers_and_nothing_is_written(capsys, tmp_path):
    out_file = tmp_path / "skus.yaml"
    code, out, err = cli(capsys, MALFORMED, "--out", out_file)
    assert code == 2 and out == "" and not out_file.exists()
    lines = err.strip().splitlines()
    assert lines[: len(BAD_LINES)] == [f"{MALFORMED}:{n}: {p}" for n, p in BAD_LINES.items()]
    assert lines[-1] == (
        f"{MALFORMED}: 6 of 30 rows cannot be read: nothing written; fix them, or use "
        "--skip-bad to leave them out"
    )


def test_skip_bad_writes_the_rest_and_says_what_was_skipped(capsys, tmp_path):
    out_file = tmp_path / "skus.yaml"
    code, out, err = cli(capsys, MALFORMED, "--skip-bad", "--out", out_file, "--min-days", "1")
    assert code == 0 and out == "", err
    text = out_file.read_text()
    assert "# Rows: 30 read, " in text
    assert "bad rows skipped (--skip-bad): 6, lines 5, 9, 12, 15, 18, 21" in text
    for n, p in BAD_LINES.items():
        assert f"{MALFORMED}:{n}: {p}" in err
    assert "6 bad (--skip-bad)" in err
    rows = sample_rows(MALFORMED)  # DictReader: the broken lines are data rows 4, 8, …
    good = [r for i, r in enumerate(rows, start=2) if i not in BAD_LINES]
    want = sum(float(r["quantity"]) for r in good if amazon_com_not_cancelled(r))
    got = yaml.safe_load(text)["skus"]
    days = {dt.datetime.fromisoformat(r["purchase-date"]).date() for r in good}
    n = (max(days) - min(days)).days + 1
    assert sum(s["demand"]["mean_per_day"] for s in got) * n == pytest.approx(want, rel=1e-3)


def test_bad_rows_exit_2_through_the_real_command_line():
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "simulate.py"),
            "import-orders",
            "tests/data/all-orders-malformed.txt",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "tests/data/all-orders-malformed.txt:9: quantity 'two' is not a number" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_column_is_an_error(capsys, tmp_path):
    f = tmp_path / "o.txt"
    f.write_text("purchase-date\torder-status\tquantity\n2026-03-02\tShipped\t1\n")
    code, _, err = cli(capsys, f)
    assert code == 2
    assert f"{f}:1: no column sku: expected an Amazon All Orders report" in err


def test_a_missing_file_is_an_error(capsys, tmp_path):
    code, _, err = cli(capsys, tmp_path / "nope.txt")
    assert code == 2 and "nope.txt: file not found" in err


# --------------------------------------------------------------------------- CSV input


def test_csv_with_sku_date_quantity(capsys):
    code, out, err = cli(capsys, DAILY_CSV)
    assert code == 0, err
    with DAILY_CSV.open(newline="") as f:
        rows = list(csv.DictReader(f))
    days = [dt.date.fromisoformat(r["date"]) for r in rows]
    start, n = min(days), (max(days) - min(days)).days + 1
    assert n == 35
    got = skus(out)
    for sku in ("TOWEL-BATH-2PK", "SOAP-DISH"):
        x = np.zeros(n)
        for r, d in zip(rows, days, strict=True):
            if r["sku"] == sku:
                x[(d - start).days] += int(r["quantity"])
        want = expected_fit(x, start)
        assert got[sku]["demand"]["mean_per_day"] == pytest.approx(want["mean"], rel=1e-3)
        assert (got[sku]["demand"]["distribution"] == "negative_binomial") == want["nb"]
        assert "price" not in got[sku]
    assert "(CSV)" in out


def test_csv_with_other_header_names_and_quotes(capsys, tmp_path):
    f = tmp_path / "units.csv"
    f.write_text('SKU,Order Date,Units\n"A,1",2026-03-02,3\n"A,1",2026-03-04,1\n')
    code, out, err = cli(capsys, f, "--min-days", "1")
    assert code == 0, err
    assert skus(out)["A,1"]["demand"]["mean_per_day"] == pytest.approx(4 / 3, rel=1e-3)


def test_start_and_end_set_the_range(capsys, tmp_path):
    f = tmp_path / "units.csv"
    f.write_text("sku,date,quantity\nA,2026-03-02,4\nA,2026-03-05,2\nA,2026-03-20,9\n")
    code, out, err = cli(
        capsys, f, "--start", "2026-03-01", "--end", "2026-03-10", "--min-days", "1"
    )
    assert code == 0, err
    assert skus(out)["A"]["demand"]["mean_per_day"] == pytest.approx(0.6)  # 6 units / 10 days
    assert "1 outside --start/--end" in err
    assert "# Range: 2026-03-01 .. 2026-03-10 (10 days" in out


def test_too_little_data_is_said_on_stderr(capsys, tmp_path):
    f = tmp_path / "units.csv"
    f.write_text("sku,date,quantity\nA,2026-03-02,4\nA,2026-03-11,20\n")
    code, out, err = cli(capsys, f)
    assert code == 0
    assert "only 10 days (< --min-days 28)" in err
    assert skus(out)["A"]["demand"] == {"distribution": "poisson", "mean_per_day": 2.4}


def test_a_sku_that_starts_late_is_flagged(capsys, tmp_path):
    lines = ["sku,date,quantity"]
    lines += [f"OLD,{dt.date(2026, 3, 1) + dt.timedelta(days=i)},1" for i in range(60)]
    lines += ["NEW,2026-04-25,3"]
    f = tmp_path / "units.csv"
    f.write_text("\n".join(lines) + "\n")
    code, _, err = cli(capsys, f)
    assert code == 0
    assert "NEW: first order on 2026-04-25, only 5 days before the end" in err
    assert "OLD:" not in err


# --------------------------------------------------------------------------- output


def test_output_pasted_into_a_scenario_validates(capsys):
    code, out, _ = cli(capsys, SAMPLE)
    assert code == 0
    fitted = yaml.safe_load(out)["skus"]
    d = scenario(skus=fitted)
    d["strategies"][0]["replenish"]["wh"]["policy"]["level"] = 50
    sc = validate(d)
    assert [s.id for s in sc.skus] == [s["id"] for s in fitted]


def test_awkward_sku_ids_stay_text(capsys, tmp_path):
    f = tmp_path / "units.csv"
    f.write_text(
        'sku,date,quantity\n00123,2026-03-02,1\ntrue,2026-03-02,1\n"x: #1",2026-03-02,1\n'
        "1.50,2026-03-03,1\n!!int,2026-03-03,1\n!!bool x,2026-03-03,1\n1e5,2026-03-03,1\n"
    )
    code, out, _ = cli(capsys, f, "--min-days", "1")
    assert code == 0
    from sim.loader import parse_yaml

    data, _ = parse_yaml(out)
    ids = {"00123", "true", "x: #1", "1.50", "!!int", "!!bool x", "1e5"}  # 1e5: a number unquoted
    assert {s["id"] for s in data["skus"]} == ids


def test_out_refuses_to_overwrite_without_force(capsys, tmp_path):
    target = tmp_path / "skus.yaml"
    target.write_text("keep me\n")
    code, _, err = cli(capsys, SAMPLE, "--out", target)
    assert code == 2 and f"{target}: file exists; use --force" in err
    assert target.read_text() == "keep me\n"
    code, out, err = cli(capsys, SAMPLE, "--out", target, "--force")
    assert code == 0 and out == "" and f"wrote {target}" in err
    assert target.read_text().startswith("# Demand fitted by `fulfilsim import-orders`")


def test_days_and_time_zones():
    assert parse_day("2026-03-01T14:22:05+00:00") == (dt.date(2026, 3, 1), None)
    assert parse_day("2026-03-02T03:00:00+00:00", parse_timezone("America/Los_Angeles")) == (
        dt.date(2026, 3, 1),
        None,
    )
    assert parse_day("2026-03-02T03:00:00Z", parse_timezone("-08:00"))[0] == dt.date(2026, 3, 1)
    assert parse_day("2026-03-02")[0] == dt.date(2026, 3, 2)
    assert parse_day("03/02/2026")[1].startswith("date '03/02/2026' is not")


def test_timezone_option_moves_late_evening_orders(capsys, tmp_path):
    f = tmp_path / "units.csv"
    f.write_text(
        "sku,date,quantity\nA,2026-03-02T01:00:00+00:00,5\nA,2026-03-03T20:00:00+00:00,1\n"
    )
    code, out, _ = cli(capsys, f, "--timezone", "America/Los_Angeles", "--min-days", "1")
    assert code == 0
    assert "# Range: 2026-03-01 .. 2026-03-03 (3 days" in out
    code, _, err = cli(capsys, f, "--timezone", "Mars/Olympus")
    assert code == 2 and "--timezone: unknown time zone 'Mars/Olympus'" in err


# --------------------------------------------------------------------------- the data files


def test_sample_files_are_reproduced_by_their_generator():
    spec = importlib.util.spec_from_file_location("make_samples", DATA / "make_samples.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for name, text in gen.files().items():
        assert (DATA / name).read_text(encoding="utf-8") == text, name


# --------------------------------------------------------------------------- Shopify (--channel)

SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Fulfillment Status,Currency,Created at,Cancelled at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku"
)


def write_shopify(path, rows: list[str]):
    path.write_text("\n".join([SHOPIFY_HEADER, *rows]) + "\n")
    return path


def test_shopify_export_carries_order_columns_to_later_line_items(capsys, tmp_path):
    """Three days, 2026-03-02..04. #1001 (day 1) has 3 line items: only its first row carries
    Created at; #1002 (day 3) has 2; #1003 is cancelled, #1004 refunded, #1005 partially
    refunded (kept). By hand, per SKU and day:
      MUG: day 1: 2 (#1001) , day 2: 1 (#1005), day 3: 4 (#1002)   -> 7 units / 3 days
      CAP: day 1: 1 + 3 (#1001, two rows of the same SKU)          -> 4 units / 3 days
      TEE: day 3: 5 (#1002)                                        -> 5 units / 3 days
    (#1003's 9 MUG and #1004's 6 CAP are left out.)"""
    path = write_shopify(
        tmp_path / "orders_export.csv",
        [
            "#1001,a@x.com,paid,fulfilled,USD,2026-03-02 10:15:00 -0500,,2,Mug,12.50,MUG",
            "#1001,,,,,,,1,Cap,20.00,CAP",
            "#1001,,,,,,,3,Cap,20.00,CAP",
            "#1003,c@x.com,paid,,USD,2026-03-02 11:00:00 -0500,2026-03-02 12:00:00 -0500,9,Mug,12.50,MUG",
            "#1004,d@x.com,refunded,,USD,2026-03-03 09:00:00 -0500,,6,Cap,20.00,CAP",
            "#1005,e@x.com,partially_refunded,fulfilled,USD,2026-03-03 17:00:00 -0500,,1,Mug,13.50,MUG",
            "#1002,b@x.com,paid,fulfilled,USD,2026-03-04 08:00:00 -0500,,4,Mug,12.50,MUG",
            "#1002,,,,,,,5,Tee,15.00,TEE",
        ],
    )
    code, out, err = cli(capsys, path, "--channel", "web")
    assert code == 0, err
    got = skus(out)
    means = {k: v["channel_demand"]["web"]["mean_per_day"] for k, v in got.items()}
    assert means == pytest.approx({"MUG": 7 / 3, "CAP": 4 / 3, "TEE": 5 / 3}, abs=5e-4)
    assert all("demand" not in v for v in got.values())
    assert got["MUG"]["price"] == 12.50  # median of 12.50, 13.50, 12.50
    assert "1 cancelled" in err and "1 refunded" in err
    assert "6 of 8 rows used" in err
    # merged into a scenario with the channel defined, it validates
    d = scenario()
    d["channels"] = {"web": {"fee_rate": 0.029, "fee_per_order": 0.3}}
    d["skus"] = [
        {"id": k, "demand": {"distribution": "poisson", "mean_per_day": 1}, **v}
        for k, v in got.items()
    ]
    d["strategies"][0]["channel_fulfil_from"] = {"web": ["wh"]}
    d["strategies"][0]["replenish"]["wh"]["policy"]["level"] = 10
    validate(d)


def test_shopify_other_currency_is_noted(capsys, tmp_path):
    path = write_shopify(
        tmp_path / "orders.csv", ["#1,a@x.com,paid,,EUR,2026-03-02 10:00:00 +0100,,2,Mug,11.00,MUG"]
    )
    code, _, err = cli(capsys, path, "--channel", "web")
    assert code == 0
    assert "prices are in EUR" in err


def test_shopify_export_without_its_columns_is_located(capsys, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("sku,date,quantity\nA,2026-03-02,1\n")
    code, _, err = cli(capsys, path, "--channel", "web")
    assert code == 2
    assert f"{path}:1: no column Name" in err


def test_shopify_bad_row_is_listed_by_line(capsys, tmp_path):
    path = write_shopify(
        tmp_path / "orders.csv",
        [
            "#1,a@x.com,paid,,USD,2026-03-02 10:00:00 -0500,,2,Mug,11.00,MUG",
            "#2,b@x.com,paid,,USD,not a date,,1,Mug,11.00,MUG",
        ],
    )
    code, _, err = cli(capsys, path, "--channel", "web")
    assert code == 2
    assert f"{path}:3: Created at 'not a date'" in err
