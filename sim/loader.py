"""Read a scenario file safely and turn every mistake into ``location: problem`` lines.

YAML is parsed with PyYAML's safe loader (no Python object tags), on libyaml's C parser when
PyYAML has it and the text cannot nest deeply enough to exhaust the C stack. Files larger than
``MAX_FILE_BYTES`` are refused before parsing, and alias expansion ("billion laughs") is bounded
by counting the nodes the document expands to before anything is built.
"""

from __future__ import annotations

import collections
import difflib
import functools
import hashlib
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import YAML_VALUE_ERRORS, UserError, excerpt, printable
from sim.i18n import N_, t
from sim.scenario import (
    DEMAND_KINDS,
    DIST_KINDS,
    NODE_KINDS,
    POLICY_KINDS,
    TAG,
    CrossCheckError,
    Scenario,
    Strict,
)
from sim.scenario_files import (  # noqa: F401 - the helper every file-naming key uses
    ScenarioFileError,
    read_named,
    resolve_scenario_file,
)
from sim.yaml_dialect import ScenarioLoader, loader_for

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_EXPANDED_NODES = 5_000_000


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from."""

    scenario: Scenario
    path: Path
    sha256: str


def load_scenario(path: str | Path, allow_outside_files: bool = False) -> LoadedScenario:
    """Read, parse and validate a scenario file; raise ``UserError`` listing every problem.

    Files the scenario names must be inside its folder unless ``allow_outside_files``."""
    path = Path(path)
    data, lines, sha256 = read_scenario(path)
    return LoadedScenario(validate(data, lines, path.parent, allow_outside_files), path, sha256)


def read_scenario(path: Path) -> tuple[Any, dict[tuple, int], str]:
    """A scenario file parsed, not validated: its data, the line of every key path, and the
    sha256 of its bytes."""
    raw = read_named(path, MAX_FILE_BYTES, "scenarios")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UserError((str(path), t("not UTF-8 text (byte {byte})", byte=e.start))) from None
    data, lines = parse_yaml(text, str(path))
    return data, lines, hashlib.sha256(raw).hexdigest()


def parse_yaml(text: str, where: str = "<scenario>") -> tuple[Any, dict[tuple, int]]:
    """Parse YAML text into plain data, with a map from key paths to line numbers."""
    loader = node = None
    try:
        loader = loader_for(text)(text)
        node = loader.get_single_node()
        if node is None:
            raise UserError((where, t("the file is empty")))
        expanded = _expanded_size(node, {})
        if expanded > MAX_EXPANDED_NODES:
            raise UserError(
                (where, f"YAML aliases expand to over {MAX_EXPANDED_NODES:,} values; refusing")
            )
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = f"{line}{e.problem or e.context}"
        raise UserError((where, t("YAML syntax error: {problem}", problem=problem))) from None
    except yaml.YAMLError as e:
        raise UserError((where, f"YAML error: {e}")) from None
    except RecursionError:
        raise UserError((where, "YAML nested too deeply; refusing")) from None
    except YAML_VALUE_ERRORS as e:  # PyYAML's constructors raise plain exceptions
        raise UserError((where, _value_problem(node, e))) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise UserError(
            (where, t("a scenario is a mapping of keys (name:, skus:, nodes:, strategies: …)"))
        )
    lines: dict[tuple, int] = {}
    _record_lines(node, (), lines, depth=0)
    return data, lines


def _value_problem(root: yaml.Node | None, error: Exception) -> str:
    """Where and what the scalar is that PyYAML could not construct (``!!int`` with no digits,
    an impossible date): the first one in the document that fails on its own."""
    constructor, seen, stack = ScenarioLoader(""), set(), [root] if root else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend(reversed([n for pair in node.value for n in pair]))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        else:
            try:
                constructor.construct_object(node)
            except YAML_VALUE_ERRORS as e:
                mark, tag = node.start_mark, node.tag.rpartition(":")[2]
                why = f" ({e})" if isinstance(e, ValueError | OverflowError) else ""  # else noise
                return (
                    f"line {mark.line + 1}, column {mark.column + 1}: {excerpt(node.value)} "
                    f"is not a valid !!{tag} value{why}"
                )
    return f"YAML value not understood: {error}"


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # guards against recursive aliases
    if isinstance(node, yaml.MappingNode):
        _no_duplicate_keys(node)
        total = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        total = 1 + sum(_expanded_size(v, memo) for v in node.value)
    else:
        total = 1
    memo[key] = min(total, MAX_EXPANDED_NODES + 1)
    return memo[key]


def _no_duplicate_keys(node: yaml.MappingNode) -> None:
    seen: dict[str, int] = {}
    for k, _ in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value != "<<":
            line = k.start_mark.line + 1
            if k.value in seen:
                raise UserError(
                    (
                        f"line {line}",
                        t(
                            "duplicate key {key} (first on line {first})",
                            key=repr(k.value),
                            first=seen[k.value],
                        ),
                    )
                )
            seen[k.value] = line


def _record_lines(node: yaml.Node, path: tuple, lines: dict, depth: int) -> None:
    if depth > 12 or len(lines) > 200_000:
        return
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                lines[(*path, k.value)] = k.start_mark.line + 1
                _record_lines(v, (*path, k.value), lines, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _record_lines(v, (*path, i), lines, depth + 1)


def validate(
    data: dict,
    lines: dict[tuple, int] | None = None,
    base_dir: Path | None = None,
    allow_outside_files: bool = False,
) -> Scenario:
    """Validate plain data as a ``Scenario``; raise ``UserError`` with one line per problem.

    Files the scenario names are looked up from ``base_dir`` (default: the working folder) and
    must lie inside it unless ``allow_outside_files`` (see ``resolve_scenario_file``). Uncertain
    numbers (``{uncertain: …}``, ``sim.uncertain``) are checked over their whole range; the
    scenario returned holds them at their centres and carries them in ``uncertainty``.
    """
    from sim import uncertain

    inputs = uncertain.find(data)
    if not inputs:
        return validate_plain(data, lines, base_dir, allow_outside_files)
    base_dir = base_dir or Path.cwd()
    context = {"base_dir": base_dir, "allow_outside_files": allow_outside_files}
    scenario, inputs = uncertain.check(
        data,
        inputs,
        lambda d: validate_plain(d, lines, base_dir, allow_outside_files),
        context,
    )
    scenario._uncertain = uncertain.Uncertainty(data, tuple(inputs), base_dir, allow_outside_files)
    return scenario


def validate_plain(
    data: dict,
    lines: dict[tuple, int] | None = None,
    base_dir: Path | None = None,
    allow_outside_files: bool = False,
) -> Scenario:
    """``validate`` for data without uncertain numbers."""
    lines = lines or {}
    context = {"base_dir": base_dir or Path.cwd(), "allow_outside_files": allow_outside_files}
    try:
        return Scenario.model_validate(data, context=context)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        misspelt = _misspelt_keys(errors, data)
        members = _member_errors(errors, data)
        problems = []
        for err in errors:
            if err["type"] == "missing" and _strip_tags(err["loc"], data) in misspelt:
                continue  # the unknown-key line already says "did you mean" this key
            if _wrong_member(err, members, data):
                continue  # another member of the union fits the value's kind and says what's wrong
            problems.extend(_describe(err, data, lines))
        raise UserError(_dedupe(problems)) from None


# pydantic names the member of a union it tried in the location: ``dict[literal[...],...]``,
# ``list[constrained-float]``, ``function-after[...]``, ``float``, a model's class name…
_MEMBER = re.compile(
    r"^[a-z]+(?:[-_][a-z]+)*\[.*\]$|^[a-z]+-[a-z-]+$"
    r"|^(?:float|int|str|bool|none|date|datetime|decimal|bytes|any)$"
)


def _member_name(part: Any) -> bool:
    """Whether a location part is pydantic's name of a union member (a type or a model)."""
    return isinstance(part, str) and (bool(_MEMBER.match(part)) or part in _model_names())


@functools.cache
def _model_names() -> frozenset[str]:
    names, todo = set(), [Strict]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return frozenset(names)


def _strip_tags(loc: tuple, data: Any = None) -> tuple:
    """``loc`` as the user's keys and indices: the discriminator tags, pydantic's names of union
    members and the ``[key]`` marker of a bad mapping key are left out."""
    out, node = [], data
    for p in loc:
        if isinstance(p, str) and (p.startswith(TAG) or p == "[key]"):
            continue
        present = _has(node, p)
        if not present and _member_name(p):
            continue
        out.append(p)
        node = node[p] if present else None
    return tuple(out)


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        try:
            return part in node
        except TypeError:
            return False
    return isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node)


def _union_member(loc: tuple) -> bool:
    return any(_member_name(p) for p in loc)


def _member_errors(errors: list[dict], data: Any) -> collections.Counter:
    """How many errors from members of a union lie at or below each location."""
    counts: collections.Counter = collections.Counter()
    for err in errors:
        if _union_member(err["loc"]):
            loc = _strip_tags(err["loc"], data)
            counts.update(loc[:n] for n in range(len(loc) + 1))
    return counts


def _wrong_member(err: dict, members: collections.Counter, data: Any) -> bool:
    """An error saying a mapping or a list is not a number, a text or the other container, from
    a union member of the wrong kind, when another member reports on the same value."""
    if not isinstance(err.get("input"), dict | list) or not _union_member(err["loc"]):
        return False
    kind = err["type"]
    if not (kind.endswith("_type") or kind in NUMBER_ERRORS):
        return False
    return members[_strip_tags(err["loc"], data)] > 1


def _misspelt_keys(errors: list[dict], data: Any) -> set[tuple]:
    """Locations of required keys that an unknown key next to them probably meant."""
    out = set()
    for err in errors:
        if err["type"] == "extra_forbidden":
            loc = _strip_tags(err["loc"], data)
            model = _model_at(loc[:-1], data)
            if model is not None:
                names = [f.alias or n for n, f in model.model_fields.items()]
                for name in difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6):
                    out.add((*loc[:-1], name))
    return out


def _describe(err: dict, data: Any, lines: dict) -> list[tuple[str, str]]:
    loc = _strip_tags(err["loc"], data)
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, CrossCheckError):  # locations relative to the model that raised it
        return [(_with_line((*loc, *a), lines), b) for a, b in cause.problems]
    value = err.get("input")
    if err["type"] == "invalid_choice" and isinstance(value, dict):
        key = next((k for k in ("type", "dist", "distribution") if k in value), None)
        if key is not None:  # point at the key that picks the kind, not the whole mapping
            err = {**err, "input": value[key]}
            loc = (*loc, key)
    if "[key]" in err["loc"]:
        return [(_with_line(loc, lines), "this key " + _message(err, loc, data))]
    return [(_with_line(loc, lines), _message(err, loc, data))]


def format_loc(loc: tuple) -> str:
    """``('skus', 2, 'demand')`` → ``skus[2].demand`` (control characters escaped)."""
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return printable(out) or "scenario"


def _with_line(loc: tuple, lines: dict) -> str:
    name = format_loc(loc)
    for n in range(len(loc), 0, -1):
        if loc[:n] in lines:
            return f"{name} (line {lines[loc[:n]]})"
    return name


NUMBER_ERRORS = frozenset(
    {"float_type", "float_parsing", "int_type", "int_parsing", "int_from_float", "finite_number"}
)


def _message(err: dict, loc: tuple, data: Any) -> str:
    kind, ctx, msg = err["type"], err.get("ctx") or {}, err["msg"]
    value = err.get("input")
    if kind == "extra_forbidden":
        return t("unknown key") + _suggest(loc, data)
    if kind == "missing":
        return t("required key is missing")
    if kind in NUMBER_ERRORS:
        what = t("an integer") if kind.startswith("int") else t("a number")
        if isinstance(value, bool):
            return t(
                "expected {what}, got {value} (true/false is not a number)",
                what=what,
                value=str(value).lower(),
            )
        if isinstance(value, str) and _looks_numeric(value):
            return t(
                "expected {what}, got the text {value} (remove the quotes)",
                what=what,
                value=excerpt(value),
            )
        return t("expected {what}, got {value}", what=what, value=excerpt(value))
    if kind in ("dict_type", "list_type", "string_type"):
        what = {"dict_type": N_("a mapping"), "list_type": N_("a list"), "string_type": N_("text")}
        return t("expected {what}, got {value}", what=t(what[kind]), value=excerpt(value))
    if kind == "string_pattern_mismatch":
        return t(
            "has a control character (ESC, CR, BEL, …), not allowed here: {value}",
            value=excerpt(value),
        )
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {
            "greater_than_equal": "≥",
            "greater_than": ">",
            "less_than_equal": "≤",
            "less_than": "<",
        }[kind]
        bound = next(iter(ctx.values()))
        if isinstance(bound, float) and bound.is_integer() and abs(bound) < 1e15:
            bound = int(bound)
        return t(
            "must be {sign} {bound}",
            sign=sign,
            bound=f"{bound:,}" if isinstance(bound, int) else f"{bound:g}",
        )
    if kind == "value_error":
        return str(ctx.get("error", msg)).removeprefix("Value error, ")
    if kind == "literal_error":
        return t("expected {what}; got {value}", what=ctx.get("expected"), value=excerpt(value))
    if kind == "invalid_choice":
        if isinstance(value, bool):
            return f"{msg}; got {str(value).lower()} (true/false is not a number)"
        return f"{msg}; got {excerpt(value)}"
    if kind in ("too_short", "too_long"):
        return msg.replace("List", "list").replace("Dictionary", "mapping")
    return msg[0].lower() + msg[1:]


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _suggest(loc: tuple, data: Any) -> str:
    model = _model_at(loc[:-1], data)
    if model is None:
        return ""
    names = [f.alias or n for n, f in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    if close:
        return t("; did you mean {key}?", key=repr(close[0]))
    return t(" (allowed: {keys})", keys=", ".join(names))


def _model_at(path: tuple, data: Any) -> type[BaseModel] | None:
    """The scenario model that describes the data at ``path`` (unions resolved by the data)."""
    ann, node = Scenario, data
    for part in path:
        ann = _concrete(ann, node)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = next((f for n, f in ann.model_fields.items() if part in (n, f.alias)), None)
            ann = field.annotation if field else None
        elif typing.get_origin(ann) in (list, dict):
            ann = typing.get_args(ann)[-1]
        else:
            return None
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    ann = _concrete(ann, node)
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _concrete(ann: Any, node: Any) -> Any:
    """Strip ``Annotated`` and pick the union member that fits ``node``."""
    while typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    members = (
        typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) else ()
    )
    if not members:
        return ann
    if isinstance(node, dict):
        for key, kinds in (
            ("distribution", DEMAND_KINDS),
            ("dist", DIST_KINDS),
            ("type", POLICY_KINDS),
            ("type", NODE_KINDS),
        ):
            if node.get(key) in kinds:
                return kinds[node[key]]
    for m in members:
        m = _concrete(m, node)
        if isinstance(node, dict) and (
            (isinstance(m, type) and issubclass(m, BaseModel)) or typing.get_origin(m) is dict
        ):
            return m
        if isinstance(node, list) and typing.get_origin(m) is list:
            return m
    return None


def _dedupe(problems):
    seen, out = set(), []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out
