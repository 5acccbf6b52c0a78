"""Write the generated tree, touching only files whose content changed.

Unchanged files keep their modification time, so `mkdocs serve` does not see them as edits
and never rebuilds in a loop; pages that no longer exist are removed.
"""

from __future__ import annotations

from pathlib import Path


def write_tree(files: dict[str, str | bytes], folder: Path) -> dict[str, list[str]]:
    """Make folder hold exactly `files` (pages, figures, data: any file): only changed files are
    written, each atomically (a reader never sees half a page), and files that are no longer part of
    it are removed, with the folders they leave empty."""
    report = write_files(files, folder)
    for existing in sorted(folder.rglob("*"), reverse=True):  # files before the folders holding them
        rel = existing.relative_to(folder).as_posix()
        if existing.is_dir():
            if not any(existing.iterdir()):
                existing.rmdir()
        elif rel not in files:
            existing.unlink()
            report["removed"].append(rel)
    return report


def write_files(files: dict[str, str | bytes], folder: Path) -> dict[str, list[str]]:
    """Write `files` into folder, only those whose content changed, each atomically; other files stay
    (make serve writes a saved record's page this way before the whole tree is brought up to date)."""
    folder.mkdir(parents=True, exist_ok=True)
    report: dict[str, list[str]] = {"written": [], "unchanged": [], "removed": []}
    for rel, content in sorted(files.items()):
        target = folder / rel
        data = content.encode("utf-8") if isinstance(content, str) else content
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            report["unchanged"].append(rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_bytes(data)
        temporary.replace(target)
        report["written"].append(rel)
    return report
