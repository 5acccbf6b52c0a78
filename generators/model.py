"""Derive the handbook model: every cross-reference resolved both ways, evidence summaries,
and the pages that cite each reference. Render, export and PDF read only this model."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .load import CACHE, Bibliography, ParseCache, Record, load
from .problems import InputError
from .rules import check_rules, check_rules_tolerant, cited_keys, referenced_ids, today
from .urls import url_path  # noqa: F401 (re-exported: model.url_path)
from .validate import check_records, placeholder_fields, schema_valid_part

SECTION = {  # kind -> (folder of its pages, plural heading)
    "question": ("questions", "Clinical questions"),
    "subtype": ("subtypes", "Subtypes"),
    "criteria": ("criteria", "Classification criteria"),
    "autoantibody": ("autoantibodies", "Autoantibodies"),
    "topic": ("topics", "Complications and special situations"),
    "therapy": ("therapies", "Therapies"),
    "drug-class": ("classes", "Drug classes compared"),
    "study": ("studies", "Studies and trials"),
    "guideline": ("guidelines", "Guidelines"),
    "recommendation": ("guidelines", "Recommendations"),
    "outcome-measure": ("outcome-measures", "Outcome measures"),
    "source-review": ("source-reviews", "Source reviews"),
}
# Reading order of the handbook: the questions clinicians bring, then disease, management, measurement.
KIND_ORDER = (
    "question",
    "subtype",
    "criteria",
    "autoantibody",
    "topic",
    "therapy",
    "drug-class",
    "study",
    "guideline",
    "outcome-measure",
    "source-review",
)

# Best design first. A systematic review summarises others and is not a level of its own.
EVIDENCE_LEVELS = (
    ("randomised-controlled", "Randomised controlled"),
    ("non-randomised-controlled", "Controlled, non-randomised"),
    ("single-arm-trial", "Uncontrolled trial"),
    ("observational", "Observational"),
    ("case-series", "Case series"),
)
LEVEL_RANK = {design: i for i, (design, _) in enumerate(EVIDENCE_LEVELS)}
LEVEL_LABEL = dict(EVIDENCE_LEVELS)


class Fields(dict):
    """Record data for templates: a field the contributor left out reads as None.

    A record's fields, and each block of fields inside it (population, safety, a statement), know
    their schema: a name the schema does not have (a template typo such as r.sumary or
    r.population.subtype, or a field renamed in a new format) raises, so the build fails instead
    of printing an empty cell."""

    known: frozenset | None = None

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if self.known is not None and name not in self.known and name not in self:
            raise AttributeError(f"records have no field {name!r}")
        return self.get(name)


def _as_fields(value, schema: dict | None = None):
    """Record data as Fields, each block of fields knowing the names its (sub)schema allows."""
    if isinstance(value, dict):
        allowed, known, _, _ = _shape(schema)
        fields = Fields(
            {
                k: _as_fields(v, allowed.get(k) if allowed else None) if isinstance(v, (dict, list)) else v  # most values are text
                for k, v in value.items()
            }
        )
        fields.known = known
        return fields
    if isinstance(value, list):
        items = _shape(schema)[2]
        return [_as_fields(v, items) if isinstance(v, (dict, list)) else v for v in value]
    return value


# id(subschema) -> (its fields, their names, its items' schema, the subschema itself: an entry is used
# only for that very object). Working these out again for every block of every record was half of
# deriving the model.
_SHAPES: dict[int, tuple] = {}


def _shape(schema: dict | None) -> tuple:
    found = _SHAPES.get(id(schema))
    if found is None or found[3] is not schema:
        allowed = _properties(schema)
        found = _SHAPES[id(schema)] = (allowed, frozenset(allowed) if allowed is not None else None, _items(schema), schema)
    return found


def _items(schema: dict | None) -> dict | None:
    if not isinstance(schema, dict):
        return None
    if isinstance(schema.get("items"), dict):
        return schema["items"]
    return next((found for part in schema.get("allOf", []) if (found := _items(part))), None)


def _properties(schema: dict | None) -> dict | None:
    """The fields a block may have, from its (inlined) schema; None when the block is open."""
    if not isinstance(schema, dict):
        return None
    found, closed = dict(schema.get("properties", {})), schema.get("additionalProperties") is False
    for part in schema.get("allOf", []):  # a $ref with keywords beside it, inlined (validate._inline)
        inner = _properties(part)
        if inner is not None:
            found, closed = found | inner, True
    return found if closed and found else None


@cache
def _record_schema(kind: str) -> dict:
    from .validate import validator_for

    return validator_for(kind).schema  # every $ref inlined


# Results known only from these sources are labelled wherever the evidence is summarised.
NOT_PEER_REVIEWED = {
    "press-release": "press release, not peer reviewed",
    "congress-abstract": "congress abstract",
    "registry": "registry results",
}
# Registry statuses of a trial that has stopped: its results are due, and until they are
# reported it is shown as "results pending" beside the best evidence.
FINISHED = {"completed", "terminated"}
# Comparisons in which a missed primary endpoint shows no difference, not that the treatment fails.
HEAD_TO_HEAD = {"active", "regimen"}


@dataclass
class Evidence:
    """The best available evidence for one therapy in one subtype (rules: docs/about.md, "How the
    evidence is summarised"; each rule has a test in tests/test_model.py)."""

    design: str  # a key of LEVEL_LABEL, or "none"
    rct_result: str  # positive, negative, mixed, pending, or "" when there is no RCT
    studies: list = field(default_factory=list)  # the studies behind the cell, best first
    pending: list = field(default_factory=list)  # finished trials whose results are not reported yet
    grey: list = field(default_factory=list)  # labels of the non-peer-reviewed sources the cell rests on
    head_to_head: bool = False  # every randomised trial behind the cell compared active treatments or regimens

    @property
    def label(self) -> str:
        if self.design == "none":
            return "Results pending" if self.pending else "No study"
        label = LEVEL_LABEL[self.design]
        if self.design == "randomised-controlled" and self.rct_result == "negative" and self.head_to_head:
            label += " (no difference between the treatments compared)"  # says what happened, not "negative"
        elif self.design == "randomised-controlled" and self.rct_result:
            label += f" ({self.rct_result})"
        return label

    @property
    def notes(self) -> list[str]:
        """What a reader must know beside the label: weaker sources, results still to come."""
        notes = [f"rests partly on a {g}" if len(self.grey_studies) < len(self.studies) else f"rests on a {g}" for g in self.grey]
        if self.head_to_head and self.rct_result != "negative":  # a negative one says so in its label
            notes.append("head-to-head trials: a missed endpoint means no difference between the treatments compared")
        if self.pending:
            notes.append("results pending: " + ", ".join(s.data.get("acronym") or s.data["title"] for s in self.pending))
        return notes

    @property
    def grey_studies(self) -> list:
        return [s for s in self.studies if _grey_sources(s)]

    @property
    def css(self) -> str:
        if self.design == "randomised-controlled":
            if self.rct_result == "negative" and self.head_to_head:
                return "rct-no-difference"
            return f"rct-{self.rct_result or 'pending'}"
        return self.design


def reported(study: Record) -> bool:
    """A study counts as evidence once it has results, or once its primary outcome is known from any source."""
    return bool(study.data.get("results")) or study.data.get("primary_endpoint_met") in ("yes", "no")


def _grey_sources(study: Record) -> list[str]:
    """The non-peer-reviewed sources a study's results rest on, when nothing peer reviewed backs them."""
    provenances = {f.get("provenance") for f in study.data.get("results") or []}
    if not provenances or not provenances <= set(NOT_PEER_REVIEWED):
        return []
    return [NOT_PEER_REVIEWED[p] for p in NOT_PEER_REVIEWED if p in provenances]


def summarise(studies: list[Record]) -> Evidence:
    """Every study counts: negative, stopped early, and reported outside a journal.

    The cell takes the best design among reported studies. At the randomised level all reported
    trials decide together: all met their primary endpoint -> positive, none did -> negative,
    some did -> mixed, so a later or larger failed trial can never leave the cell positive. Trials
    that have finished without reported results are listed as results pending.
    """
    designed = [s for s in studies if s.data["design"] in LEVEL_RANK]
    ranked = [s for s in designed if reported(s)]
    pending = sorted((s for s in designed if not reported(s) and s.data.get("trial_status") in FINISHED), key=study_order)
    if not ranked:
        return Evidence("none", "", [], pending)
    best = min(LEVEL_RANK[s.data["design"]] for s in ranked)
    design = EVIDENCE_LEVELS[best][0]
    behind = sorted((s for s in ranked if s.data["design"] == design), key=study_order)
    result = ""
    if design == "randomised-controlled":
        decided = {s.data.get("primary_endpoint_met") for s in behind} & {"yes", "no"}
        if decided == {"yes"}:
            result = "positive"
        elif decided == {"no"}:
            result = "negative"
        elif decided:
            result = "mixed"
        else:
            result = "pending"
    grey = list(dict.fromkeys(g for s in behind for g in _grey_sources(s)))
    others = [s for s in sorted(ranked, key=study_order) if s not in behind]
    head_to_head = design == "randomised-controlled" and all(s.data.get("comparison") in HEAD_TO_HEAD for s in behind)
    return Evidence(design, result, behind + others, pending, grey, head_to_head)


def study_order(study: Record):
    """Best design first; within a design, studies with results before trials under way, newest first."""
    return (LEVEL_RANK.get(study.data["design"], 99), 0 if reported(study) else 1, -(study.data.get("year") or 0), study.id)


# A record is flagged "review due" on its page, and listed in the review report, once its
# last review is older than this.
REVIEW_INTERVAL_DAYS = 365


@dataclass
class Handbook:
    records: list[Record]
    bibliography: Bibliography
    by_id: dict = field(default_factory=dict)
    by_kind: dict = field(default_factory=dict)
    backlinks: dict = field(default_factory=dict)  # id -> kind -> [records that name it]
    citing_pages: dict = field(default_factory=dict)  # bib key -> [record ids]

    def page(self, record_or_id) -> str:
        """Path of a record's page below the generated docs, e.g. therapies/ivig.md."""
        record = self.by_id[record_or_id] if isinstance(record_or_id, str) else record_or_id
        if record.kind == "recommendation":
            return self.page(record.data["guideline"])
        return f"{SECTION[record.kind][0]}/{record.id}.md"

    def anchor(self, record_or_id) -> str:
        record = self.by_id[record_or_id] if isinstance(record_or_id, str) else record_or_id
        return f"#{record.id}" if record.kind == "recommendation" else ""

    def review_due(self, record: Record) -> bool:
        """True when the record's last review is older than REVIEW_INTERVAL_DAYS."""
        return self.days_since_review(record) > REVIEW_INTERVAL_DAYS

    def days_since_review(self, record: Record) -> int:
        return (today() - dt.date.fromisoformat(str(record.data["last_reviewed"]))).days

    def page_records(self) -> list[Record]:
        """Records with a page of their own: a recommendation is shown, cited and edited with its guideline."""
        return [r for r in self.records if r.kind != "recommendation"]

    def stale(self) -> list[Record]:
        """Records due for review, oldest review first (recommendations are reviewed with their guideline)."""
        due = [r for r in self.page_records() if self.review_due(r)]
        return sorted(due, key=lambda r: (str(r.data["last_reviewed"]), r.kind, r.id))

    def kind(self, kind: str) -> list[Record]:
        return self.by_kind.get(kind, [])

    def named_by(self, record_id: str, kind: str) -> list[Record]:
        return self.backlinks.get(record_id, {}).get(kind, [])

    # --- derived views ---------------------------------------------------------------

    def studies_of_therapy(self, therapy_id: str) -> list[Record]:
        return sorted(self.named_by(therapy_id, "study"), key=study_order)

    def study_safety(self, therapy_id: str) -> list[tuple[Record, dict]]:
        """Safety statements of the studies of a therapy, best design first: shown beside its own safety section,
        except those whose sources the therapy's own adverse events already cite (they would say it twice)."""
        own = (self.by_id[therapy_id].data.get("safety") or {}).get("adverse_events") or []
        cited = {key for item in own for key in item.get("cite") or []}
        return [
            (s, item)
            for s in self.studies_of_therapy(therapy_id)
            for item in s.data.get("safety") or []
            if not (item.get("cite") and set(item["cite"]) <= cited)
        ]

    def studies_in_subtype(self, subtype_id: str) -> list[Record]:
        return sorted(self.named_by(subtype_id, "study"), key=study_order)

    def studies_testing(self, therapy_id: str) -> list[Record]:
        """Studies that compare the therapy; a study where it is only background treatment tests something else."""
        return [s for s in self.studies_of_therapy(therapy_id) if therapy_id in s.data["therapies"]]

    def evidence(self, therapy_id: str, subtype_id: str) -> Evidence:
        studies = [s for s in self.studies_testing(therapy_id) if subtype_id in s.data["population"]["subtypes"]]
        return summarise(studies)

    def subtypes_studied(self, therapy_id: str) -> list[Record]:
        ids = {sub for s in self.studies_testing(therapy_id) for sub in s.data["population"]["subtypes"]}
        return [r for r in self.kind("subtype") if r.id in ids]

    def therapies_studied(self, subtype_id: str) -> list[Record]:
        ids = {t for s in self.studies_in_subtype(subtype_id) for t in s.data["therapies"]}
        return [r for r in self.kind("therapy") if r.id in ids]

    def recommendations(self, guideline_id: str) -> list[Record]:
        return sorted(self.named_by(guideline_id, "recommendation"), key=lambda r: (_natural(r.data.get("number", "")), r.id))

    def recommendations_about(self, record_id: str) -> list[Record]:
        """Recommendations that name a subtype, autoantibody, therapy or topic: its guideline box."""
        recs = self.named_by(record_id, "recommendation")
        return sorted(
            recs,
            key=lambda r: (
                -(self.by_id[r.data["guideline"]].data.get("year") or 0),
                r.data["guideline"],
                _natural(r.data.get("number", "")),
                r.id,
            ),
        )

    def concordance(self, question: Record) -> Concordance:
        """Each guideline's position on a clinical question, with the strength and certainty of the
        linked recommendations as published, and the agreement derived from them."""
        positions = []
        named = {p["guideline"] for p in question.data.get("positions") or []}
        for p in question.data.get("positions") or []:
            guideline = self.by_id[p["guideline"]]
            newer = guideline.data.get("superseded_by")
            positions.append(
                Position(
                    guideline=guideline,
                    stance=p["stance"],
                    recommendations=[self.by_id[r] for r in p.get("recommendations") or []],
                    note=p.get("note", ""),
                    superseded_by=self.by_id[newer] if newer in named else None,
                )
            )
        positions.sort(key=lambda p: (p.stance == "not-addressed", -(p.guideline.data.get("year") or 0), p.guideline.id))
        return Concordance(positions, bool(question.data.get("differences")))

    def concordance_guidelines(self) -> list[Record]:
        """The guidelines that take a position on at least one question, newest first."""
        ids = {p["guideline"] for q in self.kind("question") for p in q.data.get("positions") or []}
        return sorted((self.by_id[i] for i in ids), key=lambda g: (-(g.data.get("year") or 0), g.id))

    def guideline_short_name(self, guideline: Record) -> str:
        """A guideline as a column heading: its recommendations' prefix (e.g. BSR 2022), else its title."""
        for rec in self.named_by(guideline.id, "recommendation"):
            if ":" in rec.data["title"]:
                return rec.data["title"].split(":", 1)[0].strip()
        return guideline.data["title"]

    def questions_about(self, record_id: str) -> list[Record]:
        """Clinical questions that name a subtype, autoantibody, therapy or topic."""
        return sorted(self.named_by(record_id, "question"), key=lambda q: q.data["title"])

    def guideline_name(self, recommendation: Record) -> str:
        """A short name for a recommendation's guideline: the part of its title before the colon (e.g. BSR 2022)."""
        title = recommendation.data["title"]
        guideline = self.by_id[recommendation.data["guideline"]].data
        return title.split(":", 1)[0].strip() if ":" in title else f"{guideline['title']}"

    def key_points(self, record: Record) -> list[dict]:
        """Three to five cited lines for the top of a subtype, autoantibody or therapy page, derived from the records."""
        from .keypoints import key_points

        return key_points(self, record)

    def pipeline(self) -> list[Record]:
        """Trials under way or reported only outside a journal article: registered ones, and trials known
        only from a press release or congress report (shown as such)."""
        return sorted(
            (s for s in self.kind("study") if _in_pipeline(s)),
            key=lambda s: (s.data.get("expected_completion", "9999"), s.id),
        )

    def currency_trials(self) -> list[TrialCurrency]:
        """Every study with a trial status under way, a status read date, or results overdue: what the
        currency page and its open data list."""
        out = []
        for s in self.kind("study"):
            status = self.trial_status(s)
            if status.status in UNDER_WAY or status.read_on or status.results_overdue_since:
                out.append(TrialCurrency(s, status))
        return sorted(out, key=lambda t: (t.record.data.get("acronym") or t.record.data["title"]).casefold())

    def trial_status(self, study: Record) -> TrialStatus:
        from .bibliography import reference_kind

        entries = self.bibliography.entries
        published = any(k in entries and reference_kind(entries[k]) == "article" for k in study.data.get("citations") or [])
        return trial_status(study.data, today(), published)

    def source_notices(self, record: Record) -> list[dict]:
        """The retractions, corrections and expressions of concern of the references a record cites,
        each with what the record says it means for it (source_notices), newest first."""
        from .bibliography import notices

        said = {n["cite"]: n["text"] for n in record.data.get("source_notices") or []}
        found = []
        for key in self.cited_on_page(record):
            entry = self.bibliography.entries.get(key)
            for notice in notices(entry) if entry is not None else []:
                found.append({"key": key, "entry": entry, "notice": notice, "note": said.get(key, "")})
        return sorted(found, key=lambda n: n["notice"].date, reverse=True)

    def finding_checks(self, study: Record) -> list[FindingCheck]:
        """Every result and safety finding of a study with where it stands in its source, when it was
        last compared with it, and why that check may be out of date."""
        return [self.finding_check(study, section, i) for section in FINDING_SECTIONS for i in range(len(study.data.get(section) or []))]

    def finding_checks_in(self, study: Record, section: str) -> list[FindingCheck]:
        return [self.finding_check(study, section, i) for i in range(len(study.data.get(section) or []))]

    def findings_to_check(self) -> list[tuple[Record, FindingCheck]]:
        """Findings never compared with their source at their place, or not re-checked since their
        source changed: what the review report lists for maintainers."""
        return [(s, c) for s in self.kind("study") for c in self.finding_checks(s) if c.not_rechecked or not c.checked]

    def finding_check(self, study: Record, section: str, index: int) -> FindingCheck:
        """Where a study finding stands in its source and when it was compared with it (source_check); for
        registry results, also "not re-checked since" when the registry record was updated after the check."""
        as_of = str(study.data.get("status_as_of") or "")
        return self.source_check(study.data[section][index], as_of if as_of[:1].isdigit() else "", section, index)

    def source_check(self, item: dict, registry_as_of: str = "", section: str = "", index: int = 0) -> FindingCheck:
        """Where a finding or statement stands in its first source (`locator`), when it was compared with
        it (`checked`), and why that check may be out of date: a retraction, correction or expression of
        concern dated after the check, the reference re-read (verified or urldate) after it, or, for
        registry results without a citation, the registry record updated after it."""
        from .bibliography import first_author_surname, notices

        checked = str(item["checked"]) if item.get("checked") else ""
        keys = [k for k in item.get("cite") or [] if k in self.bibliography.entries]
        reasons: list[str] = []
        if checked:
            for key in keys:
                entry = self.bibliography.entries[key]
                name = f"{first_author_surname(entry)} {entry.fields.get('year', '')}".strip()
                reasons += [f"{NOTICE_PHRASE[n.kind]} of {name} was published on {n.date}" for n in notices(entry) if n.date > checked]
                # `verified` says in words how and when the reference was (re-)read; its newest date counts
                revised = max(_ISO_DATE.findall(entry.fields.get("verified", "") + " " + entry.fields.get("urldate", "")), default="")
                if revised > checked and not any(n.date > checked for n in notices(entry)):
                    reasons.append(f"the reference {name} was revised on {revised}")
            if not keys and item.get("provenance") == "registry" and registry_as_of > checked:
                reasons.append(f"the registry record was updated on {registry_as_of}")
        secondary = item.get("provenance") == "secondary"
        return FindingCheck(section, index, str(item.get("locator") or ""), checked, tuple(reasons), keys[0] if keys else "", secondary)

    def cited_on_page(self, record: Record) -> list[str]:
        return list(dict.fromkeys(key for _, key in cited_keys(record)))


FINDING_SECTIONS = ("results", "safety")
NOTICE_PHRASE = {"retraction": "a retraction", "correction": "a correction", "concern": "an expression of concern"}
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@dataclass(frozen=True)
class FindingCheck:
    """Where a study finding stands in its source and when its figures were compared with it."""

    section: str  # results | safety
    index: int
    locator: str  # "Table 2", "abstract", "registry results section"
    checked: str  # YYYY-MM-DD, or "" when the figures have not been compared with the source at that place
    not_rechecked: tuple[str, ...]  # why the check may be out of date (empty: it is not)
    source: str  # the citation key the locator points into ("" for registry results)
    secondary: bool = False  # read in a secondary source (provenance: secondary): the locator names where in it


def _in_pipeline(study: Record) -> bool:
    if not study.data.get("trial_status"):
        return False
    if study.data["trial_status"] != "completed":
        return True
    provenances = {f.get("provenance") for f in study.data.get("results") or []}
    return bool(provenances) and provenances <= {"press-release", "congress-abstract", "registry"}


def _natural(text: str):
    import re

    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(text))]


def _title_order(record: Record):
    return (record.data.get("title", "").casefold(), record.id)


def derive(records: list[Record], bibliography: Bibliography) -> Handbook:
    live = [
        Record(r.kind, r.path, _as_fields(r.data, _record_schema(r.kind)), r.lines)
        for r in records
        if r.data.get("status", "current") != "withdrawn"
    ]
    book = Handbook(records=live, bibliography=bibliography)
    book.by_id = {r.id: r for r in live}
    by_kind: dict[str, list[Record]] = defaultdict(list)
    for r in sorted(live, key=_title_order):
        by_kind[r.kind].append(r)
    book.by_kind = dict(by_kind)
    # Dicts keyed by id keep first-seen order without a list search per link: a subtype is named
    # by thousands of records in a large set, and comparing whole records made this quadratic.
    backlinks: dict = defaultdict(lambda: defaultdict(dict))
    citing: dict = defaultdict(dict)
    for r in sorted(live, key=_title_order):
        for _, target, _ in referenced_ids(r):
            backlinks[target][r.kind].setdefault(r.id, r)
        page_owner = r.data["guideline"] if r.kind == "recommendation" else r.id
        for _, key in cited_keys(r):
            citing[key].setdefault(page_owner, None)
    book.backlinks = {target: {kind: list(named.values()) for kind, named in kinds.items()} for target, kinds in backlinks.items()}
    book.citing_pages = {key: list(owners) for key, owners in citing.items()}
    return book


def check(root: Path) -> tuple[list[Record], Bibliography]:
    """Load and check everything; raise InputError listing every problem at once."""
    cache = ParseCache(root / CACHE)
    records, bibliography, problems = load(root, cache)
    problems += check_records(records)
    # Rules trust the schema, so a record that failed it takes part only as its id (so that
    # links to it do not raise a second, misleading problem); problems inside it are its own.
    bad_files = {p.path for p in problems}
    if not bad_files:
        problems += check_rules(records, bibliography)
    else:
        # The rules still read what is valid in a broken record (its citations, its links), so all
        # problems come in one run; a rule that cannot cope with a partial record sees only its id.
        partial = [r if r.path not in bad_files else schema_valid_part(r) for r in records]
        id_only = [r if r.path not in bad_files else Record(r.kind, r.path, {"id": r.file_id}) for r in records]
        rule_problems = check_rules_tolerant(partial, id_only, bibliography)
        # A field that still holds the template's placeholder has one message, "replace the
        # placeholder"; what the rules say about it being empty would only repeat it.
        unfilled = {r.path: fields for r in records if r.path in bad_files and (fields := placeholder_fields(r))}
        problems += [p for p in rule_problems if not _at_any(p.field, unfilled.get(p.path, ()))]
    problems = sorted(set(problems), key=lambda p: (p.path, p.line, p.field, p.message))
    if problems:
        raise InputError(problems)
    cache.save()  # after the checks: bad input writes nothing
    return records, bibliography


def _at_any(field: str, fields) -> bool:
    return any(field == f or field.startswith((f + ".", f + "[")) for f in fields)


def build_model(root: Path) -> Handbook:
    """Load, check and derive the handbook; raise InputError listing every problem at once.
    (generators/build.py's model() builds it without the cyclic collector; see there.)"""
    return derive(*check(root))


# --- how current a trial's status is ---------------------------------------------------------
# A status is the registry's on the date it refers to, which may be long before anyone read it.
STALE_AFTER_DAYS = 183  # a status not confirmed for six months is shown as such
RESULTS_DUE_MONTHS = 12  # results are due 12 months after completion (the rule FDAAA and trial trackers use)
UNDER_WAY = {"recruiting", "not-yet-recruiting", "active-not-recruiting", "enrolling-by-invitation", "suspended", "unknown"}
STATUS_SOURCE = {
    "registry": "registry read {read}",
    "registry-copy": "on a copy of the registry record, read {read}",
    "sponsor": "as announced by the sponsor, read {read}",
    "publication": "as reported in a publication, read {read}",
}


@dataclass(frozen=True)
class TrialStatus:
    """A trial's status as readers see it: the date it refers to, whether it is still confirmed, and
    whether its results are overdue."""

    status: str
    as_of: str  # the date the status refers to ("" when unknown)
    read_on: str  # when it was read ("" when never recorded)
    source: str
    unconfirmed_since: str = ""  # set when the status can no longer be taken as current
    unconfirmed_because: str = ""
    results_overdue_since: str = ""  # the completion date, when results are 12 months overdue

    @property
    def text(self) -> str:
        words = self.status.replace("-", " ").capitalize()
        where = STATUS_SOURCE.get(self.source, "read {read}").format(read=self.read_on) if self.read_on else ""
        if self.as_of and self.as_of != self.read_on:
            words += f", as of {self.as_of}" + (f" ({where})" if where else "")
        elif where:
            words += f" ({where})"
        if self.unconfirmed_since == "it was read":
            words += f"; not confirmed ({self.unconfirmed_because})"
        elif self.unconfirmed_since:
            words += f"; not confirmed since {self.unconfirmed_since} ({self.unconfirmed_because})"
        if self.results_overdue_since:
            words += f"; results overdue: completed {self.results_overdue_since}, none posted or published 12 months later"
        return words


def _month_end(value: str) -> dt.date:
    """YYYY-MM-DD as it is; YYYY-MM as the month's last day (a deadline is met by the end of its month)."""
    parts = [int(p) for p in str(value).split("-")]
    if len(parts) == 3:
        return dt.date(*parts)
    year, month = parts[0], parts[1] if len(parts) > 1 else 12
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def trial_status(data: dict, now: dt.date, published: bool = False) -> TrialStatus:
    status = str(data.get("trial_status") or "")
    read_on = str(data.get("status_checked") or "")
    source = str(data.get("status_source") or ("registry" if read_on else ""))
    as_of = str(data.get("status_as_of") or (read_on if source == "registry" else ""))
    since, because, overdue = "", "", ""
    if as_of == "undated":  # the copy read shows no date: never dated by the day it was read
        as_of = ""
        if status in UNDER_WAY:
            since, because = "it was read", "the copy of the registry record read shows no date"
    elif status in UNDER_WAY:
        dated = as_of or read_on
        completion = data.get("expected_completion")
        if not dated:
            since, because = "never", "no date recorded"
        elif (now - _month_end(dated)).days > STALE_AFTER_DAYS:
            since, because = dated, "older than six months"
        elif completion and _month_end(completion) < now:
            since, because = dated, f"its expected completion, {completion}, has passed"
    completion = data.get("expected_completion")
    if status == "completed" and completion and not data.get("results") and data.get("primary_endpoint_met") == "pending":
        due = _month_end(completion)
        due = due.replace(year=due.year + 1) if not (due.month == 2 and due.day == 29) else due.replace(year=due.year + 1, day=28)
        if due < now and not published:
            overdue = str(completion)
    return TrialStatus(status, as_of, read_on, source, since, because, overdue)


# --- clinical questions: guideline positions side by side ------------------------------------
STANCE_DIRECTION = {"recommends": "for", "suggests": "for", "against": "against"}
STANCE_LABEL = {"recommends": "Recommends", "suggests": "Suggests", "against": "Against", "not-addressed": "Not addressed"}


@dataclass
class Position:
    guideline: Record
    stance: str
    recommendations: list = field(default_factory=list)
    note: str = ""
    superseded_by: Record | None = None  # a newer guideline that also answers, and replaces this one

    @property
    def label(self) -> str:
        return STANCE_LABEL[self.stance]

    @property
    def grades(self) -> list[str]:
        """Strength and certainty of each linked recommendation, exactly as the guideline labels them."""
        out = []
        for r in self.recommendations:
            certainty = r.data.get("certainty")
            out.append(f"{r.data['strength']}" + (f"; certainty {certainty}" if certainty and certainty != "not stated" else ""))
        return list(dict.fromkeys(out))


@dataclass
class Concordance:
    positions: list
    differences: bool = False  # the record says how the guidelines' advice differs in substance

    @property
    def current(self) -> list:
        """The positions that count: each guideline that addresses the question and is not replaced
        by a newer one among them."""
        return [p for p in self.positions if p.stance != "not-addressed" and p.superseded_by is None]

    @property
    def agreement(self) -> str:
        """agree, partly agree, disagree, one guideline, or none: derived, never typed."""
        current = self.current
        if not current:
            return "none"
        if len(current) == 1:
            return "one guideline"
        directions = {STANCE_DIRECTION[p.stance] for p in current}
        if len(directions) > 1:
            return "disagree"
        # same direction and strength, unless the record explains a difference of substance (the
        # population covered, the tests or drugs named)
        return "agree" if len({p.stance for p in current}) == 1 and not self.differences else "partly agree"

    @property
    def sentence(self) -> str:
        n = len(self.current)
        return {
            "none": "No guideline recorded here addresses this question.",
            "one guideline": "Only one guideline recorded here addresses this question.",
            "agree": f"The {n} guidelines that address it agree.",
            "partly agree": f"The {n} guidelines that address it point the same way, but differ in strength or detail (see why below).",
            "disagree": f"The {n} guidelines that address it disagree.",
        }[self.agreement]


@dataclass(frozen=True)
class TrialCurrency:
    record: Record
    status: TrialStatus
