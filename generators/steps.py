"""The steps of `make site`, in one list: the Makefile (`python -m generators site`), the tests
(tests/conftest.py) and the benchmark (bench/run.py) all run these.

`build` derives the model once and writes everything derived into the build folder: the Markdown
site and its configuration, build/manifest.json (the pages in navigation order, their search data,
the site's identity, the version) and the PDF's Markdown (build/pdf/). Every later step reads only
what the build wrote and the HTML site: none of them reads a record.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# What the build writes, by name: the later steps find everything through these.
OUT = "build"  # the build folder, below the project
CONFIG = "mkdocs.yml"
OFFLINE_CONFIG = "mkdocs-offline.yml"
MANIFEST = "manifest.json"  # the pages in navigation order, their search data, the site's identity, the version, the PDF's parts


def site_steps(root: Path, build_dir: Path, site_dir: Path, quiet: bool = False) -> list[tuple[str, list[str]]]:
    """(name, command) for each step, in order."""
    generators = [sys.executable, "-m", "generators", "--root", str(root), "--build", str(build_dir)]
    html = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(build_dir / CONFIG), "--site-dir", str(site_dir)]
    return [
        ("build", [*generators, "build", "--out", str(build_dir)]),
        ("html", html + (["-q"] if quiet else [])),  # the site generator: stock MkDocs on the built tree
        ("search index", [*generators, "search-index", str(site_dir)]),
        ("search pagefind", [*generators, "search-pagefind", str(site_dir)]),
        ("pdf", [*generators, "pdf", str(site_dir / "handbook.pdf")]),
        ("offline copy", [*generators, "offline", str(site_dir)]),
    ]


def run_steps(root: Path, build_dir: Path, site_dir: Path, **run_options) -> subprocess.CompletedProcess:
    """Run the steps in order, stopping at the first that fails; their output together."""
    stdout, stderr = [], []
    for _, command in site_steps(root, build_dir, site_dir):
        result = subprocess.run(command, capture_output=True, text=True, **run_options)
        stdout.append(result.stdout)
        stderr.append(result.stderr)
        if result.returncode != 0:
            break
    return subprocess.CompletedProcess(command, result.returncode, "".join(stdout), "".join(stderr))
