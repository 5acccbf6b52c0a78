"""Site generators compared on the same build/ tree: `make compare-generators` (issue 33).

python bench/compare_generators.py --help. Each candidate (CANDIDATES) gets a virtual environment of
its own, .venv-gen/<name>/, installed with --require-hashes from its lock file
bench/generators/<name>.txt (made from bench/generators/<name>.in by `--lock`). `python -m generators
build` writes the Markdown tree and its configuration once; every candidate then builds that same
tree. The rest of make site (search index, Pagefind, PDF, offline zip) runs in the project's own
.venv, as make site runs it, around the candidate's build.

For each candidate, on the real handbook:
- the strict build (exit status and every WARNING line);
- the text of every page's <article> and primary navigation against today's stack (mkdocs-material);
- the browser tests that read a built site (HANDBOOK_SITE, tests/conftest.py): the search question
  bank and the other search tests, axe in both colour schemes, the offline copy from file://, links;
- the PDF: made from build/ by `python -m generators pdf`, once, and byte-compared with a second run;
- edit -> page under the candidate's own serve command (the record saved, the tree regenerated as
  make serve does, the page polled until it shows the edit);
and clean build time and peak memory (the candidate's build command alone, its whole process tree
sampled every 20 ms, bench/run.py's measure) on the real handbook and on synthetic sets of 1,000 and
5,000 records, REPEAT times, candidates interleaved within each repetition (A B C D E, A B C D E, ...)
so that other load on the 2-core machine falls on all of them alike.

Writes bench/generators.md (the table and every run) and bench/generators.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from run import (  # noqa: E402
    _with_summary_prefix,
    fetch,
    free_port,
    measure,
    run_facts,
    write_results,
)
from synthetic import make_set  # noqa: E402

from generators.__main__ import search_index  # noqa: E402
from generators.offline import FOLDER, write_zip  # noqa: E402
from generators.scaffold import copy_project  # noqa: E402

PY = sys.executable
# Today, as the validation rules see it (bench/run.py fixes 2026-12-01, before the records' review dates).
ENV = dict(
    os.environ,
    NO_MKDOCS_2_WARNING="1",
    NO_MKDOCS_NG_NOTICE="1",
    HANDBOOK_TODAY=os.environ.get("HANDBOOK_TODAY", dt.date.today().isoformat()),
)
LOCKS = HERE / "generators"
VENVS = ROOT / ".venv-gen"
BASELINE = "mkdocs-material"
PIP = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes"]
LOCK = ["--quiet", "--generate-hashes", "--allow-unsafe", "--strip-extras", "--no-emit-index-url", "--no-emit-find-links"]
# The tests that read a built site (tests/conftest.py's handbook_site honours HANDBOOK_SITE). Tests
# that build a fixture project of their own (unindexed_site) do not depend on the candidate: left out.
TESTS = ["tests/test_search.py", "tests/test_accessibility.py", "tests/test_offline.py", "tests/test_links.py"]
TEST_FILTER = "not unindexed and not without_a_pagefind_index and not byte_identical"
QUESTION_BANK = "test_every_question_lands_on_its_answer"


@dataclass
class Candidate:
    name: str
    label: str
    cli: str  # the console script in the candidate's venv
    theme: str | None = None  # theme.name when it is not material
    zensical: bool = False  # no --site-dir; builds into the config's folder; --clean for a clean build
    notes: list[str] = field(default_factory=list)

    @property
    def venv(self) -> Path:
        return VENVS / self.name

    @property
    def exe(self) -> Path:
        return self.venv / "bin" / self.cli


CANDIDATES = [
    Candidate("mkdocs-material", "MkDocs 1.6.1 + Material 9.8.2 (today)", "mkdocs"),
    Candidate("properdocs-material", "ProperDocs 1.6.7 + Material 9.8.2", "properdocs"),
    Candidate("mkdocs-ng-material", "MkDocs NG 1.8.0 + mkdocs-ng-material 9.7.7", "mkdocs"),
    Candidate(
        "properdocs-materialx",
        "ProperDocs 1.6.7 + MaterialX 10.2.2",
        "properdocs",
        theme="materialx",
        notes=[
            "theme.name materialx; its search plugin takes Material's options under lunr: with provider: lunr "
            "(its default provider is a Pagefind index of its own), else the strict build stops on 'separator'"
        ],
    ),
    Candidate(
        "zensical",
        "Zensical 0.0.73",
        "zensical",
        zensical=True,
        notes=["0.0.74 to 0.1.4 require zensical-ui, which PyPI does not offer (pip install zensical==0.1.4 fails)"],
    ),
]


# --- environments ------------------------------------------------------------------------------


def lock_files(names: list[str]) -> None:
    """bench/generators/<name>.in -> <name>.txt with every version and hash (pip-compile)."""
    compile_ = ROOT / ".venv" / "bin" / "pip-compile"
    for name in names:
        subprocess.run([str(compile_), *LOCK, f"--output-file={name}.txt", f"{name}.in"], cwd=LOCKS, check=True)


def ensure_venv(c: Candidate) -> None:
    """The candidate's venv from its lock; reinstalled only when the lock changed."""
    lock = LOCKS / f"{c.name}.txt"
    stamp = c.venv / f".installed-{hashlib.sha256(lock.read_bytes()).hexdigest()[:12]}"
    if stamp.exists():
        return
    shutil.rmtree(c.venv, ignore_errors=True)
    subprocess.run(["python3", "-m", "venv", str(c.venv)], check=True)
    subprocess.run([str(c.venv / "bin" / "python"), *PIP, "-r", str(lock)], check=True)
    stamp.touch()


def version(c: Candidate) -> str:
    done = subprocess.run([str(c.exe), "--version"], capture_output=True, text=True, env=ENV)
    text = (done.stdout or done.stderr).strip()
    found = re.search(r"(\d+\.\d+\.\d+)", text)
    return f"{c.cli} {found.group(1)}" if found else text[:40]


# --- one build ---------------------------------------------------------------------------------


def config_for(c: Candidate, build: Path, base: str = "mkdocs.yml", site_dir: str | None = None, **extra) -> Path:
    """The generated configuration as this candidate needs it, written beside the generated one."""
    data = yaml.safe_load((build / base).read_text(encoding="utf-8"))
    if c.theme:
        data["theme"]["name"] = c.theme
    if c.theme == "materialx":  # its search plugin defaults to a Pagefind provider of its own; lunr keeps Material's
        plugins = []
        for plugin in data.get("plugins", []):
            if isinstance(plugin, dict) and "search" in plugin:
                plugin = {"search": {"provider": "lunr", "lunr": plugin["search"] or {}}}
            plugins.append(plugin)
        data["plugins"] = plugins
    if site_dir:
        data["site_dir"] = site_dir
    data.update(extra)
    target = (build / f"{Path(base).stem}.{c.name}.yml").resolve()
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")
    return target


def build_command(c: Candidate, config: Path, site: Path) -> list[str]:
    if c.zensical:  # site_dir is inside the config's folder (config_for sets it)
        return [str(c.exe), "build", "--strict", "--clean", "-f", str(config)]
    return [str(c.exe), "build", "--strict", "-f", str(config), "-d", str(Path(site).resolve())]


def build_site(c: Candidate, build: Path, site: Path, base: str = "mkdocs.yml") -> subprocess.CompletedProcess:
    """The candidate's strict build of build/<base> into site (nothing of an earlier build kept)."""
    shutil.rmtree(site, ignore_errors=True)
    inner = f"site-{c.name}-{base.split('.')[0]}"
    config = config_for(c, build, base, site_dir=inner if c.zensical else None)
    done = subprocess.run(build_command(c, config, site), capture_output=True, text=True, env=ENV, cwd=build)
    if c.zensical and (build / inner).exists():
        shutil.rmtree(site, ignore_errors=True)
        shutil.move(str(build / inner), str(site))
    return done


def warnings_of(done: subprocess.CompletedProcess) -> list[str]:
    text = done.stdout + done.stderr
    return [line.strip() for line in text.splitlines() if re.search(r"\bWARNING\b|\bwarning\b", line) and "MkDocs 2.0" not in line]


def step(args: list[str], build: Path = ROOT / "build", cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """A step of make site (generators/steps.py); the steps after the build read only `build`."""
    command = [PY, "-m", "generators", "--root", str(ROOT), "--build", str(build), *args]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=cwd)


def offline_copy(c: Candidate, build: Path, site: Path, pdf: Path) -> dict:
    """As `python -m generators offline` (generators/offline.py), with the candidate's build."""
    with tempfile.TemporaryDirectory(prefix="offline-") as tmp:
        out = Path(tmp) / FOLDER
        done = build_site(c, build, out, "mkdocs-offline.yml")
        if done.returncode != 0 or not out.exists():
            return {"ok": False, "error": (done.stderr or done.stdout)[-1500:]}
        shutil.copyfile(pdf, out / pdf.name)
        indexed = search_index(out, build)
        write_zip(out, site / "handbook-offline.zip")
    return {"ok": True, "warnings": warnings_of(done), "search_index_rewritten": indexed}


# --- what readers see --------------------------------------------------------------------------


def page_texts(site: Path) -> dict[str, tuple[str, str]]:
    """Each HTML page's article text and primary navigation text, whitespace collapsed."""
    import lxml.html

    found = {}
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        if rel.startswith(("search/", "pagefind/", "assets/")) or rel == "404.html":
            continue
        tree = lxml.html.fromstring(path.read_bytes())
        article = tree.xpath("//article")
        nav = tree.xpath("//nav[contains(concat(' ', normalize-space(@class), ' '), ' md-nav--primary ')]")

        def text(nodes):
            return " ".join(" ".join(nodes[0].itertext()).split()) if nodes else "(none)"

        found[rel] = (text(article), text(nav))
    return found


def compare_texts(base: dict, other: dict) -> dict:
    import difflib

    differing, examples = [], []
    for rel in sorted(set(base) | set(other)):
        a, b = base.get(rel), other.get(rel)
        if a == b:
            continue
        differing.append(rel)
        if len(examples) < 3:
            if a is None or b is None:
                examples.append({"page": rel, "diff": "page missing" if b is None else "page not in today's site"})
                continue
            parts = []
            for label, x, y in (("article", a[0], b[0]), ("nav", a[1], b[1])):
                if x != y:
                    words = list(difflib.unified_diff(x.split(" "), y.split(" "), lineterm="", n=3))[2:14]
                    parts.append(f"{label}: " + " ".join(words))
            examples.append({"page": rel, "diff": " | ".join(parts)[:600]})
    return {"pages": len(other), "differing": len(differing), "differing_pages": differing[:50], "examples": examples}


def run_tests(site: Path, junit: Path) -> dict:
    """The built-site tests against this site; outcomes by test file, and the question bank's."""
    env = dict(ENV, HANDBOOK_SITE=str(site))
    started = time.perf_counter()
    subprocess.run(
        [PY, "-m", "pytest", *TESTS, "-k", TEST_FILTER, "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    result = {"seconds": round(time.perf_counter() - started, 1), "files": {}, "failures": []}
    if not junit.exists():
        return result
    for case in ET.parse(junit).getroot().iter("testcase"):
        file = case.get("classname", "").split(".")[-1] or "?"
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                if tag != "skipped":
                    message = (node.get("message") or node.text or "").strip().splitlines()
                    result["failures"].append(f"{file}::{case.get('name')}: {(message[0] if message else '')[:300]}")
        counts = result["files"].setdefault(file, {"passed": 0, "failed": 0, "error": 0, "skipped": 0})
        counts[outcome] += 1
        if case.get("name") == QUESTION_BANK:
            result["question_bank"] = outcome
    return result


def serve_latency(c: Candidate, tmp: Path, timeout: float = 180) -> dict:
    """Saving one record -> the candidate's serve showing the rebuilt page.

    make serve (generators/serve.py) regenerates build/ on every change and lets the generator's own
    serve command rebuild from it; here the same two steps, the regeneration run as soon as the file is
    saved (serve.py adds 0.3 s to gather an editor's burst of events), the page polled every 50 ms."""
    project = copy_project(ROOT, tmp / f"serve-{c.name}", ROOT)
    build = project / "build"
    regen = [PY, "-m", "generators", "--root", str(project), "build", "--out", str(build)]
    subprocess.run(regen, check=True, capture_output=True, env=ENV)
    config = config_for(c, build, site_dir=f"site-serve-{c.name}" if c.zensical else None, strict=False)
    port = free_port()
    command = [str(c.exe), "serve", "-f", str(config), "-a", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, cwd=build, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + timeout
        while fetch(port, "/therapies/ivig/") is None:
            if server.poll() is not None:
                return {"seconds": None, "why": f"`{c.cli} serve` exited with status {server.returncode}"}
            if time.time() > deadline:
                return {"seconds": None, "why": f"`{c.cli} serve` served nothing within {timeout:.0f} s"}
            time.sleep(0.2)
        time.sleep(2)  # let its watcher settle
        marker = f"compare-edit-{int(time.time())}"
        path = project / "evidence" / "therapy" / "ivig.yaml"
        edited = _with_summary_prefix(path.read_text(encoding="utf-8"), marker)
        saved = time.perf_counter()
        path.write_text(edited, encoding="utf-8")
        subprocess.run(regen, check=True, capture_output=True, env=ENV)
        while marker not in (fetch(port, "/therapies/ivig/") or ""):
            if time.time() > deadline + timeout:
                return {"seconds": None, "why": "the edited page was not served within the time limit"}
            time.sleep(0.05)
        return {"seconds": round(time.perf_counter() - saved, 2), "record": "evidence/therapy/ivig.yaml"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def checks(cands: list[Candidate], work: Path, tests: bool, serve: bool) -> dict:
    """Every candidate on the real handbook: strict build, the make site steps around it, texts, tests."""
    build = work / "real-build"
    done = step(["build", "--out", str(build)], build)
    if done.returncode != 0:
        raise SystemExit(f"python -m generators build failed:\n{done.stderr}")
    pdf, pdf2 = work / "handbook.pdf", work / "handbook-again.pdf"
    for target in (pdf, pdf2):
        made = step(["pdf", str(target)], build)
        if made.returncode != 0:
            raise SystemExit(f"the PDF failed:\n{made.stderr}")
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    pdf_note = {
        "sha256": digest[:16],
        "same_on_a_second_run": digest == hashlib.sha256(pdf2.read_bytes()).hexdigest(),
        "made_from": "the records and build/ by python -m generators pdf (generators/__main__.py cmd_pdf): no generator involved",
    }
    results, texts = {}, {}
    for c in cands:
        print(f"compare: {c.name}: strict build of the real handbook", flush=True)
        site = work / "sites" / c.name
        r: dict = {"label": c.label, "version": version(c), "notes": c.notes}
        done = build_site(c, build, site)
        r["strict_build"] = {
            "exit": done.returncode,
            "warnings": warnings_of(done),
            "tail": (done.stderr or "")[-800:] if done.returncode else "",
        }
        if done.returncode != 0 or not site.exists():
            results[c.name] = r
            continue
        r["sitemap"] = (site / "sitemap.xml").exists()
        idx = step(["search-index", str(site)], build)
        r["search_index"] = idx.returncode == 0 or idx.stderr.strip()[-300:]
        pf = step(["search-pagefind", str(site)], build) if idx.returncode == 0 else None
        r["search_pagefind"] = (pf.returncode == 0 or pf.stderr.strip()[-300:]) if pf else "not run (no Material search index)"
        shutil.copyfile(pdf, site / "handbook.pdf")
        r["pdf"] = dict(pdf_note, in_site=hashlib.sha256((site / "handbook.pdf").read_bytes()).hexdigest() == digest)
        r["offline"] = offline_copy(c, build, site, pdf)
        texts[c.name] = page_texts(site)
        if tests:
            print(f"compare: {c.name}: the built-site tests", flush=True)
            r["tests"] = run_tests(site, work / f"junit-{c.name}.xml")
        if serve:
            print(f"compare: {c.name}: serve, edit -> page", flush=True)
            r["serve"] = serve_latency(c, work)
        results[c.name] = r
    if BASELINE in texts:
        for name, t in texts.items():
            results[name]["texts"] = compare_texts(texts[BASELINE], t)
    return results


# --- time and memory ---------------------------------------------------------------------------


def timing(cands: list[Candidate], work: Path, sizes: list[int], repeat: int) -> list[dict]:
    """Clean strict builds of each set by each candidate, candidates interleaved in every repetition."""
    sets = []
    for size in sizes:
        if size == 0:
            project, name, records = ROOT, "real handbook", sum(1 for _ in (ROOT / "evidence").rglob("*.yaml"))
        else:
            print(f"compare: making a synthetic set of {size:,} records", flush=True)
            project, name, records = make_set(size, work / f"set-{size}"), f"synthetic {size:,}", size
        build = work / f"timing-build-{size}"
        done = subprocess.run(
            [PY, "-m", "generators", "--root", str(project), "build", "--out", str(build)], capture_output=True, text=True, env=ENV
        )
        if done.returncode != 0:
            raise SystemExit(f"generating the set of {size} failed:\n{done.stderr}")
        sets.append({"name": name, "records": records, "build": build, "runs": {c.name: [] for c in cands}})
    for rep in range(repeat):
        for s in sets:
            for c in cands:
                print(f"compare: repetition {rep + 1}/{repeat}, {s['name']}, {c.name}", flush=True)
                site = work / "timing-site"
                shutil.rmtree(site, ignore_errors=True)
                inner = f"site-{c.name}-mkdocs"
                config = config_for(c, s["build"], site_dir=inner if c.zensical else None)
                try:
                    m = measure(build_command(c, config, site), s["build"], ENV)
                    m.pop("stdout", None)
                except SystemExit as error:
                    m = {"failed": str(error)[-600:]}  # the end: the error itself
                m["repetition"] = rep + 1
                s["runs"][c.name].append(m)
                shutil.rmtree(s["build"] / inner, ignore_errors=True)
    for s in sets:
        s.pop("build")
        s["median"] = {}
        for name, runs in s["runs"].items():
            ok = [r for r in runs if "seconds" in r]
            if ok:
                s["median"][name] = {
                    "seconds": round(statistics.median(r["seconds"] for r in ok), 2),
                    "peak_mb": round(statistics.median(r["peak_mb"] for r in ok), 1),
                    "runs": len(ok),
                }
    return sets


# --- project health (read, not measured) -------------------------------------------------------

# Read on 2026-12-07 (PyPI metadata by pip; pages by the search tool): nothing here is measured.
HEALTH = json.loads((LOCKS / "health.json").read_text(encoding="utf-8")) if (LOCKS / "health.json").exists() else {}


# --- report ------------------------------------------------------------------------------------


def cell_tests(r: dict, files: tuple[str, ...]) -> str:
    t = r.get("tests")
    if not t:
        return "not run"
    counts = [t["files"].get(f) for f in files if t["files"].get(f)]
    if not counts:
        return "no tests ran"
    p = sum(x["passed"] for x in counts)
    f = sum(x["failed"] + x["error"] for x in counts)
    s = sum(x["skipped"] for x in counts)
    return f"{p} passed, {f} failed" + (f", {s} skipped" if s else "")


def markdown(result: dict) -> str:
    cands = [c for c in CANDIDATES if c.name in result["checks"]]
    rs = result["checks"]
    out = [
        "# Site generators compared (issue 33)\n",
        f"`make compare-generators` (bench/compare_generators.py), commit `{result['commit']}`, {result['date']}, "
        f"{result['cores']} cores shared with other work, Python {result['python']}. Mode: {result['mode']}. Every "
        "candidate installed from its hashed lock in bench/generators/ into a venv of its own, each building the same "
        "generated tree (`python -m generators build`); the other make site steps run in the project's .venv around it. "
        f"Build times: the candidate's clean strict build alone, {result['repeat']} repetition(s), candidates interleaved "
        "within each repetition (A B C D E, A B C D E, ...) so that load from other work falls on all alike; the median "
        "is given and every run is listed below. Memory: peak resident memory of the build's whole process tree (sampled "
        "every 20 ms), median of the runs.\n",
        "## Results\n",
    ]
    head = ["", *[c.name for c in cands]]
    rows = [
        ("version", lambda r: r.get("version", "?")),
        (
            "strict build",
            lambda r: (
                "passes, 0 warnings"
                if r["strict_build"]["exit"] == 0 and not r["strict_build"]["warnings"]
                else f"exit {r['strict_build']['exit']}, {len(r['strict_build']['warnings'])} warnings"
            ),
        ),
        (
            "pages whose article or navigation text differs from today's",
            lambda r: f"{r['texts']['differing']} of {r['texts']['pages']}" if "texts" in r else "n/a",
        ),
        (
            "Material search index (search-index step)",
            lambda r: "yes" if r.get("search_index") is True else f"no: {r.get('search_index', 'n/a')}"[:120],
        ),
        (
            "Pagefind step (search-pagefind)",
            lambda r: "yes" if r.get("search_pagefind") is True else f"no: {r.get('search_pagefind', 'n/a')}"[:160],
        ),
        (
            "offline copy built (strict)",
            lambda r: ("yes" if r["offline"]["ok"] and not r["offline"].get("warnings") else "no") if "offline" in r else "n/a",
        ),
        ("search question bank (100 questions)", lambda r: r.get("tests", {}).get("question_bank", "not run")),
        ("search tests", lambda r: cell_tests(r, ("test_search",))),
        ("axe, both colour schemes, and keyboard", lambda r: cell_tests(r, ("test_accessibility",))),
        (
            "offline copy from file://",
            lambda r: cell_tests(r, ("test_offline",)) if r.get("offline", {}).get("ok") else "offline build failed",
        ),
        ("links", lambda r: cell_tests(r, ("test_links",))),
        ("PDF", lambda r: "unchanged (same file: made from build/, not by the generator)" if r.get("pdf", {}).get("in_site") else "n/a"),
        (
            "serve: edit -> page",
            lambda r: (
                f"{r['serve']['seconds']} s" if r.get("serve", {}).get("seconds") is not None else r.get("serve", {}).get("why", "not run")
            ),
        ),
    ]
    out.append("| " + " | ".join(head) + " |")
    out.append("|---|" + "---|" * len(cands))
    for label, fn in rows:
        cells = []
        for c in cands:
            try:
                cells.append(str(fn(rs[c.name])).replace("|", "/").replace("\n", " "))
            except (KeyError, TypeError):
                cells.append("n/a")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    for s in result["timing"]:
        cells = []
        for c in cands:
            m = s["median"].get(c.name)
            cells.append(f"{m['seconds']:.1f} s, {m['peak_mb']:,.0f} MB" if m else "failed")
        out.append(f"| clean build, {s['name']} (median time, peak memory) | " + " | ".join(cells) + " |")
    out += [
        "",
        "## Each run\n",
        "| set | candidate | " + " | ".join(f"run {i + 1}" for i in range(result["repeat"])) + " |",
        "|---|---|" + "---|" * result["repeat"],
    ]
    for s in result["timing"]:
        for c in cands:
            runs = s["runs"].get(c.name, [])
            out.append(
                f"| {s['name']} | {c.name} | "
                + " | ".join(f"{r['seconds']:.2f} s, {r['peak_mb']:,.0f} MB" if "seconds" in r else "failed" for r in runs)
                + " |"
            )
    out += ["", "## Differences from today's pages\n"]
    for c in cands:
        t = rs[c.name].get("texts")
        if t and t["differing"]:
            out.append(f"- **{c.name}**: {t['differing']} of {t['pages']} pages differ; for example:")
            out += [f"  - `{e['page']}`: {e['diff']}" for e in t["examples"]]
        elif t:
            out.append(f"- **{c.name}**: every page's article and navigation text is the same as today's.")
    out += ["", "## Failures and warnings\n"]
    for c in cands:
        r = rs[c.name]
        lines = [f"strict build: {w}" for w in r["strict_build"]["warnings"][:5]]
        if r["strict_build"]["exit"]:
            lines.append(f"strict build failed: {r['strict_build']['tail'][-400:]}")
        if r.get("offline") and not r["offline"].get("ok"):
            lines.append(f"offline build: {r['offline'].get('error', '')[-300:]}")
        lines += r.get("tests", {}).get("failures", [])[:8]
        lines += [f"note: {n}" for n in r.get("notes", [])]
        if lines:
            out.append(f"- **{c.name}**:")
            out += [f"  - {line}".replace("\n", " ") for line in lines]
    if HEALTH:
        out += [
            "",
            f"## Project health (read {HEALTH.get('read', '?')}, not measured)\n",
            "| candidate | latest release | maintainers | security policy | issues | sources |",
            "|---|---|---|---|---|---|",
        ]
        for name, h in HEALTH.get("candidates", {}).items():
            out.append(
                f"| {name} | {h.get('release', '')} | {h.get('maintainers', '')} | {h.get('security', '')} | "
                f"{h.get('issues', '')} | " + ", ".join(f"<{u}>" for u in h.get("sources", [])) + " |"
            )
    return "\n".join(out) + "\n"


def make_site(name: str, target: Path) -> int:
    """make site's steps with a candidate's generator (make site-runnerup): build/, its strict build,
    both search steps, the PDF and the offline copy, into target (replaced only when it was built). A search
    step the candidate cannot serve is reported, not fatal: the result is a comparison, not the published site."""
    c = next((x for x in CANDIDATES if x.name == name), None)
    if c is None:
        raise SystemExit(f"unknown candidate {name!r}: one of {', '.join(x.name for x in CANDIDATES)}")
    ensure_venv(c)
    build = ROOT / "build"
    new = target.with_name(target.name + ".new")
    done = step(["build"])
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    done = build_site(c, build, new)
    print(done.stderr, end="", file=sys.stderr)
    if done.returncode != 0 or warnings_of(done):
        raise SystemExit(f"{c.label}: the strict build failed")
    gaps = []
    for args in (["search-index", str(new)], ["search-pagefind", str(new)], ["pdf", str(new / "handbook.pdf")]):
        done = step(args)
        print(done.stdout, end="")
        if done.returncode != 0 and args[0].startswith("search"):  # a comparison: show what this generator lacks
            gaps.append(f"{args[0]} failed: {done.stderr.strip()}")
        elif done.returncode != 0:
            raise SystemExit(f"{args[0]} failed: {done.stderr}")
    offline = offline_copy(c, build, new, new / "handbook.pdf")
    if not offline["ok"]:
        raise SystemExit(f"the offline copy failed: {offline['error']}")
    shutil.rmtree(target, ignore_errors=True)
    new.rename(target)
    print(f"Built {target}/ with {c.label}.", *(f"warning: {gap}" for gap in gaps), sep="\n")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the real handbook only, one repetition")
    parser.add_argument("--only", help="candidates, comma-separated (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="0,1000,5000", help="0 is the real handbook; others synthetic record counts")
    parser.add_argument("--no-tests", action="store_true", help="skip the browser tests")
    parser.add_argument("--no-serve", action="store_true", help="skip the serve measurement")
    parser.add_argument("--lock", action="store_true", help="regenerate bench/generators/*.txt from *.in, then stop")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--site", nargs=2, metavar=("CANDIDATE", "DIR"), help="build the whole site with one candidate, then stop")
    args = parser.parse_args(argv)
    if args.site:
        return make_site(args.site[0], Path(args.site[1]).resolve())
    cands = [c for c in CANDIDATES if not args.only or c.name in args.only.split(",")]
    if args.lock:
        lock_files([c.name for c in cands])
        return 0
    sizes, repeat = ([0], 1) if args.quick else ([int(s) for s in args.sizes.split(",")], args.repeat)
    for c in cands:
        print(f"compare: environment {c.name}", flush=True)
        ensure_venv(c)
    result = {
        **run_facts(),
        "mode": "quick (real handbook, one repetition)" if args.quick else f"full (sizes {sizes}, {repeat} repetitions)",
        "repeat": repeat,
        "candidates": {c.name: {"label": c.label, "lock": f"bench/generators/{c.name}.txt"} for c in cands},
    }
    with tempfile.TemporaryDirectory(prefix="compare-generators-") as tmp:
        work = Path(tmp)
        result["checks"] = checks(cands, work, tests=not args.no_tests, serve=not args.no_serve)
        result["timing"] = timing(cands, work, sizes, repeat)
    result["health"] = HEALTH
    write_results(args.out, "generators", result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
