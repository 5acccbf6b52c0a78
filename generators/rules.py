"""Rules of meaning that a schema cannot express, one small function each.

Every rule takes the whole input (records and bibliography) and yields problems.
Rules run only on records that passed their schema, so they may trust the shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path

from .bibliography import KIND_ENTRY_TYPES, NOTICE_FIELDS, NOTICE_FORM, REFERENCE_KINDS, notices, reference_kind
from .load import KINDS, Bibliography, Record
from .problems import Problem, close_match, field_name
from .validate import _registry, schema_for

RULES: list[Callable] = []

REGISTRY_ID_FORMS = {
    "ClinicalTrials.gov": re.compile(r"^NCT\d{8}$"),
    "ISRCTN": re.compile(r"^ISRCTN\d{8}$"),
    "EudraCT": re.compile(r"^EudraCT \d{4}-\d{6}-\d{2}$"),
    "EU CT": re.compile(r"^EU CT \d{4}-\d{6}-\d{2}-\d{2}$"),
    "jRCT": re.compile(r"^jRCT[0-9a-z]\d{9}$"),
    "UMIN": re.compile(r"^UMIN\d{9}$"),
    "ChiCTR": re.compile(r"^ChiCTR[0-9A-Za-z-]{6,20}$"),
    "ANZCTR": re.compile(r"^ACTRN\d{14}$"),
    "DRKS": re.compile(r"^DRKS\d{8}$"),
    "CTRI": re.compile(r"^CTRI/\d{4}/\d{2,3}/\d{6}$"),
}
DOI_FORM = re.compile(r"^10\.\d{4,9}/[^\s\\{}]+$")  # no backslashes or braces: a sign of LaTeX escaping
PMID_FORM = re.compile(r"^[1-9]\d{0,8}$")
PMCID_FORM = re.compile(r"^PMC[1-9]\d{0,9}$")
KEY_FORM = re.compile(r"^[a-z][a-z0-9_-]*[0-9]{4}[a-z0-9_-]*$")
REQUIRED_BIB_FIELDS = {
    "article": ("title", "journal", "year"),
    "book": ("title", "publisher", "year"),
    "incollection": ("title", "booktitle", "year"),
    "inproceedings": ("title", "booktitle", "year"),
    "misc": ("title", "year"),
    "online": ("title", "year"),
    "techreport": ("title", "institution", "year"),
}
FINDING_SECTIONS = ("results", "safety")
# Findings that already stood in the handbook, without a check date, when check dates came in (format
# version 3): one line per finding, "<study id> <section> <fingerprint of its text>". Any other finding,
# and any of these once its text changes, must say when its figures were compared with the source.
UNCHECKED_FINDINGS = Path(__file__).resolve().parent.parent / "migrations" / "unchecked-findings.txt"
NOT_STARTED = {"recruiting", "not-yet-recruiting", "active-not-recruiting", "enrolling-by-invitation", "suspended", "unknown"}


def rule(fn: Callable) -> Callable:
    RULES.append(fn)
    return fn


def today() -> dt.date:
    """The build's idea of today; HANDBOOK_TODAY pins it for reproducible tests."""
    pinned = os.environ.get("HANDBOOK_TODAY")
    return dt.date.fromisoformat(pinned) if pinned else dt.date.today()


# --- where references and citations live, read from the schemas -------------------------


@cache
def link_fields(kind: str) -> tuple[tuple[tuple, str, str], ...]:
    """(path pattern, 'ref' or 'cite', target kind) for every linking field of a kind.

    Patterns use '*' for any list index. Schemas mark references with `x-refers-to` and
    citations by pointing at the shared citekey definitions, so the rules follow the schemas.
    """
    found = []

    def walk(schema: dict, at: tuple) -> None:
        ref = schema.get("$ref", "")
        if "x-refers-to" in schema:
            target = schema["x-refers-to"]
            found.append((at + (("*",) if schema.get("type") == "array" else ()), "ref", target))
            return
        if ref.endswith("/citekey"):
            found.append((at, "cite", ""))
            return
        if ref.endswith("/citekeys") or ref.endswith("/citekeys_or_none"):
            found.append((at + ("*",), "cite", ""))
            return
        if ref:
            # Only the shared file has local (#/...) references, so they resolve against it.
            target = _registry().resolver().lookup("common.schema.json" + ref if ref.startswith("#") else ref).contents
            walk({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, at)
            return
        for name, sub in schema.get("properties", {}).items():
            walk(sub, at + (name,))
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], at + ("*",))
        if isinstance(schema.get("then"), dict):
            walk(schema["then"], at)

    walk(schema_for(kind), ())
    return tuple(dict.fromkeys(found))


def values_at(data, pattern: tuple, at: tuple = ()) -> list[tuple[tuple, object]]:
    """Every (path, value) in data matching a pattern with '*' for list indexes. (A loop over the
    pattern, not nested generators: the rules ask it about a million times at 5,000 records.)"""
    found = [(at, data)]
    for head in pattern:
        if head == "*":
            found = [(path + (i,), item) for path, value in found if isinstance(value, list) for i, item in enumerate(value)]
        else:
            found = [(path + (head,), value[head]) for path, value in found if isinstance(value, dict) and head in value]
        if not found:
            break
    return found


def cited_keys(record: Record) -> Iterator[tuple[tuple, str]]:
    for pattern, role, _ in link_fields(record.kind):
        if role == "cite":
            for path, value in values_at(record.data, pattern):
                if isinstance(value, str):
                    yield path, value


def referenced_ids(record: Record) -> Iterator[tuple[tuple, str, str]]:
    for pattern, role, target in link_fields(record.kind):
        if role == "ref":
            for path, value in values_at(record.data, pattern):
                if isinstance(value, str):
                    yield path, value, target


# --- the rules --------------------------------------------------------------------------


@rule
def id_matches_file_name(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    for r in records:
        if r.id != r.file_id:
            yield Problem(
                r.path,
                r.line(("id",)),
                "id",
                f'"{r.id}" differs from the file name "{r.file_id}"',
                f"rename the file to {r.id}.yaml or set id: {r.file_id}",
            )


@rule
def ids_are_unique(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    seen: dict[str, Record] = {}
    for r in records:
        if r.id in seen:
            other = seen[r.id]
            yield Problem(
                r.path,
                r.line(("id",)),
                "id",
                f'"{r.id}" is already the id of {other.path}',
                "ids are unique across all kinds; choose another",
            )
        else:
            seen[r.id] = r


@rule
def references_resolve(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    by_kind: dict[str, set[str]] = defaultdict(set)
    for r in records:
        by_kind[r.kind].add(r.id)
    every_id = set().union(*by_kind.values()) if by_kind else set()
    for r in records:
        for path, value, target in referenced_ids(r):
            pool = every_id if target == "any" else by_kind.get(target, set())
            if value not in pool:
                what = "record" if target == "any" else f"{target} record"
                hint = close_match(value, pool) or (
                    f"it is a {next(k for k, ids in by_kind.items() if value in ids)} record"
                    if value in every_id
                    else f"create evidence/{target}/{value}.yaml or fix the id"
                )
                yield Problem(r.path, r.line(path), field_name(path), f'there is no {what} with id "{value}"', hint)


@rule
def citations_exist(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    if not bib.entries:
        return  # the bibliography itself has problems; they are reported on their own
    for r in records:
        for path, key in cited_keys(r):
            if key not in bib.entries:
                yield Problem(
                    r.path,
                    r.line(path),
                    field_name(path),
                    f'cites "{key}", which is not in references.bib',
                    close_match(key, bib.entries) or "add the reference to references.bib with its DOI or PMID",
                )


@rule
def every_reference_is_cited(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    used = {key for r in records for _, key in cited_keys(r)}
    for key, entry in bib.entries.items():
        if key not in used:
            yield Problem(
                bib.path,
                entry.line,
                key,
                "this reference is not cited by any record",
                "cite it where it supports a statement, or remove it",
            )


def _dates(record: Record) -> Iterator[tuple[tuple, str]]:
    for name in ("last_reviewed", "status_checked"):
        if isinstance(record.data.get(name), str):
            yield (name,), record.data[name]
    yield from _checked_dates(record.data, ())


def _checked_dates(value, at: tuple) -> Iterator[tuple[tuple, str]]:
    """Every `checked` date anywhere in a record: regulatory checks, findings, statements."""
    if isinstance(value, dict):
        if isinstance(value.get("checked"), str):
            yield at + ("checked",), value["checked"]
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                yield from _checked_dates(item, at + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _checked_dates(item, at + (i,))


@rule
def dates_are_real_and_past(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    now = today()
    for r in records:
        for path, text in _dates(r):
            try:
                date = dt.date.fromisoformat(text)
            except ValueError:
                yield Problem(r.path, r.line(path), field_name(path), f'"{text}" is not a real calendar date', "write YYYY-MM-DD")
                continue
            if date > now:
                yield Problem(
                    r.path,
                    r.line(path),
                    field_name(path),
                    f"{text} is in the future (today is {now.isoformat()})",
                    "use the date the check was actually done",
                )
        completion = r.data.get("expected_completion")
        if isinstance(completion, str):
            parts = completion.split("-")
            try:
                dt.date(int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) > 2 else 1)
            except ValueError:
                yield Problem(
                    r.path,
                    r.line(("expected_completion",)),
                    "expected_completion",
                    f'"{completion}" is not a real date',
                    "write YYYY-MM or YYYY-MM-DD",
                )


@rule
def registry_ids_are_well_formed(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    for r in records:
        for i, value in enumerate(r.data.get("registry_ids") or []):
            if not any(form.match(str(value)) for form in REGISTRY_ID_FORMS.values()):
                yield Problem(
                    r.path,
                    r.line(("registry_ids", i)),
                    f"registry_ids[{i}]",
                    f'"{value}" is not a registry id we recognise',
                    "e.g. NCT01234567 (NCT + 8 digits), ISRCTN12345678, EudraCT 2017-001234-56, UMIN000012345, jRCT2031210001",
                )


@rule
def studies_state_their_source(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    for r in records:
        if r.kind != "study":
            continue
        if not r.data.get("citations") and not r.data.get("registry_ids"):
            yield Problem(
                r.path,
                r.line(("citations",)),
                "citations",
                "a study needs a publication or a registry id",
                "add the publication's key, or the registry id if it is not published yet",
            )
        status = r.data.get("trial_status")
        if status in NOT_STARTED | {"terminated", "withdrawn"} and "status_checked" not in r.data:
            yield Problem(
                r.path,
                r.line(("trial_status",)),
                "status_checked",
                f"a study with trial_status {status} needs the date its status was checked",
                "add status_checked: YYYY-MM-DD",
            )
        source, as_of, checked = r.data.get("status_source"), r.data.get("status_as_of"), r.data.get("status_checked")
        if source and source != "registry" and not as_of:
            yield Problem(
                r.path,
                r.line(("status_source",)),
                "status_as_of",
                f"a status read from a {source} needs the date the status refers to",
                "add status_as_of: the registry record's last update (or 'status verified' date) shown there, YYYY-MM-DD",
            )
        if as_of and as_of != "undated" and checked and str(as_of) > str(checked):
            yield Problem(
                r.path,
                r.line(("status_as_of",)),
                "status_as_of",
                f"{as_of} is after the date the status was read ({checked})",
                "status_as_of is the date the status refers to, on or before status_checked",
            )
        if status == "completed" and r.data.get("primary_endpoint_met") != "pending" and not r.data.get("results"):
            yield Problem(
                r.path,
                r.line(("trial_status",)),
                "results",
                "a completed study needs its results",
                "add results with the figures as reported, or set primary_endpoint_met: pending",
            )
        if "primary_endpoint_met" not in r.data and status == "completed":
            yield Problem(
                r.path,
                r.line(("trial_status",)),
                "primary_endpoint_met",
                "say whether the primary endpoint was met",
                "yes, no, pending or n/a",
            )


@rule
def therapies_have_evidence_or_say_why(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    studied = {t for r in records if r.kind == "study" for t in r.data.get("therapies") or []}
    for r in records:
        if r.kind == "therapy" and r.id not in studied and not r.data.get("no_studies_reason"):
            yield Problem(
                r.path,
                r.line(("id",)),
                "no_studies_reason",
                "no study record names this therapy",
                "add a study record, or say why there is none in no_studies_reason",
            )


@rule
def bibliography_entries_are_complete(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    for key, e in bib.entries.items():
        if not KEY_FORM.match(key):
            yield Problem(bib.path, e.line, key, "the key is not in the form surname + year + optional word", "e.g. aggarwal2022")
        kind = reference_kind(e)
        if kind not in REFERENCE_KINDS:
            yield Problem(
                bib.path,
                e.line,
                key,
                f'kind "{kind}" is not a kind of reference',
                f"use one of: {', '.join(REFERENCE_KINDS[1:])}, or leave kind out for a journal article or book",
            )
            continue
        yield from _reference_kind_problems(bib, key, e, kind)
        doi, pmid = e.fields.get("doi", "").strip(), e.fields.get("pmid", "").strip()
        if doi and not DOI_FORM.match(doi):
            yield Problem(
                bib.path,
                e.line,
                key,
                f'doi "{doi}" is not a bare DOI',
                "write it exactly as the source page shows it, as 10.xxxx/..., without https://doi.org/, backslashes or braces",
            )
        if pmid and not PMID_FORM.match(pmid):
            yield Problem(bib.path, e.line, key, f'pmid "{pmid}" is not a PubMed id', "digits only, e.g. 36198179")
        pmcid = e.fields.get("pmcid", "").strip()
        if pmcid and not PMCID_FORM.match(pmcid):
            yield Problem(bib.path, e.line, key, f'pmcid "{pmcid}" is not a PubMed Central id', "PMC and digits, e.g. PMC10583374")
        for name in REQUIRED_BIB_FIELDS.get(e.type, ("title", "year")):
            if not e.fields.get(name):
                yield Problem(bib.path, e.line, key, f"the {e.type} entry has no {name}", f"add {name} = {{...}}")
        if "author" not in e.persons and "editor" not in e.persons and kind in ("article", "congress-abstract"):
            yield Problem(bib.path, e.line, key, "the entry has no author", "add author = {Surname, Given and ...}")
        year = e.fields.get("year", "")
        if year and not re.fullmatch(r"\d{4}", year):
            yield Problem(bib.path, e.line, key, f'year "{year}" is not a four-digit year')
        if "%" in e.fields.get("title", ""):
            yield Problem(bib.path, e.line, key, "a % in the title cuts it short in BibTeX", "write \\% instead")


KIND_FIELDS = {  # what a reader needs to open each kind of reference, and how to write it
    "registry": (
        ("organization", "the registry, e.g. ClinicalTrials.gov"),
        ("number", "the registry id, e.g. NCT04044690"),
        ("url", "the registry page"),
        ("urldate", "the date you read it, YYYY-MM-DD"),
    ),
    "congress-abstract": (
        ("booktitle", "the meeting, e.g. EULAR 2025 European Congress of Rheumatology"),
        ("number", "the abstract number, e.g. OP0002"),
        ("url", "where the abstract is published"),
        ("urldate", "the date you read it, YYYY-MM-DD"),
    ),
    "press-release": (
        ("organization", "the issuer"),
        ("issued", "the date of the release, YYYY-MM-DD"),
        ("url", "the release"),
        ("urldate", "the date you read it, YYYY-MM-DD"),
    ),
    "news": (
        ("organization", "the news outlet, and whose announcement it reports"),
        ("issued", "the date of the report, YYYY-MM-DD"),
        ("url", "the report"),
        ("urldate", "the date you read it, YYYY-MM-DD"),
    ),
    "webpage": (
        ("organization", "who publishes the page"),
        ("url", "the page"),
        ("urldate", "the date you read it, YYYY-MM-DD"),
    ),
    "guideline": (
        ("organization", "the society or body that issued it"),
        ("issued", "the date of the version read, YYYY-MM-DD (or YYYY-MM)"),
        ("url", "the guideline"),
        ("urldate", "the date you read it, YYYY-MM-DD"),
    ),
    "regulatory": (
        ("organization", "the agency or company that issued it"),
        ("issued", "the document's date, YYYY-MM-DD (or YYYY-MM)"),
        ("url", "the document"),
        ("urldate", "the date you read it, YYYY-MM-DD"),
    ),
}
_DATE_FORM = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


def _reference_kind_problems(bib: Bibliography, key: str, e, kind: str) -> Iterator[Problem]:
    """Each kind of reference carries something a reader can open."""
    if kind == "article":
        if not any(e.fields.get(name, "").strip() for name in ("doi", "pmid", "pmcid")):
            yield Problem(
                bib.path,
                e.line,
                key,
                "the entry has no doi, pmid or pmcid",
                "add the DOI or PMID shown on the source page (or, when neither is shown, its PubMed Central id as pmcid); a registry record, congress abstract, press release or "
                "regulatory document needs kind = {registry} (or congress-abstract, press-release, news, webpage, guideline, regulatory) instead",
            )
        return
    if e.type not in KIND_ENTRY_TYPES[kind]:
        yield Problem(
            bib.path,
            e.line,
            key,
            f"a {kind} reference is written as @{KIND_ENTRY_TYPES[kind][0]}, not @{e.type}",
            f"change @{e.type} to @{KIND_ENTRY_TYPES[kind][0]}",
        )
    for name, what in KIND_FIELDS[kind]:
        value = e.fields.get(name, "").strip()
        if not value:
            yield Problem(bib.path, e.line, key, f"a {kind} reference needs {name}", f"add {name} = {{...}}: {what}")
        elif name in ("urldate", "issued") and not _DATE_FORM.match(value):
            yield Problem(bib.path, e.line, key, f'{name} "{value}" is not a date', "write it YYYY-MM-DD")
        elif name == "url" and not value.startswith(("https://", "http://")):
            yield Problem(bib.path, e.line, key, f'url "{value}" is not a web address', "give the full address starting with https://")
    if (
        kind == "registry"
        and e.fields.get("number")
        and not any(form.match(e.fields["number"].strip()) for form in REGISTRY_ID_FORMS.values())
    ):
        yield Problem(
            bib.path,
            e.line,
            key,
            f'number "{e.fields["number"]}" is not a registry id we recognise',
            "e.g. NCT04044690, ISRCTN48188950, EudraCT 2018-003171-35, UMIN000014344",
        )


@rule
def doi_and_pmid_are_not_shared(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    for name in ("doi", "pmid"):
        seen: dict[str, str] = {}
        for key, e in bib.entries.items():
            value = e.fields.get(name, "").strip().lower()
            if not value:
                continue
            if value in seen:
                yield Problem(
                    bib.path, e.line, key, f"{name} {value} is also the {name} of {seen[value]}", "keep one entry and cite its key"
                )
            else:
                seen[value] = key


@rule
def therapies_state_their_safety(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    """Safety belongs beside efficacy: a therapy with reported study results or an approval says what is
    known of its harms, in its own safety section or through the safety of its studies (shown on its page).
    A therapy studied only in trials still under way has no harms reported yet; its page says so."""
    reported = {t for r in records if r.kind == "study" and r.data.get("results") for t in r.data.get("therapies") or []}
    with_study_safety = {t for r in records if r.kind == "study" and r.data.get("safety") for t in r.data.get("therapies") or []}
    for r in records:
        if r.kind != "therapy" or r.data.get("safety") or r.id in with_study_safety:
            continue
        if r.id in reported or r.data.get("approvals"):
            why = "an approval" if r.data.get("approvals") else "a study with results"
            yield Problem(
                r.path,
                r.line(("id",)),
                "safety",
                f"this therapy has {why} but no safety section",
                "add safety: with adverse_events (as the studies report them), warnings (from the label) and/or monitoring",
            )


RECOMMENDATION_SUBJECTS = ("subtypes", "autoantibodies", "therapies", "topics")


@rule
def recommendations_say_what_they_are_about(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    """A recommendation reaches readers on the pages it is about, so it must name at least one."""
    for r in records:
        if r.kind == "recommendation" and not any(r.data.get(name) for name in RECOMMENDATION_SUBJECTS):
            yield Problem(
                r.path,
                r.line(("statement",)),
                "subtypes",
                "the recommendation names no subtype, autoantibody, therapy or topic",
                "add subtypes:, autoantibodies:, therapies: or topics: with the ids of the pages it should appear on",
            )


@rule
def links_avoid_withdrawn_records(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    """A withdrawn record has no page any more; a record that still names it would link nowhere."""
    withdrawn = {r.id: r for r in records if r.data.get("status") == "withdrawn"}
    for r in records:
        if r.data.get("status") == "withdrawn":
            continue
        for path, value, _ in referenced_ids(r):
            if value in withdrawn:
                yield Problem(
                    r.path,
                    r.line(path),
                    field_name(path),
                    f'names "{value}", which is withdrawn ({withdrawn[value].path})',
                    "remove the link, or name the record that replaces it",
                )


def check_rules(records: list[Record], bib: Bibliography, complete: bool = True) -> list[Problem]:
    """All rules; with complete=False (some records unreadable) skip those that need every record."""
    problems: list[Problem] = []
    for check in RULES:
        if complete or check not in NEEDS_ALL_RECORDS:
            problems += list(check(records, bib))
    return problems


def check_rules_tolerant(partial: list[Record], id_only: list[Record], bib: Bibliography) -> list[Problem]:
    """Rules over records some of which failed their schema (see model.check)."""
    problems: list[Problem] = []
    for check in RULES:
        if check in NEEDS_ALL_RECORDS:
            continue
        try:
            problems += list(check(partial, bib))
        except (KeyError, TypeError, AttributeError, ValueError):
            problems += list(check(id_only, bib))
    return problems


# A record that failed its schema may still cite a reference or name a therapy.
NEEDS_ALL_RECORDS = (every_reference_is_cited, therapies_have_evidence_or_say_why)


@rule
def calculator_numbers_are_consistent(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    """The numbers the calculators read (criteria weights and cut-offs, response conversion tables and
    thresholds) must make one unambiguous calculation: a calculator never guesses around them."""
    for r in records:
        d = r.data
        items = d.get("items") if r.kind == "criteria" else None
        if items and any("weight_with_biopsy" in i for i in items):
            for n, i in enumerate(items):
                where = ("items", n)
                if "weight_with_biopsy" not in i:
                    yield Problem(
                        r.path, r.line(where), field_name(where), "has no weight_with_biopsy", "weighted criteria give every item a number"
                    )
                elif i.get("requires_biopsy") == ("weight_without_biopsy" in i):
                    hint = (
                        "a biopsy item has no weight without biopsy"
                        if i.get("requires_biopsy")
                        else "add weight_without_biopsy, or requires_biopsy: true"
                    )
                    yield Problem(r.path, r.line(where), field_name(where), "weight without biopsy and requires_biopsy disagree", hint)
        model = d.get("score_model") if r.kind == "criteria" else None
        if model:
            for mode in ("from_without_biopsy", "from_with_biopsy"):
                cuts = [c.get(mode) for c in model["categories"]]
                if cuts[0] is not None or None in cuts[1:] or cuts[1:] != sorted(set(cuts[1:])):
                    where = ("score_model", "categories")
                    yield Problem(
                        r.path,
                        r.line(where),
                        field_name(where),
                        f"{mode} must be missing in the first category and rise in the others",
                        "list the categories from the lowest up",
                    )
            named = {i["item"] for i in items or []}
            for n, name in enumerate((model.get("rash_or_biopsy") or {}).get("items", [])):
                if name not in named:
                    where = ("score_model", "rash_or_biopsy", "items", n)
                    hint = close_match(name, named) or "write the item exactly as under items"
                    yield Problem(r.path, r.line(where), field_name(where), f'"{name}" is not one of the items', hint)
        table = d.get("conversion_table") if r.kind == "outcome-measure" else None
        for n, m in enumerate((table or {}).get("measures", [])):
            where = ("conversion_table", "measures", n)
            cuts = m["improvement_cut_points"]
            if len(m["points"]) != len(cuts) + 1 or cuts != sorted(set(cuts)):
                yield Problem(
                    r.path,
                    r.line(where),
                    field_name(where),
                    "cut points must rise, with one more points value than cut points",
                    "the first points value is for worsening up to the first cut point",
                )
        for n, t in enumerate(d.get("thresholds") or [] if r.kind == "outcome-measure" else []):
            where = ("thresholds", n)
            if not t["minimal"] < t["moderate"] < t["major"]:
                yield Problem(r.path, r.line(where), field_name(where), "thresholds must rise from minimal to moderate to major")
            if [x["population"] for x in d["thresholds"]].count(t["population"]) > 1:
                yield Problem(r.path, r.line(where), field_name(where), f"a second {t['population']} entry", "one entry per population")


# --- regulatory status --------------------------------------------------------------------
# "Not approved" is a claim that goes stale without anyone editing the record, so it lives only in
# a dated regulatory check (regulatory_checks), never in a therapy's or study's free text.
UNDATED_APPROVAL_CLAIM = re.compile(
    r"\b(?:not|never been|not yet|yet to be) (?:been )?(?:approved|licensed|authorised|authorized)\b"
    r"|\bno (?:regulatory |marketing )?(?:approval|authorisation|authorization|licence)s?\b"
    r"|\bunapproved\b|\bunlicensed\b",
    re.IGNORECASE,
)
_UNDATED_APPROVAL_CLAIM_LOWER = re.compile(UNDATED_APPROVAL_CLAIM.pattern)  # for a record's whole text, lowercased


def _texts(data, at: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every string in a record with its path, in reading order."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _texts(value, (*at, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _texts(value, (*at, i))
    elif isinstance(data, str):
        yield at, data


@rule
def therapies_date_their_regulatory_status(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    for r in records:
        if r.kind != "therapy":
            continue
        checks = r.data.get("regulatory_checks") or []
        if checks and not any(c["agency"] == "FDA" for c in checks):  # none at all: the schema says so
            yield Problem(
                r.path,
                r.line(("regulatory_checks",)),
                "regulatory_checks",
                "no FDA check of this therapy's regulatory status is recorded",
                "read Drugs@FDA and the FDA label, then add regulatory_checks: - agency: FDA, checked: YYYY-MM-DD, "
                "where: ..., finding: ... (see schemas/therapy.schema.json)",
            )
        approved = {a["agency"] for a in r.data.get("approvals") or []}
        for i, c in enumerate(checks):
            at = ("regulatory_checks", i)
            if c["finding"] == "myositis-approval" and c["agency"] not in approved:
                yield Problem(
                    r.path,
                    r.line((*at, "finding")),
                    field_name((*at, "finding")),
                    f"the {c['agency']} check found a myositis approval, but approvals has none from the {c['agency']}",
                    "add it under approvals: agency, product, indication as the agency words it, date, cite",
                )
            if c["finding"] in ("myositis-approval", "other-indications") and not c.get("cite"):
                yield Problem(
                    r.path,
                    r.line(at),
                    field_name(at),
                    f"a finding of {c['finding']} needs the regulator's record that shows it",
                    "cite the label or approval record read (a kind = regulatory reference)",
                )
        for agency in sorted(approved - {c["agency"] for c in checks if c["finding"] == "myositis-approval"}):
            yield Problem(
                r.path,
                r.line(("approvals",)),
                "approvals",
                f"an approval by the {agency} has no dated check of the {agency}'s records",
                f"add regulatory_checks: - agency: {agency}, checked: YYYY-MM-DD, where: ..., finding: myositis-approval",
            )


@rule
def approval_claims_carry_a_date(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    for r in records:
        if r.kind not in ("therapy", "study"):
            continue
        shown = {k: v for k, v in r.data.items() if k != "regulatory_checks"}
        if not _UNDATED_APPROVAL_CLAIM_LOWER.search("\n".join(text for _, text in _texts(shown)).lower()):
            continue
        for path, text in _texts(shown):
            match = UNDATED_APPROVAL_CLAIM.search(text)
            if match:
                yield Problem(
                    r.path,
                    r.line(path),
                    field_name(path),
                    f'"{match.group(0)}" states a regulatory status without the date it was checked',
                    "say it in regulatory_checks (agency, checked, where, finding) on the therapy record, and drop it here",
                )


# --- notes speak to readers -----------------------------------------------------------------
# A note tells a reader about the evidence ("the full text could not be read"), never how the
# record was edited or searched. How a reference was checked belongs in its `verified` field.
EDITING_WORDS = re.compile(
    "|".join(
        (
            r"\bstored\s+(?:pages?|cop(?:y|ies)|sources?|abstracts?|excerpts?|corpus|records?)\b",
            r"\bno\s+stored\b",
            r"\bcorpus\b",
            r"\bvia\s+search\b",
            r"\bsearched\s+(?:for|again|on)\b",
            r"\blook-?ups?\b",
            r"\bnot\s+returned\b",
            r"\bmirror\b",
            r"\bthe\s+editors?\b",
            r"\bthis\s+(?:session|pass)\b",
            r"\b(?:pages?|sources?)\s+(?:read|seen|checked|consulted|searched)\b",
            r"\b(?:was|were)\s+not\s+seen\b",
            r"\b(?:on|in)\s+any\s+page\b",
            r"\bfound\s+on\s+the\s+pages\b",
            r"\bsearch\s+tool\b",
            r"\bbibtex\b",
        )
    ),
    re.IGNORECASE,
)
# The same words, case-sensitive, for a record's whole text lowercased at once: a fifth of the time of
# searching each of its texts (make serve derives the model again after every save).
_EDITING_WORDS_LOWER = re.compile(EDITING_WORDS.pattern)


@rule
def notes_speak_to_readers(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    for r in records:
        if not _EDITING_WORDS_LOWER.search("\n".join(text for _, text in _texts(r.data)).lower()):
            continue
        for path, text in _texts(r.data):
            match = EDITING_WORDS.search(text)
            if match:
                yield Problem(
                    r.path,
                    r.line(path),
                    field_name(path),
                    f'"{match.group(0)}" tells how the record was edited, not what a reader needs to know',
                    "say what it means for the evidence, e.g. 'the full text could not be read' or 'not checked against "
                    "the label'; how a reference was checked goes in its verified field in references.bib",
                )


# --- retracted and corrected sources ---------------------------------------------------------


@rule
def notices_are_well_formed(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    for key, e in bib.entries.items():
        for name in NOTICE_FIELDS:
            for part in (e.fields.get(name) or "").split(";") if e.fields.get(name) else []:
                if not NOTICE_FORM.match(part.strip()):
                    yield Problem(
                        bib.path,
                        e.line,
                        key,
                        f'{name} "{part.strip()}" is not a dated notice',
                        "write the notice's date and identifier, e.g. 2025-03-02, doi:10.1016/j.example.2025.01.001 "
                        "(several separated by '; ')",
                    )


@rule
def retracted_sources_are_acknowledged(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    """A retracted work may stay cited (a page may need to say what was retracted) only where the
    record says what the retraction means for it; a correction or concern is shown without that."""
    for r in records:
        said = {n.get("cite"): i for i, n in enumerate(r.data.get("source_notices") or [])}
        for path, key in cited_keys(r):
            entry = bib.entries.get(key)
            retracted = [n for n in notices(entry) if n.kind == "retraction"] if entry is not None else []
            if retracted and key not in said:
                yield Problem(
                    r.path,
                    r.line(path),
                    field_name(path),
                    f"cites {key}, which was retracted on {retracted[0].date} ({retracted[0].source})",
                    f"cite another source, or say what the retraction means for this record: source_notices: - cite: {key}, text: ...",
                )
        for key, i in said.items():
            entry = bib.entries.get(key)
            if entry is not None and not notices(entry):
                at = ("source_notices", i, "cite")
                yield Problem(
                    r.path,
                    r.line(at),
                    field_name(at),
                    f"{key} has no retraction, correction or concern in references.bib",
                    "record the notice on the reference first (retraction, correction or concern), or remove this entry",
                )


# --- clinical questions: positions that agree with the recommendations they cite --------------
STANCE_DIRECTIONS = {"recommends": {"for"}, "suggests": {"for"}, "against": {"against"}}


@rule
def question_positions_match_their_recommendations(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    by_id = {r.id: r for r in records}
    for q in records:
        if q.kind != "question":
            continue
        seen: set[str] = set()
        for i, p in enumerate(q.data.get("positions") or []):
            at = ("positions", i)
            if p["guideline"] in seen:
                yield Problem(
                    q.path,
                    q.line((*at, "guideline")),
                    field_name((*at, "guideline")),
                    f"{p['guideline']} has a second position",
                    "one position per guideline",
                )
            seen.add(p["guideline"])
            recs = p.get("recommendations") or []
            if p["stance"] == "not-addressed" and recs:
                yield Problem(
                    q.path, q.line((*at, "recommendations")), field_name((*at, "recommendations")),
                    "a guideline that does not address the question links recommendations",
                    "give its stance (recommends, suggests, against), or remove the recommendations",
                )  # fmt: skip
            if p["stance"] != "not-addressed" and not recs:
                yield Problem(
                    q.path, q.line((*at, "stance")), field_name((*at, "stance")),
                    f"the stance {p['stance']} links no recommendation of {p['guideline']}",
                    "add the ids of the recommendation records that say it",
                )  # fmt: skip
            for j, rid in enumerate(recs):
                rec = by_id.get(rid)
                where = (*at, "recommendations", j)
                if rec is None or rec.kind != "recommendation":
                    continue  # an unknown id is reported by references_resolve
                if rec.data.get("guideline") != p["guideline"]:
                    yield Problem(
                        q.path,
                        q.line(where),
                        field_name(where),
                        f"{rid} belongs to {rec.data.get('guideline')}, not {p['guideline']}",
                        "link it under its own guideline's position",
                    )
                direction = rec.data.get("direction")
                if direction is None:
                    yield Problem(
                        q.path, q.line(where), field_name(where),
                        f"{rid} has no direction, so the stance {p['stance']} cannot be checked against it",
                        f"add direction: for, against or statement to {rec.path}",
                    )  # fmt: skip
                elif p["stance"] in STANCE_DIRECTIONS and direction not in STANCE_DIRECTIONS[p["stance"]] | {"statement"}:
                    yield Problem(
                        q.path, q.line((*at, "stance")), field_name((*at, "stance")),
                        f"the stance {p['stance']} contradicts {rid}, whose direction is {direction}",
                        "correct the stance (recommends or suggests for a recommendation for; against for one against), or the link",
                    )  # fmt: skip
        stances = {p["stance"] for p in q.data.get("positions") or [] if p["stance"] != "not-addressed"}
        directions = {d for s in stances for d in STANCE_DIRECTIONS.get(s, ())}
        if (len(directions) > 1 or len(stances) > 1) and not q.data.get("differences"):
            yield Problem(
                q.path, q.line(("positions",)), "differences",
                "the guidelines' positions differ, but the record does not say why",
                "add differences: the reason, such as date, population, certainty or values, cited",
            )  # fmt: skip


@rule
def class_members_date_their_regulatory_status(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    """A class page compares its members' regulatory status; each must say when it was checked."""
    by_id = {r.id: r for r in records}
    for c in records:
        if c.kind != "drug-class":
            continue
        for i, member in enumerate(c.data.get("members") or []):
            therapy = by_id.get(member)
            if therapy is None or therapy.kind != "therapy":
                continue  # reported by references_resolve
            if not any(check.get("checked") for check in therapy.data.get("regulatory_checks") or []):
                at = ("members", i)
                yield Problem(
                    c.path,
                    c.line(at),
                    field_name(at),
                    f"{member} has no dated regulatory check, so the class page cannot give its status",
                    f"add regulatory_checks (agency, checked, where, finding) to {therapy.path}",
                )


__all__ = ["RULES", "check_rules", "check_rules_tolerant", "link_fields", "cited_keys", "referenced_ids", "today", "KINDS"]


def finding_fingerprint(record_id: str, section: str, text: str) -> str:
    """A finding's line in migrations/unchecked-findings.txt; any edit to its text changes it."""
    digest = hashlib.sha256(" ".join(str(text).split()).encode()).hexdigest()[:16]
    return f"{record_id} {section} {digest}"


@cache
def findings_without_a_check() -> frozenset[str]:
    try:
        lines = UNCHECKED_FINDINGS.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@rule
def findings_say_when_they_were_checked(records: list[Record], bib: Bibliography) -> Iterable[Problem]:
    known = findings_without_a_check()
    for r in records:
        if r.kind != "study":
            continue
        for section in FINDING_SECTIONS:
            for i, finding in enumerate(r.data.get(section) or []):
                if finding.get("checked") or finding_fingerprint(r.id, section, finding.get("text", "")) in known:
                    continue
                yield Problem(
                    r.path,
                    r.line((section, i)),
                    field_name((section, i, "checked")),
                    "a new or changed finding needs the date its figures were compared with the source",
                    "open the source, write where the figures stand in locator: (Table 2, abstract, p. 1762) "
                    "and the date you compared them in checked: YYYY-MM-DD",
                )
