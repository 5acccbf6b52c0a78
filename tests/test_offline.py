"""The offline copy: site/handbook-offline.zip opened from file:// with working search."""

from __future__ import annotations

import re
import zipfile

from conftest import Visit


def unpack(site, where):
    with zipfile.ZipFile(site / "handbook-offline.zip") as archive:
        archive.extractall(where)
    return where / "iim-handbook"


def test_offline_copy_holds_every_page_and_the_pdf(handbook_site, tmp_path):
    root = unpack(handbook_site, tmp_path)
    online = {p.relative_to(handbook_site).parent.as_posix() for p in handbook_site.rglob("index.html")}
    for folder in sorted(online):
        # directory URLs online (studies/proderm/index.html) become files offline (studies/proderm.html)
        expected = root / ("index.html" if folder == "." else f"{folder}.html")
        if not expected.exists():
            expected = root / folder / "index.html"
        assert expected.exists(), f"offline copy lacks the page {folder}"
    assert (root / "handbook.pdf").stat().st_size > 100_000
    assert (root / "search" / "search_index.js").exists()


def test_offline_copy_loads_nothing_from_other_hosts(handbook_site, tmp_path):
    root = unpack(handbook_site, tmp_path)
    # <a href> and <link rel="canonical"> are links a reader may follow, not loads
    external = re.compile(r'<(?:script|img|iframe|link(?![^>]*rel="canonical"))\b[^>]*(?:src|href)="(?:https?:)?//', re.I)
    for page in root.rglob("*.html"):
        match = external.search(page.read_text(encoding="utf-8"))
        assert match is None, f"{page.relative_to(root)} loads {match.group(0)}"


def test_offline_search_finds_a_trial_from_file_url(handbook_site, chromium, tmp_path):
    root = unpack(handbook_site, tmp_path)
    visit = Visit(chromium, (root / "index.html").as_uri())
    try:
        links = visit.search("ProDERM")
        assert links and "studies/proderm.html" in links[0], links
        visit.page.locator(".md-search-result__link").first.click()
        visit.page.wait_for_load_state()
        assert visit.page.url.startswith((root / "studies" / "proderm.html").as_uri())
        assert "ProDERM" in visit.page.locator("h1").first.inner_text()
        assert visit.requests_elsewhere("file://") == [], "a request left the machine"
        assert not any("pagefind" in url for url in visit.requests), "the offline copy searches with Material's own index"
        assert visit.errors == []
    finally:
        visit.close()


def test_offline_search_knows_synonyms_and_ranking(handbook_site, chromium, tmp_path):
    """The offline copy's inlined index gets the same rewrite as the website's (generators/search.py):
    "steroid" is not a word of the glucocorticoid page's title, yet that page comes first."""
    root = unpack(handbook_site, tmp_path)
    inlined = (root / "search" / "search_index.js").read_text(encoding="utf-8")
    assert '"keys":' in inlined and '"syn":' in inlined
    visit = Visit(chromium, (root / "index.html").as_uri())
    try:
        links = visit.search("steroid dose")
        assert links and "therapies/glucocorticoids.html" in links[0], links[:3]
        assert visit.errors == []
    finally:
        visit.close()
