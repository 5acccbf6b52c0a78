"""Search built for clinical questions (issue 17): synonyms, ranking, highlighting, the question bank."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, Visit, make_project, pagefind_pages, run, served, site_steps

from generators import search
from generators import steps as steps_module
from generators.adapters import fragment_paths

QUESTIONS = yaml.safe_load((Path(__file__).parent / "search" / "questions.yaml").read_text(encoding="utf-8"))
VIEWPORT = {"width": 1280, "height": 900}


# --- the synonyms file ------------------------------------------------------------------------


def synonyms() -> search.Synonyms:
    search.load_synonyms.cache_clear()
    return search.load_synonyms(ROOT)


def test_synonyms_file_is_valid():
    assert search.problems(yaml.safe_load((ROOT / search.SYNONYMS_FILE).read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize(
    "text,finds",
    [
        ("Glucocorticoids", ["prednisolone", "prednisone", "steroid"]),
        ("oral prednisolone 1 mg/kg", ["glucocorticoid", "prednisone", "steroids"]),
        ("CD19-targeting CAR T-cell therapy", ["chimeric antigen receptor", "cart"]),
        ("chimeric antigen receptor T cells", ["car t"]),
        ("Baricitinib", ["jak inhibitor", "jaki"]),
        ("IVIg", ["intravenous immunoglobulin", "immune globulin"]),
        ("intravenous immunoglobulin", ["ivig"]),
        ("oesophageal dysmotility", ["esophageal"]),
        ("a randomised trial", ["randomized"]),
        ("haematological cancer", ["hematological"]),
        ("tumour", ["tumor"]),
        ("paediatric", ["pediatric"]),
        ("necrotising myopathy", ["necrotizing myopathy", "imnm"]),
    ],
)
def test_synonyms_and_spellings_expand(text, finds):
    extra = synonyms().expand(text)
    for term in finds:
        assert term in extra, (text, extra)


def test_a_drug_is_found_by_its_class_not_by_the_other_drugs_of_its_class():
    assert "tofacitinib" not in synonyms().expand("Baricitinib")
    assert "baricitinib" not in synonyms().expand("JAK inhibitor")


def test_spelling_back_to_british_only_at_the_start_of_a_word():
    extra = synonyms().expand("chemotherapy and them; hematology")
    assert "haematology" in extra
    assert not any("chaem" in t or "thaem" in t for t in extra), extra


def test_a_word_in_two_groups_is_refused():
    found = search.problems({"groups": [["IVIG", "immunoglobulin"], ["immunoglobulin", "SCIG"]], "spellings": [["oe", "e"]]})
    assert any("'immunoglobulin' is in group 1 and group 2" in p for p in found)
    assert any("spelling 1" in p for p in found)


def test_a_bad_synonyms_file_stops_the_build_with_its_name(project):
    from conftest import build

    (project / search.SYNONYMS_FILE).write_text("groups:\n  - [steroid]\n", encoding="utf-8")
    result = build(project)
    assert result.returncode != 0
    assert "search-synonyms.yaml:1: group 1 must list at least two words" in result.stderr  # stopped by the build, before any HTML


# --- the index ---------------------------------------------------------------------------------
# The served site's index is Pagefind's (generators/search_pagefind.py); the offline copy keeps
# Material's lunr index with the same words (tests/test_offline.py).


@pytest.fixture(scope="module")
def pages(handbook_site):
    return pagefind_pages(handbook_site)


def keys(page) -> set[str]:
    return {w for name, value in page["meta"].items() if re.fullmatch(r"k[\d_]+", name) for w in value.split()}


def test_index_holds_aliases_synonyms_and_registry_ids_in_hidden_fields(pages, handbook_site):
    gluco = pages["/therapies/glucocorticoids/"]
    assert {"prednisolone", "steroid", "corticosteroid"} <= keys(gluco)
    assert {"chimeric", "antigen", "receptor"} <= keys(pages["/therapies/cd19-car-t/"])
    assert "nct06152172" in keys(pages["/studies/cartimmune/"])
    # synonyms and spellings, of the page and of its sections ("Dosing as studied" is found by "dosage")
    assert "dosage" in gluco["meta"]["syn"].split()
    assert "esophageal" in pages["/topics/dysphagia/"]["meta"]["syn"].split()
    assert "esophageal" not in re.findall(r"\w+", pages["/topics/dysphagia/"]["content"].lower())  # the page says oesophageal
    # keys and synonyms are searched, never shown: a result's excerpt comes from the page's own text
    assert gluco["content"].startswith("Glucocorticoids (oral prednisone/prednisolone")
    assert "corticosteroid" not in gluco["content"].split("Also known as")[0]
    # readers and screen readers never see the extra words
    html = (handbook_site / "therapies" / "glucocorticoids" / "index.html").read_text(encoding="utf-8")
    assert "search_keys" not in html and "data-pagefind-meta" not in html
    assert "corticosteroid" not in html.split("<article")[1].split("Also known as")[0]
    # and no page downloads the full lunr index: Material reads only its configuration
    served = json.loads((handbook_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert served["docs"] == [] and served["config"]["pagefind"]["pages"] == len(pages)


def test_reference_lists_are_not_indexed_on_every_page_that_cites_them(pages, handbook_site):
    """A page's footnoted reference list is left out of its Pagefind entry (smaller fragments, less
    memory): a reference is found on the references pages, not on each page citing it."""
    title = "Consensus-based recommendations for the management of juvenile dermatomyositis"
    html = (handbook_site / "therapies" / "glucocorticoids" / "index.html").read_text(encoding="utf-8")
    assert title in html.split('<div class="footnote">')[1]  # the glucocorticoid page cites it
    assert [url for url, page in pages.items() if title in page["content"]] == ["/references/b/"]
    assert "Dosing as studied" in pages["/therapies/glucocorticoids/"]["content"]  # the page's own text stays


def test_page_boosts_follow_the_kind_of_page(pages):
    def boost(url):
        return float(pages[url]["meta"]["boost"])

    assert boost("/therapies/glucocorticoids/") > boost("/therapies/low-dose-interleukin-2/")
    assert boost("/subtypes/dermatomyositis/") > 1
    assert boost("/studies/proderm/") == 1
    assert boost("/references/") < 1
    # a superseded criteria set comes after the one that replaced it
    assert boost("/criteria/enmc-ibm-2011/") < boost("/criteria/enmc-ibm-2024/")
    # title and keys are weighted by the boost (Pagefind's meta weights, read by search.js)
    assert "k4" in pages["/therapies/glucocorticoids/"]["meta"] and "k1" in pages["/studies/proderm/"]["meta"]


# --- in the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(handbook_site):
    with served(handbook_site) as url:
        yield url


@pytest.fixture(scope="module")
def tab(chromium, base):
    """One tab that stays on the home page and searches (its index is loaded once), and one that opens
    the hits without loading the index again (it is not needed to read a page)."""
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/")
    reader = context.new_page()
    reader.route("**/search/search_index.json", lambda route: route.abort())
    yield page, reader, errors
    context.close()


def search_box(page, text: str) -> list[str]:
    """Type into the site's own search box as a reader does; the result links, best first.

    The search runs on each key released; the words but the last letter are filled in at once, so
    the worker answers one query, not one per letter (the bank stays within minutes)."""
    page.keyboard.press("/")
    box = page.locator(".md-search__input")
    box.fill(text[:-1])
    page.evaluate(
        "() => { window.__changed = 0; window.__typed = performance.now(); if (!window.__watching) { window.__watching = true;"
        " new MutationObserver(() => { window.__changed = performance.now(); })"
        ".observe(document.querySelector('.md-search-result'), {childList: true, subtree: true, characterData: true}); } }"
    )
    page.keyboard.type(text[-1])
    page.wait_for_function(
        "q => { const m = document.querySelector('.md-search-result__meta');"
        " return document.querySelector('.md-search__input').value === q && m && !/Initializing|Type to start/i.test(m.textContent)"
        " && window.__changed > window.__typed && performance.now() - window.__changed > 400; }",
        arg=text,
        timeout=30000,
        polling=100,
    )
    return page.eval_on_selector_all(".md-search-result__item > .md-search-result__link", "links => links.map(a => a.href)")


ON_SCREEN = """([answer, source]) => {
  const cited = source === 'registry' ? el => /NCT\\d{8}/.test(el.textContent) : el => el.querySelector('sup[id^="fnref"]');
  const blocks = [...document.querySelectorAll('article p, article li, article td')].filter(cited);
  const block = answer ? blocks.find(el => el.textContent.includes(answer)) : blocks[0];
  if (!block) return 'no cited sentence' + (answer ? ' with ' + JSON.stringify(answer) : '');
  const box = block.getBoundingClientRect();
  return box.top >= 0 && box.top < window.innerHeight - 20 ? '' : 'below the fold at y=' + Math.round(box.top);
}"""


def ask(page, reader, base: str, question: dict) -> str:
    """'' when the question lands on its page with its answer on screen; else what went wrong."""
    links = search_box(page, question["type"])
    want = f"{base}/{question['page']}"
    if not links or links[0].split("?")[0] != want:
        return f"{question['type']!r}: first hit {[link.split('?')[0].removeprefix(base) for link in links[:3]]}, want /{question['page']}"
    reader.goto(links[0])  # the first hit's own link, as the reader follows it
    problem = reader.evaluate(ON_SCREEN, [question.get("answer"), question.get("source")])
    return f"{question['type']!r} on /{question['page']}: {problem}" if problem else ""


def test_question_bank_is_large_and_covers_the_clinic():
    assert len(QUESTIONS) >= 50
    assert len({q["type"].casefold() for q in QUESTIONS}) == len(QUESTIONS)
    for q in QUESTIONS:
        assert set(q) <= {"ask", "type", "page", "answer", "source"} and q["page"].endswith("/"), q


def test_every_question_lands_on_its_answer(tab, base, handbook_site):
    page, reader, errors = tab
    missing = [q["page"] for q in QUESTIONS if not (handbook_site / q["page"] / "index.html").exists()]
    assert missing == []
    failures = [problem for q in QUESTIONS if (problem := ask(page, reader, base, q))]
    assert failures == [], f"{len(failures)} of {len(QUESTIONS)} questions:\n" + "\n".join(failures)
    assert errors == []


def test_single_letters_and_stop_words_are_never_highlighted(tab, base):
    page, _, _ = tab
    page.goto(f"{base}/")
    search_box(page, "CAR T")
    marks = page.eval_on_selector_all(".md-search-result mark", "ms => ms.map(m => m.textContent)")
    assert marks and all(m.lower().startswith("car") for m in marks), marks
    link = page.locator(".md-search-result__item > .md-search-result__link").first
    assert link.get_attribute("href").endswith("?h=car")
    link.click()
    page.wait_for_load_state("load")
    page.wait_for_selector("mark[data-md-highlight]")
    page.wait_for_timeout(200)
    marked = page.eval_on_selector_all("mark[data-md-highlight]", "ms => ms.map(m => m.textContent)")
    assert marked and {m.lower() for m in marked} == {"car"}, marked
    # stop words and single letters do not reach the search at all
    assert page.evaluate("handbookSearchQuery('what is the dose of CAR T')") == "dose^10 dose car^10 car t^1"


# --- Pagefind on the served site, Material's worker elsewhere ---------------------------------------


def test_served_pages_search_with_pagefind_and_never_download_the_full_index(chromium, base, handbook_site):
    assert (handbook_site / "search" / "search_index.json").stat().st_size < 4096  # configuration only
    visit = Visit(chromium, f"{base}/studies/")
    try:
        assert visit.search("myositis")
        assert any(url.endswith("/pagefind/pagefind.js") for url in visit.requests)
        assert any("/pagefind/fragment/" in url for url in visit.requests)
        assert not any(url.endswith("search_index.js") for url in visit.requests)
        # Material is given the results loaded (10); the reader is told how many matched
        meta = visit.page.inner_text(".md-search-result__meta")
        total = int(re.search(r"[\d,]+", meta).group().replace(",", ""))
        shown = visit.page.locator(".md-search-result__item").count()
        assert shown <= 10 < total, (meta, shown)
        assert visit.errors == []
    finally:
        visit.close()


def test_result_cards_hold_every_page_and_none_of_its_text(handbook_site):
    folder = handbook_site / "pagefind"
    fragments = [p.stem for p in fragment_paths(folder)]
    config = json.loads((handbook_site / "search" / "search_index.json").read_text(encoding="utf-8"))["config"]["pagefind"]
    assert config["cards"] == "pagefind/cards.json"
    cards = json.loads((folder / "cards.json").read_text(encoding="utf-8"))
    assert fragments and sorted(cards) == fragments
    proderm = [card for card in cards.values() if card["url"] == "/studies/proderm/"]
    assert len(proderm) == 1 and proderm[0]["meta"]["title"].startswith("ProDERM"), proderm
    for card in cards.values():  # what ranks and titles a result, not the page's text nor its synonyms
        assert set(card) == {"url", "meta"} and "title" in card["meta"] and "boost" in card["meta"], card
        assert all(re.fullmatch(r"title|boost|[tk][\d_]+", field) for field in card["meta"]), card


def test_first_results_are_titled_from_the_cards_before_the_pages_text_arrives(chromium, base):
    """The first list needs only the result cards, loaded when the reader opens the search box: the
    right first hit, titled, while the pages' fragments (their whole text) are still on their way;
    their excerpts and sections follow."""
    visit = Visit(chromium, "about:blank")
    held = []
    try:
        visit.page.route("**/pagefind/fragment/**", lambda route: held.append(route))
        visit.page.goto(f"{base}/")
        visit.page.wait_for_load_state("networkidle")
        assert not any("/pagefind/cards.json" in url for url in visit.requests)  # a page read, not searched
        links = visit.search("ProDERM")
        assert links and links[0].split("?")[0].endswith("/studies/proderm/"), links
        assert any(url.endswith("/pagefind/cards.json") for url in visit.requests)
        first = visit.page.locator(".md-search-result__item").first
        assert "ProDERM" in first.inner_text() and first.locator("mark").count() == 0  # a title, no excerpt yet
        visit.page.wait_for_timeout(300)
        assert held and visit.page.locator(".md-search-result mark").count() == 0
        for route in held:
            route.continue_()
        visit.page.wait_for_selector(".md-search-result__item mark", timeout=15000)  # the excerpts, highlighted
        assert visit.page.locator(".md-search-result__link").first.get_attribute("href").split("?")[0].endswith("/studies/proderm/")
        assert visit.errors == []
    finally:
        visit.close()


def test_without_its_result_cards_search_waits_for_the_pages(chromium, base):
    visit = Visit(chromium, "about:blank")
    try:
        visit.page.route("**/pagefind/cards.json", lambda route: route.abort())
        visit.page.goto(f"{base}/")
        links = visit.search("ProDERM")
        assert links and links[0].split("?")[0].endswith("/studies/proderm/"), links
        assert any("/pagefind/fragment/" in url for url in visit.requests)
        visit.page.wait_for_selector(".md-search-result__item mark", timeout=15000)
        assert all("Failed to load resource" in e for e in visit.errors), visit.errors  # the refused file only
    finally:
        visit.close()


@pytest.fixture(scope="module")
def unindexed_site(tmp_path_factory):
    """The fixture project built up to Material's rewritten index, without the Pagefind step."""
    project = make_project(tmp_path_factory.mktemp("unindexed") / "project")
    steps = site_steps(project, project / "site", project / "build")
    names = [name for name, _ in steps_module.site_steps(project, project / "build", project / "site")]
    assert names[4] == "search pagefind"  # the steps before it: build, pdf, mkdocs build, search-index
    for step in [steps[0], steps[2], steps[3]]:  # all but the PDF
        result = run(step, project)
        assert result.returncode == 0, result.stderr
    return project / "site"


def test_without_a_pagefind_index_materials_own_search_answers(chromium, unindexed_site):
    """A site built without the Pagefind step (pagefind.js cannot be loaded): Material's lunr worker
    answers from the full index, as make serve's preview does (which never asks for Pagefind)."""
    assert not (unindexed_site / "pagefind").exists()
    with served(unindexed_site) as url:
        visit = Visit(chromium, f"{url}/")
        try:
            links = visit.search("FixTrial")
            assert links and "/studies/fixture-trial/" in links[0], links
            assert any(u.endswith("/pagefind/pagefind.js") for u in visit.requests)  # tried, and was not there
        finally:
            visit.close()


def test_when_pagefind_cannot_load_materials_search_answers_from_the_full_index(chromium, base, handbook_site):
    """The served site with pagefind.js failing to load (a blocked script, an old browser): Material's
    own search answers from the full index kept beside the served configuration."""
    assert (handbook_site / "search" / "search_index.full.json").stat().st_size > 100_000
    visit = Visit(chromium, "about:blank")
    try:
        visit.page.route("**/pagefind/**", lambda route: route.abort())
        visit.page.goto(f"{base}/")
        links = visit.search("ProDERM")
        assert links and "studies/proderm/" in links[0], links
        assert any(u.endswith("/search/search_index.full.json") for u in visit.requests)
    finally:
        visit.close()


def test_served_pages_never_fetch_the_full_index_while_pagefind_answers(chromium, base):
    visit = Visit(chromium, f"{base}/")
    try:
        assert visit.search("ProDERM")
        assert not any("search_index.full.json" in u for u in visit.requests)
    finally:
        visit.close()


def test_pagefind_step_is_byte_identical_and_fails_loudly(unindexed_site, tmp_path, monkeypatch):
    def step(site):
        return run(["-m", "generators", "search-pagefind", str(site)], ROOT)

    copies = []
    for name in ("one", "two"):
        copies.append(tmp_path / name)
        shutil.copytree(unindexed_site, copies[-1])
        result = step(copies[-1])
        assert result.returncode == 0, result.stderr
    files = sorted(p.relative_to(copies[0]) for p in (copies[0] / "pagefind").rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(copies[1]) for p in (copies[1] / "pagefind").rglob("*") if p.is_file())
    kept = [Path("search/search_index.json"), Path("search/search_index.full.json")]
    assert all((copies[0] / f).read_bytes() == (copies[1] / f).read_bytes() for f in [*files, *kept])
    # a file left incomplete is found (the service once stopped before writing pagefind.js)
    from generators.search_pagefind import PagefindError, check_output

    pages = len(list((copies[1] / "pagefind" / "fragment").iterdir()))
    check_output(copies[1] / "pagefind", pages)
    # a page without its result card is found too
    cards = copies[1] / "pagefind" / "cards.json"
    kept_cards = cards.read_bytes()
    held = json.loads(kept_cards)
    held.pop(sorted(held)[0])
    cards.write_text(json.dumps(held), encoding="utf-8")
    with pytest.raises(PagefindError, match=rf"{pages - 1} result cards for {pages} page fragments"):
        check_output(copies[1] / "pagefind", pages)
    cards.write_bytes(kept_cards)
    (copies[1] / "pagefind" / "pagefind.js").write_bytes(b"")
    with pytest.raises(PagefindError, match="left pagefind.js empty"):
        check_output(copies[1] / "pagefind", pages)
    # run twice on the same site: the full index is gone, and the step says so
    again = step(copies[0])
    assert again.returncode != 0 and "lists no pages" in again.stderr
    # Pagefind failing: a non-zero exit, a message, and the site as it was (no half-written index)
    broken = tmp_path / "broken"
    shutil.copytree(unindexed_site, broken)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", shutil.which("false") or "/bin/false")
    result = step(broken)
    assert result.returncode != 0
    assert "error: the Pagefind search index was not built: Pagefind" in result.stderr, result.stderr
    assert not (broken / "pagefind").exists() and not (broken / "pagefind.part").exists()
    assert (broken / "search" / "search_index.json").read_bytes() == (unindexed_site / "search" / "search_index.json").read_bytes()
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-such-program"))
    missing = step(broken)
    assert missing.returncode != 0 and "the pagefind program could not be started" in missing.stderr
