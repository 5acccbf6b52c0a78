"""Render the handbook model into Markdown pages, one Jinja2 template per page kind.

Every value a template prints is escaped for Markdown and HTML unless it was built here as
Markup (links, citations), so no text in a record can inject markup or scripts.
"""

from __future__ import annotations

import json
import posixpath
import re
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from . import search
from .adapters import FinalizedCodeGenerator
from .bibliography import (
    doi_url,
    first_author_surname,
    format_reference,
    notices,
    pmcid_url,
    pmid_url,
    reference_groups,
    reference_kind,
    reference_page,
    source_url,
)
from .figures import study_name, therapy_groups
from .keypoints import approval_date
from .model import EVIDENCE_LEVELS, KIND_ORDER, REVIEW_INTERVAL_DAYS, SECTION, Evidence, Fields, Handbook

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Characters that start Markdown or HTML constructs, written as character references so
# they display as themselves. `@` is included because `[@key]` anywhere in a page becomes a
# citation (generators/citations.py), and `\` for LaTeX-minded tools reading the Markdown.
_ENTITIES = {c: f"&#{ord(c)};" for c in "&<>\\@*_`[]{}|!#~^=$"}
_LEADING_LIST = re.compile(r"^(\d+)([.)])|^([-+])")

# Control characters are dropped: Python-Markdown uses \x02 and \x03 as its own placeholders.
_CONTROL = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
# One str.translate drops the one and escapes the other (it was two regex passes with a callback).
_INERT = str.maketrans({**dict.fromkeys(_CONTROL), **{ord(c): entity for c, entity in _ENTITIES.items()}})


# What str.split() splits on, but " " (the Unicode White_Space property; tests/test_render.py checks
# the list against str.isspace: computing it here scanned all of Unicode in every process).
_SPACES = [*range(0x09, 0x0E), *range(0x1C, 0x20), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
# Anything md_escape changes: a character to escape or drop, or whitespace other than single spaces
# between words. Three in four strings have none, and one scan for a class of characters (an
# alternation of patterns was a fifth of rendering time) is cheaper than the translation.
_CHANGED = re.compile("[" + "".join(f"\\U{c:08x}" for c in sorted({*map(ord, _ENTITIES), *_CONTROL, *_SPACES})) + "]")


def md_escape(value) -> str:
    """Plain text from a record, made inert inside Markdown (inline or in a table cell)."""
    text = value if type(value) is str else str(value)
    if _CHANGED.search(text) or "  " in text or text[:1] == " " or text[-1:] == " ":
        text = " ".join(text.translate(_INERT).split())  # no line breaks: data never creates block structure
    if text[:1] in ("-", "+") or text[:1].isdigit():
        text = _LEADING_LIST.sub(lambda m: (m.group(1) or "") + f"&#{ord(m.group(2) or m.group(3))};", text)
    return text


def relative_path(path: str, start: str) -> str:
    """posixpath.relpath for two paths inside docs/ ("studies/x.md" from "views"); relpath itself
    makes both absolute against the working directory first, a sixth of rendering time."""
    target, base = path.split("/"), start.split("/") if start else []
    common = 0
    while common < min(len(target), len(base)) and target[common] == base[common]:
        common += 1
    return "/".join([".."] * (len(base) - common) + target[common:]) or "."


def _finalize(value):
    # Every value a template prints passes here: text is made inert (md_escape also writes & < > as
    # character references); Markup, built by the helpers and macros below, is printed as it is.
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return md_escape(value)


_DICT_NAMES = frozenset(dir(dict))
_ABSENT = object()


class _MarkdownEnvironment(Environment):
    code_generator_class = FinalizedCodeGenerator  # a printed value is finalized, not escaped again (adapters.py)

    def getattr(self, obj, attribute):
        # r.title on a record's Fields: the dict lookup first (Jinja's getattr tries attributes
        # and then __getattr__, a third of a million times at 5,000 records). A dict method
        # (r.items) and an absent field (None, or an error for a typo) take Jinja's way.
        if type(obj) is Fields and attribute not in _DICT_NAMES:
            value = obj.get(attribute, _ABSENT)
            if value is not _ABSENT:
                return value
        return super().getattr(obj, attribute)


class PageRenderer:
    """Renders every page of the handbook from the model."""

    def __init__(
        self, book: Handbook, site_url: str = "", repo_url: str = "", edit_uri: str = "", changes=None, releases=None, version: str = ""
    ):
        self.book = book
        self.changes = changes  # generators.history.record_changes(), for the "What's new" page
        self.releases = releases  # generators.releases.release_changes(), for the pages of changes between versions
        self.version = version
        self.repo_url = repo_url.rstrip("/")
        self.edit_uri = edit_uri
        self.env = _MarkdownEnvironment(
            loader=FileSystemLoader(str(TEMPLATES)),
            undefined=StrictUndefined,
            finalize=_finalize,
            autoescape=True,  # with _finalize: values are escaped for Markdown; macros stay Markup
            keep_trailing_newline=True,
            auto_reload=False,  # templates do not change during a build (serve makes a new renderer per build)
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            book=book, levels=EVIDENCE_LEVELS, section=SECTION, kind_order=KIND_ORDER, short_name=partial(study_name, book)
        )
        self.env.filters.update(cite=self.cite, label=_label, provenance=_provenance, finding=_finding, word_diff=_word_diff)
        self.env.filters.update(
            json_data=json_data, reference_title=self.reference_title, record=lambda record_id: book.by_id[record_id]
        )  # calculators: record numbers handed to docs/assets/calculators.js
        self.env.globals.update(
            link=self.link,
            reference=lambda entry: Markup(reference_markdown(entry)),
            reference_page=reference_page,
            record_actions=self.record_actions,
            review_interval=REVIEW_INTERVAL_DAYS,
            approval_date=approval_date,
        )
        self.current = self.current_dir = ""
        self._locators = 0
        self._targets: dict[str, tuple[str, str, str]] = {}  # link(): id or page -> (page, anchor, escaped title)

    # --- helpers available to templates ----------------------------------------------

    def link(self, target, text=None) -> Markup:
        """A Markdown link from the page being rendered to a record's page (or any page path)."""
        key = target if isinstance(target, str) else target.id
        found = self._targets.get(key)
        if found is None:  # each target once: hub pages link the same records tens of thousands of times
            if isinstance(target, str) and target.endswith(".md"):
                found = self._targets[key] = (target, "", md_escape(target))
            else:
                record = self.book.by_id[target] if isinstance(target, str) else target
                found = self._targets[key] = (self.book.page(record), self.book.anchor(record), md_escape(record.data["title"]))
        path, anchor, default = found
        relative = relative_path(path, self.current_dir)
        return Markup(f"[{default if text is None else md_escape(text)}]({relative}{anchor})")

    def record_actions(self, record) -> Markup:
        """Edit, report, and cite links for the foot of a record page."""
        up = relative_path("cite", self.current_dir)
        links = []
        if self.repo_url:
            links.append(f"[Edit this record]({self.repo_url}/{self.edit_uri.strip('/')}/{record.path})")
            query = urlencode(
                {"template": "incorrect-evidence.yml", "title": f"[Incorrect evidence] {record.data['title']}", "page": record.path}
            )
            links.append(f"[Report a problem]({self.repo_url}/issues/new?{query})")
        links.append(f"Cite this page: [BibTeX]({up}/{record.id}.bib) · [RIS]({up}/{record.id}.ris)")
        if self.book.cited_on_page(record):
            links.append(f"[References on this page (BibTeX)]({up}/{record.id}-references.bib)")
        # Web-only: the PDF leaves these out (pdf.py strips web-only spans); paper cannot edit or download.
        return Markup('<span class="record-actions web-only">' + " · ".join(links) + "</span>")

    def cite(self, keys, check=None) -> Markup:
        """The citation mark `[@a; @b]`; with a finding's check (model.FindingCheck), where in the first
        source the figures stand follows the mark, as a toggletip that opens by hover, tap or keyboard
        and says when the figures were compared with the source (docs/assets/locators.js). The PDF
        prints the place after the reference number instead (pdf.py, LOCATOR)."""
        keys = [k for k in (keys or []) if k]
        if not keys:
            return Markup("")
        mark = "[" + "; ".join(f"@{k}" for k in keys) + "]"
        if check is None or not check.locator:
            return Markup(mark)
        self._locators += 1
        tip_id = f"locator-{self._locators}"
        if check.secondary:  # the figures were read in a report of the cited work, which the locator names
            where = f"Read in a secondary source: {check.locator} (the work cited: {self.reference_title(keys[0])})."
        else:
            where = f"Where this stands in {self.reference_title(keys[0])}: {check.locator}."
        if check.not_rechecked:
            when = f"Not re-checked since {check.checked}: {'; '.join(check.not_rechecked)}."
        elif check.checked:
            when = f"Checked against {'that secondary source' if check.secondary else 'the source'} on {check.checked}."
        else:
            when = "No date is recorded on which it was all found in the source."
        return Markup(
            f'{mark}<span class="locator"><button type="button" class="locator-toggle" aria-expanded="false" '
            f'aria-describedby="{tip_id}">{md_escape(check.locator)}</button>'
            f'<span class="locator-tip" id="{tip_id}" role="tooltip">{md_escape(where + " " + when)}</span></span>'
        )

    def reference_title(self, key: str) -> str:
        """A reference named in a sentence: first author (or issuer) and year."""
        entry = self.book.bibliography.entries[key]
        return f"{first_author_surname(entry)} {entry.fields.get('year', '')}".strip()

    def render(self, template: str, path: str, **context) -> str:
        self.current, self.current_dir = path, posixpath.dirname(path)
        self._locators = 0  # toggletip ids, unique within a page
        text = self.env.get_template(template).render(page_path=path, **context)
        while "\n\n\n" in text:  # at most one blank line in a row (str.replace: twice as fast as a regex)
            text = text.replace("\n\n\n", "\n\n")
        return text.strip() + "\n"

    # --- pages ---------------------------------------------------------------------

    def record_page(self, record) -> str:
        path = self.book.page(record)
        edit = f"{self.repo_url}/{self.edit_uri.strip('/')}/{record.path}" if self.repo_url else ""
        page = self.render(f"{record.kind}.md.j2", path, record=record, r=record.data, edit_url=edit)
        return search.front_matter(record) + page  # ranking and index terms: see generators/search.py

    def record_pages(self, records: list) -> dict[str, str]:
        """Each record's page, by record id."""
        return {record.id: self.record_page(record) for record in records}

    def pages(self) -> dict[str, str]:
        """Every generated page: path below the generated docs folder -> Markdown."""
        pages: dict[str, str] = {}
        record_pages = self.record_pages([record for kind in KIND_ORDER for record in self.book.kind(kind)])
        for kind in KIND_ORDER:
            records = self.book.kind(kind)
            folder, heading = SECTION[kind]
            pages[f"{folder}/index.md"] = self.render("index.md.j2", f"{folder}/index.md", kind=kind, heading=heading, records=records)
            for record in records:
                pages[self.book.page(record)] = record_pages[record.id]
        pages["views/evidence-map.md"] = self.render(
            "evidence-map.md.j2", "views/evidence-map.md", groups=therapy_groups(self.book), study_name=partial(study_name, self.book)
        )
        pages["views/antibodies.md"] = self.render("antibodies.md.j2", "views/antibodies.md", antibodies=self.book.kind("autoantibody"))
        pages["views/pipeline.md"] = self.render("pipeline.md.j2", "views/pipeline.md", trials=self.book.pipeline())
        pages["views/currency.md"] = self.render(
            "currency.md.j2", "views/currency.md", therapies=self.book.kind("therapy"), trials=self.book.currency_trials()
        )
        pages["views/concordance.md"] = self.render(
            "concordance.md.j2", "views/concordance.md", questions=self.book.kind("question"), guidelines=self.book.concordance_guidelines()
        )
        if self.changes is not None:
            pages["whats-new.md"] = self.render("whats-new.md.j2", "whats-new.md", changes=self.changes, feed="feed.xml")
        if self.releases is not None:
            pages["changes/index.md"] = self.render("changes-index.md.j2", "changes/index.md", releases=self.releases, version=self.version)
            for release in self.releases:
                pages[release.page] = self.render("changes.md.j2", release.page, release=release)
        pages["maintainers/review.md"] = self.render(
            "review.md.j2",
            "maintainers/review.md",
            stale=self.book.stale(),
            findings=self.book.findings_to_check(),
            flagged=sorted((r for r in self.book.records if r.data.get("unverified")), key=lambda r: r.path),
        )
        # One page per letter keeps each page small as the bibliography grows (the single page
        # passed 140 KB at 156 references); the index page lists the letters.
        groups = reference_groups(self.book.bibliography.entries.values())
        pages["references/index.md"] = self.render("references-index.md.j2", "references/index.md", groups=groups)
        for group, entries in groups.items():
            path = reference_page(group)
            pages[path] = self.render("references.md.j2", path, group=group, groups=groups, entries=entries)
        return pages


# Where a result was read, as readers see it beside the result: plain about what is not peer reviewed.
PROVENANCE_LABEL = {
    "full-text": "full text",
    "abstract": "abstract",
    "registry": "registry results",
    "congress-abstract": "congress abstract",
    "press-release": "press release \u2014 not peer reviewed",
    "secondary": "secondary source",
}


# What a regulator's records showed, as readers see it beside the date of the check.
REGULATORY_FINDING = {
    "myositis-approval": "approved for a myositis indication",
    "other-indications": "approved for other indications; no myositis indication found",
    "no-approval": "no approval for any indication found",
    "not-a-medicine": "not a product that regulators authorise as a medicine",
}


def _finding(value: str) -> str:
    return REGULATORY_FINDING.get(str(value), _label(value).lower())


def _word_diff(runs) -> Markup:
    """A word diff (releases.word_diff) as inert text, removed words in <del>, added ones in <ins>."""
    tags = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
    return Markup(" ".join(tags[op].format(md_escape(words)) for op, words in runs))


def _provenance(value: str) -> str:
    return PROVENANCE_LABEL.get(str(value), _label(value).lower())


def json_data(value) -> Markup:
    """A value as JSON to sit inside <script type="application/json"> on a page (the calculators read
    their weights and tables from it). Backslashes, <, >, & and @ are written as \\u escapes (and all
    non-ASCII), so no text in a record can close the script element, start markup, or look like a
    citation ([@key] anywhere in a page becomes a footnote: generators/citations.py)."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), sort_keys=True).replace("\\\\", "\\u005c")
    for char in "<>&@":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return Markup(text)


def _label(value: str) -> str:
    return str(value).replace("-", " ").capitalize() if value else ""


def _link_text(entry) -> str:
    kind = reference_kind(entry)
    return {"registry": f"{entry.fields.get('number', 'registry record')}", "congress-abstract": "abstract"}.get(kind, "source")


def reference_markdown(entry) -> str:
    """A reference as readers see it everywhere (page footnotes, reference pages, the PDF's list):
    Vancouver-style text, then its DOI and PubMed links."""
    links = []
    if doi_url(entry):
        links.append(f"[doi:{md_escape(entry.fields['doi'])}]({doi_url(entry)})")
    if pmid_url(entry):
        links.append(f"[PMID {md_escape(entry.fields['pmid'])}]({pmid_url(entry)})")
    if pmcid_url(entry) and not links:  # a PubMed Central copy, when neither DOI nor PMID is known
        links.append(f"[{md_escape(entry.fields['pmcid'])}]({pmcid_url(entry)})")
    if source_url(entry) and not links:
        links.append(f"[{md_escape(_link_text(entry))}]({source_url(entry)})")
    # a retraction, correction or expression of concern is read with the reference, wherever it is shown
    flags = [f"**{n.label} {n.date}** ([notice]({n.url}))" for n in notices(entry)]
    return " ".join([md_escape(format_reference(entry)), " · ".join(links), *flags]).strip()


def render_pages(book: Handbook, **options) -> dict[str, str]:
    return PageRenderer(book, **options).pages()


__all__ = ["md_escape", "reference_markdown", "render_pages", "PageRenderer", "Evidence"]
