"""Shared helpers: throw-away handbook projects built from fixtures, and built sites."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "project"
TODAY = "2026-12-07"
os.environ["HANDBOOK_TODAY"] = TODAY  # in-process calls (make new's template date) agree with the subprocesses

sys.path.insert(0, str(ROOT))

from generators import steps  # noqa: E402
from generators.scaffold import copy_project  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from chromium import FLAGS as CHROMIUM_FLAGS  # noqa: E402
from chromium import find as chromium_path  # noqa: E402

# `make check` runs the tests that need no browser, no built site and no full build ("not slow"): a
# test is slow when it asks for one of these fixtures, or lives in a module that builds or browses.
SLOW_FIXTURES = {"handbook_site", "fixture_site", "chromium", "base", "kinds_project", "served_site"}
SLOW_MODULES = {
    "test_accessibility",
    "test_bench",
    "test_browser",
    "test_calculators",
    "test_corpus",
    "test_coverage",
    "test_export",
    "test_history",
    "test_injection",
    "test_latex",
    "test_links",
    "test_offline",
    "test_opendata",
    "test_pdf",
    "test_pdfjoin",
    "test_search",
    "test_site",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in SLOW_MODULES or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("build"):
            item.add_marker(pytest.mark.slow)


def make_project(where: Path, source: Path = FIXTURE) -> Path:
    """A project folder with fixture records and the real generators, schemas and theme."""
    return copy_project(source, where, ROOT)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HANDBOOK_TODAY=TODAY, NO_MKDOCS_2_WARNING="1", NO_MKDOCS_NG_NOTICE="1")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def site_steps(project: Path, site: Path, out: Path) -> list[list[str]]:
    """The steps of make site, from the one list of them (generators/steps.py), with the interpreter left out."""
    return [command[1:] for _, command in steps.site_steps(project, out, site)]


def build(project: Path, site: str | Path = "site", out: Path | None = None) -> subprocess.CompletedProcess:
    """Run the steps of make site as make site runs them (generators/steps.py), stopping at the first that
    fails; their output together."""
    env = dict(os.environ, HANDBOOK_TODAY=TODAY, NO_MKDOCS_2_WARNING="1", NO_MKDOCS_NG_NOTICE="1")
    return steps.run_steps(project, out or project / "build", project / site, cwd=project, env=env, timeout=600)


def edited_site(project: Path, *edits: tuple[str, str, str]) -> Path:
    """The project with these edits (file, old text, new text), built up to its HTML (the build and MkDocs,
    as make site runs them): for tests that read pages, not the PDF, the search indexes or the offline copy.
    Fails the test when a step fails."""
    for rel, old, new in edits:
        edit(project, rel, old, new)
    env = dict(os.environ, HANDBOOK_TODAY=TODAY, NO_MKDOCS_2_WARNING="1", NO_MKDOCS_NG_NOTICE="1")
    for name, command in steps.site_steps(project, project / "build", project / "site"):
        if name in ("build", "html"):
            result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr
    return project / "site"


def pagefind_pages(site: Path) -> dict[str, dict]:
    """What went into a built site's Pagefind index: each page's fragment (url, content, meta) by URL
    (read through generators/adapters.py, the one place that knows Pagefind's file format)."""
    from generators.adapters import pagefind_fragments

    return {fragment["url"]: fragment for _, fragment in pagefind_fragments(site / "pagefind")}


def validate(project: Path) -> subprocess.CompletedProcess:
    return run(["-m", "generators", "--root", str(project), "validate"], ROOT)


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("fixture") / "project")
    result = build(project)
    assert result.returncode == 0, result.stderr
    return project / "site"


@pytest.fixture(scope="session")
def handbook_site(tmp_path_factory) -> Path:
    """The real handbook, built once for the whole run (or HANDBOOK_SITE: a site already built from this tree)."""
    if os.environ.get("HANDBOOK_SITE"):
        return Path(os.environ["HANDBOOK_SITE"])
    where = tmp_path_factory.mktemp("handbook")
    result = build(ROOT, where / "site", out=where / "build")
    assert result.returncode == 0, result.stderr
    return where / "site"


@pytest.fixture(scope="session")
def handbook_pdf(handbook_site):
    """The real handbook's PDF, read once per run (the text of 500-odd pages takes half a minute):
    the reader and the text of each page."""
    from pypdf import PdfReader

    reader = PdfReader(str(handbook_site / "handbook.pdf"))
    return reader, [page.extract_text() or "" for page in reader.pages]


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright (its own browser download does not work here)."""
    path = chromium_path()
    if path is None:
        message = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def served(site: Path):
    """Serve a built site on a free localhost port (search needs http://, not file://)."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Visit:
    """A browser tab that remembers every request and console error."""

    def __init__(self, browser, url: str, **context_options):
        self.context = browser.new_context(**context_options)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url)

    def requests_elsewhere(self, *allowed_prefixes: str) -> list[str]:
        allowed = ("data:", "blob:", "about:", *allowed_prefixes)
        return [url for url in self.requests if not url.startswith(allowed)]

    def search(self, text: str) -> list[str]:
        """Type into Material's search box as a reader would; return the result links."""
        self.page.keyboard.press("/")
        self.page.keyboard.type(text)
        self.page.wait_for_selector(".md-search-result__item", timeout=15000)
        return [link.get_attribute("href") for link in self.page.locator(".md-search-result__link").all()]

    def close(self):
        self.context.close()


def edit(project: Path, rel: str, old: str, new: str) -> None:
    path = project / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
