"""Open data under data/: complete, valid against the published schemas, CSL-JSON, BibTeX and FHIR R5."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from conftest import FIXTURE, ROOT, TODAY

from generators.bibliography import KIND_LABEL, reference_kind
from generators.export import page_url
from generators.model import KIND_ORDER, build_model
from generators.opendata import CSV_HEAD, KINDS, data_files, fhir_id, plain

VERSION = "v9.9.9-test"
DATE = dt.date(2026, 11, 21)
SITE = "https://example.org/handbook/"


@pytest.fixture(scope="module", params=["fixture", "handbook"])
def exported(request):
    root = FIXTURE if request.param == "fixture" else ROOT
    book = _book(root)
    return book, data_files(book, VERSION, DATE, SITE, root)


def _book(root):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDBOOK_TODAY", TODAY)
        return build_model(root)


def _json(files, path):
    return json.loads(files[path])


# --- records -------------------------------------------------------------------------


def test_kinds_cover_every_record_kind(exported):
    book, _ = exported
    assert set(KIND_ORDER) <= set(KINDS)
    assert {r.kind for r in book.records} <= set(KINDS)


def test_every_file_is_under_data_and_text(exported):
    _, files = exported
    assert files and all(path.startswith("data/") for path in files)
    for kind in KINDS:
        for path in (f"data/{kind}.json", f"data/{kind}.csv", f"data/schemas/{kind}.schema.json"):
            assert path in files
    for path in ("data/schemas/common.schema.json", "data/references.bib", "data/references.csl.json", "data/handbook.json"):
        assert path in files
    assert "data/fhir/evidence.json" in files and "data/fhir/citation.json" in files


def test_every_record_appears_in_its_json_file(exported):
    book, files = exported
    for kind in KINDS:
        data = _json(files, f"data/{kind}.json")
        assert (data["kind"], data["version"], data["generated"]) == (kind, VERSION, DATE.isoformat())
        ids = [r["id"] for r in data["records"]]
        assert ids == sorted(r.id for r in book.kind(kind))
        for record, exported_record in zip(sorted(book.kind(kind), key=lambda r: r.id), data["records"], strict=True):
            assert {k: v for k, v in exported_record.items() if k != "page"} == json.loads(json.dumps(record.data))
            assert exported_record["page"] == page_url(book, record, SITE)
    assert sum(len(_json(files, f"data/{kind}.json")["records"]) for kind in KINDS) == len(book.records)


def test_page_is_the_site_url_and_the_page_path(exported):
    book, files = exported
    for record in book.kind("study"):
        expected = SITE + book.page(record).removesuffix(".md") + "/"
        assert next(r for r in _json(files, "data/study.json")["records"] if r["id"] == record.id)["page"] == expected


def _registry(files):
    from referencing import Registry, Resource

    resources = []
    for path, text in files.items():
        if path.startswith("data/schemas/"):
            resources.append((path.removeprefix("data/schemas/"), Resource.from_contents(json.loads(text))))
    return Registry().with_resources(resources)


def test_every_record_validates_against_its_published_schema(exported):
    from jsonschema import Draft202012Validator

    book, files = exported
    registry = _registry(files)
    for kind in KINDS:
        schema = _json(files, f"data/schemas/{kind}.schema.json")
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema, registry=registry)
        records = _json(files, f"data/{kind}.json")["records"]
        for record in records:
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(record)]
            assert not errors, (kind, record["id"], errors)
    assert files["data/schemas/common.schema.json"] == (ROOT / "schemas" / "common.schema.json").read_text(encoding="utf-8")


def test_published_schemas_differ_from_the_sources_only_by_page(exported):
    _, files = exported
    for kind in KINDS:
        source = json.loads((ROOT / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8"))
        published = _json(files, f"data/schemas/{kind}.schema.json")
        assert published["properties"].pop("page")["type"] == "string"
        assert published == source


def test_every_record_appears_in_its_csv_file(exported):
    book, files = exported
    for kind in KINDS:
        rows = list(csv.DictReader(io.StringIO(files[f"data/{kind}.csv"], newline="")))
        header = next(csv.reader(io.StringIO(files[f"data/{kind}.csv"], newline="")))
        assert tuple(header[: len(CSV_HEAD)]) == CSV_HEAD and header[-1] == "page"
        assert len(header) == len(set(header))
        records = sorted(book.kind(kind), key=lambda r: r.id)
        assert [row["id"] for row in rows] == [r.id for r in records]
        for record, row in zip(records, rows, strict=True):
            assert row["title"] == record.data["title"]
            assert row["summary"] == record.data["summary"]
            assert row["last_reviewed"] == str(record.data["last_reviewed"])
            assert row["citations"] == "; ".join(record.data.get("citations") or [])
            assert row["page"] == page_url(book, record, SITE)
            for name, value in record.data.items():
                if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)):
                    assert json.loads(row[name]) == value, (record.id, name)
                elif isinstance(value, (str, int)) and not isinstance(value, bool):
                    assert row[name] == str(value), (record.id, name)


# --- bibliography ------------------------------------------------------------------


def test_csl_json_has_every_reference(exported):
    book, files = exported
    items = _json(files, "data/references.csl.json")
    assert [item["id"] for item in items] == sorted(book.bibliography.entries)
    for item in items:
        entry = book.bibliography.entries[item["id"]]
        assert item["type"] == "article-journal" if entry.type == "article" else item["type"]
        assert item["title"] and "{" not in item["title"] and "\\" not in item["title"]
        assert item.get("DOI") == (entry.fields.get("doi") or None)
        assert item.get("PMID") == (entry.fields.get("pmid") or None)
        assert item["issued"]["date-parts"][0][0] == int(entry.fields["year"])
        for name in item.get("author", []):
            assert set(name) <= {"family", "given", "suffix", "literal"}
            assert "others" not in json.dumps(name).lower()
        if "container-title" in item:
            assert "\\" not in item["container-title"]


def test_references_bib_parses_without_internal_fields(exported):
    from pybtex.database import parse_string

    book, files = exported
    data = parse_string(files["data/references.bib"], "bibtex")
    assert sorted(data.entries) == sorted(book.bibliography.entries)
    for entry in data.entries.values():
        fields = {name.lower() for name in entry.fields}
        assert not fields & {"verified", "note"}, entry.key
        assert "title" in fields
        # identifiers as written, not LaTeX-escaped (10.4103/injr.injr_124_20, not injr\_124\_20)
        for name in ("doi", "pmid"):
            assert entry.fields.get(name) == book.bibliography.entries[entry.key].fields.get(name), entry.key


def test_handbook_bundle_holds_everything(exported):
    _, files = exported
    bundle = _json(files, "data/handbook.json")
    assert bundle["version"] == VERSION and bundle["generated"] == DATE.isoformat()
    assert bundle["licence"]["content"] == "CC-BY-4.0" and bundle["licence"]["code"] == "MIT"
    assert bundle["references"] == _json(files, "data/references.csl.json")
    assert set(bundle["records"]) == set(KINDS)
    for kind in KINDS:
        assert bundle["records"][kind] == _json(files, f"data/{kind}.json")["records"]


# --- FHIR R5 -------------------------------------------------------------------------


def _resources(files, path, resource_type):
    bundle = _json(files, path)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    resources = [entry["resource"] for entry in bundle["entry"]]
    assert all(r["resourceType"] == resource_type for r in resources)
    return bundle, resources


def test_fhir_package_is_r5():
    import fhir.resources

    assert fhir.resources.__fhir_version__.startswith("5.")


def test_every_study_is_a_valid_r5_evidence(exported):
    from fhir.resources.bundle import Bundle
    from fhir.resources.evidence import Evidence

    book, files = exported
    bundle, resources = _resources(files, "data/fhir/evidence.json", "Evidence")
    Bundle.model_validate(bundle)
    studies = {fhir_id(s.id): s for s in book.kind("study")}
    assert sorted(r["id"] for r in resources) == sorted(studies)
    for resource in resources:
        Evidence.model_validate(resource)
        study = studies[resource["id"]].data
        assert resource["url"] == page_url(book, studies[resource["id"]], SITE)
        assert resource["title"] == study["title"] and resource["description"] == study["summary"]
        roles = {v["variableRole"]["coding"][0]["code"]: v["description"] for v in resource["variableDefinition"]}
        assert roles["population"] == study["population"]["description"]
        assert roles["measuredVariable"] == study["primary_endpoint"]
        assert roles.get("referenceExposure") == study.get("comparator")
        if study.get("intervention"):
            assert roles["exposure"] == study["intervention"]
        # statistics carry the reported text only: no numbers made up on the way
        texts = [f["text"] for f in (study.get("results") or []) + (study.get("safety") or [])]
        statistics = resource.get("statistic", [])
        assert [s["description"] for s in statistics] == texts
        findings = (study.get("results") or []) + (study.get("safety") or [])
        for statistic, finding in zip(statistics, findings, strict=True):
            if study.get("n_basis") != "planned":
                assert statistic["sampleSize"]["knownDataCount"] == study["n"]
            notes = [n["text"] for n in statistic["note"]]
            assert f"Where in the source: {finding['locator']}" in notes
            assert (
                f"Checked against the source: {finding['checked']}" in notes
                if finding.get("checked")
                else ("Checked against the source: no date recorded" in notes)
            )
        assert resource["certainty"][0]["rating"]["text"]


def test_every_reference_is_a_valid_r5_citation(exported):
    from fhir.resources.bundle import Bundle
    from fhir.resources.citation import Citation

    book, files = exported
    bundle, resources = _resources(files, "data/fhir/citation.json", "Citation")
    Bundle.model_validate(bundle)
    entries = {fhir_id(k): e for k, e in book.bibliography.entries.items()}
    assert sorted(r["id"] for r in resources) == sorted(entries)
    for resource in resources:
        Citation.model_validate(resource)
        entry = entries[resource["id"]]
        artifact = resource["citedArtifact"]
        identifiers = {i.get("system", i.get("type", {}).get("text")): i["value"] for i in artifact.get("identifier", [])}
        assert identifiers.get("https://doi.org") == (entry.fields.get("doi") or None)
        assert identifiers.get("https://pubmed.ncbi.nlm.nih.gov") == (entry.fields.get("pmid") or None)
        assert artifact["title"][0]["text"] == plain(entry.fields["title"])
        form = artifact["publicationForm"][0]
        assert form["publicationDateText"] == entry.fields["year"]
        kind = reference_kind(entry)
        if kind == "article":
            assert form["publishedIn"]["title"] == plain(entry.fields["journal"])
            assert artifact["contributorship"]["entry"]
        else:  # registry records, congress abstracts, press releases and regulatory documents say what they are
            assert artifact["classification"][0]["classifier"][0]["text"] == KIND_LABEL[kind]
            assert artifact["webLocation"][0]["url"] == entry.fields["url"]
        if kind == "registry":
            assert identifiers["Trial registration number"] == entry.fields["number"]


def test_evidence_cites_citations_that_exist(exported):
    _, files = exported
    _, citations = _resources(files, "data/fhir/citation.json", "Citation")
    _, evidence = _resources(files, "data/fhir/evidence.json", "Evidence")
    ids = {c["id"] for c in citations}
    for resource in evidence:
        for artifact in resource.get("relatedArtifact", []):
            assert artifact["resourceReference"]["reference"].removeprefix("Citation/") in ids


def test_fhir_without_an_absolute_site_url_has_no_full_urls():
    from fhir.resources.bundle import Bundle

    book = _book(FIXTURE)
    files = data_files(book, VERSION, DATE, "", FIXTURE)
    for path in ("data/fhir/evidence.json", "data/fhir/citation.json"):
        bundle = _json(files, path)
        Bundle.model_validate(bundle)
        assert all("fullUrl" not in entry for entry in bundle["entry"])


# --- determinism and helpers ---------------------------------------------------------


def test_output_is_deterministic_and_dated_by_the_build_date():
    book = _book(FIXTURE)
    first = data_files(book, VERSION, DATE, SITE, FIXTURE)
    assert first == data_files(_book(FIXTURE), VERSION, DATE, SITE, FIXTURE)
    later = data_files(book, VERSION, dt.date(2030, 1, 2), SITE, FIXTURE)
    changed = {path for path in first if first[path] != later[path]}
    assert changed == {f"data/{kind}.json" for kind in KINDS} | {"data/handbook.json", "data/currency.json", "data/findings.json"}
    assert all(first[p].replace('"2026-11-21"', '"2030-01-02"') == later[p] for p in changed)


def test_the_real_handbook_exports_every_record_and_reference():
    book = _book(ROOT)
    files = data_files(book, VERSION, DATE, SITE, ROOT)
    assert len(_json(files, "data/handbook.json")["records"]["study"]) == len(book.kind("study"))
    bundle = _json(files, "data/handbook.json")
    assert sum(len(v) for v in bundle["records"].values()) == len(book.records)
    assert len(book.records) + len(bundle["references"]) > 200


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        ("Bergeg{\\aa}rd", "Bergegård"),
        ("Lid{\\'e}n", "Lidén"),
        ('T{\\"o}rne', "Törne"),
        ("non-{Jo-1} anti-{tRNA}", "non-Jo-1 anti-tRNA"),
        ("Arthritis Care \\\\\\& Research", "Arthritis Care & Research"),
        ("Arthritis Care \\& Research", "Arthritis Care & Research"),
        ("50% of patients", "50% of patients"),
        ("14--16 October", "14\u201316 October"),
        ("\\emph{in vitro}", "in vitro"),
    ],
)
def test_plain_text_from_bibtex(latex, text):
    assert plain(latex) == text


def test_fhir_ids_are_valid_and_distinct():
    import re

    keys = ["smith2020", "smith_2020", "smith-2020", "x" * 80, "x" * 79 + "y"]
    ids = [fhir_id(k) for k in keys]
    assert ids[0] == "smith2020" and ids[2] == "smith-2020"
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", i) for i in ids)


def test_findings_files_give_each_finding_its_place_in_the_source_and_its_check_date(exported):
    book, files = exported
    data = _json(files, "data/findings.json")
    rows = list(csv.DictReader(io.StringIO(files["data/findings.csv"])))
    expected = [
        (s.id, section, i, f)
        for s in book.kind("study")
        for section in ("results", "safety")
        for i, f in enumerate(s.data.get(section) or [])
    ]
    assert expected and len(data["findings"]) == len(rows) == len(expected)
    for item, row, (sid, section, i, finding) in zip(data["findings"], rows, expected, strict=True):
        assert (item["study"], item["section"], item["index"]) == (row["study"], row["section"], int(row["index"])) == (sid, section, i)
        assert item["locator"] == row["locator"] == finding["locator"]
        assert item["checked"] == row["checked"] == str(finding.get("checked") or "")
        if finding.get("cite"):  # a CSL citation item: the first source cited, and where in it
            first = item["citation_items"][0]
            assert first["id"] == finding["cite"][0] and first["locator"] and first["label"]
            assert (first["label"], first["locator"]) != ("section", "") and finding["locator"].endswith(first["locator"])


@pytest.mark.parametrize(
    "locator,item",
    [
        ("p. 1762", {"label": "page", "locator": "1762"}),
        ("Figure 3", {"label": "figure", "locator": "3"}),
        ("Table 2", {"label": "section", "locator": "Table 2"}),
        ("abstract", {"label": "section", "locator": "abstract"}),
    ],
)
def test_locators_become_csl_citation_items(locator, item):
    from generators.opendata import csl_cite_item

    assert csl_cite_item("key2020", locator) == {"id": "key2020", **item}
