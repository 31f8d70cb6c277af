"""The ``init`` command: write a commented starter scenario from a bundled template.

Templates are YAML files in ``sim/templates/`` (shipped as package data). The first comment
line of each, ``# NAME: one-line question``, is what ``init --list`` shows.
"""

from __future__ import annotations

import difflib
import re
from importlib import resources
from pathlib import Path

import click

from sim.errors import UserError
from sim.outdir import check_target, write_file

DEFAULT_TEMPLATE = "fba-migration"
DEFAULT_OUT = Path("scenario.yaml")


def _folder():
    return resources.files("sim").joinpath("templates")


def templates() -> dict[str, str]:
    """Template name → its one-line description, in name order."""
    out = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            name = entry.name.removesuffix(".yaml")
            first = entry.read_text(encoding="utf-8").split("\n", 1)[0]
            out[name] = first.removeprefix("#").strip().removeprefix(f"{name}:").strip()
    return out


def template_text(name: str) -> str:
    """The text of template ``name``; ``UserError`` listing the templates if there is none."""
    known = templates()
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UserError(
            [("--template", f"unknown template {name!r}{hint}")]
            + [("", f"  {n:<14} {d}") for n, d in known.items()]
        )
    return _folder().joinpath(f"{name}.yaml").read_text(encoding="utf-8")


NAME_LINE = re.compile(r"^name: (?P<name>\S+)(?P<comment>\s+#.*)?$", re.MULTILINE)


def named(text: str, name: str) -> str:
    """A template's text with its scenario ``name`` replaced by ``name`` (the file's stem), so
    its results go to ``results/<file name>/`` and never mix with a bundled scenario's."""
    from sim.yaml_dialect import scalar  # PyYAML: not for --help

    value = scalar(name)  # "yes" or "1e5" quoted: bare, they would read back as true, 100000.0

    def put(m: re.Match) -> str:
        comment = m["comment"] or ""
        width = len(m["name"]) + len(comment) - len(comment.lstrip())
        gap = " " * max(1, width - len(value)) if comment else ""
        return f"name: {value}{gap}{comment.lstrip()}"

    return NAME_LINE.sub(put, text, count=1)


@click.command()
@click.option(
    "--template",
    "-t",
    default=DEFAULT_TEMPLATE,
    show_default=True,
    metavar="NAME",
    help="Which starter to write (see --list).",
)
@click.option(
    "--out",
    "-o",
    default=str(DEFAULT_OUT),
    show_default=True,
    metavar="FILE",
    help="Where to write it ('-' prints it).",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.option("--list", "list_", is_flag=True, help="List the templates and exit.")
def init(template, out, force, list_) -> None:
    """Write a commented starter scenario that validates and runs as written.

    \b
    Templates (each answers one question; --list shows them):
      fba-migration  ship it yourself (FBM) or move to FBA, keeping a home backup? [default]
      safety-stock   how much safety stock to keep in FBA?
      hybrid-3pl     all stock in FBA, or bulk in a 3PL that tops FBA up?
      sfp            Seller Fulfilled Prime, FBA or plain FBM?

    \b
    Then: python simulate.py validate scenario.yaml && python simulate.py run scenario.yaml
    """
    if list_:
        for name, description in templates().items():
            mark = "  [default]" if name == DEFAULT_TEMPLATE else ""
            click.echo(f"{name:<14} {description}{mark}")
        return
    text = template_text(template)
    if out == "-":
        click.echo(text, nl=False)
        return
    path = Path(out)
    check_target(path, force)
    if not path.parent.is_dir():  # check_target has looked in it: no OSError here
        raise UserError((str(path), f"folder {str(path.parent)!r} does not exist"))
    write_file(path, named(text, path.stem or template))
    shown = str(path) if " " not in str(path) else f'"{path}"'
    click.echo(f"wrote {path} (template {template})")
    click.echo(f"next: python simulate.py validate {shown} && python simulate.py run {shown}")
