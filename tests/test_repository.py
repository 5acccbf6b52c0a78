"""The repository itself: workflows locked down, editor support wired, code linted."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    return str(BIN / name) if (BIN / name).exists() else shutil.which(name) or name


def test_workflows_pass_zizmor():
    result = subprocess.run([tool("zizmor"), "--offline", "--no-progress", *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_pin_actions_limit_permissions_and_time():
    for path in WORKFLOWS:
        text = path.read_text()
        flow = yaml.safe_load(text)
        triggers = flow.get(True) or flow.get("on")  # YAML 1.1 reads the key `on` as True
        assert "pull_request_target" not in triggers, f"{path.name} runs contributor code with secrets"
        # read-only or nothing at the top; a job that must write (the watch's issue) says so itself
        assert flow.get("permissions") in ({"contents": "read"}, {}), f"{path.name}: least-privilege permissions"
        assert "concurrency" in flow, path.name
        for name, job in flow["jobs"].items():
            assert "timeout-minutes" in job, f"{path.name}: job {name} has no timeout"
        for uses in re.findall(r"uses:\s*(\S+)", text):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), f"{path.name}: {uses} is not pinned to a commit"


def test_every_record_names_its_schema_for_editors():
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text())
    mapped = settings["yaml.schemas"]
    for schema in sorted((ROOT / "schemas").glob("*.schema.json")):
        kind = schema.name.removesuffix(".schema.json")
        if kind != "common":
            assert mapped.get(f"./schemas/{schema.name}") == f"evidence/{kind}/*.yaml"
    for record in sorted((ROOT / "evidence").glob("*/*.yaml")):
        first = record.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema=../../schemas/{record.parent.name}.schema.json", record


def test_pre_commit_runs_the_same_validation():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert hooks["validate-records"]["entry"] == "python -m generators validate"
    assert {"check-yaml", "ruff", "ruff-format"} <= set(hooks)


def test_the_deploy_job_publishes_only_after_the_checks_pass():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    jobs = workflow["jobs"]
    assert "make test" in " ".join(step.get("run", "") for step in jobs["checks"]["steps"])
    assert jobs["build"]["needs"] == "checks" and jobs["deploy"]["needs"] == "build"
    assert (ROOT / ".github" / "dependabot.yml").exists()


def locked(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """A pip-compile lock: each package (normalised name) with its version and file hashes."""
    packages = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", (ROOT / name).read_text()):
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if match:
            key = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            packages[key] = (match.group(2), frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})", block)))
    return packages


def test_locks_pin_every_package_with_hashes_and_agree_with_each_other_and_pyproject():
    import tomllib

    runtime, dev = locked("requirements.txt"), locked("requirements-dev.txt")
    assert all(hashes for _, hashes in [*runtime.values(), *dev.values()]), "a locked package has no hash"
    # make test installs the dev lock over the runtime one: the same versions, or pip would swap them
    assert {name: dev.get(name) for name in runtime} == runtime, "requirements-dev.txt differs from requirements.txt; run make lock"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(requirements):
        return {re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", r).group(0)).lower() for r in requirements}

    assert names(project["dependencies"]) <= set(runtime), "pyproject.toml has a dependency not in requirements.txt; run make lock"
    assert names(project["optional-dependencies"]["dev"]) <= set(dev), "a dev dependency is not in requirements-dev.txt; run make lock"
    assert not {"pytest", "playwright", "ruff"} & set(runtime), "make site installs only what the build needs"
    rev = re.search(r"ruff-pre-commit\s+rev: v(\S+)", (ROOT / ".pre-commit-config.yaml").read_text()).group(1)
    assert rev == dev["ruff"][0], "pre-commit's ruff and the locked ruff differ"


def test_workflows_install_only_from_the_locks():
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            assert "pip install" not in line or "--require-hashes" in line, f"{path.name}: {line.strip()} (use make install)"


def test_the_site_identity_is_written_in_one_place():
    """Name, notice and licence come from generators/identity.py; code, theme and config only refer to it."""
    literals = ("IIM Evidence Handbook", "Not medical advice", "CC BY 4.0", "CC-BY-4.0")
    places = [*sorted((ROOT / "generators").rglob("*.py")), *sorted((ROOT / "generators" / "templates").glob("*")),
              *sorted((ROOT / "overrides").rglob("*.html")), ROOT / "mkdocs.yml"]  # fmt: skip
    found = {(p.relative_to(ROOT).as_posix(), literal) for p in places for literal in literals if literal in p.read_text(encoding="utf-8")}
    assert {where for where, _ in found} == {"generators/identity.py"}, sorted(found)
    assert {literal for _, literal in found} == set(literals)  # each is there, once, to be found
    assert len(places) > 40
