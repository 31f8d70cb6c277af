"""The ``sensitivity`` command: which inputs decide the recommendation (tornado chart)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sim import interrupts, outdir
from sim.cli import (
    _note,
    _progress,
    check_backend,
    default_out,
    emit,
    estimate_option,
    estimated,
    read_apart,
    run_options,
    stopped_after,
)
from sim.errors import UserError


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--vary",
    "varies",
    multiple=True,
    metavar="KEY=LOW,HIGH",
    help="An input and its low and high values, e.g. skus.*.demand.prime_uplift=0,0.3 or "
    "nodes.home.pick_pack_per_order=x0.7,x1.3 (repeatable) [default: a standard set].",
)
@estimate_option
@run_options
def sensitivity(
    scenario,
    varies,
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
    """Which inputs decide SCENARIO's recommendation: one input at a time at a low and a high
    value, the profit difference between the best strategy and the runner-up at each, and
    whether the winner changes (a tornado chart, ordered by swing).

    \b
    KEY is a dotted path into the scenario file as in sweep --set (mapping keys, list indices,
    * for every item); LOW and HIGH are YAML scalars, or xF to multiply the key's numbers by F.
    The scenario, every low and every high run with the same seed and replications (common
    random numbers): differences are paired. Best and runner-up are ranked by mean profit at
    the scenario.

    \b
    Without --vary: Prime uplift 0 … 0.1 (or twice the scenario's largest), FBA fee level
    x0.9 … x1.1 (every fulfilment fee of the fee tables), storage rates x0.8 … x1.2 (FBA and own
    nodes), lead time x0.75 … x1.25 (lane legs and lead_time_days), demand x0.7 … x1.3
    (mean_per_day), own pick & pack x0.7 … x1.3; those that do not apply are skipped (and said).

    \b
    Writes sensitivity.json (what --format json prints), sensitivity.csv (one row per input),
    chart-tornado.png and sensitivity.html to --out [default: results/<name>/<UTC time>-
    sensitivity/].
    """
    from sim import montecarlo
    from sim import sensitivity as se
    from sim.budget import check_sweep
    from sim.estimate import sweep_estimate, worth_a_pilot
    from sim.results import write_atomic

    check_backend(backend, scheduler)
    overrides = {k: v for k, v in (("replications", reps), ("seed", seed)) if v is not None}
    plan, skipped, sha256 = read_apart(
        scenario,
        _plan,
        scenario=scenario,
        varies=varies,
        overrides=overrides,
        allow_outside_files=allow_outside_files,
    )
    inputs, scenarios = plan.inputs, plan.scenarios
    workers = workers or montecarlo.default_workers()
    echo = None if quiet else _note
    shapes, need = check_sweep(scenarios, workers, backend, scheduler, echo, timed=False)
    if estimate or (echo is not None and worth_a_pilot(shapes[0], workers * len(shapes))):
        est = sweep_estimate(scenarios, shapes, need, workers, backend)
        if estimated(est, estimate, "sensitivity analysis"):
            return
    total = sum(shape.replications for shape in shapes)
    out = out or _out(plan.name)
    interrupts.hold()  # from here on a signal stops the simulation only, never the writes
    with outdir.claimed(out, force):  # checked before simulating
        with _progress(total, quiet) as bar:
            results, complete = se.run_plan(plan, workers, bar.update, backend, scheduler)
        info = {"name": plan.name, "sha256": sha256}
        rep = se.report(plan, results, complete, info, skipped)
        text = se.table(rep, inputs)
        emit(out, "sensitivity", rep, se.csv_rows(rep), lambda: text, fmt, force)
        from sim.sensitivity_report import PAGE, page, tornado_chart  # matplotlib: lazily

        chart = tornado_chart(rep)
        if chart is not None:
            write_atomic(out / chart.name, chart.png)
        write_atomic(out / PAGE, page(rep, chart, text))
    if not complete:
        done = len(rep["inputs"])
        click.echo(f"interrupted: kept the {done} inputs whose runs finished in {out}", err=True)
        sys.exit(interrupts.exit_code())
    stopped_after(out)


def _plan(scenario: Path, varies, overrides: dict, allow_outside_files: bool):
    """The runs to make (``sensitivity.Plan``), the default inputs skipped and why, and the
    scenario file's sha256 (the file's parsed data and the base scenario's objects are not kept
    past this)."""
    from sim import sensitivity as se
    from sim.loader import read_scenario, validate

    inputs = se.parse_varies(varies)
    data, lines, sha256 = read_scenario(Path(scenario))  # read and parsed once
    folder = Path(scenario).parent
    # the file's own problems first, located as in any command (validating leaves data as it is)
    base = validate(data, lines, folder, allow_outside_files)
    skipped: list[tuple[str, str]] = []
    if not inputs:
        inputs, skipped = se.defaults(data, base)
        if not inputs:
            raise UserError(("--vary", "none of the default inputs applies: give --vary"))
    plan = se.prepare(data, lines, folder, inputs, overrides, allow_outside_files)
    return plan, skipped, sha256


def _out(name: str) -> Path:
    path = default_out(name)
    return path.with_name(path.name + "-sensitivity")
