"""The malformed-input corpus (tests/corpus/cases.yaml): each case fails the build with a precise
message at its file and line, a non-zero exit, and no output written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import build, make_project

CASES = yaml.safe_load((Path(__file__).parent / "corpus" / "cases.yaml").read_text(encoding="utf-8"))


def generated(kind: str) -> str:
    if kind == "large":  # well-formed YAML, just far too big for a record
        return "schema_version: 3\nid: huge\nsummary: |\n" + "".join(f"  line {i} of padding text\n" for i in range(15000))
    raise ValueError(kind)


def apply(case: dict, project: Path) -> None:
    if "edit" in case:
        rel, old, new = case["edit"]
        path = project / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"case {case['name']}: {old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return
    path = project / case["write"]
    path.parent.mkdir(parents=True, exist_ok=True)
    if "hex" in case:
        path.write_bytes(bytes.fromhex(case["hex"]))
    elif "latin1" in case:
        path.write_bytes(case["latin1"].encode("latin-1"))
    elif "generate" in case:
        path.write_text(generated(case["generate"]), encoding="utf-8")
    else:
        path.write_text(case["text"], encoding="utf-8")


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_malformed_input_fails_precisely_and_writes_nothing(case, tmp_path):
    project = make_project(tmp_path / "project")
    apply(case, project)
    result = build(project)
    assert result.returncode != 0
    output = result.stdout + result.stderr  # MkDocs prints the abort message on stdout
    for expected in case["expect"]:
        assert expected in output, f"{expected!r} missing from:\n{output}"
    assert not (project / "site").exists(), "a failed build left a site behind"
    if "build" in result.args:  # bad input stops the first step, which then writes no page at all
        assert not (project / "build" / "docs").exists(), "a failed build wrote pages"
