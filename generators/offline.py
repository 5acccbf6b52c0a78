"""Export stage: the offline HTML copy, `site/handbook-offline.zip`.

Opened from file://, browsers refuse fetch() and web workers, so the copy is a second
MkDocs build of the same Markdown tree, from build/mkdocs-offline.yml (written by
generators/build.py): Material's offline plugin on (search index inlined as a script, `.html`
URLs) and the iframe-worker shim served from our own assets instead of a CDN.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

SHIM = "assets/vendor/iframe-worker/shim.js"
FOLDER = "iim-handbook"  # the folder a reader gets when unzipping
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the archive is byte-identical across builds


class OfflineError(Exception):
    pass


def build_offline_zip(
    config_file: Path, site_dir: Path, strict: bool, extra_files: list[Path], finish: Callable[[Path], object] | None = None
) -> Path:
    """Build the offline copy in a temporary folder and zip it into site_dir.

    `finish` runs on the built folder before it is zipped (the search index rewrite)."""
    target = site_dir / "handbook-offline.zip"
    with tempfile.TemporaryDirectory(prefix="handbook-offline-") as tmp:
        out = Path(tmp) / FOLDER
        command = [sys.executable, "-m", "mkdocs", "build", "--quiet", "-f", str(config_file), "-d", str(out)]
        if strict:
            command.append("--strict")
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise OfflineError(f"the offline build failed:\n{result.stderr.strip()}")
        for extra in extra_files:
            shutil.copyfile(extra, out / extra.name)
        if finish:
            finish(out)
        write_zip(out, target)
    return target


def write_zip(folder: Path, target: Path) -> None:
    tmp = target.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = f"{FOLDER}/{path.relative_to(folder).as_posix()}"
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    tmp.replace(target)
