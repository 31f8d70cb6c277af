"""The one exception type for a user's mistake: a list of ``location: problem`` pairs."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in a scenario, a file or an option; the CLI prints it and exits with code 2.

    ``problems`` is a list of ``(location, problem)`` pairs, printed one per line as
    ``location: problem``.
    """

    def __init__(self, problems: list[tuple[str, str]] | tuple[str, str]):
        if isinstance(problems, tuple):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(f"{loc}: {msg}" if loc else msg for loc, msg in self.problems))
