"""Kinds of reference beyond journal articles: registry records, congress abstracts, press releases
and regulatory documents. Each is validated with its own rules and reads as what it is everywhere."""

from __future__ import annotations

import json

import pytest
from conftest import build, edit, validate

OTHER_KINDS = """
@online{nct99990001,
    kind = "registry",
    title = "A fixture trial on its registry",
    organization = "ClinicalTrials.gov",
    number = "NCT99990001",
    url = "https://clinicaltrials.gov/study/NCT99990001",
    urldate = "2026-12-01",
    year = "2024"
}

@inproceedings{presenter2025,
    kind = "congress-abstract",
    author = "Presenter, Pat",
    title = "A fixture congress abstract",
    booktitle = "Fixture Congress 2025",
    number = "OP0002",
    url = "https://congress.example.org/OP0002",
    urldate = "2026-12-01",
    year = "2025"
}

@online{sponsor2021,
    kind = "press-release",
    organization = "Sponsor Pharmaceuticals",
    title = "Fixture trial did not meet its primary endpoint",
    issued = "2021-06-24",
    url = "https://sponsor.example.org/news/2021-06-24",
    urldate = "2026-12-01",
    year = "2021"
}

@online{agency2021,
    kind = "regulatory",
    organization = "US Food and Drug Administration",
    title = "Fixture product prescribing information",
    issued = "2021-07",
    url = "https://agency.example.org/label.pdf",
    urldate = "2026-12-01",
    year = "2021"
}
"""
KEYS = ["nct99990001", "presenter2025", "sponsor2021", "agency2021"]


@pytest.fixture
def kinds_project(project):
    (project / "references.bib").write_text((project / "references.bib").read_text() + OTHER_KINDS)
    edit(project, "evidence/study/fixture-trial.yaml", "citations: [trialist2021]", f"citations: [trialist2021, {', '.join(KEYS)}]")
    return project


def test_every_kind_of_reference_validates(kinds_project):
    result = validate(kinds_project)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ('    number = "NCT99990001",\n', "", "a registry reference needs number (add number = {...}: the registry id, e.g. NCT04044690)"),
        ('number = "NCT99990001"', 'number = "NCT9999"', 'number "NCT9999" is not a registry id we recognise'),
        ('    issued = "2021-06-24",\n', "", "a press-release reference needs issued"),
        (
            'urldate = "2026-12-01",\n    year = "2021"\n}\n\n@online{agency2021',
            'urldate = "June 2026",\n    year = "2021"\n}\n\n@online{agency2021',
            'urldate "June 2026" is not a date',
        ),
        (
            "@inproceedings{presenter2025",
            "@online{presenter2025",
            "a congress-abstract reference is written as @inproceedings, not @online",
        ),
        ('kind = "press-release"', 'kind = "blog"', 'kind "blog" is not a kind of reference'),
        (
            'url = "https://sponsor.example.org/news/2021-06-24"',
            'url = "sponsor.example.org"',
            'url "sponsor.example.org" is not a web address',
        ),
    ],
)
def test_each_kind_has_its_own_rules_with_line_and_fix(kinds_project, old, new, expected):
    edit(kinds_project, "references.bib", old, new)
    result = validate(kinds_project)
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert "references.bib:" in result.stderr


def test_an_article_without_doi_or_pmid_is_told_about_the_other_kinds(project):
    edit(project, "references.bib", "  pmid = {10000002}\n", "")
    result = validate(project)
    assert "the entry has no doi, pmid or pmcid" in result.stderr
    assert "kind = {registry}" in result.stderr


def test_kinds_read_correctly_on_the_site_and_in_the_exports(kinds_project):
    result = build(kinds_project)
    assert result.returncode == 0, result.stderr
    site = kinds_project / "site"
    page = (site / "studies" / "fixture-trial" / "index.html").read_text()
    assert "Press release \u2014 not peer reviewed" in page
    assert "Trial registry record" in page and "Congress abstract" in page and "Regulatory document" in page
    assert 'href="https://sponsor.example.org/news/2021-06-24"' in page
    assert 'href="https://clinicaltrials.gov/study/NCT99990001"' in page

    csl = {item["id"]: item for item in json.loads((site / "data" / "references.csl.json").read_text())}
    assert csl["sponsor2021"]["genre"] == "Press release \u2014 not peer reviewed"
    assert csl["sponsor2021"]["issued"] == {"date-parts": [[2021, 6, 24]]}
    assert csl["nct99990001"]["type"] == "webpage" and csl["nct99990001"]["number"] == "NCT99990001"
    assert csl["presenter2025"]["type"] == "paper-conference"
    assert csl["agency2021"]["publisher"] == "US Food and Drug Administration"

    ris = (site / "data" / "references.ris").read_text()
    sponsor = ris.split("ID  - sponsor2021")[0].rsplit("ER  -", 1)[-1]
    assert "TY  - GEN" in sponsor and "M3  - Press release \u2014 not peer reviewed" in sponsor and "DA  - 2021/06/24" in sponsor
    assert "TY  - DBASE" in ris and "TY  - ABST" in ris and "TY  - GOVDOC" in ris

    fhir = json.loads((site / "data" / "fhir" / "citation.json").read_text())
    by_id = {e["resource"]["id"]: e["resource"] for e in fhir["entry"]}
    registry = next(r for r in by_id.values() if r["title"] == "A fixture trial on its registry")
    assert registry["citedArtifact"]["classification"][0]["classifier"][0]["text"] == "Trial registry record"
    assert registry["citedArtifact"]["identifier"][0]["value"] == "NCT99990001"
    from fhir.resources.citation import Citation

    for resource in by_id.values():
        Citation.model_validate(resource)  # every kind is a valid FHIR R5 Citation


def test_an_article_known_by_its_pubmed_central_id_alone_is_accepted_and_linked(project):
    """A source page may show a PMC id but neither DOI nor PMID: the entry is valid and links to the PMC copy."""
    from generators.model import build_model
    from generators.render import reference_markdown

    edit(project, "references.bib", "  pmid = {10000002}\n", "  pmcid = {PMC10583374}\n")
    assert validate(project).returncode == 0
    entry = build_model(project).bibliography.entries["trialist2021"]
    assert "[PMC10583374](https://pmc.ncbi.nlm.nih.gov/articles/PMC10583374/)" in reference_markdown(entry)
    edit(project, "references.bib", "  pmcid = {PMC10583374}\n", "  pmcid = {10583374}\n")
    assert 'pmcid "10583374" is not a PubMed Central id' in validate(project).stderr
