"""Load the evidence records (YAML, with line numbers) and the bibliography.

PyYAML silently keeps the last of two duplicate keys and expands aliases without
limit, so records are built from the composed node tree ourselves: duplicate keys
and anchors/aliases become problems, and every value remembers its line.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from .problems import Problem

MAX_FILE_BYTES = 256 * 1024  # a record is a few kilobytes; anything larger is a mistake
MAX_BIB_BYTES = 64 * 1024 * 1024  # room for tens of thousands of references, not for a runaway file
KINDS = (
    "question",
    "subtype",
    "autoantibody",
    "criteria",
    "therapy",
    "drug-class",
    "study",
    "guideline",
    "recommendation",
    "outcome-measure",
    "topic",
    "source-review",
)

Path_ = tuple  # a path into a record: ("population", "subtypes", 0)


@dataclass
class Record:
    """One evidence record as its contributor wrote it, with the line of every value."""

    kind: str
    path: str  # relative to the project root, with forward slashes
    data: dict
    lines: dict = field(default_factory=dict, repr=False)

    @cached_property  # asked about a third of a million times at 5,000 records; records are not edited once loaded
    def id(self) -> str:
        return str(self.data.get("id", ""))

    @property
    def file_id(self) -> str:
        return Path(self.path).stem

    def line(self, at: Path_ = ()) -> int:
        """The line of the value at `at`, or of its nearest parent that has one."""
        at = tuple(at)
        while at not in self.lines and at:
            at = at[:-1]
        return self.lines.get(at, 1)


@dataclass
class BibEntry:
    key: str
    type: str
    fields: dict  # lower-case field name -> text
    persons: dict  # role -> list of pybtex Person
    line: int


@dataclass
class Bibliography:
    path: str
    entries: dict  # key -> BibEntry


_SCALAR_TYPES = {
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:float": float,
    "tag:yaml.org,2002:bool": bool,
    "tag:yaml.org,2002:null": None,
}


class _RecordLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader whose node tree we walk ourselves (libyaml's, when PyYAML has it: about 10x faster)."""


def _scalar(node: yaml.ScalarNode, loader: _RecordLoader):
    # Dates stay text: the schema checks their form and the rules their value.
    if node.tag in _SCALAR_TYPES:
        return loader.construct_object(node)
    return node.value


def _build(node, at, lines, problems, rel, loader):
    """The node's value as plain data; `lines` gets the line of every value inside it. (Scalars,
    most of the nodes, are built in their parent's loop: a call for each was a third of parsing.)"""
    if type(node) is yaml.ScalarNode:
        return _scalar(node, loader)
    if type(node) is yaml.SequenceNode:
        items = []
        for i, item in enumerate(node.value):
            lines[at + (i,)] = item.start_mark.line + 1
            items.append(_scalar(item, loader) if type(item) is yaml.ScalarNode else _build(item, at + (i,), lines, problems, rel, loader))
        return items
    result = {}
    for key_node, value_node in node.value:
        if type(key_node) is not yaml.ScalarNode:
            problems.append(Problem(rel, key_node.start_mark.line + 1, "", "a field name must be plain text"))
            continue
        key = key_node.value
        if key in result:
            first = lines.get(at + (key,), "?")
            problems.append(
                Problem(
                    rel,
                    key_node.start_mark.line + 1,
                    key,
                    f"this field appears twice in the same block (first on line {first})",
                    "keep one of them",
                )
            )
            continue
        path = at + (key,)
        lines[path] = value_node.start_mark.line + 1
        result[key] = (
            _scalar(value_node, loader) if type(value_node) is yaml.ScalarNode else _build(value_node, path, lines, problems, rel, loader)
        )
    return result


def _yaml_problem(rel: str, exc: yaml.YAMLError, source: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else 1
    text = getattr(exc, "problem", None) or str(exc)
    source_lines = source.splitlines()
    at_tab = mark is not None and mark.line < len(source_lines) and "\t" in source_lines[mark.line][: mark.column + 1]
    if at_tab or "\\t" in text or "\t" in text:
        return Problem(rel, line, "", "a tab character is used for indentation", "YAML needs spaces: replace each tab with two spaces")
    context = getattr(exc, "context", None)
    detail = f"{context}, {text}" if context else text
    return Problem(
        rel,
        line,
        "",
        f"this is not valid YAML: {detail}",
        "check indentation, the colon after each field name, and quotes around text containing ': '",
    )


def parse_yaml(text: str, rel: str) -> tuple[object, dict, list[Problem]]:
    """Parse one YAML document; return (data, lines, problems)."""
    problems: list[Problem] = []
    try:
        # Refuse anchors and aliases before composing: an alias bomb expands only when built.
        # Both need a '&' or a '*', so most records skip this second pass over the text.
        events = yaml.parse(text, Loader=_RecordLoader) if "&" in text or "*" in text else ()
        for event in events:
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                problems.append(
                    Problem(
                        rel,
                        event.start_mark.line + 1,
                        "",
                        "YAML anchors and aliases (& and *) are not allowed in records",
                        "write the value out in full",
                    )
                )
                return None, {}, problems
        loader = _RecordLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        return None, {}, [_yaml_problem(rel, exc, text)]
    if node is None:
        return None, {}, [Problem(rel, 1, "", "the file is empty", "start from `make new KIND=<kind> ID=<id>`")]
    lines: dict = {(): node.start_mark.line + 1}
    data = _build(node, (), lines, problems, rel, loader)
    return data, lines, problems


def read_text(
    path: Path, rel: str, limit: int = MAX_FILE_BYTES, what: str = "a record may have", fix: str = "split it into several records"
) -> tuple[str | None, list[Problem]]:
    """Read a contributor's file as UTF-8 text, refusing binary, oversized and mis-encoded files."""
    raw = path.read_bytes()
    if len(raw) > limit:
        return None, [Problem(rel, 1, "", f"the file is {len(raw):,} bytes, more than the {limit:,} {what}", fix)]
    if b"\x00" in raw:
        return None, [
            Problem(rel, raw[: raw.index(b"\x00")].count(b"\n") + 1, "", "the file is binary, not text", "save it as plain UTF-8 text")
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(rel, line, "", f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})", "save it with UTF-8 encoding")]
    return text.lstrip("\ufeff"), []


def load_records(root: Path, cache: ParseCache | None = None) -> tuple[list[Record], list[Problem]]:
    """Every evidence/<kind>/<id>.yaml below root, sorted by path."""
    records: list[Record] = []
    problems: list[Problem] = []
    evidence = root / "evidence"
    for path in sorted(evidence.rglob("*")):
        if path.is_dir():
            continue
        rel = path.relative_to(root).as_posix()
        parts = path.relative_to(evidence).parts
        if path.name.startswith(".") or path.name == "README.md":
            continue
        if len(parts) != 2 or parts[0] not in KINDS:
            problems.append(Problem(rel, 1, "", "records belong in evidence/<kind>/<id>.yaml", "kinds: " + ", ".join(KINDS)))
            continue
        if path.suffix != ".yaml":
            problems.append(Problem(rel, 1, "", "a record file must end in .yaml", f"rename it to {path.stem}.yaml"))
            continue
        text, read_problems = read_text(path, rel)
        problems += read_problems
        if text is None:
            continue
        data, lines, parse_problems = cache.parsed(rel, text, parse_yaml) if cache else parse_yaml(text, rel)
        problems += parse_problems
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(rel, 1, "", "a record must be a block of `field: value` lines"))
            continue
        records.append(Record(kind=parts[0], path=rel, data=data, lines=lines))
    return records, problems


_ENTRY_START = re.compile(r"^[ \t]*@([A-Za-z]+)[ \t]*[{(][ \t]*([^,\s]*)", re.MULTILINE)


def load_bibliography(path: Path, root: Path, cache: ParseCache | None = None) -> tuple[Bibliography, list[Problem]]:
    """Parse references.bib, reporting syntax errors and duplicate keys with their lines."""
    return bibliography_started(path, root, cache)()


# A references.bib this large is parsed in a child process while the records are parsed (pybtex
# takes about 1.3 s for the 4,500 references of 5,000 synthetic records, PyYAML about 1.1 s for the
# records themselves); below it, starting a process costs more than it saves.
APART_BYTES = 256 * 1024


def bibliography_started(path: Path, root: Path, cache: ParseCache | None = None):
    """Start reading references.bib; returns a function that gives what load_bibliography gives.
    A large file that the parse cache does not hold is parsed meanwhile in a forked child."""
    rel = path.relative_to(root).as_posix()
    text, problems = (
        read_text(path, rel, MAX_BIB_BYTES, "references.bib may have", "look for a runaway or pasted file")
        if path.exists()
        else (None, [Problem(rel, 1, "", "references.bib is missing")])
    )
    if text is None:
        return lambda: (Bibliography(rel, {}), problems)
    if cache and cache.holds(rel, text):
        return lambda: cache.parsed(rel, text, parse_bibliography)
    result = _parse_apart(text, rel)
    return (lambda: cache.parsed(rel, text, lambda _text, _rel: result())) if cache else result


def _parse_apart(text: str, rel: str):
    """parse_bibliography(text, rel) in a forked child, handed back as plain data (as the parse cache
    keeps it). The parent parses it itself when it cannot fork (not POSIX, or other threads running,
    as under make serve, where a fork could copy a lock another thread holds), when the child fails,
    and when the file has problems: they are then reported by the same code as always."""
    import threading

    if not hasattr(os, "fork") or len(text) < APART_BYTES or threading.active_count() > 1:
        return lambda: parse_bibliography(text, rel)
    import pybtex.database  # noqa: F401  imported before the fork, so the child does not import it

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse, write the result, and leave without running the parent's exit code
        try:
            os.close(read)
            with os.fdopen(write, "wb") as out:
                out.write(marshal.dumps(_plain(parse_bibliography(text, rel))))
        finally:
            os._exit(0)
    os.close(write)

    def result() -> tuple[Bibliography, list[Problem]]:
        with os.fdopen(read, "rb") as received:
            data = received.read()  # all of it before waiting, or a large result would fill the pipe
        os.waitpid(pid, 0)
        try:
            plain = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            plain = None
        return _unplain(plain) if plain else parse_bibliography(text, rel)

    return result


def parse_bibliography(text: str, rel: str) -> tuple[Bibliography, list[Problem]]:
    from pybtex.database import parse_string
    from pybtex.scanner import PybtexSyntaxError

    problems: list[Problem] = []
    starts: dict[str, int] = {}
    line, counted = 1, 0  # counted incrementally: counting from the top for each entry was quadratic
    for m in _ENTRY_START.finditer(text):
        line, counted = line + text.count("\n", counted, m.start()), m.start()
        if m.group(1).lower() in ("comment", "string", "preamble"):
            continue
        key = m.group(2)
        if key in starts:
            problems.append(
                Problem(
                    rel, line, key, f"this key is used twice (first on line {starts[key]})", "keep one entry, or give the other a new key"
                )
            )
        else:
            starts[key] = line
    if problems:
        return Bibliography(rel, {}), problems
    try:
        data = parse_string(text, "bibtex")
    except PybtexSyntaxError as exc:
        line = getattr(exc, "lineno", None) or 1
        return Bibliography(rel, {}), [
            Problem(
                rel, line, "", f"BibTeX syntax error: {exc.args[0] if exc.args else exc}", "check braces and the comma after each field"
            )
        ]
    except Exception as exc:  # pybtex raises several error types; all mean the file cannot be read
        return Bibliography(rel, {}), [Problem(rel, 1, "", f"references.bib cannot be read: {exc}")]
    entries = {}
    for key, entry in data.entries.items():
        fields = {name.lower(): str(value) for name, value in entry.fields.items()}
        entries[key] = BibEntry(key, entry.type.lower(), fields, dict(entry.persons), starts.get(key, 1))
    return Bibliography(rel, entries), []


def load(root: Path, cache: ParseCache | None = None) -> tuple[list[Record], Bibliography, list[Problem]]:
    """Load every record and the bibliography, with the reading problems found on the way."""
    bibliography = bibliography_started(root / "references.bib", root, cache)  # in a child meanwhile, when large
    records, problems = load_records(root, cache)
    bibliography, bib_problems = bibliography()
    return records, bibliography, problems + bib_problems


# Below the project root, beside build/ and not in it: build/ exists only after a build that passed.
CACHE = Path(".cache") / "parsed.marshal"

_NAME_PARTS = ("first_names", "middle_names", "prelast_names", "last_names", "lineage_names")  # pybtex's Person


class ParseCache:
    """What parsing each record file and references.bib gave in the last build that passed, by the
    hash of the text. Parsing is pure, and at 5,000 records it is about 1.6 s of every build and every
    `make serve` rebuild (PyYAML and pybtex); reading this file back takes about a tenth of that.

    The file holds plain data only (a record's values and lines; each reference's fields and the
    parts of each name), written with marshal: pickling pybtex's objects took four times as long.
    The key also holds this module's source and the parsers' versions, so a change to either
    parses everything anew. The file is written only after a run whose records and bibliography
    had no problem, atomically, and only when it would change."""

    def __init__(self, path: Path):
        self.path = path
        self.salt = _cache_salt()
        self.old: dict = {}
        self.used: dict = {}
        self.parsed_anew = 0
        try:
            salt, entries = marshal.loads(path.read_bytes())
            if salt == self.salt:
                self.old = entries
        except Exception:  # no file yet, or one from an older build that cannot be read: parse anew
            pass

    def holds(self, what: str, text: str) -> bool:
        return self._key(what, text) in self.old

    @staticmethod
    def _key(what: str, text: str) -> str:
        return hashlib.sha256(f"{what}\0{text}".encode()).hexdigest()

    def parsed(self, what: str, text: str, parse):
        key = self._key(what, text)
        stored = self.old.pop(key, None)  # what is left in old at the end is no longer read
        if stored is None:
            value = parse(text, what)  # parse(text, rel): the parser names the file in its problems
            self.parsed_anew += 1
            self.used[key] = _plain(value)
        else:
            value = _unplain(stored)
            self.used[key] = stored
        return value

    def save(self) -> None:
        if not self.parsed_anew and not self.old:
            return  # every entry came from the file, and the file holds nothing else: it is current
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.part")  # two builds at once each write their own
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(marshal.dumps((self.salt, self.used)))
            os.replace(partial, self.path)
        except OSError:  # a read-only checkout or a full disk: the next build parses anew, nothing else is lost
            partial.unlink(missing_ok=True)


def _plain(value) -> tuple:
    """A parse result as marshal stores it. Only a run without problems saves the cache, so what is
    saved has none; a result that had some is kept as None, which reads as "parse anew"."""
    if isinstance(value[0], Bibliography):
        bibliography, problems = value
        entries = {
            key: (
                e.type,
                e.fields,
                {role: [tuple(getattr(p, part) for part in _NAME_PARTS) for p in people] for role, people in e.persons.items()},
                e.line,
            )
            for key, e in bibliography.entries.items()
        }
        return None if problems else ("bib", bibliography.path, entries)
    data, lines, problems = value
    return None if problems else ("yaml", data, lines)


def _unplain(stored: tuple):
    if stored[0] == "yaml":
        return stored[1], stored[2], []
    from pybtex.database import Person

    entries = {}
    for key, (type_, fields, persons, line) in stored[2].items():
        people = {}
        for role, names in persons.items():
            people[role] = [_person(Person, parts) for parts in names]
        entries[key] = BibEntry(key, type_, fields, people, line)
    return Bibliography(stored[1], entries), []


def _person(Person, parts):
    from .adapters import restored_person

    return restored_person(Person, dict(zip(_NAME_PARTS, parts, strict=True)))


def _cache_salt() -> str:
    import pybtex

    source = Path(__file__).read_bytes()
    versions = f"{sys.version}|{yaml.__version__}|{getattr(pybtex, '__version__', '')}|{yaml.__with_libyaml__}"
    return hashlib.sha256(source + versions.encode()).hexdigest()
