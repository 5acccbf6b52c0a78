"""The built site, as a reader sees it."""

import hashlib
import html as html_text
import re

from conftest import build, edit, edited_site, make_project, pagefind_pages


def page(site, rel):
    return (site / rel / "index.html").read_text(encoding="utf-8")


def test_therapy_page_shows_its_study_table_with_numbers_and_linked_citations(fixture_site):
    html = page(fixture_site, "therapies/ivig")
    table = html[html.index('<h2 id="studies"') :]
    assert "FIXTRIAL" in table
    assert "79% vs 44% responded (P&lt;0.001)." in table or "79% vs 44% responded (P&#60;0.001)." in table
    assert ">95 randomised<" in table or "95 randomised" in table
    # numbered citation linked to the reference at the foot of the page
    match = re.search(r'<a class="footnote-ref" href="#fn:trialist2021">(\d+)</a>', html)
    assert match, "citation mark missing"
    # the reference reads as on the reference pages and in the PDF: Vancouver style, then its PubMed link
    footnote = re.search(r'<li id="fn:trialist2021">(.*?)</li>', html, re.S).group(1)
    assert "Trialist C. A fixture randomised trial. Journal of Test Data. 2021;2:11\u201320." in footnote
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/10000002/">PMID 10000002</a>' in footnote
    # the evidence summary is derived from the study
    assert "Randomised controlled (positive)" in html


def test_every_record_has_a_page_and_every_page_the_disclaimer(fixture_site):
    for rel in [
        "subtypes/dermatomyositis",
        "autoantibodies/anti-mda5",
        "therapies/ivig",
        "studies/fixture-trial",
        "guidelines/fixture-guideline",
        "outcome-measures/total-improvement-score",
        "topics/fixture-topic",
        "criteria/fixture-criteria",
        "source-reviews/fixture-review",
        "references",
        "views/evidence-map",
    ]:
        html = page(fixture_site, rel)
        assert "Not medical advice" in html, rel


def test_backlinks_are_derived_not_typed(fixture_site):
    subtype = page(fixture_site, "subtypes/dermatomyositis")
    assert "Anti-MDA5 antibody" in subtype  # the antibody names the subtype, the subtype lists it
    assert "Fixture criteria" in subtype
    guideline = page(fixture_site, "guidelines/fixture-guideline")
    assert "Consider IVIG in refractory fixture disease." in guideline and "conditional" in guideline


def test_references_pages_list_entries_with_links_and_citing_pages(fixture_site):
    index = page(fixture_site, "references")
    letters = sorted(p.name for p in (fixture_site / "references").iterdir() if p.is_dir())
    assert letters and all(f'href="{letter}/"' in index for letter in letters)  # one page per letter
    html = " ".join(page(fixture_site, f"references/{letter}") for letter in letters)
    assert 'href="https://doi.org/10.0000/fixture.2020"' in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/10000002/"' in html
    assert "Fixture randomised trial of IVIG" in html


def test_search_index_holds_records_and_aliases(fixture_site):
    """A record's acronym and aliases are in its page's `keys` meta field of the served site's Pagefind
    index (weighted like the title), as the lower-case words the search matches (generators/search.py,
    generators/search_pagefind.py)."""
    pages = pagefind_pages(fixture_site)
    keys = {url: " ".join(v for k, v in page["meta"].items() if k.startswith("k")) for url, page in pages.items()}
    assert "fixtrial" in keys["/studies/fixture-trial/"].split()
    assert "cadm 140" in keys["/autoantibodies/anti-mda5/"]


def test_script_in_a_record_is_inert_in_the_html(tmp_path):
    payload = "summary: '<script>alert(\"x\")</script> [evil](javascript:alert(1)) **loud**'"
    html = page(
        edited_site(make_project(tmp_path / "p"), ("evidence/therapy/ivig.yaml", "summary: A fixture therapy.", payload)), "therapies/ivig"
    )
    assert "<script>alert" not in html and 'href="javascript:' not in html and "<strong>loud" not in html
    assert "&lt;script&gt;alert" in html or "&#60;script&#62;alert" in html


def test_broken_record_fails_the_build_with_file_and_line_and_writes_nothing(tmp_path):
    project = make_project(tmp_path / "p")
    edit(project, "evidence/study/fixture-trial.yaml", "therapies: [ivig]", "therapies: [ivig]\n    cite: [nosuch2020]")
    result = build(project)
    assert result.returncode != 0
    assert "evidence/study/fixture-trial.yaml:" in result.stdout + result.stderr
    assert not (project / "site").exists() and not (project / "build").exists()


def test_unknown_citation_key_names_the_record_file(tmp_path):
    project = make_project(tmp_path / "p")
    edit(project, "evidence/topic/fixture-topic.yaml", "cite: [fixture2020]", "cite: [nosuch2020]")
    result = build(project)
    assert result.returncode != 0
    assert 'evidence/topic/fixture-topic.yaml:12: sections[0].statements[0].cite[0]: cites "nosuch2020"' in result.stdout + result.stderr


def _digest(site):
    digest = hashlib.sha256()
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        digest.update(path.relative_to(site).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_build_is_byte_identical_when_run_twice(tmp_path):
    project = make_project(tmp_path / "p")
    assert build(project, "one").returncode == 0
    assert build(project, "two").returncode == 0
    assert (project / "one" / "pagefind" / "pagefind-entry.json").exists()  # the Pagefind index too
    assert _digest(project / "one") == _digest(project / "two")


def test_edit_button_opens_the_yaml_record_and_pages_made_from_many_records_have_none(fixture_site):
    assert re.search(
        r'href="https://github\.com/[^"]+/blob/main/evidence/therapy/ivig\.yaml" title="Edit this page"',
        page(fixture_site, "therapies/ivig"),
    )
    assert re.search(r'href="[^"]+/blob/main/docs/about\.md" title="Edit this page"', page(fixture_site, "about"))
    assert 'title="Edit this page"' not in page(fixture_site, "studies")
    assert 'title="Edit this page"' not in page(fixture_site, "references")
    # generated pages go to build/docs, never into the hand-written docs/
    assert (fixture_site.parent / "build" / "docs" / "therapies" / "ivig.md").exists()
    assert not (fixture_site.parent / "docs" / "therapies").exists()


def test_a_trial_withdrawn_from_its_registry_stays_on_its_pages(project):
    """trial_status: withdrawn is the registry's word; the record stays current and shown."""
    site = edited_site(
        project, ("evidence/study/fixture-trial.yaml", "trial_status: completed", "trial_status: withdrawn\nstatus_checked: 2026-01-15")
    )
    study, therapy = page(site, "studies/fixture-trial"), page(site, "therapies/ivig")
    assert "Fixture randomised trial of IVIG" in study
    assert "Withdrawn (registry read 2026-01-15)" in study
    assert "FIXTRIAL" in therapy


def test_a_finding_shows_where_in_its_source_it_stands_and_when_it_was_checked(fixture_site):
    html = page(fixture_site, "studies/fixture-trial")
    row = html[html.index("79% vs 44% responded") :]
    row = row[: row.index("</tr>")]
    # the citation mark, then the place in the source as a button whose note names the source and the check date
    assert re.search(r'<a class="footnote-ref" href="#fn:trialist2021">\d+</a></sup><span class="locator">', row), row
    button = re.search(
        r'<button type="button" class="locator-toggle" aria-expanded="false" aria-describedby="(locator-\d+)">Table 2</button>', row
    )
    assert button, row
    tip = re.search(rf'<span class="locator-tip" id="{button.group(1)}" role="tooltip">(.*?)</span>', row).group(1)
    assert tip == "Where this stands in Trialist 2021: Table 2. Checked against the source on 2024-05-02."
    assert (
        "Abstract</span>; checked against the source on 2024-05-02" in row.split("</td>")[1]
    )  # the Source column, visible without the note


def test_a_correction_published_after_the_check_shows_not_re_checked_since(tmp_path):
    notice = ("references.bib", "@article{trialist2021,", "@article{trialist2021,\n  correction = {2025-02-03, doi:10.1000/fix.1},")
    site = edited_site(make_project(tmp_path / "p"), notice)
    html = page(site, "studies/fixture-trial")
    expected = "not re-checked since 2024-05-02:</strong> a correction of Trialist 2021 was published on 2025-02-03"
    assert expected in html
    review = page(site, "maintainers/review")
    assert "fixture-trial" in review and "a correction of Trialist 2021 was published on 2025-02-03" in review


def test_a_locator_is_shown_as_text_never_as_markup(tmp_path):
    markup = ("evidence/study/fixture-trial.yaml", "locator: Table 2", "locator: '*Table* 2 & `x` \"q\"'")
    html = page(edited_site(make_project(tmp_path / "p"), markup), "studies/fixture-trial")
    assert "<em>Table</em>" not in html and "<code>x</code>" not in html
    shown = re.search(r'class="locator-toggle"[^>]*>(.*?)</button>', html).group(1)
    assert "<" not in shown and html_text.unescape(shown) == '*Table* 2 & `x` "q"'


def test_a_statement_may_say_where_in_its_source_it_stands(tmp_path):
    dated = "      cite: [fixture2020]\n      locator: label section 5.1\n      checked: 2026-01-10\n"
    site = edited_site(make_project(tmp_path / "p"), ("evidence/therapy/ivig.yaml", "      cite: [fixture2020]\n", dated))
    html = page(site, "therapies/ivig")
    assert re.search(r'<button type="button" class="locator-toggle"[^>]*>label section 5\.1</button>', html)
    assert "section 5.1. Checked against the source on 2026-01-10.</span>" in html
    # beside its citation in the safety list
    assert re.search(r'<li>Fixture adverse events\. <sup id="fnref\d*:fixture2020">.*?</sup><span class="locator"><button', html)
