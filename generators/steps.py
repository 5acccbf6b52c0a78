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
PDF = "handbook.pdf"  # typeset into the build folder; the offline step puts it into the site and the offline copy
MANIFEST = "manifest.json"  # the pages in navigation order, their search data, the site's identity, the version, the PDF's parts


def site_steps(root: Path, build_dir: Path, site_dir: Path, quiet: bool = False) -> list[tuple[str, list[str]]]:
    """(name, command) for each step, in order. Paths are made absolute: MkDocs reads a relative
    --site-dir from the folder of its configuration (build/), not from where make runs."""
    root, build_dir, site_dir = Path(root).resolve(), Path(build_dir).resolve(), Path(site_dir).resolve()
    generators = [sys.executable, "-m", "generators", "--root", str(root), "--build", str(build_dir)]
    html = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(build_dir / CONFIG), "--site-dir", str(site_dir)]
    return [
        ("build", [*generators, "build", "--out", str(build_dir)]),
        ("pdf", [*generators, "pdf", str(build_dir / PDF)]),  # from build/ alone: run_steps starts it in the background
        ("html", html + (["-q"] if quiet else [])),  # the site generator: stock MkDocs on the built tree
        ("search index", [*generators, "search-index", str(site_dir)]),
        ("search pagefind", [*generators, "search-pagefind", str(site_dir)]),
        ("offline copy", [*generators, "offline", str(site_dir)]),  # puts the PDF into the site, and packs it
    ]


def run_steps(root: Path, build_dir: Path, site_dir: Path, echo: bool = False, **run_options) -> subprocess.CompletedProcess:
    """Run the steps, stopping at the first that fails; their output together, in step order.

    The PDF needs only build/, so it is typeset in the background while the HTML and its search
    indexes are made (on two cores that hides most of MkDocs' time); the offline copy, which packs the
    PDF, waits for it."""
    import os
    import signal

    timeout = run_options.pop("timeout", None)
    outputs: dict[str, tuple[str, str]] = {}
    pdf = None
    failed = None

    def finish_pdf() -> subprocess.CompletedProcess:
        out, err = pdf[1].communicate(timeout=timeout)
        outputs["pdf"] = (out, err)
        return subprocess.CompletedProcess(pdf[0], pdf[1].returncode, out, err)

    for name, command in site_steps(root, build_dir, site_dir):
        if echo:
            print(f"[{name}] {' '.join(command[1:])}", flush=True)
        if name == "pdf":
            pipe = subprocess.PIPE if not echo else None
            pdf = (command, subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True, start_new_session=True, **run_options))
            continue
        if name == "offline copy" and pdf is not None:
            done = finish_pdf()
            if done.returncode != 0:
                failed = done
                break
        result = subprocess.run(command, capture_output=not echo, text=True, timeout=timeout, **run_options)
        outputs[name] = (result.stdout or "", result.stderr or "")
        if result.returncode != 0:
            failed = result
            break
    if pdf is not None and "pdf" not in outputs:
        if failed is not None:  # a step failed while the PDF was being made: stop it and what it started
            os.killpg(pdf[1].pid, signal.SIGTERM)
        done = finish_pdf()
        if failed is None and done.returncode != 0:
            failed = done
    order = [name for name, _ in site_steps(root, build_dir, site_dir)]
    stdout = "".join(outputs[n][0] or "" for n in order if n in outputs)
    stderr = "".join(outputs[n][1] or "" for n in order if n in outputs)
    last = failed or result
    return subprocess.CompletedProcess(last.args, last.returncode, stdout, stderr)
