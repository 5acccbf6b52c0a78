"""What's new and the Atom feed, from the git history of evidence/ (throw-away repositories, no network)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import TODAY, edit, make_project

from generators import history
from generators.history import REVIEWED, UNRELEASED, Change, atom_feed, record_changes
from generators.load import Record
from generators.model import Handbook, build_model
from generators.render import PageRenderer

A = "{http://www.w3.org/2005/Atom}"
SITE = "https://handbook.example.org/"
D = dt.date.fromisoformat


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("HANDBOOK_TODAY", TODAY)
    # A throw-away project must never be taken for part of a repository above it.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def git(where: Path, *args: str, date: str = "2026-01-20") -> str:
    stamp = f"{date}T12:00:00+00:00"
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="Editor",
        GIT_AUTHOR_EMAIL="editor@example.org",
        GIT_COMMITTER_NAME="Editor",
        GIT_COMMITTER_EMAIL="editor@example.org",
        GIT_AUTHOR_DATE=stamp,
        GIT_COMMITTER_DATE=stamp,
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    result = subprocess.run(["git", *args], cwd=where, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def commit(where: Path, message: str, date: str, *paths: str) -> str:
    git(where, "add", "--", *(paths or ("evidence", "references.bib")))
    git(where, "commit", "-q", "-m", message, date=date)
    return git(where, "rev-parse", "HEAD")


def move(project: Path, rel: str, to: str) -> None:
    (project / to).parent.mkdir(parents=True, exist_ok=True)
    shutil.move(project / rel, project / to)


def by_record(changes: list[Change]) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = {}
    for c in changes:
        found.setdefault(c.record_id, []).append((c.change, c.date.isoformat(), c.release))
    return found


@pytest.fixture
def repo(tmp_path) -> dict:
    """The fixture project with a history:

    2026-01-20  A  everything but the trial; the topic and the outcome measure under old names   tag v1.0
    2026-02-01  B  ivig edited, C  ivig edited again the same day                                 tag v1.1
    2026-03-05  D  topic renamed and edited; outcome measure renamed, unchanged
    2026-03-10  E  dermatomyositis edited, last_reviewed set to 2026-04-01
    not committed: the trial (new); anti-MDA5 with last_reviewed 2026-05-01
    """
    project = make_project(tmp_path / "project")
    git(project, "init", "-q", "-b", "main")
    trial = "evidence/study/fixture-trial.yaml"
    move(project, trial, "outside/fixture-trial.yaml")
    move(project, "evidence/topic/fixture-topic.yaml", "evidence/topic/old-topic.yaml")
    move(project, "evidence/outcome-measure/total-improvement-score.yaml", "evidence/outcome-measure/tis.yaml")
    hashes = {"A": commit(project, "first records", "2026-01-20")}
    git(project, "tag", "v1.0")
    edit(project, "evidence/therapy/ivig.yaml", "A fixture therapy.", "A fixture therapy, edited.")
    hashes["B"] = commit(project, "ivig", "2026-02-01")
    edit(project, "evidence/therapy/ivig.yaml", "edited.", "edited twice.")
    hashes["C"] = commit(project, "ivig again", "2026-02-01")
    git(project, "tag", "v1.1")
    move(project, "evidence/topic/old-topic.yaml", "evidence/topic/fixture-topic.yaml")
    edit(project, "evidence/topic/fixture-topic.yaml", "summary:", "summary: Renamed.")
    move(project, "evidence/outcome-measure/tis.yaml", "evidence/outcome-measure/total-improvement-score.yaml")
    hashes["D"] = commit(project, "renames", "2026-03-05")
    edit(project, "evidence/subtype/dermatomyositis.yaml", "last_reviewed: 2026-01-15", "last_reviewed: 2026-04-01")
    hashes["E"] = commit(project, "dermatomyositis reviewed", "2026-03-10")
    move(project, "outside/fixture-trial.yaml", trial)
    edit(project, "evidence/autoantibody/anti-mda5.yaml", "last_reviewed: 2026-01-15", "last_reviewed: 2026-05-01")
    return {"project": project, "book": build_model(project), "commits": hashes}


def test_changes_follow_the_git_history(repo):
    changes = record_changes(repo["book"], repo["project"])
    found = by_record(changes)
    assert found["ivig"] == [("updated", "2026-02-01", "v1.1"), ("added", "2026-01-20", "v1.0")]
    # A rename with an edit is an update; the record's history continues under its old name.
    assert found["fixture-topic"] == [("updated", "2026-03-05", UNRELEASED), ("added", "2026-01-20", "v1.0")]
    # A pure rename is no change a reader would see.
    assert found["total-improvement-score"] == [("added", "2026-01-20", "v1.0")]
    # Reviewed after its last commit: listed again on its review date, with that commit's release.
    assert found["dermatomyositis"] == [
        ("updated", "2026-04-01", UNRELEASED),
        ("updated", "2026-03-10", UNRELEASED),
        ("added", "2026-01-20", "v1.0"),
    ]
    # Uncommitted edits: the review date, unreleased, no commit.
    assert found["anti-mda5"] == [("updated", "2026-05-01", UNRELEASED), ("added", "2026-01-20", "v1.0")]
    # Never committed: added on its review date.
    assert found["fixture-trial"] == [("added", "2026-01-15", UNRELEASED)]
    assert set(found) == {r.id for r in repo["book"].records}


def test_changes_carry_page_title_and_commit(repo):
    changes = record_changes(repo["book"], repo["project"])
    commits = repo["commits"]
    ivig = [c for c in changes if c.record_id == "ivig"]
    assert ivig[0] == Change(
        "ivig", "therapy", "Intravenous immunoglobulin", "therapies/ivig.md", "updated", D("2026-02-01"), "v1.1", commits["C"]
    )
    assert ivig[1].commit == commits["A"]
    mda5 = [c for c in changes if c.record_id == "anti-mda5"]
    assert mda5[0].commit == "" and mda5[1].commit == commits["A"]
    assert [c.commit for c in changes if c.record_id == "dermatomyositis"][:2] == [commits["E"], commits["E"]]
    assert [c.commit for c in changes if c.record_id == "fixture-trial"] == [""]
    recommendation = next(c for c in changes if c.kind == "recommendation")
    assert recommendation.page == "guidelines/fixture-guideline.md"


def test_changes_are_newest_first_then_kind_then_id(repo):
    changes = record_changes(repo["book"], repo["project"])
    keys = [(-c.date.toordinal(), c.kind, c.record_id) for c in changes]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert changes[0].record_id == "anti-mda5"
    day_one = [(c.kind, c.record_id) for c in changes if c.date == D("2026-01-20")]
    assert day_one == sorted(day_one)
    assert record_changes(repo["book"], repo["project"]) == changes


def test_the_project_in_a_subfolder_of_its_repository(tmp_path):
    outer = tmp_path / "outer"
    outer.mkdir()
    project = make_project(outer / "handbook")
    git(outer, "init", "-q", "-b", "main")
    commit(project, "all", "2026-01-20")
    edit(project, "evidence/therapy/ivig.yaml", "A fixture therapy.", "Changed.")
    commit(project, "ivig", "2026-02-02")
    found = by_record(record_changes(build_model(project), project))
    assert found["ivig"] == [("updated", "2026-02-02", UNRELEASED), ("added", "2026-01-20", UNRELEASED)]


def test_without_git_every_record_is_listed_on_its_review_date(project):
    book = build_model(project)
    changes = record_changes(book, project)
    assert len(changes) == len(book.records)
    assert {(c.change, c.date, c.release, c.commit) for c in changes} == {("updated", D("2026-01-15"), REVIEWED, "")}


def test_without_git_installed_the_same(project, monkeypatch):
    monkeypatch.setenv("PATH", str(project / "no-such-folder"))
    changes = record_changes(build_model(project), project)
    assert {c.release for c in changes} == {REVIEWED}


def test_a_repository_without_commits_has_only_new_records(project):
    git(project, "init", "-q", "-b", "main")
    changes = record_changes(build_model(project), project)
    assert {(c.change, c.date, c.release, c.commit) for c in changes} == {("added", D("2026-01-15"), UNRELEASED, "")}


def test_a_shallow_clone_does_not_claim_records_were_added_at_its_boundary(tmp_path):
    origin = make_project(tmp_path / "origin")
    git(origin, "init", "-q", "-b", "main")
    commit(origin, "all", "2026-01-20")
    edit(origin, "evidence/therapy/ivig.yaml", "A fixture therapy.", "Changed.")
    commit(origin, "ivig", "2026-02-01")
    edit(origin, "evidence/subtype/dermatomyositis.yaml", "summary:", "summary: Changed.")
    commit(origin, "dermatomyositis", "2026-02-10")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "2", origin.as_uri(), str(clone))
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    found = by_record(record_changes(build_model(origin), clone))
    assert found["dermatomyositis"] == [("updated", "2026-02-10", UNRELEASED)]
    # ivig's history starts at the boundary: its commit there cannot be told from an addition.
    assert found["ivig"] == [("updated", "2026-01-15", REVIEWED)]
    assert found["anti-mda5"] == [("updated", "2026-01-15", REVIEWED)]


def test_git_is_called_a_fixed_number_of_times_whatever_the_number_of_records(tmp_path, monkeypatch):
    """5,000 records: one git log for all of them (and one rev-list per tag), never a call per file."""
    project = tmp_path / "big"
    folder = project / "evidence" / "study"
    folder.mkdir(parents=True)
    records = []
    for i in range(5000):
        rel = f"evidence/study/s{i:04d}.yaml"
        (project / rel).write_text(f"id: s{i:04d}\ntitle: Study {i}\nlast_reviewed: 2026-01-01\n", encoding="utf-8")
        records.append(Record("study", rel, {"id": f"s{i:04d}", "title": f"Study {i}", "last_reviewed": "2026-01-01"}))
    git(project, "init", "-q", "-b", "main")
    commit(project, "all", "2026-01-10", "evidence")
    git(project, "tag", "v1.0")
    for i in range(0, 5000, 7):
        (project / records[i].path).write_text(f"id: s{i:04d}\ntitle: Study {i} edited\nlast_reviewed: 2026-01-01\n", encoding="utf-8")
    commit(project, "edits", "2026-02-10", "evidence")
    git(project, "tag", "v1.1")
    book = Handbook(records=records, bibliography=None, by_id={r.id: r for r in records})
    calls = []
    run = subprocess.run

    def counting(args, *rest, **options):
        calls.append(args)
        return run(args, *rest, **options)

    monkeypatch.setattr(history.subprocess, "run", counting)
    changes = record_changes(book, project)
    assert len(calls) == 5 + 2  # rev-parse twice, log, status, for-each-ref, then one rev-list per tag
    assert sum(1 for a in calls if "log" in a) == 1
    assert len(changes) == 5000 + len(range(0, 5000, 7))
    assert {c.release for c in changes if c.change == "updated"} == {"v1.1"}
    assert {c.release for c in changes if c.change == "added"} == {"v1.0"}


# --- the page ------------------------------------------------------------------------------


def test_whats_new_page_groups_changes_by_release(repo):
    book = repo["book"]
    changes = record_changes(book, repo["project"])
    page = PageRenderer(book).render("whats-new.md.j2", "whats-new.md", changes=changes, feed="feed.xml")
    assert page.startswith("# What's new\n")
    assert "[Atom feed](feed.xml)" in page
    headings = [line for line in page.splitlines() if line.startswith("## ")]
    assert headings == ["## Not yet released", "## Release v1.1", "## Release v1.0"]
    assert "| 2026-02-01 | Updated | [Intravenous immunoglobulin](therapies/ivig.md) | Therapy |" in page
    assert "| 2026-01-15 | Added | [Fixture randomised trial of IVIG](studies/fixture-trial.md) | Study |" in page
    assert "guidelines/fixture-guideline.md#fixture-guideline-r01" in page
    assert f"all {len(changes)} changes" in page
    assert page.count("| Date | Change | Record | Kind |") == 3


def test_whats_new_page_lists_the_newest_200_and_says_so(project):
    book = build_model(project)
    ivig = book.by_id["ivig"]
    changes = [
        Change("ivig", "therapy", "IVIG <script>&", book.page(ivig), "updated", D("2026-01-01") + dt.timedelta(days=i), "v1.0", "")
        for i in range(250)
    ]
    changes.sort(key=history.change_order)
    page = PageRenderer(book).render("whats-new.md.j2", "whats-new.md", changes=changes, feed="feed.xml")
    assert "newest 200 of 250 changes" in page
    rows = [line for line in page.splitlines() if line.startswith("| 20")]
    assert len(rows) == 200 and rows[0].startswith("| 2026-09-07 |") and rows[-1].startswith("| 2026-02-20 |")
    assert "<script>" not in page and "IVIG &#60;script&#62;&#38;" in page


def test_whats_new_page_without_git(project):
    book = build_model(project)
    page = PageRenderer(book).render("whats-new.md.j2", "whats-new.md", changes=record_changes(book, project), feed="feed.xml")
    assert "## Records by date of last review" in page
    assert "| 2026-01-15 | Reviewed | [Intravenous immunoglobulin](therapies/ivig.md) | Therapy |" in page


def test_whats_new_page_puts_unreleased_first_and_reviewed_records_last(project):
    book = build_model(project)
    ivig = ("ivig", "therapy", "IVIG", "therapies/ivig.md", "updated")
    changes = [
        Change(*ivig, D("2026-03-01"), REVIEWED, ""),
        Change(*ivig, D("2026-02-01"), "v2.0", "abc"),
        Change(*ivig, D("2026-01-01"), UNRELEASED, ""),
        Change(*ivig, D("2025-12-01"), "v1.0", "def"),
    ]
    page = PageRenderer(book).render("whats-new.md.j2", "whats-new.md", changes=changes, feed="feed.xml")
    headings = [line for line in page.splitlines() if line.startswith("## ")]
    assert headings == ["## Not yet released", "## Release v2.0", "## Release v1.0", "## Records by date of last review"]


# --- the feed ------------------------------------------------------------------------------


def test_feed_is_atom_with_an_entry_per_change(repo):
    changes = record_changes(repo["book"], repo["project"])
    text = atom_feed(changes, SITE, "v1.1")
    feed = ET.fromstring(text.encode("utf-8"))
    assert feed.tag == f"{A}feed"
    assert feed.findtext(f"{A}id") == SITE
    assert feed.findtext(f"{A}updated") == "2026-05-01T00:00:00Z"
    assert feed.find(f"{A}link[@rel='self']").get("href") == SITE + "feed.xml"
    assert feed.find(f"{A}generator").get("version") == "v1.1"
    assert feed.find(f"{A}author/{A}name").text
    entries = feed.findall(f"{A}entry")
    assert len(entries) == len(changes)
    first = entries[0]
    assert first.findtext(f"{A}id") == SITE + "autoantibodies/anti-mda5/#2026-05-01"
    assert first.findtext(f"{A}title") == "Updated: Anti-MDA5 antibody"
    assert first.find(f"{A}link").get("href") == SITE + "autoantibodies/anti-mda5/"
    assert first.findtext(f"{A}updated") == "2026-05-01T00:00:00Z"
    assert first.findtext(f"{A}summary")
    for entry in entries:
        for tag in ("id", "title", "updated", "summary"):
            assert entry.findtext(f"{A}{tag}"), tag
        assert entry.find(f"{A}link").get("href").startswith(SITE)
    ids = [e.findtext(f"{A}id") for e in entries]
    assert len(set(ids)) == len(ids)
    added = [e.findtext(f"{A}title") for e in entries if e.findtext(f"{A}title").startswith("Added: ")]
    assert "Added: Fixture randomised trial of IVIG" in added
    recommendation = next(e for e in entries if "fixture-guideline-r01" in e.findtext(f"{A}id"))
    assert recommendation.find(f"{A}link").get("href") == SITE + "guidelines/fixture-guideline/#fixture-guideline-r01"


def test_feed_escapes_everything_and_is_deterministic():
    changes = [
        Change("x", "therapy", 'IVIG <script>alert("x")</script> & "more"\x07', "therapies/x.md", "added", D("2026-03-01"), "v1.0", "abc"),
        Change("y", "study", "Plain", "studies/y.md", "updated", D("2026-02-01"), UNRELEASED, ""),
    ]
    first = atom_feed(changes, SITE.rstrip("/"), "v1.0")
    assert first == atom_feed(list(changes), SITE, "v1.0")
    assert first.encode("utf-8") == atom_feed(changes, SITE, "v1.0").encode("utf-8")
    assert "<script>" not in first and "&lt;script&gt;" in first and "&amp;" in first
    feed = ET.fromstring(first.encode("utf-8"))
    entries = feed.findall(f"{A}entry")
    assert entries[0].findtext(f"{A}title") == 'Added: IVIG <script>alert("x")</script> & "more"'
    assert entries[1].findtext(f"{A}title") == "Updated: Plain"
    assert entries[0].findtext(f"{A}id") == SITE + "therapies/x/#2026-03-01"
    assert feed.findtext(f"{A}updated") == "2026-03-01T00:00:00Z"


def test_feed_limit_and_empty_feed():
    changes = [
        Change(f"r{i}", "therapy", f"R{i}", f"therapies/r{i}.md", "updated", D("2026-01-01") + dt.timedelta(days=i), "v1", "")
        for i in range(60)
    ]
    entries = ET.fromstring(atom_feed(changes, SITE, "v1").encode()).findall(f"{A}entry")
    assert len(entries) == 50 and entries[0].findtext(f"{A}title") == "Updated: R59"
    assert len(ET.fromstring(atom_feed(changes, SITE, "v1", limit=5).encode()).findall(f"{A}entry")) == 5
    empty = ET.fromstring(atom_feed([], SITE, "v1").encode())
    assert empty.findall(f"{A}entry") == [] and empty.findtext(f"{A}updated")
    with pytest.raises(ValueError):
        atom_feed(changes, "", "v1")
