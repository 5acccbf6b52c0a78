"""Every link in the built site leads somewhere: internal links to an existing file and, with #fragment,
to an element with that id; external links are well-formed https addresses (never fetched: no network).
The same for the offline copy, where every link must also work from file:// (no root-relative links)."""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from conftest import ROOT

# The attributes that take a reader or the browser to another address.
LINK_ATTRIBUTES = {"a": "href", "area": "href", "link": "href", "img": "src", "script": "src", "iframe": "src", "source": "src"}
NOT_CHECKED = ("mailto:", "tel:", "data:")
HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:\d+)?$", re.I)
BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class Page(HTMLParser):
    """The ids of one HTML page and the links in it, each with its line for the message."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[int, str]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(name):
                self.ids.add(attrs[name])
        attribute = LINK_ATTRIBUTES.get(tag)
        if attribute and attrs.get(attribute) is not None:
            self.links.append((self.getpos()[0], attrs[attribute].strip()))

    handle_startendtag = handle_starttag


def external_problem(url: str, recorded_sources: str) -> str | None:
    parts = urlsplit(url)
    if any(c.isspace() for c in url) or BAD_ESCAPE.search(url):
        return "contains a space or a bad %-escape"
    if not HOST.match(parts.netloc):
        return f"has no valid host ({parts.netloc!r})"
    if parts.scheme == "https":
        return None
    # A source's own address is reproduced as it was recorded in references.bib, even when it is http.
    if parts.scheme == "http" and url in recorded_sources:
        return None
    return f"is not https ({parts.scheme or 'no scheme'}:)"


def broken_links(root: Path, offline: bool = False) -> list[str]:
    """Every problem of every link under root, as 'page:line: link: what is wrong'."""
    recorded_sources = (ROOT / "references.bib").read_text(encoding="utf-8")
    pages: dict[Path, Page] = {path: Page(path.read_text(encoding="utf-8")) for path in sorted(root.rglob("*.html"))}
    if offline:
        pages.pop(root / "404.html", None)  # only a web server shows it (its links are root-relative by design)
    problems: list[str] = []
    missing_ids: dict[tuple[Path, str], list[str]] = defaultdict(list)
    for path, page in pages.items():
        where = path.relative_to(root).as_posix()
        for line, link in page.links:
            if not link or link.lower().startswith(NOT_CHECKED):
                continue
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                problem = external_problem(link, recorded_sources)
                if problem:
                    problems.append(f"{where}:{line}: {link}: {problem}")
                continue
            if offline and parts.path.startswith("/"):
                problems.append(f"{where}:{line}: {link}: root-relative, so it leads nowhere from file://")
                continue
            target = resolve(root, path, unquote(parts.path))
            if target is None:
                problems.append(f"{where}:{line}: {link}: no such file in the site")
            elif parts.fragment and target.suffix == ".html":
                fragment = unquote(parts.fragment)
                if target not in pages:
                    pages[target] = Page(target.read_text(encoding="utf-8"))
                if fragment not in pages[target].ids:
                    missing_ids[(target, fragment)].append(f"{where}:{line}")
    for (target, fragment), places in sorted(missing_ids.items()):
        more = f" (and {len(places) - 1} more)" if len(places) > 1 else ""
        problems.append(f"{places[0]}{more}: #{fragment}: no element with this id in {target.relative_to(root).as_posix()}")
    return problems


def resolve(root: Path, page: Path, path: str) -> Path | None:
    """The file a link's path leads to (a folder leads to its index.html), or None."""
    if path.startswith("/"):
        relative = path.lstrip("/")
    else:
        base = page.parent.relative_to(root).as_posix()
        relative = posixpath.normpath(posixpath.join(base, path)) if path else page.relative_to(root).as_posix()
    if relative.startswith(".."):
        return None  # outside the site
    target = root / relative
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def test_every_link_of_the_site_leads_somewhere(handbook_site):
    problems = broken_links(handbook_site)
    assert not problems, f"{len(problems)} broken links:\n" + "\n".join(problems[:50])


def test_every_link_of_the_offline_copy_works_from_file_urls(handbook_site, tmp_path):
    with zipfile.ZipFile(handbook_site / "handbook-offline.zip") as archive:
        archive.extractall(tmp_path)
    problems = broken_links(tmp_path / "iim-handbook", offline=True)
    assert not problems, f"{len(problems)} broken links:\n" + "\n".join(problems[:50])


def test_the_checker_finds_a_missing_page_a_missing_anchor_and_a_malformed_address(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">Here</h2>', encoding="utf-8")
    (tmp_path / "index.html").write_text(
        '<a href="a/">ok</a> <a href="a/#here">ok</a> <a href="#top" id="top">ok</a> <a href="/a/index.html">ok</a>\n'
        '<a href="b/">gone</a>\n<a href="a/#nowhere">no anchor</a>\n<a href="https://exa mple.org/">space</a>\n'
        '<a href="ftp://example.org/x">not https</a>\n<img src="missing.png">',
        encoding="utf-8",
    )
    problems = broken_links(tmp_path)
    assert problems == [
        "index.html:2: b/: no such file in the site",
        "index.html:4: https://exa mple.org/: contains a space or a bad %-escape",
        "index.html:5: ftp://example.org/x: is not https (ftp:)",
        "index.html:6: missing.png: no such file in the site",
        "index.html:3: #nowhere: no element with this id in a/index.html",
    ]
    assert broken_links(tmp_path, offline=True)[0] == "index.html:1: /a/index.html: root-relative, so it leads nowhere from file://"
