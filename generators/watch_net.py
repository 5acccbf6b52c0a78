"""All the network code of the living-evidence watch: ClinicalTrials.gov API v2, NCBI E-utilities,
openFDA (Drugs@FDA and drug labels) and Crossref (notices that update a work).

One `Fetcher` makes every request: a timeout on each, retries with back-off on timeouts, dropped
connections, HTTP 429 and 5xx (a 429's Retry-After is honoured), a polite pause between requests to
the same host (NCBI allows 3 requests a second without an API key, 10 with one) and an identifying
User-Agent. Whatever goes wrong with one request becomes a `NetError` whose message is written into
the report; the caller goes on with the next trial or search.

`sleep` and `clock` are injectable so tests never wait, and `ReplaySession` answers requests from
recorded files (`--fixtures DIR`, see tests/fixtures/watch/README.md) instead of the network.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

CTGOV_STUDY = "https://clinicaltrials.gov/api/v2/studies/{}"
CTGOV_SEARCH = "https://clinicaltrials.gov/api/v2/studies"
EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
ESEARCH = EUTILS + "esearch.fcgi"
ESUMMARY = EUTILS + "esummary.fcgi"
OPENFDA_DRUGSFDA = "https://api.fda.gov/drug/drugsfda.json"
OPENFDA_LABEL = "https://api.fda.gov/drug/label.json"
CROSSREF_WORKS = "https://api.crossref.org/works"
TOOL = "iim-handbook-watch"
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Seconds between two requests to one host. ClinicalTrials.gov asks for no published figure; about
# one request a second stays well below the ~50 a minute it is commonly said to tolerate.
# openFDA allows 240 requests a minute without a key; Crossref asks polite users to stay well under
# its published limits and to say who they are (the User-Agent names the repository).
INTERVALS = {"clinicaltrials.gov": 1.2, "eutils.ncbi.nlm.nih.gov": 0.34, "api.fda.gov": 0.3, "api.crossref.org": 0.2}
NCBI_INTERVAL_WITH_KEY = 0.1


class NetError(Exception):
    """A request that failed for good; str() is the sentence the report shows."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class Fetcher:
    session: object = None  # a requests.Session, or anything with its get()
    user_agent: str = f"{TOOL}/1.0"
    timeout: tuple = (10, 30)  # connect, read (seconds)
    retries: int = 3  # retries after the first attempt
    backoff: float = 2.0  # first pause; doubled after each failed attempt
    max_wait: float = 120.0  # longest pause, whatever Retry-After asks
    sleep: object = time.sleep
    clock: object = time.monotonic
    ncbi_email: str = ""
    ncbi_api_key: str = ""
    requests_made: int = 0
    _last: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.session is None:
            self.session = requests.Session()

    def _pause_for(self, host: str) -> None:
        interval = NCBI_INTERVAL_WITH_KEY if host.startswith("eutils.") and self.ncbi_api_key else INTERVALS.get(host, 1.0)
        last = self._last.get(host)
        if last is not None:
            wait = last + interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last[host] = self.clock()

    def _retry_after(self, response) -> float | None:
        value = (response.headers.get("Retry-After") or "").strip()
        if not value:
            return None
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())

    def get(self, url: str, params: dict | None = None, *, what: str) -> requests.Response:
        """The response to a GET (status 2xx), or NetError naming `what` after the last attempt."""
        host = urlsplit(url).hostname or ""
        headers = {"User-Agent": self.user_agent, "Accept": "application/json, application/xml;q=0.9, */*;q=0.1"}
        delay = self.backoff
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            self._pause_for(host)
            self.requests_made += 1
            try:
                response = self.session.get(url, params=params, headers=headers, timeout=self.timeout)
            except requests.Timeout:
                problem, wait = "timed out", delay
            except requests.ConnectionError as exc:
                problem, wait = f"could not connect ({type(exc).__name__})", delay
            except requests.RequestException as exc:
                raise NetError(f"{what}: the request failed ({exc})") from exc
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUSES:
                    raise NetError(f"{what}: HTTP {response.status_code}", response.status_code)
                asked = self._retry_after(response) if response.status_code in (429, 503) else None
                problem = f"HTTP {response.status_code}" + (" (too many requests)" if response.status_code == 429 else "")
                wait = delay if asked is None else asked
            if attempt == attempts:
                raise NetError(f"{what}: {problem}; gave up after {attempts} attempts")
            self.sleep(min(wait, self.max_wait))
            delay *= 2
        raise AssertionError("unreachable")

    # --- ClinicalTrials.gov ---------------------------------------------------------------

    def ctgov_study(self, nct_id: str) -> dict:
        """The fields the watch compares, from GET /api/v2/studies/{nctId} (JSON)."""
        what = f"ClinicalTrials.gov {nct_id}"
        try:
            response = self.get(CTGOV_STUDY.format(nct_id), {"format": "json"}, what=what)
        except NetError as error:
            if error.status == 404:
                raise NetError(f"{what}: no such study on ClinicalTrials.gov (HTTP 404); check the id in the record", 404) from None
            raise
        return parse_ctgov_study(_json_of(response, what), what)

    def ctgov_new_trials(self, condition: str, since: str) -> list[dict]:
        """Studies first posted on ClinicalTrials.gov since a date whose conditions match the terms
        (GET /api/v2/studies with query.cond and a StudyFirstPostDate range)."""
        what = "ClinicalTrials.gov search for new trials"
        params = {
            "query.cond": condition,
            "filter.advanced": f"AREA[StudyFirstPostDate]RANGE[{since},MAX]",
            "pageSize": 100,
            "format": "json",
        }
        response = self.get(CTGOV_SEARCH, params, what=what)
        payload = _json_of(response, what)
        studies = payload.get("studies") if isinstance(payload, dict) else None
        if not isinstance(studies, list):
            raise NetError(f"{what}: the response has no studies list; the API may have changed")
        found = []
        for study in studies:
            protocol = (study or {}).get("protocolSection") or {}
            ident, status = protocol.get("identificationModule") or {}, protocol.get("statusModule") or {}
            if not ident.get("nctId"):
                continue
            found.append(
                {
                    "nct_id": ident["nctId"],
                    "title": str(ident.get("briefTitle", "")),
                    "status": str(status.get("overallStatus", "")),
                    "first_posted": _date(status.get("studyFirstPostDateStruct"))[0],
                    "conditions": [str(c) for c in (protocol.get("conditionsModule") or {}).get("conditions") or []],
                }
            )
        return found

    # --- NCBI E-utilities -----------------------------------------------------------------

    def _ncbi_params(self, params: dict) -> dict:
        params = dict(params, tool=TOOL)
        if self.ncbi_email:
            params["email"] = self.ncbi_email
        if self.ncbi_api_key:
            params["api_key"] = self.ncbi_api_key
        return params

    def pubmed_search(self, term: str, mindate: int | None, retmax: int = 20) -> tuple[int, list[str]]:
        """ESearch (XML, its default format): the number of matches and the newest PMIDs."""
        params = {"db": "pubmed", "term": term, "retmax": retmax, "sort": "pub_date"}
        if mindate:
            params.update(datetype="pdat", mindate=str(mindate), maxdate="3000")
        response = self.get(ESEARCH, self._ncbi_params(params), what="PubMed search")
        return parse_esearch_xml(response.content)

    def pubmed_summaries(self, pmids: list[str]) -> dict[str, dict]:
        """ESummary (JSON, version 2.0 document summaries) for some PMIDs, by PMID."""
        if not pmids:
            return {}
        params = {"db": "pubmed", "id": ",".join(pmids), "retmode": "json", "version": "2.0"}
        response = self.get(ESUMMARY, self._ncbi_params(params), what="PubMed summaries")
        payload = _json_of(response, "PubMed summaries")
        return parse_esummary_json(payload)

    # --- openFDA -----------------------------------------------------------------------------

    def _openfda(self, url: str, name: str, what: str) -> list[dict]:
        """The results of one openFDA search by generic name; none when openFDA answers 404 NOT_FOUND."""
        params = {"search": f'openfda.generic_name:"{name}"', "limit": 25}
        try:
            response = self.get(url, params, what=what)
        except NetError as error:
            if error.status == 404:  # openFDA's answer to a search that matches nothing
                return []
            raise
        payload = _json_of(response, what)
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            raise NetError(f"{what}: the response has no results list; the API may have changed")
        return results

    def fda_applications(self, name: str) -> list[dict]:
        """Drugs@FDA applications for a generic name, with every submission and its date."""
        what = f"Drugs@FDA ({name})"
        return [parse_drugsfda(r) for r in self._openfda(OPENFDA_DRUGSFDA, name, what) if isinstance(r, dict)]

    def fda_labels(self, name: str) -> list[dict]:
        """The FDA labels (structured product labels) for a generic name: boxed warning, indications,
        recent major changes and the label's effective date."""
        what = f"FDA label ({name})"
        return [parse_label(r) for r in self._openfda(OPENFDA_LABEL, name, what) if isinstance(r, dict)]

    # --- Crossref ----------------------------------------------------------------------------

    def crossref_notices(self, doi: str) -> list[dict]:
        """Works that update this DOI (retractions, corrections, expressions of concern), from the
        Crossref REST API filter `updates:`, which also carries the Retraction Watch data."""
        what = f"Crossref updates of {doi}"
        response = self.get(CROSSREF_WORKS, {"filter": f"updates:{doi}", "rows": 20}, what=what)
        payload = _json_of(response, what)
        items = (payload.get("message") or {}).get("items") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise NetError(f"{what}: the response has no message.items; the API may have changed")
        return parse_crossref_updates(items, doi)


def _json_of(response, what: str):
    """The reply's JSON, or NetError saying how the reply starts."""
    try:
        return response.json()
    except ValueError:
        raise NetError(f"{what}: the response is not valid JSON ({_start(response.text)})") from None


def _start(text: str, limit: int = 60) -> str:
    text = " ".join((text or "").split()).replace("`", "'")
    return f"it starts `{text[:limit]}{'…' if len(text) > limit else ''}`" if text else "it is empty"


def _date(struct) -> tuple[str, str]:
    if isinstance(struct, dict) and isinstance(struct.get("date"), str):
        return struct["date"], str(struct.get("type", "")).lower()
    return "", ""


def parse_ctgov_study(study, what: str) -> dict:
    if not isinstance(study, dict) or not isinstance(study.get("protocolSection"), dict):
        raise NetError(f"{what}: the response has no protocolSection; the API may have changed")
    protocol = study["protocolSection"]
    status = protocol.get("statusModule")
    if not isinstance(status, dict) or not isinstance(status.get("overallStatus"), str):
        raise NetError(f"{what}: the response has no statusModule.overallStatus; the API may have changed")
    enrolment = (protocol.get("designModule") or {}).get("enrollmentInfo") or {}
    count = enrolment.get("count") if isinstance(enrolment, dict) else None
    return {
        "nct_id": (protocol.get("identificationModule") or {}).get("nctId", ""),
        "overall_status": status["overallStatus"],
        "last_known_status": str(status.get("lastKnownStatus") or ""),
        "primary_completion": _date(status.get("primaryCompletionDateStruct")),
        "completion": _date(status.get("completionDateStruct")),
        "last_update": _date(status.get("lastUpdatePostDateStruct"))[0],
        "enrolment": (count, str(enrolment.get("type", "")).lower()) if isinstance(count, int) else (None, ""),
        "has_results": study.get("hasResults") is True,
    }


def parse_esearch_xml(content: bytes) -> tuple[int, list[str]]:
    from lxml import etree

    # No DTD loading, no entity expansion, no network: the reply is data, nothing more.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise NetError(f"PubMed search: the response is not valid XML ({exc.msg})") from None
    if root.tag != "eSearchResult":
        raise NetError(f"PubMed search: expected <eSearchResult>, got <{root.tag}>")
    error = root.findtext("ERROR")
    if error:
        raise NetError(f"PubMed search: E-utilities reported an error: {error.strip()}")
    count = root.findtext("Count")
    if count is None or not count.strip().isdigit():
        raise NetError("PubMed search: the response has no <Count>")
    return int(count), [i.text.strip() for i in root.findall("IdList/Id") if i.text and i.text.strip().isdigit()]


def parse_esummary_json(payload) -> dict[str, dict]:
    result = payload.get("result") if isinstance(payload, dict) else None
    if not isinstance(result, dict) or not isinstance(result.get("uids"), list):
        if isinstance(payload, dict) and payload.get("error"):
            raise NetError(f"PubMed summaries: E-utilities reported an error: {payload['error']}")
        raise NetError("PubMed summaries: the response has no result.uids")
    found = {}
    for uid in result["uids"]:
        doc = result.get(uid)
        if not isinstance(doc, dict) or doc.get("error"):
            continue
        ids = {a.get("idtype"): a.get("value") for a in doc.get("articleids", []) if isinstance(a, dict)}
        authors = [a.get("name") for a in doc.get("authors", []) if isinstance(a, dict) and a.get("name")]
        found[str(uid)] = {
            "pmid": str(uid),
            "title": str(doc.get("title", "")).strip(),
            "journal": str(doc.get("source") or doc.get("fulljournalname") or ""),
            "pubdate": str(doc.get("pubdate") or doc.get("epubdate") or ""),
            "first_author": authors[0] if authors else "",
            "doi": ids.get("doi") or "",
            "pubtype": [str(t) for t in doc.get("pubtype", [])],
        }
    return found


def _fda_date(value) -> str:
    text = str(value or "")
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if re.fullmatch(r"\d{8}", text) else ""


def parse_drugsfda(result: dict) -> dict:
    products = [p for p in result.get("products") or [] if isinstance(p, dict)]
    submissions = []
    for s in result.get("submissions") or []:
        if not isinstance(s, dict):
            continue
        submissions.append(
            {
                "type": str(s.get("submission_type", "")),
                "number": str(s.get("submission_number", "")),
                "status": str(s.get("submission_status", "")),
                "date": _fda_date(s.get("submission_status_date")),
                "class": str(s.get("submission_class_code_description") or s.get("submission_class_code") or ""),
            }
        )
    return {
        "application": str(result.get("application_number", "")),
        "brands": sorted({str(p.get("brand_name")) for p in products if p.get("brand_name")}),
        "submissions": submissions,
    }


# "Boxed Warning 6/2025", "Indications and Usage, Psoriatic Arthritis ( 1.2 ) 10/2025": a section and its month.
RECENT_CHANGE = re.compile(r"([A-Z][^()0-9]*?(?:\([^)]*\))?[^()0-9]*?)\s*(\d{1,2})/(\d{4})")


def parse_label(result: dict) -> dict:
    def text(name: str) -> str:
        value = result.get(name)
        return " ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")

    openfda = result.get("openfda") if isinstance(result.get("openfda"), dict) else {}
    changes = []
    for section, month, year in RECENT_CHANGE.findall(text("recent_major_changes")):
        changes.append({"section": " ".join(section.split()).strip(" ,;"), "month": f"{year}-{int(month):02d}"})
    return {
        "set_id": str(result.get("set_id", "")),
        "brands": [str(b) for b in openfda.get("brand_name") or []],
        "effective": _fda_date(result.get("effective_time")),
        "boxed_warning": text("boxed_warning").strip(),
        "indications": text("indications_and_usage").strip(),
        "recent_changes": changes,
    }


NOTICE_TYPES = {  # Crossref update types -> the handbook's notice fields
    "retraction": "retraction",
    "withdrawal": "retraction",
    "removal": "retraction",
    "correction": "correction",
    "erratum": "correction",
    "corrigendum": "correction",
    "expression_of_concern": "concern",
    "expression-of-concern": "concern",
}


def parse_crossref_updates(items: list, doi: str) -> list[dict]:
    found = []
    for item in items:
        if not isinstance(item, dict):
            continue
        for update in item.get("update-to") or []:
            if not isinstance(update, dict) or str(update.get("DOI", "")).lower() != doi.lower():
                continue
            parts = ((update.get("updated") or {}).get("date-parts") or [[]])[0]
            date = "-".join(f"{int(p):02d}" if i else str(p) for i, p in enumerate(parts[:3])) if parts else ""
            kind = NOTICE_TYPES.get(str(update.get("type", "")).lower())
            found.append(
                {
                    "kind": kind or "",
                    "type": str(update.get("type", "")),
                    "date": date if len(date) == 10 else "",
                    "notice": f"doi:{item.get('DOI')}" if item.get("DOI") else "",
                    "source": str(update.get("source", "")),
                }
            )
    return found


# --- recorded responses -----------------------------------------------------------------------


class _Reply(requests.Response):
    def __init__(self, status: int, body: bytes, content_type: str, url: str):
        super().__init__()
        self.status_code = status
        self._content = body
        self.headers["Content-Type"] = content_type
        self.url = url
        self.encoding = "utf-8"


class ReplaySession:
    """Answers the watch's requests from recorded files instead of the network.

    DIR/ctgov/<NCT id>.json      the study (a missing file is answered with HTTP 404)
    DIR/ctgov/search.json        the search for newly posted trials (missing: none found)
    DIR/pubmed/esearch-<key>.xml an ESearch reply; <key> is the first word of the term in lower
                                 case (a quoted phrase or a registry id); missing: no matches
    DIR/pubmed/esummary.json     one ESummary reply holding every summary; each request gets the
                                 PMIDs it asked for, as the service does
    DIR/openfda/drugsfda-<name>.json, DIR/openfda/label-<name>.json
                                 openFDA replies for a generic name (spaces as hyphens); missing:
                                 HTTP 404 NOT_FOUND, as openFDA answers a search without matches
    DIR/crossref/<doi>.json      the Crossref reply for `filter=updates:<doi>` (/ as _); missing: no notices
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.requests: list[tuple[str, dict]] = []

    def get(self, url, params=None, headers=None, timeout=None):
        params = dict(params or {})
        self.requests.append((url, params))
        if url == CTGOV_SEARCH:
            path = self.folder / "ctgov" / "search.json"
            body = path.read_bytes() if path.exists() else b'{"studies": []}'
            return _Reply(200, body, "application/json", url)
        if url.startswith(CTGOV_STUDY.format("")):
            path = self.folder / "ctgov" / (url.rsplit("/", 1)[1] + ".json")
            if path.exists():
                return _Reply(200, path.read_bytes(), "application/json", url)
            return _Reply(404, b"Study not found", "text/plain", url)
        if url == ESEARCH:
            path = self.folder / "pubmed" / f"esearch-{replay_key(params.get('term', ''))}.xml"
            body = path.read_bytes() if path.exists() else _EMPTY_ESEARCH
            return _Reply(200, body, "text/xml", url)
        if url == ESUMMARY:
            recorded = json.loads((self.folder / "pubmed" / "esummary.json").read_text(encoding="utf-8"))
            wanted = str(params.get("id", "")).split(",")
            result = {"uids": [u for u in wanted if u in recorded["result"]]}
            for uid in wanted:
                result[uid] = recorded["result"].get(uid, {"uid": uid, "error": "cannot get document summary"})
            return _Reply(200, json.dumps({"header": recorded.get("header", {}), "result": result}).encode(), "application/json", url)
        if url in (OPENFDA_DRUGSFDA, OPENFDA_LABEL):
            name = re.search(r'"([^"]+)"', str(params.get("search", "")))
            stem = "drugsfda" if url == OPENFDA_DRUGSFDA else "label"
            path = self.folder / "openfda" / f"{stem}-{(name.group(1) if name else '').replace(' ', '-')}.json"
            if path.exists():
                return _Reply(200, path.read_bytes(), "application/json", url)
            return _Reply(404, b'{"error": {"code": "NOT_FOUND", "message": "No matches found!"}}', "application/json", url)
        if url == CROSSREF_WORKS:
            doi = str(params.get("filter", "")).removeprefix("updates:")
            path = self.folder / "crossref" / (doi.replace("/", "_") + ".json")
            body = path.read_bytes() if path.exists() else b'{"status": "ok", "message": {"items": []}}'
            return _Reply(200, body, "application/json", url)
        return _Reply(404, b"not recorded", "text/plain", url)


def replay_key(term: str) -> str:
    first = re.match(r'[\s(]*"?([^"\[\]()]+)', term)
    return re.sub(r"[^a-z0-9]+", "-", first.group(1).lower()).strip("-") if first else "empty"


_EMPTY_ESEARCH = (
    b'<?xml version="1.0" encoding="UTF-8" ?>\n'
    b'<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
    b"<eSearchResult><Count>0</Count><RetMax>0</RetMax><RetStart>0</RetStart><IdList/>"
    b"<TranslationSet/><QueryTranslation/></eSearchResult>\n"
)
