"""Search at scale: how much a reader downloads and waits before the first search result.

The site is served over HTTP on this machine and opened in Chromium with the CPU slowed 4x
(Chrome DevTools' throttling), as a slower ward computer or phone would run it. Two timings:

- cold: the reader types the moment the page has loaded, so the wait includes downloading the
  search index and building it in the search worker (stock lunr), or starting Pagefind and
  loading the index chunks of the query and the result cards of the first results (the served site:
  docs/assets/search.js; the pages' fragments, with the excerpts, follow);
- warm: a second query once the index is ready (what every later search costs).

Bytes are counted twice: what the page received (its CDP session; it does not see the fetches of
web workers, where Pagefind loads its index) and what the server sent before the first result.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import threading
from pathlib import Path

import chromium

THROTTLE = 4
QUERIES = ("glucocorticoid", "rituximab")  # cold, then warm: words every set (synthetic or real) holds

# Runs in the page: the time from the last key released to the first result on screen.
_WATCH = """() => { window.__first = 0; window.__typed = performance.now();
  const list = document.querySelector('.md-search-result__list');
  new MutationObserver((_, observer) => {
    if (list.querySelector('.md-search-result__item')) { window.__first = performance.now(); observer.disconnect(); }
  }).observe(list, {childList: true, subtree: true}); }"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves the site quietly and counts what it sent (path, bytes), in order."""

    served: list[tuple[str, int]] = []

    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        start = source.tell()
        super().copyfile(source, outputfile)
        _Quiet.served.append((self.path, source.tell() - start))


def index_sizes(site: Path) -> dict:
    """The stock lunr index (raw, gzip), or, on a site with a Pagefind index, Pagefind's files."""
    raw = (site / "search" / "search_index.json").read_bytes()
    sizes = {"index_kb": round(len(raw) / 1024, 1), "index_gzip_kb": round(len(gzip.compress(raw, 6, mtime=0)) / 1024, 1)}
    folder = site / "pagefind"
    if folder.is_dir():
        files = [p for p in folder.rglob("*") if p.is_file()]
        sizes["pagefind"] = {
            "mb": round(sum(p.stat().st_size for p in files) / 2**20, 2),
            "index_chunks": len(list((folder / "index").iterdir())),
            "fragments": len(list((folder / "fragment").iterdir())),
        }
    return sizes


def _search_files(served: list[tuple[str, int]]) -> dict:
    files = [(path, n) for path, n in served if "/pagefind/" in path or "/search/" in path]
    return {"count": len(files), "kb": round(sum(n for _, n in files) / 1024, 1)}


def _query(page, text: str) -> float:
    """Type `text` into the site's search box; milliseconds from the last key to the first result."""
    box = page.locator(".md-search__input")
    box.fill(text[:-1])
    page.evaluate("() => { const l = document.querySelector('.md-search-result__list'); if (l) l.replaceChildren(); }")
    page.evaluate(_WATCH)
    page.keyboard.type(text[-1])
    page.wait_for_function("() => window.__first > 0", timeout=300_000, polling=50)
    return round(page.evaluate("() => window.__first - window.__typed"), 1)


def measure_search(site: Path, pagefind_options: dict | None = None) -> dict:
    """Index sizes, bytes downloaded before the first result, and cold and warm times to it.

    `pagefind_options` go to Pagefind before it starts (docs/assets/search.js reads them from
    window.handbookPagefindOptions): {"noWorker": True} runs it on the page's thread."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(site))
    _Quiet.served = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    result = index_sizes(site)
    try:
        with sync_playwright() as playwright:
            path = chromium.find()
            if path is None:
                raise SystemExit("search benchmark: no Chromium found (apt-get install chromium)")
            browser = playwright.chromium.launch(executable_path=path, args=chromium.FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            if pagefind_options:
                page.add_init_script(f"window.handbookPagefindOptions = {json.dumps(pagefind_options)};")
            cdp = page.context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
            cdp.send("Network.enable")
            received = [0]
            cdp.on("Network.loadingFinished", lambda event: received.__setitem__(0, received[0] + event["encodedDataLength"]))
            page.goto(f"http://127.0.0.1:{server.server_port}/", wait_until="load")
            page.keyboard.press("/")
            result["cold_ms"] = _query(page, QUERIES[0])
            result["kb_before_first_result"] = round(received[0] / 1024, 1)
            result["served_kb_before_first_result"] = round(sum(n for _, n in _Quiet.served) / 1024, 1)
            result["search_files_before_first_result"] = _search_files(_Quiet.served)
            result["warm_ms"] = _query(page, QUERIES[1])
            result["cpu_throttling"] = THROTTLE
            browser.close()
    finally:
        server.shutdown()
    return result
