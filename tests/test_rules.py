"""One broken fixture per rule of meaning; each names the file and line."""

import pytest
from conftest import edit, validate

CASES = {
    "id differs from file name": (
        "evidence/therapy/ivig.yaml",
        "id: ivig",
        "id: ivig-therapy",
        'evidence/therapy/ivig.yaml:2: id: "ivig-therapy" differs from the file name "ivig"',
    ),
    "unknown cross-reference": (
        "evidence/study/fixture-trial.yaml",
        "therapies: [ivig]",
        "therapies: [ivigg]",
        'evidence/study/fixture-trial.yaml:20: therapies[0]: there is no therapy record with id "ivigg" (did you mean ivig?)',
    ),
    "unknown citation key": (
        "evidence/subtype/dermatomyositis.yaml",
        "    cite: [fixture2020]",
        "    cite: [fixture2021]",
        'evidence/subtype/dermatomyositis.yaml:10: defining_features[0].cite[0]: cites "fixture2021", which is not in references.bib (did you mean fixture2020?)',
    ),
    "date in the future": (
        "evidence/therapy/ivig.yaml",
        "last_reviewed: 2026-01-15",
        "last_reviewed: 2027-01-15",
        "evidence/therapy/ivig.yaml:7: last_reviewed: 2027-01-15 is in the future (today is 2026-12-07)",
    ),
    "impossible date": (
        "evidence/therapy/ivig.yaml",
        "last_reviewed: 2026-01-15",
        "last_reviewed: 2026-02-30",
        'evidence/therapy/ivig.yaml:7: last_reviewed: "2026-02-30" is not a real calendar date',
    ),
    "malformed registry id": (
        "evidence/study/fixture-trial.yaml",
        "NCT01234567",
        "NCT1234567",
        'evidence/study/fixture-trial.yaml:10: registry_ids[0]: "NCT1234567" is not a registry id we recognise',
    ),
    "unfinished study": (
        "evidence/study/fixture-trial.yaml",
        "trial_status: completed",
        "trial_status: recruiting",
        "evidence/study/fixture-trial.yaml:11: status_checked: a study with trial_status recruiting needs the date its status was checked",
    ),
    "regulatory status stated without a date": (
        "evidence/therapy/ivig.yaml",
        "summary: A fixture therapy.",
        "summary: A fixture therapy, not approved for myositis.",
        'evidence/therapy/ivig.yaml:5: summary: "not approved" states a regulatory status without the date it was checked',
    ),
    "no FDA check": (
        "evidence/therapy/ivig.yaml",
        "  - agency: FDA",
        "  - agency: EMA",
        "evidence/therapy/ivig.yaml:18: regulatory_checks: no FDA check of this therapy's regulatory status is recorded",
    ),
    "a myositis approval found but not given": (
        "evidence/therapy/ivig.yaml",
        "finding: other-indications",
        "finding: myositis-approval",
        "evidence/therapy/ivig.yaml:21: regulatory_checks[0].finding: the FDA check found a myositis approval, but approvals has none from the FDA",
    ),
    "no regulatory check at all": (
        "evidence/therapy/ivig.yaml",
        "regulatory_checks:",
        "unchecked:",
        "evidence/therapy/ivig.yaml:1: regulatory_checks: this required field is missing",
    ),
    "a note about the editing, not the evidence": (
        "evidence/therapy/ivig.yaml",
        "summary: A fixture therapy.",
        "summary: A fixture therapy; its dose was not seen on a stored page.",
        'evidence/therapy/ivig.yaml:5: summary: "was not seen" tells how the record was edited, not what a reader needs to know',
    ),
    "a retracted source cited without a word on what it means": (
        "references.bib",
        "  pmid = {10000002}\n",
        "  pmid = {10000002},\n  retraction = {2026-05-04, doi:10.5555/retraction.1}\n",
        "evidence/study/fixture-trial.yaml:6: citations[0]: cites trialist2021, which was retracted on 2026-05-04 (doi:10.5555/retraction.1)",
    ),
    "a notice without its date": (
        "references.bib",
        "  pmid = {10000002}\n",
        "  pmid = {10000002},\n  correction = {doi:10.5555/erratum.1}\n",
        'trialist2021: correction "doi:10.5555/erratum.1" is not a dated notice',
    ),
    "a guideline position contradicting its recommendation": (
        "evidence/question/fixture-question.yaml",
        "stance: suggests",
        "stance: against",
        "evidence/question/fixture-question.yaml:18: positions[0].stance: the stance against contradicts fixture-guideline-r01, whose direction is for",
    ),
    "a guideline said not to address a question it answers": (
        "evidence/question/fixture-question.yaml",
        "stance: suggests",
        "stance: not-addressed",
        "positions[0].recommendations: a guideline that does not address the question links recommendations",
    ),
    "a linked recommendation without a direction": (
        "evidence/recommendation/fixture-guideline-r01.yaml",
        "direction: for\n",
        "",
        "evidence/question/fixture-question.yaml:19: positions[0].recommendations[0]: fixture-guideline-r01 has no direction",
    ),
    "a class member without a dated regulatory status": (
        "evidence/therapy/ivig.yaml",
        "    checked: 2026-01-15\n",
        "",
        "evidence/drug-class/immunoglobulins.yaml:7: members[0]: ivig has no dated regulatory check, so the class page cannot give its status",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule(project, case):
    rel, old, new, expected = CASES[case]
    edit(project, rel, old, new)
    result = validate(project)
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr


def test_duplicate_ids_across_kinds(project):
    (project / "evidence/topic/ivig.yaml").write_text(
        (project / "evidence/topic/fixture-topic.yaml").read_text().replace("id: fixture-topic", "id: ivig")
    )
    out = validate(project).stderr
    assert 'id: "ivig" is already the id of evidence/therapy/ivig.yaml' in out


def test_therapy_without_studies_must_say_why(project):
    (project / "evidence/therapy/rituximab.yaml").write_text(
        (project / "evidence/therapy/ivig.yaml").read_text().replace("id: ivig", "id: rituximab")
    )
    assert "evidence/therapy/rituximab.yaml:2: no_studies_reason: no study record names this therapy" in validate(project).stderr


def test_bibliography_rules(project):
    bib = (project / "references.bib").read_text()
    bib = bib.replace("doi = {10.0000/fixture.2020}", "doi = {https://doi.org/10.0000/fixture.2020}").replace(
        "pmid = {10000002}", "pmid = {PMID10000002}"
    )
    bib += "\n@article{orphan2019,\n  author = {Orphan, Olga},\n  title = {Nobody cites me},\n  journal = {J},\n  year = {2019},\n  pmid = {10000003}\n}\n"
    (project / "references.bib").write_text(bib)
    out = validate(project).stderr
    assert 'references.bib:1: fixture2020: doi "https://doi.org/10.0000/fixture.2020" is not a bare DOI' in out
    assert 'references.bib:12: trialist2021: pmid "PMID10000002" is not a PubMed id' in out
    assert "orphan2019: this reference is not cited by any record" in out


def test_reference_without_doi_or_pmid(project):
    bib = (project / "references.bib").read_text().replace("  pmid = {10000002}\n", "")
    (project / "references.bib").write_text(bib.replace("pages = {11--20},", "pages = {11--20}"))
    assert "trialist2021: the entry has no doi, pmid or pmcid" in validate(project).stderr
