"""The evidence summary rules (docs/about.md, "How the evidence is summarised"), key points and the
guideline box, on small fixture records: one test per rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from generators.load import Bibliography, Record
from generators.model import derive, summarise


def study(
    sid, met=None, results=True, design="randomised-controlled", trial_status="completed", provenance="full-text", year=2020, **extra
):
    data = {
        "id": sid,
        "title": f"Study {sid}",
        "acronym": sid.upper(),
        "design": design,
        "trial_status": trial_status,
        "year": year,
        "population": {"subtypes": ["dermatomyositis"], "description": "Adults"},
        "therapies": ["drug"],
        "citations": [f"{sid}2020"],
        **extra,
    }
    if met:
        data["primary_endpoint_met"] = met
    if results:
        data["results"] = [{"text": "A result.", "cite": [f"{sid}2020"], "provenance": provenance}]
    return Record("study", Path(f"evidence/study/{sid}.yaml"), data, {})


def test_all_randomised_trials_met_their_endpoint_reads_positive():
    assert summarise([study("a", "yes"), study("b", "yes")]).label == "Randomised controlled (positive)"


def test_none_met_reads_negative():
    assert summarise([study("a", "no")]).label == "Randomised controlled (negative)"


def test_a_later_larger_failed_trial_makes_the_cell_mixed_never_positive():
    ev = summarise([study("phase2", "yes", year=2018), study("phase3", "no", year=2021, n=176)])
    assert ev.label == "Randomised controlled (mixed)"
    assert [s.id for s in ev.studies] == ["phase3", "phase2"]


def test_a_failed_trial_known_only_from_a_press_release_counts_and_is_labelled():
    ev = summarise([study("phase2", "yes"), study("phase3", "no", provenance="press-release")])
    assert ev.label == "Randomised controlled (mixed)"
    assert ev.notes == ["rests partly on a press release, not peer reviewed"]


def test_a_cell_resting_only_on_a_congress_abstract_says_so():
    ev = summarise([study("a", "yes", provenance="congress-abstract")])
    assert ev.notes == ["rests on a congress abstract"]


def test_a_primary_outcome_known_without_results_still_counts():
    ev = summarise([study("a", "no", results=False)])
    assert ev.label == "Randomised controlled (negative)"


def test_a_finished_trial_without_results_is_shown_as_pending_beside_the_best_evidence():
    ev = summarise([study("small", "yes", design="single-arm-trial"), study("big", "pending", results=False)])
    assert ev.label == "Uncontrolled trial"
    assert ev.notes == ["results pending: BIG"]


def test_a_terminated_trial_without_results_is_pending_too_and_a_recruiting_one_is_not():
    ev = summarise([study("stopped", results=False, trial_status="terminated"), study("running", results=False, trial_status="recruiting")])
    assert ev.label == "Results pending"
    assert ev.notes == ["results pending: STOPPED"]


def test_trials_under_way_are_not_evidence():
    assert summarise([study("running", results=False, trial_status="recruiting")]).label == "No study"


def test_the_best_design_decides_the_level():
    ev = summarise([study("cohort", design="observational"), study("rct", "yes")])
    assert ev.label == "Randomised controlled (positive)"
    assert [s.id for s in ev.studies] == ["rct", "cohort"]


def record(kind, rid, **data):
    return Record(kind, Path(f"evidence/{kind}/{rid}.yaml"), {"id": rid, "title": rid.title(), **data}, {})


@pytest.fixture
def book():
    records = [
        record("subtype", "dermatomyositis"),
        record(
            "autoantibody",
            "anti-tif1-gamma",
            ild_risk={"level": "low", "text": "Rarely. More text.", "cite": ["b2020"]},
            treatment_implications=[{"text": "Uncited idea."}, {"text": "Treat the cancer. Then more.", "cite": ["c2021"]}],
        ),
        record("guideline", "g", year=2023),
        record("topic", "cancer-screening"),
        record(
            "recommendation",
            "g-r01",
            title="G 2023: screen",
            guideline="g",
            statement="Screen TIF1-positive adults.",
            strength="strong",
            certainty="low",
            citations=["g2023"],
            autoantibodies=["anti-tif1-gamma"],
            topics=["cancer-screening"],
        ),
        record(
            "therapy",
            "drug",
            bottom_line={"text": "Drug helps.", "cite": ["a2020"]},
            approvals=[{"agency": "FDA", "indication": "Dermatomyositis in adults", "date": "2021-07", "cite": ["fda2021"]}],
            safety={"warnings": [{"text": "Thrombosis.", "cite": ["label2024"], "boxed": True}]},
        ),
        study("a", "yes"),
    ]
    return derive(records, Bibliography("references.bib", {}))


def test_a_recommendation_reaches_every_page_it_names(book):
    assert [r.id for r in book.recommendations_about("anti-tif1-gamma")] == ["g-r01"]
    assert [r.id for r in book.recommendations_about("cancer-screening")] == ["g-r01"]
    assert book.recommendations_about("dermatomyositis") == []


def test_key_points_of_a_therapy_give_bottom_line_evidence_approval_and_warning_each_cited(book):
    points = book.key_points(book.by_id["drug"])
    assert [p["text"] for p in points] == [
        "Drug helps.",
        "Best evidence by subtype: dermatomyositis: randomised controlled (positive) (A).",
        "Approved by the FDA, 2021-07: Dermatomyositis in adults.",
        "Boxed warning: Thrombosis.",
    ]
    assert all(p["cite"] for p in points)


def test_key_points_of_an_antibody_give_its_risks_the_guideline_stance_and_what_it_means_for_treatment(book):
    points = book.key_points(book.by_id["anti-tif1-gamma"])
    assert [p["text"] for p in points] == [
        "Interstitial lung disease risk: low. Rarely.",
        "G 2023 (strong): Screen TIF1-positive adults.",
        "Treatment: Treat the cancer.",  # the first cited statement; an uncited one is never a key point
    ]
    assert points[1]["cite"] == ["g2023"] and points[2]["cite"] == ["c2021"]


def test_a_template_typo_in_a_record_field_fails_instead_of_printing_nothing(book):
    from jinja2 import Environment, StrictUndefined, UndefinedError

    env = Environment(undefined=StrictUndefined)
    therapy = book.by_id["drug"].data
    assert env.from_string("{{ r.title }}|{{ r.summary }}").render(r=therapy) == "Drug|None"  # optional field left out
    with pytest.raises(UndefinedError, match="sumary"):
        env.from_string("{{ r.sumary }}").render(r=therapy)
    with pytest.raises(UndefinedError, match="status_of_trial"):
        env.from_string("{{ r.status_of_trial }}").render(r=book.by_id["a"].data)
    # Inside a record too: a block of fields (population, safety, a result) knows its schema.
    trial = book.by_id["a"].data
    assert env.from_string("{{ r.population.description }}|{{ r.population.stage }}").render(r=trial) == "Adults|None"
    with pytest.raises(UndefinedError, match="subtype"):
        env.from_string("{{ r.population.subtype }}").render(r=trial)
    with pytest.raises(UndefinedError, match="provenence"):
        env.from_string("{{ r.results[0].provenence }}").render(r=trial)
    with pytest.raises(UndefinedError, match="boxd"):
        env.from_string("{{ r.safety.warnings[0].boxd }}").render(r=therapy)


def test_a_head_to_head_trial_that_missed_its_endpoint_says_what_negative_means():
    ev = summarise([study("dexa", "no", comparison="regimen")])
    assert ev.label == "Randomised controlled (no difference between the treatments compared)"
    assert ev.notes == []  # the label already says it
    mixed = summarise([study("dexa", "no", comparison="regimen"), study("fuji", "yes", comparison="active")])
    assert mixed.notes == ["head-to-head trials: a missed endpoint means no difference between the treatments compared"]
    assert summarise([study("p", "no", comparison="placebo")]).notes == []


def test_a_background_therapy_is_not_credited_with_the_trial_result():
    background = study("addon", "yes", background_therapies=["steroid"])
    book = derive(
        [record("subtype", "dermatomyositis"), record("therapy", "drug"), record("therapy", "steroid"), background],
        Bibliography("references.bib", {}),
    )
    assert book.evidence("drug", "dermatomyositis").label == "Randomised controlled (positive)"
    assert book.evidence("steroid", "dermatomyositis").label == "No study"
    assert [s.id for s in book.studies_of_therapy("steroid")] == ["addon"]  # still listed on its page


# --- how current a trial's status is ------------------------------------------------------

TODAY = __import__("datetime").date(2026, 12, 7)


def status_of(**data):
    from generators.model import trial_status

    published = data.pop("published", False)
    return trial_status(data, TODAY, published)


def test_a_status_read_on_a_copy_is_dated_by_the_copy_not_by_the_reading():
    s = status_of(trial_status="recruiting", status_checked="2026-12-01", status_source="registry-copy", status_as_of="2026-10-02")
    assert s.text == "Recruiting, as of 2026-10-02 (on a copy of the registry record, read 2026-12-01)"
    assert "2026-12-01)" in s.text and not s.unconfirmed_since


def test_a_status_older_than_six_months_is_not_confirmed_since_its_date():
    s = status_of(trial_status="recruiting", status_checked="2026-12-01", status_source="registry-copy", status_as_of="2024-04")
    assert s.unconfirmed_since == "2024-04"
    assert s.text.endswith("; not confirmed since 2024-04 (older than six months)")


def test_a_status_whose_expected_completion_has_passed_is_not_confirmed():
    s = status_of(trial_status="recruiting", status_checked="2026-12-01", expected_completion="2026-02-28")
    assert (
        s.text == "Recruiting (registry read 2026-12-01); not confirmed since 2026-12-01 (its expected completion, 2026-02-28, has passed)"
    )
    # the same trial before its completion date is current
    assert not status_of(trial_status="recruiting", status_checked="2026-12-01", expected_completion="2027-02").unconfirmed_since


def test_a_completed_trial_without_results_12_months_on_is_overdue_unless_published():
    late = dict(trial_status="completed", expected_completion="2025-10", primary_endpoint_met="pending")
    assert status_of(**late).results_overdue_since == "2025-10"
    assert "results overdue: completed 2025-10" in status_of(**late).text
    assert not status_of(**late, published=True).results_overdue_since
    # eleven months after completion the results are not yet due
    assert not status_of(**{**late, "expected_completion": "2026-01"}).results_overdue_since
    # a trial whose results are recorded is never overdue
    assert not status_of(**{**late, "results": [{"text": "x"}]}).results_overdue_since


def test_key_points_of_a_subtype_keep_head_to_head_trials_apart_from_failed_ones():
    records = [
        record("subtype", "dermatomyositis"),
        record("therapy", "drug"),
        record("therapy", "pulse"),
        study("p", "no", comparison="placebo"),
        study("dexa", "no", comparison="regimen", therapies=["pulse"]),
    ]
    book = derive(records, Bibliography("references.bib", {}))
    texts = [p["text"] for p in book.key_points(book.by_id["dermatomyositis"])]
    assert "Randomised trials that missed their primary endpoint: Drug (P)." in texts
    assert "Head-to-head randomised trials that found no difference between the treatments compared: Pulse (DEXA)." in texts


def test_a_status_from_an_undated_copy_is_never_dated_by_the_day_it_was_read():
    s = status_of(trial_status="recruiting", status_checked="2026-12-01", status_source="registry-copy", status_as_of="undated")
    assert (
        s.text
        == "Recruiting (on a copy of the registry record, read 2026-12-01); not confirmed (the copy of the registry record read shows no date)"
    )
    assert "as of" not in s.text


def test_the_agreement_of_guidelines_is_derived_from_their_positions():
    from generators.model import Concordance, Position

    g = [record("guideline", f"g{i}", year=2020 + i) for i in range(3)]

    def c(*stances, differences=False, superseded=None):
        return Concordance(
            [Position(guideline=g[i], stance=s, superseded_by=superseded if i == 0 else None) for i, s in enumerate(stances)], differences
        )

    assert c("recommends", "recommends").agreement == "agree"
    assert c("recommends", "suggests").agreement == "partly agree"
    assert c("suggests", "suggests", differences=True).agreement == "partly agree"  # same stance, different advice
    assert c("recommends", "against").agreement == "disagree"
    assert c("suggests", "not-addressed").agreement == "one guideline"
    assert c("not-addressed").agreement == "none"
    # a guideline replaced by a newer one among them does not count
    assert c("against", "recommends", superseded=g[1]).agreement == "one guideline"


# --- where a finding stands in its source, and when it was checked ------------------------


def _book_with_finding(finding: dict, bib_fields: dict, **study_data):
    from pybtex.database import Person

    from generators.load import BibEntry

    entry = BibEntry("s2020", "article", {"title": "T", "year": "2020", **bib_fields}, {"author": [Person("Smith, Ann")]}, 1)
    book = derive([study("s", results=False, **study_data)], Bibliography("references.bib", {"s2020": entry}))
    record = book.by_id["s"]
    record.data["results"] = [finding]
    return book, record


def test_a_finding_checked_after_its_source_last_changed_needs_no_new_check():
    book, record = _book_with_finding(
        {"text": "A.", "cite": ["s2020"], "provenance": "abstract", "locator": "Table 2", "checked": "2026-12-07"},
        {"verified": "PubMed page, 2026-11-21"},
    )
    check = book.finding_check(record, "results", 0)
    assert (check.locator, check.checked, check.not_rechecked, check.source) == ("Table 2", "2026-12-07", (), "s2020")


def test_a_correction_after_the_check_makes_the_finding_not_re_checked():
    book, record = _book_with_finding(
        {"text": "A.", "cite": ["s2020"], "provenance": "abstract", "locator": "Table 2", "checked": "2026-01-10"},
        {"verified": "2025-12-01", "correction": "2026-03-02, doi:10.1000/fix"},
    )
    assert book.finding_check(record, "results", 0).not_rechecked == ("a correction of Smith 2020 was published on 2026-03-02",)


def test_a_reference_revised_after_the_check_makes_the_finding_not_re_checked():
    book, record = _book_with_finding(
        {"text": "A.", "cite": ["s2020"], "provenance": "press-release", "locator": "press release", "checked": "2026-01-10"},
        {"verified": "Company page read 2025-12-01, read again 2026-02-03 (figures revised)"},
    )
    assert book.finding_check(record, "results", 0).not_rechecked == ("the reference Smith 2020 was revised on 2026-02-03",)


def test_registry_results_updated_after_the_check_are_not_re_checked():
    book, record = _book_with_finding(
        {"text": "A.", "provenance": "registry", "locator": "registry results section", "checked": "2026-01-10"},
        {},
        status_as_of="2026-05-01",
    )
    check = book.finding_check(record, "results", 0)
    assert check.not_rechecked == ("the registry record was updated on 2026-05-01",)
    assert book.findings_to_check() == [(record, check)]


def test_a_finding_without_a_check_date_is_listed_for_review_but_never_called_re_checked():
    book, record = _book_with_finding(
        {"text": "A.", "cite": ["s2020"], "provenance": "abstract", "locator": "abstract"}, {"correction": "2026-03-02, doi:10.1000/fix"}
    )
    check = book.finding_check(record, "results", 0)
    assert (check.checked, check.not_rechecked) == ("", ())
    assert book.findings_to_check() == [(record, check)]
