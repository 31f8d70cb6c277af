"""The ``sweep`` command: rerun a scenario over a grid of values, with break-even points."""

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
from sim.metric_names import BREAK_EVEN_METRICS, METRICS


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--set",
    "sets",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2,...",
    help="Dotted path and values, e.g. skus.*.demand.mean_per_day=5,10,20 (repeatable).",
)
@click.option(
    "--break-even-metric",
    "metrics",
    multiple=True,
    type=click.Choice(METRICS),
    metavar="METRIC",
    help="A metric of summary.json to find break-evens on (repeatable) "
    f"[default: {', '.join(BREAK_EVEN_METRICS)}].",
)
@run_options
@estimate_option
def sweep(
    scenario,
    sets,
    metrics,
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
    """Rerun SCENARIO over a grid of --set values; tables per strategy and break-evens.

    \b
    KEY is a dotted path into the scenario file: mapping keys, list indices, or * for every
    list item / mapping value (skus.*.demand.mean_per_day, strategies.0.replenish.fba.policy.level,
    nodes.*.order_cost). The key must be in the file; values are YAML scalars (12, 0.5, true,
    poisson). Every grid point uses the same seed: replication i sees the same random numbers at
    every point (common random numbers).

    \b
    A break-even is where the paired difference strategy − baseline on a metric changes sign
    between grid values (linear interpolation); its interval is where the confidence band of
    the mean difference still holds 0 (open "below/above the grid" when the band does not close
    within it). replications_crossing counts the replications whose own curve changes sign.

    \b
    Several --set options sweep their Cartesian product (the last varies fastest). Then in
    sweep.json "parameter" is the list of keys, every value is a list with one item per key,
    and break-evens are along the first KEY at each combination of the others (their values in
    "at").

    \b
    Writes sweep.json (what --format json prints) and sweep.csv (one row per grid point ×
    strategy × metric) to --out [default: results/<name>/<UTC time>-sweep/].
    """
    from sim import montecarlo
    from sim import sweep as sw
    from sim.budget import check_sweep
    from sim.estimate import sweep_estimate, worth_a_pilot

    check_backend(backend, scheduler)
    params = sw.parse_sets(sets)
    overrides = {k: v for k, v in (("replications", reps), ("seed", seed)) if v is not None}
    scenarios, sha256 = read_apart(
        scenario,
        _grid,
        scenario=scenario,
        params=params,
        overrides=overrides,
        allow_outside_files=allow_outside_files,
    )
    workers = workers or montecarlo.default_workers()
    echo = None if quiet else _note
    shapes, need = check_sweep(scenarios, workers, backend, scheduler, echo, timed=False)
    if estimate or (echo is not None and worth_a_pilot(shapes[0], workers * len(shapes))):
        est = sweep_estimate(scenarios, shapes, need, workers, backend)
        if estimated(est, estimate, "sweep"):
            return
    total = sum(shape.replications for shape in shapes)
    name = shapes[0].name
    out = out or _sweep_out(name)
    interrupts.hold()  # from here on a signal stops the simulation only, never the writes
    with outdir.claimed(out, force):  # checked before simulating
        with _progress(total, quiet) as bar:
            results, complete = sw.run_points(
                scenarios,
                workers or montecarlo.default_workers(),
                bar.update,
                backend=backend,
                scheduler=scheduler,
            )
        info = {"name": name, "sha256": sha256}
        rep = sw.report(params, results, complete, info, metrics or BREAK_EVEN_METRICS)
        emit(out, "sweep", rep, sw.csv_rows(rep), lambda: sw.tables(rep), fmt, force)
    if not complete:
        click.echo(f"interrupted: kept {len(results)} finished grid points in {out}", err=True)
        sys.exit(interrupts.exit_code())
    stopped_after(out)


def _grid(scenario: Path, params, overrides: dict, allow_outside_files: bool):
    """The grid's validated points, packed, and the scenario file's sha256 (the file's parsed
    data and the base scenario's objects are not kept past this)."""
    from sim import sweep as sw
    from sim.loader import read_scenario, validate

    data, lines, sha256 = read_scenario(Path(scenario))  # read and parsed once
    folder = Path(scenario).parent
    # the file's own problems first, located as in any command (validating leaves data as it is)
    validate(data, lines, folder, allow_outside_files)
    points = sw.prepare(data, lines, folder, params, overrides, allow_outside_files)
    return points, sha256


def _sweep_out(name: str) -> Path:
    path = default_out(name)
    return path.with_name(path.name + "-sweep")
