"""Shared helpers: throw-away handbook projects built from fixtures, and built sites."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "project"
TODAY = "2026-11-21"

sys.path.insert(0, str(ROOT))


def make_project(where: Path, source: Path = FIXTURE) -> Path:
    """A project folder with fixture records and the real generators, schemas and theme."""
    shutil.copytree(source / "evidence", where / "evidence")
    shutil.copy(source / "references.bib", where / "references.bib")
    for shared in ("generators", "schemas", "docs", "overrides"):
        (where / shared).symlink_to(ROOT / shared)
    shutil.copy(ROOT / "mkdocs.yml", where / "mkdocs.yml")
    return where


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HANDBOOK_TODAY=TODAY, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def build(project: Path, site: str = "site") -> subprocess.CompletedProcess:
    return run(["-m", "mkdocs", "build", "--strict", "--site-dir", site], project)


def validate(project: Path) -> subprocess.CompletedProcess:
    return run(["-m", "generators", "--root", str(project), "validate"], ROOT)


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("fixture") / "project")
    result = build(project)
    assert result.returncode == 0, result.stderr
    return project / "site"


@pytest.fixture(scope="session")
def handbook_site(tmp_path_factory) -> Path:
    """The real handbook, built once for the whole run."""
    site = tmp_path_factory.mktemp("handbook") / "site"
    result = run(["-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], ROOT)
    assert result.returncode == 0, result.stderr
    return site


def edit(project: Path, rel: str, old: str, new: str) -> None:
    path = project / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
