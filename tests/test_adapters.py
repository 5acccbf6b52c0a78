"""generators/adapters.py: the one module allowed to rely on other projects' internals. These tests fail
loudly when a pinned package changes version or its internals change shape, and when any other module
reaches into those projects."""

from __future__ import annotations

import ast
import gzip
import importlib.metadata
import inspect
import json

import pytest
from conftest import ROOT

from generators import adapters

PRIVATE_USES = ("_output_child_pre", "_write_field", "__new__(Person", "_type_code", "pf_fragment", "pagefind_dcd", "jinja2.compiler")


@pytest.mark.parametrize("package", sorted(adapters.ADAPTED_FOR))
def test_each_adapted_package_is_the_version_the_adapter_was_written_for(package):
    installed = importlib.metadata.version(package)
    assert installed == adapters.ADAPTED_FOR[package], (
        f"{package} is now {installed}; generators/adapters.py relies on its internals as of {adapters.ADAPTED_FOR[package]}: "
        "check each use there against the new version, then update ADAPTED_FOR"
    )


def test_the_internals_used_are_still_there_with_the_same_shape():
    from jinja2.compiler import CodeGenerator
    from pybtex.database import Person
    from pybtex.database.output.bibtex import Writer

    assert list(inspect.signature(CodeGenerator._output_child_pre).parameters) == ["self", "node", "frame", "finalize"]
    assert list(inspect.signature(Writer._write_field).parameters) == ["self", "stream", "type", "value"]
    person = adapters.restored_person(
        Person, {"first_names": ["Ann"], "middle_names": [], "prelast_names": [], "last_names": ["Smith"], "lineage_names": []}
    )
    assert str(person) == "Smith, Ann"


def test_finalized_output_escapes_once_and_keeps_markup():
    from jinja2 import Environment
    from markupsafe import Markup

    class Env(Environment):
        code_generator_class = adapters.FinalizedCodeGenerator

    env = Env(autoescape=True, finalize=lambda v: v if isinstance(v, Markup) else str(v).replace("<", "&lt;"))
    assert env.from_string("{{ a }}|{{ b }}").render(a="<x>", b=Markup("<i>")) == "&lt;x>|<i>"


def test_verbatim_fields_are_written_as_they_are():
    from pybtex.database import BibliographyData, Entry

    class W(adapters.VerbatimFieldsWriter):
        verbatim = frozenset({"doi"})

    text = W().to_string(BibliographyData(entries={"k": Entry("article", fields={"doi": "10.4103/a_b", "title": "A_B"})}))
    assert "10.4103/a_b" in text and "A\\_B" in text


def test_pikepdf_type_codes_tell_arrays_and_dictionaries_apart():
    import pikepdf

    assert adapters.object_type(pikepdf.Array([1])) == pikepdf.ObjectType.array
    assert adapters.object_type(pikepdf.Dictionary(S=pikepdf.Name("/P"))) == pikepdf.ObjectType.dictionary


def test_pagefind_fragments_are_read_and_a_foreign_file_is_refused(tmp_path):
    (tmp_path / "fragment").mkdir()
    (tmp_path / "fragment" / "en_1.pf_fragment").write_bytes(gzip.compress(b"pagefind_dcd" + json.dumps({"url": "/a/"}).encode()))
    assert [f["url"] for _, f in adapters.pagefind_fragments(tmp_path)] == ["/a/"]
    (tmp_path / "fragment" / "en_2.pf_fragment").write_bytes(gzip.compress(b"{}"))
    with pytest.raises(adapters.FragmentError, match="not a Pagefind fragment"):
        list(adapters.pagefind_fragments(tmp_path))


def test_no_other_module_reaches_into_those_projects():
    found = []
    for path in sorted([*(ROOT / "generators").glob("*.py"), *(ROOT / "tests").glob("*.py"), *(ROOT / "bench").glob("*.py")]):
        if path.name in ("adapters.py", "test_adapters.py"):
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {use}" for use in PRIVATE_USES if use in text]
        for node in ast.walk(ast.parse(text)):  # and no private name imported from them
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("jinja2", "pybtex", "pikepdf", "pagefind"):
                found += [f"{path.relative_to(ROOT)}: from {node.module} import {a.name}" for a in node.names if a.name.startswith("_")]
    assert found == []
