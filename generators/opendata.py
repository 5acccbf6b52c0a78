"""Open data: the whole handbook as machine-readable files under data/, made from the model.

- data/<kind>.json and data/<kind>.csv: every record of a kind (JSON as written, plus its page URL)
- data/schemas/: the JSON Schemas the records validate against (side by side, so $refs resolve)
- data/references.bib and data/references.csl.json: the bibliography (BibTeX and CSL-JSON)
- data/handbook.json: everything in one bundle
- data/fhir/evidence.json and data/fhir/citation.json: FHIR R5 Bundles of Evidence and Citation resources

Everything is deterministic: keys and records are sorted, and `generated` is the build date.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path

from .bibliography import KIND_LABEL, format_reference, plain, reference_kind
from .export import AUTHOR, HANDBOOK, bibtex_of, page_url
from .identity import LICENCE, LICENCE_LABEL, NOTICE
from .load import BibEntry, Record
from .model import KIND_ORDER, LEVEL_LABEL, SECTION, Handbook
from .rules import link_fields
from .validate import SCHEMA_DIR

# Every record kind: the reading order, with recommendations after their guidelines.
_AFTER_GUIDELINE = KIND_ORDER.index("guideline") + 1
KINDS = (*KIND_ORDER[:_AFTER_GUIDELINE], "recommendation", *KIND_ORDER[_AFTER_GUIDELINE:])
KINDS += tuple(k for k in SECTION if k not in KINDS)

DOI_SYSTEM = "https://doi.org"
PMID_SYSTEM = "https://pubmed.ncbi.nlm.nih.gov"
PMCID_SYSTEM = "https://www.ncbi.nlm.nih.gov/pmc"
VARIABLE_ROLE = "http://hl7.org/fhir/variable-role"
DESIGN_LABEL = {**LEVEL_LABEL, "systematic-review": "Systematic review"}
PAGE_PROPERTY = {
    "title": "Page",
    "description": "Address of the record's page in the handbook (added in the open-data files; not written in records).",
    "type": "string",
}
CSV_HEAD = ("id", "title", "summary", "last_reviewed", "citations")


# --- helpers -------------------------------------------------------------------------


def _json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _fhir_json(value) -> str:
    # FHIR readers expect resourceType first, so FHIR files keep their (fixed) construction order.
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _schema_dir(root: Path) -> Path:
    return root / "schemas" if (root / "schemas" / "common.schema.json").exists() else SCHEMA_DIR


def fhir_id(key: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) for a record id or citation key; unchanged when already valid."""
    if re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", key):
        return key
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return re.sub(r"[^A-Za-z0-9\-.]", "-", key)[:55] + "-" + digest


# --- records: JSON and CSV -----------------------------------------------------------


def record_json(book: Handbook, record: Record, site_url: str) -> dict:
    return {**record.data, "page": page_url(book, record, site_url)}


def records_of(book: Handbook, kind: str, site_url: str) -> list[dict]:
    return [record_json(book, r, site_url) for r in sorted(book.kind(kind), key=lambda r: r.id)]


def csv_columns(kind: str, schema: dict, records: list[dict]) -> list[str]:
    names = [n for n in schema.get("properties", {}) if n != "page"]
    extra = sorted({k for r in records for k in r} - set(names) - {"page"})
    rest = [n for n in names + extra if n not in CSV_HEAD]
    return [*CSV_HEAD, *rest, "page"]


def _joined_fields(kind: str) -> set[str]:
    """Top-level lists of ids or citation keys: written as `a; b` (their values never hold a ';')."""
    return {pattern[0] for pattern, _, _ in link_fields(kind) if len(pattern) == 2 and pattern[1] == "*"}


def _cell(value, joined: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        if joined and isinstance(value, list):
            return "; ".join(str(v) for v in value)
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def records_csv(kind: str, schema: dict, records: list[dict]) -> str:
    columns = csv_columns(kind, schema, records)
    joined = _joined_fields(kind) | {"citations"}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for r in records:
        writer.writerow([_cell(r.get(c), c in joined) for c in columns])
    return out.getvalue()


def published_schema(schema: dict) -> dict:
    """A kind's schema as published beside the data: the same, with the added `page` field declared."""
    published = dict(schema)
    published["properties"] = {**schema.get("properties", {}), "page": PAGE_PROPERTY}
    return published


# --- bibliography: CSL-JSON ----------------------------------------------------------


def _people(entry: BibEntry) -> tuple[list, bool]:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    named = [p for p in people if plain(str(p)).lower() != "others"]
    return named, len(named) < len(people)


def csl_name(person) -> dict:
    given = plain(" ".join(person.first_names + person.middle_names))
    family = plain(" ".join(person.prelast_names + person.last_names))
    if not given and str(person).startswith("{"):
        return {"literal": family}  # a group author such as {Muscle Study Group}
    name = {"family": family}
    if given:
        name["given"] = given
    if person.lineage_names:
        name["suffix"] = plain(" ".join(person.lineage_names))
    return name


CSL_TYPE = {
    "article": "article-journal",
    "book": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
}


# Sources that are not journal articles: CSL type and the genre that says what they are.
CSL_KIND = {
    "registry": "webpage",
    "congress-abstract": "paper-conference",
    "press-release": "webpage",
    "news": "article-newspaper",
    "webpage": "webpage",
    "guideline": "report",
    "regulatory": "report",
}


def _date_parts(text: str) -> dict:
    parts = [int(p) for p in str(text).strip().split("-") if p.isdigit()]
    return {"date-parts": [parts]} if parts else {}


def csl_item(entry: BibEntry) -> dict:
    f = entry.fields
    kind = reference_kind(entry)
    item: dict = {"id": entry.key, "type": CSL_KIND.get(kind) or CSL_TYPE.get(entry.type, "document")}
    if kind != "article":
        item["genre"] = KIND_LABEL[kind]
        if f.get("organization"):
            item["publisher"] = plain(f["organization"])
        if f.get("url"):
            item["URL"] = f["url"].strip()
        if f.get("urldate"):
            item["accessed"] = _date_parts(f["urldate"])
    if f.get("title"):
        item["title"] = plain(f["title"])
    people, _ = _people(entry)
    if people:
        item["author"] = [csl_name(p) for p in people]
    venue = f.get("journal") or f.get("booktitle")
    if venue:
        item["container-title"] = plain(venue)
    year = str(f.get("year", "")).strip()
    if year.isdigit():
        item["issued"] = {"date-parts": [[int(year)]]}
    elif year:
        item["issued"] = {"literal": year}
    if f.get("issued"):
        item["issued"] = _date_parts(f["issued"])
    for field, name in (("volume", "volume"), ("number", "issue" if kind == "article" else "number"), ("pages", "page")):
        if f.get(field):
            item[name] = plain(f[field]).replace("\u2013", "-")
    if f.get("doi"):
        item["DOI"] = f["doi"].strip()
    if f.get("pmid"):
        item["PMID"] = f["pmid"].strip()
    if f.get("pmcid"):
        item["PMCID"] = f["pmcid"].strip()
    return item


RIS_TYPE = {
    "registry": "DBASE",
    "congress-abstract": "ABST",
    "press-release": "GEN",
    "news": "NEWS",
    "webpage": "ELEC",
    "guideline": "RPRT",
    "regulatory": "GOVDOC",
}
RIS_ENTRY_TYPE = {"article": "JOUR", "book": "BOOK", "incollection": "CHAP", "inbook": "CHAP", "inproceedings": "CPAPER"}


def ris_entry(entry: BibEntry) -> str:
    """One reference as RIS, the kind of source named in its type and in M3 (type of work)."""
    f = entry.fields
    kind = reference_kind(entry)
    lines = [("TY", RIS_TYPE.get(kind) or RIS_ENTRY_TYPE.get(entry.type, "GEN"))]
    people, _ = _people(entry)
    lines += [("AU", ", ".join(filter(None, (n.get("family") or n.get("literal"), n.get("given"))))) for n in map(csl_name, people)]
    if f.get("organization"):
        lines.append(("PB", plain(f["organization"])))
    lines.append(("TI", plain(f.get("title", ""))))
    venue = f.get("journal") or f.get("booktitle")
    if venue:
        lines.append(("T2", plain(venue)))
    if kind != "article":
        lines.append(("M3", KIND_LABEL[kind]))
    lines.append(("PY", plain(f.get("year", ""))))
    if f.get("issued"):
        lines.append(("DA", f["issued"].strip().replace("-", "/")))
    for field, tag in (("volume", "VL"), ("number", "IS" if kind == "article" else "M1"), ("pages", "SP")):
        if f.get(field):
            lines.append((tag, plain(f[field]).replace("\u2013", "-")))
    if f.get("doi"):
        lines.append(("DO", f["doi"].strip()))
    if f.get("pmid"):
        lines.append(("AN", f"PMID: {f['pmid'].strip()}"))
    if f.get("url"):
        lines.append(("UR", f["url"].strip()))
    if f.get("urldate"):
        lines.append(("Y2", f["urldate"].strip().replace("-", "/")))
    lines.append(("ID", entry.key))
    lines.append(("ER", ""))
    return "\n".join(f"{tag}  - {value}".rstrip() for tag, value in lines if value or tag == "ER") + "\n"


def references_ris(book: Handbook) -> str:
    return "\n".join(ris_entry(book.bibliography.entries[key]) for key in sorted(book.bibliography.entries))


def csl_json(book: Handbook) -> list[dict]:
    return [csl_item(book.bibliography.entries[k]) for k in sorted(book.bibliography.entries)]


# --- FHIR R5 -------------------------------------------------------------------------


def _role(code: str) -> dict:
    return {"coding": [{"system": VARIABLE_ROLE, "code": code}], "text": code}


def _fhir_base(site_url: str) -> str:
    base = site_url.rstrip("/")
    return f"{base}/data/fhir" if base.startswith(("http://", "https://")) else ""


def _entry(resource: dict, base: str) -> dict:
    entry = {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}"} if base else {}
    entry["resource"] = resource
    return entry


def _bundle(bundle_id: str, resources: list[dict], base: str) -> dict:
    return {"resourceType": "Bundle", "id": bundle_id, "type": "collection", "entry": [_entry(r, base) for r in resources]}


def _titles(book: Handbook, ids) -> str:
    return ", ".join(book.by_id[i].data["title"] if i in book.by_id else i for i in ids)


def _findings(book: Handbook, study: Record, section: str, category: str, sample: dict | None) -> list[dict]:
    statistics = []
    for finding, check in zip(study.data.get(section) or [], book.finding_checks_in(study, section), strict=True):
        statistic: dict = {"description": finding["text"], "category": {"text": category}}
        notes = [f"Provenance: {finding['provenance']}"]
        if finding.get("cite"):
            notes.append("Cited: " + "; ".join(finding["cite"]))
        notes.append(f"Where in the source: {check.locator}")
        notes.append(f"Checked against the source: {check.checked}" if check.checked else "Checked against the source: no date recorded")
        if check.not_rechecked:
            notes.append(f"Not re-checked since {check.checked}: " + "; ".join(check.not_rechecked))
        statistic["note"] = [{"text": n} for n in notes]
        if sample:
            statistic["sampleSize"] = dict(sample)
        statistics.append(statistic)
    return statistics


def evidence_resource(book: Handbook, study: Record, version: str, site_url: str) -> dict:
    d = study.data
    url = page_url(book, study, site_url)
    resource: dict = {"resourceType": "Evidence", "id": fhir_id(study.id), "url": url, "version": version}
    if d.get("registry_ids"):
        resource["identifier"] = [{"type": {"text": "Trial registration number"}, "value": r} for r in d["registry_ids"]]
    resource["title"] = d["title"]
    resource["status"] = "active"
    resource["publisher"] = AUTHOR
    resource["description"] = d["summary"]
    resource["copyrightLabel"] = LICENCE_LABEL
    resource["lastReviewDate"] = str(d["last_reviewed"])
    resource["citeAsMarkdown"] = f"{AUTHOR}. {d['title']}. {HANDBOOK}, version {version}. {url}"

    notes = [f"Trial status: {d['trial_status']}"]
    if d.get("phase"):
        notes.append(f"Phase: {d['phase']}")
    if d.get("design_detail"):
        notes.append(f"Design: {d['design_detail']}")
    if d.get("primary_endpoint_met"):
        notes.append(f"Primary endpoint met: {d['primary_endpoint_met']}")
    if d.get("duration"):
        notes.append(f"Duration: {d['duration']}")
    resource["note"] = [{"text": n} for n in notes]

    artifacts = []
    for key in d.get("citations") or []:
        entry = book.bibliography.entries.get(key)
        if entry is None:
            continue
        reference = format_reference(entry)
        artifacts.append(
            {
                "type": "citation",
                "label": key,
                "citation": reference,
                "resourceReference": {"reference": f"Citation/{fhir_id(key)}", "display": reference},
            }
        )
    if artifacts:
        resource["relatedArtifact"] = artifacts

    population = d["population"]
    variables = [
        {
            "description": population["description"],
            "note": [{"text": "Subtypes: " + _titles(book, population["subtypes"])}]
            + [{"text": f"{label}: {population[f]}"} for f, label in (("stage", "Stage"), ("age_group", "Age group")) if population.get(f)],
            "variableRole": _role("population"),
        },
        {
            "description": d.get("intervention") or _titles(book, d["therapies"]),
            "note": [{"text": "Therapies: " + _titles(book, d["therapies"])}],
            "variableRole": _role("exposure"),
        },
    ]
    if d.get("comparator"):
        variables.append({"description": d["comparator"], "variableRole": _role("referenceExposure")})
    variables.append({"description": d["primary_endpoint"], "variableRole": _role("measuredVariable")})
    resource["variableDefinition"] = variables

    resource["studyDesign"] = [{"text": DESIGN_LABEL.get(d["design"], d["design"])}]

    sample: dict = {}
    if d.get("n"):
        basis = d.get("n_basis")
        sample["description"] = f"n = {d['n']}" + (f" ({basis})" if basis else "")
        if basis != "planned":  # a planned size is not data
            sample["numberOfParticipants"] = d["n"]
            sample["knownDataCount"] = d["n"]
    statistics = _findings(book, study, "results", "Result", sample) + _findings(book, study, "safety", "Safety", sample)
    if statistics:
        resource["statistic"] = statistics

    resource["certainty"] = [
        {
            "description": "Rated from the study design alone; not a formal certainty (GRADE) assessment.",
            "rating": {"text": DESIGN_LABEL.get(d["design"], d["design"])},
        }
    ]
    return resource


def citation_resource(entry: BibEntry, version: str) -> dict:
    f = entry.fields
    title = plain(f.get("title", "")) or entry.key
    artifact: dict = {}
    identifiers = []
    if f.get("doi"):
        identifiers.append({"system": DOI_SYSTEM, "value": f["doi"].strip()})
    if f.get("pmid"):
        identifiers.append({"system": PMID_SYSTEM, "value": f["pmid"].strip()})
    if f.get("pmcid"):
        identifiers.append({"system": PMCID_SYSTEM, "value": f["pmcid"].strip()})
    kind = reference_kind(entry)
    if kind == "registry" and f.get("number"):
        identifiers.append({"type": {"text": "Trial registration number"}, "value": plain(f["number"])})
    if identifiers:
        artifact["identifier"] = identifiers
    artifact["title"] = [{"text": title}]
    if kind != "article":
        artifact["classification"] = [{"type": {"text": "Kind of source"}, "classifier": [{"text": KIND_LABEL[kind]}]}]

    form: dict = {}
    venue = f.get("journal") or f.get("booktitle")
    if venue:
        form["publishedIn"] = {"title": plain(venue)}
    if f.get("volume"):
        form["volume"] = plain(f["volume"])
    if f.get("number"):
        form["issue"] = plain(f["number"])
    if f.get("year"):
        form["publicationDateText"] = plain(f["year"])
    if f.get("pages"):
        pages = plain(f["pages"]).replace("\u2013", "-")
        form["pageString"] = pages
        first, _, last = pages.partition("-")
        form["firstPage"] = first.strip()
        if last.strip():
            form["lastPage"] = last.strip()
    if form:
        artifact["publicationForm"] = [form]

    web = []
    if f.get("doi"):
        web.append({"classifier": [{"text": "DOI based"}], "url": f"https://doi.org/{f['doi'].strip()}"})
    if f.get("pmid"):
        web.append({"classifier": [{"text": "PubMed"}], "url": f"https://pubmed.ncbi.nlm.nih.gov/{f['pmid'].strip()}/"})
    if f.get("url") and not web:
        web.append({"classifier": [{"text": KIND_LABEL[kind] or "Source"}], "url": f["url"].strip()})
    if web:
        artifact["webLocation"] = web

    people, truncated = _people(entry)
    if people:
        entries = []
        for rank, person in enumerate(people, start=1):
            name = csl_name(person)
            display = name.get("literal") or " ".join(filter(None, (name.get("given"), name["family"], name.get("suffix"))))
            item: dict = {"contributor": {"display": display}}
            initials = "".join(part[0] for part in re.split(r"[-\s.]+", name.get("given", "")) if part)
            if initials:
                item["forenameInitials"] = initials
            item["rankingOrder"] = rank
            entries.append(item)
        artifact["contributorship"] = {"complete": not truncated, "entry": entries}

    return {
        "resourceType": "Citation",
        "id": fhir_id(entry.key),
        "version": version,
        "title": title,
        "status": "active",
        "summary": [{"text": format_reference(entry)}],
        "citedArtifact": artifact,
    }


def fhir_evidence(book: Handbook, version: str, site_url: str) -> dict:
    studies = sorted(book.kind("study"), key=lambda r: r.id)
    resources = [evidence_resource(book, s, version, site_url) for s in studies]
    return _bundle("iim-handbook-evidence", resources, _fhir_base(site_url))


def fhir_citations(book: Handbook, version: str, site_url: str) -> dict:
    entries = [book.bibliography.entries[k] for k in sorted(book.bibliography.entries)]
    return _bundle("iim-handbook-citations", [citation_resource(e, version) for e in entries], _fhir_base(site_url))


# --- everything ----------------------------------------------------------------------


def currency_files(book: Handbook, version: str, generated: str) -> tuple[str, str]:
    """How current the handbook is, as data: each therapy's regulator checks and each trial's status
    with the date it refers to, where it was read, and whether it is unconfirmed or overdue."""
    rows = []
    for t in book.kind("therapy"):
        for c in t.data.get("regulatory_checks") or []:
            rows.append(
                {"record": t.id, "kind": "therapy", "source": c["agency"], "finding": c["finding"], "checked": c["checked"], "as_of": "",
                 "where": c["where"], "not_confirmed_since": "", "results_overdue_since": ""}
            )  # fmt: skip
    for t in book.currency_trials():
        s = t.status
        rows.append(
            {"record": t.record.id, "kind": "study", "source": s.source, "finding": s.status, "checked": s.read_on, "as_of": s.as_of,
             "where": "", "not_confirmed_since": s.unconfirmed_since, "results_overdue_since": s.results_overdue_since}
        )  # fmt: skip
    data = _json(
        {"title": f"{HANDBOOK}: how current it is", "version": version, "generated": generated, "licence": LICENCE, "checks": rows}
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["record"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return data, out.getvalue()


# CSL has no "table" locator label: a table, like a named section, goes by "section" with its words.
_CSL_LOCATOR = [(re.compile(r"^pp?\.\s*(.+)$"), "page"), (re.compile(r"^(?:Figure|Fig\.)\s*(.+)$", re.I), "figure"),
                (re.compile(r"^paragraph\s*(.+)$", re.I), "paragraph")]  # fmt: skip


def csl_cite_item(key: str, locator: str) -> dict:
    """A CSL citation item: the reference and where in it, as a citation processor takes them."""
    for form, label in _CSL_LOCATOR:
        match = form.match(locator)
        if match:
            return {"id": key, "label": label, "locator": match.group(1)}
    return {"id": key, "label": "section", "locator": locator}


def findings_files(book: Handbook, version: str, generated: str, site_url: str) -> tuple[str, str]:
    """Every study finding with where in its source it stands and when it was checked: JSON (with CSL
    citation items) and CSV."""
    rows = []
    for study in book.kind("study"):
        for check in book.finding_checks(study):
            finding = study.data[check.section][check.index]
            rows.append(
                {"study": study.id, "section": check.section, "index": check.index, "text": " ".join(finding["text"].split()),
                 "cite": ";".join(finding.get("cite") or []), "provenance": finding["provenance"], "locator": check.locator,
                 "checked": check.checked, "not_rechecked_because": "; ".join(check.not_rechecked), "page": page_url(book, study, site_url)}
            )  # fmt: skip
    items = [
        {
            **row,
            "citation_items": [
                csl_cite_item(k, row["locator"]) if i == 0 else {"id": k} for i, k in enumerate(filter(None, row["cite"].split(";")))
            ],
        }
        for row in rows
    ]
    data = _json({"title": f"{HANDBOOK}: findings and where they stand in their sources", "version": version,
                  "generated": generated, "licence": LICENCE, "findings": items})  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["study"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return data, out.getvalue()


def data_files(book: Handbook, version: str, date: dt.date, site_url: str, root: Path) -> dict[str, str | bytes]:
    """Every file under data/, by path relative to the site root."""
    generated = date.isoformat()
    schemas = _schema_dir(Path(root))
    files: dict[str, str | bytes] = {
        "data/schemas/common.schema.json": (schemas / "common.schema.json").read_text(encoding="utf-8"),
    }
    all_records: dict[str, list[dict]] = {}
    for kind in KINDS:
        schema = json.loads((schemas / f"{kind}.schema.json").read_text(encoding="utf-8"))
        records = records_of(book, kind, site_url)
        all_records[kind] = records
        files[f"data/schemas/{kind}.schema.json"] = json.dumps(published_schema(schema), indent=2, ensure_ascii=False) + "\n"
        files[f"data/{kind}.json"] = _json(
            {
                "kind": kind,
                "version": version,
                "generated": generated,
                "licence": LICENCE,
                "schema": f"schemas/{kind}.schema.json",
                "records": records,
            }
        )
        files[f"data/{kind}.csv"] = records_csv(kind, schema, records)

    references = csl_json(book)
    files["data/references.bib"] = bibtex_of(book, sorted(book.bibliography.entries))
    files["data/references.csl.json"] = _json(references)
    files["data/references.ris"] = references_ris(book)
    files["data/handbook.json"] = _json(
        {
            "title": HANDBOOK,
            "notice": NOTICE,
            "version": version,
            "generated": generated,
            "licence": LICENCE,
            "records": all_records,
            "references": references,
        }
    )
    files["data/currency.json"], files["data/currency.csv"] = currency_files(book, version, generated)
    files["data/findings.json"], files["data/findings.csv"] = findings_files(book, version, generated, site_url)
    files["data/fhir/evidence.json"] = _fhir_json(fhir_evidence(book, version, site_url))
    files["data/fhir/citation.json"] = _fhir_json(fhir_citations(book, version, site_url))
    return dict(sorted(files.items()))
