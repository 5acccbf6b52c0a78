"""Check each record against the JSON Schema of its kind, in words a contributor understands."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import jsonschema_rs
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from .load import Record
from .problems import Problem, close_match, field_name

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
# What `make new` (scaffold.py) writes in each required field: refused until it is replaced, so a
# created but unfilled record never builds.
PLACEHOLDER = "REPLACE:"

_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "array": "a list (lines starting with '- ')",
    "object": "a block of `field: value` lines",
    "boolean": "true or false",
}


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.name, Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@cache
def schema_for(kind: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))


def _inline(node, base: str):
    """The schema with every $ref replaced by what it points at. Following references through
    the registry was two thirds of validation time at 5,000 records; the schemas hold no cycles."""
    if isinstance(node, list):
        return [_inline(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _inline(value, base) for key, value in node.items()}
    if "$ref" not in node:
        return node
    file, _, pointer = node.pop("$ref").partition("#")
    file = file or base
    target = _registry().contents(file)
    for step in [s for s in pointer.split("/") if s]:
        target = target[step]
    target = _inline(target, file)
    if set(node) & set(target):  # keywords beside the reference that it also has: keep both
        return {**node, "allOf": [target]}
    return {**target, **node}


@cache
def validator_for(kind: str) -> Draft202012Validator:
    name = f"{kind}.schema.json"
    return Draft202012Validator(_inline(schema_for(kind), name), registry=_registry())


@cache
def fast_validator_for(kind: str) -> jsonschema_rs.Draft202012Validator:
    """The same schema in jsonschema-rs, which only answers "valid or not" but does so about
    thirty times faster; Python's jsonschema, which explains each problem, then runs only on the
    records it rejects."""
    return jsonschema_rs.Draft202012Validator(_inline(schema_for(kind), f"{kind}.schema.json"))


def _describe(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f'"{shown}"'
    if isinstance(value, list):
        return "a list"
    return "a block of fields"


def _subschema_title(error) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    return schema.get("title", "")


def _resolve(schema: dict) -> dict:
    """Follow one $ref into the shared definitions, for titles and allowed fields."""
    ref = schema.get("$ref")
    if ref:
        ref = "common.schema.json" + ref if ref.startswith("#") else ref
        resolved = _registry().resolver().lookup(ref).contents
        merged = dict(resolved)
        merged.update({k: v for k, v in schema.items() if k != "$ref"})
        return merged
    return schema


def _problem(record: Record, error) -> Problem | list[Problem]:
    path = tuple(error.absolute_path)
    name = field_name(path)
    kind = error.validator
    value = error.instance
    if kind == "required":
        missing = error.message.split("'")[1]
        parent = _resolve(error.schema)
        description = _resolve(parent.get("properties", {}).get(missing, {})).get("description", "")
        hint = description.rstrip(".") if description else ""
        return Problem(record.path, record.line(path), field_name(path + (missing,)), "this required field is missing", hint)
    if kind == "additionalProperties":
        allowed = set(_resolve(error.schema).get("properties", {}))
        return [
            Problem(
                record.path,
                record.line(path + (unknown,)),
                field_name(path + (unknown,)),
                "this field is not part of the record format",
                close_match(unknown, allowed) or "allowed fields: " + ", ".join(sorted(allowed)),
            )
            for unknown in sorted(set(value) - allowed)
        ]
    if kind == "type":
        expected = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
        title = _subschema_title(error)
        what = _TYPE_WORDS.get(expected, expected)
        if expected == "integer" and title:
            what = f"a whole number ({title.lower()})"
        hint = "put the text in quotes" if expected == "string" else ""
        return Problem(record.path, record.line(path), name, f"expected {what}, got {_describe(value)}", hint)
    if kind == "enum":
        options = ", ".join(str(v) for v in error.validator_value)
        return Problem(
            record.path,
            record.line(path),
            name,
            f"{_describe(value)} is not one of the allowed values ({options})",
            close_match(value, [str(v) for v in error.validator_value]),
        )
    if kind == "const":
        return Problem(record.path, record.line(path), name, f"expected {error.validator_value}, got {_describe(value)}")
    if kind == "pattern":
        description = _resolve(error.schema).get("description", "")
        return Problem(record.path, record.line(path), name, f"{_describe(value)} is not in the expected form", description.rstrip("."))
    if kind in ("minItems", "minLength"):
        if kind == "minItems":
            return Problem(record.path, record.line(path), name, f"needs at least {error.validator_value} item(s), found {len(value)}")
        if value.strip() and error.validator_value > 1:
            return Problem(
                record.path, record.line(path), name, f"is too short ({len(value)} character(s); at least {error.validator_value} needed)"
            )
        return Problem(record.path, record.line(path), name, "is empty", "write the text, or remove the field if it is optional")
    if kind == "maxLength":
        return Problem(
            record.path,
            record.line(path),
            name,
            f"is {len(value)} characters long; at most {error.validator_value} are allowed",
            "shorten it or split it into several statements",
        )
    if kind == "uniqueItems":
        return Problem(record.path, record.line(path), name, "lists the same item twice", "remove the repeat")
    if kind in ("minimum", "maximum"):
        bound = "at least" if kind == "minimum" else "at most"
        return Problem(
            record.path, record.line(path), name, f"{_describe(value)} is out of range: it must be {bound} {error.validator_value}"
        )
    return Problem(record.path, record.line(path), name, error.message)


def _outdated_format(record: Record) -> Problem | None:
    """A record written in an older format gets one problem that says how to upgrade it."""
    version = record.data.get("schema_version") if isinstance(record.data, dict) else None
    current = _resolve(schema_for(record.kind)["properties"]["schema_version"]).get("const")
    if isinstance(version, int) and current and version < current:
        return Problem(
            record.path,
            record.line(("schema_version",)),
            "schema_version",
            f"this record is written in format version {version}; the handbook now reads version {current}",
            "run `make migrate` (python -m migrations), which upgrades every record, then check the diff",
        )
    return None


def _leaf_errors(error):
    """Errors inside if/then, anyOf and friends carry the useful detail in their context."""
    if error.context:
        for sub in error.context:
            yield from _leaf_errors(sub)
    else:
        yield error


def _placeholders(value, at: tuple = ()):
    """The paths of the template placeholders left in a record."""
    if isinstance(value, str):
        if value.startswith(PLACEHOLDER):
            yield at
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholders(item, at + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _placeholders(item, at + (i,))


def _placeholder_problem(record: Record, path: tuple) -> Problem:
    schema = schema_for(record.kind)
    prop = _resolve(schema["properties"].get(path[0], {})) if path else {}
    what = prop.get("title", path[0] if path else "this field")
    hint = "write this record's own value in its place; the comment above it explains the field and shows an example"
    return Problem(
        record.path, record.line(path), field_name(path), f"replace the placeholder with the {what.lower()} of this record", hint
    )


def placeholder_fields(record: Record) -> set[str]:
    """The fields of a record that still hold a template placeholder, named as in messages."""
    return {field_name(path) for path in _placeholders(record.data)}


def _inside(path: tuple, places: list[tuple]) -> bool:
    return any(path[: len(place)] == place for place in places)


def check_schema(record: Record) -> list[Problem]:
    placeholders = list(_placeholders(record.data))
    if not placeholders and fast_validator_for(record.kind).is_valid(record.data):
        return []
    outdated = _outdated_format(record)
    if outdated:
        return [outdated]  # every other message would only repeat what the upgrade changes
    validator = validator_for(record.kind)
    problems = [_placeholder_problem(record, path) for path in placeholders]
    for error in validator.iter_errors(record.data):
        for leaf in _leaf_errors(error):
            if _inside(tuple(leaf.absolute_path), placeholders):
                continue  # a placeholder is not in the field's form: its own message says so
            found = _problem(record, leaf)
            problems += found if isinstance(found, list) else [found]
    return problems


def schema_valid_part(record: Record) -> Record:
    """The record without the values its schema rejects, so the rules can still check the rest
    (a contributor sees a bad citation key in the same run as a mistyped number)."""
    data = copy.deepcopy(record.data)
    paths = sorted(
        {tuple(leaf.absolute_path) for error in validator_for(record.kind).iter_errors(record.data) for leaf in _leaf_errors(error)}
        | set(_placeholders(record.data)),
        key=len,
        reverse=True,
    )
    for path in paths:
        if not path:
            continue
        parent = data
        try:
            for step in path[:-1]:
                parent = parent[step]
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
                parent[path[-1]] = None
        except (KeyError, IndexError, TypeError):
            continue
    return Record(record.kind, record.path, data if isinstance(data, dict) else {"id": record.file_id}, record.lines)


def check_records(records: list[Record]) -> list[Problem]:
    problems: list[Problem] = []
    for record in records:
        problems += check_schema(record)
    return problems
