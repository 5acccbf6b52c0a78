"""The PDF join (generators/pdfjoin.py) on tiny PDFs typeset by Typst: a front matter of two pages
and two body parts, the second beginning inside the first one's chapter."""

import datetime as dt
import re
import shutil
import subprocess

import pikepdf
import pytest
import typst
from pypdf import PdfReader

from generators.pdfjoin import CONTINUED, DEST_LINK, PAGE_LINK, JoinError, Metadata, join, outline_entries

METADATA = Metadata(title="Tiny Handbook", author="Tiny contributors", date=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), language="en")

FRONT = f"""
Cover page.
#pagebreak()
Contents page. #link("{PAGE_LINK}3")[Part B starts on page 3.]
"""
# Part A: a chapter over two pages, a label that part B links to, and a link to a label in part B.
PART_A = f"""
= Chapter one
Page A1 text. #link("{DEST_LINK}b-target")[To part B.]
#pagebreak()
== Section one
Page A2 text.
#heading(level: 6, outlined: false, bookmarked: false)[] <a-target>
#place(hide[#link(<a-target>)[.]])
"""
# Part B continues chapter one (as pdf.py does for a part that begins inside a section), then a new chapter.
PART_B = f"""
#heading(level: 1, outlined: false, bookmarked: true)[{CONTINUED}]
== Section two
Page B1 text. #link("{DEST_LINK}a-target")[Back to part A.]
#heading(level: 6, outlined: false, bookmarked: false)[] <b-target>
#pagebreak()
= Chapter two
Page B2 text.
#place(hide[#link(<b-target>)[.]])
"""


def typeset(folder, name: str, source: str, tagged: bool = True):
    path = folder / f"{name}.pdf"
    path.write_bytes(typst.compile(source.encode(), timestamp=0, pdf_tags=tagged))
    return path


def headings(parts) -> list[dict]:
    """The body's bookmarks, read from each part as pdf.py does while typesetting."""
    entries, next_page = [], 1
    for path in parts:
        with pikepdf.open(path) as part:
            entries += outline_entries(part, next_page, next_page - 1)
            next_page += len(part.pages)
    return entries


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts")
    return typeset(folder, "front", FRONT), [typeset(folder, "a", PART_A), typeset(folder, "b", PART_B)]


@pytest.fixture(scope="module")
def joined(parts, tmp_path_factory):
    front, body = parts
    output = tmp_path_factory.mktemp("joined") / "book.pdf"
    join(front, body, output, headings(body), METADATA)
    return output


def outline_tree(items) -> list:
    return [(item.title, outline_tree(item.children)) if item.children else item.title for item in items]


def goto_targets(reader: PdfReader, page_number: int) -> list:
    return [
        annot.get_object()["/A"]["/D"]
        for annot in reader.pages[page_number].get("/Annots") or []
        if annot.get_object()["/A"]["/S"] == "/GoTo"
    ]


def test_outline_entries_give_level_title_and_pages_and_leave_out_the_continued_heading(parts):
    _, (a, b) = parts
    with pikepdf.open(b) as part:
        entries = outline_entries(part, first_page=3, offset=2)
    assert entries == [
        {"level": 2, "title": "Section two", "page": 3, "index": 2},
        {"level": 1, "title": "Chapter two", "page": 4, "index": 3},
    ]


def test_pages_in_order_front_matter_first(joined):
    reader = PdfReader(joined)
    text = [page.extract_text() for page in reader.pages]
    assert len(text) == 6
    order = ["Cover page", "Contents page", "Page A1", "Page A2", "Page B1", "Page B2"]
    assert [next(i for i, t in enumerate(text) if words in t) for words in order] == list(range(6))
    assert reader.page_labels == ["i", "ii", "1", "2", "3", "4"]


def test_bookmarks_are_one_tree_across_the_parts(joined):
    reader = PdfReader(joined)
    with pikepdf.open(joined) as pdf, pdf.open_outline() as outline:
        tree = outline_tree(outline.root)
    # Part B's first section nests under part A's chapter; no trace of the continued heading.
    assert tree == ["Contents", ("Chapter one", ["Section one", "Section two"]), "Chapter two"]
    pages = {item.title: reader.get_destination_page_number(item) for item in reader.outline if not isinstance(item, list)}
    assert pages == {"Contents": 1, "Chapter one": 2, "Chapter two": 5}


def test_links_between_parts_land_on_the_page_of_their_label(joined):
    reader = PdfReader(joined)
    names = reader.named_destinations
    (to_b,) = goto_targets(reader, 2)  # page A1 links forward into part B
    (to_a,) = goto_targets(reader, 4)  # page B1 links back into part A
    assert (to_b, to_a) == ("b-target", "a-target")
    assert reader.get_destination_page_number(names["b-target"]) == 4
    assert reader.get_destination_page_number(names["a-target"]) == 3
    uris = [str(a.get_object()["/A"].get("/URI", "")) for page in reader.pages for a in page.get("/Annots") or []]
    assert not any(uri.startswith("handbook-") for uri in uris), "a placeholder link is left in the PDF"


def test_contents_link_to_a_printed_page_number_lands_on_that_body_page(joined):
    reader = PdfReader(joined)
    (target,) = goto_targets(reader, 1)
    assert reader.get_page_number(target[0].get_object()) == 4  # printed page 3 of the body
    assert "Page B1" in reader.pages[4].extract_text()


def test_a_link_to_a_label_no_part_defines_is_an_error(tmp_path):
    front = typeset(tmp_path, "front", "Cover.")
    part = typeset(tmp_path, "a", f'= Chapter\n#link("{DEST_LINK}nowhere")[Lost.]')
    with pytest.raises(JoinError, match="links to 1 places that are not in the PDF.*nowhere"):
        join(front, [part], tmp_path / "out.pdf", [], METADATA, front_bookmarks=())
    assert list(tmp_path.glob("out.pdf*")) == []  # nothing half-written


def structure_elements(element, found: list) -> list:
    if isinstance(element, pikepdf.Array):
        for child in element:
            structure_elements(child, found)
    elif isinstance(element, pikepdf.Dictionary) and "/S" in element:
        found.append(element)
        if "/K" in element:
            structure_elements(element.K, found)
    return found


def test_one_structure_tree_holds_every_part(joined):
    with pikepdf.open(joined) as pdf:
        assert bool(pdf.Root.MarkInfo.Marked) is True
        root = pdf.Root.StructTreeRoot
        document = root.K
        assert document.S == pikepdf.Name.Document and document.P.objgen == root.objgen
        assert [str(part.S) for part in document.K] == ["/Part", "/Part", "/Part"]  # front, A, B
        elements = structure_elements(document, [])
        assert sum(1 for e in elements if e.S == pikepdf.Name.Document) == 1
        headings_text = [e for e in elements if str(e.S) in ("/H1", "/H2")]
        assert len(headings_text) >= 4  # chapter one, section one (A); section two, chapter two (B)
        # Every page's marked content and every link annotation points into one ParentTree
        # without two parts sharing a number.
        parent_tree = dict(pikepdf.NumberTree(root.ParentTree).items())
        numbers = [int(page.obj.StructParents) for page in pdf.pages if "/StructParents" in page.obj]
        numbers += [int(a.StructParent) for page in pdf.pages for a in page.obj.get("/Annots", []) if "/StructParent" in a]
        assert len(numbers) == len(set(numbers)) and set(numbers) <= set(parent_tree)
        assert int(root.ParentTreeNextKey) == max(parent_tree) + 1
    if shutil.which("pdfinfo"):  # poppler-utils, where installed (.ci/run installs it)
        info = subprocess.run(["pdfinfo", str(joined)], capture_output=True, text=True, check=True)
        assert re.search(r"^Tagged:\s+yes", info.stdout, re.MULTILINE)
        assert re.search(r"^Pages:\s+6$", info.stdout, re.MULTILINE)


def test_title_author_language_and_dates(joined):
    with pikepdf.open(joined) as pdf:
        assert str(pdf.docinfo.Title) == "Tiny Handbook" and str(pdf.docinfo.Author) == "Tiny contributors"
        assert str(pdf.docinfo.CreationDate) == "D:20261201000000Z"
        assert str(pdf.Root.Lang) == "en"
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
        meta = pdf.open_metadata()
        assert meta["dc:title"] == "Tiny Handbook"


def test_an_untagged_part_leaves_the_whole_pdf_untagged(parts, tmp_path):
    """Claiming a structure that misses pages would mislead a screen reader."""
    front, (a, _) = parts
    untagged = typeset(tmp_path, "b", PART_B.replace(f'#link("{DEST_LINK}a-target")', "#link(<b-target>)"), tagged=False)
    join(front, [a, untagged], tmp_path / "out.pdf", [], METADATA)
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        assert "/StructTreeRoot" not in pdf.Root and "/MarkInfo" not in pdf.Root
        assert len(pdf.pages) == 6


def test_joining_twice_gives_the_same_bytes(parts, joined, tmp_path):
    front, body = parts
    join(front, body, tmp_path / "again.pdf", headings(body), METADATA)
    assert (tmp_path / "again.pdf").read_bytes() == joined.read_bytes()


def test_text_that_looks_like_a_reference_is_kept_as_written(parts, tmp_path):
    """The join renumbers references ("12 0 R") in the parts' objects; inside strings they are text."""
    front, (a, _) = parts
    odd = typeset(tmp_path, "odd", PART_B + '\n#link("https://example.org/see 1 0 R (and 2 0 R)")[Odd link.]\n')
    join(front, [a, odd], tmp_path / "out.pdf", [], METADATA)
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        uris = [str(annot.A.URI) for page in pdf.pages for annot in page.obj.get("/Annots", []) if "/URI" in annot.A]
    assert "https://example.org/see 1 0 R (and 2 0 R)" in uris
