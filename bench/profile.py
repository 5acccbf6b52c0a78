"""Where the time of one site build goes: `make profile` (python bench/profile.py --help).

Builds a synthetic set (1,000 records by default) once under cProfile, `python -m generators
build` then `mkdocs build -f build/mkdocs.yml` in one process, site only (the PDF and
the offline copy are separate processes, timed by `make bench`), and writes bench/profile.md:
the time of each stage of the build, then the functions' own time summed by package.
Times under the profiler run about 1.5x slower than without it; the shares are what matter.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import pstats
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic import make_set  # noqa: E402

# The stages of a build, each the cumulative time of the function that runs it.
# (file ending, function name) -> what a reader of the table calls it
STAGES = [
    (("generators/build.py", "build"), "handbook: python -m generators build, the Markdown site in build/"),
    (("generators/model.py", "build_model"), "  load, validate and derive the records"),
    (("generators/render.py", "render_pages"), "  render the Markdown pages (Jinja2)"),
    (("generators/citations.py", "footnote_citations"), "  citations: [@key] to footnotes"),
    (("generators/write.py", "write_tree"), "  files written (only those that changed)"),
    (("generators/history.py", "record_changes"), "  what's new (git history)"),
    (("generators/export.py", "cite_files"), "  cite-this-page files"),
    (("generators/opendata.py", "data_files"), "  open data (JSON, CSV, BibTeX, CSL-JSON, FHIR)"),
    (("generators/figures.py", "figure_files"), "  figures (SVG)"),
    (("mkdocs/commands/build.py", "build"), "mkdocs build -f build/mkdocs.yml"),
    (("mkdocs/commands/build.py", "_populate_page"), "  pages read and converted"),
    (("markdown/core.py", "convert"), "    Markdown to HTML (Python-Markdown, all extensions)"),
    (("mkdocs/commands/build.py", "_build_page"), "  pages put in the theme and written (Material, Jinja2)"),
    (("material/templates/partials/nav.html", "root"), "    the navigation sidebar"),
    (("material/plugins/search/plugin.py", "on_page_context"), "    text of each page for the search index"),
    (("material/plugins/search/plugin.py", "on_post_build"), "  search index written"),
]


# Both steps in one process, so one profile holds them.
DRIVER = """
import sys
from pathlib import Path

root = Path(sys.argv[1])
sys.path.insert(0, str(root))
from generators.build import build
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config

build(root)
mkdocs_build(load_config(str(root / "build" / "mkdocs.yml"), site_dir=sys.argv[2]))
"""


def stage_times(stats: pstats.Stats) -> list[tuple[str, float]]:
    found = collections.Counter()
    for (file, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        for (ending, name), label in STAGES:
            if function == name and file.endswith(ending):
                found[label] += cumulative
    return [(label, found[label]) for _key, label in STAGES if found[label]]


def package_of(file: str) -> str:
    if match := re.search(r"site-packages/([^/]+)", file):
        return match.group(1)
    if "/generators/" in file:
        return "generators (ours)"
    if file.startswith("<") or file == "~":
        return "built-ins (str, re, dict …)"
    return "standard library"


def package_times(stats: pstats.Stats) -> list[tuple[str, float]]:
    own = collections.Counter()
    for (file, _line, _function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        own[package_of(file)] += tottime
    return own.most_common(12)


def markdown_report(records: int, total: float, stages, packages, commit: str) -> str:
    out = [
        "# Where the build's time goes\n",
        f"`python -m generators build` and `mkdocs build` (site only) of {records:,} synthetic records under cProfile, "
        f"commit `{commit}`, {dt.date.today().isoformat()}, {os.cpu_count()} cores: {total:.1f} s in all under the profiler. "
        "`make profile` writes this file.\n",
        "## By stage (cumulative time; indented rows are parts of the row above)\n",
        "| stage | seconds | share |",
        "|---|---:|---:|",
    ]
    out += [f"| {label} | {seconds:.1f} | {seconds / total:.0%} |" for label, seconds in stages]
    out += ["", "## By package (functions' own time)\n", "| package | seconds | share |", "|---|---:|---:|"]
    out += [f"| {name} | {seconds:.1f} | {seconds / total:.0%} |" for name, seconds in packages]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000, help="size of the synthetic set")
    parser.add_argument("--out", type=Path, default=HERE / "profile.md")
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="handbook-profile-") as tmp:
        project = make_set(args.records, Path(tmp) / "set")
        profile = Path(tmp) / "build.prof"
        env = dict(os.environ, NO_MKDOCS_2_WARNING="1", NO_MKDOCS_NG_NOTICE="1")
        driver = Path(tmp) / "build_site.py"
        driver.write_text(DRIVER, encoding="utf-8")
        command = [sys.executable, "-m", "cProfile", "-o", str(profile), str(driver), str(project), str(Path(tmp) / "site")]
        subprocess.run(command, cwd=project, env=env, check=True)
        stats = pstats.Stats(str(profile))
    report = markdown_report(args.records, stats.total_tt, stage_times(stats), package_times(stats), commit or "unknown")
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
