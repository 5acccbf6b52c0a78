"""WCAG 2.2 AA checks of the real handbook with axe-core, in both colour schemes, and by keyboard.

axe-core comes from the pinned PyPI package axe-playwright-python (it ships axe.min.js), so the
test needs no network. One page of every kind of page is checked, in the light and the dark
scheme; any critical or serious violation fails the test and is listed with the elements it hit.
"""

from __future__ import annotations

from importlib import resources

import pytest
from conftest import Visit, served

# One page of every kind a reader meets (the calculators are on the criteria and TIS pages).
PAGES = [
    "/",
    "/subtypes/dermatomyositis/",
    "/autoantibodies/anti-mda5/",
    "/therapies/ivig/",
    "/studies/proderm/",
    "/criteria/eular-acr-2017/",
    "/guidelines/acr-chest-2023-ild-treatment/",
    "/topics/anti-mda5-rp-ild/",
    "/outcome-measures/total-improvement-score/",
    "/views/evidence-map/",
    "/views/antibodies/",
    "/views/pipeline/",
    "/views/concordance/",
    "/questions/first-steroid-sparing-agent-adult/",
    "/classes/jak-inhibitors/",
    "/references/",
    "/about/",
]
SCHEMES = {"light": "default", "dark": "slate"}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@pytest.fixture(scope="module")
def axe_source() -> str:
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def base(handbook_site):
    with served(handbook_site) as url:
        yield url


def open_in_scheme(chromium, url: str, scheme: str, **options) -> Visit:
    """The page for a reader whose system asks for this scheme: Material's palette follows
    prefers-color-scheme (the media queries in mkdocs.yml) until the reader uses the toggle."""
    visit = Visit(chromium, url, color_scheme="dark" if scheme == "dark" else "light", **options)
    visit.page.wait_for_load_state("load")
    visit.page.wait_for_function(
        "scheme => document.body.getAttribute('data-md-color-scheme') === scheme", arg=SCHEMES[scheme], timeout=10000
    )
    return visit


def serious_violations(page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    found = []
    for violation in result["violations"]:
        if violation["impact"] not in ("critical", "serious"):
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        detail = violation["nodes"][0].get("failureSummary", "").replace("\n", " ")[:300]
        found.append(f"{violation['id']} ({violation['impact']}, {len(targets)} nodes: {targets[:4]}): {detail}")
    return found


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violations(chromium, base, axe_source, path, scheme):
    visit = open_in_scheme(chromium, f"{base}{path}", scheme)
    try:
        found = serious_violations(visit.page, axe_source)
        assert found == [], f"{path} ({scheme}):\n" + "\n".join(found)
    finally:
        visit.close()


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_search_dialog_has_a_name(chromium, base, axe_source, scheme):
    visit = open_in_scheme(chromium, f"{base}/", scheme)
    try:
        page = visit.page
        page.keyboard.press("/")
        page.keyboard.type("ProDERM")
        page.wait_for_selector(".md-search-result__item", timeout=15000)
        dialog = page.locator("[role=dialog]").first
        assert dialog.get_attribute("aria-label") or dialog.get_attribute("aria-labelledby")
        found = serious_violations(page, axe_source)
        assert found == [], "\n".join(found)
    finally:
        visit.close()


FOCUS_RING = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {tag: el.tagName, text: (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 60),
          href: el.getAttribute('href') || '', outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
}"""


def tab_until(page, wanted, limit: int = 400) -> dict:
    """Press Tab until the focused element matches `wanted` (a JS predicate on document.activeElement)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {wanted})(document.activeElement)"):
            return page.evaluate(FOCUS_RING)
    raise AssertionError(f"Tab never reached {wanted}")


def assert_visible_focus(focused: dict) -> None:
    assert focused["outline"] not in ("none", "") and focused["width"] >= 2, f"focus is not visible on {focused}"


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_search_by_keyboard(chromium, base, scheme):
    visit = open_in_scheme(chromium, f"{base}/", scheme)
    try:
        page = visit.page
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.classList.contains('md-search__input')")
        assert_visible_focus(page.evaluate(FOCUS_RING))
        page.keyboard.type("ProDERM")
        page.wait_for_selector(".md-search-result__item", timeout=15000)
        page.keyboard.press("ArrowDown")
        focused = page.evaluate(FOCUS_RING)
        assert "/studies/proderm/" in focused["href"], focused
        page.keyboard.press("Enter")
        page.wait_for_url("**/studies/proderm/**")
        assert "ProDERM" in page.locator("h1").first.inner_text()
    finally:
        visit.close()


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_antibody_explorer_by_keyboard(chromium, base, scheme):
    visit = open_in_scheme(chromium, f"{base}/views/antibodies/", scheme)
    try:
        page = visit.page
        assert page.get_by_text("Filter the table", exact=True).is_visible()  # a visible label, not a placeholder
        assert_visible_focus(tab_until(page, "el.matches('.explorer-controls input')"))
        page.keyboard.type("MDA5")
        rows = page.eval_on_selector_all("div.explorer tbody tr:not([hidden])", "rows => rows.map(r => r.cells[0].textContent.trim())")
        assert "Anti-MDA5 antibody" in rows and len(rows) < 5, rows
        page.keyboard.press("Control+a")
        page.keyboard.press("Backspace")
        focused = tab_until(page, "el.matches('.explorer-sort')")
        assert_visible_focus(focused)
        page.keyboard.press("Enter")
        assert page.locator('.explorer th[aria-sort="ascending"]').count() == 1
        assert visit.errors == []
    finally:
        visit.close()


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_evidence_map_by_keyboard(chromium, base, scheme):
    visit = open_in_scheme(chromium, f"{base}/views/evidence-map/", scheme)
    try:
        page = visit.page
        focused = tab_until(page, "el.matches('article table a[href*=\"studies/\"]')")
        assert_visible_focus(focused)
        page.keyboard.press("Enter")
        page.wait_for_url("**/studies/**")
        assert page.locator("h1").first.inner_text()
    finally:
        visit.close()


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.mark.parametrize("path", PAGES)
def test_no_page_is_wider_than_a_phone(chromium, base, path):
    visit = open_in_scheme(chromium, f"{base}{path}", "light", **PHONE)
    try:
        scroll, client = visit.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll <= client, f"{path} scrolls sideways on a phone: {scroll} px in {client} px"
    finally:
        visit.close()


def test_evidence_map_keeps_its_headings_in_view(chromium, base):
    visit = open_in_scheme(chromium, f"{base}/views/evidence-map/", "light", viewport={"width": 1280, "height": 900})
    try:
        page = visit.page
        table = page.locator(".evidence-map table")
        table.scroll_into_view_if_needed()
        page.evaluate("t => { t.scrollTop = 600; t.scrollLeft = 500; }", table.element_handle())
        box = table.bounding_box()
        heading = page.locator(".evidence-map thead th").nth(3).bounding_box()
        therapy = page.locator(".evidence-map tbody tr").nth(8).locator("td").first
        assert abs(heading["y"] - box["y"]) < 2, "the subtype headings scrolled out of view"
        assert abs(page.locator(".evidence-map thead th").first.bounding_box()["x"] - box["x"]) < 2
        assert therapy.is_visible() and abs(therapy.bounding_box()["x"] - box["x"]) < 2, "the therapy column scrolled out of view"
        # Studies are named as readers know them, not by file name, and rows are grouped by kind of treatment.
        text = table.inner_text()
        assert "ProDERM" in text and "Glucocorticoids and corticotropin" in text
        assert "hover" not in page.locator("article").inner_text().casefold()
    finally:
        visit.close()


def test_evidence_map_on_a_phone_is_cards_that_name_their_subtype(chromium, base):
    visit = open_in_scheme(chromium, f"{base}/views/evidence-map/", "light", **PHONE)
    try:
        page = visit.page
        row = page.locator(".evidence-map tbody tr", has=page.locator('a[href$="therapies/ivig/"]')).first
        row.scroll_into_view_if_needed()
        assert row.bounding_box()["width"] <= 390
        labels = row.locator(".map-subtype")
        assert labels.first.is_visible() and labels.first.inner_text().endswith(":")
        assert "Dermatomyositis:" in row.inner_text()
    finally:
        visit.close()


def test_wide_study_tables_keep_the_study_in_view_on_a_phone(chromium, base):
    visit = open_in_scheme(chromium, f"{base}/therapies/ivig/", "light", **PHONE)
    try:
        page = visit.page
        # Material wraps each table in a box that scrolls sideways; take the widest.
        wrap = page.evaluate_handle(
            "[...document.querySelectorAll('article .md-typeset__scrollwrap')].sort((a, b) => b.scrollWidth - a.scrollWidth)[0]"
        )
        assert page.evaluate("w => w.scrollWidth > w.clientWidth", wrap), "no table on the IVIG page scrolls sideways"
        page.evaluate("w => { w.scrollIntoView(); w.scrollLeft = 300; }", wrap)
        first = page.evaluate(
            "w => { const c = w.querySelector('tbody tr').cells[0].getBoundingClientRect(), b = w.getBoundingClientRect();"
            " return [c.left - b.left, c.width]; }",
            wrap,
        )
        assert abs(first[0]) < 2 and first[1] > 50, f"the first column scrolled away: {first}"
    finally:
        visit.close()


@pytest.mark.parametrize("figure", ["/views/evidence-map.svg", "/views/pipeline-timeline.svg"])
def test_figures_have_legible_text_that_fits(chromium, base, figure):
    visit = Visit(chromium, f"{base}{figure}")
    try:
        texts = visit.page.evaluate(
            """() => { const svg = document.documentElement, w = svg.viewBox.baseVal.width, h = svg.viewBox.baseVal.height;
                 return [...svg.querySelectorAll('text')].map(t => { const b = t.getBoundingClientRect();
                   return {text: t.textContent, size: parseFloat(getComputedStyle(t).fontSize),
                           inside: b.left >= 0 && b.top >= 0 && b.right <= w && b.bottom <= h}; }); }"""
        )
        assert texts
        small = [t for t in texts if t["size"] < 11]
        assert small == [], f"text under 11 px: {small[:3]}"
        # The figure is shown at its own size: its box is its view box, rotated headings included.
        cut = [t for t in texts if not t["inside"]]
        assert cut == [], f"labels cut off: {cut[:3]}"
    finally:
        visit.close()


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_where_a_finding_stands_in_its_source_opens_by_hover_tap_and_keyboard(chromium, base, axe_source, scheme):
    visit = open_in_scheme(chromium, f"{base}/studies/proderm/", scheme, has_touch=True)
    page = visit.page
    try:
        toggle = page.locator(".locator-toggle").nth(1)
        tip = page.locator(f"#{toggle.get_attribute('aria-describedby')}")
        assert toggle.inner_text() == "news report (medwireNews)" and not tip.is_visible()
        expected = "Read in a secondary source: news report (medwireNews) (the work cited: Barnard 2021). Checked against that secondary source on 2026-12-07."
        # hover: the note opens, stays open while the pointer is on it, and Escape closes it
        toggle.hover()
        assert tip.is_visible() and tip.inner_text() == expected
        tip.hover()
        assert tip.is_visible()
        page.keyboard.press("Escape")
        assert not tip.is_visible()
        page.mouse.move(0, 0)
        # keyboard: Tab reaches the button and the note opens on focus; Escape closes it
        toggle.evaluate("button => button.parentElement.previousElementSibling.querySelector('a').focus()")  # the citation mark before it
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.classList.contains('locator-toggle')") and tip.is_visible()
        found = serious_violations(page, axe_source)  # axe with the note open
        assert found == [], "\n".join(found)
        page.keyboard.press("Escape")
        assert not tip.is_visible()
        page.keyboard.press("Shift+Tab")
        # tap: the note stays open after the tap, and a tap elsewhere closes it
        toggle.tap()
        assert toggle.get_attribute("aria-expanded") == "true" and tip.is_visible()
        page.locator("h1").tap()
        assert toggle.get_attribute("aria-expanded") == "false" and not tip.is_visible()
        assert visit.errors == []
    finally:
        visit.close()
