"""The build writes its tree file by file, and only what changed (no serve loops)."""

import os

from generators.write import write_tree


def test_second_write_touches_nothing_and_changes_only_what_changed(tmp_path):
    files = {"a/x.md": "one\n", "b/y.md": "two\n", "assets/f.png": b"\x89PNG\r\n"}
    first = write_tree(files, tmp_path)
    assert first["written"] == ["a/x.md", "assets/f.png", "b/y.md"]
    assert (tmp_path / "assets/f.png").read_bytes() == b"\x89PNG\r\n"
    stamp = os.stat(tmp_path / "a/x.md").st_mtime_ns
    second = write_tree(files, tmp_path)
    assert second["written"] == [] and os.stat(tmp_path / "a/x.md").st_mtime_ns == stamp
    third = write_tree({**files, "b/y.md": "changed\n"}, tmp_path)
    assert third["written"] == ["b/y.md"]
    fourth = write_tree({"a/x.md": "one\n"}, tmp_path)
    assert fourth["removed"] == ["b/y.md", "assets/f.png"] and not (tmp_path / "b").exists()
    assert not list(tmp_path.rglob("*.tmp"))
