"""The ``assign`` command: which candidate route each SKU should take (see ``sim.assign``)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from sim import interrupts, outdir
from sim.cli import (
    StatusLine,
    _note,
    _override,
    check_backend,
    default_out,
    estimate_option,
    estimated,
    run_options,
    stopped_after,
)
from sim.errors import UserError
from sim.table import fmt, render


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--strategy",
    required=True,
    metavar="NAME",
    help="The template: its replenishment settings of every node are kept.",
)
@click.option(
    "--routes",
    "routes",
    multiple=True,
    required=True,
    metavar="NODE[,NODE…]",
    help="A candidate route, an ordered fulfil_from list (repeat: at least two), e.g. "
    "--routes fba --routes home --routes fba,home.",
)
@click.option(
    "--objective",
    type=click.Choice(["profit", "cost"]),
    default="profit",
    show_default=True,
    help="profit: largest expected profit; cost: smallest expected total cost.",
)
@click.option(
    "--constraint",
    "constraints",
    multiple=True,
    metavar="METRIC>=V|METRIC<=V",
    help="A constraint on the mean of a strategy metric (repeatable), e.g. 'fill_rate>=0.97' "
    "or 'account_health_breach_rate<=0.05'.",
)
@estimate_option
@run_options
def assign(
    scenario,
    strategy,
    routes,
    objective,
    constraints,
    reps,
    seed,
    workers,
    backend,
    scheduler,
    out,
    force,
    fmt,
    quiet,
    allow_outside_files,
    estimate,
) -> None:
    """Choose, for every SKU, one of the candidate --routes, starting from the --strategy
    template, to maximise expected profit (or minimise cost, or profit subject to constraints).

    \b
    A SKU holds stock only at the nodes of its route (and the nodes feeding them); a node's
    fixed_cost_per_month is paid only when some SKU uses it; capacity limits are shared. Every
    candidate assignment runs over the same replications (common random numbers), so every
    comparison is paired. The search is local: one run per route gives each SKU's own value on
    every route (without rent, shipment costs and capacity limits, which the SKUs share); from
    each SKU's best route it tries moves (close or open a node, move groups of SKUs off or onto
    a node, single SKUs) on whole-catalog runs, and keeps one when the paired difference's
    interval lies above 0, until none does.

    \b
    Prints per SKU the route, the runner-up, the paired difference between them (interval,
    win rate) and a verdict (clear / too close to call / coupled), then the assignment against
    the template and against every single-route strategy. Writes assign.json (what --format
    json prints), assign.yaml (a fulfil_from mapping to paste into the strategy) and
    assign.csv (one row per SKU) to --out [default: results/<name>/<UTC time>-assign/].
    """
    from sim import assign as asg
    from sim import montecarlo
    from sim.budget import check_optimize
    from sim.estimate import assign_estimate, worth_a_pilot
    from sim.loader import load_scenario
    from sim.model import compile_scenario

    check_backend(backend, scheduler)
    if reps is not None and reps < 2:
        raise UserError(("--reps", "assign needs at least 2 replications (for an interval)"))
    goals = tuple(asg.parse_constraint(c) for c in constraints)
    loaded = load_scenario(scenario, allow_outside_files)
    sc = _override(loaded.scenario, reps, seed)
    if sc.uncertainty is not None:
        where = next(iter(sc.uncertainty.describe()))
        raise UserError((where, "assign does not draw uncertain numbers: write a number here"))
    template = asg.find_strategy(sc, strategy)
    candidates = asg.parse_routes(routes, sc, template)
    workers = workers or montecarlo.default_workers()
    echo = None if quiet else _note
    shape, need = check_optimize(sc, workers, backend, scheduler, echo, timed=False)
    model = compile_scenario(sc)
    problem = asg.Problem(sc, model, template, candidates, objective, goals)
    if estimate or (echo is not None and worth_a_pilot(shape, workers)):
        nodes = {n for route in candidates for n in route}
        est = assign_estimate(model, shape, need, workers, len(candidates), len(nodes), backend)
        if estimated(est, estimate, "search"):
            return
    progress = StatusLine(quiet)

    out = out or _assign_out(sc.name)
    interrupts.hold()  # from here on a signal stops the search only, never the writes
    with outdir.claimed(out, force):
        rep = asg.assign(
            problem,
            workers=workers,
            progress=progress,
            scenario_info={"name": sc.name, "sha256": loaded.sha256},
            backend=backend,
            scheduler=scheduler,
        )
        progress.clear()
        write(out, rep, force)
    if fmt == "json":
        click.echo((out / "assign.json").read_text(encoding="utf-8"), nl=False)
    else:
        click.echo(table(rep))
        click.echo(f"\nResults: {out}")
    if not rep["complete"]:
        kept = "the best assignment found so far" if rep["skus"] else "no assignment yet"
        click.echo(f"interrupted: kept {kept} in {out}", err=True)
        sys.exit(interrupts.exit_code())
    stopped_after(out)


def _assign_out(name: str) -> Path:
    path = default_out(name)
    return path.with_name(path.name + "-assign")


def write(out: Path, rep: dict, force: bool) -> None:
    """assign.json, assign.yaml and assign.csv into ``out`` (the previous results removed with
    ``force``)."""
    from sim.results import csv_text, write_atomic

    outdir.clear(out, force)
    text = json.dumps(rep, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_atomic(out / "assign.json", text)
    write_atomic(out / "assign.csv", csv_text(csv_rows(rep)))
    write_atomic(out / "assign.yaml", yaml_text(rep))


def csv_rows(rep: dict) -> list[dict]:
    """One row per SKU: route, runner-up, paired difference and verdict."""
    rows = []
    for sku, e in rep["skus"].items():
        d = e["diff"]
        rows.append(
            {
                "sku": sku,
                "route": ",".join(e["route"]),
                "runner_up": ",".join(e["runner_up"]),
                "diff_mean": d["mean"],
                "diff_ci_low": "" if d["ci_low"] is None else d["ci_low"],
                "diff_ci_high": "" if d["ci_high"] is None else d["ci_high"],
                "win_rate": d["win_rate"],
                "verdict": e["verdict"],
            }
        )
    return rows


def yaml_text(rep: dict) -> str:
    """A ``fulfil_from:`` mapping, one line per SKU, to paste into the template strategy."""
    lines = [
        f"# assign: {rep['scenario']['name']}, strategy {rep['strategy']}, objective "
        f"{rep['objective']}, {rep['replications']} replications, seed {rep['seed']}",
        "# paste under the strategy; drop the replenish entries of nodes no route below uses",
        "# (a node in the strategy pays its fixed_cost_per_month)",
    ]
    if not rep["skus"]:
        lines.append("# INCOMPLETE: the search was interrupted before any assignment")
        return "\n".join(lines) + "\n"
    if not rep["complete"]:
        lines.append("# INCOMPLETE: interrupted; the best assignment found so far")
    lines.append("fulfil_from:")
    for sku, e in rep["skus"].items():
        lines.append(f"  {_yaml_key(sku)}: [{', '.join(map(_yaml_key, e['route']))}]")
    return "\n".join(lines) + "\n"


YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})


def _yaml_key(key: str) -> str:
    """``key`` bare when YAML reads it back as that string, else quoted."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9._-]*", key) and key.lower() not in YAML_WORDS:
        return key
    return json.dumps(key, ensure_ascii=False)


def _money(stat: dict, signed: bool = False) -> str:
    mean = fmt(stat["mean"], "money")
    if signed and stat["mean"] is not None and stat["mean"] >= 0:
        mean = "+" + mean
    if stat.get("ci_low") is None:
        return mean
    return f"{mean} [{fmt(stat['ci_low'], 'money')}, {fmt(stat['ci_high'], 'money')}]"


def table(rep: dict) -> str:
    """Per SKU: route, runner-up, the paired difference, win rate, verdict; then the totals."""
    pct = round(100 * rep["confidence"])
    goal = "largest expected profit" if rep["objective"] == "profit" else "smallest expected cost"
    if rep["constraints"]:
        goal += " subject to " + ", ".join(rep["constraints"])
    parts = [
        f"{rep['scenario']['name']}: a route per SKU from strategy {rep['strategy']}, {goal}; "
        f"{rep['replications']} replications, seed {rep['seed']}, common random numbers",
        f"local search: {rep['evaluations']} whole-catalog evaluations, {rep['moves_tried']} "
        f"moves tried, {rep['moves']} taken (a local optimum of these moves, not a proven best)"
        + ("; stopped at the evaluation cap" if rep["stopped_at_cap"] else "")
        + ("" if rep["complete"] else "  [INCOMPLETE: interrupted; the best found so far]"),
    ]
    if not rep["skus"]:
        return "\n".join(parts)
    what = "profit" if rep["objective"] == "profit" else "cost saved"
    rows = [["SKU", "route", "runner-up", f"{what} vs runner-up [{pct}% CI]", "wins", "verdict"]]
    for sku, e in rep["skus"].items():
        d = e["diff"]
        rows.append(
            [
                sku,
                ",".join(e["route"]),
                ",".join(e["runner_up"]),
                _money(d, signed=True),
                "–" if d["win_rate"] is None else f"{100 * d['win_rate']:.0f}%",
                e["verdict"],
            ]
        )
    width = max(len(r[-1]) for r in rows)
    for r in rows:  # the verdict reads left-aligned
        r[-1] = r[-1].ljust(width)
    parts += ["", render(rows, right_from=3)]
    total = rep["total"]
    used = ", ".join(f"{n} SKUs on {r}" for r, n in rep["routes_used"].items() if n)
    parts += [
        "",
        f"assignment ({used}): profit {_money(total['profit'])}, total cost "
        f"{_money(total['total_cost'])}, fill rate {fmt(total['fill_rate']['mean'], 'pct')}, "
        f"on time {fmt(total['on_time_rate']['mean'], 'pct')}, account-health breach in "
        f"{fmt(total['account_health_breach_rate']['mean'], 'pct')} of replications",
    ]
    for c in total["constraints"]:
        parts.append(
            f"constraint {c['constraint']}: mean {c['mean']:.4g} ({'met' if c['met'] else 'NOT met'})"
        )
    metric = "profit" if rep["objective"] == "profit" else "total_cost"
    for a in total["against"]:
        p = a[metric]
        wins = "" if p["win_rate"] is None else f", wins {100 * p['win_rate']:.0f}%"
        parts.append(
            f"against {a['name']}: {metric.replace('_', ' ')} {_money(p, signed=True)}{wins} "
            "(paired)"
        )
    return "\n".join(parts)
