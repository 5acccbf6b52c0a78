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
