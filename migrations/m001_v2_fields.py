"""Version 1 -> 2.

- `schema_version: 2`.
- Study: the registry status moves from `status` to `trial_status`; `status` is left for the
  record's own state (current or withdrawn), so a trial withdrawn from its registry is no
  longer mistaken for a retired record.
- Therapy: `safety` becomes an object; the version-1 list of statements (adverse events as
  the studies report them) becomes `safety.adverse_events`.
- `unverified` keeps only details that are shown but were not checked; notes about what was
  left out move to the new `omitted` field.
"""

from __future__ import annotations

import re

import yaml

FROM_VERSION = 1
TO_VERSION = 2

# Notes that say something was left out rather than shown unchecked.
LEFT_OUT = re.compile(
    r"not cited|left out|omitted|\bnot listed\b|not recorded|no result is recorded|not included|are not given|"
    r"not entered|so none is given|is not given|could be verified against a stored source|not used here|"
    r"is not shown|are not shown",
    re.I,
)
_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def is_left_out(note: str) -> bool:
    return bool(LEFT_OUT.search(note))


def _block(lines: list[str], key: str) -> tuple[int, int] | None:
    """(first, end) line indexes of a top-level key and its value, or None."""
    start = next((i for i, line in enumerate(lines) if re.match(rf"^{re.escape(key)}\s*:", line)), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and not _TOP_KEY.match(lines[end]):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # keep blank lines with what follows
        end -= 1
    return start, end


def _dump(mapping: dict) -> list[str]:
    text = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
    return text.splitlines(keepends=True)


def _replace_block(text: str, key: str, mapping: dict) -> str:
    lines = text.splitlines(keepends=True)
    span = _block(lines, key)
    if span is None:
        return text
    start, end = span
    return "".join(lines[:start] + (_dump(mapping) if mapping else []) + lines[end:])


def migrate(text: str, kind: str) -> str:
    data = yaml.safe_load(text)
    text = re.sub(r"^schema_version:\s*1\s*$", "schema_version: 2", text, count=1, flags=re.M)
    if kind == "study" and "status" in data and "trial_status" not in data:
        text = re.sub(r"^status(\s*):", r"trial_status\1:", text, count=1, flags=re.M)
    if kind == "therapy" and isinstance(data.get("safety"), list):
        text = _replace_block(text, "safety", {"safety": {"adverse_events": data["safety"]}})
    notes = data.get("unverified") or []
    left_out = [n for n in notes if is_left_out(n)]
    if left_out:
        shown = [n for n in notes if not is_left_out(n)]
        mapping = {"unverified": shown} if shown else {}
        mapping["omitted"] = list(data.get("omitted") or []) + left_out
        text = _replace_block(text, "unverified", mapping)
        if "omitted" in data:  # an old omitted block would now be a duplicate key
            text = _replace_block(text, "omitted", {})
    return text
