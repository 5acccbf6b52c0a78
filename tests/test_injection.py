"""Nothing a record contains can become markup: property tests on generated strings, and a
full build with a script payload in every free-text field, checked in the HTML and in Chromium."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import markdown
import pytest
import yaml
from conftest import FIXTURE, Visit, build, make_project, served
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from generators.load import Record, load
from generators.model import derive
from generators.render import PageRenderer
from generators.validate import check_schema

EXTENSIONS = ["tables", "admonition", "attr_list", "footnotes", "toc"]  # as in mkdocs.yml
PAYLOAD = (
    '</title></textarea><script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
    '[x](javascript:window.__pwned=1) **b** {: onclick="window.__pwned=1"}'
)
FORBIDDEN_TAGS = {"script", "img", "iframe", "object", "embed", "style", "svg", "form", "input", "link", "meta", "base"}


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.script_text: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data):
        (self.script_text if set(self._open) & {"script", "style"} else self.text).append(data)


def parse(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    return collector


def assert_inert(html: str) -> None:
    for tag, attrs in parse(html).tags:
        assert tag not in FORBIDDEN_TAGS, f"<{tag}> came through"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            assert not (value or "").strip().lower().startswith("javascript:"), f"javascript: URL on <{tag}>"


# --- property tests: generated text in each kind of text field ------------------------

_records, _bib, _problems = load(FIXTURE)
assert not _problems
BY_ID = {r.id: r for r in _records}

# (record id, path to the field, page the field appears on)
FIELDS = [
    ("ivig", ("title",), "therapies/ivig.md"),
    ("ivig", ("summary",), "therapies/ivig.md"),
    ("ivig", ("aliases", 0), "therapies/ivig.md"),
    ("ivig", ("mechanism", 0, "text"), "therapies/ivig.md"),
    ("fixture-trial", ("population", "description"), "therapies/ivig.md"),  # a table cell
    ("fixture-trial", ("results", 0, "text"), "studies/fixture-trial.md"),
    ("fixture-trial", ("intervention",), "studies/fixture-trial.md"),
    ("fixture-criteria", ("items", 0, "item"), "criteria/fixture-criteria.md"),
    ("fixture-guideline-r01", ("statement",), "guidelines/fixture-guideline.md"),
]

# Any Unicode text, with the characters that start markup made much more likely.
MARKUP = st.sampled_from(list("<>&\"'`*_[](){}!#|\\@:=-+.~^$%;/") + ["javascript:", "<script>", "](", "{:", "\n", "\t", "1. "])
TEXT = st.lists(st.one_of(MARKUP, st.text(min_size=1, max_size=5)), min_size=1, max_size=30).map("".join).filter(str.strip)


def render_with(record_id: str, path: tuple, value: str, page: str) -> str:
    records = []
    for record in _records:
        data = copy.deepcopy(record.data)
        if record.id == record_id:
            target = data
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
            assume(not check_schema(Record(record.kind, record.path, data)))  # e.g. a one-character title
        records.append(Record(record.kind, record.path, data, record.lines))
    # Only the page the field appears on: the record whose page it is (a study's row also shows on its
    # therapy's page, a recommendation on its guideline's), as render_pages would render it.
    book = derive(records, _bib)
    owner = next(r for r in book.page_records() if book.page(r) == page)
    return PageRenderer(book, repo_url="https://example.org/repo", edit_uri="blob/main").record_page(owner)


def visible_text(html: str) -> str:
    return " ".join("".join(parse(html).text).split())


@pytest.mark.parametrize("record_id,path,page", FIELDS, ids=[f"{r}.{'.'.join(map(str, p))}" for r, p, _ in FIELDS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=TEXT)
def test_generated_text_stays_text(record_id, path, page, value):
    html = markdown.markdown(render_with(record_id, path, value, page), extensions=EXTENSIONS)
    assert_inert(html)
    shown = " ".join(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "", value).split())  # control characters are dropped
    assert shown in visible_text(html), f"{shown!r} not shown as written"


# --- a payload in every free-text field, through the real build ------------------------


def free_text_paths(record: Record):
    """Every string field the schema accepts arbitrary text in (ids, enums, dates and keys refuse it)."""

    def walk(value, at):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, at + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from walk(v, at + (i,))
        elif isinstance(value, str) and at != ("id",) and "registry_ids" not in at:  # ids the rules check for form
            yield at

    for at in walk(record.data, ()):
        data = copy.deepcopy(record.data)
        target = data
        for step in at[:-1]:
            target = target[step]
        target[at[-1]] = target[at[-1]] + " " + PAYLOAD
        if not check_schema(Record(record.kind, record.path, data)):
            yield at


@pytest.fixture(scope="module")
def poisoned_site(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("poisoned") / "project")
    poisoned = 0
    for record in _records:
        data = copy.deepcopy(record.data)
        for at in free_text_paths(record):
            target = data
            for step in at[:-1]:
                target = target[step]
            target[at[-1]] = target[at[-1]] + " " + PAYLOAD
            poisoned += 1
        (project / record.path).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert poisoned >= 30, poisoned  # every free-text field of the fixture records
    result = build(project)
    assert result.returncode == 0, result.stdout + result.stderr
    return project / "site"


def test_payload_in_every_free_text_field_is_inert_in_the_html(poisoned_site):
    pages = sorted(poisoned_site.rglob("*.html"))
    shown = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        parsed = parse(html)
        for tag, attrs in parsed.tags:  # the payload never reaches a tag or an attribute
            for name, value in attrs.items():
                if name in ("id", "href") and re.fullmatch(r"#?[\w-]+", value or ""):
                    continue  # a heading's slug: letters, digits and hyphens only
                if name == "href" and value.startswith("https://") and not re.search(r"[<>\"' ]", value):
                    continue  # "report a problem" carries the title percent-encoded in its query
                assert "__pwned" not in (value or "") and "__pwned" not in name, f"{page}: payload in <{tag} {name}>"
        assert not any("__pwned" in t for t in parsed.script_text), f"{page}: payload inside a script"
        shown += sum(t.count("<script>window.__pwned=1</script>") for t in parsed.text)  # shown as text
    assert shown > 0
    assert "&lt;script&gt;window.__pwned" in (poisoned_site / "therapies" / "ivig" / "index.html").read_text()


def test_payload_runs_no_script_in_chromium(poisoned_site, chromium):
    for rel in [
        "therapies/ivig/index.html",
        "studies/fixture-trial/index.html",
        "criteria/fixture-criteria/index.html",
        "guidelines/fixture-guideline/index.html",
        "autoantibodies/anti-mda5/index.html",
        "index.html",
    ]:
        visit = Visit(chromium, (poisoned_site / rel).as_uri())
        try:
            dialogs = []
            visit.page.on("dialog", lambda d, seen=dialogs: seen.append(d.message))
            visit.page.wait_for_load_state("load")
            assert visit.page.evaluate("window.__pwned === undefined"), f"a script ran on {rel}"
            assert dialogs == []
        finally:
            visit.close()
    # search results show indexed record text: it must stay text there too
    with served(poisoned_site) as base:
        visit = Visit(chromium, f"{base}/")
        try:
            assert visit.search("fixture")  # results show titles and text that carry the payload
            visit.page.wait_for_timeout(500)
            assert visit.page.evaluate("window.__pwned === undefined"), "a script ran from the search results"
        finally:
            visit.close()
