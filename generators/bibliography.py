"""Reference formatting from our own bibliography data (Vancouver-like, plain text)."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
from pybtex.richtext import Text

from .load import BibEntry

MAX_AUTHORS = 6  # Vancouver style: six authors, then "et al."


_WRAPPERS = re.compile(r"\\(?:textit|textbf|textrm|textsc|textup|emph|mathrm|textsuperscript|textsubscript)\s*\{([^{}]*)\}")
# Text made only of these needs no LaTeX decoding: latexcodec would return it unchanged.
_NEEDS_DECODING = re.compile(r"[^A-Za-z0-9 ,.:;()/-]|--")


def plain(value) -> str:
    """BibTeX field text as plain Unicode: LaTeX accents decoded (latexcodec), braces dropped.
    The one decoder for every output: pages, the PDF and the open data."""
    return _plain_text(str(value))


@lru_cache(maxsize=65536)  # names and journals come back in entry after entry; decoding is slow
def _plain_text(value: str) -> str:
    if not _NEEDS_DECODING.search(value):
        return " ".join(value.split())
    text = re.sub(r"\\+&", "&", value)  # also repairs over-escaped ampersands (\\\\\\&)
    text = re.sub(r"(?<!\\)%", r"\\%", text)  # a bare % is a LaTeX comment: keep it as a percent sign
    text = _WRAPPERS.sub(r"\1", text)
    try:
        text = codecs.decode(text, "ulatex")
    except Exception:  # undecodable LaTeX: keep the text rather than fail the build
        pass
    text = text.replace("{", "").replace("}", "").replace("\u00a0", " ")
    return " ".join(text.split())


_plain = plain


def _person(person) -> str:
    last = _plain(" ".join(person.prelast_names + person.last_names))
    initials = "".join(part[0] for name in person.first_names + person.middle_names for part in re.split(r"[-\s]", _plain(name)) if part)
    return f"{last} {initials}".strip()


def authors(entry: BibEntry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    others = any(_plain(str(p)).lower() == "others" for p in people)
    named = [p for p in people if _plain(str(p)).lower() != "others"]
    names = [_person(p) for p in named[:MAX_AUTHORS]]
    if len(named) > MAX_AUTHORS or others:
        names.append("et al")
    return ", ".join(names)


def first_author_surname(entry: BibEntry) -> str:
    """The name a reference is filed under: its first author's surname, or the issuing organisation."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    if people:
        return _plain(" ".join(people[0].last_names))
    return _plain(entry.fields.get("organization", "")) or entry.key


# --- kinds of reference -------------------------------------------------------------------
# A journal article (or book) is found by its DOI or PMID. The other kinds carry what a reader
# can open instead: a registry id and URL, a congress abstract's number and URL, an issuer,
# date and URL. Each is labelled wherever it is shown, so a press release never passes for a paper.
REFERENCE_KINDS = ("article", "registry", "congress-abstract", "press-release", "news", "webpage", "guideline", "regulatory")
KIND_LABEL = {
    "article": "",
    "registry": "Trial registry record",
    "congress-abstract": "Congress abstract",
    "press-release": "Press release \u2014 not peer reviewed",
    "news": "News report \u2014 not peer reviewed",
    "webpage": "Web page \u2014 not peer reviewed",
    "guideline": "Guideline document",
    "regulatory": "Regulatory document",
}
# The BibTeX entry type each kind is written as.
KIND_ENTRY_TYPES = {
    "registry": ("online", "misc"),
    "congress-abstract": ("inproceedings",),
    "press-release": ("online", "misc"),
    "news": ("online", "misc"),
    "webpage": ("online", "misc"),
    "guideline": ("online", "misc", "book"),
    "regulatory": ("online", "misc"),
}


def reference_kind(entry: BibEntry) -> str:
    """article (journals, books), registry, congress-abstract, press-release, news, webpage, guideline or regulatory."""
    return entry.fields.get("kind", "").strip() or "article"


def source_url(entry: BibEntry) -> str:
    """Where a reference without a DOI or PMID can be opened."""
    return entry.fields.get("url", "").strip()


_FORMATTED_FIELDS = {"title", "journal", "booktitle", "publisher", "howpublished", "year", "volume", "number", "pages"}


def format_reference(entry: BibEntry) -> str:
    """Authors. Title. Journal. Year;Volume(Issue):Pages. Other kinds end with what they are."""
    kind = reference_kind(entry)
    if kind != "article":
        return _format_other(entry, kind)
    f = {k: _plain(v) for k, v in entry.fields.items() if k in _FORMATTED_FIELDS}
    names = authors(entry)
    parts = [names + "."] if names else []
    title = f.get("title", "").rstrip(".")
    if title:
        parts.append(title + ".")
    venue = f.get("journal") or f.get("booktitle") or f.get("publisher") or f.get("howpublished") or ""
    detail = f.get("year", "")
    if f.get("volume"):
        detail += f";{f['volume']}"
        if f.get("number"):
            detail += f"({f['number']})"
    if f.get("pages"):
        detail += f":{f['pages'].replace('--', '-')}"
    if venue:
        parts.append(f"{venue}. {detail}." if detail else f"{venue}.")
    elif detail:
        parts.append(detail + ".")
    return " ".join(parts)


def _format_other(entry: BibEntry, kind: str) -> str:
    f = {k: _plain(v) for k, v in entry.fields.items()}
    title = f.get("title", "").rstrip(".")
    read = f" Read {f['urldate']}." if f.get("urldate") else ""
    if kind == "registry":
        return f"{f.get('organization', 'Trial registry')}. {title}. Registry record {f.get('number', '')}.{read} [{KIND_LABEL[kind]}]"
    if kind == "congress-abstract":
        names = authors(entry)
        number = f" Abstract {f['number']}." if f.get("number") else ""
        lead = f"{names}. " if names else ""
        return f"{lead}{title}. {f.get('booktitle', '')}; {f.get('year', '')}.{number}{read} [{KIND_LABEL[kind]}]"
    if kind == "webpage" and not f.get("issued"):  # an undated page says so rather than borrow a date
        return f"{f.get('organization', '')}. {title}. Web page, undated.{read} [{KIND_LABEL[kind]}]"
    what = {"press-release": "Press release", "news": "News report", "webpage": "Web page", "guideline": "Published"}.get(kind, "Issued")
    return f"{f.get('organization', '')}. {title}. {what} {f.get('issued', f.get('year', ''))}.{read} [{KIND_LABEL[kind]}]"


def doi_url(entry: BibEntry) -> str:
    doi = entry.fields.get("doi", "").strip()
    return f"https://doi.org/{doi}" if doi else ""


def pmid_url(entry: BibEntry) -> str:
    pmid = entry.fields.get("pmid", "").strip()
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else ""


def pmcid_url(entry: BibEntry) -> str:
    pmcid = entry.fields.get("pmcid", "").strip()
    return f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}/" if pmcid else ""


# --- notices that update a work ---------------------------------------------------------------
# Written by the living-evidence watch (Crossref, PubMed) or by hand: `retraction`, `correction` and
# `concern` fields, each "YYYY-MM-DD, doi:10.x/notice" (several separated by "; "). Every page
# citing the work shows them, and a retracted work may be cited only where a record says why.
NOTICE_FIELDS = {"retraction": "Retracted", "correction": "Corrected", "concern": "Expression of concern"}
NOTICE_FORM = re.compile(r"^(\d{4}-\d{2}-\d{2}), (doi:10\.\d{4,9}/\S+|PMID \d+|https?://\S+)$")


@dataclass(frozen=True)
class Notice:
    kind: str  # retraction, correction or concern
    date: str
    source: str  # doi:..., PMID ... or a URL

    @property
    def label(self) -> str:
        return NOTICE_FIELDS[self.kind]

    @property
    def url(self) -> str:
        if self.source.startswith("doi:"):
            return "https://doi.org/" + self.source[4:]
        if self.source.startswith("PMID "):
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.source[5:]}/"
        return self.source


def notices(entry: BibEntry) -> list[Notice]:
    """The notices recorded for a work, in date order; malformed ones are left to validation."""
    found = []
    for kind in NOTICE_FIELDS:
        for part in _plain(entry.fields.get(kind, "")).split(";"):
            match = NOTICE_FORM.match(part.strip())
            if match:
                found.append(Notice(kind, match.group(1), match.group(2)))
    return sorted(found, key=lambda n: (n.date, n.kind))


def sort_key(entry: BibEntry):
    return (first_author_surname(entry).casefold(), entry.fields.get("year", ""), entry.key)


def reference_group(entry: BibEntry) -> str:
    """The letter the reference list files an entry under: its first author's initial, A to Z."""
    initial = unicodedata.normalize("NFKD", first_author_surname(entry)).encode("ascii", "ignore").decode()[:1].upper()
    return initial if "A" <= initial <= "Z" else "Other"


def reference_groups(entries) -> dict[str, list[BibEntry]]:
    """Entries by letter, letters in order ("Other" last), entries sorted within each letter."""
    groups: dict[str, list[BibEntry]] = {}
    for entry in sorted(entries, key=sort_key):
        groups.setdefault(reference_group(entry), []).append(entry)
    return dict(sorted(groups.items(), key=lambda item: (item[0] == "Other", item[0])))


def reference_page(group: str) -> str:
    return f"references/{group.lower()}.md"


__all__ = [
    "REFERENCE_KINDS",
    "KIND_LABEL",
    "reference_kind",
    "source_url",
    "format_reference",
    "authors",
    "doi_url",
    "pmid_url",
    "pmcid_url",
    "notices",
    "Notice",
    "NOTICE_FIELDS",
    "sort_key",
    "reference_groups",
    "reference_page",
    "Text",
]
