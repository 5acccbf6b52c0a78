"""The offline PDF, read back as text."""

import re

import pytest
from conftest import ROOT, TODAY
from pypdf import PdfReader

from generators.bibliography import format_reference
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
    # A reference may run across a page break: leave out the running footer between its halves.
    footer = re.compile(r"IIM Evidence Handbook\s*·\s*version \S+\s*·\s*not medical advice\s*\d*")
    references = squash(" ".join(footer.sub(" ", page) for page in pages[start:]))
    book = build_model(ROOT)
    for key in book.citing_pages:
        entry = book.bibliography.entries[key]
        # The whole formatted reference: a short title ("Immune-mediated necrotizing myopathy") recurs inside longer ones.
        reference = squash(format_reference(entry))
        assert references.count(reference) == 1, key


def test_every_internal_link_reaches_a_page(pdf):
    """The book is typeset in parts and joined; links between parts must still land."""
    reader, _ = pdf
    names = reader.named_destinations
    to_names, to_pages = 0, 0
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action is None or action["/S"] != "/GoTo":
                assert action is None or not str(action.get("/URI", "")).startswith("handbook-"), action
                continue
            target = action["/D"]
            if isinstance(target, str):
                assert target in names, target
                to_names += 1
            else:
                assert reader.get_page_number(target[0].get_object()) >= 0
                to_pages += 1
    assert to_names > 500 and to_pages > 100  # citations and cross-references; contents entries


def test_links_out_of_the_pdf_are_web_addresses(pdf):
    """A page's BibTeX file or the review report is not in the PDF: its link goes to the website,
    never to a relative path that leads nowhere from a downloaded file."""
    reader, _ = pdf
    addresses = [
        str(annot.get_object()["/A"]["/URI"])
        for page in reader.pages
        for annot in page.get("/Annots") or []
        if "/URI" in annot.get_object().get("/A", {})
    ]
    assert addresses and all(re.match(r"(https?|mailto):", a) for a in addresses), [a for a in addresses if "://" not in a][:5]
    assert not any("/cite/" in a for a in addresses), "a page's BibTeX/RIS links are web-only"
    assert "https://iim-handbook.example.org/maintainers/review/" in addresses


def test_contents_page_numbers_lead_to_the_pages_they_name(pdf):
    reader, pages = pdf
    labels = reader.page_labels
    assert labels[:2] == ["i", "ii"] and "1" in labels  # roman front matter, then the body from 1
    contents = "\n".join(pages[1 : labels.index("1")])
    book = build_model(ROOT)
    checked = 0
    for record in book.records:
        if record.kind not in ("therapy", "study"):
            continue
        title = record.data["title"]
        found = re.search(re.escape(title) + r"[ .]+(\d+)\s*$", contents, re.MULTILINE)
        if not found:  # a long title wraps onto two lines in the contents
            continue
        page = labels.index(found.group(1))
        assert squash(title) in squash(pages[page]), (title, found.group(1))
        assert pages[page].rstrip().endswith(found.group(1))  # the footer prints the same number
        checked += 1
    assert checked > 40


def test_parts_are_joined_without_seams(pdf):
    reader, pages = pdf
    assert not any("handbook-section-continued" in page for page in pages)
    assert "handbook-section-continued" not in " ".join(outline_titles(reader.outline))
    top = [item.title for item in reader.outline if not isinstance(item, list)]
    assert top[0] == "Contents" and "Therapies" in top and top[-1] == "References"
    assert not any(record_title in top for record_title in ("Rituximab", "ProDERM trial of IVIG in dermatomyositis"))


def test_pdf_is_tagged_with_title_language_and_figure_alt_text(handbook_site):
    """Typst tags each part; the join keeps one structure tree (PDF/UA-1 needs these; a full
    PDF/UA check, e.g. veraPDF, is not run here)."""
    import subprocess

    import pikepdf

    path = handbook_site / "handbook.pdf"
    with pikepdf.open(path) as pdf:
        assert "/StructTreeRoot" in pdf.Root
        assert bool(pdf.Root.MarkInfo.Marked) is True
        assert str(pdf.Root.Lang) == "en"
        assert str(pdf.docinfo.Title) == "IIM Evidence Handbook"
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
        kinds: dict[str, int] = {}
        figures = []

        def walk(element):
            if isinstance(element, pikepdf.Array):
                for child in element:
                    walk(child)
            elif isinstance(element, pikepdf.Dictionary) and "/S" in element:
                kind = str(element.S)
                kinds[kind] = kinds.get(kind, 0) + 1
                if kind == "/Figure":
                    figures.append(str(element.get("/Alt", "")))
                if "/K" in element:
                    walk(element.K)

        walk(pdf.Root.StructTreeRoot.K)
    assert kinds.get("/Document") == 1 and kinds.get("/H1", 0) > 10 and kinds.get("/Table", 0) > 10 and kinds.get("/Link", 0) > 100
    assert figures and all(figures), f"figures without alternative text: {figures}"
    assert any(alt.startswith("Evidence map") for alt in figures)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True)
    if info.returncode == 0:  # poppler-utils, where installed
        assert re.search(r"^Tagged:\s+yes", info.stdout, re.MULTILINE)


def test_pdf_leaves_out_what_only_works_on_the_web(pdf):
    _, pages = pdf
    text = "\n".join(pages)
    flat = squash(text)
    assert not re.search(r"\bhover", text, re.IGNORECASE), "a hover instruction is printed in the PDF"
    for web_only in ("Edit this record", "Cite this page", "selecting a column heading", "Build speed"):
        assert squash(web_only) not in flat, f"{web_only!r} is printed in the PDF"
    # "Report a problem" only where Contributing explains it (contents line, heading, sentence), not on every record.
    assert flat.count(squash("Report a problem")) <= 3
    assert "figure-scroll" not in text and "tabindex" not in text
    assert "Dermatomyositis:" not in text.split("Evidence map")[-1][:3000]  # the map's phone-only labels
