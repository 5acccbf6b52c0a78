"""Material's stock lunr search against Pagefind on the same built site (issue 17, part 6).

    python bench/search_scale.py [--pagefind-only] [--reuse] SITE [SITE ...]

SITE: a site built by make site's steps up to `search-index` (no `search-pagefind`). For each, measures
the stock search with search_speed.measure_search (the pages ask for pagefind.js, which is not there, and
docs/assets/search.js hands over to Material's worker), then makes a Pagefind copy beside it
(SITE-pagefind: hard links, with its own search/search_index.json, which the step rewrites), runs
`python -m generators search-pagefind` on it and measures it the same way, as shipped and with Pagefind
on the page's thread (fully throttled). Prints one JSON line per site and variant. bench/search-scale.md
has the figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from search_speed import measure_search  # noqa: E402


def pagefind_copy(site: Path) -> tuple[Path, float]:
    """The Pagefind variant of a built site; its path and the seconds the step took."""
    out = site.with_name(site.name + "-pagefind")
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(["cp", "-al", str(site), str(out)], check=True)
    index = out / "search" / "search_index.json"
    data = index.read_bytes()
    index.unlink()  # a file of its own: the step rewrites it, the stock site keeps its index
    index.write_bytes(data)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "generators", "search-pagefind", str(out)], check=True, cwd=HERE.parent)
    return out, round(time.perf_counter() - start, 1)


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a.startswith("--")}
    for arg in (a for a in argv if not a.startswith("--")):
        site = Path(arg).resolve()
        if "--pagefind-only" not in flags:
            print(json.dumps({"site": str(site), "variant": "lunr (stock)", **measure_search(site)}), flush=True)
        copy = site.with_name(site.name + "-pagefind")
        if "--reuse" in flags and (copy / "pagefind").is_dir():
            seconds = None
        else:
            copy, seconds = pagefind_copy(site)
        for variant, options in (("pagefind", None), ("pagefind, fully throttled", {"noWorker": True})):
            result = {"site": str(site), "variant": variant, "pagefind_seconds": seconds, **measure_search(copy, options)}
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
