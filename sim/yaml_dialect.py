"""The YAML dialect scenarios are written in: PyYAML's safe loader with YAML 1.2's numbers
(``00123`` and ``0x1F`` stay text, ``1e6`` is a number), on libyaml's C parser when the text
cannot nest deeply enough to exhaust the C stack. The scenario loader and ``sweep --set`` read
with it, and ``import-orders`` checks with it that what it prints reads back the same (no
pydantic here: the light commands import it).
"""

from __future__ import annotations

import json
import re

import yaml

from sim.errors import YAML_VALUE_ERRORS

C_PARSER_MAX_DEPTH = 1_000  # libyaml recurses in C: deeper texts use the pure-Python parser
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"


class ScenarioLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading only plain decimal integers as numbers, and ``1e6`` as a
    number too.

    YAML 1.1 would turn a SKU id like ``00123`` into the octal number 83 and ``0x1F`` into 31;
    here they stay text. YAML 1.1 reads ``1e6`` (no dot, unsigned exponent) as text; YAML 1.2
    and every user read it as a number, and numbers are not read from text (``sim.bounds``).
    """


ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != INT_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScenarioLoader.add_implicit_resolver(
    INT_TAG, re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
ScenarioLoader.add_implicit_resolver(
    FLOAT_TAG, re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)

if yaml.__with_libyaml__:

    class FastScenarioLoader(yaml.CSafeLoader):
        """``ScenarioLoader`` on libyaml's C parser (same resolvers, about 7x faster)."""

    FastScenarioLoader.yaml_implicit_resolvers = ScenarioLoader.yaml_implicit_resolvers
else:  # pragma: no cover - PyYAML built without libyaml
    FastScenarioLoader = None


def loader_for(text: str) -> type:
    """The C loader when the text's nesting depth is surely small, else the Python one.

    Each level of block nesting needs a deeper column or a ``- `` on the line, so block depth is
    at most twice the longest line; each flow level needs a ``[`` or ``{``. The Python parser
    turns runaway nesting into a RecursionError; libyaml would overflow the C stack instead.
    """
    if FastScenarioLoader is None:
        return ScenarioLoader
    longest = max(map(len, text.split("\n")))  # lines at least as long as YAML's
    depth = 2 * longest + 2 + text.count("[") + text.count("{")
    return FastScenarioLoader if depth <= C_PARSER_MAX_DEPTH else ScenarioLoader


def scalar(s: str) -> str:
    """``s`` written as a YAML value that this dialect reads back as the same string: bare
    when it can be (``MUG-11OZ``, ``00123``), else double-quoted (``"yes"``, ``"1e5"``,
    ``"x: #1"``)."""
    if s == s.strip() and "#" not in s:
        try:
            if yaml.load(f"k: {s}", Loader=ScenarioLoader) == {"k": s}:
                return s
        except (yaml.YAMLError, *YAML_VALUE_ERRORS):  # e.g. "!!int"
            pass
    return json.dumps(s, ensure_ascii=False)
