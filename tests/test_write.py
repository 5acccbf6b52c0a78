"""Generated pages are rewritten only when their content changes (no serve loops)."""

import os

from generators.write import write_pages


def test_second_write_touches_nothing_and_changes_only_what_changed(tmp_path):
    pages = {"a/x.md": "one\n", "b/y.md": "two\n"}
    first = write_pages(pages, tmp_path)
    assert first["written"] == ["a/x.md", "b/y.md"]
    stamp = os.stat(tmp_path / "a/x.md").st_mtime_ns
    second = write_pages(pages, tmp_path)
    assert second["written"] == [] and os.stat(tmp_path / "a/x.md").st_mtime_ns == stamp
    third = write_pages({"a/x.md": "one\n", "b/y.md": "changed\n"}, tmp_path)
    assert third["written"] == ["b/y.md"]
    fourth = write_pages({"a/x.md": "one\n"}, tmp_path)
    assert fourth["removed"] == ["b/y.md"] and not (tmp_path / "b/y.md").exists()
