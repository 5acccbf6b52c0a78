"""The living-evidence watch, without network: recorded responses (tests/fixtures/watch) and `responses`.

Assertions are on the report a maintainer reads and on the exit code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests
import responses
from conftest import ROOT

from generators import watch as watch_module
from generators.__main__ import main
from generators.watch import CTGOV_STATUS, TRIAL_STATUSES, make_fetcher, render, run
from generators.watch_net import CTGOV_STUDY, ESEARCH, ESUMMARY, NetError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "watch"
TODAY = "2026-12-01"


class Clock:
    """Time that passes only when the code under test sleeps: no test ever waits."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def project(tmp_path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", target)
    return target


@pytest.fixture
def clock() -> Clock:
    return Clock()


def fetcher(clock: Clock, **overrides):
    return make_fetcher(None, session=requests.Session(), sleep=clock.sleep, clock=clock.time, **overrides)


def registries_only(project: Path, clock: Clock, *keep: str):
    """The watch of the registries alone (no literature, FDA, notices or new-trial search), on the studies named."""
    return run(only(project, *keep), fetcher(clock), TODAY, literature=False, regulators=False, notices=False, new_trials=False)


def only(project: Path, *keep: str) -> Path:
    """Leave in the project only the study records named (other kinds stay)."""
    for path in (project / "evidence" / "study").glob("*.yaml"):
        if path.stem not in keep:
            path.unlink()
    return project


def recorded(name: str) -> str:
    return (FIXTURES / "ctgov" / f"{name}.json").read_text(encoding="utf-8")


def cli(project: Path, tmp_path: Path, monkeypatch, *extra: str) -> tuple[int, str]:
    monkeypatch.setenv("HANDBOOK_TODAY", TODAY)
    out = tmp_path / "report.md"
    code = main(["--root", str(project), "watch", "--fixtures", str(FIXTURES), "--out", str(out), *extra])
    return code, out.read_text(encoding="utf-8")


# --- the whole watch on recorded responses ----------------------------------------------------


def test_report_on_the_recorded_responses_names_each_change_and_proposes_the_edit(project, tmp_path, monkeypatch, capsys):
    code, report = cli(project, tmp_path, monkeypatch)
    assert code == 1
    assert report in capsys.readouterr().out  # the same report on stdout
    assert "**Result: changes found.** 2 of 3 registry entries checked differ from the records" in report
    # a status change, with the exact edit
    assert "### WATCH-ALPHA: NCT99990001" in report
    assert "| Trial status | recruiting | active-not-recruiting (ACTIVE_NOT_RECRUITING) | **changed** |" in report
    assert (
        "```yaml\n"
        "# evidence/study/watch-alpha.yaml, line 10 (now: trial_status: recruiting)\n"
        "trial_status: active-not-recruiting\n"
        "status_checked: 2026-12-01\n"
        "status_source: registry\n"
        "status_as_of: 2026-11-20\n"
        "```"
    ) in report
    assert "| Primary completion | 2027-06 | 2027-09 (estimated) | **changed** |" in report
    assert "| Enrolment | 40 (planned) | 42 (actual) | **changed** |" in report
    assert "To do by hand after reading the registry entry: `expected_completion`, `n`/`n_basis`." in report
    # results posted, on a schema 1 record whose registry status is still in `status`
    assert "| Results | none recorded | posted on the registry | **changed** |" in report
    assert "# evidence/study/watch-beta.yaml, line 9 (now: status: active-not-recruiting)\n" in report
    assert "trial_status: completed\nstatus_checked: 2026-12-01" in report
    assert "| Enrolment | 120 (randomised) | 124 (actual) |  |" in report  # randomised counts are not compared
    # no change
    assert "- WATCH-GAMMA (NCT99990003): completed, as recorded" in report
    # registries without an API are listed, never skipped
    assert "## Registry ids not checked automatically (no supported API)" in report
    assert "- WATCH-DELTA (`evidence/study/watch-delta.yaml`): ISRCTN99990005, ISRCTN" in report
    assert "- WATCH-DELTA (`evidence/study/watch-delta.yaml`): jRCT2099990006, jRCT" in report
    # new publications; the one already in references.bib is left out
    assert "PubMed, published 2026 or later: 3 found; 2 not in references.bib." in report
    assert "- PMID [99900003](https://pubmed.ncbi.nlm.nih.gov/99900003/): Long-term watchimab" in report
    assert "- PMID [99900004](https://pubmed.ncbi.nlm.nih.gov/99900004/): WATCH-ALPHA: design" in report
    assert "PMID [99900001]" not in report
    # failures are reported and the watch went on
    assert "ClinicalTrials.gov NCT99990004: no such study on ClinicalTrials.gov (HTTP 404); check the id in the record" in report
    assert "ClinicalTrials.gov NCT99990005: the response is not valid JSON (it starts `{" in report
    assert "(Trial: WATCH-EPSILON): PubMed search: the response is not valid XML" in report
    # nothing was written into the records
    for path in (project / "evidence").rglob("*.yaml"):
        assert path.read_bytes() == (FIXTURES / "project" / path.relative_to(project)).read_bytes()


def test_nothing_changed_exits_0(project, tmp_path, monkeypatch):
    (project / "evidence" / "therapy" / "watchimab.yaml").unlink()  # its search finds new papers
    code, report = cli(only(project, "watch-gamma"), tmp_path, monkeypatch, "--no-notices", "--no-new-trials")
    assert code == 0
    assert "**Result: nothing changed.**" in report
    assert "No registered trial differs from its record." in report
    assert "No new publication found." in report
    assert "## Checks that failed" not in report


def test_only_errors_exit_2(project, tmp_path, monkeypatch):
    code, report = cli(
        only(project, "watch-epsilon"), tmp_path, monkeypatch, "--no-literature", "--no-regulators", "--no-notices", "--no-new-trials"
    )
    assert code == 2
    assert "**Result: no change found, but some checks failed.**" in report
    assert "- evidence/study/watch-epsilon.yaml (WATCH-EPSILON): ClinicalTrials.gov NCT99990005: the response is not valid JSON" in report


def test_missing_fixture_folder_is_a_usage_error(project, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HANDBOOK_TODAY", TODAY)
    assert main(["--root", str(project), "watch", "--fixtures", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_the_literature_search_starts_after_the_newest_cited_year(project):
    fetch = make_fetcher(FIXTURES)
    run(only(project), fetch, TODAY)
    searches = {p["term"].split("[")[0]: p for url, p in fetch.session.requests if url == ESEARCH}
    therapy = searches['"Watchimab"']
    assert (therapy["datetype"], therapy["mindate"], therapy["maxdate"]) == ("pdat", "2026", "3000")  # gamma2025 is the newest
    assert "dermatomyositis[tiab]" in therapy["term"]
    antibody = searches['"Anti-WATCH"']  # no reference cited: no date limit
    assert "mindate" not in antibody
    assert therapy["tool"] == "iim-handbook-watch" and therapy["db"] == "pubmed"


# --- HTTP behaviour: retries, back-off, rate limit, identification ---------------------------


@responses.activate
def test_429_is_retried_after_the_time_the_server_asks(clock):
    url = CTGOV_STUDY.format("NCT99990001")
    responses.add(responses.GET, url, status=429, headers={"Retry-After": "7"})
    responses.add(responses.GET, url, body=recorded("NCT99990001"), content_type="application/json")
    entry = fetcher(clock).ctgov_study("NCT99990001")
    assert entry["overall_status"] == "ACTIVE_NOT_RECRUITING"
    assert clock.sleeps == [7.0]
    agent = responses.calls[0].request.headers["User-Agent"]
    assert agent == "iim-handbook-watch/1.0 (+https://github.com/iim-handbook/handbook)"


@responses.activate
def test_5xx_is_retried_with_back_off_then_given_up(clock):
    responses.add(responses.GET, CTGOV_STUDY.format("NCT99990001"), status=503)
    with pytest.raises(NetError, match=r"^ClinicalTrials.gov NCT99990001: HTTP 503; gave up after 4 attempts$"):
        fetcher(clock).ctgov_study("NCT99990001")
    assert len(responses.calls) == 4
    assert clock.sleeps == [2.0, 4.0, 8.0]


@responses.activate
def test_a_timeout_is_retried_then_given_up(clock):
    responses.add(responses.GET, CTGOV_STUDY.format("NCT99990001"), body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(NetError, match="timed out; gave up after 2 attempts"):
        fetcher(clock, retries=1).ctgov_study("NCT99990001")
    assert clock.sleeps == [2.0]


@responses.activate
def test_a_failed_trial_is_reported_and_the_watch_goes_on(project, clock):
    responses.add(responses.GET, CTGOV_STUDY.format("NCT99990001"), status=502)
    responses.add(responses.GET, CTGOV_STUDY.format("NCT99990002"), body=recorded("NCT99990002"), content_type="application/json")
    watch = registries_only(project, clock, "watch-alpha", "watch-beta")
    report = render(watch)
    assert watch.exit_code == 1
    assert "- evidence/study/watch-alpha.yaml (WATCH-ALPHA): ClinicalTrials.gov NCT99990001: HTTP 502; gave up after 4 attempts" in report
    assert "### WATCH-BETA: NCT99990002" in report


@responses.activate
def test_malformed_json_and_an_unknown_id_are_errors_only(project, clock):
    responses.add(responses.GET, CTGOV_STUDY.format("NCT99990001"), body="<html>Service unavailable</html>", content_type="text/html")
    responses.add(responses.GET, CTGOV_STUDY.format("NCT99990002"), status=404, body="Not Found")
    responses.add(responses.GET, CTGOV_STUDY.format("NCT99990003"), json={"studies": []})
    watch = registries_only(project, clock, "watch-alpha", "watch-beta", "watch-gamma")
    report = render(watch)
    assert watch.exit_code == 2
    assert "NCT99990001: the response is not valid JSON (it starts `<html>Service unavailable</html>`)" in report
    assert "NCT99990002: no such study on ClinicalTrials.gov (HTTP 404); check the id in the record" in report
    assert "NCT99990003: the response has no protocolSection; the API may have changed" in report
    assert len(responses.calls) == 3  # a 404 and a bad body are not retried


@responses.activate
def test_malformed_xml_from_pubmed_is_reported(project, clock):
    responses.add(responses.GET, CTGOV_STUDY.format("NCT99990003"), body=recorded("NCT99990003"), content_type="application/json")
    responses.add(responses.GET, ESEARCH, body="<eSearchResult><Count>2</Count><IdList><Id>1</Id>", content_type="text/xml")
    watch = run(only(project, "watch-gamma"), fetcher(clock), TODAY, regulators=False, notices=False, new_trials=False)
    report = render(watch)
    assert watch.exit_code == 2
    assert "(Therapy: Watchimab): PubMed search: the response is not valid XML" in report
    assert "(Autoantibody: Anti-WATCH antibody): PubMed search: the response is not valid XML" in report


@responses.activate
def test_pubmed_errors_and_documented_shapes(clock):
    fetch = fetcher(clock, ncbi_email="maintainer@example.org", ncbi_api_key="k3y")
    body = (FIXTURES / "pubmed" / "esearch-watchimab.xml").read_bytes()
    responses.add(responses.GET, ESEARCH, body=body, content_type="text/xml")
    responses.add(responses.GET, ESUMMARY, body=(FIXTURES / "pubmed" / "esummary.json").read_text(), content_type="application/json")
    responses.add(responses.GET, ESEARCH, body=b"<eSearchResult><ERROR>Invalid query</ERROR></eSearchResult>", content_type="text/xml")
    assert fetch.pubmed_search('"Watchimab"[tiab]', 2026) == (3, ["99900003", "99900002", "99900001"])
    summaries = fetch.pubmed_summaries(["99900002"])
    assert summaries["99900002"]["doi"] == "10.5555/watch.cohort.2026"
    with pytest.raises(NetError, match="E-utilities reported an error: Invalid query"):
        fetch.pubmed_search("(", None)
    sent = responses.calls[0].request.params
    assert (sent["tool"], sent["email"], sent["api_key"]) == ("iim-handbook-watch", "maintainer@example.org", "k3y")
    assert clock.sleeps == [0.1, 0.1]  # 10 requests a second with an API key


@responses.activate
def test_ncbi_is_asked_at_most_three_times_a_second_without_a_key(clock):
    responses.add(responses.GET, ESEARCH, body=(FIXTURES / "pubmed" / "esearch-nct99990001.xml").read_bytes())
    fetch = fetcher(clock)
    for _ in range(3):
        fetch.pubmed_search("NCT99990001[si]", None)
    assert clock.sleeps == [0.34, 0.34]
    assert "api_key" not in responses.calls[0].request.params and "email" not in responses.calls[0].request.params


@responses.activate
def test_retry_after_as_a_date_is_capped(clock):
    url = CTGOV_STUDY.format("NCT99990003")
    responses.add(responses.GET, url, status=429, headers={"Retry-After": "Fri, 31 Dec 2100 23:59:59 GMT"})
    responses.add(responses.GET, url, body=recorded("NCT99990003"))
    fetcher(clock).ctgov_study("NCT99990003")
    assert clock.sleeps == [120.0]


# --- status values ----------------------------------------------------------------------------


def test_every_registry_status_maps_to_a_handbook_value():
    schema = json.loads((ROOT / "schemas" / "study.schema.json").read_text())
    field = schema["properties"].get("trial_status") or schema["properties"]["status"]
    assert set(CTGOV_STATUS.values()) == set(TRIAL_STATUSES) <= set(field["enum"])


# --- applying status edits ------------------------------------------------------------------


def test_apply_status_rewrites_two_lines_and_keeps_every_other_byte(project, tmp_path, monkeypatch):
    alpha = project / "evidence" / "study" / "watch-alpha.yaml"
    beta = project / "evidence" / "study" / "watch-beta.yaml"
    before_alpha, before_beta = alpha.read_bytes(), beta.read_bytes()
    code, report = cli(project, tmp_path, monkeypatch, "--apply-status", "--no-literature")
    assert code == 1
    after = alpha.read_bytes()
    expected = before_alpha.replace(
        b"trial_status: recruiting  # as the registry gave it in June\n",
        b"trial_status: active-not-recruiting  # as the registry gave it in June\n",
    ).replace(b"status_checked: '2026-06-01'\n", b"status_checked: '2026-12-01'\nstatus_source: registry\nstatus_as_of: 2026-11-20\n")
    assert after == expected != before_alpha
    assert beta.read_bytes() == before_beta  # schema 1: no trial_status line to rewrite
    assert (
        "- evidence/study/watch-alpha.yaml: trial_status set to active-not-recruiting, status_checked set to 2026-12-01, "
        "status_source set to registry, status_as_of set to 2026-11-20 (the registry entry's last update)"
    ) in report
    assert "- evidence/study/watch-beta.yaml: not changed, the record has no `trial_status` line yet (schema 1); edit it by hand" in report
    assert not list(alpha.parent.glob(".*.tmp"))
    # the next run finds the status as the registry gives it
    code, report = cli(only(project, "watch-alpha"), tmp_path, monkeypatch, "--no-literature")
    assert "| Trial status | active-not-recruiting | active-not-recruiting (ACTIVE_NOT_RECRUITING) |  |" in report


def test_apply_status_adds_a_missing_status_checked_and_keeps_crlf(project, tmp_path, monkeypatch):
    alpha = project / "evidence" / "study" / "watch-alpha.yaml"
    text = alpha.read_bytes().replace(b"status_checked: '2026-06-01'\n", b"").replace(b"\n", b"\r\n")
    alpha.write_bytes(text)
    cli(only(project, "watch-alpha"), tmp_path, monkeypatch, "--apply-status", "--no-literature")
    assert alpha.read_bytes() == text.replace(
        b"trial_status: recruiting  # as the registry gave it in June\r\n",
        b"trial_status: active-not-recruiting  # as the registry gave it in June\r\nstatus_checked: 2026-12-01\r\n"
        b"status_source: registry\r\nstatus_as_of: 2026-11-20\r\n",
    )


def test_apply_status_never_half_writes_a_record(project, tmp_path, monkeypatch):
    alpha = project / "evidence" / "study" / "watch-alpha.yaml"
    before = alpha.read_bytes()

    def refuse(*args):
        raise OSError("disk full")

    monkeypatch.setattr(watch_module.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        run(only(project, "watch-alpha"), make_fetcher(FIXTURES), TODAY, literature=False, apply=True)
    assert alpha.read_bytes() == before
    assert not list(alpha.parent.glob(".*.tmp"))


@responses.activate
def test_unknown_and_expanded_access_statuses_are_shown_for_a_person_to_judge(project, clock):
    unknown = json.loads(recorded("NCT99990001"))
    unknown["protocolSection"]["statusModule"].update(overallStatus="UNKNOWN", lastKnownStatus="RECRUITING")
    withheld = json.loads(recorded("NCT99990002"))
    withheld["protocolSection"]["statusModule"]["overallStatus"] = "WITHHELD"
    responses.add(responses.GET, CTGOV_STUDY.format("NCT99990001"), json=unknown)
    responses.add(responses.GET, CTGOV_STUDY.format("NCT99990002"), json=withheld)
    report = render(registries_only(project, clock, "watch-alpha", "watch-beta"))
    assert "| Trial status | recruiting | unknown (UNKNOWN; last known RECRUITING) | **changed** |" in report
    assert "trial_status: unknown\nstatus_checked: 2026-12-01" in report
    assert "| Trial status | active-not-recruiting | ? (WITHHELD) | **changed** |" in report
    assert "- ClinicalTrials.gov status WITHHELD has no equivalent `trial_status`; decide by hand." in report


def test_the_written_report_can_be_cut_to_fit_an_issue(project, tmp_path, monkeypatch):
    code, report = cli(project, tmp_path, monkeypatch, "--max-chars", "1500")
    assert len(report) <= 1500
    assert report.endswith("…(report cut to fit; the full report is in the job log)\n")


def test_the_watch_workflow_has_least_privilege():
    import yaml

    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "watch.yml").read_text())
    triggers = flow.get(True) or flow.get("on")
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert flow["permissions"] == {}
    (job,) = flow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert job["steps"][0]["with"]["persist-credentials"] is False
    assert "python -m generators watch" in json.dumps(job["steps"])


# --- regulators and notices --------------------------------------------------------------------


def test_the_fda_check_reports_a_new_approval_an_indication_a_boxed_warning_and_label_changes(project):
    watch = run(only(project), make_fetcher(FIXTURES), TODAY, literature=False, notices=False)
    report = render(watch)
    assert watch.exit_code == 1
    section = report.split("## Regulators: FDA", 1)[1].split("\n## ", 1)[0]
    assert "### Watchimab" in section and "(checked 2026-06-01, finding no-approval)" in section
    assert "- New approval: BLA799901 (WATCHIMAX), approved 2026-09-02 (Type 1 - New Molecular Entity)." in section
    assert "- Efficacy supplement 2 to BLA799901 (WATCHIMAX) approved 2026-10-15: a new or changed indication" in section
    assert "Labelling supplement 3" not in section  # only approved submissions count (this one is tentative)
    assert "- The WATCHIMAX label's indications mention myositis; the record's FDA finding is no-approval." in section
    assert "- The WATCHIMAX label has a boxed warning; the record lists none." in section
    assert "- The WATCHIMAX label changed after the record's check: Boxed Warning (2026-10)." in section
    assert "    checked: 2026-12-01\n    where: Drugs@FDA and the FDA label (openFDA)\n    finding: myositis-approval" in section
    assert "The label's boxed warning begins: \"WARNING: SYNTHETIC FIXTURE INFECTIONS." in section
    assert "The EMA is not checked automatically" in section  # said, not silently skipped


def test_an_fda_check_made_after_the_changes_finds_nothing(project):
    therapy = project / "evidence" / "therapy" / "watchimab.yaml"
    therapy.write_text(
        therapy.read_text()
        .replace("checked: 2026-06-01", "checked: 2026-11-30")
        .replace("finding: no-approval", "finding: myositis-approval")
        + "safety:\n  warnings:\n    - text: Synthetic boxed warning.\n      cite: [gamma2025]\n      boxed: true\n"
    )
    report = render(run(only(project), make_fetcher(FIXTURES), TODAY, literature=False, notices=False))
    assert "None of the 1 therapies checked changed at the FDA since its record's check." in report


def test_notices_from_crossref_and_pubmed_are_reported_and_applied_to_references_bib(project, tmp_path, monkeypatch):
    code, report = cli(only(project), tmp_path, monkeypatch, "--no-literature", "--no-regulators", "--apply-notices")
    assert code == 1
    section = report.split("## References: retractions", 1)[1].split("\n## ", 1)[0]
    assert "### gamma2025 (doi:10.5555/watch.gamma.2025)" in section
    assert "- Crossref: retraction on 2026-10-05, notice doi:10.5555/watch.gamma.2025.retraction, from retraction-watch." in section
    assert "- Crossref: correction on 2026-03-09, notice doi:10.5555/watch.gamma.2025.erratum, from publisher." in section
    bib = (project / "references.bib").read_text()
    assert 'retraction = "2026-10-05, doi:10.5555/watch.gamma.2025.retraction"' in bib
    assert 'correction = "2026-03-09, doi:10.5555/watch.gamma.2025.erratum"' in bib
    assert bib.startswith("@article{gamma2025,") and bib.rstrip().endswith("}")
    # once recorded, the next run finds nothing new
    code, report = cli(only(project), tmp_path, monkeypatch, "--no-literature", "--no-regulators")
    assert "No new notice on the 1 references checked." in report


def test_pubmed_alone_marking_a_work_retracted_is_reported(project):
    bib = project / "references.bib"
    bib.write_text(bib.read_text().replace("  doi = {10.5555/watch.gamma.2025},\n", ""))
    report = render(run(only(project), make_fetcher(FIXTURES), TODAY, literature=False, regulators=False))
    assert "PubMed lists this work as a Retracted Publication, and references.bib records no retraction" in report


def test_new_trials_stale_statuses_and_overdue_results_are_reported_with_their_edits(project, tmp_path, monkeypatch):
    code, report = cli(project, tmp_path, monkeypatch, "--no-literature", "--no-regulators", "--no-notices")
    assert code == 1
    new = report.split("## New trials: registered on ClinicalTrials.gov since 2026-11-23", 1)[1].split("\n## ", 1)[0]
    assert "NCT99990009" in new and "WATCH-THETA" in new and "NCT99990001" not in new.split("```")[0]  # a known id is not new
    assert "registry_ids: [NCT99990009]\ntrial_status: not-yet-recruiting\nstatus_checked: 2026-12-01\nstatus_source: registry" in new
    stale = report.split("## Statuses not confirmed", 1)[1].split("\n## ", 1)[0]
    assert "- WATCH-ETA (`evidence/study/watch-eta.yaml`): recruiting, not confirmed since 2025-01-10 (older than six months)." in stale
    assert "status_as_of: YYYY-MM-DD  # the registry entry's last update" in stale
    overdue = report.split("## Results overdue", 1)[1].split("\n## ", 1)[0]
    assert "- WATCH-ZETA (`evidence/study/watch-zeta.yaml`): completed 2025-06." in overdue
    assert "provenance: registry  # or full-text, abstract" in overdue
    assert "WATCH-GAMMA" not in overdue  # completed, but published with results


def test_an_unchanged_status_read_on_a_copy_is_confirmed_with_the_registrys_own_date(project):
    alpha = project / "evidence" / "study" / "watch-alpha.yaml"
    alpha.write_text(
        alpha.read_text()
        .replace("trial_status: recruiting  # as the registry gave it in June", "trial_status: active-not-recruiting")
        .replace(
            "status_checked: '2026-06-01'\n", "status_checked: '2026-06-01'\nstatus_source: registry-copy\nstatus_as_of: '2026-05-02'\n"
        )
    )
    report = render(
        run(
            only(project, "watch-alpha"), make_fetcher(FIXTURES), TODAY, literature=False, regulators=False, notices=False, new_trials=False
        )
    )
    assert "| Status date | 2026-05-02 | last update 2026-11-20 | **changed** |" in report
    assert "trial_status: active-not-recruiting\nstatus_checked: 2026-12-01\nstatus_source: registry\nstatus_as_of: 2026-11-20" in report


# --- every source fails in every way, and is reported as unchecked, never as "no change" -------


def _failing(clock, url, **reply):
    responses.add(responses.GET, url, **reply)
    return fetcher(clock, retries=1, backoff=0.01)


@pytest.mark.parametrize(
    "reply,said",
    [
        ({"status": 500}, "HTTP 500; gave up after 2 attempts"),
        ({"status": 429, "headers": {"Retry-After": "1"}}, "HTTP 429 (too many requests); gave up after 2 attempts"),
        ({"body": requests.Timeout("read timed out")}, "timed out; gave up after 2 attempts"),
        ({"body": "<html>oops</html>", "content_type": "text/html"}, "the response is not valid JSON"),
        ({"json": {"meta": {}, "rows": []}}, "the response has no results list; the API may have changed"),
    ],
    ids=["5xx", "429", "timeout", "malformed", "changed-schema"],
)
@responses.activate
def test_fda_failures_are_reported_as_unchecked(project, clock, reply, said):
    from generators.watch_net import OPENFDA_DRUGSFDA, OPENFDA_LABEL

    responses.add(responses.GET, OPENFDA_LABEL, json={"results": []})
    watch = run(only(project), _failing(clock, OPENFDA_DRUGSFDA, **reply), TODAY, literature=False, notices=False, new_trials=False)
    report = render(watch)
    assert f"evidence/therapy/watchimab.yaml (Watchimab): Drugs@FDA (watchimab): {said}" in report
    assert "None of the" not in report  # an unchecked therapy is never reported as unchanged
    assert watch.exit_code == 2


@responses.activate
def test_an_fda_search_without_matches_is_no_change_and_a_429_is_retried(project, clock):
    from generators.watch_net import OPENFDA_DRUGSFDA, OPENFDA_LABEL

    responses.add(responses.GET, OPENFDA_DRUGSFDA, status=429, headers={"Retry-After": "3"})
    responses.add(responses.GET, OPENFDA_DRUGSFDA, status=404, json={"error": {"code": "NOT_FOUND"}})
    responses.add(responses.GET, OPENFDA_LABEL, status=404, json={"error": {"code": "NOT_FOUND"}})
    watch = run(only(project), fetcher(clock), TODAY, literature=False, notices=False, new_trials=False)
    assert watch.errors == [] and watch.regulator_changes == []
    assert 3.0 in clock.sleeps  # Retry-After honoured


@pytest.mark.parametrize(
    "reply,said",
    [
        ({"status": 503}, "HTTP 503; gave up after 2 attempts"),
        ({"body": requests.Timeout("read timed out")}, "timed out; gave up after 2 attempts"),
        ({"body": "not json", "content_type": "text/plain"}, "the response is not valid JSON"),
        ({"json": {"status": "ok", "message": {"rows": []}}}, "the response has no message.items; the API may have changed"),
    ],
    ids=["5xx", "timeout", "malformed", "changed-schema"],
)
@responses.activate
def test_crossref_failures_are_reported_as_unchecked(project, clock, reply, said):
    from generators.watch_net import CROSSREF_WORKS

    responses.add(responses.GET, ESUMMARY, body=(FIXTURES / "pubmed" / "esummary.json").read_text(), content_type="application/json")
    watch = run(only(project), _failing(clock, CROSSREF_WORKS, **reply), TODAY, literature=False, regulators=False, new_trials=False)
    report = render(watch)
    assert f"references.bib (gamma2025): Crossref updates of 10.5555/watch.gamma.2025: {said}" in report


@responses.activate
def test_crossref_with_no_notices_is_no_change(project, clock):
    from generators.watch_net import CROSSREF_WORKS

    responses.add(responses.GET, CROSSREF_WORKS, json={"status": "ok", "message": {"items": []}})
    responses.add(responses.GET, ESUMMARY, json={"result": {"uids": []}})
    watch = run(only(project), fetcher(clock), TODAY, literature=False, regulators=False, new_trials=False)
    assert watch.errors == [] and watch.new_notices == []
    assert "No new notice on the 1 references checked." in render(watch)


@pytest.mark.parametrize(
    "reply,said",
    [
        ({"status": 502}, "HTTP 502; gave up after 2 attempts"),
        ({"body": "{", "content_type": "application/json"}, "the response is not valid JSON"),
        ({"json": {"results": []}}, "the response has no studies list; the API may have changed"),
    ],
    ids=["5xx", "malformed", "changed-schema"],
)
@responses.activate
def test_the_new_trial_search_failing_is_reported_as_unchecked(project, clock, reply, said):
    from generators.watch_net import CTGOV_SEARCH

    watch = run(only(project), _failing(clock, CTGOV_SEARCH, **reply), TODAY, literature=False, regulators=False, notices=False)
    report = render(watch)
    assert f"New trials not checked: ClinicalTrials.gov search for new trials: {said}" in report
    assert "No new myositis trial" not in report
