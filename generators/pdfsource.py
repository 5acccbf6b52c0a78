"""The PDF's source, made by the build from the model: every page of the site in navigation order, as
Markdown with in-document links, citations numbered across the whole book and one reference list, cut
into parts of bounded size. `python -m generators build` writes them to build/pdf/; the PDF step
(generators/pdf.py) typesets them and needs nothing else.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from .model import KIND_ORDER, SECTION, Handbook
from .pdfjoin import CONTINUED
from .render import reference_markdown

_CITATION = re.compile(r"\[(@[\w-]+(?:;\s*@[\w-]+)*)\]")
# A citation followed by where in the source a finding stands (render.py's cite filter): the PDF prints the
# place after the reference number, "³ Table 2"; the web-only note with the check date is left out.
_LOCATED_CITATION = re.compile(
    r'\[(@[\w-]+(?:;\s*@[\w-]+)*)\]<span class="locator"><button [^>]*>(.*?)</button><span class="locator-tip"[^>]*>.*?</span></span>'
)
_LINK = re.compile(r"\]\(([^)\s]+?\.md)(#[\w-]+)?\)")
_FILE_LINK = re.compile(r"\]\((?![a-zA-Z][\w+.-]*:|#|/)([^)\s]+?)\)")  # relative, not a page: ../cite/x.bib
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+\.svg)\)(?:\{[^}\n]*\})?")
_HEADING = re.compile(r"^(#{1,5}) ", re.MULTILINE)
# An admonition's body: indented lines, with blank lines inside it when more indented lines follow.
_ADMONITION = re.compile(r'^!!! \w+ "([^"]*)"\n((?:    .*(?:\n|$)|\n(?=    ))+)', re.MULTILINE)
# The interactive calculators (templates/_calculator-*.md.j2): a heading and a raw HTML form
# between these comments. Paper has no use for them; their tables, outside the markers, are printed.
_CALCULATOR = re.compile(r"^<!-- (calculator|web-only):start -->\n.*?^<!-- \1:end -->\n?", re.MULTILINE | re.DOTALL)
# Web-only text (generalising the calculators): blocks between <!-- web-only:start --> and
# <!-- web-only:end -->, inline <span class="... web-only ...">, and block attribute lines ({: ... })
# that only style or make focusable a web page's paragraph.
_WEB_ONLY_SPAN = re.compile(r'(?: ·)? ?<span class="[^"]*\bweb-only\b[^"]*">[^<]*</span> ?')
_BLOCK_ATTRIBUTES = re.compile(r"^\{:[^}\n]*\}[ \t]*\n", re.MULTILINE)


_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)

# Pages whose tables have too many columns for an upright A4 page: in landscape the evidence map's
# ten columns and the pipeline's eight get half as much room again, so names and registry ids fit.
LANDSCAPE_PAGES = {"views/evidence-map.md", "views/pipeline.md", "views/concordance.md"}
_PAGE_FLIPPED = "```{{=typst}}\n#set page(flipped: {})\n```"


def anchor_for(page: str) -> str:
    return "p-" + page.removesuffix(".md").removesuffix("/index").replace("/", "-")


def _anchor(label: str) -> str:
    """A place a link can reach across separately typeset parts: Typst names a destination for a
    heading, not for a block, so the anchor is an empty level-6 heading the template hides. It is
    an artifact, so it is no empty heading in the tagged structure (PDF/UA checkers flag those)."""
    return f"```{{=typst}}\n#pdf.artifact[\n#heading(level: 6, outlined: false, bookmarked: false)[] <{label}>\n]\n```"


def _plain_admonitions(text: str) -> str:
    """Admonitions become block quotes that keep their paragraphs and lists."""

    def replace(m):
        lines = [line[4:] for line in m.group(2).rstrip("\n").split("\n")]
        body = "\n".join(f"> {line}".rstrip() for line in lines)
        return f"> **{m.group(1)}.**\n>\n{body}\n\n"

    return _ADMONITION.sub(replace, text)


# Pages of the site that the PDF leaves out: it numbers its own references, and the what's-new list
# and the maintainers' review report belong to the website.
PDF_LEAVES_OUT = ("references/", "whats-new.md", "maintainers/")


def navigation_of(book: Handbook, docs_dir: Path) -> list:
    """The site's navigation, as build.py writes it into build/mkdocs.yml."""
    from .build import navigation

    hand_written = sorted(p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md"))
    return navigation(book, hand_written)[0]


class BookAssembler:
    """Turns site pages into one Markdown document with in-document links and citations."""

    def __init__(
        self,
        book: Handbook,
        pages: dict[str, str],
        docs_dir: Path,
        assets: set[str] = frozenset(),
        site_url: str = "",
        nav: list | None = None,
    ):
        self.book = book
        self.nav = nav if nav is not None else navigation_of(book, docs_dir)
        self.site_url = site_url  # pages and files that are not in the PDF are linked on the website
        self.pages = pages
        self.docs_dir = docs_dir
        self.assets = assets  # figures written beside the Typst source, under their site paths
        self.order: list[str] = []  # cited keys, first citation first
        self.included: set[str] = set()

    def _page_text(self, page: str) -> str:
        if page in self.pages:
            return _FRONT_MATTER.sub("", self.pages[page], count=1)  # search settings, for the website only
        return (self.docs_dir / page).read_text(encoding="utf-8")

    def _number(self, key: str) -> int:
        if key not in self.order:
            self.order.append(key)
        return self.order.index(key) + 1

    def _cite(self, m) -> str:
        keys = [k.strip().lstrip("@") for k in m.group(1).split(";")]
        marks = ",".join(f"[{self._number(k)}](#ref-{k})" for k in keys)
        return f"^{marks}^"

    def _located_cite(self, m) -> str:
        place = m.group(2).replace(" ", "\\ ")  # a superscript may not hold a bare space
        return f"{self._cite(m)[:-1]},\\ {place}^"

    def _link(self, page: str, m) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), m.group(1)))
        if m.group(2):
            return f"](#{m.group(2)[1:]})"
        if target == "references/index.md":
            return "](#references)"
        if target in self.assets:
            return f"]({target})"
        if target not in self.included:
            return f"]({self._on_website(target, m.group(1))})"
        return f"](#{anchor_for(target)})"

    def _on_website(self, target: str, as_written: str) -> str:
        """The address of a page or file that is not in the PDF (the review report, a page's BibTeX
        file), on the website; as written, and so inert, when the site has no address."""
        if not self.site_url:
            return as_written
        if target.endswith(".md"):  # MkDocs' directory URLs: studies/index.md -> studies/, about.md -> about/
            target = target.removesuffix(".md").removesuffix("index").rstrip("/")
            target = target + "/" if target else ""
        return self.site_url.rstrip("/") + "/" + target

    def _file_link(self, page: str, m) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), m.group(1)))
        if m.group(1).partition("#")[0].endswith(".md") or target in self.assets:
            return m.group(0)  # pages and figures: _link and _image
        return f"]({self._on_website(target, m.group(1))})"

    def _image(self, page: str, m) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), m.group(2)))
        if target not in self.assets:
            return m.group(1)
        # Typst, not pandoc (which drops it), gives the figure its alternative text for the tagged PDF.
        alt = m.group(1).replace("\\", "\\\\").replace('"', '\\"')
        return f'\n```{{=typst}}\n#figure(page-image("{target}", "{alt}"), kind: image)\n```\n'

    def _prepare(self, page: str, demote: int) -> str:
        text = _WEB_ONLY_SPAN.sub("", _BLOCK_ATTRIBUTES.sub("", _CALCULATOR.sub("", self._page_text(page))))
        text = _plain_admonitions(text)
        text = _HEADING.sub(lambda m: "#" * (len(m.group(1)) + demote) + " ", text)
        lines = text.split("\n")
        for i, line in enumerate(lines):  # the page's own heading carries its anchor
            if line.startswith("#"):
                lines[i] = f"{line} {{#{anchor_for(page)}}}"
                break
        text = "\n".join(lines)
        text = re.sub(r"\{ #([\w-]+) \}", r"{#\1}", text)
        text = _FILE_LINK.sub(lambda m: self._file_link(page, m), text)
        text = _IMAGE.sub(lambda m: self._image(page, m), text)
        text = _LINK.sub(lambda m: self._link(page, m), text)
        text = _LOCATED_CITATION.sub(self._located_cite, text)
        text = _CITATION.sub(self._cite, text)
        if page in LANDSCAPE_PAGES:  # on pages of its own, turned sideways; the next page is upright again
            text = f"{_PAGE_FLIPPED.format('true')}\n\n{text}\n\n{_PAGE_FLIPPED.format('false')}"
        return text

    def plan(self) -> list[tuple[str, int]]:
        """(page, heading demotion) in the order of the site's navigation, so a page added under docs/
        reaches the PDF where it sits on the site. A record page sits under its section's index page
        (demoted one level); a section whose records the sidebar leaves out (too many) lists them all
        here. The PDF has its own numbered reference list and no use for the what's-new and review pages."""
        folders = {SECTION[kind][0]: kind for kind in KIND_ORDER}
        plan: list[tuple[str, int]] = []

        def walk(entries: list, in_section: bool) -> None:
            for entry in entries:
                value = next(iter(entry.values())) if isinstance(entry, dict) else entry
                if isinstance(value, list):
                    has_index = bool(value) and isinstance(value[0], str) and value[0].endswith("/index.md")
                    walk(value, has_index)
                    folder = value[0].removesuffix("/index.md") if has_index else ""
                    if folder in folders and not any(isinstance(e, dict) for e in value[1:]):
                        plan.extend((self.book.page(r), 1) for r in self.book.kind(folders[folder]))
                elif not value.startswith(PDF_LEAVES_OUT):
                    plan.append((value, 1 if in_section and not value.endswith("/index.md") else 0))

        walk(self.nav, False)
        return list(dict.fromkeys(plan))

    def parts(self) -> list[tuple[str, bool]]:
        """The book as Markdown, one part per page, the reference list last; each part says whether
        it sits inside a section (a record page, under its kind's index page)."""
        plan = self.plan()
        self.included = {page for page, _ in plan} | {"references/index.md"}
        parts = [(self._prepare(page, demote), demote > 0) for page, demote in plan]
        return parts + [(text, False) for text in self.reference_list()]

    def markdown(self) -> str:
        return "\n\n".join(text for text, _ in self.parts())

    def reference_list(self) -> list[str]:
        """The numbered reference list, in parts of REFERENCES_PER_PART entries (each part is typeset alone)."""
        parts: list[str] = []
        lines = [
            "# References {#references}",
            "",
            "Numbered in order of first citation. DOI and PubMed identifiers link to the source records.",
            "",
        ]
        for number, key in enumerate(self.order, start=1):
            entry_lines = [_anchor(f"ref-{key}"), f"{number}\\. {reference_markdown(self.book.bibliography.entries[key])}", ""]
            if number % REFERENCES_PER_PART == 1 and number > 1:
                parts.append("\n".join(lines))
                lines = []
            lines += entry_lines
        parts.append("\n".join(lines))
        return parts


# Typst holds a whole document's layout in memory (about 2 MB a page) and pandoc slows down on one
# huge document, so the body is converted and typeset in parts of about 60 record pages, each in
# its own process, and the parts are joined into one PDF. Peak memory then no longer grows with
# the size of the handbook.
CHUNK_CHARACTERS = 200_000
REFERENCES_PER_PART = 150


# A part that begins inside a section opens with this invisible level-1 heading, so that Typst
# nests the part's first record pages under it in the bookmarks, and their level can be read back.
# An artifact: it shapes the bookmarks, and has no place in the tagged structure a screen reader reads.
_CONTINUED_HEADING = (
    f"```{{=typst}}\n#pdf.artifact[#heading(level: 1, outlined: false, bookmarked: true, supplement: [continued])[{CONTINUED}]]\n```"
)


def _chunks(parts: list[tuple[str, bool]]) -> list[str]:
    chunks, current, size = [], [], 0
    for part, in_section in parts:
        if current and size + len(part) > CHUNK_CHARACTERS:
            chunks.append("\n\n".join(current))
            current, size = [], 0
        if not current and in_section:
            current.append(_CONTINUED_HEADING)
        current.append(part)
        size += len(part)
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def pdf_source(book: Handbook, pages: dict[str, str], docs_dir: Path, assets: set[str], site_url: str, nav: list) -> list[str]:
    """The PDF's Markdown in parts, as the PDF step typesets them one after the other."""
    return _chunks(BookAssembler(book, pages, docs_dir, assets, site_url, nav).parts())
