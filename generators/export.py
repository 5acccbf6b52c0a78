"""Export stage: files beside the pages, made from the same model.

- cite/<id>.bib, cite/<id>.ris: "cite this page" for every record page (handbook version and URL)
- cite/<id>-references.bib: the references cited on that page
"""

from __future__ import annotations

import datetime as dt

from pybtex.database import BibliographyData, Entry

from .adapters import VerbatimFieldsWriter
from .identity import AUTHOR
from .identity import NAME as HANDBOOK
from .load import Record
from .model import Handbook, url_path


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


# Identifiers are written verbatim: LaTeX-encoded (10.4103/injr.injr\_124\_20), a DOI is broken for
# biblatex and reference managers, which read these fields as they stand.
VERBATIM_FIELDS = {"doi", "pmid", "url", "eprint"}


class ReferenceWriter(VerbatimFieldsWriter):
    """pybtex's BibTeX writer, leaving identifiers as they are (adapters.py)."""

    verbatim = frozenset(VERBATIM_FIELDS)


def entry_texts(book: Handbook, keys) -> dict[str, str]:
    """Each reference's BibTeX entry, written once: the same references recur on page after page,
    and pybtex's writer LaTeX-encodes every field again on each call."""
    writer = ReferenceWriter()
    texts = {}
    for key in keys:
        e = book.bibliography.entries[key]
        fields = {name: value for name, value in e.fields.items() if name not in INTERNAL_FIELDS}
        entry = Entry(e.type, fields=fields, persons=e.persons)
        texts[key] = writer.to_string(BibliographyData(entries={key: entry}))
    return texts


def bibtex_of(book: Handbook, keys, texts: dict[str, str] | None = None) -> str:
    """A BibTeX file of these references, in this order (from `texts` where given)."""
    texts = texts if texts is not None else entry_texts(book, keys)
    return "\n".join(texts[key] for key in keys)


def cite_files(book: Handbook, version: str, site_url: str, date: dt.date) -> dict[str, str]:
    files: dict[str, str] = {}
    pages = book.page_records()
    cited = {record.id: book.cited_on_page(record) for record in pages}
    texts = entry_texts(book, sorted({key for keys in cited.values() for key in keys}))
    for record in pages:
        files[f"cite/{record.id}.bib"] = cite_bibtex(book, record, version, site_url, date)
        files[f"cite/{record.id}.ris"] = cite_ris(book, record, version, site_url, date)
        if cited[record.id]:
            files[f"cite/{record.id}-references.bib"] = bibtex_of(book, cited[record.id], texts)
    return files
