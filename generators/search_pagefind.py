"""The served site's search index, by Pagefind: `python -m generators search-pagefind SITE_DIR`.

Material's own search downloads the whole lunr index with every page and builds it in the reader's
browser: 2 MB today, 31 MB and almost a minute at 5,000 records (bench/search-scale.md). Pagefind
writes a sharded index instead (SITE_DIR/pagefind/): a query loads only the index chunks of its
words and the fragments of the results shown. docs/assets/search.js puts it behind Material's own
search box over http(s); the offline copy (file://, a separate MkDocs build) keeps Material's lunr
search with its inlined index.

The step runs after `search-index` (generators/search.py) and reads what that step wrote into
search/search_index.json: each page's title, page boost, `keys` (aliases, acronym, registry ids) and
`syn` (synonyms and spelling variants). Pagefind's Python API indexes a copy of each built page
with those words added as Pagefind meta fields (hidden elements in the copy): Pagefind 1.5 searches
meta fields, weighted by its `metaWeights`, and never shows them in a result's excerpt, so the words
reach the index and neither the pages readers get nor the result previews:

- `keys`: in a meta field named by the page's boost (`k4`, `k3`, ... `k0_2`), weighted 10 times the
  boost, as lunr weighs the `keys` field like the title and the page by its boost;
- the title: in a meta field by boost too (`t4` ... `t0_2`);
- `syn`: the synonyms of the page and of its sections, weighted 1 (as lunr's text);
- `boost`: the page boost, which search.js multiplies the top results' scores by (Pagefind has no
  page boost), and `title`, Material's title of the page.

Beside Pagefind's files the step writes the result cards (pagefind/cards.json, `write_cards`): each
page's URL, title, boost and title and key words, so search.js can draw the first results without
waiting for the pages' whole text.

Then search/search_index.json is cut to its configuration, plus `config.pagefind`: the meta weights,
the number of pages and where the cards are, which search.js reads from Material's set-up message.
Nothing on the served site downloads the full lunr index any more (Material still reads the file for
its settings). The output is byte-identical for the same site; any failure of Pagefind stops the step
with a message.
"""

from __future__ import annotations

import asyncio
import gzip
import html
import json
import re
import shutil
import tempfile
from pathlib import Path

from .adapters import COMPRESSED_SUFFIXES, FragmentError, fragment_paths, pagefind_fragments
from .search import normal

OUT = "pagefind"
FULL_INDEX = "search_index.full.json"  # in search/, beside the configuration Material reads
ROOT_SELECTOR = "article.md-content__inner"
# Not words of the page: permalinks, the edit button, footnote numbers and back links; and the reference
# list (the references pages index each reference once; on every citing page it made the fragments a
# reader's first results wait for about a tenth larger, and Pagefind's memory at 5,000 records higher).
EXCLUDE = [".headerlink", ".md-content__button", ".footnote-ref", ".cite-sep", ".footnote-backref", ".footnote"]
ARTICLE = re.compile(r'<article class="md-content__inner md-typeset">')
# Pagefind's own search UIs and the playground: the site uses Material's search box.
UNUSED = (
    "pagefind-ui.js",
    "pagefind-ui.css",
    "pagefind-modular-ui.js",
    "pagefind-modular-ui.css",
    "pagefind-component-ui.js",
    "pagefind-component-ui.css",
    "pagefind-highlight.js",
)
CARDS = "cards.json"  # in pagefind/: what the first result list needs of each page (write_cards)
TIMEOUT = 300  # seconds for one call to Pagefind's service (a whole 5,000-record site takes about a minute)


CARD_WORDS = re.compile(r"[tk][\d_]+$")  # the meta fields of a page's title and key words (page_for_index)


class PagefindError(Exception):
    pass


def boost_field(boost: float) -> str:
    """The meta field suffix of a page boost: 4 -> "4", 0.2 -> "0_2"."""
    return f"{boost:g}".replace(".", "_")


def ranking(boosts: set[float], pages: int) -> dict:
    """What search.js needs to rank: Pagefind's weights of the meta fields (the title and keys of a page
    count 10 times its boost; Pagefind's own title field and the boost field nothing), and the number of
    pages (how rare a word is)."""
    weights = {"title": 0, "boost": 0, "syn": 1}
    for boost in sorted(boosts, reverse=True):
        weight = round(10 * boost, 3)
        weights[f"t{boost_field(boost)}"] = weights[f"k{boost_field(boost)}"] = int(weight) if weight == int(weight) else weight
    return {"metaWeights": weights, "pages": pages}


def _page_file(site: Path, location: str) -> Path:
    return site / location / "index.html" if location.endswith("/") or not location else site / location


def _meta(name: str, value: str) -> str:
    return f'<span hidden data-pagefind-meta="{name}:{html.escape(value)}"></span>'


def page_for_index(page_html: str, docs: list[dict]) -> str:
    """What Pagefind reads of a built page: its article, with its search words added as meta fields
    (searched, never shown in a result's excerpt). `docs` are the page's entries in Material's
    rewritten index (the article first, then its sections)."""
    article = docs[0]
    boost = article.get("boost", 1)
    field = boost_field(boost)
    title = html.unescape(re.sub(r"<[^>]+>", "", article["title"]))  # plain text: search.js escapes what it shows
    added = _meta("title", title) + _meta(f"t{field}", normal(title)) + _meta("boost", f"{boost:g}")
    if article.get("keys"):
        added += _meta(f"k{field}", article["keys"])
    # the synonyms of the page, and of its sections' titles and text, each word once
    syn = dict.fromkeys(
        w for doc in docs for name in ("keys", "syn") if doc is not article or name == "syn" for w in doc.get(name, "").split()
    )
    if syn:
        added += _meta("syn", " ".join(syn))
    # Only the article goes to Pagefind (it reads nothing else: its root selector): at 5,000 records
    # each page's navigation is most of its HTML. The index is the same, byte for byte.
    start = ARTICLE.search(page_html)
    end = page_html.rfind("</article>")
    if not start or end < start.end():
        raise PagefindError(f'{article["location"] or "index"}: no <article class="md-content__inner md-typeset"> to index')
    body = page_html[start.start() : start.end()] + added + page_html[start.end() : end] + "</article>"
    return f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"></head>\n<body>{body}</body>\n</html>\n'


def pages_to_index(site: Path, index: dict) -> list[tuple[Path, list[dict]]]:
    """Each page of Material's index: its file and its entries (the article first), in URL order."""
    pages: dict[str, list[dict]] = {}
    for doc in index["docs"]:
        pages.setdefault(doc["location"].split("#", 1)[0], []).append(doc)
    found = []
    for location, docs in sorted(pages.items()):
        docs.sort(key=lambda d: "#" in d["location"])  # the article first, the sections in page order
        if "#" in docs[0]["location"]:
            raise PagefindError(f"search/search_index.json: {location or 'index'} has sections but no page entry")
        path = _page_file(site, location)
        if not path.is_file():
            raise PagefindError(f"search/search_index.json names {location or 'the home page'}, but {path} does not exist")
        found.append((path, docs))
    return found


async def _call(service, step):
    """One request to Pagefind's service; fails (rather than waits forever) if the service dies."""
    request = asyncio.ensure_future(step)
    poll = getattr(service, "_poll_task", None)  # reads the service's answers; ends only when the service does
    waiting = {request} | ({poll} if poll else set())
    done, _ = await asyncio.wait(waiting, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if request in done:
        return request.result()
    request.cancel()
    if not done:
        raise PagefindError(f"Pagefind did not answer within {TIMEOUT} s")
    if not poll.cancelled():
        poll.exception()  # the reader's own error (its input ended): reported below, not again by asyncio
    try:
        code = await asyncio.wait_for(service._backend.wait(), timeout=10)
    except TimeoutError:
        code = None
    raise PagefindError(f"Pagefind stopped before answering (exit code {code})")


async def _write_index(pages: Path, out: Path) -> int:
    """Index the folder of pages to index and write Pagefind's files into `out`; the number of pages
    indexed. One request for the folder: the service answers a request at most every 0.1 s, so one
    request per page would take 8 minutes at 5,000 pages. The files come back through the service's
    answer (get_files) and are written here: its own write_files answers before its last files are on
    disk, and at 100 and 5,000 pages it left some empty (pagefind.js, pagefind-ui.css) when it stopped."""
    from pagefind.service import PagefindService

    config = {"root_selector": ROOT_SELECTOR, "exclude_selectors": EXCLUDE, "force_language": "en"}
    service = await PagefindService().launch()
    backend = service._backend
    # The service's answers are read up to a separator within a 2 MiB limit; all files of 5,000 pages
    # are one answer of about 30 MB.
    backend.stdout._limit = 2**30
    try:
        # as PagefindIndex's own start, but failing if the service stops before it answers
        index = await _call(service, service.create_index(config))
        result = await _call(service, index.add_directory(str(pages)))
        files = await _call(service, index.get_files())
        service._poll_task.cancel()
        backend.stdin.close()  # the service exits when its input ends
        await asyncio.wait_for(backend.wait(), timeout=TIMEOUT)
    finally:
        if backend.returncode is None:
            backend.kill()
            await backend.wait()
    for file in sorted(files, key=lambda f: f["path"]):
        path = out / file["path"]
        if path.name in UNUSED or not path.resolve().is_relative_to(out.resolve()):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file["content"])
    return result["page_count"]


def write_cards(folder: Path) -> None:
    """Result cards: for each page, what search.js needs to rank a result and show its title (URL,
    title, boost, and the title and key words of its meta fields), without its text, keyed by the
    page's fragment (`en_071ff26`). A page's fragment holds its whole text (33 KB for a therapy page
    at 1,000 records): loading, inflating and cutting excerpts from five of them was half the wait for
    the first results when every thread is slowed 4x, and fetching five small files of cards instead
    still about 100 ms (bench/search-scale.md). One file, which search.js loads when the reader opens
    the search box, lets the first list be drawn as soon as Pagefind has searched; the excerpts and
    sections follow from the fragments."""
    cards = {}
    try:
        fragments = list(pagefind_fragments(folder))  # Pagefind's own file format (adapters.py)
    except FragmentError as error:
        raise PagefindError(str(error)) from None
    for path, fragment in fragments:
        meta = {k: v for k, v in fragment.get("meta", {}).items() if k in ("title", "boost") or CARD_WORDS.match(k)}
        cards[path.stem] = {"url": fragment["url"], "meta": meta}
    text = json.dumps(cards, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    (folder / CARDS).write_text(text, encoding="utf-8")


def check_output(folder: Path, pages: int) -> None:
    """Pagefind's files complete: the script, its worker and wasm, the page list named in the entry
    file, one fragment per page; every file non-empty and every compressed one readable."""
    entry = folder / "pagefind-entry.json"
    if not entry.is_file():
        raise PagefindError(f"Pagefind wrote no {entry.name}")
    languages = json.loads(entry.read_text(encoding="utf-8")).get("languages", {})
    listed = sum(lang.get("page_count", 0) for lang in languages.values())
    if set(languages) != {"en"} or listed != pages:
        raise PagefindError(f"{entry.name} lists {listed} pages in {sorted(languages)}, expected {pages} in English")
    required = ["pagefind.js", "pagefind-worker.js", "wasm.en.pagefind", f"pagefind.{languages['en']['hash']}.pf_meta"]
    for name in required:
        if not (folder / name).is_file():
            raise PagefindError(f"Pagefind wrote no {name}")
    fragments = fragment_paths(folder)
    if len(fragments) != pages:
        raise PagefindError(f"Pagefind wrote {len(fragments)} page fragments for {pages} pages")
    cards = json.loads((folder / CARDS).read_text(encoding="utf-8")) if (folder / CARDS).is_file() else {}
    if sorted(cards) != sorted(p.stem for p in fragments):
        raise PagefindError(f"{len(cards)} result cards for {pages} page fragments")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if not data:
            raise PagefindError(f"Pagefind left {path.relative_to(folder)} empty")
        if path.suffix in COMPRESSED_SUFFIXES:
            try:
                gzip.decompress(data)
            except (OSError, EOFError) as error:
                raise PagefindError(f"Pagefind wrote {path.relative_to(folder)} incomplete ({error})") from error


def build_pagefind(site_dir: Path) -> int:
    """Index SITE_DIR's pages into SITE_DIR/pagefind and cut search_index.json to its configuration.

    Returns the number of pages indexed; raises PagefindError with a message when anything fails."""
    site = Path(site_dir).resolve()
    index_file = site / "search" / "search_index.json"
    if not index_file.is_file():
        raise PagefindError(f"{index_file} is missing: run mkdocs build and search-index first")
    index = json.loads(index_file.read_text(encoding="utf-8"))
    if not index.get("docs"):
        raise PagefindError(f"{index_file} lists no pages (this step already ran?): build the site again")
    if "keys" not in index.get("config", {}).get("fields", {}):
        raise PagefindError(f"{index_file} has no `keys` field: run python -m generators search-index {site_dir} first")
    out, part = site / OUT, site / (OUT + ".part")
    shutil.rmtree(part, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="handbook-pagefind-") as tmp:
        count = 0
        for path, docs in pages_to_index(site, index):
            copy = Path(tmp) / path.relative_to(site)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(page_for_index(path.read_text(encoding="utf-8"), docs), encoding="utf-8")
            count += 1
        try:  # whatever fails, no half-written index is left behind
            try:
                indexed = asyncio.run(_write_index(Path(tmp), part))
            except PagefindError:
                raise
            except ConnectionError as error:  # its input closed: it stopped
                raise PagefindError(f"Pagefind stopped before answering ({error})") from error
            except (FileNotFoundError, PermissionError) as error:
                raise PagefindError(
                    f"the pagefind program could not be started ({error}): make install installs it (pagefind-bin)"
                ) from error
            except Exception as error:  # the service's own errors, or it stopped
                raise PagefindError(f"Pagefind failed: {error!r}") from error
            if indexed != count:
                raise PagefindError(f"Pagefind indexed {indexed} pages of {count}")
            write_cards(part)
            check_output(part, count)
        except BaseException:
            shutil.rmtree(part, ignore_errors=True)
            raise
    shutil.rmtree(out, ignore_errors=True)
    part.rename(out)
    # Material reads the configuration (language, separator) from this file; the pages are in Pagefind's index now.
    # The full index stays beside it for search.js's fallback alone (Material's own search, when
    # pagefind.js cannot be loaded); no page downloads it otherwise.
    (site / "search" / FULL_INDEX).write_bytes(index_file.read_bytes())
    boosts = {doc.get("boost", 1) for doc in index["docs"] if "#" not in doc["location"]}
    # fullIndex: where search.js's fallback finds the full index; cards: the result cards (the one place
    # each name is written)
    where = {"fullIndex": f"search/{FULL_INDEX}", "cards": f"{OUT}/{CARDS}"}
    config = {**index["config"], "pagefind": {**ranking(boosts, count), **where}}
    index_file.write_text(json.dumps({"config": config, "docs": []}, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return count
