"""The command line: ``python simulate.py COMMAND`` or ``fulfilsim COMMAND``.

Every user mistake surfaces as ``location: problem`` lines on stderr with exit code 2; internal
errors keep their traceback and exit 1.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import importlib
import json
import re
import sys
from pathlib import Path
from typing import ClassVar

import click

from sim import interrupts, outdir
from sim.errors import UserError, format_problem, printable, shorten


class LazyGroup(click.Group):
    """A click group whose heavier commands are imported only when used."""

    lazy: ClassVar[dict[str, str]] = {
        "fees": "sim.fees.command:fees",
        "sweep": "sim.sweep_command:sweep",
        "optimize": "sim.optimize_command:optimize",
        "import-orders": "sim.import_orders:import_orders",
        "init": "sim.init_command:init",
    }

    def list_commands(self, ctx):
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx, name):
        if name in self.lazy:
            module, attr = self.lazy[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="fulfilsim")
def cli() -> None:
    """fulfilsim: compare Amazon fulfilment strategies (FBA, FBM, SFP, 3PL, hybrids) by Monte
    Carlo simulation, with confidence intervals and paired differences."""


allow_outside_option = click.option(
    "--allow-outside-files",
    is_flag=True,
    help="Let the scenario read files outside its own folder (e.g. an empirical demand file).",
)


def _language(ctx, param, value):
    """``--lang`` (or ``FULFILSIM_LANG``) checked and made the language of the command."""
    import os

    from sim import i18n

    if value is None:  # the option wins over the environment
        lang = i18n.parse(os.environ.get(i18n.ENV), i18n.ENV)
    else:
        lang = i18n.parse(value, "--lang")
    i18n.use(lang)
    return lang


lang_option = click.option(
    "--lang",
    metavar="en|zh",
    is_eager=True,
    expose_value=False,
    callback=_language,
    help="Language of the table, the recommendation, the messages and the report: en "
    "(default) or zh (Chinese) [env: FULFILSIM_LANG]. Metric keys and files stay English.",
)


def _out_folder(ctx, param, value):
    """``--out`` as a Path; an empty value is refused (it would mean the current folder)."""
    if value is None:
        return None
    if not value.strip():
        raise UserError(("--out", "is empty: give a folder, e.g. --out results/mine"))
    return Path(value)


def run_options(f):
    """Options shared by the commands that simulate."""
    options = [
        allow_outside_option,
        click.option(
            "--reps",
            type=click.IntRange(1, 100_000),
            help="Replications (overrides the scenario's).",
        ),
        click.option(
            "--seed",
            type=click.IntRange(0, 2**63 - 1),
            help="Random seed (overrides the scenario's).",
        ),
        click.option(
            "--workers",
            type=click.IntRange(1, 1024),
            help="Local worker processes [default: all cores].",
        ),
        click.option(
            "--backend",
            type=click.Choice(["local", "dask"]),
            default="local",
            show_default=True,
            help="Where replications run: local processes, or Dask (pip install "
            "'fulfilsim[dask]').",
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            help="Dask scheduler, e.g. tcp://10.0.0.5:8786 [default: a local Dask cluster].",
        ),
        click.option(
            "--out",
            type=click.Path(),  # checked by outdir.prepare: one `--out: problem` line
            callback=_out_folder,
            help="Results folder [default: results/<name>/<UTC time>/]; it must not hold "
            "results yet (see --force).",
        ),
        click.option(
            "--force",
            is_flag=True,
            help="Replace the results an existing --out folder holds (all of them).",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["table", "json"]),
            default="table",
            show_default=True,
            help="What goes to stdout; json = the command's JSON file (summary.json for run).",
        ),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@run_options
@click.option(
    "--no-report",
    is_flag=True,
    help="Write summary.json and the CSV files only (no report.html, no charts).",
)
@click.option(
    "--precision",
    metavar="METRIC=HALF_WIDTH",
    help="Add replications until every strategy's interval on METRIC is this narrow "
    "(e.g. profit=500 or fill_rate=0.002).",
)
@click.option(
    "--max-reps",
    type=click.IntRange(1, 100_000),
    help="Cap on replications with --precision [default: 10 × the scenario's, at most 100,000].",
)
@click.option(
    "--check",
    is_flag=True,
    help="Check stock conservation every simulated day; stop at the first violation.",
)
@click.option(
    "--replication",
    type=click.IntRange(0, 10_000_000),
    metavar="N",
    help="Run replication N alone (same random numbers as in a full run): to rerun a failure.",
)
@lang_option
def run(
    scenario,
    reps,
    seed,
    workers,
    backend,
    scheduler,
    out,
    force,
    fmt,
    quiet,
    no_report,
    precision,
    max_reps,
    check,
    replication,
    allow_outside_files,
) -> None:
    """Run every strategy of SCENARIO and compare them."""
    with paused_collector():
        from sim import montecarlo
        from sim.budget import check_run
        from sim.loader import load_scenario
        from sim.model import compile_scenario
        from sim.results import summarize, write_results
        from sim.table import comparison_table

        loaded = load_scenario(scenario, allow_outside_files)
        sc = _override(loaded.scenario, reps, seed)
        if replication is not None:
            if reps is not None or precision is not None:
                raise UserError(
                    ("--replication", "runs one replication: drop --reps / --precision")
                )
            sc = sc.model_copy(update={"replications": 1})
        target = _precision(precision, max_reps, sc.replications)
        check_backend(backend, scheduler)
        workers = workers or montecarlo.default_workers()
        # before compiling: the model's arrays over days × SKUs are the first large ones
        cap = None if target is None else target.max_reps
        check_run(sc, workers, backend, scheduler, None if quiet else _note, cap)
        model = compile_scenario(sc)
    if check:
        model = dataclasses.replace(model, check=True)
    out = out or default_out(sc.name)
    interrupts.hold()  # from here on a signal stops the simulation only, never the writes
    with outdir.claimed(out, force):  # checked before simulating
        with _progress(model.replications, quiet) as bar:
            results = montecarlo.run(
                model,
                workers=workers,
                progress=bar.update,
                precision=target,
                more=bar.extend,
                backend=backend,
                scheduler=scheduler,
                first=replication or 0,
            )
        summary = summarize(results, sc.name, loaded.sha256, sc.horizon_days, sc.warmup_days)
        outdir.clear(out, force)
        write_results(out, summary, results)
        if not no_report:
            from sim.report import write_report  # lazy: --no-report never imports matplotlib

            text = loaded.path.read_bytes().decode("utf-8-sig", errors="replace")
            write_report(out, summary, results, text, shown_recommendation(summary))
    if fmt == "json":
        click.echo((out / "summary.json").read_text(encoding="utf-8"), nl=False)
    elif not quiet:
        from sim.i18n import t

        shown = {**summary, "recommendation": shown_recommendation(summary)}
        click.echo(comparison_table(shown))
        click.echo("\n" + t("Results: {out}", out=out))
    if results.error is not None:
        e = results.error
        click.echo(f"error: {e}", err=True)
        click.echo(
            f"kept the {results.replications} replications finished before it in {out}; rerun "
            f"it alone with: run {scenario} --seed {e.seed} --replication {e.replication}",
            err=True,
        )
        sys.exit(1)
    if not results.complete:
        click.echo(
            f"interrupted: kept {results.replications} finished replications in {out}", err=True
        )
        sys.exit(interrupts.exit_code())
    stopped_after(out)


def shown_recommendation(summary: dict) -> list[str] | None:
    """The recommendation in the current language (``summary.json`` keeps it in English)."""
    from sim import i18n

    if i18n.language() == i18n.DEFAULT or not summary.get("recommendation"):
        return summary.get("recommendation")
    from sim.decide import recommend

    return recommend(summary)


def stopped_after(out: Path) -> None:
    """Exit with the signal's code if one arrived after the work was done (while writing)."""
    if interrupts.received() is not None:
        click.echo(f"interrupted after the work was done: the results are all in {out}", err=True)
        sys.exit(interrupts.exit_code())


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@allow_outside_option
@lang_option
def validate(scenario, allow_outside_files) -> None:
    """Check SCENARIO; print one `location: problem` line per error (exit 2)."""
    from sim.budget import Need, check_memory, shape_of
    from sim.loader import load_scenario
    from sim.model import compile_scenario

    sc = load_scenario(scenario, allow_outside_files).scenario
    shape = shape_of(sc)  # compiling alone must fit
    check_memory(Need(model=shape.model_bytes, workers=0, results=0, workers_count=1), shape)
    compile_scenario(sc)  # fee tables: every SKU priced on every day of the run
    from sim.i18n import t

    for loc, note in notes(sc):
        click.echo(f"{loc}: {t('note')}: {note}", err=True)
    click.echo(
        t(
            "ok: {name}: {skus} SKUs, {nodes} nodes, {strategies} strategies, "
            "{reps} replications × {days} days",
            name=sc.name,
            skus=len(sc.skus),
            nodes=len(sc.nodes),
            strategies=len(sc.strategies),
            reps=sc.replications,
            days=sc.horizon_days,
        )
    )


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format (for editor completion)."""
    from sim.scenario import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def notes(sc) -> list[tuple[str, str]]:
    """Things worth knowing that are not errors (e.g. a SKU without a price earns no revenue)."""
    from sim.i18n import t

    out = []
    unpriced = [s.id for s in sc.skus if s.price is None]
    if unpriced:
        shown = ", ".join(unpriced[:3]) + (
            t(" and {n} more", n=len(unpriced) - 3) if len(unpriced) > 3 else ""
        )
        out.append(("skus", t("no price for {skus}: they count no revenue or profit", skus=shown)))
    for name, node in sc.nodes.items():
        if node.type == "fba" and node.amazon_fees:
            out.append(
                (
                    f"nodes.{name}",
                    t(
                        "Amazon fees from the bundled US tables; some values are unverified "
                        "defaults (see README, 'Amazon fees'); replace them with fee_overrides"
                    ),
                )
            )
    return out


def _override(sc, reps, seed):
    update = {}
    if reps is not None:
        update["replications"] = reps
    if seed is not None:
        update["seed"] = seed
    return sc.model_copy(update=update) if update else sc


def default_out(name: str) -> Path:
    """``results/<name>/<UTC timestamp>/`` with the name made safe for a folder."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "scenario"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path("results") / safe / stamp


@contextlib.contextmanager
def paused_collector():
    """Pause Python's cyclic garbage collector while starting up: importing the libraries and
    validating and compiling a scenario make many long-lived objects and almost no garbage, and
    about a hundred collections would only re-scan them (10-20 ms of every run)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int) -> None:
        pass

    def extend(self, n: int) -> None:
        pass


class _Bar:
    """click's progress bar, whose length can grow (adaptive precision adds replications)."""

    def __init__(self, total: int):
        self.bar = click.progressbar(
            length=total,
            label="replications",
            file=sys.stderr,
            show_eta=True,
            show_pos=True,
            width=30,
        )

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def update(self, n: int) -> None:
        self.bar.update(n)

    def extend(self, n: int) -> None:
        self.bar.length += n


def _progress(total: int, quiet: bool):
    if quiet or not sys.stderr.isatty():
        return _NoBar()
    return _Bar(total)


def emit(
    out: Path, stem: str, report: dict, rows: list[dict], table, fmt: str, force: bool = False
) -> None:
    """Write ``<stem>.json`` and ``<stem>.csv`` into ``out`` (replacing the results it held
    with ``force``) and print the JSON or the table (``table()`` is called only when needed):
    what ``sweep`` and ``optimize`` end with."""
    from sim.results import csv_text, write_atomic

    text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    outdir.clear(out, force)
    write_atomic(out / f"{stem}.json", text)
    write_atomic(out / f"{stem}.csv", csv_text(rows))
    if fmt == "json":
        click.echo(text, nl=False)
    else:
        click.echo(table())
        click.echo(f"\nResults: {out}")


def _note(text: str) -> None:
    click.echo(text, err=True)


def check_backend(backend: str, scheduler: str | None) -> None:
    """``--scheduler`` belongs to ``--backend dask``."""
    if scheduler is not None and backend != "dask":
        raise UserError(("--scheduler", "only used with --backend dask"))


MIN_HALF_WIDTH = 1e-9  # rates are shares: 1e-9 is already beyond any reachable precision
MAX_HALF_WIDTH = 1e12


def _precision(spec: str | None, max_reps: int | None, replications: int):
    """``--precision METRIC=HALF_WIDTH`` as a ``montecarlo.Precision`` (None when not given)."""
    from sim.metrics import METRICS
    from sim.montecarlo import Precision

    if spec is None:
        if max_reps is not None:
            raise UserError(("--max-reps", "only used with --precision"))
        return None
    metric, sep, value = spec.partition("=")
    metric = metric.strip()
    if not sep or metric not in METRICS:
        hint = "" if metric in METRICS else f"; metrics: {', '.join(METRICS)}"
        raise UserError(("--precision", f"expected METRIC=HALF_WIDTH, got {spec!r}{hint}"))
    try:
        half = float(value)
    except ValueError:
        half = float("nan")
    if not MIN_HALF_WIDTH <= half <= MAX_HALF_WIDTH:
        raise UserError(
            (
                "--precision",
                f"the half-width must be a number between {MIN_HALF_WIDTH:g} and "
                f"{MAX_HALF_WIDTH:g}, got {value!r}",
            )
        )
    cap = max_reps or min(100_000, 10 * replications)
    if cap < replications:
        raise UserError(("--max-reps", f"must be ≥ the replications ({replications})"))
    return Precision(metric, half, cap)


MAX_PROBLEMS = 100  # lines of one user error printed at most


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the click group, turning user mistakes into exit code 2 and SIGINT /
    SIGTERM into 130 / 143 (see ``sim.interrupts``)."""
    with interrupts.handled():
        _main(argv)


def _main(argv: list[str] | None) -> None:
    from sim import i18n

    i18n.use(i18n.DEFAULT)  # until a command's --lang (or FULFILSIM_LANG) says otherwise
    try:
        _command(argv)
    finally:
        i18n.use(i18n.DEFAULT)


def _command(argv: list[str] | None) -> None:
    try:
        cli.main(args=argv, prog_name="simulate.py", standalone_mode=False)
    except UserError as e:
        from sim.i18n import t

        for loc, problem in e.problems[:MAX_PROBLEMS]:
            click.echo(format_problem(loc, problem), err=True)
        if len(e.problems) > MAX_PROBLEMS:
            more = len(e.problems) - MAX_PROBLEMS
            click.echo(t("… and {n} more problems", n=f"{more:,}"), err=True)
        sys.exit(2)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.message = shorten(printable(e.message))  # a value the user typed, quoted back
        e.show()
        sys.exit(e.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("aborted", err=True)
        sys.exit(interrupts.exit_code())
