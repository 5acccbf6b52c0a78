"""Write a commented record template for a kind, from the kind's JSON Schema.

Every field gets its title and description as a comment and an example from a record of the same
kind (the schema's `examples`). Required fields hold a placeholder that validation refuses
("replace the placeholder ..."), so a created but unfilled record never builds; optional fields
are commented out."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import yaml

from .load import KINDS
from .rules import today as build_today
from .validate import PLACEHOLDER, _resolve, schema_for

ID_FORM = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
WIDTH = 100


class ScaffoldError(Exception):
    pass


def _comment(text: str, indent: str = "") -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(text, WIDTH - 2 - len(indent))]


def _yaml_value(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON is valid YAML and quotes what needs quoting


def _as_yaml(name: str, value) -> list[str]:
    """`name: value` as block YAML lines (lists and blocks of fields as a contributor writes them)."""
    if not isinstance(value, (list, dict)):
        return [f"{name}: {_yaml_value(value)}"]
    text = yaml.safe_dump({name: value}, sort_keys=False, allow_unicode=True, width=WIDTH - 4, default_flow_style=False)
    return text.rstrip("\n").split("\n")


def placeholder(title: str) -> str:
    return f"{PLACEHOLDER} {title.lower()} (see the example above)"


def template_text(kind: str, record_id: str) -> str:
    schema = schema_for(kind)
    required = set(schema.get("required", []))
    lines = [
        f"# yaml-language-server: $schema=../../schemas/{kind}.schema.json",
        f"# A new {kind} record. Each field is explained in the comment above it, with an example",
        f"# from a {kind} record of the handbook.",
        f'# Required fields hold a placeholder ("{PLACEHOLDER} ..."): make validate refuses the record',
        "# until each one is replaced by this record's own value.",
        "# Optional fields are commented out: remove the leading '# ' to use one.",
        "",
    ]
    for name, prop in schema["properties"].items():
        prop = _resolve(prop)
        title = prop.get("title", name)
        lines += _comment(f"{title}: {prop.get('description', '')}".rstrip(": "))
        example = (prop.get("examples") or [None])[0]
        if name == "id":
            lines.append(f"id: {record_id}")
        elif name == "schema_version":
            lines.append(f"schema_version: {prop.get('const', 2)}")
        elif name == "last_reviewed":  # the day the template was filled is the day it was checked
            lines.append(f"last_reviewed: {build_today().isoformat()}")
        elif name in required:
            if example is not None:
                lines += ["# Example:"] + [f"#   {line}" for line in _as_yaml(name, example)]
            lines.append(f"{name}: {_yaml_value(placeholder(title))}")
        elif example is not None:
            lines += [f"# {line}" for line in _as_yaml(name, example)]
        else:
            lines.append(f"# {name}:")
        lines.append("")
    return "\n".join(lines)


def write_template(root: Path, kind: str, record_id: str) -> Path:
    if kind not in KINDS:
        raise ScaffoldError(f'unknown kind "{kind}"; choose one of: {", ".join(KINDS)}')
    if not ID_FORM.match(record_id):
        raise ScaffoldError(f'"{record_id}" is not a valid id: use lowercase letters and digits joined by hyphens, e.g. my-trial-2024')
    existing = {p.stem: p for p in (root / "evidence").glob("*/*.yaml")}
    if record_id in existing:
        raise ScaffoldError(f'the id "{record_id}" is taken by {existing[record_id].relative_to(root)}; ids are unique across kinds')
    path = root / "evidence" / kind / f"{record_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template_text(kind, record_id), encoding="utf-8")
    return path


SHARED = ("generators", "schemas", "docs", "overrides")


def link_project_code(target: Path, code_root: Path) -> None:
    """Give a folder of records this checkout's code, schemas, pages and site configuration."""
    for shared in SHARED:
        (target / shared).symlink_to(code_root / shared)
    shutil.copy(code_root / "mkdocs.yml", target / "mkdocs.yml")
    if (code_root / "search-synonyms.yaml").exists():  # copied: a test may write a broken one
        shutil.copy(code_root / "search-synonyms.yaml", target / "search-synonyms.yaml")


def copy_project(source: Path, target: Path, code_root: Path) -> Path:
    """A throw-away project (for tests and the benchmark): records and bibliography copied, code linked."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "evidence", target / "evidence")
    shutil.copy(source / "references.bib", target / "references.bib")
    link_project_code(target, code_root)
    return target
