"""One LaTeX decoder for every output: no LaTeX markup reaches a reader (site, PDF, exports)."""

import csv
import html
import io
import json
import re

import pytest

# A LaTeX command or accent (\aa, \"o, \&), or a brace group around letters ({\aa}, {Care}).
LATEX = re.compile(r"\\[A-Za-z]+|\\[\"'`^~=.&%_]|\{\\|[{}]")
_SKIPPED = re.compile(r"<(script|style|pre|code)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")


def visible_text(page: str) -> str:
    return html.unescape(_TAG.sub(" ", _SKIPPED.sub(" ", page)))


def latex_in(text: str) -> list[str]:
    return [text[max(0, m.start() - 30) : m.end() + 30] for m in LATEX.finditer(text)]


def test_known_names_read_as_unicode(handbook_site):
    text = " ".join(visible_text(p.read_text(encoding="utf-8")) for p in (handbook_site / "references").rglob("index.html"))
    assert "Bergegård J" in text and "Dörner T" in text


def test_no_latex_in_any_page(handbook_site):
    found = {}
    for path in sorted(handbook_site.rglob("*.html")):
        hits = latex_in(visible_text(path.read_text(encoding="utf-8")))
        if hits:
            found[path.relative_to(handbook_site).as_posix()] = hits[:3]
    assert not found, found


def test_no_latex_in_the_pdf(handbook_pdf):
    _, pages = handbook_pdf
    text = "\n".join(pages)
    assert "Bergegård J" in text.replace("\n", " ")
    assert [hit for hit in latex_in(text) if "\\" in hit] == []  # no LaTeX command anywhere
    start = max(i for i, p in enumerate(pages) if p.lstrip().startswith("References"))
    assert latex_in("\n".join(pages[start:])) == []  # the reference list: no braces either


def strings(value):
    """Every string in a JSON value (a CSV cell may hold JSON)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        if value[:1] in "[{":
            try:
                yield from strings(json.loads(value))
                return
            except ValueError:
                pass
        yield value


@pytest.mark.parametrize("name", ["references.csl.json", "references.ris", "handbook.json", "study.csv", "therapy.json"])
def test_no_latex_in_the_exports(handbook_site, name):
    text = (handbook_site / "data" / name).read_text(encoding="utf-8")
    if name.endswith(".json"):
        values = list(strings(json.loads(text)))
    elif name.endswith(".csv"):
        values = list(strings([cell for row in csv.reader(io.StringIO(text)) for cell in row]))
    else:
        values = text.splitlines()
    assert [hit for value in values for hit in latex_in(value)] == []
