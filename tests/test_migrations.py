"""The version 1 -> 2 migration, run as a contributor runs it, on version-1 records."""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from migrations.m002_locators import MECHANICAL_LOCATOR
from migrations.m002_locators import migrate as to_version_3

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
        "the handbook now reads version 3 (run `make migrate`" in result.stderr
    ), result.stderr


def test_migration_upgrades_every_record_to_version_3_leaving_only_the_check_dates_to_a_person(tmp_path):
    project = v1_project(tmp_path)
    before = {p.relative_to(project): yaml.safe_load(p.read_text()) for p in project.glob("evidence/*/*.yaml")}
    result = run("-m", "migrations", str(project))
    assert result.returncode == 0, result.stderr
    assert f"{len(before)} record(s) upgraded to schema_version 3." in result.stdout
    after = {p.relative_to(project): yaml.safe_load(p.read_text()) for p in project.glob("evidence/*/*.yaml")}
    assert all(data["schema_version"] == 3 for data in after.values())

    study = after[Path("evidence/study/fixture-trial.yaml")]
    assert study["trial_status"] == before[Path("evidence/study/fixture-trial.yaml")]["status"]
    assert "status" not in study
    # version 3: each finding says where in its source it stands, as far as its provenance tells
    assert [(f["provenance"], f["locator"]) for f in study["results"]] == [
        (f["provenance"], MECHANICAL_LOCATOR[f["provenance"]]) for f in before[Path("evidence/study/fixture-trial.yaml")]["results"]
    ]
    assert all("checked" not in f for f in study["results"]), "no migration may claim a check nobody made"

    therapy = after[Path("evidence/therapy/ivig.yaml")]
    assert therapy["safety"] == {"adverse_events": [{"text": "Fixture adverse events.", "cite": ["fixture2020"]}]}
    assert therapy["unverified"] == ["The fixture dose was read on a poster."]
    assert therapy["omitted"] == ["Fixture safety figures could not be read and are left out."]

    # Valid, but for what only a person can add: the date each finding was compared with its source.
    validation = run("-m", "generators", "--root", str(project), "validate")
    problems = validation.stderr.strip().splitlines()[1:]
    findings = len(study["results"]) + len(study.get("safety") or [])
    assert findings >= 1 and len(problems) == findings, validation.stderr
    assert all(
        p.startswith("evidence/study/fixture-trial.yaml:") and "].checked: a new or changed finding needs the date" in p for p in problems
    )


def test_migration_keeps_what_it_does_not_rewrite_and_runs_once(tmp_path):
    project = v1_project(tmp_path)
    path = project / "evidence" / "study" / "fixture-trial.yaml"
    original = path.read_text()
    run("-m", "migrations", str(project))
    migrated = path.read_text()
    # Only the version, the renamed status line and the new locator lines differ: comments and formatting survive.
    diff = [line for line in difflib.ndiff(original.splitlines(), migrated.splitlines()) if line[:1] in "+-"]
    assert sorted(diff) == sorted(
        ["- schema_version: 1", "+ schema_version: 3", "- status: completed", "+ trial_status: completed"]
        + ["+     locator: abstract"] * original.count("provenance: abstract")
    )
    assert original.count("provenance: abstract") >= 1
    second = run("-m", "migrations", str(project))
    assert "0 record(s) upgraded" in second.stdout
    assert path.read_text() == migrated


def test_every_record_of_the_handbook_is_at_the_current_version():
    from migrations import CURRENT_VERSION, version_of

    versions = {p.relative_to(ROOT).as_posix(): version_of(p.read_text()) for p in ROOT.glob("evidence/*/*.yaml")}
    assert versions and set(versions.values()) == {CURRENT_VERSION}


def test_version_3_keeps_a_locator_already_written_and_fills_the_others():
    text = (
        "schema_version: 2\nid: x\nresults:\n"
        "  - text: A.\n    cite: [a2020]\n    provenance: full-text\n    locator: Table 2\n"
        "  - text: B.\n    provenance: registry\n"
        "safety:\n  - text: C.\n    cite: [a2020]\n    provenance: press-release\n"
        "summary: 'provenance: abstract is not a finding'\n"
    )
    data = yaml.safe_load(to_version_3(text, "study"))
    assert data["schema_version"] == 3
    assert [f["locator"] for f in data["results"]] == ["Table 2", "registry results section"]
    assert data["safety"][0]["locator"] == "press release"
    assert to_version_3(to_version_3(text, "study"), "study") == to_version_3(text, "study")
    assert to_version_3(text, "therapy").count("locator") == 1  # only studies have findings
