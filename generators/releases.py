"""Versions and releases: the handbook's semantic version, and what changed between releases.

- A release is a git tag `vMAJOR.MINOR.PATCH` (semantic versions: MAJOR for a change of the record
  format or of what a reader can rely on, MINOR for added or revised evidence, PATCH for corrections).
  CITATION.cff names the newest release; the release workflow refuses a tag that differs from it.
- `version(root)`: "1.3.0" on a release tag with nothing uncommitted; after it,
  "1.3.0+4.g1a2b3c4" (commits since the release and the commit, as semantic-version build
  metadata), with ".dirty" for uncommitted edits; before any release, "<CITATION.cff version>-dev"
  with the same metadata; "unversioned" without git.
- `release_changes(root)`: for every release, each record's and reference's changes since the
  previous release, field by field, with the commit (or pull-request) subjects that made them; and
  the changes since the newest release that are not yet released. Records are read from the tags
  with one `git cat-file --batch` per release, never one call per file.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .history import _git, _NoGit

RELEASE_TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
UNRELEASED = "unreleased"
SHORT = 100  # characters: a value this short is shown whole, old and new; a longer one as a diff of words
_SEP, _FIELD = "\x1e", "\x1f"
_MERGE = re.compile(r"^Merge pull request #(\d+) from \S+$")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def citation_version(root: Path) -> str:
    """The version CITATION.cff gives (the newest release), or "0.0.0"."""
    try:
        text = (root / "CITATION.cff").read_text(encoding="utf-8")
    except OSError:
        return "0.0.0"
    match = re.search(r"^version:\s*['\"]?([\w.+-]+)", text, re.M)
    return match.group(1) if match else "0.0.0"


def version(root: Path) -> str:
    try:
        described = _git(root, "describe", "--tags", "--long", "--dirty", "--match", "v[0-9]*.[0-9]*.[0-9]*", "--abbrev=7").strip()
    except _NoGit:
        described = ""
    dirty = described.endswith("-dirty")
    described = described.removesuffix("-dirty")
    match = re.match(r"^v(\d+\.\d+\.\d+)-(\d+)-(g[0-9a-f]+)$", described)
    if match:
        release, ahead, commit = match.groups()
        if ahead == "0" and not dirty:
            return release
        meta = ([f"{ahead}.{commit}"] if ahead != "0" else [commit]) + (["dirty"] if dirty else [])
        return f"{release}+{'.'.join(meta)}"
    try:  # no release yet
        commit = "g" + _git(root, "rev-parse", "--short=7", "HEAD").strip()
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no").strip())
    except _NoGit:
        return "unversioned"
    return f"{citation_version(root)}-dev+{commit}{'.dirty' if dirty else ''}"


def release_tags(root: Path) -> list[str]:
    """Release tags, oldest version first."""
    try:
        tags = _git(root, "tag", "--list", "v*").split()
    except _NoGit:
        return []
    return sorted((t for t in tags if RELEASE_TAG.match(t)), key=lambda t: tuple(map(int, RELEASE_TAG.match(t).groups())))


# --- what changed ------------------------------------------------------------------------


@dataclass
class FieldChange:
    field: str  # "results[0].text", "last_reviewed"
    old: str  # "" when the field was added
    new: str  # "" when the field was removed
    diff: tuple = ()  # for long values: the word runs of word_diff

    @property
    def kind(self) -> str:
        return "added" if not self.old else "removed" if not self.new else "changed"


@dataclass
class ItemChange:
    what: str  # "record" | "reference"
    key: str  # "study/proderm" or a citation key
    title: str
    change: str  # "added" | "removed" | "changed"
    fields: list[FieldChange] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # commit or pull-request subjects, oldest first


@dataclass
class Release:
    version: str  # "1.3.0", or UNRELEASED
    tag: str  # "v1.3.0", or "" for what is not yet released
    previous: str  # "1.2.0", or "" for the first release
    date: str  # the tag's commit date, YYYY-MM-DD ("" when unreleased)
    items: list[ItemChange]

    @property
    def page(self) -> str:
        return f"changes/{self.version}.md"


def flatten(value, at: str = "") -> dict[str, str]:
    """A record as field path -> text; lists of plain values are one field, written "a; b"."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{at}.{key}" if at else str(key)))
        return out
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return {at: "; ".join(_plain(v) for v in value)} if value else {}
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{at}[{i}]"))
        return out
    return {at: _plain(value)} if value not in (None, "") else {}


def _plain(value) -> str:
    return " ".join(str(value).split())


def word_diff(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """The words of the new text in runs: ("=", kept), ("-", removed) and ("+", added)."""
    a, b = old.split(), new.split()
    runs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("=", " ".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            runs.append(("-", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            runs.append(("+", " ".join(b[j1:j2])))
    return tuple(runs)


def field_changes(old: dict, new: dict) -> list[FieldChange]:
    a, b = flatten(old), flatten(new)
    changes = []
    for path in list(dict.fromkeys([*a, *b])):
        before, after = a.get(path, ""), b.get(path, "")
        if before == after:
            continue
        long = max(len(before), len(after)) > SHORT and before and after
        changes.append(FieldChange(path, before, after, word_diff(before, after) if long else ()))
    return changes


def _records_at(root: Path, tag: str) -> dict[str, dict]:
    """evidence/<kind>/<id>.yaml at a tag -> its data ("" tag: the working tree)."""
    if not tag:
        return {p.relative_to(root).as_posix(): _load(p.read_text(encoding="utf-8")) for p in sorted(root.glob("evidence/*/*.yaml"))}
    listed = _git(root, "ls-tree", "-r", "--name-only", "-z", tag, "--", "evidence/").split("\0")
    paths = [p for p in listed if re.match(r"^evidence/[^/]+/[^/]+\.yaml$", p)]
    return dict(zip(paths, map(_load, _blobs(root, [f"{tag}:{p}" for p in paths])), strict=True))


def _blobs(root: Path, names: list[str]) -> list[str]:
    """The text of each `rev:path` through one `git cat-file --batch` (read as bytes: sizes count bytes)."""
    if not names:
        return []
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    try:
        out = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=root,
            input=("\n".join(names) + "\n").encode(),
            capture_output=True,
            env=env,
            timeout=120,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise _NoGit(str(error)) from error
    texts, position = [], 0
    for _ in names:
        header_end = out.index(b"\n", position)
        header = out[position:header_end].split()
        if len(header) < 3 or header[1] != b"blob":
            raise _NoGit(f"not a file at that revision: {header!r}")
        size = int(header[2])
        texts.append(out[header_end + 1 : header_end + 1 + size].decode("utf-8", "replace"))
        position = header_end + 1 + size + 1
    return texts


def _load(text: str) -> dict:
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _bibliography_at(root: Path, tag: str) -> dict[str, dict]:
    from pybtex.database import parse_string

    if tag:
        try:
            text = _blobs(root, [f"{tag}:references.bib"])[0]
        except (_NoGit, ValueError, IndexError):
            return {}
    else:
        path = root / "references.bib"
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        data = parse_string(text, "bibtex")
    except Exception:  # a broken file at an old tag: its references are simply not compared
        return {}
    out = {}
    for key, entry in data.entries.items():
        fields = {k.lower(): v for k, v in entry.fields.items()}
        for role, people in entry.persons.items():
            fields[role.lower()] = "; ".join(str(p) for p in people)
        out[key] = fields
    return out


def _reasons(root: Path, since: str, until: str) -> dict[str, list[str]]:
    """File path -> the subjects of the commits between two revisions that touched it (a merged pull
    request gives its title and number instead of its merge subject), oldest first."""
    span = f"{since}..{until}" if since else until
    log = _git(
        root,
        "log",
        "--reverse",
        "--no-color",
        "-m",
        "--first-parent",
        f"--format={_SEP}%s{_FIELD}%b{_FIELD}",
        "--name-only",
        span,
        "--",
        "evidence/",
        "references.bib",
    )
    reasons: dict[str, list[str]] = {}
    for chunk in log.split(_SEP)[1:]:
        subject, body, names = chunk.split(_FIELD, 2)
        merge = _MERGE.match(subject)
        if merge:
            title = next((line.strip() for line in body.splitlines() if line.strip()), "")
            subject = f"{title} (pull request #{merge.group(1)})" if title else f"pull request #{merge.group(1)}"
        for name in names.split():
            reasons.setdefault(name, [])
            if subject not in reasons[name]:
                reasons[name].append(subject)
    return reasons


def _compare(old: dict, new: dict, what: str, title_of, reasons_of) -> list[ItemChange]:
    items = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        fields = field_changes(before or {}, after or {}) if change == "changed" else []
        if change == "changed" and not fields:
            continue  # only formatting or comments changed
        items.append(ItemChange(what, key, title_of(key, after or before), change, fields, reasons_of(key)))
    return items


def compare(root: Path, since: str, until: str) -> list[ItemChange]:
    """Every record and reference that differs between two tags ("" until: the working tree)."""
    old = {_record_key(p): d for p, d in _records_at(root, since).items()} if since else {}
    new = {_record_key(p): d for p, d in _records_at(root, until).items()}
    try:
        reasons = _reasons(root, since, until or "HEAD")
    except _NoGit:
        reasons = {}
    uncommitted = ["not yet committed"] if not until else []

    def record_reasons(key: str) -> list[str]:
        return reasons.get(f"evidence/{key}.yaml", []) or uncommitted

    items = _compare(old, new, "record", lambda key, data: str(data.get("title", key)), record_reasons)
    bib_old = _bibliography_at(root, since) if since else {}
    bib_new = _bibliography_at(root, until)
    items += _compare(
        bib_old, bib_new, "reference", lambda key, data: _plain(data.get("title", key)).replace("{", "").replace("}", ""),
        lambda key: reasons.get("references.bib", []) or uncommitted,
    )  # fmt: skip
    return items


def _record_key(path: str) -> str:
    return path.removeprefix("evidence/").removesuffix(".yaml")


def _tag_date(root: Path, tag: str) -> str:
    return _git(root, "log", "-1", "--format=%cs", f"{tag}^{{commit}}").strip()


def release_changes(root: Path) -> list[Release]:
    """Every release, newest first, each with what changed since the one before; first, what is not yet
    released since the newest release (only when there is a release and something changed)."""
    tags = release_tags(root)
    releases = []
    for i, tag in enumerate(tags):
        previous = tags[i - 1] if i else ""
        try:
            items = compare(root, previous, tag)
            date = _tag_date(root, tag)
        except _NoGit:
            continue
        releases.append(Release(tag[1:], tag, previous[1:], date, items))
    if tags:
        try:
            pending = compare(root, tags[-1], "")
        except _NoGit:
            pending = []
        if pending:
            releases.append(Release(UNRELEASED, "", tags[-1][1:], "", pending))
    return list(reversed(releases))


# --- preparing a release ------------------------------------------------------------------


class ReleaseError(Exception):
    pass


def prepare_release(root: Path, new: str, date: str) -> list[Path]:
    """Write a new release's version (and date) into CITATION.cff, .zenodo.json and pyproject.toml.
    The version must follow the newest release tag; tagging and pushing stay with the maintainer."""
    match = RELEASE_TAG.match("v" + new)
    if not match:
        raise ReleaseError(f'"{new}" is not a semantic version MAJOR.MINOR.PATCH such as 1.2.0')
    tags = release_tags(root)
    if tags and tuple(map(int, match.groups())) <= tuple(map(int, RELEASE_TAG.match(tags[-1]).groups())):
        raise ReleaseError(f"{new} does not follow the newest release, {tags[-1][1:]}")
    edits = {
        "CITATION.cff": [(r"^version:.*$", f"version: {new}"), (r"^date-released:.*$", f'date-released: "{date}"')],
        ".zenodo.json": [(r'"version": "[^"]*"', f'"version": "{new}"'), (r'"publication_date": "[^"]*"', f'"publication_date": "{date}"')],
        "pyproject.toml": [(r'^version = "[^"]*"', f'version = "{new}"')],
    }
    written = []
    for name, replacements in edits.items():
        path = root / name
        text = path.read_text(encoding="utf-8")
        for pattern, value in replacements:
            text, count = re.subn(pattern, value, text, count=1, flags=re.M)
            if not count and "date" in pattern:  # the first release adds its date
                if name == "CITATION.cff":
                    text = re.sub(r"^(version:.*)$", rf'\1\ndate-released: "{date}"', text, count=1, flags=re.M)
                else:
                    text = re.sub(r'("version": "[^"]*",)', rf'\1\n  "publication_date": "{date}",', text, count=1)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
