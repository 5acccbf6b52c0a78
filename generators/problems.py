"""Problems found in the contributors' input, reported together and in reading order."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one place: `path:line: field: message (hint)`."""

    path: str
    line: int
    field: str = ""
    message: str = ""
    hint: str = dataclasses.field(default="", compare=False)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:"
        what = f" {self.field}:" if self.field else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{what} {self.message}{hint}"


class InputError(Exception):
    """Raised with every problem at once when the input cannot be built."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"The handbook was not built: {count} {noun} in the evidence files."]
        lines += [str(p) for p in self.problems]
        return "\n".join(lines)


def close_match(word: str, candidates) -> str:
    """A 'did you mean …?' hint, or '' when nothing is close."""
    import difflib

    matches = difflib.get_close_matches(str(word), sorted(candidates), n=1, cutoff=0.75)
    return f"did you mean {matches[0]}?" if matches else ""


def field_name(path) -> str:
    """population.subtypes[0]: how a place in a record is named in messages."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name
