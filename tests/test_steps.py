"""The steps of make site: one list, and build/ as the only thing the steps after the build read."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TODAY

from generators.steps import site_steps

# What only the build may use: reading records and the bibliography, validating, deriving, rendering.
MODEL_MODULES = {"generators.load", "generators.validate", "generators.rules", "generators.model", "generators.render"}
PROBE = """
import json, runpy, sys
sys.argv = ["generators", *sys.argv[1:]]
try:
    runpy.run_module("generators", run_name="__main__")
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if m.startswith("generators"))}), file=sys.stderr)
"""


def run_probe(*args: str) -> dict:
    env = {"HANDBOOK_TODAY": TODAY, "NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    return json.loads(done.stderr.strip().splitlines()[-1]) | {"stderr": done.stderr}


@pytest.fixture(scope="module")
def built(fixture_site, tmp_path_factory):
    """A copy of the fixture's built site and build/ folder, with the project's records removed: the
    steps after the build must not need them."""
    where = tmp_path_factory.mktemp("steps")
    project = fixture_site.parent
    shutil.copytree(project / "build", where / "build")
    shutil.copytree(fixture_site, where / "site")
    shutil.copytree(ROOT / "overrides", where / "overrides")  # the theme's templates: an input of the site generator, like the config
    (where / "root").mkdir()  # a project folder with no records, no bibliography, no mkdocs.yml
    return where


@pytest.mark.parametrize(
    "step",
    [["search-index", "{site}"], ["pdf", "{site}/handbook.pdf"], ["offline", "{site}"]],
    ids=["search-index", "pdf", "offline"],
)
def test_the_steps_after_the_build_read_only_build_and_never_the_records(built, step):
    args = [a.format(site=built / "site") for a in step]
    result = run_probe("--root", str(built / "root"), "--build", str(built / "build"), *args)
    assert result["code"] in (0, None), result["stderr"]
    assert "generators.__main__" in result["modules"] or len(result["modules"]) > 1  # the probe saw the step's imports
    assert not MODEL_MODULES & set(result["modules"]), result["modules"]


def test_the_manifest_names_the_pages_in_navigation_order_with_search_data_identity_and_version(fixture_site):
    manifest = json.loads((fixture_site.parent / "build" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pages"][0] == "index.md" and "therapies/ivig.md" in manifest["pages"]
    assert manifest["pages"].index("therapies/index.md") < manifest["pages"].index("therapies/ivig.md")
    assert manifest["site"]["name"] == "IIM Evidence Handbook" and "Not medical advice" in manifest["site"]["notice"]
    assert manifest["version"] and manifest["date"] == TODAY
    assert "IVIG" in " ".join(manifest["search"]["keys"]["therapies/ivig/"]).upper()
    assert manifest["search"]["synonyms"]["groups"]
    parts = manifest["pdf"]["parts"]
    assert parts and all((fixture_site.parent / "build" / p).read_text().strip() for p in parts)


def test_make_site_runs_the_one_list_of_steps():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    site_rule = makefile[makefile.index("\nsite:") : makefile.index("\ntest:")]
    assert "-m generators site site.new" in site_rule and "mkdocs build" not in site_rule
    names = [name for name, _ in site_steps(ROOT, ROOT / "build", ROOT / "site")]
    # make site names site.new relative to the project; MkDocs would read it from build/
    html = dict(site_steps(ROOT, Path("build"), Path("site.new")))["html"]
    assert html[html.index("--site-dir") + 1] == str(Path.cwd() / "site.new")
    assert names == ["build", "pdf", "html", "search index", "search pagefind", "offline copy"]
    bench = (ROOT / "bench" / "run.py").read_text(encoding="utf-8")
    assert "site_steps(" in bench and '"search-index"' not in bench


def test_a_step_after_the_build_without_a_build_says_what_to_run(tmp_path):
    result = run_probe("--root", str(tmp_path), "--build", str(tmp_path / "nothing"), "pdf", str(tmp_path / "x.pdf"))
    assert result["code"] == 1
    assert "run python -m generators build first" in result["stderr"]
