"""The real handbook in headless Chromium, served on localhost: what a reader does."""

from __future__ import annotations

import re

import pytest
from conftest import Visit, served


@pytest.fixture(scope="module")
def base(handbook_site):
    with served(handbook_site) as url:
        yield url


def open_page(chromium, base, path, **options):
    return Visit(chromium, f"{base}{path}", **options)


@pytest.mark.parametrize(
    "query,expected",
    [
        ("ProDERM", "/studies/proderm/"),
        ("CADM-140", "/autoantibodies/anti-mda5/"),
        ("IMNM", "/subtypes/immune-mediated-necrotising-myopathy/"),
    ],
)
def test_search_finds_records_by_name_and_alias(chromium, base, query, expected):
    visit = open_page(chromium, base, "/")
    try:
        links = visit.search(query)
        assert any(expected in link for link in links[:3]), links[:5]
        visit.page.locator(f'.md-search-result__link[href*="{expected}"]').first.click()
        visit.page.wait_for_load_state("load")
        assert visit.page.url.split("?")[0].endswith(expected)
        assert visit.errors == []
        assert visit.requests_elsewhere(base) == []
    finally:
        visit.close()


def natural(text: str):
    """The explorer sorts as people do: PL-7 before PL-12."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", text)]


def column_values(page, index):
    return page.eval_on_selector_all("div.explorer tbody tr:not([hidden])", f"rows => rows.map(r => r.cells[{index}].textContent.trim())")


def test_antibody_explorer_sorts_and_filters(chromium, base):
    visit = open_page(chromium, base, "/views/antibodies/")
    try:
        page = visit.page
        total = len(column_values(page, 0))
        assert total >= 15
        page.get_by_role("button", name="Antibody").click()
        names = column_values(page, 0)
        assert names == sorted(names, key=natural)
        page.get_by_role("button", name="Antibody").click()
        assert column_values(page, 0) == sorted(names, key=natural, reverse=True)
        page.get_by_label("Filter by ILD risk").select_option("High")
        risks = column_values(page, 4)
        assert risks and set(risks) == {"High"} and len(risks) < total
        page.get_by_label("Filter the table").fill("MDA5")
        assert [n for n in column_values(page, 0)] == ["Anti-MDA5 antibody"]
        assert "1 of" in page.locator(".explorer-count").inner_text()
        assert visit.errors == [] and visit.requests_elsewhere(base) == []
    finally:
        visit.close()


def test_evidence_map_cell_links_to_its_studies(chromium, base):
    visit = open_page(chromium, base, "/views/evidence-map/")
    try:
        page = visit.page
        row = page.locator("table tr", has=page.locator('a[href$="therapies/ivig/"]')).first
        assert "Randomised controlled (positive)" in row.inner_text()
        row.locator('a[href*="studies/proderm/"]').first.click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/studies/proderm/")
        assert "ProDERM" in page.locator("h1").first.inner_text()
        assert visit.errors == [] and visit.requests_elsewhere(base) == []
    finally:
        visit.close()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/views/evidence-map/",
        "/views/antibodies/",
        "/views/pipeline/",
        "/views/concordance/",
        "/questions/first-steroid-sparing-agent-adult/",
        "/classes/jak-inhibitors/",
        "/therapies/ivig/",
        "/references/",
    ],
)
def test_phone_viewport_has_no_horizontal_scrolling(chromium, base, path):
    visit = open_page(chromium, base, path, viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        width = visit.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], f"{path} scrolls sideways on a phone: {width}"
        assert visit.errors == [] and visit.requests_elsewhere(base) == []
    finally:
        visit.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_concordance_view_filters_by_subtype_and_links_each_position(chromium, base, width):
    visit = open_page(chromium, base, "/views/concordance/", viewport={"width": width, "height": 900})
    try:
        page = visit.page
        rows = page.locator("div.explorer tbody tr")
        total = rows.count()
        assert total >= 30
        page.select_option('select[aria-label="Filter by Subtypes"]', "Juvenile dermatomyositis")
        shown = page.locator("div.explorer tbody tr:not([hidden])")
        assert 0 < shown.count() < total
        for i in range(shown.count()):
            assert "Juvenile dermatomyositis" in shown.nth(i).locator("td").nth(1).inner_text()
        # each recorded position links to the recommendation that states it
        link = page.locator('div.explorer tbody td a[href*="/guidelines/"]').first
        assert link.inner_text() in ("Recommends", "Suggests", "Against") and "#" in link.get_attribute("href")
        assert visit.errors == [] and visit.requests_elsewhere(base) == []
    finally:
        visit.close()
