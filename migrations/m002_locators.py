"""Version 2 -> 3: every study finding says where in its source it stands.

- `schema_version: 3`.
- Study `results` and `safety` findings gain `locator`, filled in where it can be known
  mechanically from the finding's `provenance`: a figure read in the abstract stands in the
  abstract, one read on the registry in its results section, and so on. A more precise place
  (Table 2, p. 1762) is known only by reading the source again; the check date (`checked`) is
  never filled in by a migration, since nobody compared the figures on that day.
"""

from __future__ import annotations

import re

FROM_VERSION = 2
TO_VERSION = 3

# Where a finding stands when all that is known is where it was read.
MECHANICAL_LOCATOR = {
    "abstract": "abstract",
    "registry": "registry results section",
    "press-release": "press release",
    "congress-abstract": "congress abstract",
    "full-text": "full text",
    "secondary": "secondary source",
}
_FINDINGS = re.compile(r"^(results|safety)\s*:")
_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")
_PROVENANCE = re.compile(r"^(\s*(?:- )?)provenance:\s*([\w-]+)\s*$")


def _item_has_locator(lines: list[str], index: int, indent: int) -> bool:
    """Whether the list item around line `index` (keys at `indent` columns) already has a locator."""
    start = index
    while start > 0 and not lines[start].lstrip().startswith("- ") and not _TOP_KEY.match(lines[start]):
        start -= 1
    end = index + 1
    while (
        end < len(lines)
        and lines[end].strip()
        and len(lines[end]) - len(lines[end].lstrip()) >= indent
        and not lines[end].lstrip().startswith("- ")
    ):
        end += 1
    return any(re.match(r"^\s*(- )?locator\s*:", line) for line in lines[start:end])


def migrate(text: str, kind: str) -> str:
    text = re.sub(r"^schema_version:\s*2\s*$", "schema_version: 3", text, count=1, flags=re.M)
    if kind != "study":
        return text
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    inside = False
    for i, line in enumerate(lines):
        if _TOP_KEY.match(line):
            inside = bool(_FINDINGS.match(line))
        out.append(line)
        match = _PROVENANCE.match(line.rstrip("\n")) if inside else None
        if match and match.group(2) in MECHANICAL_LOCATOR:
            indent = len(match.group(1))
            if not _item_has_locator(lines, i, indent):
                out.append(" " * indent + f"locator: {MECHANICAL_LOCATOR[match.group(2)]}\n")
    return "".join(out)
