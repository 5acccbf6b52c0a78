"""The thin MkDocs hook: build the model, render the generated pages, add them to the site.

Generated pages are handed to MkDocs in memory, never written into docs/: `mkdocs serve` has
no output of its own to watch (it watches the records, the bibliography and the templates), and
a large handbook does not pay for writing thousands of files on every build. `python -m
generators pages` writes them to build/generated to read.
"""

from __future__ import annotations

import html
import os
import shutil
import sys
import tempfile
from pathlib import Path

from mkdocs.exceptions import Abort
from mkdocs.structure.files import File, InclusionLevel

# MkDocs loads a hook by file path, not as part of its package: make the package importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators.bibliography import reference_groups, reference_page  # noqa: E402
from generators.citations import footnote_citations  # noqa: E402
from generators.export import cite_files  # noqa: E402
from generators.figures import figure_files  # noqa: E402
from generators.history import atom_feed, record_changes  # noqa: E402
from generators.model import KIND_ORDER, SECTION, Handbook, build_model  # noqa: E402
from generators.offline import OfflineError, build_offline_zip, offline_mode  # noqa: E402
from generators.offline import configure as configure_offline
from generators.opendata import data_files  # noqa: E402
from generators.pdf import PdfError, build_pdf, git_version  # noqa: E402
from generators.problems import InputError  # noqa: E402
from generators.render import reference_markdown, render_pages  # noqa: E402
from generators.rules import today  # noqa: E402

_state: dict = {}
EXPORTS_ENV = "HANDBOOK_EXPORTS"  # "none": site only, no PDF or offline copy (the benchmark times those apart)


def on_startup(command, dirty):
    _state["command"] = command  # the PDF is made by `mkdocs build`, not on every `serve` reload


def project_root(config) -> Path:
    return Path(config.config_file_path).absolute().parent


# Material renders the whole sidebar into every page, so listing every record there makes the
# build quadratic in the number of records. A section lists its records in the sidebar while it
# is small; past this, its index page (a table of every record) and search are the way in.
NAV_RECORDS_PER_SECTION = 80


def navigation(book: Handbook) -> list:
    nav: list = [{"Home": "index.md"}]
    for kind in KIND_ORDER:
        folder, heading = SECTION[kind]
        entries: list = [f"{folder}/index.md"]
        records = book.kind(kind)
        if len(records) <= NAV_RECORDS_PER_SECTION:
            # MkDocs' templates print nav titles without escaping them
            entries += [{html.escape(r.data["title"]): book.page(r)} for r in records]
        nav.append({heading: entries})
    nav.append(
        {
            "Views": [
                {"Evidence map": "views/evidence-map.md"},
                {"Autoantibody explorer": "views/antibodies.md"},
                {"Trial pipeline": "views/pipeline.md"},
            ]
        }
    )
    nav.append({"What's new": "whats-new.md"})
    letters = reference_groups(book.bibliography.entries.values())
    nav.append({"References": ["references/index.md"] + [{letter: reference_page(letter)} for letter in letters]})
    nav.append(
        {
            "About": [
                {"About this handbook": "about.md"},
                {"Open data": "data.md"},
                {"Contributing": "contributing.md"},
                {"Review report": "maintainers/review.md"},
            ]
        }
    )
    return nav


def on_config(config):
    root = project_root(config)
    try:
        book = build_model(root)
    except InputError as error:
        raise Abort(error.report()) from None
    repo = config.repo_url or ""
    changes = record_changes(book, root)
    pages = render_pages(book, repo_url=repo, edit_uri="blob/main", changes=changes)
    version = git_version(root)
    entries = book.bibliography.entries
    _state.update(
        book=book,
        pages=pages,
        site_pages={rel: footnote_citations(text, lambda key: reference_markdown(entries[key]))[0] for rel, text in pages.items()},
        exports={
            **cite_files(book, version, config.site_url or "", today()),
            **figure_files(book),
            **data_files(book, version, today(), config.site_url or "", root),
            "feed.xml": atom_feed(changes, config.site_url or "https://example.invalid/", version),
        },
    )
    config.nav = navigation(book)
    if offline_mode():
        configure_offline(config)
    return config


def on_pre_build(config):
    if _exports_wanted() and "exports_dir" not in _state:
        _build_exports(config)


def _nav_pages(nav) -> set[str]:
    found: set[str] = set()
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        found |= _nav_pages(value) if isinstance(value, list) else {value}
    return found


def on_files(files, config):
    in_nav = _nav_pages(config.nav)
    sources = record_sources(_state["book"], project_root(config), Path(config.docs_dir))
    for rel, content in sorted(_state["site_pages"].items()):
        # a record left out of the sidebar on purpose, not by mistake (see NAV_RECORDS_PER_SECTION)
        inclusion = InclusionLevel.UNDEFINED if rel in in_nav else InclusionLevel.NOT_IN_NAV
        page = File.generated(config, rel, content=content, inclusion=inclusion)
        page.edit_uri = sources.get(rel)  # the theme's edit button opens the YAML record; None: no button
        files.append(page)
    for rel, content in sorted(_state["exports"].items()):
        files.append(File.generated(config, rel, content=content))
    return files


def record_sources(book: Handbook, root: Path, docs_dir: Path) -> dict[str, str]:
    """Page -> its record's file, relative to docs/ (as the theme's edit link is built from edit_uri)."""
    return {book.page(record): os.path.relpath(root / record.path, docs_dir).replace(os.sep, "/") for record in book.page_records()}


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri in _state["site_pages"]:
        return markdown
    entries = _state["book"].bibliography.entries
    text, problems = footnote_citations(markdown, lambda key: reference_markdown(entries[key]), entries, f"docs/{page.file.src_uri}")
    if problems:
        raise Abort(InputError(problems).report())
    return text


def _exports_wanted() -> bool:
    # The PDF and the offline copy are made by `mkdocs build`, not on every `serve` reload,
    # and not again inside the offline copy's own build.
    return _state.get("command") == "build" and not offline_mode() and os.environ.get(EXPORTS_ENV) != "none"


def _build_exports(config) -> None:
    """The PDF and the offline copy, made before the site itself and set aside until it is written.

    The offline copy is a second MkDocs build in a child process. Run after the site, it would
    add its memory to that of this process holding the whole built site (1.6 GB at 5,000 records);
    run first, it overlaps only the records and pages."""
    folder = Path(tempfile.mkdtemp(prefix="handbook-exports-"))
    _state["exports_dir"] = folder
    pdf = folder / "handbook.pdf"
    try:
        build_pdf(
            _state["book"],
            _state["pages"],
            Path(config.docs_dir),
            pdf,
            git_version(project_root(config)),
            today(),
            assets=figure_files(_state["book"]),
            site_url=config.site_url or "",
        )
        build_offline_zip(Path(config.config_file_path), folder, bool(config.strict), extra_files=[pdf])
    except PdfError as error:
        raise Abort(f"The PDF was not built: {error}") from None
    except OfflineError as error:
        raise Abort(f"The offline copy was not built: {error}") from None


def on_post_build(config):
    folder = _state.pop("exports_dir", None)
    if folder is None:
        return
    for name in ("handbook.pdf", "handbook-offline.zip"):
        shutil.copyfile(folder / name, Path(config.site_dir) / name)
    shutil.rmtree(folder, ignore_errors=True)


def on_build_error(error):
    folder = _state.pop("exports_dir", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
