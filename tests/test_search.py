"""Search built for clinical questions (issue 17): synonyms, ranking, highlighting, the question bank."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, served

from generators import search

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
    assert "search-synonyms.yaml: group 1 must list at least two words" in result.stdout + result.stderr


# --- the index --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def index(handbook_site):
    return json.loads((handbook_site / "search" / "search_index.json").read_text(encoding="utf-8"))


def doc(index, location):
    return next(d for d in index["docs"] if d["location"] == location)


def test_index_holds_aliases_synonyms_and_registry_ids_in_hidden_fields(index, handbook_site):
    assert index["config"]["fields"]["keys"]["boost"] == index["config"]["fields"]["title"]["boost"]
    gluco = doc(index, "therapies/glucocorticoids/")
    assert {"prednisolone", "steroid", "corticosteroid"} <= set(gluco["keys"].split())
    assert {"chimeric", "antigen", "receptor"} <= set(doc(index, "therapies/cd19-car-t/")["keys"].split())
    assert "nct06152172" in doc(index, "studies/cartimmune/")["keys"].split()
    # the preview starts with the summary, not the list of aliases
    assert not doc(index, "therapies/cd19-car-t/")["text"].startswith("<p>Also known as")
    # readers and screen readers never see the extra words
    html = (handbook_site / "therapies" / "glucocorticoids" / "index.html").read_text(encoding="utf-8")
    assert "search_keys" not in html and "corticosteroid" not in html.split("<article")[1].split("Also known as")[0]


def test_page_boosts_follow_the_kind_of_page(index):
    assert doc(index, "therapies/glucocorticoids/")["boost"] > doc(index, "therapies/low-dose-interleukin-2/")["boost"]
    assert doc(index, "subtypes/dermatomyositis/")["boost"] > 1
    assert "boost" not in doc(index, "studies/proderm/")
    assert doc(index, "references/")["boost"] < 1


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
