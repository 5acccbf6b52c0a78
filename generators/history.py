"""What changed, and when: the "What's new" page and the Atom feed.

Changes come from the git history of evidence/, read with one `git log` for the whole
folder (plus one `git rev-list` per release tag), never one call per record:

- a record's first commit is "added", each later commit that touches it is "updated"
  (renames are followed; a pure rename is not a change of its own);
- at most one change per record per day: "added" if the record was added that day, otherwise
  "updated", with the day's newest commit (and that commit's release);
- a record whose `last_reviewed` is newer than its newest commit also gets an "updated"
  change on its `last_reviewed` date (the date it was reviewed); it belongs to the release of
  that commit, or to "unreleased" with no commit when the record file has uncommitted edits;
- a record file git has never committed is "added" on its `last_reviewed` date, "unreleased";
- the release of a commit is the oldest tag (by creation date, then version) that contains it,
  or "unreleased";
- without git history (not a git repository, git not installed, or a shallow clone whose
  history stops before the record's first commit), a record is "updated" on its
  `last_reviewed` date in the group "records reviewed".

Nothing reads the clock: for the same commit and working tree the output is identical.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .identity import AUTHOR, FEED_TITLE, LICENCE_LABEL, NAME
from .model import Handbook, url_path

UNRELEASED = "unreleased"
REVIEWED = "records reviewed"  # the group of changes known only from last_reviewed
ATOM = "http://www.w3.org/2005/Atom"
GIT_TIMEOUT = 120  # seconds; the whole history of evidence/ in one call
_SEP = "\x1e"  # starts each commit in the git log output (record file names never contain it)
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Change:
    record_id: str
    kind: str
    title: str
    page: str  # book.page(record), e.g. therapies/ivig.md
    change: str  # "added" | "updated"
    date: dt.date
    release: str  # a tag such as "v1.2", "unreleased", or "records reviewed"
    commit: str  # full hash, "" when the change is not a commit


def change_order(change: Change):
    """Newest first; on one day, by kind, then id."""
    return (-change.date.toordinal(), change.kind, change.record_id)


# --- git -------------------------------------------------------------------------------


class _NoGit(Exception):
    """The project's history cannot be read from git."""


def _git(root: Path, *args: str, stdin: str | None = None) -> str:
    # Variables a git hook may have set would point git at another repository or index.
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    env["LC_ALL"] = "C"
    try:
        result = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=root,
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            env=env,
            timeout=GIT_TIMEOUT,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise _NoGit(str(error)) from None
    if result.returncode != 0:
        raise _NoGit(result.stderr.strip())
    return result.stdout


@dataclass
class _Event:
    date: dt.date
    change: str  # "added" | "updated"
    commit: str


@dataclass
class _History:
    events: dict  # record path -> [_Event], newest first
    truncated: set  # record paths whose history starts at a shallow clone's boundary
    releases: dict  # commit -> tag
    dirty: set  # record paths with uncommitted changes (index or working tree)


def _git_history(root: Path, record_paths: list[str]) -> _History:
    """Read the history of evidence/; raise _NoGit when root is not in a git work tree."""
    lines = _git(root, "rev-parse", "--show-prefix", "--git-path", "shallow").split("\n")
    prefix, shallow_file = lines[0], lines[1]
    shallow_path = root / shallow_file
    boundary = set(shallow_path.read_text().split()) if shallow_path.is_file() else set()
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    except _NoGit:  # a repository without any commit yet: every record is new
        return _History({}, set(), {}, set(record_paths))
    log = _git(root, "log", "-z", "--date-order", "-M", "--no-color", f"--format={_SEP}%H%x09%cs", "--name-status", "--", "evidence/")

    # Walk from the newest commit back, following each record file through renames.
    following = {prefix + path: path for path in record_paths}  # path at this point in history -> record path
    events: dict[str, list[_Event]] = defaultdict(list)
    truncated: set[str] = set()
    for chunk in log.split(_SEP)[1:]:
        header, _, body = chunk.partition("\0")
        commit, _, date_text = header.partition("\t")
        date = dt.date.fromisoformat(date_text)
        tokens = body.lstrip("\n").split("\0")
        i = 0
        while i < len(tokens) and tokens[i]:
            status = tokens[i]
            if status[0] in "RC":
                old, new = tokens[i + 1], tokens[i + 2]
                i += 3
            else:
                old = new = tokens[i + 1]
                i += 2
            record = following.get(new)
            if record is None:
                continue
            if commit in boundary and status[0] == "A":
                # A shallow clone shows every file as added in its oldest commit: the record's
                # earlier history, including when it was added, is unknown.
                truncated.add(record)
                del following[new]
            elif status[0] in "AC":
                events[record].append(_Event(date, "added", commit))
                del following[new]  # older commits at this path belong to an earlier, deleted file
            elif status[0] == "R":
                if status != "R100":  # a pure rename changes nothing a reader sees
                    events[record].append(_Event(date, "updated", commit))
                del following[new]
                following[old] = record
            elif status[0] in "MT":
                events[record].append(_Event(date, "updated", commit))

    status = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", "evidence/")
    dirty = set()
    tokens = status.split("\0")
    i = 0
    while i < len(tokens) and tokens[i]:
        entry = tokens[i]
        dirty.add(entry[3:])
        i += 2 if entry[0] in "RC" else 1  # a rename in the index is followed by its old name
    dirty = {path[len(prefix) :] for path in dirty if path.startswith(prefix)}
    return _History(dict(events), truncated, _releases(root), dirty)


def _releases(root: Path) -> dict[str, str]:
    """commit -> the oldest tag containing it (one rev-list per tag, each walking only new commits)."""
    refs = _git(root, "for-each-ref", "--sort=version:refname", "--sort=creatordate", "--format=%(refname:short)", "refs/tags")
    release: dict[str, str] = {}
    earlier: list[str] = []
    for tag in refs.split():
        revs = "\n".join([f"refs/tags/{tag}^{{commit}}", *(f"^refs/tags/{t}^{{commit}}" for t in earlier)]) + "\n"
        try:
            commits = _git(root, "rev-list", "--stdin", "--", "evidence/", stdin=revs).split()
        except _NoGit:  # a tag of a tree or blob, or of a commit a shallow clone lacks
            continue
        for commit in commits:
            release.setdefault(commit, tag)
        earlier.append(tag)
    return release


# --- changes ---------------------------------------------------------------------------


def _reviewed(record) -> dt.date:
    return dt.date.fromisoformat(str(record.data["last_reviewed"]))


def record_changes(book: Handbook, root: Path) -> list[Change]:
    """Every change to every live record, newest first (date, then kind, then id)."""
    root = Path(root)
    records = sorted(book.records, key=lambda r: r.path)
    try:
        history = _git_history(root, [r.path for r in records])
    except _NoGit:
        history = None
    changes: list[Change] = []
    for record in records:

        def change(kind: str, date: dt.date, release: str, commit: str = "", record=record) -> Change:
            title = str(record.data.get("title") or record.id)
            return Change(record.id, record.kind, title, book.page(record), kind, date, release, commit)

        reviewed = _reviewed(record)
        events = history.events.get(record.path, []) if history else []
        if not events:
            if history is None or record.path in history.truncated:
                changes.append(change("updated", reviewed, REVIEWED))
            else:  # never committed
                changes.append(change("added", reviewed, UNRELEASED))
            continue
        by_day: dict[dt.date, list[_Event]] = defaultdict(list)
        for event in events:  # newest first
            by_day[event.date].append(event)
        for date, day in by_day.items():
            kind = "added" if any(e.change == "added" for e in day) else "updated"
            commit = day[0].commit
            changes.append(change(kind, date, history.releases.get(commit, UNRELEASED), commit))
        newest = events[0]
        if reviewed > newest.date:
            if record.path in history.dirty:
                changes.append(change("updated", reviewed, UNRELEASED))
            else:
                changes.append(change("updated", reviewed, history.releases.get(newest.commit, UNRELEASED), newest.commit))
    return sorted(changes, key=change_order)


# --- Atom feed -------------------------------------------------------------------------


def _text(value) -> str:
    return _NOT_XML.sub("", " ".join(str(value).split()))


def _stamp(date: dt.date) -> str:
    return f"{date.isoformat()}T00:00:00Z"


def atom_feed(changes: list[Change], site_url: str, version: str, releases=(), limit: int = 50) -> str:
    """The newest `limit` changes as an Atom 1.0 document (ElementTree escapes every value), and one entry
    per release (generators.releases) linking to its page of changes since the version before."""
    if not site_url:
        raise ValueError("the Atom feed needs the site's absolute URL (site_url in mkdocs.yml)")
    base = site_url.rstrip("/") + "/"
    newest = sorted(changes, key=change_order)[: max(limit, 0)]

    def sub(parent, tag: str, text: str | None = None, **attributes) -> ET.Element:
        element = ET.SubElement(parent, tag, {k: _text(v) for k, v in attributes.items()})
        if text is not None:
            element.text = _text(text)
        return element

    feed = ET.Element("feed", {"xmlns": ATOM})
    sub(feed, "id", base)
    sub(feed, "title", FEED_TITLE)
    sub(feed, "subtitle", "Evidence records added or updated, newest first.")
    sub(feed, "updated", _stamp(newest[0].date) if newest else _stamp(dt.date(1970, 1, 1)))
    sub(feed, "link", rel="self", type="application/atom+xml", href=base + "feed.xml")
    sub(feed, "link", rel="alternate", type="text/html", href=base + "whats-new/")
    author = sub(feed, "author")
    sub(author, "name", AUTHOR)
    sub(feed, "generator", NAME, version=version or "unversioned")
    sub(feed, "rights", f"Content {LICENCE_LABEL}")
    seen: set[str] = set()
    for change in newest:
        url = base + url_path(change.page)
        # A recommendation shares its guideline's page: its anchor keeps the entry apart.
        anchor = change.record_id if change.kind == "recommendation" else ""
        entry_id = f"{url}#{anchor + '-' if anchor else ''}{change.date.isoformat()}"
        if entry_id in seen:
            continue
        seen.add(entry_id)
        entry = sub(feed, "entry")
        sub(entry, "id", entry_id)
        sub(entry, "title", f"{'Added' if change.change == 'added' else 'Updated'}: {change.title}")
        sub(entry, "link", rel="alternate", type="text/html", href=url + (f"#{anchor}" if anchor else ""))
        sub(entry, "updated", _stamp(change.date))
        sub(entry, "category", term=change.kind)
        where = "not yet released" if change.release == UNRELEASED else ("" if change.release == REVIEWED else f"release {change.release}")
        what = "reviewed" if change.release == REVIEWED else change.change
        summary = f"{change.kind.replace('-', ' ').capitalize()} record {what} on {change.date.isoformat()}"
        summary += f" ({where})." if where else "."
        sub(entry, "summary", summary)
    for release in releases:
        if not release.tag:
            continue  # not yet released: the entries above cover it
        url = base + url_path(release.page)
        entry = sub(feed, "entry")
        sub(entry, "id", url)
        sub(
            entry,
            "title",
            f"Version {release.version} released" + (f": changes since version {release.previous}" if release.previous else ""),
        )
        sub(entry, "link", rel="alternate", type="text/html", href=url)
        sub(entry, "updated", _stamp(dt.date.fromisoformat(release.date)))
        sub(entry, "category", term="release")
        records = sum(1 for item in release.items if item.what == "record")
        references = len(release.items) - records
        sub(
            entry,
            "summary",
            f"{records} records and {references} references differ from version {release.previous or 'none (first release)'}.",
        )
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


__all__ = ["Change", "atom_feed", "record_changes", "REVIEWED", "UNRELEASED"]
