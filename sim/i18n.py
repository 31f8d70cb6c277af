"""The language of what fulfilsim says to people: English (the default) or Chinese.

``t(text, **values)`` looks ``text`` (the English message, a ``str.format`` template) up in the
current language's catalogue and fills in ``values``; a message the catalogue lacks is shown in
English. ``N_(text)`` only marks an English message kept in a table (a label, a heading) so that
the catalogue test finds it; ``t`` translates it where it is shown. Metric keys, file names and
the contents of result files stay English whatever the language.

The language is set once per command (``--lang``, else ``FULFILSIM_LANG``, else English) by
``use``; ``using`` sets it for a block (tests, or chart text drawn in English when no CJK font
is installed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

LANGUAGES = ("en", "zh")
DEFAULT = "en"
ENV = "FULFILSIM_LANG"

_current = DEFAULT


def catalog(lang: str) -> dict[str, str]:
    """The messages of ``lang`` keyed by their English text (empty for English)."""
    if lang == "zh":
        from sim.lang_zh import MESSAGES

        return MESSAGES
    return {}


def language() -> str:
    """The current language code."""
    return _current


def use(lang: str) -> None:
    """Make ``lang`` (one of ``LANGUAGES``) the current language."""
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    _current = lang


@contextmanager
def using(lang: str) -> Iterator[None]:
    """The current language is ``lang`` inside the block, and what it was before after it."""
    before = _current
    use(lang)
    try:
        yield
    finally:
        use(before)


def t(text: str, /, **values) -> str:
    """``text`` in the current language, with ``values`` filled in (``str.format``)."""
    template = catalog(_current).get(text, text) if _current != DEFAULT else text
    return template.format(**values) if values else template


def N_(text: str) -> str:
    """``text`` itself: marks an English message that ``t`` translates where it is shown."""
    return text


def parse(value: str | None, where: str) -> str:
    """A language code from ``--lang`` or the environment; a ``UserError`` naming ``where``
    for anything else (case and surrounding spaces are ignored)."""
    from sim.errors import UserError, excerpt

    code = (value or DEFAULT).strip().lower()
    if code not in LANGUAGES:
        raise UserError((where, f"expected one of {', '.join(LANGUAGES)}, got {excerpt(value)}"))
    return code
