"""make serve's builder: a long-lived process that keeps the generators imported between saves.

`make serve` (serve.py) starts it as `python -m generators preview-worker` and sends it one JSON
command per line on stdin; it answers one JSON line on stdout:

- {"records": ["evidence/therapy/ivig.yaml", ...]}: the fast path after a record is saved. The model
  is derived again (the parse cache reads only the saved files again) and the saved records' own pages
  are written, the same text the whole build writes for them, so the page a contributor is looking at
  changes first. Answer: {"ok": true, "written": [...]} or {"ok": false, "problems": [...]}.
- {"build": true}: the whole build into the build folder, with the model just derived when there is
  one (only the files whose content changed are written). Answer as above.

A change to the generators, the templates or the schemas needs new code: serve.py then stops this
process and starts another, and the page says it is rebuilding until the whole build is done.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .problems import InputError


class Preview:
    def __init__(self, root: Path, out: Path):
        self.root, self.out = root, out
        self.book = None  # the model of the last fast path, for the whole build that follows it

    def records(self, paths: list[str]) -> dict:
        from .build import record_pages
        from .model import build_model
        from .write import write_files

        try:
            self.book = build_model(self.root)
        except InputError as error:
            self.book = None
            return {"ok": False, "problems": error.report().splitlines()}
        pages = record_pages(self.root, self.book, paths)
        return {"ok": True, "written": write_files(pages, self.out / "docs")["written"]}

    def build(self) -> dict:
        from .build import ConfigError, build

        book, self.book = self.book, None
        try:
            report = build(self.root, self.out, book)
        except InputError as error:
            return {"ok": False, "problems": error.report().splitlines()}
        except ConfigError as error:
            return {"ok": False, "problems": [f"error: {error}"]}
        return {"ok": True, "written": report["written"]}


def worker(root: Path, out: Path) -> int:
    """Answer commands from stdin until it closes."""
    preview = Preview(root, out)
    for line in sys.stdin:
        command = json.loads(line)
        try:
            answer = preview.records(command["records"]) if "records" in command else preview.build()
        except Exception as error:  # an error in our code: say so, and let serve.py start a fresh worker
            answer = {"ok": False, "problems": [f"the generator failed: {type(error).__name__}: {error}"], "crashed": True}
        print(json.dumps(answer), flush=True)
    return 0
