"""The benchmark's synthetic evidence sets are valid handbooks of the size asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from synthetic import check_set, make_set  # noqa: E402


def test_a_synthetic_set_has_the_size_asked_for_and_validates(tmp_path):
    project = make_set(300, tmp_path / "set")
    records = list((project / "evidence").rglob("*.yaml"))
    assert len(records) == 300
    assert check_set(project) == []
    # copies keep realistic citation counts: the bibliography grows with the records
    assert (project / "references.bib").read_text().count("@article{") > 100


def test_benchmark_smoke_run_reports_every_step_and_the_incremental_targets(tmp_path):
    """`make bench` on 100 records: every step measured, results written, incremental targets met."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "100", "--no-real", "--runs", "2", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = (tmp_path / "results.md").read_text(encoding="utf-8")
    row = next(line for line in report.splitlines() if line.startswith("| synthetic 100 | 100 |"))
    # validate, pages, pages cached, generate, mkdocs build, search index, search pagefind, pdf, offline copy, whole build
    assert row.count(" MB") == 10
    assert f"{os.cpu_count()} cores" in report
    search = next(line for line in report.split("## Search")[1].splitlines() if line.startswith("| synthetic 100 |"))
    assert search.count(" KB") == 2 and search.count(" ms") == 4, search  # search files, served; cold and warm twice
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    search = results["rows"][0]["search"]
    assert search["cold_ms"] > 0 and search["served_kb_before_first_result"] > 0 and search["pagefind"]["fragments"] > 0
    assert results["rows"][0]["search_throttled"]["cold_ms"] > 0
    # the seconds-long steps and the search times are the median of the runs asked for (two here), each run kept
    pages, cold = results["rows"][0]["steps"]["pages"], results["rows"][0]["search_throttled"]["cold_runs_ms"]
    assert len(pages["runs"]) == 2 and pages["seconds"] == sorted(pages["runs"])[1]
    assert len(cold) == 2 and results["rows"][0]["search_throttled"]["cold_ms"] == sorted(cold)[1]
    assert "median of 2 runs and the search times the median of 2" in report
    assert results["rows"][0]["sizes"]["pdf_mb"] > 0 and results["rows"][0]["sizes"]["offline_zip_mb"] > 0
    incremental = {name: met for name, _, met in results["targets"] if "rewrit" in name}
    assert len(incremental) == 2 and all(incremental.values()), incremental


def test_a_page_rewritten_without_naming_the_edited_record_is_reported(tmp_path):
    from run import pages_not_naming

    (tmp_path / "studies").mkdir()
    (tmp_path / "studies" / "trial-a.md").write_text("# Trial A\n")
    (tmp_path / "studies" / "index.md").write_text("[Trial A](trial-a.md)\n")
    (tmp_path / "studies" / "trial-b.md").write_text("# Trial B\n")
    rewritten = ["studies/trial-a.md", "studies/index.md", "studies/trial-b.md"]
    assert pages_not_naming(tmp_path, "evidence/study/trial-a.yaml", rewritten) == ["studies/trial-b.md"]
