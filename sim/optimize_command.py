"""The ``optimize`` command: the smallest order-up-to levels that meet a service target."""

from __future__ import annotations

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
    emit,
    estimate_option,
    estimated,
    run_options,
    stopped_after,
)
from sim.errors import UserError
from sim.metric_names import TARGET_METRICS

EVERY_MONTH = ("fill_rate", "cycle_service_level")  # metrics the month-by-month search reads


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--target",
    metavar="METRIC>=VALUE",
    help=f"Service target per SKU, METRIC one of {', '.join(TARGET_METRICS)} "
    "(e.g. cycle_service_level>=0.95).",
)
@click.option(
    "--objective",
    type=click.Choice(["target", "profit"]),
    default="target",
    show_default=True,
    help="target: smallest levels meeting --target; profit: levels with the largest mean "
    "profit per SKU.",
)
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    metavar="NAME",
    help="Only this strategy (repeatable) [default: all].",
)
@click.option(
    "--every-month",
    is_flag=True,
    help="Also find, for forecast_up_to policies, the smallest service_level per SKU and node "
    "whose --target (fill_rate or cycle_service_level) is met in every calendar month.",
)
@run_options
@estimate_option
def optimize(
    scenario,
    target,
    objective,
    strategies,
    every_month,
    reps,
    seed,
    workers,
    backend,
    scheduler,
    out,
    force,
    fmt,
    quiet,
    estimate,
    allow_outside_files,
) -> None:
    """Find, per strategy, SKU and stocked node, the smallest order-up-to level whose per-SKU
    METRIC interval lower bound reaches the --target (or, with --objective profit, the level
    with the largest mean profit).

    \b
    Only the order-up-to levels change (and the initial on-hand that defaults to them); every
    candidate runs on the same replications (common random numbers: the same demand, lead
    times and transit draws, drawn once). The smallest level is found from the classic
    formula's level (μ + z·σ over the protection period) by secant steps on the service curve
    with bisection as the safeguard, all SKUs of a node at once, and checked by a final run at
    the recommended levels. With several stocked nodes, nodes are searched one at a time:
    backups first, the primary last, then nodes that only feed others. s_S and s_Q lanes keep
    their scenario values. --objective profit: per SKU the level with the largest mean profit
    (Brent-style search), stopping when the rest cannot be told apart.

    \b
    The table shows each level, its safety stock (level − mean demand over the protection
    period), the metric's interval at the recommended levels, the formula's level and the
    scenario's, then the strategy's total cost and profit at these levels against the
    scenario's levels (paired differences).

    \b
    Writes optimize.json (what --format json prints) and optimize.csv (one row per strategy ×
    SKU × node) to --out [default: results/<name>/<UTC time>-optimize/].
    """
    from sim import montecarlo
    from sim import optimize as opt
    from sim.budget import check_optimize
    from sim.estimate import optimize_estimate, searched_nodes, worth_a_pilot
    from sim.loader import load_scenario
    from sim.model import compile_scenario

    check_backend(backend, scheduler)
    if objective == "target":
        if target is None:
            raise UserError(("--target", "give a target, e.g. --target cycle_service_level>=0.95"))
        goal = opt.Objective(opt.parse_target(target))
    else:
        if target is not None:
            raise UserError(("--target", "not used with --objective profit"))
        goal = opt.Objective(None)
    if every_month and (goal.target is None or goal.target.metric not in EVERY_MONTH):
        raise UserError(
            ("--every-month", "needs --target fill_rate>=V or --target cycle_service_level>=V")
        )
    if reps is not None and reps < 2:
        raise UserError(("--reps", "optimize needs at least 2 replications (for an interval)"))
    loaded = load_scenario(scenario, allow_outside_files)
    sc = _override(loaded.scenario, reps, seed)
    if sc.uncertainty is not None:
        where = next(iter(sc.uncertainty.describe()))
        raise UserError((where, "optimize does not draw uncertain numbers: write a number here"))
    workers = workers or montecarlo.default_workers()
    echo = None if quiet else _note
    shape, need = check_optimize(sc, workers, backend, scheduler, echo, timed=False)
    model = compile_scenario(sc)
    chosen = opt.select_strategies(model, strategies)
    if estimate or (echo is not None and worth_a_pilot(shape, workers)):
        searched = searched_nodes(sc, chosen, every_month)
        est = optimize_estimate(model, shape, need, workers, searched, backend)
        if estimated(est, estimate, "optimization"):
            return
    progress = StatusLine(quiet)

    out = out or _optimize_out(sc.name)
    interrupts.hold()  # from here on a signal stops the search only, never the writes
    with outdir.claimed(out, force):  # checked before simulating
        rep = opt.optimize(
            sc,
            model,
            goal,
            chosen,
            workers=workers or montecarlo.default_workers(),
            progress=progress,
            scenario_info={"name": sc.name, "sha256": loaded.sha256},
            backend=backend,
            scheduler=scheduler,
        )
        text = lambda: opt.tables(rep)  # noqa: E731
        if every_month:
            text = _every_month(sc, model, chosen, goal, rep, progress)
        progress.clear()
        emit(out, "optimize", rep, opt.csv_rows(rep), text, fmt, force)
    if not rep["complete"]:
        click.echo(
            f"interrupted: kept {len(rep['strategies'])} finished strategies in {out}", err=True
        )
        sys.exit(interrupts.exit_code())
    stopped_after(out)


def _every_month(sc, model, chosen, goal, rep, progress):
    """Add each strategy's ``every_month`` search to ``rep``; the tables with it."""
    from sim import optimize as opt
    from sim import season_search

    lines = []
    for s in chosen:
        name = model.strategies[s].name
        if name not in rep["strategies"]:
            continue  # interrupted before this strategy
        entry = season_search.search(sc, model, s, goal.target.metric, goal.target.value, progress)
        rep["strategies"][name]["every_month"] = entry
        lines.append(season_search.table(name, entry))
    return lambda: opt.tables(rep) + "\n\n" + "\n\n".join(lines)


def _optimize_out(name: str) -> Path:
    path = default_out(name)
    return path.with_name(path.name + "-optimize")
