"""Problems found in a scenario file, collected so that a file reports all of them at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from tui_optim.errors import LocatedError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where it is (file, line, key path) and what was expected."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(LocatedError):
    """A scenario that cannot be loaded; `problems` lists everything wrong with it."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class Problems:
    """Collects problems, filling in the line of a key path from the file's text.

    `from_set` holds key paths whose value came from a `--set` override: their problems say so
    and carry no line (the value is not in the file).
    """

    def __init__(self, file: str, line_of: Callable[[str], int | None]):
        self.file = file
        self.line_of = line_of
        self.items: list[Problem] = []
        self.from_set: set[str] = set()

    def add(self, path: str, message: str, line: int | None = None) -> None:
        if self.is_from_set(path):
            message, line = f"{message} (from --set)", None
        elif line is None:
            line = self.line_of(path)
        problem = Problem(self.file, line, path, message)
        if problem not in self.items:
            self.items.append(problem)

    def is_from_set(self, path: str) -> bool:
        for p in self.from_set:
            if path == p or path.startswith(p + ".") or path.startswith(p + "["):
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ScenarioError(self.sorted())

    def sorted(self) -> list[Problem]:
        """Problems without a line (from --set, or the whole file) first, then in file order."""
        return sorted(self.items, key=lambda p: (p.line is not None, p.line or 0))
