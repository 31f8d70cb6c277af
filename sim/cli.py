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
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, TypeVar

import click

from sim import interrupts, outdir
from sim.errors import UserError, format_problem, printable, shorten


class LazyGroup(click.Group):
    """A click group whose heavier commands are imported only when used."""

    lazy: ClassVar[dict[str, str]] = {
        "fees": "sim.fees_command:fees",
        "sweep": "sim.sweep_command:sweep",
        "optimize": "sim.optimize_command:optimize",
        "assign": "sim.assign_command:assign",
        "sensitivity": "sim.sensitivity_command:sensitivity",
        "import-orders": "sim.import_orders:import_orders",
        "init": "sim.init_command:init",
    }

    # the first paragraph of each lazy command's help: what the group's --help lists, without
    # importing the command (``optimize`` alone took longer to import than the rest of start-up);
    # tests/test_cli.py checks them against the commands
    summaries: ClassVar[dict[str, str]] = {
        "fees": "FBA size tier and fee breakdown of one product (Amazon US); with --channel mcf, "
        "its Multi-Channel Fulfillment fee.",
        "sweep": "Rerun SCENARIO over a grid of --set values; tables per strategy and break-evens.",
        "optimize": "Find, per strategy, SKU and stocked node, the smallest order-up-to level "
        "whose per-SKU METRIC interval lower bound reaches the --target (or, with --objective "
        "profit, the level with the largest mean profit).",
        "assign": "Choose, for every SKU, one of the candidate --routes, starting from the "
        "--strategy template, to maximise expected profit (or minimise cost, or profit subject to "
        "constraints).",
        "sensitivity": "Which inputs decide SCENARIO's recommendation: one input at a time at a "
        "low and a high value, the profit difference between the best strategy and the runner-up "
        "at each, and whether the winner changes (a tornado chart, ordered by swing).",
        "import-orders": "Fit per-SKU demand from an Amazon order report and print a `skus:` "
        "section.",
        "init": "Write a commented starter scenario that validates and runs as written.",
    }
    listing = False

    def list_commands(self, ctx):
        return sorted([*super().list_commands(ctx), *self.lazy])

    def format_commands(self, ctx, formatter):
        self.listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self.listing = False

    def get_command(self, ctx, name):
        if self.listing and name in self.summaries:
            return click.Command(name, help=self.summaries[name])
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


estimate_option = click.option(
    "--estimate",
    is_flag=True,
    help="Print how long the command would take and the memory it needs (estimate: about N s, "
    "M MB on W workers), from a short timed pilot, and exit without running.",
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
@estimate_option
@click.option(
    "--explain",
    is_flag=True,
    help="After the table, say in plain words what its numbers mean (mean ± half-width, paired "
    "difference, wins, service levels, counted days).",
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
    estimate,
    explain,
    allow_outside_files,
) -> None:
    """Run every strategy of SCENARIO and compare them."""
    with paused_collector():
        from sim import montecarlo
        from sim.estimate import run_estimate, worth_a_pilot
        from sim.results import summarize, write_results
        from sim.table import comparison_table

        echo = None if quiet else _note
        workers = workers or montecarlo.default_workers()
        job = dict(
            scenario=scenario,
            allow_outside_files=allow_outside_files,
            reps=reps,
            seed=seed,
            replication=replication,
            precision=precision,
            max_reps=max_reps,
            backend=backend,
            scheduler=scheduler,
            workers=workers,
            echo=echo,
        )
        ready = read_apart(scenario, prepare_run, **job)
        model, shape, need, target = ready.model, ready.shape, ready.need, ready.target
        name, horizon, warmup = ready.name, ready.horizon_days, ready.warmup_days
        sha256, path = ready.sha256, ready.path
    if estimate or (echo is not None and worth_a_pilot(shape, workers)):
        est = run_estimate(model, shape, need, workers, backend, report=not no_report)
        if estimated(est, estimate):
            return
    if check:
        model = dataclasses.replace(model, check=True)
    out = out or default_out(name)
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
        summary = summarize(results, name, sha256, horizon, warmup)
        if target is not None:
            summary["precision"] = target.record(results.totals, model.confidence)
        if replication is not None:
            summary["rerun_replication"] = replication
        outdir.clear(out, force)
        write_results(out, summary, results)
        if results.plan is not None and results.plan.problem:
            click.echo(f"plan.csv not written: {results.plan.problem}", err=True)
        if not no_report:
            from sim.report import write_report  # lazy: --no-report never imports matplotlib

            text = path.read_bytes().decode("utf-8-sig", errors="replace")
            write_report(out, summary, results, text, shown_recommendation(summary))
    if fmt == "json":
        click.echo((out / "summary.json").read_text(encoding="utf-8"), nl=False)
    elif not quiet:
        from sim.i18n import t

        shown = {**summary, "recommendation": shown_recommendation(summary)}
        click.echo(comparison_table(shown))
        if explain:
            from sim.glossary import glossary_text

            click.echo("\n" + glossary_text(summary))
        click.echo("\n" + t("Results: {out}", out=out))
    if target is not None and results.complete and not quiet:
        _note(precision_line(summary["precision"], results.replications, target.max_reps))
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
            f"interrupted: kept {count(results.replications, 'finished replication')} in {out}",
            err=True,
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
    with paused_collector():
        from sim.budget import Need, check_memory, shape_of
        from sim.loader import load_scenario
        from sim.model import compile_scenario

        sc = load_scenario(scenario, allow_outside_files).scenario
        shape = shape_of(sc)  # compiling alone must fit
        check_memory(Need(model=shape.model_bytes, workers=0, results=0, workers_count=1), shape)
        compile_scenario(sc)  # fee tables: every SKU priced on every day of the run
    from sim.i18n import language, t

    for loc, note in notes(sc):
        click.echo(f"{loc}: {t('note')}: {note}", err=True)
    if language() != "en":
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
        return
    sizes = ", ".join(
        count(n, word)
        for n, word in (
            (len(sc.skus), "SKU"),
            (len(sc.nodes), "node"),
            (len(sc.strategies), "strategy"),
        )
    )
    click.echo(
        f"ok: {sc.name}: {sizes}, {count(sc.replications, 'replication')} × "
        f"{count(sc.horizon_days, 'day')}"
    )


def count(n: int, word: str) -> str:
    """``1 node``, ``2 nodes``, ``1 strategy``, ``3 strategies``."""
    if n == 1:
        return f"1 {word}"
    plural = word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"
    return f"{n} {plural}"


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
        if node.type == "awd":
            out.append(
                (
                    f"nodes.{name}",
                    t(
                        "AWD fees from sim/fees/data/awd.yaml: Amazon's 2025-04-01 rates, carried "
                        "on after 2025-09-30 as unverified defaults (see README, 'Amazon fees'); "
                        "replace them with fee_overrides: {awd: …}"
                    ),
                )
            )
    mcf = {
        c
        for st in sc.strategies
        for c, route in st.channel_fulfil_from.items()
        if any(sc.nodes[n].type == "fba" and sc.nodes[n].amazon_fees for n in route)
    }
    for channel in sorted(mcf):
        out.append(
            (
                f"channels.{channel}",
                t(
                    "Multi-Channel Fulfillment fees from an undated Amazon table (help page "
                    "201112650), unverified defaults; replace them with fee_overrides.mcf (see "
                    "README, 'Other sales channels')"
                ),
            )
        )
    if sc.uncertainty is not None:
        from sim.uncertain import describe_dist

        for where, spec in sc.uncertainty.describe().items():
            out.append(
                (
                    where,
                    t("uncertain: {dist}, drawn once per replication", dist=describe_dist(spec)),
                )
            )
    return out


# A scenario file this large (about 4,000 SKUs) is read, checked and compiled in a child process
# that sends back what the command needs (run: the compiled model; sweep: the packed grid
# points): the validated objects of a large catalog are freed once used, but the allocator
# keeps their pages in the process that made them (about 100 MB at 10,000 SKUs, held through
# the whole simulation otherwise)
PREPARE_APART_BYTES = 2**20
T = TypeVar("T")


class Prepared(NamedTuple):
    """What ``run`` needs of its scenario once compiled (the validated objects stay behind)."""

    model: Any
    shape: Any
    need: Any
    target: Any  # montecarlo.Precision or None
    name: str
    horizon_days: int
    warmup_days: int
    sha256: str
    path: Path


def prepare_run(
    *,
    scenario,
    allow_outside_files,
    reps,
    seed,
    replication,
    precision,
    max_reps,
    backend,
    scheduler,
    workers,
    echo,
) -> Prepared:
    """``run``'s scenario file to its compiled model: load, apply the options, check the
    memory (``echo`` prints the notes) and compile."""
    from sim.budget import check_run
    from sim.loader import load_scenario
    from sim.model import compile_scenario

    loaded = load_scenario(scenario, allow_outside_files)
    sc = _override(loaded.scenario, reps, seed)
    if replication is not None:
        if reps is not None or precision is not None:
            raise UserError(("--replication", "runs one replication: drop --reps / --precision"))
        sc = sc.model_copy(update={"replications": 1})
    target = _precision(precision, max_reps, sc.replications)
    check_backend(backend, scheduler)
    # before compiling: the model's arrays over days × SKUs are the first large ones
    cap = None if target is None else target.max_reps
    shape, need = check_run(sc, workers, backend, scheduler, echo, cap, timed=False)
    model = compile_scenario(sc)
    return Prepared(
        model,
        shape,
        need,
        target,
        sc.name,
        sc.horizon_days,
        sc.warmup_days,
        loaded.sha256,
        loaded.path,
    )


def read_apart(scenario: Path, fn: Callable[..., T], /, **job) -> T:
    """``fn(**job)``, which reads the file ``scenario``: in a child process when the file is
    large (``PREPARE_APART_BYTES``), so that the pages of reading it die with the child; here
    otherwise. ``fn`` and what it returns must pickle; a mistake comes back as the same
    ``UserError``."""
    file = Path(scenario)
    try:
        large = file.is_file() and file.stat().st_size >= PREPARE_APART_BYTES
    except (OSError, ValueError):  # reading it here says why
        large = False
    if not large:
        return fn(**job)
    from sim.workers import Pool

    with Pool(1) as pool:
        return next(pool.imap(_call, [(fn, job)]))


def _call(task: tuple[Callable, dict]):
    fn, job = task  # a worker's task: one argument
    return fn(**job)


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


def estimated(est, estimate: bool, what: str = "run") -> bool:
    """With ``--estimate``: print the estimate and return True (the command stops there);
    without: the note before a command longer than a minute, and False."""
    from sim.estimate import long_note

    if estimate:
        click.echo(est.line())
        return True
    note = long_note(est, what)
    if note:
        _note(f"note: {note}")
    return False


class StatusLine:
    """A progress line on stderr, rewritten in place; only on a terminal, never with --quiet."""

    def __init__(self, quiet: bool):
        self.show = not quiet and sys.stderr.isatty()

    def __call__(self, text: str) -> None:
        if self.show:
            click.echo(f"\r\033[K{text}", err=True, nl=False)

    def clear(self) -> None:
        self.__call__("")


def check_backend(backend: str, scheduler: str | None) -> None:
    """``--scheduler`` belongs to ``--backend dask``."""
    if scheduler is not None and backend != "dask":
        raise UserError(("--scheduler", "only used with --backend dask"))


def precision_line(p: dict, replications: int, cap: int) -> str:
    """What ``--precision`` reached: the target met, or where ``--max-reps`` stopped short."""
    from sim.table import fmt, kind_of

    kind = kind_of(p["metric"])

    def half(x: float | None) -> str:
        if x is None:
            return "unknown (fewer than two replications)"
        return fmt(x, kind) if kind == "money" else f"{x:,.4g}"

    if p["reached"]:
        return (
            f"precision: every strategy's {p['metric']} interval is within ± {half(p['target'])} "
            f"after {replications:,} replications (widest ± {half(p['half_width'])})"
        )
    return (
        f"precision: NOT reached: --max-reps {cap:,} stopped the run before every strategy's "
        f"{p['metric']} interval was within ± {half(p['target'])}; the widest is "
        f"± {half(p['half_width'])} after {replications:,} replications (raise --max-reps, "
        "or accept a wider interval)"
    )


MIN_HALF_WIDTH = 1e-9  # rates are shares: 1e-9 is already beyond any reachable precision
MAX_HALF_WIDTH = 1e12


def _precision(spec: str | None, max_reps: int | None, replications: int):
    """``--precision METRIC=HALF_WIDTH`` as a ``montecarlo.Precision`` (None when not given)."""
    from sim.metric_names import METRICS
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
