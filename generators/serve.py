"""make serve: regenerate build/ whenever an input changes, and `mkdocs serve` the result.

Only records, the bibliography, the schemas, the hand-written pages and the generator code
(templates included) are watched; each change runs `python -m generators build` anew (so code
edits apply too), which writes only the files that changed, and MkDocs rebuilds from build/.
While the input has problems the last good pages stay, and every page shows the problems
(file:line and message) in a banner above it (overrides/main.html).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from .build import CONFIG, OUT, generate_fallback

SERVE_CONFIG = "mkdocs-serve.yml"
WATCHED = ("evidence", "references.bib", "schemas", "docs", "generators")


def regenerate(root: Path, out: Path) -> list[str]:
    """Run the generator; return the problems it reported (none when it succeeded)."""
    done = subprocess.run(
        [sys.executable, "-m", "generators", "--root", str(root), "build", "--out", str(out)], capture_output=True, text=True
    )
    problems: list[str] = []
    if done.returncode != 0:
        problems = [line for line in done.stderr.splitlines() if line.strip()] or [f"the generator failed (exit status {done.returncode})"]
        if not (out / CONFIG).exists():  # nothing built yet: the hand-written pages, to carry the banner
            generate_fallback(root, out)
    print(done.stdout.strip() or "", *problems, sep="\n", file=sys.stderr, flush=True)
    config = {"INHERIT": CONFIG, "strict": False, "extra": {"build_problems": problems}}
    text = "# Written by make serve (python -m generators serve).\n" + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    target = out / SERVE_CONFIG
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return problems


def _watch(root: Path, changed: threading.Event):
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event):
            if event.event_type in ("opened", "closed_no_write"):
                return
            paths = [event.src_path, getattr(event, "dest_path", "") or ""]
            if any("__pycache__" not in p and not p.endswith((".tmp", ".pyc", "~")) for p in paths if p):
                changed.set()

    observer = Observer()
    for name in WATCHED:
        path = root / name
        if path.is_dir():
            observer.schedule(Handler(), str(path), recursive=True)
        elif path.exists():
            observer.schedule(Handler(), str(path.parent), recursive=False)  # a file: its folder, filtered below
    observer.start()
    return observer


def serve(root: Path, address: str = "127.0.0.1:8000", out: Path | None = None) -> int:
    out = out or root / OUT
    regenerate(root, out)
    changed = threading.Event()
    observer = _watch(root, changed)
    server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-f", str(out / SERVE_CONFIG), "-a", address])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while server.poll() is None:
            if changed.wait(timeout=0.5):
                time.sleep(0.3)  # an editor's save is often several events
                changed.clear()
                regenerate(root, out)
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0
