"""The version 1 -> 2 migration, run as a contributor runs it, on version-1 records."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
V1 = ROOT / "tests" / "fixtures" / "migrations" / "v1-evidence"
PROJECT = ROOT / "tests" / "fixtures" / "project"


def v1_project(tmp_path: Path) -> Path:
    shutil.copytree(V1, tmp_path / "evidence")
    shutil.copy(PROJECT / "references.bib", tmp_path / "references.bib")
    return tmp_path


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True)


def test_a_version_1_record_is_refused_with_the_command_that_upgrades_it(tmp_path):
    project = v1_project(tmp_path)
    result = run("-m", "generators", "--root", str(project), "validate")
    assert result.returncode == 1
    assert (
        "evidence/therapy/ivig.yaml:1: schema_version: this record is written in format version 1; "
        "the handbook now reads version 2 (run `make migrate`" in result.stderr
    ), result.stderr


def test_migration_upgrades_every_record_to_a_valid_version_2(tmp_path):
    project = v1_project(tmp_path)
    before = {p.relative_to(project): yaml.safe_load(p.read_text()) for p in project.glob("evidence/*/*.yaml")}
    result = run("-m", "migrations", str(project))
    assert result.returncode == 0, result.stderr
    assert f"{len(before)} record(s) upgraded to schema_version 2." in result.stdout
    after = {p.relative_to(project): yaml.safe_load(p.read_text()) for p in project.glob("evidence/*/*.yaml")}
    assert all(data["schema_version"] == 2 for data in after.values())

    study = after[Path("evidence/study/fixture-trial.yaml")]
    assert study["trial_status"] == before[Path("evidence/study/fixture-trial.yaml")]["status"]
    assert "status" not in study

    therapy = after[Path("evidence/therapy/ivig.yaml")]
    assert therapy["safety"] == {"adverse_events": [{"text": "Fixture adverse events.", "cite": ["fixture2020"]}]}
    assert therapy["unverified"] == ["The fixture dose was read on a poster."]
    assert therapy["omitted"] == ["Fixture safety figures could not be read and are left out."]

    validation = run("-m", "generators", "--root", str(project), "validate")
    assert validation.returncode == 0, validation.stderr


def test_migration_keeps_what_it_does_not_rewrite_and_runs_once(tmp_path):
    project = v1_project(tmp_path)
    path = project / "evidence" / "study" / "fixture-trial.yaml"
    original = path.read_text()
    run("-m", "migrations", str(project))
    migrated = path.read_text()
    # Only the version and the renamed status line differ: comments and formatting survive.
    changed = [(a, b) for a, b in zip(original.splitlines(), migrated.splitlines(), strict=True) if a != b]
    assert changed == [("schema_version: 1", "schema_version: 2"), ("status: completed", "trial_status: completed")]
    second = run("-m", "migrations", str(project))
    assert "0 record(s) upgraded" in second.stdout
    assert path.read_text() == migrated


def test_every_record_of_the_handbook_is_at_the_current_version():
    from migrations import CURRENT_VERSION, version_of

    versions = {p.relative_to(ROOT).as_posix(): version_of(p.read_text()) for p in ROOT.glob("evidence/*/*.yaml")}
    assert versions and set(versions.values()) == {CURRENT_VERSION}
