"""Spike (issue 17, part 6): Material's lunr search against Pagefind at 1,000 and 5,000 records.

    python bench/search_scale.py [--pagefind-only] [--reuse] SITE [SITE ...]

For each built site (generate, mkdocs build, search-index; no PDF or offline copy), measures the
stock search with search_speed.measure_search, then makes a Pagefind copy of the site beside it
(SITE-pagefind: hard links, rewritten files replaced, never edited in place) and measures it the same
way. The Pagefind copy:

- keeps Material's search box and result list: bench/pagefind_adapter.js stands in for Material's
  search worker and answers its messages from Pagefind;
- indexes the article only (--root-selector), with each page's `keys` (aliases, acronyms, registry
  ids, synonyms) in a hidden element weighted like a title and its `syn` words in a hidden element;
- replaces search/search_index.json by an empty index (config only), so nothing downloads it.

Needs the pagefind binary: `pip install "pagefind[extended]==1.5.2"` (PYTHONPATH is enough).
Prints one JSON line per site and variant.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import search_speed  # noqa: E402
from search_speed import measure_search  # noqa: E402

sys.path.insert(0, str(HERE.parent))
from generators.search import normal  # noqa: E402


def _replace(path: Path, text: str) -> None:
    """Write a file that may be a hard link to the original site without changing the original."""
    path.unlink()
    path.write_text(text, encoding="utf-8")


def _page_file(site: Path, location: str) -> Path | None:
    page = site / location / "index.html" if location.endswith("/") or not location else site / location
    return page if page.is_file() else None


def pagefind_copy(site: Path) -> tuple[Path, float]:
    """The Pagefind variant of a built site; its path and the seconds Pagefind took to index it."""
    out = site.with_name(site.name + "-pagefind")
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(["cp", "-al", str(site), str(out)], check=True)
    index = json.loads((out / "search" / "search_index.json").read_text(encoding="utf-8"))
    for doc in index["docs"]:
        if "#" in doc["location"]:
            continue
        page = _page_file(out, doc["location"])
        if page is None:
            continue
        text = page.read_text(encoding="utf-8")
        boost = doc.get("boost", 1)
        # Pagefind has no page boost: the title and keys go into a meta field per boost (its
        # metaWeights, in the adapter, weight each), and the boost itself into a meta field the
        # adapter multiplies the scores of the top results by.
        field = str(boost).replace(".", "")
        hidden = f'<span hidden data-pagefind-meta="t{field}:{html.escape(normal(doc["title"]))}"></span>'
        if doc.get("keys"):
            hidden += f'<span hidden data-pagefind-meta="k{field}:{html.escape(doc["keys"])}"></span>'
        hidden += f'<span hidden data-pagefind-meta="boost:{boost}"></span>'
        if doc.get("keys"):
            hidden += f'<div hidden data-pagefind-weight="7">{html.escape(doc["keys"])}</div>'
        if doc.get("syn"):
            hidden += f"<div hidden>{html.escape(doc['syn'])}</div>"
        marker = '<article class="md-content__inner md-typeset">'
        if marker in text:
            _replace(page, text.replace(marker, marker + hidden, 1))
    _replace(out / "search" / "search_index.json", json.dumps({"config": index["config"], "docs": []}))
    script = out / "assets" / "search.js"
    _replace(script, script.read_text(encoding="utf-8") + "\n" + (HERE / "pagefind_adapter.js").read_text(encoding="utf-8"))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pagefind", "--site", str(out), "--root-selector", "article.md-content__inner", "--quiet"],
        check=True,
        env=dict(os.environ),
    )
    return out, round(time.perf_counter() - start, 1)


def pagefind_sizes(site: Path) -> dict:
    folder = site / "pagefind"
    files = [p for p in folder.rglob("*") if p.is_file()]
    return {
        "pagefind_mb": round(sum(p.stat().st_size for p in files) / 2**20, 2),
        "index_chunks": len(list((folder / "index").iterdir())),
        "fragments": len(list((folder / "fragment").iterdir())),
    }


class _Counting(search_speed._Quiet):
    """Counts what the server sent: a page's CDP session does not see the fetches of the web
    workers (Pagefind loads its index in its own worker), the server sees them all."""

    served: list[tuple[str, int]] = []

    def copyfile(self, source, outputfile):
        start = source.tell()
        super().copyfile(source, outputfile)
        _Counting.served.append((self.path, source.tell() - start))


def measure(site: Path) -> dict:
    """measure_search, plus what the server sent before the first (cold) result."""
    _Counting.served = []
    before: list[tuple[str, int]] = []
    query = search_speed._query

    def first_query_then_snapshot(page, text):
        ms = query(page, text)
        if not before:
            before.extend(_Counting.served)
        return ms

    search_speed._Quiet, quiet = _Counting, search_speed._Quiet
    search_speed._query = first_query_then_snapshot
    try:
        result = measure_search(site)
    finally:
        search_speed._Quiet, search_speed._query = quiet, query
    result["served_kb_before_first_result"] = round(sum(n for _, n in before) / 1024, 1)
    result["search_files_before_first_result"] = {
        "count": sum(1 for path, _ in before if "/pagefind/" in path or "/search/" in path),
        "kb": round(sum(n for path, n in before if "/pagefind/" in path or "/search/" in path) / 1024, 1),
    }
    return result


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a.startswith("--")}
    for arg in (a for a in argv if not a.startswith("--")):
        site = Path(arg).resolve()
        if "--pagefind-only" not in flags:
            print(json.dumps({"site": str(site), "variant": "lunr (stock)", **measure(site)}), flush=True)
        copy = site.with_name(site.name + "-pagefind")
        if "--reuse" in flags and (copy / "pagefind").is_dir():
            seconds = None
        else:
            copy, seconds = pagefind_copy(site)
        result = {"site": str(site), "variant": "pagefind", "pagefind_seconds": seconds, **pagefind_sizes(copy)}
        result.update({k: v for k, v in measure(copy).items() if k not in ("index_kb", "index_gzip_kb")})
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
