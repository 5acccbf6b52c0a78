"""The offline PDF, typeset from what the build wrote: `python -m generators pdf OUT` reads
build/manifest.json and the parts of the book's Markdown in build/pdf/ (made by pdfsource.py: every
page in navigation order, citations numbered across the whole book, one reference list) and needs
neither the records nor the model.

Route: Markdown -> pandoc (PyPI wheel pypandoc_binary) -> Typst (PyPI wheel typst) -> PDF parts ->
one PDF (PyPI wheel pikepdf). No system packages.

The body is typeset in parts of bounded size, each in its own process, so memory stays flat as
the handbook grows. The cover and contents are typeset last, numbered i, ii, ..., from the
parts' bookmarks and page numbers. Links into another part are written as placeholders and
turned into links to named destinations when the parts are joined (generators/pdfjoin.py: pages,
links, bookmarks, the tagged structure and the metadata).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

from .identity import site_identity
from .pdfjoin import DEST_LINK, Metadata, outline_entries, write_arguments
from .steps import MANIFEST

TEMPLATE = Path(__file__).resolve().parent / "templates" / "handbook.typ"


class PdfError(Exception):
    pass


BODY_PLACEHOLDER = "HANDBOOKBODYGOESHERE"
FIRST_PAGE_PLACEHOLDER = "HANDBOOKFIRSTPAGE"
# pandoc converts the next parts while Typst sets the current one (pdfsource.py cuts the book into parts).
CONVERSIONS_AHEAD = 3  # parts converted by pandoc ahead of the one Typst is setting
_LABEL_LINK = re.compile(r"#link\(<([\w.:-]+)>\)")
_LABEL = re.compile(r"(?<![\\(])<([\w.:-]+)>[ \t]*$", re.MULTILINE)  # pandoc puts labels at the ends of lines


def _to_typst(pypandoc, markdown: str, extra: list[str] | None = None) -> str:
    return pypandoc.convert_text(markdown, "typst", format="markdown-implicit_figures", extra_args=["--columns=200", *(extra or [])])


# pandoc gives the columns of a table wider than its line limit fixed shares of the width, from the
# Markdown's separator row (equal shares, since ours are all `---`); Typst's automatic columns follow
# the content instead: narrow ones for a phase or a year, wide ones for a population.
_FIXED_COLUMNS = re.compile(r"columns: \((?:[\d.]+%, )*[\d.]+%\)")


def _columns_by_content(body: str) -> str:
    return _FIXED_COLUMNS.sub(lambda m: f"columns: {m.group(0).count('%')}", body)


def _links_to_other_parts(body: str) -> str:
    """Typst refuses a link to a label it cannot see; links into other parts become placeholders."""
    defined = sorted(set(_LABEL.findall(_LABEL_LINK.sub("", body))))
    body = _LABEL_LINK.sub(lambda m: m.group(0) if m.group(1) in defined else f'#link("{DEST_LINK}{m.group(1)}")', body)
    # Typst writes a named destination only for a label that is linked in the same document; hidden
    # links (placed, so they take no room) give every label one, so links from the other parts can reach it once they are joined.
    return body + "\n#place(hide[" + "".join(f"#link(<{label}>)[.]" for label in defined) + "])\n"


PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_OUR_ERROR = re.compile(r"^generators\.\w+\.\w+Error: ")  # the exception's name adds nothing to our message


def _in_child(code: str, *args: str, what: str) -> None:
    """Python code in a child process, so the memory it takes is returned when it is done."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit status {done.returncode}"
        raise PdfError(f"{what}: {_OUR_ERROR.sub('', message)}")


def _typeset(source: Path, output: Path, stamp: int) -> None:
    code = "import sys, typst; typst.compile(sys.argv[1], output=sys.argv[2], timestamp=int(sys.argv[3]), pdf_tags=True)"
    _in_child(code, str(source), str(output), str(stamp), what=f"Typst could not typeset {source.name}")


def pdf_from_build(build_dir: Path, output: Path) -> Path:
    """The PDF from what `python -m generators build` wrote: build/manifest.json names the parts of the
    PDF's Markdown (build/pdf/), the figures it shows (build/docs/) and the version and date."""
    try:
        manifest = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
        pdf = manifest["pdf"]
        chunks = [(build_dir / rel).read_text(encoding="utf-8") for rel in pdf["parts"]]
        assets = {rel: (build_dir / "docs" / rel).read_text(encoding="utf-8") for rel in pdf["assets"]}
    except (OSError, KeyError, ValueError) as error:
        raise PdfError(
            f"{build_dir / MANIFEST} or a file it names cannot be read ({error}): run python -m generators build first"
        ) from None
    return build_pdf(chunks, output, manifest["version"], dt.date.fromisoformat(manifest["date"]), assets, manifest["site"])


def build_pdf(
    chunks: list[str], output: Path, version: str, date: dt.date, assets: dict[str, str] | None = None, site: dict | None = None
) -> Path:
    """Typeset the parts of the PDF's Markdown (pdfsource.pdf_source) into one tagged PDF."""
    try:
        import pikepdf
        import pypandoc
    except ImportError as error:  # a clear message, never an empty PDF
        raise PdfError(f"the PDF needs the packages pypandoc_binary, typst and pikepdf ({error}); run make site to install them") from None
    assets = assets or {}
    site = site or site_identity()
    title = site["name"]
    variables = {
        "title": title,
        "subtitle": site["subtitle"],
        "author": site["author"],
        "notice": site["notice"],
        "version": version,
        "date": date.isoformat(),
        "disclaimer": site["disclaimer"],
        "first_page": FIRST_PAGE_PLACEHOLDER,
    }
    stamp = dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for rel, content in assets.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(content, encoding="utf-8")

        def shell(front: bool) -> str:
            args = ["--standalone", f"--template={TEMPLATE}"] + [a for n, v in variables.items() for a in ("-V", f"{n}={v}")]
            return _to_typst(pypandoc, BODY_PLACEHOLDER, args + (["-V", "front=true"] if front else []))

        try:
            body_shell, front_shell = shell(front=False), shell(front=True)
            if body_shell.count(BODY_PLACEHOLDER) != 1:
                raise PdfError("the PDF template has no place for the body ($body$)")
            typeset, entries, next_page = [], [], 1
            # pandoc converts the next parts on the second core while Typst sets the current one;
            # Typst goes in order, since each part starts where the previous one ended. Only a few
            # conversions are under way at once, so converted parts do not pile up in memory.
            pending = iter(chunks)
            with ThreadPoolExecutor(max_workers=2) as pool:
                converting = deque(pool.submit(_to_typst, pypandoc, chunk) for chunk in islice(pending, CONVERSIONS_AHEAD))
                while converting:
                    body = _links_to_other_parts(_columns_by_content(converting.popleft().result()))
                    converting.extend(pool.submit(_to_typst, pypandoc, chunk) for chunk in islice(pending, 1))
                    source = folder / f"part-{len(typeset) + 1:03}.typ"
                    source.write_text(
                        body_shell.replace(BODY_PLACEHOLDER, body).replace(FIRST_PAGE_PLACEHOLDER, str(next_page)), encoding="utf-8"
                    )
                    _typeset(source, source.with_suffix(".pdf"), int(stamp.timestamp()))
                    with pikepdf.open(source.with_suffix(".pdf")) as part:
                        entries += outline_entries(part, next_page, next_page - 1)
                        next_page += len(part.pages)
                    typeset.append(source.with_suffix(".pdf"))
        except (OSError, RuntimeError) as error:
            raise PdfError(f"pandoc could not convert the handbook: {error}") from None
        contents = [{"level": e["level"], "title": e["title"], "page": e["page"]} for e in entries if e["level"] <= 2]
        (folder / "contents.json").write_text(json.dumps(contents, ensure_ascii=False), encoding="utf-8")
        front = folder / "front.typ"
        front.write_text(front_shell.replace(BODY_PLACEHOLDER, ""), encoding="utf-8")
        _typeset(front, front.with_suffix(".pdf"), int(stamp.timestamp()))
        # The join reads one part at a time (generators/pdfjoin.py); in a child process, what
        # pikepdf allocated goes back to the system as soon as the PDF is written.
        arguments = folder / "join.json"
        metadata = Metadata(title=title, author=site["author"], date=stamp, language="en")
        write_arguments(arguments, front.with_suffix(".pdf"), typeset, output, entries, metadata)
        code = "import sys; from generators.pdfjoin import join_from_file; join_from_file(sys.argv[1])"
        _in_child(code, str(arguments), what="the parts of the PDF could not be joined")
    if not output.exists() or output.stat().st_size < 1000:
        raise PdfError(f"the PDF {output} was not written")
    return output
