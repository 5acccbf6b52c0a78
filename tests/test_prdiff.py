"""A pull request's summary: the pages whose text changes, with a diff of the rendered text, and the
records, references and exports it touches. On fixture edits, as the workflow runs it."""

from __future__ import annotations

import shutil

from conftest import edit, run


def built(project):
    result = run(["-m", "generators", "--root", str(project), "build"], project)
    assert result.returncode == 0, result.stderr
    return project


def test_a_one_word_edit_shows_as_a_text_diff_of_the_pages_it_changes(project, tmp_path):
    base = built(project)
    head = tmp_path / "head"
    shutil.copytree(base, head, symlinks=True)
    edit(head, "evidence/therapy/ivig.yaml", "summary: A fixture therapy.", "summary: A fixture immunoglobulin therapy.")
    edit(head, "references.bib", "  year = {2021},", "  year = {2022},")
    built(head)
    result = run(["-m", "generators", "diff", str(base), str(head)], head)
    assert result.returncode == 0, result.stderr
    report = result.stdout
    assert "- changed: `therapy/ivig.yaml`" in report
    assert "**References** (`references.bib`)" in report and "- changed: `trialist2021`" in report
    assert "<code>therapies/ivig.md</code>" in report
    # the rendered text, not the YAML: the old and the new sentence as a reader sees them
    assert "\n-A fixture therapy. [^fixture2020]" in report and "\n+A fixture immunoglobulin therapy. [^fixture2020]" in report
    assert "summary:" not in report
    assert "- " in report.split("**Exports**", 1)[1] and "`data/" in report  # the open data carries the summary too


def test_no_change_says_so(project):
    base = built(project)
    result = run(["-m", "generators", "diff", str(base), str(base)], base)
    assert "No page, record, reference or export changes." in result.stdout
