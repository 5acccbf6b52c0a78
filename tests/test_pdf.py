"""The offline PDF, read back as text."""

import re

import pytest
from conftest import ROOT, TODAY
from pypdf import PdfReader

from generators.model import KIND_ORDER, SECTION, build_model


@pytest.fixture(scope="module")
def pdf(handbook_site):
    reader = PdfReader(str(handbook_site / "handbook.pdf"))
    pages = [page.extract_text() or "" for page in reader.pages]
    return reader, pages


def outline_titles(items):
    for item in items:
        if isinstance(item, list):
            yield from outline_titles(item)
        else:
            yield item.title


def squash(text: str) -> str:
    """Text as extracted from a PDF, compared on letters and digits only (hyphenation, dashes, quotes)."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def test_cover_has_title_version_date_and_disclaimer(pdf):
    _, pages = pdf
    cover = pages[0]
    assert "IIM Evidence Handbook" in cover and f"built {TODAY}" in cover
    assert re.search(r"Version [0-9a-f]{7}", cover) and "Not medical advice" in cover


def test_contents_lists_every_chapter_with_page_numbers(pdf):
    _, pages = pdf
    contents = " ".join(pages[1:15])
    for kind in KIND_ORDER:
        assert SECTION[kind][1] in contents, kind
    assert re.search(r"Therapies[ .]+\d+", contents)


def test_every_record_title_appears_and_is_bookmarked(pdf):
    reader, pages = pdf
    text = squash(" ".join(pages))
    book = build_model(ROOT)
    outline = squash(" ".join(outline_titles(reader.outline)))
    for record in book.records:
        if record.kind == "recommendation":
            continue
        title = squash(record.data["title"])
        assert title in text, title
        assert title in outline, title


def test_every_cited_reference_appears_once_in_the_reference_list(pdf):
    _, pages = pdf
    start = max(i for i, p in enumerate(pages) if p.lstrip().startswith("References"))
    references = squash(" ".join(pages[start:]))
    book = build_model(ROOT)
    for key in book.citing_pages:
        entry = book.bibliography.entries[key]
        title = squash(entry.fields["title"])
        assert references.count(title) == 1, key
