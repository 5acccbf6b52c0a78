"""Record migrations: numbered steps that upgrade every record to the current format.

Each step is a module `mNNN_<what>.py` with `FROM_VERSION`, `TO_VERSION` and
`migrate(text, kind) -> text`. Steps edit the YAML text, not a re-dumped copy, so a
contributor's formatting and comments survive outside the blocks a step must rewrite.
Run `make migrate` (python -m migrations); it is safe to run twice.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

CURRENT_VERSION = 3
_VERSION_LINE = re.compile(r"^schema_version:\s*(\d+)\s*$", re.M)


def steps() -> list:
    """The migration modules in order of the version they upgrade from."""
    found = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__) if m.name.startswith("m")]
    return sorted(found, key=lambda m: m.FROM_VERSION)


def version_of(text: str) -> int | None:
    match = _VERSION_LINE.search(text)
    return int(match.group(1)) if match else None


def upgrade(text: str, kind: str) -> str:
    """Apply every step from the record's version to the current one."""
    for step in steps():
        if version_of(text) == step.FROM_VERSION:
            text = step.migrate(text, kind)
    return text


def upgrade_tree(root: Path) -> list[Path]:
    """Upgrade every record below root/evidence in place; return the files that changed.

    Each file is written whole through a temporary file and a rename, so a record is
    never left half-written.
    """
    changed = []
    for path in sorted((root / "evidence").glob("*/*.yaml")):
        old = path.read_text(encoding="utf-8")
        new = upgrade(old, path.parent.name)
        if new != old:
            tmp = path.with_suffix(".yaml.tmp")
            tmp.write_text(new, encoding="utf-8")
            tmp.replace(path)
            changed.append(path)
    return changed
