"""The one entry point: python -m generators build writes a complete Markdown site for stock MkDocs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml
from conftest import ROOT, TODAY, build, edit, run

from generators.build import navigation


def own_docs(project):
    """The project's docs/ as its own folder (make_project links the real one)."""
    (project / "docs").unlink()
    shutil.copytree(ROOT / "docs", project / "docs")


def generate(project):
    return run(["-m", "generators", "--root", str(project), "build"], project)


def test_build_writes_a_complete_markdown_site_and_a_stock_configuration(project):
    result = generate(project)
    assert result.returncode == 0, result.stderr
    docs = project / "build" / "docs"
    for rel in ["index.md", "about.md", "assets/handbook.css", "therapies/ivig.md", "studies/index.md", "references/index.md"]:
        assert (docs / rel).is_file(), rel
    assert (docs / "data" / "handbook.json").is_file() and (docs / "feed.xml").is_file() and (docs / "cite" / "ivig.bib").is_file()
    config = yaml.safe_load((project / "build" / "mkdocs.yml").read_text())
    assert "hooks" not in config
    plugins = {next(iter(p)) if isinstance(p, dict) else p for p in config["plugins"]}
    assert plugins == {"search", "offline"}  # MkDocs' and Material's own, nothing of ours
    assert config["docs_dir"] == "docs" and config["nav"][0] == {"Home": "index.md"}
    assert {"Therapies": ["therapies/index.md", {"Intravenous immunoglobulin": "therapies/ivig.md"}]} in config["nav"]
    # citations are plain Markdown footnotes; the page's edit link names its record
    ivig = (docs / "therapies" / "ivig.md").read_text()
    assert "[@" not in ivig and "[^trialist2021]: Trialist C." in ivig
    assert ivig.startswith('---\nedit_url: "https://github.com/') and ivig.split("\n")[1].endswith('/blob/main/evidence/therapy/ivig.yaml"')
    # nothing of it lands in docs/
    assert not (project / "docs" / "therapies").exists()


def test_a_therapy_page_dates_each_regulatory_check_and_names_where_it_was_made(project):
    assert generate(project).returncode == 0
    page = (project / "build" / "docs" / "therapies" / "ivig.md").read_text()
    section = page.split("## Regulatory status", 1)[1].split("\n## ", 1)[0]
    line = next(line for line in section.splitlines() if line.startswith("- **FDA**"))
    assert "approved for other indications; no myositis indication found" in line
    assert "(checked 2026-01-15 in Drugs&#64;FDA and the FDA label (openFDA))" in line  # @ escaped: no citation
    assert "Fixture note on the indications the label lists." in line and "[^fixture2020]" in line


def test_a_page_citing_a_retracted_source_says_so_with_the_date_and_the_records_reading(project):
    edit(
        project, "references.bib", "  pmid = {10000002}\n", "  pmid = {10000002},\n  retraction = {2026-05-04, doi:10.5555/retraction.1}\n"
    )
    edit(
        project,
        "evidence/study/fixture-trial.yaml",
        "therapies: [ivig]",
        "therapies: [ivig]\nsource_notices:\n  - cite: trialist2021\n    text: The whole trial report was retracted; its results are kept here only to show what was withdrawn.",
    )
    result = generate(project)
    assert result.returncode == 0, result.stderr
    page = (project / "build" / "docs" / "studies" / "fixture-trial.md").read_text()
    box = page.split('!!! danger "Sources retracted or corrected"', 1)[1].split("\n\n#", 1)[0]
    assert "- Retracted on 2026-05-04: Trialist 2021 [^trialist2021] The whole trial report was retracted" in box
    # the reference itself carries the notice wherever it is listed (footnotes, reference pages, PDF)
    assert "**Retracted 2026-05-04** ([notice](https://doi.org/10.5555/retraction.1))" in page
    therapy = (project / "build" / "docs" / "therapies" / "ivig.md").read_text()
    assert "**Retracted 2026-05-04**" in therapy  # cited there through the study table


def test_second_build_writes_nothing_and_a_removed_record_leaves(project):
    assert generate(project).returncode == 0
    again = generate(project)
    assert again.returncode == 0 and " 0 written, 0 removed" in again.stdout, again.stdout
    (project / "evidence" / "outcome-measure" / "total-improvement-score.yaml").unlink()
    edit(project, "evidence/study/fixture-trial.yaml", "total-improvement-score", "fixture-other")  # may not name it
    result = generate(project)
    if result.returncode == 0:
        assert not (project / "build" / "docs" / "outcome-measures" / "total-improvement-score.md").exists()


@pytest.mark.build
def test_a_page_added_under_docs_appears_in_the_site_and_its_navigation(project):
    own_docs(project)
    (project / "docs" / "glossary.md").write_text("# Glossary of terms\n\nIVIG is studied in myositis [@trialist2021; @fixture2020].\n")
    (project / "docs" / "views").mkdir()
    (project / "docs" / "views" / "timeline.md").write_text("# Timeline view\n\nA hand-written view.\n")
    result = build(project)
    assert result.returncode == 0, result.stderr
    site = project / "site"
    glossary = (site / "glossary" / "index.html").read_text()
    assert "Glossary of terms" in glossary
    assert '<a class="footnote-ref" href="#fn:trialist2021">1</a></sup><sup class="cite-sep">,</sup>' in glossary
    assert 'href="#fn:fixture2020">2</a>' in glossary and "Trialist C. A fixture randomised trial." in glossary
    # in the navigation: under About (beside the other hand-written pages), and in the section of its folder
    assert '<a href="../glossary/" class="md-nav__link">' in (site / "about" / "index.html").read_text()
    assert '<a href="../timeline/" class="md-nav__link">' in (site / "views" / "pipeline" / "index.html").read_text()
    assert "Timeline view" in (site / "views" / "timeline" / "index.html").read_text()
    # and in the PDF, where the navigation puts them (the PDF leaves out only references and what's new)
    from pypdf import PdfReader

    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(site / "handbook.pdf").pages)
    assert "Timeline view A hand-written view." in text and "Glossary of terms IVIG is studied in myositis" in text
    assert text.index("Trial pipeline") < text.index("Timeline view") < text.index("About this handbook") < text.index("Glossary of terms")


def test_the_pdf_follows_the_navigation(project):
    """Page for page, the PDF's order is the site's navigation (build/mkdocs.yml), records included."""
    from generators.model import build_model
    from generators.pdfsource import PDF_LEAVES_OUT, BookAssembler

    assert generate(project).returncode == 0
    nav = yaml.safe_load((project / "build" / "mkdocs.yml").read_text())["nav"]

    def pages(entries):
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            yield from pages(value) if isinstance(value, list) else [value]

    in_nav = [p for p in pages(nav) if not p.startswith(PDF_LEAVES_OUT)]
    plan = [page for page, _ in BookAssembler(build_model(project), {}, project / "docs").plan()]
    assert plan == in_nav and "about.md" in plan and "therapies/ivig.md" in plan


def test_a_hand_written_page_citing_an_unknown_reference_fails_with_its_line(project):
    own_docs(project)
    (project / "docs" / "notes.md").write_text("# Notes\n\nSee [@nosuch1999].\n")
    result = generate(project)
    assert result.returncode != 0
    assert 'docs/notes.md:3: cites "nosuch1999", which is not in references.bib' in result.stderr
    assert not (project / "build").exists()


def test_nav_lists_records_while_a_section_is_small():
    from generators.model import build_model

    book = build_model(ROOT)
    nav, left_out = navigation(book, ["index.md", "about.md", "data.md", "contributing.md", "extra.md"])
    about = next(item["About"] for item in nav if "About" in item)
    assert about[-2:] == ["extra.md", {"Review report": "maintainers/review.md"}]
    assert all(isinstance(folder, str) for folder in left_out)


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except OSError:
        return ""


def wait_for(url: str, text: str, seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page = fetch(url)
        if text in page:
            return page
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared at {url}")


@contextlib.contextmanager
def serving(project):
    """`make serve` on the project, at a free port; yields the port and stops the server after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, HANDBOOK_TODAY=TODAY, NO_MKDOCS_2_WARNING="1")
    server = subprocess.Popen(
        [sys.executable, "-m", "generators", "--root", str(project), "serve", "-a", f"127.0.0.1:{port}"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.build
def test_serve_shows_the_problems_of_an_invalid_record_on_the_page(project):
    with serving(project) as port:
        url = f"http://127.0.0.1:{port}/therapies/ivig/"
        page = wait_for(url, "Intravenous immunoglobulin")
        # the preview has no Pagefind index: its pages search with Material's own index (docs/assets/search.js)
        assert "assets/search.js" in page and "data-pagefind" not in page
        assert json.loads(fetch(f"http://127.0.0.1:{port}/search/search_index.json"))["docs"]
        edit(project, "evidence/therapy/ivig.yaml", "summary: A fixture therapy.", "summary: A fixture therapy.\nbogus_field: 1")
        page = wait_for(url, "handbook-problems")
        assert "evidence/therapy/ivig.yaml:" in page and "bogus_field" in page
        edit(project, "evidence/therapy/ivig.yaml", "\nbogus_field: 1", "")
        deadline = time.monotonic() + 120
        while "handbook-problems" in fetch(url) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "handbook-problems" not in fetch(url)


@pytest.mark.build
def test_serve_follows_edits_to_a_record_a_template_and_a_schema(project):
    """Each kind of input reruns the generator, code included: no stale templates or schemas."""
    import json

    for shared in ("generators", "schemas"):  # the project's own copies, so that the test can edit them
        (project / shared).unlink()
        shutil.copytree(ROOT / shared, project / shared, ignore=shutil.ignore_patterns("__pycache__"))
    with serving(project) as port:
        url = f"http://127.0.0.1:{port}/therapies/ivig/"
        wait_for(url, "Intravenous immunoglobulin")
        edit(project, "evidence/therapy/ivig.yaml", "summary: A fixture therapy.", "summary: A fixture therapy, edited under serve.")
        wait_for(url, "edited under serve")
        template = project / "generators" / "templates" / "therapy.md.j2"
        template.write_text(template.read_text(encoding="utf-8") + "\nA line added to the template.\n", encoding="utf-8")
        wait_for(url, "A line added to the template.")
        schema_path = project / "schemas" / "therapy.schema.json"
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        schema["required"].append("field_the_schema_now_requires")
        schema_path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
        page = wait_for(url, "field_the_schema_now_requires")
        assert "handbook-problems" in page and "evidence/therapy/ivig.yaml" in page


@pytest.mark.build
def test_serve_gives_the_pdf_it_builds_in_the_background(project):
    """The Download PDF link works under make serve: at first a page saying the PDF is being
    built (not a 404), then the PDF, built in the background."""
    import re
    import urllib.error
    import urllib.parse

    with serving(project) as port:
        url = f"http://127.0.0.1:{port}/therapies/ivig/"
        page = wait_for(url, "Intravenous immunoglobulin")
        link = re.search(r'<a href="([^"]*handbook\.pdf)"([^>]*)>Download PDF</a>', page)
        assert link, "no Download PDF link on the page"
        assert "download" not in link.group(2)  # so the being-built page opens instead of being saved
        pdf_url = urllib.parse.urljoin(url, link.group(1))
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(pdf_url, timeout=30) as response:
                    kind, body = response.headers.get_content_type(), response.read()
            except urllib.error.HTTPError as error:  # 503 while it is being built
                kind, body = error.headers.get_content_type(), error.read()
                assert error.code == 503, f"{pdf_url} answered {error.code}"
            if kind == "application/pdf":
                assert body.startswith(b"%PDF")
                break
            assert kind == "text/html" and b"The PDF is being built" in body, body[:300]
            time.sleep(2)
        else:
            raise AssertionError(f"the PDF never appeared at {pdf_url}")
        assert len(body) > 10_000
