"""The offline PDF, read back as text."""

import re
import shutil

import pytest
from conftest import ROOT, TODAY

from generators.bibliography import format_reference
from generators.model import KIND_ORDER, SECTION, build_model


@pytest.fixture(scope="module")
def pdf(handbook_pdf):
    return handbook_pdf


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
    # a semantic version: the release, or the release to come with the commit it was built from
    assert re.search(r"Version \d+\.\d+\.\d+(-dev)?(\+[0-9a-z.]+)?", cover) and "Not medical advice" in cover
    assert all(re.search(r"version \d+\.\d+\.\d+", page) for page in pages[2:12])  # in every footer


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


def _structure_elements(pdf):
    """Every structure element of the tagged PDF, parents before children."""
    import pikepdf

    stack, found = [pdf.Root.StructTreeRoot.K], []
    while stack:
        element = stack.pop()
        if isinstance(element, pikepdf.Array):
            stack.extend(reversed(list(element)))
        elif isinstance(element, pikepdf.Dictionary) and "/S" in element:
            found.append(element)
            if "/K" in element:
                stack.append(element.K)
    return found


def _has_content(element) -> bool:
    """Whether a structure element holds marked content (text, an image) anywhere below it."""
    import pikepdf

    kids = element.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
        if isinstance(kid, int) or (isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") in ("/MCR", "/OBJR")):
            return True
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid and _has_content(kid):
            return True
    return False


def test_pdf_is_tagged_with_title_language_and_figure_alt_text(handbook_site):
    """Typst tags each part; the join keeps one structure tree. PDF/UA-1 checks that can be made
    without veraPDF: marked, language, title shown as the window title, every figure with alternative
    text, no empty heading, header cells in every table, unique element ids, tab order by structure."""
    import subprocess

    import pikepdf

    path = handbook_site / "handbook.pdf"
    with pikepdf.open(path) as pdf:
        assert "/StructTreeRoot" in pdf.Root
        assert bool(pdf.Root.MarkInfo.Marked) is True
        assert str(pdf.Root.Lang) == "en"
        assert str(pdf.docinfo.Title) == "IIM Evidence Handbook"
        with pdf.open_metadata() as meta:
            assert meta.get("dc:title") == "IIM Evidence Handbook"
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
        untabbed = [i + 1 for i, page in enumerate(pdf.pages) if page.obj.get("/Tabs") != pikepdf.Name.S]
        assert not untabbed, f"pages without /Tabs /S (links in structure order): {untabbed[:10]}"
        elements = _structure_elements(pdf)
        kinds: dict[str, int] = {}
        for element in elements:
            kinds[str(element.S)] = kinds.get(str(element.S), 0) + 1
        figures = [str(e.get("/Alt", "")) for e in elements if e.S == "/Figure"]
        empty_headings = [
            str(e.S) for e in elements if str(e.S) in ("/H", "/H1", "/H2", "/H3", "/H4", "/H5", "/H6") and not _has_content(e)
        ]
        tables = [e for e in elements if e.S == "/Table"]
        without_headers = [t for t in tables if not any(e.S == "/TH" for e in _structure_elements_under(t))]
        ids = [str(e.ID) for e in elements if "/ID" in e]
        id_tree = dict(pikepdf.NameTree(pdf.Root.StructTreeRoot.IDTree).items()) if ids else {}
        scopes = {str(a.get("/Scope")) for e in elements if e.S == "/TH" for a in _attribute_dicts(e) if a.get("/O") == "/Table"}
    assert kinds.get("/Document") == 1 and kinds.get("/H1", 0) > 10 and kinds.get("/Table", 0) > 10 and kinds.get("/Link", 0) > 100
    assert figures and all(figures), f"figures without alternative text: {figures}"
    assert any(alt.startswith("Evidence map") for alt in figures)
    assert not empty_headings, (
        f"{len(empty_headings)} empty heading elements ({sorted(set(empty_headings))}): a screen reader announces a heading with nothing in it"
    )
    assert not without_headers, f"{len(without_headers)} of {len(tables)} tables have no header cell (TH)"
    assert scopes <= {"/Column", "/Row", "/Both"} and "/Row" in scopes  # the fact tables' first column names each row
    assert len(ids) == len(set(ids)), "structure element ids repeat (the parts' ids were not made unique)"
    assert set(id_tree) == set(ids)
    if shutil.which("pdfinfo"):  # poppler-utils, where installed (.ci/run installs it)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        assert re.search(r"^Tagged:\s+yes", info.stdout, re.MULTILINE)


def _structure_elements_under(element):
    import pikepdf

    kids = element.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            yield from _structure_elements_under(kid)


def _attribute_dicts(element):
    import pikepdf

    given = element.get("/A")
    return list(given) if isinstance(given, pikepdf.Array) else [given] if given is not None else []


def _glyph_widths(font) -> tuple[dict[int, float], float, int]:
    """A font's glyph widths (thousandths of the font size), the default width, and bytes per code."""
    if font.get("/Subtype") == "/Type0":  # Typst: composite fonts, two-byte glyph ids
        descendant = font.DescendantFonts[0]
        widths, spec = {}, list(descendant.get("/W", []))
        i = 0
        while i < len(spec):
            first = int(spec[i])
            if isinstance(spec[i + 1], (int, float)) or not hasattr(spec[i + 1], "__len__"):
                for code in range(first, int(spec[i + 1]) + 1):
                    widths[code] = float(spec[i + 2])
                i += 3
            else:
                for offset, width in enumerate(spec[i + 1]):
                    widths[first + offset] = float(width)
                i += 2
        return widths, float(descendant.get("/DW", 1000)), 2
    first = int(font.get("/FirstChar", 0))
    return {first + i: float(w) for i, w in enumerate(font.get("/Widths", []))}, 0.0, 1


def text_runs_and_vertical_rules(page, font_cache: dict | None = None):
    """What a page draws, in page coordinates: each run of text as (left, right, baseline), and each
    vertical line (the borders between table cells) as (x, bottom, top)."""
    import pikepdf

    font_cache = {} if font_cache is None else font_cache

    def times(a, b):  # affine matrices as (a, b, c, d, e, f), a then b
        return (
            a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5],
        )  # fmt: skip

    def point(m, x, y):
        return x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5]

    fonts = {}
    for name, font in page.obj.Resources.get("/Font", {}).items():
        if font.objgen not in font_cache:  # the parts share their fonts over many pages
            font_cache[font.objgen] = _glyph_widths(font)
        fonts[str(name)] = font_cache[font.objgen]
    identity = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    ctm, saved, text_matrix, font, size, start = identity, [], identity, ({}, 0.0, 1), 0.0, None
    runs, rules = [], []
    for operands, operator in pikepdf.parse_content_stream(page, "q Q cm BT Tm Tf TJ Tj m l"):  # all it needs, and quicker
        op = str(operator)
        if op == "q":
            saved.append(ctm)
        elif op == "Q":
            ctm = saved.pop()
        elif op == "cm":
            ctm = times(tuple(float(v) for v in operands), ctm)
        elif op == "BT":
            text_matrix = identity
        elif op == "Tm":
            text_matrix = tuple(float(v) for v in operands)
        elif op == "Tf":
            font, size = fonts[str(operands[0])], float(operands[1])
        elif op in ("TJ", "Tj"):
            widths, default, step = font
            advance = 0.0
            for item in operands[0] if op == "TJ" else [operands[0]]:
                if isinstance(item, pikepdf.String):
                    data = bytes(item)
                    codes = [int.from_bytes(data[i : i + step], "big") for i in range(0, len(data), step)]
                    advance += sum(widths.get(c, default) for c in codes) / 1000 * size
                else:
                    advance -= float(item) / 1000 * size
            matrix = times(text_matrix, ctm)
            (x0, y0), (x1, _) = point(matrix, 0, 0), point(matrix, advance, 0)
            runs.append((min(x0, x1), max(x0, x1), y0))
        elif op == "m":
            start = point(ctm, float(operands[0]), float(operands[1]))
        elif op == "l" and start is not None:
            end = point(ctm, float(operands[0]), float(operands[1]))
            if abs(start[0] - end[0]) < 0.01 and abs(start[1] - end[1]) > 1:
                rules.append((start[0], min(start[1], end[1]), max(start[1], end[1])))
            start = end
    return runs, rules


def test_no_table_text_runs_over_a_cell_border(handbook_site, pdf):
    """Long words (drug, study and subtype names) in narrow columns, above all the evidence map's ten:
    no run of text crosses a vertical cell border anywhere in the PDF. Measured from the glyph widths
    the PDF itself declares for the fonts it draws with."""
    import pikepdf

    _, texts = pdf
    crossings, map_pages, fonts = [], [], {}
    with pikepdf.open(handbook_site / "handbook.pdf") as document:
        for number, page in enumerate(document.pages, start=1):
            runs, rules = text_runs_and_vertical_rules(page, fonts)
            if not rules:
                continue
            if "Antisynthetase" in texts[number - 1] and len(rules) >= 10:
                map_pages.append(number)
            for left, right, baseline in runs:
                for x, bottom, top in rules:
                    if left + 0.5 < x < right - 0.5 and bottom - 1 <= baseline <= top + 1:
                        where = texts[number - 1].strip().split("\n")[0][:60]
                        crossings.append(
                            f"page {number} ({where}): text from x={left:.0f} to {right:.0f} pt crosses the border at x={x:.0f} pt"
                        )
    evidence_map = [n for n in map_pages if "Evidence map" in texts[n - 1] or "Therapy" in texts[n - 1]]
    assert evidence_map, "the evidence map's table was not found (a page with the subtypes and ten or more cell borders)"
    assert not crossings, f"{len(crossings)} runs of text cross a table cell border:\n" + "\n".join(crossings[:20])


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


def test_findings_print_where_in_the_source_they_stand_after_the_reference_number(pdf):
    _, pages = pdf
    text = re.sub(r"\s+", " ", "\n".join(pages))
    # "48.4 vs 21.6. ³⁰³, news report (medwireNews)": the number of the reference, then the place in it
    assert re.search(r"48\.4 vs 21\.6\. \d+, news report \(medwireNews\)", text), "no locator after the ProDERM citation"
    assert len(re.findall(r"\d+, abstract \(results\)", text)) >= 100
    assert "Where this stands in" not in text  # the web note with the check date is not printed
    assert "checked against the source on 2026-12-07" in text  # the date is in the Source column instead
