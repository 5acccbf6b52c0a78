"""Versions, releases and the pages of changes between them (throw-away git repositories, no network)."""

from __future__ import annotations

import html
import json
import re
import tomllib
import xml.etree.ElementTree as ET

import jsonschema
import pytest
import yaml
from conftest import ROOT, TODAY, build, edit, make_project
from test_history import commit, git

from generators.releases import ReleaseError, prepare_release, release_changes, version

A = "{http://www.w3.org/2005/Atom}"
CFF_SCHEMA = ROOT / "tests" / "fixtures" / "citation-file-format-1.2.0.schema.json"  # from citation-file-format/citation-file-format


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("HANDBOOK_TODAY", TODAY)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def cff(root):
    return yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_cff_is_valid_and_every_file_names_the_same_version():
    data = cff(ROOT)
    jsonschema.Draft7Validator(json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))).validate(data)
    zenodo = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", data["version"])
    assert data["version"] == zenodo["version"] == project["version"]
    assert data["license"] == "CC-BY-4.0" and zenodo["license"] == "cc-by-4.0"


def test_an_invalid_citation_file_is_refused_by_the_schema():
    data = {**cff(ROOT), "version": ["1.0.0"], "date-released": "7 December 2026"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))).validate(data)


def test_the_version_is_the_release_on_its_tag_and_says_how_far_past_it_otherwise(tmp_path):
    project = make_project(tmp_path / "p")
    (project / "CITATION.cff").write_text("cff-version: 1.2.0\nversion: 1.0.0\n", encoding="utf-8")
    git(project, "init", "-q")
    first = commit(project, "First edition", "2026-01-10", ".")
    assert version(project) == f"1.0.0-dev+g{first[:7]}"  # before any release
    git(project, "tag", "-a", "v1.0.0", "-m", "Version 1.0.0")
    assert version(project) == "1.0.0"
    edit(project, "evidence/study/fixture-trial.yaml", "n: 95", "n: 96")
    assert version(project) == f"1.0.0+g{first[:7]}.dirty"
    second = commit(project, "Correct n", "2026-01-11")
    assert version(project) == f"1.0.0+1.g{second[:7]}"


def test_preparing_a_release_writes_its_version_and_date_everywhere_and_refuses_going_back(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    for name in ("CITATION.cff", ".zenodo.json", "pyproject.toml"):
        (project / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    git(project, "init", "-q")
    commit(project, "Start", "2026-01-10", ".")
    git(project, "tag", "-a", "v1.0.0", "-m", "Version 1.0.0")
    with pytest.raises(ReleaseError, match="does not follow the newest release, 1.0.0"):
        prepare_release(project, "0.9.0", "2026-12-07")
    with pytest.raises(ReleaseError, match="not a semantic version"):
        prepare_release(project, "1.1", "2026-12-07")
    prepare_release(project, "1.1.0", "2026-12-07")
    data = cff(project)
    jsonschema.Draft7Validator(json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))).validate(data)
    zenodo = json.loads((project / ".zenodo.json").read_text(encoding="utf-8"))
    assert (data["version"], str(data["date-released"])) == ("1.1.0", "2026-12-07")
    assert (zenodo["version"], zenodo["publication_date"]) == ("1.1.0", "2026-12-07")
    assert tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"] == "1.1.0"


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """The fixture handbook released as 1.0.0, then changed in two commits (one a merged pull request)
    and released as 1.1.0, then edited without a release; built as a reader gets it."""
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("released")
    mp.setenv("HANDBOOK_TODAY", TODAY)
    mp.setenv("GIT_CEILING_DIRECTORIES", str(tmp))
    project = make_project(tmp / "p")
    git(project, "init", "-q", "-b", "main")
    commit(project, "First edition", "2026-01-10", ".")
    git(project, "tag", "-a", "v1.0.0", "-m", "Version 1.0.0", date="2026-01-10")
    edit(project, "evidence/study/fixture-trial.yaml", "n: 95", "n: 96")
    edit(
        project,
        "evidence/study/fixture-trial.yaml",
        "summary: A fixture randomised trial.",
        "summary: A fixture randomised trial of IVIG against placebo in adults with active fixture disease, now with the registry's figures.",
    )
    commit(project, "Correct the number randomised from the registry record", "2026-02-01")
    git(project, "checkout", "-q", "-b", "topic")
    edit(project, "references.bib", "title = {A fixture randomised trial}", "title = {A fixture randomised trial, corrected}")
    commit(project, "Reference title as the journal prints it", "2026-02-02")
    git(project, "checkout", "-q", "main")
    git(
        project,
        "merge",
        "-q",
        "--no-ff",
        "topic",
        "-m",
        "Merge pull request #7 from someone/topic\n\nFix the fixture reference title",
        date="2026-02-03",
    )
    git(project, "tag", "-a", "v1.1.0", "-m", "Version 1.1.0", date="2026-02-03")
    edit(project, "evidence/therapy/ivig.yaml", "summary: A fixture therapy.", "summary: A fixture therapy, revised.")
    result = build(project)
    assert result.returncode == 0, result.stderr
    yield project
    mp.undo()


def html_of(project, page):
    """The page's HTML with character references resolved (record text is written with some, e.g. 1&#46;1)."""
    text = html.unescape((project / "site" / page / "index.html").read_text(encoding="utf-8"))
    return text[text.index("<article") : text.index("</article>")]


def test_the_changes_page_lists_each_field_with_old_and_new_values_and_the_reason(released):
    page = html_of(released, "changes/1.1.0")
    assert "Changes in version 1.1.0" in page and "1 record and 1 reference differ from version 1.0.0" in page
    study = page[page.index("Fixture randomised trial of IVIG") : page.index("A fixture randomised trial, corrected")]
    # a short field: old and new value side by side
    assert re.search(r"<code>n</code></td>\s*<td>95</td>\s*<td>96</td>", study), study
    # a long one: the words removed and added
    assert (
        "A fixture randomised <del>trial.</del> <ins>trial of IVIG against placebo in adults with active fixture disease, now with the registry's figures.</ins>"
        in study
    )
    assert "Correct the number randomised from the registry record" in study
    reference = page[page.index("A fixture randomised trial, corrected") :]
    assert "Fix the fixture reference title (pull request #7)" in reference  # a merged pull request gives its title
    assert re.search(
        r"<code>title</code></td>\s*<td>A fixture randomised trial</td>\s*<td>A fixture randomised trial, corrected</td>", reference
    )
    # nothing of what came after the release
    assert "A fixture therapy, revised" not in page


def test_changes_not_yet_released_have_their_own_page_and_the_index_lists_every_version(released):
    pending = html_of(released, "changes/unreleased")
    assert "Changes since version 1.1.0 (not yet released)" in pending
    assert "A fixture therapy, revised" in pending and "not yet committed" in pending
    index = html_of(released, "changes")
    for href in ('href="1.1.0/"', 'href="1.0.0/"', 'href="unreleased/"'):
        assert href in index, href
    assert "This is version <strong>1.1.0+g" in index  # the edition being read


def test_the_feed_links_each_release_to_its_changes(released):
    feed = ET.parse(released / "site" / "feed.xml").getroot()
    releases = [e for e in feed.findall(f"{A}entry") if e.find(f"{A}category").get("term") == "release"]
    links = {e.find(f"{A}title").text: e.find(f"{A}link").get("href") for e in releases}
    assert links == {
        "Version 1.1.0 released: changes since version 1.0.0": "https://iim-handbook.example.org/changes/1.1.0/",
        "Version 1.0.0 released": "https://iim-handbook.example.org/changes/1.0.0/",
    }


def test_the_pdf_and_site_carry_the_version(released):
    from pypdf import PdfReader

    cover = PdfReader(str(released / "site" / "handbook.pdf")).pages[0].extract_text()
    assert re.search(r"Version 1\.1\.0\+g[0-9a-f]{7}\.dirty", cover), cover


def test_a_project_without_releases_has_no_changes_pages(tmp_path):
    project = make_project(tmp_path / "p")
    git(project, "init", "-q")
    commit(project, "First edition", "2026-01-10", ".")
    assert release_changes(project) == []
    edit(project, "evidence/study/fixture-trial.yaml", "n: 95", "n: 96")
    assert release_changes(project) == []  # edits before the first release are in "What's new" only
