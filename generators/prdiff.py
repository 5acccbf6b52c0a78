"""What a pull request changes, as a reader would see it: the pages whose text changes (a diff of the
rendered Markdown, not of the YAML), and which records, references and exports change.

    python -m generators diff BASE HEAD [--out FILE] [--max-lines N]

BASE and HEAD are two project folders (the pull request's base and head), each already built with
`python -m generators build` (their build/ folders). The report is Markdown, for the job summary
of the pull-request workflow and its comment.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

PAGE_SUFFIX = ".md"
EXPORT_FOLDERS = ("data/", "cite/")
EXPORT_FILES = ("feed.xml",)
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_ENTRY = re.compile(r"^@\w+\{([^,\s]+),", re.M)


@dataclass
class Changes:
    pages: dict[str, list[str]] = field(default_factory=dict)  # page -> its diff lines
    pages_added: list[str] = field(default_factory=list)
    pages_removed: list[str] = field(default_factory=list)
    records: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "changed": [], "removed": []})
    references: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "changed": [], "removed": []})
    exports: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.pages
            or self.pages_added
            or self.pages_removed
            or any(self.records.values())
            or any(self.references.values())
            or self.exports
        )


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


def _readable(markdown: bytes) -> list[str]:
    """A page's text as a reader compares it: without the front matter (edit link, search settings)."""
    return _FRONT_MATTER.sub("", markdown.decode("utf-8"), count=1).splitlines()


def _sorted_changes(before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, list[str]]:
    return {
        "added": sorted(after.keys() - before.keys()),
        "changed": sorted(k for k in before.keys() & after.keys() if before[k] != after[k]),
        "removed": sorted(before.keys() - after.keys()),
    }


def _bib_entries(root: Path) -> dict[str, bytes]:
    path = root / "references.bib"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    starts = [(m.start(), m.group(1)) for m in _ENTRY.finditer(text)]
    return {
        key: text[start : (starts[i + 1][0] if i + 1 < len(starts) else len(text))].strip().encode()
        for i, (start, key) in enumerate(starts)
    }


def compare(base: Path, head: Path) -> Changes:
    changes = Changes()
    before, after = _files(base / "build" / "docs"), _files(head / "build" / "docs")
    for rel in sorted(before.keys() | after.keys()):
        if rel.endswith(PAGE_SUFFIX):
            if rel not in before:
                changes.pages_added.append(rel)
            elif rel not in after:
                changes.pages_removed.append(rel)
            elif before[rel] != after[rel]:
                diff = list(difflib.unified_diff(_readable(before[rel]), _readable(after[rel]), lineterm="", n=1))[2:]
                if diff:
                    changes.pages[rel] = diff
        elif rel.startswith(EXPORT_FOLDERS) or rel in EXPORT_FILES:
            if before.get(rel) != after.get(rel):
                changes.exports.append(rel)
    records = {r: _files(root / "evidence") for r, root in (("base", base), ("head", head))}
    changes.records = _sorted_changes(records["base"], records["head"])
    changes.references = _sorted_changes(_bib_entries(base), _bib_entries(head))
    return changes


def _list(label: str, names: list[str]) -> list[str]:
    return [f"- {label}: " + ", ".join(f"`{n}`" for n in names)] if names else []


def render(changes: Changes, max_lines: int = 400) -> str:
    out = ["## What this pull request changes on the site", ""]
    if changes.empty:
        return "\n".join(out + ["No page, record, reference or export changes.", ""])
    out += ["**Records** (`evidence/`)", ""]
    out += _list("added", changes.records["added"]) + _list("changed", changes.records["changed"])
    out += _list("removed", changes.records["removed"]) or ["- none"]
    out += ["", "**References** (`references.bib`)", ""]
    refs = changes.references
    out += (_list("added", refs["added"]) + _list("changed", refs["changed"]) + _list("removed", refs["removed"])) or ["- none"]
    out += ["", "**Exports** (open data, cite files, feed)", ""]
    out += (
        [f"- {len(changes.exports)} files changed: " + ", ".join(f"`{e}`" for e in changes.exports[:12])] if changes.exports else ["- none"]
    )
    if len(changes.exports) > 12:
        out[-1] += f" and {len(changes.exports) - 12} more"
    out += [
        "",
        f"**Pages whose text changes: {len(changes.pages)}**" + (f"; added {len(changes.pages_added)}" if changes.pages_added else ""),
    ]
    out += [f"; removed {len(changes.pages_removed)}"] if changes.pages_removed else []
    out.append("")
    out += _list("new pages", changes.pages_added) + _list("removed pages", changes.pages_removed)
    budget = max_lines
    for page, diff in changes.pages.items():
        out += ["", f"<details><summary><code>{page}</code> ({sum(1 for d in diff if d[:1] in '+-')} lines)</summary>", "", "```diff"]
        shown = diff[: max(budget, 0)]
        out += shown
        if len(shown) < len(diff):
            out.append(f"… {len(diff) - len(shown)} more lines (the full build is attached to this run)")
        budget -= len(shown)
        out += ["```", "", "</details>"]
    return "\n".join(out) + "\n"


def run_command(args) -> int:
    text = render(compare(args.base, args.head), args.max_lines)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


def add_arguments(parser) -> None:
    parser.add_argument("base", type=Path, help="the base project folder, built (its build/)")
    parser.add_argument("head", type=Path, help="the head project folder, built")
    parser.add_argument("--out", type=Path, help="also write the report here")
    parser.add_argument("--max-lines", type=int, default=400, help="diff lines shown in all (the rest is in the attached build)")
