"""The evidence base covers what the two source reviews name (issues 3 and 4)."""

import re

from conftest import ROOT

from generators.model import build_model

SUBTYPES = [
    "dermatomyositis",
    "clinically-amyopathic-dermatomyositis",
    "juvenile-dermatomyositis",
    "polymyositis",
    "immune-mediated-necrotising-myopathy",
    "antisynthetase-syndrome",
    "overlap-myositis",
    "inclusion-body-myositis",
    "cancer-associated-myositis",
]
CRITERIA = ["bohan-peter-1975", "eular-acr-2017", "enmc-dermatomyositis-2018", "enmc-imnm-2017", "enmc-ibm-2011"]
ANTIBODIES = [
    "anti-jo1",
    "anti-pl7",
    "anti-pl12",
    "anti-ej",
    "anti-oj",
    "anti-mda5",
    "anti-tif1-gamma",
    "anti-nxp2",
    "anti-mi2",
    "anti-sae",
    "anti-hmgcr",
    "anti-srp",
    "anti-cn1a",
    "anti-pm-scl",
    "anti-ku",
    "anti-ro52",
    "anti-u1-rnp",
]
THERAPIES = [
    "glucocorticoids",
    "methotrexate",
    "azathioprine",
    "mycophenolate",
    "tacrolimus",
    "ciclosporin",
    "cyclophosphamide",
    "ivig",
    "subcutaneous-immunoglobulin",
    "rituximab",
    "abatacept",
    "anti-tnf",
    "tocilizumab",
    "tofacitinib",
    "baricitinib",
    "ruxolitinib",
    "brepocitinib",
    "anifrolumab",
    "dazukibart",
    "sifalimumab",
    "efgartigimod",
    "zilucoplan",
    "lenabasum",
    "apremilast",
    "plasma-exchange",
    "cd19-car-t",
    "exercise-rehabilitation",
    "arimoclomol",
    "bimagrumab",
    "sirolimus",
]
TOPICS = [
    "cancer-screening",
    "interstitial-lung-disease",
    "interferon-signature",
    "anti-mda5-rp-ild",
    "antisynthetase-ild",
    "statin-associated-imnm",
    "juvenile-dm-management",
    "refractory-dm-skin",
    "ibm-care",
]

BOOK = build_model(ROOT)


def ids(kind):
    return {r.id for r in BOOK.kind(kind)}


def test_named_records_exist():
    for kind, wanted in [
        ("subtype", SUBTYPES),
        ("criteria", CRITERIA),
        ("autoantibody", ANTIBODIES),
        ("therapy", THERAPIES),
        ("topic", TOPICS),
    ]:
        assert set(wanted) <= ids(kind), (kind, sorted(set(wanted) - ids(kind)))


def test_every_record_cites_a_reference_or_a_registry():
    for record in BOOK.records:
        assert record.data.get("citations") or record.data.get("registry_ids"), record.path


def test_every_therapy_has_a_study_or_says_why():
    for therapy in BOOK.kind("therapy"):
        assert BOOK.studies_of_therapy(therapy.id) or therapy.data.get("no_studies_reason"), therapy.id


def test_every_completed_study_has_design_n_endpoint_and_result():
    for study in BOOK.kind("study"):
        d = study.data
        assert d["design"] and d["n"] and d["primary_endpoint"], study.id
        if d["trial_status"] == "completed" and d.get("primary_endpoint_met") != "pending":
            assert d.get("results"), study.id


def test_both_source_reviews_are_mapped():
    assert {"sato-2020", "raaphorst-2025"} <= ids("source-review")


def test_guidelines_recommendations_and_pipeline():
    assert len(BOOK.kind("guideline")) >= 3 and len(BOOK.kind("recommendation")) >= 20
    assert len(BOOK.pipeline()) >= 10


# Titles that mark a secondary source (review, guideline, consensus, criteria) rather than primary evidence.
SECONDARY_TITLE = re.compile(
    r"review|meta-analys|guideline|consensus|recommendation|advances|update|criteria|state of the art|emerging"
    r"|perspective|current |points to consider|management of",
    re.IGNORECASE,
)


def _primary_sources(record_id):
    """Study records and primary journal papers a reader reaches from one mapped record."""
    record = BOOK.by_id[record_id]
    found = set()
    if record.kind == "study":
        found.add("study:" + record_id)
    elif record.kind == "therapy":
        found |= {"study:" + s.id for s in BOOK.studies_of_therapy(record_id)}
    elif record.kind == "subtype":
        found |= {"study:" + s.id for s in BOOK.studies_in_subtype(record_id)}
    for key in BOOK.cited_on_page(record):
        entry = BOOK.bibliography.entries.get(key)
        if entry is None or (entry.fields.get("kind", "").strip() or "article") != "article":
            continue
        if not SECONDARY_TITLE.search(entry.fields.get("title", "")):
            found.add(key)
    return found


def test_every_seed_topic_reaches_two_primary_sources():
    thin = []
    for review in ("sato-2020", "raaphorst-2025"):
        for topic in BOOK.by_id[review].data["topics"]:
            sources = set().union(*(_primary_sources(r) for r in topic["records"]))
            if len(sources) < 2:
                thin.append((review, topic["topic"], sorted(sources)))
    assert not thin, thin
