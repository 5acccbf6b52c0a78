"""Export stage: files beside the pages, made from the same model.

- cite/<id>.bib, cite/<id>.ris: "cite this page" for every record page (handbook version and URL)
- cite/<id>-references.bib: the references cited on that page
"""

from __future__ import annotations

import datetime as dt

from .load import Record
from .model import Handbook, url_path

AUTHOR = "IIM Evidence Handbook contributors"
HANDBOOK = "IIM Evidence Handbook"


def page_url(book: Handbook, record: Record, site_url: str) -> str:
    return f"{site_url.rstrip('/')}/{url_path(book.page(record))}{book.anchor(record)}"


def _bib_value(text: str) -> str:
    # BibTeX braces delimit values; drop any unbalanced ones from titles rather than break the file
    return str(text).replace("{", "(").replace("}", ")").replace("\\", "/")


def _ris_value(text: str) -> str:
    return " ".join(str(text).split())


def cite_bibtex(book: Handbook, record: Record, version: str, site_url: str, date: dt.date) -> str:
    reviewed = str(record.data["last_reviewed"])
    return "\n".join(
        [
            f"@misc{{iimhandbook-{record.id},",
            f"  author = {{{{{AUTHOR}}}}},",
            f"  title = {{{{{_bib_value(record.data['title'])}}}}},",
            f"  howpublished = {{{HANDBOOK}, version {_bib_value(version)}}},",
            f"  year = {{{reviewed[:4]}}},",
            f"  url = {{{page_url(book, record, site_url)}}},",
            f"  note = {{Record last reviewed {reviewed}; accessed {date.isoformat()}}}",
            "}",
            "",
        ]
    )


def cite_ris(book: Handbook, record: Record, version: str, site_url: str, date: dt.date) -> str:
    reviewed = str(record.data["last_reviewed"])
    lines = [
        ("TY", "ELEC"),
        ("AU", AUTHOR),
        ("TI", _ris_value(record.data["title"])),
        ("T2", HANDBOOK),
        ("ET", _ris_value(version)),
        ("PY", reviewed[:4]),
        ("DA", reviewed.replace("-", "/")),
        ("UR", page_url(book, record, site_url)),
        ("Y2", date.isoformat().replace("-", "/")),
        ("N1", f"Record last reviewed {reviewed}"),
        ("ER", ""),
    ]
    return "\n".join(f"{tag}  - {value}".rstrip() for tag, value in lines) + "\n"


INTERNAL_FIELDS = {"verified", "note"}  # our verification notes, not part of the reference


def bibtex_of(book: Handbook, keys) -> str:
    from pybtex.database import BibliographyData, Entry

    entries = {}
    for key in keys:
        e = book.bibliography.entries[key]
        fields = {name: value for name, value in e.fields.items() if name not in INTERNAL_FIELDS}
        entries[key] = Entry(e.type, fields=fields, persons=e.persons)
    return BibliographyData(entries=entries).to_string("bibtex")


def references_bibtex(book: Handbook, record: Record) -> str:
    return bibtex_of(book, book.cited_on_page(record))


def cite_files(book: Handbook, version: str, site_url: str, date: dt.date) -> dict[str, str]:
    files: dict[str, str] = {}
    for record in book.records:
        if record.kind == "recommendation":
            continue  # cited through its guideline's page
        files[f"cite/{record.id}.bib"] = cite_bibtex(book, record, version, site_url, date)
        files[f"cite/{record.id}.ris"] = cite_ris(book, record, version, site_url, date)
        if book.cited_on_page(record):
            files[f"cite/{record.id}-references.bib"] = references_bibtex(book, record)
    return files
