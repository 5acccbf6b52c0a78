"""Citations become numbered footnotes per page, without any MkDocs plugin."""

import markdown

from generators.citations import footnote_citations

EXTENSIONS = ["tables", "admonition", "attr_list", "md_in_html", "footnotes", "toc"]  # as in mkdocs.yml


def refs(key):
    return f"Reference text of {key}."


def html(text):
    return markdown.markdown(text, extensions=EXTENSIONS)


def test_citations_are_numbered_in_order_of_first_citation_with_the_list_at_the_end():
    text, problems = footnote_citations("# Page\n\nOne [@b2020]. Two [@a2019; @b2020]. Three [@a2019].\n", refs)
    assert problems == []
    assert text.endswith("[^b2020]: Reference text of b2020.\n[^a2019]: Reference text of a2019.\n")
    page = html(text)
    assert '<a class="footnote-ref" href="#fn:b2020">1</a>' in page
    assert '<a class="footnote-ref" href="#fn:a2019">2</a>' in page
    footer = page[page.index('<div class="footnote">') :]
    assert footer.index("Reference text of b2020.") < footer.index("Reference text of a2019.")


def test_adjacent_citations_never_read_as_one_number():
    page = html(footnote_citations("Two trials [@a2019; @b2020].\n", refs)[0])
    marks = page[page.index("Two trials") : page.index("</p>")]
    visible = "".join(part.split(">")[-1] for part in marks.split("<"))
    assert visible == "Two trials 1,2." and "12" not in visible
    assert '<sup class="cite-sep">,</sup>' in marks


def test_code_is_left_as_written_and_pages_without_citations_are_unchanged():
    source = "Write `[@key]` in a record.\n\n```\ncite: [@x]\n```\n"
    assert footnote_citations(source, refs) == (source, [])
    assert footnote_citations("No citations here.\n", refs) == ("No citations here.\n", [])


def test_unknown_keys_are_problems_with_their_line():
    text, problems = footnote_citations("# Page\n\nSee [@nosuch; @a2019].\n", refs, known={"a2019"}, where="docs/about.md")
    assert [str(p) for p in problems] == ['docs/about.md:3: cites "nosuch", which is not in references.bib']
