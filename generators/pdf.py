"""The offline PDF: every page of the site in navigation order, one numbered reference list.

Route: our Markdown -> pandoc (PyPI wheel pypandoc_binary) -> Typst -> PDF (PyPI wheel typst).
No system packages. Citations are numbered here, in order of first citation across the whole
book, so the PDF has one consistent numbering and a reference list with DOI and PubMed links.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import subprocess
import tempfile
from pathlib import Path

from .bibliography import doi_url, format_reference, pmid_url
from .model import KIND_ORDER, SECTION, Handbook
from .render import md_escape

TEMPLATE = Path(__file__).resolve().parent / "templates" / "handbook.typ"
DISCLAIMER = (
    "This handbook summarises published evidence on idiopathic inflammatory myopathies for clinicians, "
    "trainees and researchers. It does not replace clinical judgement, the product information of any "
    "medicine, or local and national guidance. Doses are given as studied, not as recommendations."
)

_CITATION = re.compile(r"\[(@[\w-]+(?:;\s*@[\w-]+)*)\]")
_LINK = re.compile(r"\]\(([^)\s]+?\.md)(#[\w-]+)?\)")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+\.svg)\)")
_HEADING = re.compile(r"^(#{1,5}) ", re.MULTILINE)
_ADMONITION = re.compile(r'^!!! \w+ "([^"]*)"\n((?:    .*\n?)+)', re.MULTILINE)


class PdfError(Exception):
    pass


def anchor_for(page: str) -> str:
    return "p-" + page.removesuffix(".md").removesuffix("/index").replace("/", "-")


def _plain_admonitions(text: str) -> str:
    def replace(m):
        body = " ".join(line.strip() for line in m.group(2).splitlines())
        return f"> **{m.group(1)}.** {body}\n"

    return _ADMONITION.sub(replace, text)


class BookAssembler:
    """Turns site pages into one Markdown document with in-document links and citations."""

    def __init__(self, book: Handbook, pages: dict[str, str], docs_dir: Path, assets: set[str] = frozenset()):
        self.book = book
        self.pages = pages
        self.docs_dir = docs_dir
        self.assets = assets  # figures written beside the Typst source, under their site paths
        self.order: list[str] = []  # cited keys, first citation first
        self.included: set[str] = set()

    def _page_text(self, page: str) -> str:
        if page in self.pages:
            return self.pages[page]
        return (self.docs_dir / page).read_text(encoding="utf-8")

    def _number(self, key: str) -> int:
        if key not in self.order:
            self.order.append(key)
        return self.order.index(key) + 1

    def _cite(self, m) -> str:
        keys = [k.strip().lstrip("@") for k in m.group(1).split(";")]
        marks = ",".join(f"[{self._number(k)}](#ref-{k})" for k in keys)
        return f"^{marks}^"

    def _link(self, page: str, m) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), m.group(1)))
        if m.group(2):
            return f"](#{m.group(2)[1:]})"
        if target == "references/index.md":
            return "](#references)"
        if target in self.assets:
            return f"]({target})"
        if target not in self.included:
            return f"]({m.group(1)})"  # not part of the PDF: leave the text, the link will be inert
        return f"](#{anchor_for(target)})"

    def _image(self, page: str, m) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), m.group(2)))
        return f"![{m.group(1)}]({target})" if target in self.assets else m.group(1)

    def _prepare(self, page: str, demote: int) -> str:
        text = _plain_admonitions(self._page_text(page))
        text = _HEADING.sub(lambda m: "#" * (len(m.group(1)) + demote) + " ", text)
        lines = text.split("\n")
        for i, line in enumerate(lines):  # the page's own heading carries its anchor
            if line.startswith("#"):
                lines[i] = f"{line} {{#{anchor_for(page)}}}"
                break
        text = "\n".join(lines)
        text = re.sub(r"\{ #([\w-]+) \}", r"{#\1}", text)
        text = _IMAGE.sub(lambda m: self._image(page, m), text)
        text = _LINK.sub(lambda m: self._link(page, m), text)
        return _CITATION.sub(self._cite, text)

    def plan(self) -> list[tuple[str, int]]:
        """(page, heading demotion) in the order of the site's navigation."""
        plan: list[tuple[str, int]] = [("index.md", 0), ("about.md", 0)]
        for kind in KIND_ORDER:
            folder, _ = SECTION[kind]
            plan.append((f"{folder}/index.md", 0))
            plan += [(self.book.page(r), 1) for r in self.book.kind(kind)]
        plan += [("views/evidence-map.md", 0), ("views/antibodies.md", 0), ("views/pipeline.md", 0), ("contributing.md", 0)]
        return plan

    def parts(self) -> list[str]:
        """The book as Markdown, one part per page, the reference list last."""
        plan = self.plan()
        self.included = {page for page, _ in plan} | {"references/index.md"}
        parts = [self._prepare(page, demote) for page, demote in plan]
        parts.append(self.reference_list())
        return parts

    def markdown(self) -> str:
        return "\n\n".join(self.parts())

    def reference_list(self) -> str:
        lines = [
            "# References {#references}",
            "",
            "Numbered in order of first citation. DOI and PubMed identifiers link to the source records.",
            "",
        ]
        for number, key in enumerate(self.order, start=1):
            entry = self.book.bibliography.entries[key]
            links = []
            if doi_url(entry):
                links.append(f"[doi:{md_escape(entry.fields['doi'])}]({doi_url(entry)})")
            if pmid_url(entry):
                links.append(f"[PMID {md_escape(entry.fields['pmid'])}]({pmid_url(entry)})")
            lines += [f"::: {{#ref-{key}}}", f"{number}\\. {md_escape(format_reference(entry))} {' '.join(links)}", ":::", ""]
        return "\n".join(lines)


def git_version(root: Path) -> str:
    try:
        out = subprocess.run(["git", "describe", "--tags", "--always", "--dirty"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unversioned"
    return out.stdout.strip() or "unversioned"


BODY_PLACEHOLDER = "HANDBOOKBODYGOESHERE"
CHUNK_CHARACTERS = 300_000  # about 100 record pages per pandoc run


def _chunks(parts: list[str]) -> list[str]:
    chunks, current, size = [], [], 0
    for part in parts:
        if current and size + len(part) > CHUNK_CHARACTERS:
            chunks.append("\n\n".join(current))
            current, size = [], 0
        current.append(part)
        size += len(part)
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def _to_typst(pypandoc, markdown: str, extra: list[str] | None = None) -> str:
    return pypandoc.convert_text(markdown, "typst", format="markdown-implicit_figures", extra_args=["--columns=200", *(extra or [])])


def build_pdf(
    book: Handbook, pages: dict[str, str], docs_dir: Path, output: Path, version: str, date: dt.date, assets: dict[str, str] | None = None
) -> Path:
    try:
        import pypandoc
        import typst
    except ImportError as error:  # a clear message, never an empty PDF
        raise PdfError(f"the PDF needs the packages pypandoc_binary and typst ({error}); run make site to install them") from None
    assets = assets or {}
    parts = BookAssembler(book, pages, docs_dir, set(assets)).parts()
    with tempfile.TemporaryDirectory() as tmp:
        for rel, content in assets.items():
            (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / rel).write_text(content, encoding="utf-8")
        source = Path(tmp) / "handbook.typ"
        variables = {
            "title": "IIM Evidence Handbook",
            "subtitle": "An open, living evidence handbook on idiopathic inflammatory myopathies",
            "version": version,
            "date": date.isoformat(),
            "disclaimer": DISCLAIMER,
        }
        try:
            # pandoc's time and memory grow faster than linearly with one huge document, so the
            # pages are converted in chunks and set into the template's shell; Typst resolves the
            # links between chunks.
            body = "\n".join(_to_typst(pypandoc, chunk) for chunk in _chunks(parts))
            shell = _to_typst(
                pypandoc,
                BODY_PLACEHOLDER,
                ["--standalone", f"--template={TEMPLATE}"]
                + [arg for name, value in variables.items() for arg in ("-V", f"{name}={value}")],
            )
        except (OSError, RuntimeError) as error:
            raise PdfError(f"pandoc could not convert the handbook: {error}") from None
        if shell.count(BODY_PLACEHOLDER) != 1:
            raise PdfError("the PDF template has no place for the body ($body$)")
        source.write_text(shell.replace(BODY_PLACEHOLDER, body), encoding="utf-8")
        stamp = dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC)
        try:
            typst.compile(str(source), output=str(output), timestamp=int(stamp.timestamp()))
        except Exception as error:  # typst raises its own error type with the failing line
            raise PdfError(f"Typst could not typeset the handbook: {error}") from None
    if not output.exists() or output.stat().st_size < 1000:
        raise PdfError(f"the PDF {output} was not written")
    return output
