"""The schemas are the one source of the record format: shared definitions written once, and the
code and the contributing page agreeing with them."""

from __future__ import annotations

import json
import re
from collections import defaultdict

from conftest import ROOT

from generators.load import KINDS
from generators.model import EVIDENCE_LEVELS, NOT_PEER_REVIEWED

SCHEMAS = ROOT / "schemas"
COMMON = json.loads((SCHEMAS / "common.schema.json").read_text(encoding="utf-8"))


def kind_schema(kind: str) -> dict:
    return json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))


def test_the_fields_every_record_has_are_defined_once():
    for kind in KINDS:
        properties = kind_schema(kind)["properties"]
        for name in (
            "schema_version",
            "id",
            "title",
            "aliases",
            "summary",
            "citations",
            "last_reviewed",
            "status",
            "unverified",
            "omitted",
        ):
            assert properties[name]["$ref"].startswith("common.schema.json#/$defs/"), (kind, name)
            # Only what a kind may word its own way beside the shared definition: examples of its kind.
            assert set(properties[name]) <= {"$ref", "examples", "title", "description"}, (kind, name)


def test_no_definition_is_written_twice():
    """No block of schema (with its type, fields or items) appears twice in the schemas; titles,
    descriptions and examples may differ, the definition may not."""
    seen = defaultdict(list)

    def walk(node, where):
        if isinstance(node, dict):
            core = {k: v for k, v in node.items() if k not in ("title", "description", "examples")}
            core_text = json.dumps(core, sort_keys=True).replace('"common.schema.json#', '"#')
            if len(core_text) > 120 and ("type" in core or "properties" in core):
                seen[core_text].append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    for path in sorted(SCHEMAS.glob("*.schema.json")):
        walk(json.loads(path.read_text(encoding="utf-8")), path.name)
    repeated = [places for places in seen.values() if len(places) > 1]
    assert not repeated, f"define these once in common.schema.json and $ref them: {repeated}"


def test_evidence_levels_and_labels_follow_the_schema():
    design = kind_schema("study")["properties"]["design"]["enum"]
    assert [level for level, _ in EVIDENCE_LEVELS] == [d for d in design if d != "systematic-review"]  # best design first
    assert set(NOT_PEER_REVIEWED) <= set(COMMON["$defs"]["provenance"]["enum"])


def test_the_contributing_page_names_every_kind_and_provenance():
    page = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    table = page.split("## Record kinds", 1)[1]
    listed = set(re.findall(r"^\| `([\w-]+)`(?: / `([\w-]+)`)? \|", table, re.MULTILINE))
    assert {kind for pair in listed for kind in pair if kind} == set(KINDS)
    for value in COMMON["$defs"]["provenance"]["enum"]:
        assert f"`{value}`" in page, value
