"""The living-evidence watch: what changed in the trial registries, at the FDA, in PubMed and in Crossref
since the records were written.

    python -m generators watch [--out FILE] [--fixtures DIR] [--apply-status] [--apply-notices] [--max-chars N]

Registry check: every study record with `registry_ids`. NCT ids are read from the ClinicalTrials.gov
API (version 2); the trial status, primary completion date, enrolment and posted results are compared
with the record. Other registries have no supported API: their ids are listed as not checked.
Literature check: one PubMed search per therapy, per autoantibody and per trial (acronym or NCT id),
for publications dated in a later year than the newest reference the record cites, leaving out
those already in references.bib.
Regulator check: for every therapy with `regulator_names`, openFDA's Drugs@FDA (approvals and
supplements with their dates) and drug labels (boxed warning, indications, recent major changes),
against the date of the record's FDA `regulatory_checks` entry. The EMA publishes no machine-readable
medicines file whose address and format could be confirmed from here, so EMA checks stay by hand.
Notice check: for every DOI in references.bib, Crossref's `updates:` filter (retractions, corrections,
expressions of concern, Retraction Watch data included); for every PMID, PubMed's publication types
("Retracted Publication"). `--apply-notices` writes new notices into references.bib
(`retraction`, `correction`, `concern`), which the build then shows and validation acts on.

The report (Markdown, on stdout and in --out) lists what changed and proposes YAML edits for the
status fields only (`trial_status`, `status_checked`, `status_source`, `status_as_of`) and for the
FDA regulatory check. Results, figures and summaries are never
written: a person reads the registry entry or the paper first. `--apply-status` rewrites only those
two lines of a record, in place, through a temporary file and a rename.

Exit codes: 0 nothing changed; 1 changes or new publications found (errors, if any, are in the
report too); 2 only errors (no check could say whether anything changed), or wrong usage.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

from .load import Record, load

CHECKOUT = Path(__file__).resolve().parent.parent
EXIT_NOTHING, EXIT_CHANGES, EXIT_ERRORS = 0, 1, 2

TRIAL_STATUSES = (
    "completed",
    "active-not-recruiting",
    "recruiting",
    "not-yet-recruiting",
    "enrolling-by-invitation",
    "terminated",
    "withdrawn",
    "suspended",
    "unknown",
)
# ClinicalTrials.gov overallStatus -> the handbook's trial_status. Expanded-access values
# (AVAILABLE, NO_LONGER_AVAILABLE, TEMPORARILY_NOT_AVAILABLE, APPROVED_FOR_MARKETING) and
# WITHHELD have no equivalent and are reported for a person to judge.
CTGOV_STATUS = {
    "RECRUITING": "recruiting",
    "ACTIVE_NOT_RECRUITING": "active-not-recruiting",
    "NOT_YET_RECRUITING": "not-yet-recruiting",
    "ENROLLING_BY_INVITATION": "enrolling-by-invitation",
    "COMPLETED": "completed",
    "TERMINATED": "terminated",
    "WITHDRAWN": "withdrawn",
    "SUSPENDED": "suspended",
    "UNKNOWN": "unknown",
}
REGISTRIES = (  # (pattern, name) for ids the watch cannot check
    (r"ISRCTN", "ISRCTN"),
    (r"EU ?CT|\d{4}-5\d{5}-\d{2}-\d{2}", "EU CTR (CTIS)"),
    (r"EudraCT|\d{4}-\d{6}-\d{2}", "EudraCT"),
    (r"UMIN", "UMIN-CTR"),
    (r"jRCT", "jRCT"),
    (r"JapicCTI", "JAPIC"),
    (r"ChiCTR", "ChiCTR"),
    (r"ACTRN", "ANZCTR"),
    (r"DRKS", "DRKS"),
    (r"CTRI", "CTRI"),
    (r"KCT", "CRIS"),
    (r"IRCT", "IRCT"),
    (r"NL\d|NTR", "Netherlands Trial Register"),
)
MYOSITIS = (
    "(myositis[tiab] OR dermatomyositis[tiab] OR polymyositis[tiab] OR myopathy[tiab] OR myopathies[tiab]"
    " OR antisynthetase[tiab] OR anti-synthetase[tiab])"
)
NCT = re.compile(r"^NCT\d{8}$")


def trial_status(record: Record) -> str | None:
    """The registry status a study records: `trial_status` (schema 2), else a trial value of `status`."""
    value = record.data.get("trial_status")
    if value is None and record.data.get("status") in TRIAL_STATUSES:
        value = record.data["status"]
    return str(value) if value is not None else None


def status_field(record: Record) -> str:
    return "trial_status" if "trial_status" in record.data else "status"


def registry_name(registry_id: str) -> str:
    for pattern, name in REGISTRIES:
        if re.search(pattern, registry_id, re.IGNORECASE):
            return name
    return "unrecognised registry"


def _name(record: Record) -> str:
    return str(record.data.get("acronym") or record.data.get("title") or record.id)


# --- registry check ----------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    record: str
    registry: str
    changed: bool = False


@dataclass
class TrialCheck:
    record: Record
    registry_id: str
    rows: list[Row] = field(default_factory=list)
    new_status: str | None = None  # the proposed trial_status, when it differs
    notes: list[str] = field(default_factory=list)
    last_update: str = ""

    @property
    def changed(self) -> bool:
        return any(r.changed for r in self.rows) or bool(self.notes)


def _same_date(recorded: str, registry: str) -> bool:
    n = min(len(recorded), len(registry))
    return recorded[:n] == registry[:n]


def compare(record: Record, registry_id: str, entry: dict, primary: bool) -> TrialCheck:
    check = TrialCheck(record, registry_id, last_update=entry["last_update"])
    data = record.data
    recorded = trial_status(record)
    registry_status = CTGOV_STATUS.get(entry["overall_status"])
    shown = f"{registry_status or '?'} ({entry['overall_status']}"
    # UNKNOWN: the registry has not been verified for two years; it keeps the last status it knew
    shown += f"; last known {entry['last_known_status']})" if entry.get("last_known_status") else ")"
    if registry_status is None:
        check.rows.append(Row("Trial status", recorded or "not recorded", shown, True))
        check.notes.append(f"ClinicalTrials.gov status {entry['overall_status']} has no equivalent `trial_status`; decide by hand.")
    else:
        differs = registry_status != recorded
        check.rows.append(Row("Trial status", recorded or "not recorded", shown, differs))
        if differs and primary:
            check.new_status = registry_status
        # the same status, but recorded from a copy or as of an older update: the registry itself now
        # confirms it, and the record should say so with the registry's own date
        as_of = str(data.get("status_as_of") or "")
        stale_date = data.get("status_source") != "registry" or (check.last_update and as_of and as_of < check.last_update)
        under_way = registry_status not in ("completed", "terminated", "withdrawn")
        if not differs and primary and under_way and stale_date and check.last_update:
            check.rows.append(Row("Status date", as_of or "not recorded", f"last update {check.last_update}", True))
            check.new_status = registry_status

    date, kind = entry["primary_completion"]
    expected = str(data.get("expected_completion") or "")
    changed = bool(date and expected and not _same_date(expected, date))
    check.rows.append(Row("Primary completion", expected or "not recorded", f"{date} ({kind})" if date else "not given", changed))
    date, kind = entry["completion"]
    check.rows.append(Row("Completion", "no field", f"{date} ({kind})" if date else "not given"))

    count, kind = entry["enrolment"]
    n, basis = data.get("n"), str(data.get("n_basis") or "")
    recorded_n = f"{n} ({basis})" if basis else str(n) if n is not None else "not recorded"
    # Only an enrolment figure is comparable: randomised and analysed counts may rightly differ.
    changed = count is not None and basis in ("enrolled", "planned") and (n != count or (basis == "planned" and kind == "actual"))
    check.rows.append(Row("Enrolment", recorded_n, f"{count} ({kind})" if count is not None else "not given", changed))

    has_results = bool(data.get("results"))
    posted = entry["has_results"]
    check.rows.append(
        Row(
            "Results",
            "recorded" if has_results else "none recorded",
            "posted on the registry" if posted else "not posted",
            posted and not has_results,
        )
    )
    return check


@dataclass
class Watch:
    today: str
    checks: list[TrialCheck] = field(default_factory=list)
    not_checked: list[tuple[Record, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    searches: list[dict] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    searched: int = 0
    regulators: list[RegulatorCheck] = field(default_factory=list)
    new_trials: list[dict] = field(default_factory=list)  # registered since new_since, not yet in a record
    new_since: str = ""
    unconfirmed: list[tuple[Record, object]] = field(default_factory=list)  # (study, TrialStatus)
    overdue: list[tuple[Record, object]] = field(default_factory=list)
    not_watched: list[Record] = field(default_factory=list)  # therapies without regulator_names
    notices: list[NoticeCheck] = field(default_factory=list)
    references_checked: int = 0

    @property
    def changed(self) -> list[TrialCheck]:
        return [c for c in self.checks if c.changed]

    @property
    def new_papers(self) -> list[dict]:
        return [s for s in self.searches if s["new"]]

    @property
    def regulator_changes(self) -> list[RegulatorCheck]:
        return [c for c in self.regulators if c.findings]

    @property
    def new_notices(self) -> list[NoticeCheck]:
        return [c for c in self.notices if c.new or c.pubmed_retracted]

    @property
    def exit_code(self) -> int:
        # Unconfirmed statuses and overdue results are listed every time but are no news: the pages
        # already show them as such. New trials, changes and notices are.
        if self.changed or self.new_papers or self.regulator_changes or self.new_notices or self.new_trials:
            return EXIT_CHANGES
        return EXIT_ERRORS if self.errors else EXIT_NOTHING


def check_registries(records: list[Record], fetcher, watch: Watch) -> None:
    from .watch_net import NetError

    for record in records:
        if record.kind != "study" or not isinstance(record.data.get("registry_ids"), list):
            continue
        nct_seen = 0
        for registry_id in record.data["registry_ids"]:
            registry_id = str(registry_id).strip()
            if not NCT.match(registry_id):
                watch.not_checked.append((record, registry_id, registry_name(registry_id)))
                continue
            nct_seen += 1
            try:
                entry = fetcher.ctgov_study(registry_id)
            except NetError as error:
                watch.errors.append(f"{record.path} ({_name(record)}): {error}")
                continue
            watch.checks.append(compare(record, registry_id, entry, primary=nct_seen == 1))


# --- statuses that are no longer current, results overdue, trials newly registered ---------------

# Condition terms for ClinicalTrials.gov's search, one for every IIM subtype.
NEW_TRIAL_CONDITIONS = (
    "myositis OR dermatomyositis OR polymyositis OR antisynthetase OR necrotizing myopathy OR necrotising myopathy"
    " OR inclusion body myositis OR juvenile dermatomyositis OR amyopathic dermatomyositis OR inflammatory myopathy"
)


def check_currency(records: list[Record], bib, watch: Watch) -> None:
    """The statuses the pages show as not confirmed, and the results overdue, by the model's own rules."""
    import datetime as dt

    from .bibliography import reference_kind
    from .model import trial_status

    now = dt.date.fromisoformat(watch.today)
    for record in records:
        if record.kind != "study" or not record.data.get("trial_status"):
            continue
        keys = record.data.get("citations") or []
        published = any(k in bib.entries and reference_kind(bib.entries[k]) == "article" for k in keys)
        status = trial_status(record.data, now, published)
        if status.unconfirmed_since:
            watch.unconfirmed.append((record, status))
        if status.results_overdue_since:
            watch.overdue.append((record, status))


def check_new_trials(records: list[Record], fetcher, watch: Watch, since: str) -> None:
    from .watch_net import NetError

    known = {str(i) for r in records if r.kind == "study" for i in r.data.get("registry_ids") or []}
    try:
        found = fetcher.ctgov_new_trials(NEW_TRIAL_CONDITIONS, since)
    except NetError as error:
        watch.errors.append(f"New trials not checked: {error}")
        return
    watch.new_since = since  # only a search that answered may say "no new trial"
    watch.new_trials = [t for t in found if t["nct_id"] not in known]


# --- regulator check (FDA) ---------------------------------------------------------------------

MYOSITIS_WORDS = re.compile(r"myositis|dermatomyositis|polymyositis|myopath", re.IGNORECASE)


@dataclass
class RegulatorCheck:
    record: Record
    checked: str  # the date of the record's FDA check ("" when it has none)
    finding: str  # what that check found
    findings: list[str] = field(default_factory=list)
    suggested: str = ""  # the finding the new data point to
    boxed_warning: str = ""  # the label's boxed warning, when the record lists none


def _fda_check(record: Record) -> dict:
    return next((c for c in record.data.get("regulatory_checks") or [] if c.get("agency") == "FDA"), {})


def compare_fda(record: Record, applications: list[dict], labels: list[dict]) -> RegulatorCheck:
    fda = _fda_check(record)
    checked, finding = str(fda.get("checked") or ""), str(fda.get("finding") or "")
    check = RegulatorCheck(record, checked, finding, suggested=finding)
    since = checked or "0000-00-00"
    for app in applications:
        brands = f" ({', '.join(app['brands'])})" if app["brands"] else ""
        for sub in app["submissions"]:
            if sub["status"] != "AP" or not sub["date"] or sub["date"] <= since:
                continue
            what = sub["class"] or sub["type"]
            if sub["type"] == "ORIG":
                check.findings.append(f"New approval: {app['application']}{brands}, approved {sub['date']} ({what}).")
                if check.suggested in ("no-approval", ""):
                    check.suggested = "other-indications"
            elif "efficacy" in what.lower():
                check.findings.append(
                    f"Efficacy supplement {sub['number']} to {app['application']}{brands} approved {sub['date']}: "
                    "a new or changed indication; read the label's indications."
                )
            elif "label" in what.lower():
                check.findings.append(f"Labelling supplement {sub['number']} to {app['application']}{brands} approved {sub['date']}.")
    boxed_recorded = any(w.get("boxed") for w in (record.data.get("safety") or {}).get("warnings") or [])
    for label in labels:
        name = ", ".join(label["brands"]) or label["set_id"]
        if MYOSITIS_WORDS.search(label["indications"]) and finding != "myositis-approval":
            check.findings.append(f"The {name} label's indications mention myositis; the record's FDA finding is {finding or 'missing'}.")
            check.suggested = "myositis-approval"
        if label["boxed_warning"] and not boxed_recorded and not check.boxed_warning:
            check.boxed_warning = label["boxed_warning"]
            check.findings.append(f"The {name} label has a boxed warning; the record lists none.")
        for change in label["recent_changes"]:
            if change["month"] > since[:7]:
                check.findings.append(f"The {name} label changed after the record's check: {change['section']} ({change['month']}).")
    check.findings = list(dict.fromkeys(check.findings))
    return check


def check_regulators(records: list[Record], fetcher, watch: Watch) -> None:
    from .watch_net import NetError

    for record in records:
        if record.kind != "therapy":
            continue
        names = record.data.get("regulator_names") or []
        if not names:
            watch.not_watched.append(record)
            continue
        applications, labels = [], []
        try:
            for name in names:
                applications += fetcher.fda_applications(str(name))
                labels += fetcher.fda_labels(str(name))
        except NetError as error:
            watch.errors.append(f"{record.path} ({record.data.get('title', record.id)}): {error}")
            continue
        watch.regulators.append(compare_fda(record, applications, labels))


# --- notices on the references (retractions, corrections, concerns) ----------------------------


@dataclass
class NoticeCheck:
    key: str
    doi: str
    new: list[dict] = field(default_factory=list)  # notices Crossref knows that references.bib does not
    pubmed_retracted: bool = False  # PubMed marks the work retracted, and references.bib has no retraction


def check_notices(bib, fetcher, watch: Watch) -> None:
    from .bibliography import notices
    from .watch_net import NetError

    by_pmid = {}
    for key, entry in sorted(bib.entries.items()):
        doi, pmid = entry.fields.get("doi", "").strip(), entry.fields.get("pmid", "").strip()
        if not doi and not pmid:
            continue
        watch.references_checked += 1
        check = NoticeCheck(key, doi)
        recorded = {(n.kind, n.source.lower()) for n in notices(entry)}
        if doi:
            try:
                found = fetcher.crossref_notices(doi)
            except NetError as error:
                watch.errors.append(f"references.bib ({key}): {error}")
                found = []
            check.new = [n for n in found if n["kind"] and n["date"] and (n["kind"], n["notice"].lower()) not in recorded]
        if pmid:
            by_pmid[pmid] = (check, any(kind == "retraction" for kind, _ in recorded))
        watch.notices.append(check)
    pmids = sorted(by_pmid)
    for start in range(0, len(pmids), 200):
        try:
            summaries = fetcher.pubmed_summaries(pmids[start : start + 200])
        except NetError as error:
            watch.errors.append(f"PubMed publication types: {error}")
            continue
        for pmid, summary in summaries.items():
            if pmid not in by_pmid:  # a summary not asked for
                continue
            check, retraction_recorded = by_pmid[pmid]
            retracted = "Retracted Publication" in summary.get("pubtype", [])
            check.pubmed_retracted = retracted and not retraction_recorded and not any(n["kind"] == "retraction" for n in check.new)


def apply_notices(root: Path, bib, watch: Watch) -> list[str]:
    """Add the new notices to their entries in references.bib (a field line each, before the closing
    brace); everything else stays byte for byte."""
    path = root / "references.bib"
    text = path.read_text(encoding="utf-8")
    done = []
    for check in watch.new_notices:
        if not check.new:
            continue
        entry = bib.entries[check.key]
        start = re.search(r"@\w+\{" + re.escape(check.key) + r",", text)
        end = text.find("\n}", start.end()) if start else -1
        if not start or end < 0:
            done.append(f"{check.key}: not changed, its entry could not be found; add the notices by hand")
            continue
        by_kind: dict[str, list[str]] = {}
        for n in check.new:
            by_kind.setdefault(n["kind"], []).append(f"{n['date']}, {n['notice']}")
        lines = []
        for kind, values in by_kind.items():
            old = entry.fields.get(kind, "").strip()
            if old:
                done.append(f"{check.key}: not changed, it already has a {kind} field; add {'; '.join(values)} by hand")
                continue
            lines.append(f'    {kind} = "{"; ".join(values)}"')
        if lines:
            body = text[:end].rstrip()
            text = body + ("" if body.endswith(",") else ",") + "\n" + ",\n".join(lines) + text[end:]
            done.append(f"{check.key}: " + "; ".join(line.strip() for line in lines))
    _write_atomically(path, text.encode("utf-8"))
    return done


# --- literature check --------------------------------------------------------------------------


GREEK = str.maketrans({"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa"})


def _phrase(text: str) -> str:
    """A name as a PubMed phrase: without parentheses, quotes, Greek letters or the word 'antibody'."""
    text = re.sub(r"\s*\([^)]*\)", "", text).replace('"', "").translate(GREEK).strip()
    text = re.sub(r"\s+antibod(y|ies)$", "", text, flags=re.IGNORECASE)
    return f'"{text}"[tiab]'


def _names(record: Record) -> str:
    """The record's title and aliases, OR-ed: a drug or antibody goes by several names in titles and abstracts."""
    names = [str(record.data.get("title", record.id))]
    names += [str(a) for a in record.data.get("aliases") or [] if len(str(a)) >= 3]
    phrases = list({_phrase(n).lower(): _phrase(n) for n in reversed(names)}.values())[::-1]  # PubMed ignores case
    return phrases[0] if len(phrases) == 1 else f"({' OR '.join(phrases)})"


def _year(entry) -> int | None:
    found = re.search(r"\d{4}", (entry.fields.get("year") or "") if entry else "")
    return int(found.group(0)) if found else None


def literature_subjects(records: list[Record], bib) -> list[dict]:
    from .rules import cited_keys

    titles = {r.id: str(r.data.get("title", r.id)) for r in records if r.kind == "therapy"}
    subjects = []
    for record in records:
        years = [y for _, key in cited_keys(record) if (y := _year(bib.entries.get(key)))]
        newest = max(years) if years else None
        if record.kind in ("therapy", "autoantibody"):
            term = f"{_names(record)} AND {MYOSITIS}"
            label = f"{'Therapy' if record.kind == 'therapy' else 'Autoantibody'}: {record.data.get('title', record.id)}"
        elif record.kind == "study":
            ncts = [str(i) for i in record.data.get("registry_ids") or [] if NCT.match(str(i))]
            acronym = str(record.data.get("acronym") or "").replace('"', "")
            if not ncts and not acronym:
                continue
            parts = [f"{i}[si]" for i in ncts]
            if acronym:
                therapies = [_phrase(titles[t]) for t in record.data.get("therapies") or [] if t in titles]
                context = f"({' OR '.join(therapies)})" if therapies else MYOSITIS
                parts.append(f'("{acronym}"[tiab] AND {context})')
            term = " OR ".join(parts)
            label = f"Trial: {_name(record)}"
        else:
            continue
        if newest is not None:
            mindate, basis = newest + 1, f"newest cited reference {newest}"
        elif record.kind == "study" and isinstance(record.data.get("year"), int):
            mindate, basis = record.data["year"], f"no reference cited; record year {record.data['year']}"
        else:
            mindate, basis = None, "no reference cited: no date limit"
        subjects.append({"record": record, "label": label, "term": term, "mindate": mindate, "basis": basis})
    return subjects


def check_literature(records: list[Record], bib, fetcher, watch: Watch) -> None:
    from .watch_net import NetError

    known_pmids = {e.fields.get("pmid", "").strip() for e in bib.entries.values()} - {""}
    known_dois = {e.fields.get("doi", "").strip().lower() for e in bib.entries.values()} - {""}
    for subject in literature_subjects(records, bib):
        record = subject["record"]
        watch.searched += 1
        try:
            count, pmids = fetcher.pubmed_search(subject["term"], subject["mindate"])
            unknown = [p for p in pmids if p not in known_pmids]
            summaries = fetcher.pubmed_summaries(unknown)
        except NetError as error:
            watch.errors.append(f"{record.path} ({subject['label']}): {error}")
            continue
        new = [summaries.get(p) or {"pmid": p, "title": "(no summary returned)"} for p in unknown]
        new = [p for p in new if str(p.get("doi", "")).lower() not in known_dois or not p.get("doi")]
        watch.searches.append(dict(subject, count=count, shown=len(pmids), new=new))


# --- applying the status edits -----------------------------------------------------------------


def _replace_value(line: bytes, key: str, value: str) -> bytes:
    """`key: old  # comment\\n` -> `key: value  # comment\\n`, keeping quotes, comment and line ending."""
    m = re.match(rb"^(" + re.escape(key.encode()) + rb":[ \t]*)(['\"]?)([^'\"#\r\n]*?)\2([ \t]*(?:#[^\r\n]*)?)(\r?\n)?$", line)
    if not m:
        raise ValueError(f"cannot read the `{key}` line")
    return m.group(1) + m.group(2) + value.encode() + m.group(2) + m.group(4) + (m.group(5) or b"")


def status_fields(check: TrialCheck, today: str) -> list[tuple[str, str]]:
    """What a status read from ClinicalTrials.gov itself sets: the status, the day it was read, that
    the registry was the source, and the date the status refers to (the entry's last update)."""
    fields = [("trial_status", check.new_status or ""), ("status_checked", today), ("status_source", "registry")]
    if check.last_update:
        fields.append(("status_as_of", check.last_update))
    return fields


def _set_top_level(lines: list[bytes], fields: list[tuple[str, str]]) -> None:
    """Set each top-level `key: value` line in place, or insert it after the previous field's line."""
    at = None
    for key, value in fields:
        found = next((i for i, line in enumerate(lines) if line.startswith(key.encode() + b":")), None)
        if found is not None:
            lines[found] = _replace_value(lines[found], key, value)
            at = found
            continue
        if at is None:
            raise ValueError(f"there is no `{key}` line to change")
        ending = b"\r\n" if lines[at].endswith(b"\r\n") else b"\n"
        if not lines[at].endswith(b"\n"):
            lines[at] += ending
        lines.insert(at + 1, f"{key}: {value}".encode() + ending)
        at += 1


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def apply_status(root: Path, check: TrialCheck, today: str) -> str:
    """Rewrite the status lines of one record (adding those missing); the rest stays byte for byte."""
    record = check.record
    if "trial_status" not in record.data:
        return f"{record.path}: not changed, the record has no `trial_status` line yet (schema 1); edit it by hand"
    path = root / record.path
    lines = path.read_bytes().splitlines(keepends=True)
    fields = status_fields(check, today)
    try:
        _set_top_level(lines, fields)
    except ValueError as error:
        return f"{record.path}: not changed, {error}; edit it by hand"
    _write_atomically(path, b"".join(lines))
    said = ", ".join(f"{key} set to {value}" for key, value in fields)
    return f"{record.path}: {said}" + (" (the registry entry's last update)" if check.last_update else "")


# --- the report --------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _edit(check: TrialCheck, today: str) -> str:
    record = check.record
    now_field = status_field(record)
    line = record.line((now_field,))
    now = record.data.get(now_field, "absent")
    lines = [f"# {record.path}, line {line} (now: {now_field}: {now})"]
    if now_field == "status":
        lines.append("# schema 1 record: the registry status moves to trial_status with the migration to schema 2")
    lines += [f"{key}: {value}" for key, value in status_fields(check, today)]
    return "```yaml\n" + "\n".join(lines) + "\n```"


def render(watch: Watch) -> str:
    out = [f"# Living-evidence watch, {watch.today}", ""]
    verdict = {
        EXIT_NOTHING: "nothing changed",
        EXIT_CHANGES: "changes found",
        EXIT_ERRORS: "no change found, but some checks failed",
    }[watch.exit_code]
    out += [
        f"**Result: {verdict}.** {len(watch.changed)} of {len(watch.checks)} registry entries checked differ from the records; "
        f"{len(watch.not_checked)} registry ids not checked automatically; "
        f"{len(watch.new_papers)} of {watch.searched} PubMed searches found publications not in references.bib; "
        f"{len(watch.regulator_changes)} of {len(watch.regulators)} therapies changed at the FDA since their check; "
        f"{len(watch.new_notices)} of {watch.references_checked} references have new retraction, correction or concern notices; "
        f"{len(watch.errors)} checks failed.",
        "",
        "Nothing here has been written into a record. Read the registry entry or the paper first; "
        'see CONTRIBUTING.md, "Acting on the living-evidence watch".',
        "",
    ]
    if watch.applied:
        out += ["## Edits applied (--apply-status, --apply-notices)", ""] + [f"- {a}" for a in watch.applied] + [""]

    out += ["## Registry: what changed", ""]
    if not watch.changed:
        out += ["No registered trial differs from its record.", ""]
    for check in watch.changed:
        record = check.record
        url = f"https://clinicaltrials.gov/study/{check.registry_id}"
        out += [f"### {_name(record)}: {check.registry_id}", ""]
        out += [
            f"Record `{record.path}`; registry entry <{url}>" + (f", last updated {check.last_update}." if check.last_update else "."),
            "",
        ]
        out += ["| | Record | ClinicalTrials.gov | |", "|---|---|---|---|"]
        for row in check.rows:
            out.append(f"| {row.label} | {_cell(row.record)} | {_cell(row.registry)} | {'**changed**' if row.changed else ''} |")
        out.append("")
        out += [f"- {note}" for note in check.notes]
        if check.notes:
            out.append("")
        if check.new_status:
            out += ["Proposed edit (status fields only):", "", _edit(check, watch.today), ""]
        by_hand = [r.label for r in check.rows if r.changed and r.label not in ("Trial status", "Status date")]
        if by_hand:
            fields = {
                "Primary completion": "`expected_completion`",
                "Enrolment": "`n`/`n_basis`",
                "Results": "`results` (from the paper or registry)",
            }
            out += ["To do by hand after reading the registry entry: " + ", ".join(fields[label] for label in by_hand) + ".", ""]

    unchanged = [c for c in watch.checks if not c.changed]
    if unchanged:
        out += ["## Registry: unchanged", ""]
        out += [f"- {_name(c.record)} ({c.registry_id}): {trial_status(c.record)}, as recorded" for c in unchanged] + [""]

    if watch.not_checked:
        out += ["## Registry ids not checked automatically (no supported API)", ""]
        out += [f"- {_name(r)} (`{r.path}`): {rid}, {name}" for r, rid, name in watch.not_checked] + [""]

    out += ["## Literature: publications newer than the records' references", ""]
    if not watch.new_papers:
        out += ["No new publication found.", ""]
    for search in watch.new_papers:
        record = search["record"]
        more = f", newest {search['shown']} shown" if search["count"] > search["shown"] else ""
        since = f"published {search['mindate']} or later" if search["mindate"] else "any date"
        link = "https://pubmed.ncbi.nlm.nih.gov/?term=" + quote_plus(search["term"])
        out += [f"### {search['label']}", ""]
        out += [
            f"Record `{record.path}` ({search['basis']}). PubMed, {since}: {search['count']} found{more}; "
            f"{len(search['new'])} not in references.bib. [Search]({link})",
            "",
        ]
        for paper in search["new"]:
            details = ", ".join(x for x in (paper.get("first_author"), paper.get("journal"), paper.get("pubdate")) if x)
            doi = f", doi:{paper['doi']}" if paper.get("doi") else ""
            out.append(
                f"- PMID [{paper['pmid']}](https://pubmed.ncbi.nlm.nih.gov/{paper['pmid']}/): {paper.get('title', '')} ({details}{doi})"
            )
        out.append("")

    out += _render_currency(watch)
    out += _render_regulators(watch)
    out += _render_notices(watch)
    if watch.errors:
        out += ["## Checks that failed", ""] + [f"- {e}" for e in watch.errors] + [""]
    out += [
        "---",
        "Exit codes of `python -m generators watch`: 0 nothing changed, 1 changes found, 2 only errors.",
        "",
    ]
    return "\n".join(out)


def _render_currency(watch: Watch) -> list[str]:
    out = []
    if watch.new_since:
        out += [f"## New trials: registered on ClinicalTrials.gov since {watch.new_since}", ""]
        if not watch.new_trials:
            out += ["No new myositis trial that the records do not already hold.", ""]
        for t in watch.new_trials:
            out.append(
                f"- [{t['nct_id']}](https://clinicaltrials.gov/study/{t['nct_id']}): {t['title']} ({t['status']}, first posted {t['first_posted']})"
            )
        if watch.new_trials:
            first = watch.new_trials[0]
            out += [
                "",
                "Candidates for new study records. After reading a registry entry, start one with "
                f"`make new KIND=study ID=...`; its registry fields, for {first['nct_id']}:",
                "",
                "```yaml",
                f"registry_ids: [{first['nct_id']}]",
                f"trial_status: {CTGOV_STATUS.get(first['status'], 'unknown')}",
                f"status_checked: {watch.today}",
                "status_source: registry",
                f"status_as_of: {first['first_posted'] or watch.today}",
                "```",
                "",
            ]
    out += ["## Statuses not confirmed (shown as such on the pages)", ""]
    if not watch.unconfirmed:
        out += ["Every recorded status was confirmed within six months.", ""]
    for record, status in watch.unconfirmed:
        since = "never dated" if status.unconfirmed_since == "it was read" else f"since {status.unconfirmed_since}"
        out.append(
            f"- {_name(record)} (`{record.path}`): {record.data.get('trial_status')}, not confirmed {since} ({status.unconfirmed_because})."
        )
    if watch.unconfirmed:
        out += [
            "",
            "An NCT trial above is confirmed by the registry check (its edit sets the registry's own date); for the others, "
            "read the registry and set, for example:",
            "",
            "```yaml",
            f"status_checked: {watch.today}",
            "status_source: registry",
            "status_as_of: YYYY-MM-DD  # the registry entry's last update",
            "```",
            "",
        ]
    out += ["## Results overdue (completed 12 months ago or more, nothing posted or published)", ""]
    if not watch.overdue:
        out += ["None.", ""]
    for record, status in watch.overdue:
        out.append(f"- {_name(record)} (`{record.path}`): completed {status.results_overdue_since}.")
    if watch.overdue:
        out += [
            "",
            "Look for results on the registry and in PubMed. Once read, record them with their provenance:",
            "",
            "```yaml",
            "primary_endpoint_met: yes  # or no, as reported",
            "results:",
            "  - text: (figures exactly as reported)",
            "    cite: [(the registry record or the paper)]",
            "    provenance: registry  # or full-text, abstract",
            "```",
            "",
        ]
    return out


EMA_NOT_WATCHED = (
    "The EMA is not checked automatically: it publishes downloadable medicine data, but no machine-readable "
    "file whose address and format could be confirmed, and the watch does not scrape web pages. Check the "
    "EPAR by hand and date it in `regulatory_checks` (agency: EMA)."
)


def _render_regulators(watch: Watch) -> list[str]:
    out = ["## Regulators: FDA (Drugs@FDA and drug labels, through openFDA)", ""]
    if watch.regulators and not watch.regulator_changes:
        out += [f"None of the {len(watch.regulators)} therapies checked changed at the FDA since its record's check.", ""]
    for check in watch.regulator_changes:
        record = check.record
        title = record.data.get("title", record.id)
        recorded = f"checked {check.checked}, finding {check.finding}" if check.checked else "no FDA check recorded"
        out += [f"### {title}", "", f"Record `{record.path}` ({recorded}).", ""]
        out += [f"- {finding}" for finding in check.findings] + [""]
        out += [
            "Proposed edit, after reading Drugs@FDA and the label (the note and citation are yours to write):",
            "",
            "```yaml",
            "regulatory_checks:",
            "  - agency: FDA",
            f"    checked: {watch.today}",
            "    where: Drugs@FDA and the FDA label (openFDA)",
            f"    finding: {check.suggested or 'other-indications'}",
            "    note: >-",
            "      (what the label's indications and warnings say now, in your own words)",
            "    cite: [(the label or approval record read, kind = regulatory)]",
            "```",
            "",
        ]
        if check.boxed_warning:
            quoted = " ".join(check.boxed_warning.split())
            out += [f'The label\'s boxed warning begins: "{quoted[:300]}{"…" if len(quoted) > 300 else ""}"', ""]
            out += ["Add it under `safety.warnings` with `boxed: true`, in your own words, citing the label.", ""]
    if watch.not_watched:
        names = ", ".join(str(r.data.get("title", r.id)) for r in watch.not_watched)
        out += [f"Not checked (no `regulator_names`: not a medicine, or not yet named): {names}.", ""]
    out += [EMA_NOT_WATCHED, ""]
    return out


def _render_notices(watch: Watch) -> list[str]:
    out = ["## References: retractions, corrections and expressions of concern (Crossref, PubMed)", ""]
    if not watch.new_notices:
        out += [f"No new notice on the {watch.references_checked} references checked.", ""]
    for check in watch.new_notices:
        out += [f"### {check.key}" + (f" (doi:{check.doi})" if check.doi else ""), ""]
        for n in check.new:
            source = f", from {n['source']}" if n["source"] else ""
            out.append(f"- Crossref: {n['type']} on {n['date']}, notice {n['notice']}{source}.")
        if check.pubmed_retracted:
            out.append("- PubMed lists this work as a Retracted Publication, and references.bib records no retraction: find the notice.")
        out.append("")
        fields = {}
        for n in check.new:
            fields.setdefault(n["kind"], []).append(f"{n['date']}, {n['notice']}")
        if fields:
            out += ["Proposed references.bib fields (`--apply-notices` writes them):", "", "```bibtex"]
            out += [f'{kind} = "{"; ".join(values)}",' for kind, values in fields.items()] + ["```", ""]
        out += [
            "Every page citing it then shows the notice; a retracted work stays cited only where the record says, in "
            "`source_notices`, what the retraction means for it.",
            "",
        ]
    return out


def truncate(report: str, limit: int | None) -> str:
    if not limit or len(report) <= limit:
        return report
    note = "\n\n…(report cut to fit; the full report is in the job log)\n"
    return report[: max(0, limit - len(note))].rsplit("\n", 1)[0] + note


# --- command line ------------------------------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=Path, default=CHECKOUT / "build" / "watch-report.md", help="where to write the report (Markdown)")
    parser.add_argument("--fixtures", type=Path, help="answer requests from recorded responses in this folder (no network)")
    parser.add_argument("--apply-status", action="store_true", help="rewrite trial_status and status_checked of changed records in place")
    parser.add_argument("--max-chars", type=int, help="cut the written report to this length (a GitHub issue holds 65,536)")
    parser.add_argument("--no-literature", action="store_true", help="leave out the PubMed searches for new publications")
    parser.add_argument("--no-regulators", action="store_true", help="leave out the FDA check")
    parser.add_argument("--no-notices", action="store_true", help="leave out the retraction and correction check")
    parser.add_argument("--apply-notices", action="store_true", help="write new notices into references.bib")
    parser.add_argument("--no-new-trials", action="store_true", help="leave out the search for newly registered trials")
    parser.add_argument("--new-since", help="report trials first posted on or after this date (default: 8 days ago, a weekly run)")


def _repo_url() -> str:
    try:
        found = re.search(r"(?m)^repo_url:\s*(\S+)", (CHECKOUT / "mkdocs.yml").read_text(encoding="utf-8"))
    except OSError:
        return ""
    return found.group(1) if found else ""


def make_fetcher(fixtures: Path | None = None, **overrides):
    from .watch_net import TOOL, Fetcher, ReplaySession

    url = _repo_url()
    settings = dict(
        user_agent=f"{TOOL}/1.0" + (f" (+{url})" if url else ""),
        ncbi_email=os.environ.get("NCBI_EMAIL", ""),
        ncbi_api_key=os.environ.get("NCBI_API_KEY", ""),
    )
    if fixtures is not None:
        settings.update(session=ReplaySession(fixtures), sleep=lambda seconds: None)
    settings.update(overrides)
    return Fetcher(**settings)


def run(
    root: Path,
    fetcher,
    today: str,
    *,
    literature: bool = True,
    regulators: bool = True,
    notices: bool = True,
    apply: bool = False,
    apply_notices_: bool = False,
    new_trials: bool = True,
    new_since: str | None = None,
) -> Watch:
    import datetime as dt

    records, bib, problems = load(root)
    watch = Watch(today)
    watch.errors += [f"{p.path}:{p.line}: {p.message} (this file was not checked)" for p in problems]
    check_registries(records, fetcher, watch)
    check_currency(records, bib, watch)
    if new_trials:
        since = new_since or (dt.date.fromisoformat(today) - dt.timedelta(days=8)).isoformat()
        check_new_trials(records, fetcher, watch, since)
    if literature:
        check_literature(records, bib, fetcher, watch)
    if regulators:
        check_regulators(records, fetcher, watch)
    if notices:
        check_notices(bib, fetcher, watch)
    if apply:
        for check in watch.checks:
            if check.new_status:
                watch.applied.append(apply_status(root, check, today))
    if apply_notices_ and watch.new_notices:
        watch.applied += apply_notices(root, bib, watch)
    return watch


def run_command(args) -> int:
    from .rules import today

    if args.fixtures is not None and not args.fixtures.is_dir():
        print(f"error: --fixtures {args.fixtures} is not a folder", file=sys.stderr)
        return EXIT_ERRORS
    watch = run(
        args.root,
        make_fetcher(args.fixtures),
        today().isoformat(),
        literature=not args.no_literature,
        regulators=not args.no_regulators,
        notices=not args.no_notices,
        apply=args.apply_status,
        apply_notices_=args.apply_notices,
        new_trials=not args.no_new_trials,
        new_since=args.new_since,
    )
    report = render(watch)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_name(args.out.name + ".tmp")
    temporary.write_text(truncate(report, args.max_chars), encoding="utf-8")
    os.replace(temporary, args.out)
    print(f"Wrote {args.out} (exit code {watch.exit_code})", file=sys.stderr)
    return watch.exit_code
