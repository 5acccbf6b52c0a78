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


def test_python_code_is_linted_and_formatted():
    paths = [str(ROOT / p) for p in ("generators", "tests", "bench")]
    check = subprocess.run([tool("ruff"), "check", *paths], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run([tool("ruff"), "format", "--check", *paths], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout


def test_the_deploy_job_publishes_only_after_the_checks_pass():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    jobs = workflow["jobs"]
    assert "make test" in " ".join(step.get("run", "") for step in jobs["checks"]["steps"])
    assert jobs["build"]["needs"] == "checks" and jobs["deploy"]["needs"] == "build"
    assert (ROOT / ".github" / "dependabot.yml").exists()
