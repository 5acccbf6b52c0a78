"""The one entry point: records, bibliography and docs/ in, a complete Markdown site out.

`build(root, out)` reads the site configuration (mkdocs.yml, read as plain YAML), builds the
model, and writes into out/ (build/ by default):

- out/docs/: every page and file of the site: the hand-written pages of docs/ (copied, their
  citations as footnotes), the generated pages (with their edit link in the front matter), the
  figures, the "cite this page" files, the open data and the feed;
- out/mkdocs.yml: the configuration with the navigation as data, for stock MkDocs + Material
  with its built-in plugins only (search, offline): `mkdocs build --strict -f build/mkdocs.yml`;
- out/mkdocs-offline.yml: the same with the offline plugin on, for the offline copy.

Files are written only when their content changed, so `mkdocs serve` rebuilds only after real
edits. Bad input writes nothing: InputError lists every problem. No MkDocs event is involved, and
any Markdown file added under docs/ appears in the site and its navigation.
"""

from __future__ import annotations

import gc
import html
import json
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .bibliography import reference_groups, reference_page
from .citations import footnote_citations
from .export import cite_files
from .figures import figure_files
from .history import atom_feed, record_changes
from .identity import COPYRIGHT, DESCRIPTION, NAME, NOTICE, NOTICE_DETAIL, site_identity
from .model import KIND_ORDER, SECTION, Handbook, build_model
from .offline import SHIM
from .opendata import data_files
from .pdfsource import pdf_source
from .problems import InputError, Problem
from .releases import release_changes
from .releases import version as handbook_version
from .render import PageRenderer, reference_markdown, render_pages
from .rules import today
from .search import SYNONYMS_FILE, keys_by_page, synonyms_data
from .steps import CONFIG, MANIFEST, OFFLINE_CONFIG, OUT
from .write import write_tree


class ConfigError(Exception):
    pass


@dataclass
class SiteConfig:
    """The one site configuration: mkdocs.yml's standard keys, read as YAML."""

    root: Path
    data: dict = field(repr=False)

    @property
    def site_url(self) -> str:
        return self.data.get("site_url") or ""

    @property
    def repo_url(self) -> str:
        return (self.data.get("repo_url") or "").rstrip("/")

    @property
    def source_edit_uri(self) -> str:
        """Where files are opened for editing in the repository ("blob/main"): edit_uri names
        the docs folder in it (blob/main/docs/), and the records sit beside that folder."""
        edit_uri = (self.data.get("edit_uri") or "blob/main/docs/").strip("/")
        docs = self.data.get("docs_dir", "docs").strip("/")
        return edit_uri.removesuffix(docs).strip("/")

    @property
    def docs_dir(self) -> Path:
        return self.root / self.data.get("docs_dir", "docs")


def read_config(root: Path) -> SiteConfig:
    path = root / CONFIG
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{CONFIG} could not be read: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{CONFIG} holds no settings")
    return SiteConfig(root, data)


def model(root: Path) -> Handbook:
    """Load, check and derive the handbook; raise InputError listing every problem at once.

    The model lives for the whole build. Python's cyclic collector kept walking its objects while
    they were made and again while pages were rendered (at 5,000 records, page generation took
    4.9 s with it and 3.9 s without); they hold almost no cycles, so build without it, then set the
    model aside from it (gc.freeze). Reference counting still frees a model that is dropped, and
    the next build (make serve) first hands the previous one back to the collector."""
    gc.unfreeze()
    collecting = gc.isenabled()
    gc.disable()
    try:
        book = build_model(root)
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    return book


def generated_pages(book: Handbook, config: SiteConfig, changes=None, releases=None, version: str = "") -> dict[str, str]:
    """Every generated page as Markdown, as the PDF reads them (citations still [@key])."""
    return render_pages(
        book, repo_url=config.repo_url, edit_uri=config.source_edit_uri, changes=changes, releases=releases, version=version
    )


# Material renders the whole sidebar into every page, so listing every record there makes the
# build quadratic in the number of records. A section lists its records in the sidebar while it
# is small; past this, its index page (a table of every record) and search are the way in.
NAV_RECORDS_PER_SECTION = 80
ABOUT_PAGES = ["about.md", "data.md", "contributing.md"]  # hand-written pages placed in "About"


def navigation(book: Handbook, hand_written: list[str] = ()) -> tuple[list, list[str]]:
    """The navigation as data, and the folders whose records are left out of it on purpose.

    Hand-written pages not placed here (any page added under docs/) follow in the section of
    their folder, or in "About" when they sit at the top of docs/."""
    nav: list = [{"Home": "index.md"}]
    left_out: list[str] = []
    sections: dict[str, list] = {}
    for kind in KIND_ORDER:
        folder, heading = SECTION[kind]
        entries: list = [f"{folder}/index.md"]
        records = book.kind(kind)
        if len(records) <= NAV_RECORDS_PER_SECTION:
            # MkDocs' templates print nav titles without escaping them
            entries += [{html.escape(r.data["title"]): book.page(r)} for r in records]
        else:
            left_out.append(folder)
        nav.append({heading: entries})
        sections[folder] = entries
    views = [
        {"Evidence map": "views/evidence-map.md"},
        {"Autoantibody explorer": "views/antibodies.md"},
        {"Trial pipeline": "views/pipeline.md"},
        {"Guideline concordance": "views/concordance.md"},
        {"How current it is": "views/currency.md"},
    ]
    nav.append({"Views": views})
    sections["views"] = views
    nav.append({"What's new": "whats-new.md"})
    nav.append({"Versions and changes": "changes/index.md"})
    left_out.append("changes")  # each version's page of changes is linked from changes/index.md, not the sidebar
    letters = reference_groups(book.bibliography.entries.values())
    nav.append({"References": ["references/index.md"] + [{letter: reference_page(letter)} for letter in letters]})
    about: list = [{"About this handbook": "about.md"}, {"Open data": "data.md"}, {"Contributing": "contributing.md"}]
    about = [item for item in about if next(iter(item.values())) in hand_written]
    placed = {"index.md", *ABOUT_PAGES}
    for page in sorted(p for p in hand_written if p not in placed):
        folder = posixpath.dirname(page)
        if not folder:
            about.append(page)  # MkDocs titles it from the page's own heading
        elif folder in sections:
            sections[folder].append(page)
        else:
            sections[folder] = [page]
            nav.append({folder.replace("-", " ").capitalize(): sections[folder]})
    nav.append({"About": about + [{"Review report": "maintainers/review.md"}]})
    return nav, left_out


@dataclass
class Site:
    """Everything one build writes: the Markdown tree and the configurations."""

    book: Handbook
    config: SiteConfig
    pages: dict[str, str]  # generated pages, as the PDF reads them
    files: dict[str, str | bytes]  # the whole docs tree of the site
    nav: list
    left_out: list[str]
    pdf_parts: list[str] = field(default_factory=list)  # the PDF's Markdown, in the parts it is typeset in
    manifest: dict = field(default_factory=dict)  # build/manifest.json: what the steps after the build read


def _with_front_matter(text: str, entries: dict) -> str:
    lines = "".join(f"{name}: {json.dumps(value)}\n" for name, value in entries.items())  # JSON is YAML
    if text.startswith("---\n"):
        return "---\n" + lines + text[4:]
    return f"---\n{lines}---\n\n{text}"


def site_page(config: SiteConfig, text: str, reference, source: str | None) -> str:
    """A generated page as the site gets it: citations as numbered footnotes, and the theme's edit
    button opening its YAML record (overrides/partials/actions.html; edit_url None: no button)."""
    edit = f"{config.repo_url}/{config.source_edit_uri}/{source}" if config.repo_url and source else None
    return _with_front_matter(footnote_citations(text, reference)[0], {"edit_url": edit})


def record_pages(root: Path, book: Handbook, record_paths: list[str]) -> dict[str, str]:
    """The site pages of some records alone (make serve shows a saved record's page before the rest of
    the site is brought up to date): the same text as the whole build writes for them."""
    config = read_config(root)
    renderer = PageRenderer(book, repo_url=config.repo_url, edit_uri=config.source_edit_uri)
    entries = book.bibliography.entries
    wanted = set(record_paths)
    # a recommendation is shown on its guideline's page
    wanted |= {
        book.by_id[r.data["guideline"]].path
        for r in book.records
        if r.kind == "recommendation" and r.path in wanted and r.data.get("guideline") in book.by_id
    }
    found = {}
    for record in book.page_records():
        if record.path in wanted:
            rel = book.page(record)
            found[rel] = site_page(config, renderer.record_page(record), lambda key: reference_markdown(entries[key]), record.path)
    return found


def hand_written_files(config: SiteConfig) -> dict[str, bytes]:
    docs = config.docs_dir
    return {p.relative_to(docs).as_posix(): p.read_bytes() for p in sorted(docs.rglob("*")) if p.is_file()}


def generate(root: Path, book: Handbook | None = None) -> Site:
    """The site in memory; InputError lists every problem of the records, the bibliography and docs/."""
    config = read_config(root)
    book = book or model(root)
    changes = record_changes(book, root)
    version = handbook_version(root)
    releases = release_changes(root)
    pages = generated_pages(book, config, changes, releases, version)
    figures = figure_files(book)
    exports: dict[str, str | bytes] = {
        **cite_files(book, version, config.site_url, today()),
        **figures,
        **data_files(book, version, today(), config.site_url, root),
        "feed.xml": atom_feed(changes, config.site_url or "https://example.invalid/", version, releases),
    }
    entries = book.bibliography.entries

    def reference(key: str) -> str:
        return reference_markdown(entries[key])

    problems: list[Problem] = []
    files: dict[str, str | bytes] = {}
    docs_name = config.data.get("docs_dir", "docs")
    written = hand_written_files(config)
    for rel, data in written.items():
        if rel in pages or rel in exports:
            problems.append(Problem(f"{docs_name}/{rel}", 1, "", "has the path of a generated page or file: rename it"))
        if rel.endswith(".md"):
            text, found = footnote_citations(data.decode("utf-8"), reference, entries, f"{docs_name}/{rel}")
            problems += found
            files[rel] = text
        else:
            files[rel] = data
    try:
        synonyms = synonyms_data(root)
    except ValueError as error:
        problems += [Problem(SYNONYMS_FILE, 1, "", line.removeprefix(f"{SYNONYMS_FILE}: ")) for line in str(error).splitlines()]
    if problems:
        raise InputError(problems)
    sources = {book.page(record): record.path for record in book.page_records()}
    for rel, text in pages.items():
        files[rel] = site_page(config, text, reference, sources.get(rel))
    files.update(exports)
    nav, left_out = navigation(book, [rel for rel in written if rel.endswith(".md")])
    pdf_parts = pdf_source(book, pages, config.docs_dir, set(figures), config.site_url, nav)
    manifest = {
        "version": version,
        "date": today().isoformat(),
        "site": site_identity(config.site_url, config.repo_url),
        "pages": nav_pages(nav),  # every page of the navigation, in its order
        "search": {"keys": keys_by_page(files), "synonyms": synonyms},
        "pdf": {"parts": [f"pdf/part-{i:03}.md" for i in range(1, len(pdf_parts) + 1)], "assets": sorted(figures)},
    }
    return Site(book, config, pages, files, nav, left_out, pdf_parts, manifest)


def nav_pages(nav) -> list[str]:
    """The pages of a navigation (build/mkdocs.yml's nav), in order."""
    found: list[str] = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            found += nav_pages(value)
        elif isinstance(value, str) and value.endswith(".md"):
            found.append(value)
    return found


def mkdocs_config(config: SiteConfig, out: Path, nav: list, left_out: list[str], offline: bool = False) -> dict:
    """mkdocs.yml for the built tree: the base settings, paths from out/, the navigation."""
    data = json.loads(json.dumps(config.data))  # a deep copy

    def here(path: str) -> str:
        return Path(os.path.relpath(config.root / path, out)).as_posix()

    # the site's identity comes from generators/identity.py, not from mkdocs.yml
    data.update(site_name=NAME, site_description=DESCRIPTION, copyright=COPYRIGHT)
    data.setdefault("extra", {}).update(notice=NOTICE, notice_detail=NOTICE_DETAIL)
    data["docs_dir"] = "docs"
    data["site_dir"] = here(config.data.get("site_dir", "site"))
    theme = data.get("theme")
    if isinstance(theme, dict) and theme.get("custom_dir"):
        theme["custom_dir"] = here(theme["custom_dir"])
    for key in ("hooks", "watch", "nav"):
        data.pop(key, None)
    data["nav"] = nav
    if left_out:
        data["not_in_nav"] = "".join(f"/{folder}/\n" for folder in left_out)  # left out of the sidebar on purpose
    if offline:
        plugins = []
        for plugin in data.get("plugins", []):
            name = next(iter(plugin)) if isinstance(plugin, dict) else plugin
            plugins.append({"offline": {"enabled": True}} if name == "offline" else plugin)
        data["plugins"] = plugins
        data.setdefault("extra", {}).update(polyfills=[SHIM], offline_copy=True)
    return data


def _yaml(data: dict) -> str:
    return "# Written by python -m generators build from ../mkdocs.yml: edit that file, not this one.\n" + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=1000
    )


def build(root: Path, out: Path | None = None, book: Handbook | None = None) -> dict[str, list[str]]:
    """Write the complete Markdown site and its configuration into out/ (root/build by default)."""
    out = out or root / OUT
    site = generate(root, book)
    report = write_tree(site.files, out / "docs")
    write_tree(
        {rel.removeprefix("pdf/"): text for rel, text in zip(site.manifest["pdf"]["parts"], site.pdf_parts, strict=True)}, out / "pdf"
    )
    configs = {
        CONFIG: _yaml(mkdocs_config(site.config, out, site.nav, site.left_out)),
        OFFLINE_CONFIG: _yaml(mkdocs_config(site.config, out, site.nav, site.left_out, offline=True)),
        MANIFEST: json.dumps(site.manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
    }
    for name, text in configs.items():
        target = out / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    return report


def generate_fallback(root: Path, out: Path) -> None:
    """The hand-written pages alone, for make serve when the input has problems and nothing was
    built yet: the pages then carry the problems (see generators/serve.py)."""
    config = read_config(root)
    written = hand_written_files(config)
    write_tree(written, out / "docs")
    nav = sorted((rel for rel in written if rel.endswith(".md")), key=lambda rel: rel != "index.md")
    (out / CONFIG).write_text(_yaml(mkdocs_config(config, out, nav, [])), encoding="utf-8")
