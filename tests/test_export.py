"""Cite-this-page files: what a reader downloads from a record page's footer."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import ROOT, TODAY
from pybtex.database import parse_string

from generators.export import INTERNAL_FIELDS, cite_files
from generators.model import build_model

VERSION = "v9.9.9-test"
SITE = "https://example.org/handbook/"


@pytest.fixture(scope="module")
def cited():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDBOOK_TODAY", TODAY)
        book = build_model(ROOT)
    return book, cite_files(book, VERSION, SITE, dt.date(2026, 11, 21))


def test_every_record_page_has_bibtex_and_ris_and_recommendations_have_none(cited):
    book, files = cited
    for record in book.records:
        present = f"cite/{record.id}.bib" in files and f"cite/{record.id}.ris" in files
        assert present == (record.kind != "recommendation"), record.id


def test_cite_this_page_names_the_handbook_version_and_the_page(cited):
    _, files = cited
    entry = parse_string(files["cite/ivig.bib"], "bibtex").entries["iimhandbook-ivig"]
    assert entry.fields["url"] == "https://example.org/handbook/therapies/ivig/"
    assert VERSION in entry.fields["howpublished"]
    ris = files["cite/ivig.ris"].splitlines()
    assert ris[0] == "TY  - ELEC" and "UR  - https://example.org/handbook/therapies/ivig/" in ris and ris[-1] == "ER  -"


def test_references_of_a_page_are_exactly_its_citations_in_order_without_internal_notes(cited):
    book, files = cited
    checked = 0
    for record in book.records:
        keys = book.cited_on_page(record) if record.kind != "recommendation" else []
        path = f"cite/{record.id}-references.bib"
        assert (path in files) == bool(keys), record.id
        if not keys:
            continue
        parsed = parse_string(files[path], "bibtex")
        assert list(parsed.entries) == keys, record.id
        for key in keys:
            source = book.bibliography.entries[key]
            assert set(parsed.entries[key].fields) == set(source.fields) - INTERNAL_FIELDS
            assert parsed.entries[key].fields.get("doi") == source.fields.get("doi")
        checked += 1
    assert checked > 50


def test_a_reference_reads_the_same_on_every_page_that_cites_it(cited):
    book, files = cited
    key, pages = max(book.citing_pages.items(), key=lambda item: len(item[1]))
    pages = [p for p in pages if book.by_id[p].kind != "recommendation"]
    assert len(pages) > 2
    texts = {re.search(rf"@\w+\{{{key},.*?\n\}}\n", files[f"cite/{page}-references.bib"], re.S).group(0) for page in pages}
    assert len(texts) == 1
