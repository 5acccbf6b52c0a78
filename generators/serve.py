"""make serve: keep build/ up to date while records are edited, and `mkdocs serve --dirty` the result.

Records, the bibliography, the schemas, the hand-written pages and the generator code (templates
included) are watched. A long-lived builder process (preview.py) answers each change: after a record
is saved it writes that record's page first (the model derived again with the parse cache, one page
rendered), then brings the rest of build/ up to date, writing only the files that changed; MkDocs,
with --dirty, rebuilds only those pages. A change to the code, the templates or the schemas starts a
fresh builder and a whole build, and every page says it is rebuilding until it is done. While the input
has problems the last good pages stay, and every page shows the problems (file:line and message) in a
banner above it (overrides/main.html).

The pages link to handbook.pdf, which `mkdocs serve` does not make. So MkDocs serves on a port of
its own, behind a small server on the preview's address that passes every request on, except the
PDF: that is built in the background (`python -m generators pdf`, at low priority, one run at a
time, again after changes) into build/preview/, and until the first one is ready the link gives a
page saying it is being built, which reloads itself.
"""

from __future__ import annotations

import html
import http.client
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .build import ConfigError, generate_fallback, read_config
from .steps import CONFIG, OUT

SERVE_CONFIG = "mkdocs-serve.yml"
WATCHED = ("evidence", "references.bib", "schemas", "docs", "generators")
PREVIEW = "preview"  # build/preview/handbook.pdf: the preview's PDF
PDF_SETTLE_SECONDS = 2.0  # wait for a burst of saves to end before starting a PDF run


def show(root: Path, out: Path, problems: list[str], rebuilding: bool = False) -> None:
    """What every preview page says above it: the problems of the last build, or that it is rebuilding
    after a change to the code, templates or schemas (build/mkdocs-serve.yml, read by overrides/main.html)."""
    if problems and not (out / CONFIG).exists():  # nothing built yet: the hand-written pages, to carry the banner
        generate_fallback(root, out)
    extra = {"build_problems": problems, "preview": True, "rebuilding": rebuilding}
    hooks = [str(Path(__file__).with_name("serve_hooks.py"))]  # the preview's rebuilds kept short (serve_hooks.py)
    config = {"INHERIT": CONFIG, "strict": False, "extra": extra, "hooks": hooks}
    text = "# Written by make serve (python -m generators serve).\n" + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    target = out / SERVE_CONFIG
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
        # MkDocs serves with --dirty, which re-renders only pages whose Markdown is newer than their HTML:
        # the banner is on every page, so every page is marked as changed (its content is left alone)
        now = time.time()
        for page in (out / "docs").rglob("*.md"):
            os.utime(page, (now, now))


class Builder:
    """The preview's builder (preview.py) in a process of its own that lives between saves, so a saved
    record's page is written without importing and deriving everything anew; restarted when the code
    changes. Each answer says which pages were written, or the problems found."""

    def __init__(self, root: Path, out: Path):
        self.root, self.out = root, out
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.stop()
        command = [sys.executable, "-m", "generators", "--root", str(self.root), "--build", str(self.out), "preview-worker"]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def ask(self, command: dict) -> dict:
        import json

        try:
            self.process.stdin.write(json.dumps(command) + "\n")
            line = self.process.stdout.readline()
            answer = json.loads(line) if line else {"ok": False, "problems": ["the preview's builder stopped"], "crashed": True}
        except (BrokenPipeError, OSError, ValueError) as error:
            answer = {"ok": False, "problems": [f"the preview's builder stopped ({error})"], "crashed": True}
        if answer.get("crashed"):
            self.start()
        return answer


CODE = ("generators", "schemas")  # a change here needs new code: a fresh builder and the whole build


def on_change(builder: Builder, paths: set[Path]) -> list[str]:
    """Bring build/ up to date after these files changed: a saved record's page first, then the rest."""
    root, out = builder.root, builder.out
    rel = {p.relative_to(root).as_posix() for p in paths if p.is_relative_to(root)}
    if any(r.split("/")[0] in CODE for r in rel):
        RELOADED.clear()
        show(root, out, [], rebuilding=True)
        builder.start()
        answer = builder.ask({"build": True})
        # every page has said it is rebuilding before the result replaces that (two banners in one
        # MkDocs build would leave some pages with the first)
        RELOADED.wait(timeout=120)
        return finish(builder, answer)
    records = sorted(r for r in rel if r.startswith("evidence/") and r.endswith(".yaml") and (root / r).is_file())
    if records and os.environ.get("HANDBOOK_PREVIEW_FAST", "1") != "0":  # 0: the whole build only (bench baseline)
        started = time.perf_counter()
        RELOADED.clear()
        fast = builder.ask({"records": records})
        if not fast["ok"]:
            return finish(builder, fast)
        took = time.perf_counter() - started
        print(f"Rebuilt first ({took:.2f} s): {', '.join(fast['written']) or 'no page changed'}", file=sys.stderr, flush=True)
        show(root, out, [])
        if fast["written"]:  # the rest once MkDocs has served that page (files changing under its build would fail it)
            RELOADED.wait(timeout=5)
    return finish(builder, builder.ask({"build": True}))


def finish(builder: Builder, answer: dict) -> list[str]:
    problems = [] if answer["ok"] else answer["problems"]
    print(*(problems or [f"Built: {len(answer['written'])} files written"]), sep="\n", file=sys.stderr, flush=True)
    show(builder.root, builder.out, problems)
    return problems


def _watch(root: Path, changed: threading.Event, paths: set):
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event):
            if event.event_type in ("opened", "closed_no_write"):
                return
            found = [p for p in (event.src_path, getattr(event, "dest_path", "") or "") if p]
            found = [p for p in found if "__pycache__" not in p and not p.endswith((".tmp", ".pyc", "~"))]
            if found:
                paths.update(Path(p) for p in found)
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


class PdfBuilder:
    """Builds the preview's PDF in a background thread, one run at a time: a request while a run is
    under way starts one more run after it, so the PDF catches up with the last change."""

    def __init__(self, root: Path, target: Path):
        self.root, self.target = root, target
        self.error = ""  # why the last run failed; empty after a good one
        self._wanted = threading.Event()
        self._stopped = False
        self._process: subprocess.Popen | None = None
        threading.Thread(target=self._run, daemon=True).start()

    def request(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopped = True
        self._wanted.set()
        process = self._process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the run and the Typst and pandoc processes it started
            process.wait()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            time.sleep(PDF_SETTLE_SECONDS)
            self._wanted.clear()
            if self._stopped:
                return
            self.target.parent.mkdir(parents=True, exist_ok=True)
            partial = self.target.with_name("handbook.partial.pdf")
            command = [sys.executable, "-m", "generators", "--root", str(self.root), "pdf", str(partial)]
            self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                os.setpriority(os.PRIO_PROCESS, self._process.pid, 10)  # page rebuilds come first
            except OSError:
                pass
            _, errors = self._process.communicate()
            if self._stopped:
                return
            if self._process.returncode == 0:
                os.replace(partial, self.target)  # the served PDF is never half written
                self.error = ""
                print(f"PDF rebuilt: {self.target}", file=sys.stderr, flush=True)
            else:
                self.error = (errors.strip().splitlines() or [f"exit status {self._process.returncode}"])[-1]
                print(f"The PDF was not rebuilt: {self.error}", file=sys.stderr, flush=True)


def _message_page(title: str, text: str, refresh: bool) -> bytes:
    meta = '<meta http-equiv="refresh" content="10">' if refresh else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{meta}<title>{html.escape(title)}</title></head>'
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    ).encode()


def _front_handler(upstream: int, mount: str, pdf: PdfBuilder):
    """Requests on the preview's address: the PDF from build/preview/, the rest passed to MkDocs."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: nothing to keep in step

        def do_GET(self):
            self._answer(with_body=True)

        def do_HEAD(self):
            self._answer(with_body=False)

        def log_message(self, format, *args):  # MkDocs logs the requests that matter
            pass

        def _answer(self, with_body: bool):
            path = urlsplit(self.path).path
            try:
                if path == mount + "handbook.pdf":
                    self._pdf(with_body)
                elif path == mount + "handbook-offline.zip":
                    text = "The offline copy is made by make site (site/handbook-offline.zip), not by the preview."
                    self._send(404, "text/html; charset=utf-8", _message_page("Not made by make serve", text, refresh=False), with_body)
                else:
                    self._pass_on(with_body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the browser went away

        def _pdf(self, with_body: bool):
            try:
                data = pdf.target.read_bytes()
            except FileNotFoundError:
                if pdf.error:
                    text = f"The PDF could not be built: {pdf.error}. It is tried again after the next change."
                else:
                    text = "The PDF is being built in the background; this takes a minute or two. This page reloads itself."
                headers = {"Retry-After": "10"}
                self._send(503, "text/html; charset=utf-8", _message_page("The PDF is being built", text, refresh=True), with_body, headers)
                return
            self._send(200, "application/pdf", data, with_body)

        def _send(self, status: int, kind: str, data: bytes, with_body: bool, headers: dict | None = None):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if with_body:
                self.wfile.write(data)

        def _pass_on(self, with_body: bool):
            skip = {"host", "connection", "keep-alive", "proxy-connection"}
            headers = {name: value for name, value in self.headers.items() if name.lower() not in skip}
            connection = http.client.HTTPConnection("127.0.0.1", upstream, timeout=150)  # live reload waits up to 60 s
            try:
                connection.request(self.command, self.path, headers=headers)
                response = connection.getresponse()
            except OSError:  # MkDocs is still making the first build
                text = "The preview is starting; this page reloads itself."
                self._send(503, "text/html; charset=utf-8", _message_page("Starting", text, refresh=True), with_body, {"Retry-After": "5"})
                connection.close()
                return
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in {"connection", "keep-alive", "transfer-encoding", "server", "date"}:
                    self.send_header(name, value)
            self.end_headers()
            if with_body:
                shutil.copyfileobj(response, self.wfile)
            connection.close()

    return Handler


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _mount_path(root: Path) -> str:
    """Where MkDocs serves the site: the path of site_url, as `mkdocs serve` takes it."""
    try:
        path = urlsplit(read_config(root).site_url or "/").path
    except (ConfigError, OSError, yaml.YAMLError):
        path = "/"
    return path if path.endswith("/") else path + "/"


RELOADED = threading.Event()  # set each time MkDocs has rebuilt and told the browsers to reload


def _forward(stream, internal: str, public: str) -> None:
    """MkDocs' log, with the preview's address in place of MkDocs' own port."""
    for line in stream:
        if "Reloading browsers" in line:
            RELOADED.set()
        sys.stderr.write(line.replace(internal, public))
        sys.stderr.flush()


def serve(root: Path, address: str = "127.0.0.1:8000", out: Path | None = None) -> int:
    out = out or root / OUT
    host, _, port = address.rpartition(":")
    builder = Builder(root, out)
    problems = finish(builder, builder.ask({"build": True}))
    pdf = PdfBuilder(root, out / PREVIEW / "handbook.pdf")
    upstream = _free_port()
    try:  # bound first, so an address in use stops serve before MkDocs is started
        front = http.server.ThreadingHTTPServer((host or "127.0.0.1", int(port)), _front_handler(upstream, _mount_path(root), pdf))
    except OSError as error:
        print(f"error: cannot serve on {address}: {error.strerror or error} (choose another with -a HOST:PORT)", file=sys.stderr)
        return 1
    front.daemon_threads = True
    if not problems:
        pdf.request()
    changed, paths = threading.Event(), set()
    observer = _watch(root, changed, paths)
    # --dirty: MkDocs rebuilds only the pages whose Markdown changed (the builder writes only those)
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--dirty", "-f", str(out / SERVE_CONFIG), "-a", f"127.0.0.1:{upstream}"],
        stderr=subprocess.PIPE,
        text=True,
    )
    threading.Thread(target=_forward, args=(server.stderr, f"127.0.0.1:{upstream}", address), daemon=True).start()
    threading.Thread(target=front.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while server.poll() is None:
            if changed.wait(timeout=0.5):
                time.sleep(0.02)  # an editor's save is often several events
                changed.clear()
                saved = set(paths)
                paths.clear()
                if not on_change(builder, saved):
                    pdf.request()
    except KeyboardInterrupt:
        pass
    finally:
        front.shutdown()
        front.server_close()
        pdf.stop()
        builder.stop()
        observer.stop()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0
