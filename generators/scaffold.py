"""Write a fully commented record template for a kind, from the kind's JSON Schema."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import textwrap
from pathlib import Path

from .load import KINDS
from .validate import _resolve, schema_for

ID_FORM = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class ScaffoldError(Exception):
    pass


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(text, 96 - len(indent))]


def _yaml_value(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON is valid YAML and quotes what needs quoting


def template_text(kind: str, record_id: str) -> str:
    schema = schema_for(kind)
    required = set(schema.get("required", []))
    lines = [
        f"# yaml-language-server: $schema=../../schemas/{kind}.schema.json",
        f"# A new {kind} record. Required fields are filled with examples: replace them.",
        "# Optional fields are commented out: remove the leading '# ' to use one.",
        "",
    ]
    for name, prop in schema["properties"].items():
        prop = _resolve(prop)
        if name == "id":
            value = record_id
        elif name == "last_reviewed":
            value = dt.date.today().isoformat()
        elif name == "schema_version":
            value = prop.get("const", 2)
        else:
            value = (prop.get("examples") or [""])[0]
        lines += _comment(f"{prop.get('title', name)}: {prop.get('description', '')}", "")
        entry = f"{name}: {_yaml_value(value)}"
        lines.append(entry if name in required else f"# {entry}")
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
