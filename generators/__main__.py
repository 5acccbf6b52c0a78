"""Command line: python -m generators validate | new KIND ID | build | pages | pdf OUT | search-index SITE_DIR | search-pagefind SITE_DIR | offline SITE_DIR | serve | watch | diff | version | release X.Y.Z.

`make site` runs the steps one after the other: `build` writes the complete Markdown site and its
configuration into build/ (generators/build.py), `mkdocs build --strict -f build/mkdocs.yml` makes
the HTML, `search-index` adds synonyms and aliases to its search index, `search-pagefind` indexes the
pages with Pagefind for the served site, then `pdf` and `offline` make the exports. `pages` writes the generated pages alone to
read (the benchmark times it); `serve` is make serve.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .problems import InputError

ROOT = Path(__file__).resolve().parent.parent


def cmd_validate(args) -> int:
    from .model import build_model

    try:
        book = build_model(args.root)
    except InputError as error:
        print(error.report(), file=sys.stderr)
        if args.github:
            for p in error.problems:  # GitHub Actions shows these as annotations on the lines
                print(f"::error file={p.path},line={p.line},title={p.field or 'record'}::{p.message}" + (f" ({p.hint})" if p.hint else ""))
        return 1
    counts = ", ".join(f"{len(v)} {k}" for k, v in sorted(book.by_kind.items()))
    print(f"All records are valid: {counts}; {len(book.bibliography.entries)} references.")
    return 0


def cmd_new(args) -> int:
    from .scaffold import ScaffoldError, write_template

    try:
        path = write_template(args.root, args.kind, args.id)
    except ScaffoldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Wrote {path.relative_to(args.root)}: fill in each field (the comments explain them), then run make validate.")
    return 0


def _model_and_pages(root: Path):
    from .build import generated_pages, model, read_config
    from .history import record_changes
    from .releases import release_changes, version

    book = model(root)
    config = read_config(root)
    return book, config, generated_pages(book, config, record_changes(book, root), release_changes(root), version(root))


def cmd_build(args) -> int:
    from .build import ConfigError, build
    from .steps import CONFIG, OUT

    out = args.out or args.root / OUT
    try:
        report = build(args.root, out)
    except InputError as error:
        print(error.report(), file=sys.stderr)
        return 1
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    files = sum(len(names) for names in report.values()) - len(report["removed"])
    print(f"{out / 'docs'}: {files} files, {len(report['written'])} written, {len(report['removed'])} removed; {out / CONFIG}")
    return 0


def cmd_pages(args) -> int:
    from .write import write_tree

    try:
        book, _, pages = _model_and_pages(args.root)
    except InputError as error:
        print(error.report(), file=sys.stderr)
        return 1
    if args.no_write:
        print(f"{len(pages)} pages rendered, none written")
        return 0
    report = write_tree(pages, args.out or args.root / "build" / "generated")
    print(f"{len(pages)} pages: {len(report['written'])} written, {len(report['unchanged'])} unchanged, {len(report['removed'])} removed")
    for rel in report["written"]:
        print(f"  written {rel}")
    return 0


def cmd_pdf(args) -> int:
    """The PDF from what the build wrote (build/manifest.json and build/pdf/): no records are read."""
    from .pdf import PdfError, pdf_from_build

    try:
        pdf_from_build(args.build, args.out)
    except PdfError as error:
        print(f"error: the PDF was not built: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {args.out}")
    return 0


def cmd_offline(args) -> int:
    from .offline import OfflineError, build_offline_zip
    from .problems import InputError
    from .steps import OFFLINE_CONFIG, PDF

    pdf = args.site_dir / "handbook.pdf"
    config = args.config or args.build / OFFLINE_CONFIG
    if not config.exists():
        print(f"error: {config} is missing: run python -m generators build first", file=sys.stderr)
        return 1
    made = args.build / PDF  # the PDF step typesets into build/ while MkDocs (which empties site/) makes the HTML
    if made.exists():
        import shutil

        shutil.copyfile(made, pdf)
    try:
        target = build_offline_zip(
            config, args.site_dir, strict=True, extra_files=[pdf] if pdf.exists() else [], finish=lambda out: search_index(out, args.build)
        )
    except (OfflineError, InputError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {target}")
    return 0


def search_index(site_dir: Path, build_dir: Path) -> bool:
    """Rewrite a built site's search index from build/manifest.json (generators/search.py); False when it has none."""
    from .search import rewrite_site_index

    return rewrite_site_index(site_dir, build_dir)


def cmd_search_index(args) -> int:
    """After mkdocs build: add synonyms, aliases and registry ids to the site's search index."""
    build_dir = args.build
    try:
        done = search_index(args.site_dir, build_dir)
    except (OSError, KeyError, ValueError) as error:
        print(f"error: {build_dir}/manifest.json cannot be read ({error}): run python -m generators build first", file=sys.stderr)
        return 1
    if not done:
        print(f"error: {args.site_dir}/search/search_index.json is missing: run mkdocs build first", file=sys.stderr)
        return 1
    print(f"Rewrote {args.site_dir}/search/search_index.json")
    return 0


def cmd_search_pagefind(args) -> int:
    """After search-index: the served site's Pagefind index (generators/search_pagefind.py)."""
    from .search_pagefind import OUT, PagefindError, build_pagefind

    try:
        count = build_pagefind(args.site_dir)
    except PagefindError as error:
        print(f"error: the Pagefind search index was not built: {error}", file=sys.stderr)
        return 1
    print(f"Indexed {count} pages into {args.site_dir}/{OUT}/; {args.site_dir}/search/search_index.json now holds only its configuration")
    return 0


def cmd_serve(args) -> int:
    from .serve import serve

    return serve(args.root, args.dev_addr)


def cmd_watch(args) -> int:
    from .watch import run_command

    return run_command(args)


def cmd_diff(args) -> int:
    from .prdiff import run_command

    return run_command(args)


def cmd_version(args) -> int:
    from .releases import version

    print(version(args.root))
    return 0


def cmd_release(args) -> int:
    from .releases import ReleaseError, prepare_release
    from .rules import today

    try:
        written = prepare_release(args.root, args.new_version, today().isoformat())
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    names = " ".join(p.relative_to(args.root).as_posix() for p in written)
    print(f"Release {args.new_version} prepared in {names}. Next: commit them, then")
    print(f"  git tag -a v{args.new_version} -m 'Version {args.new_version}' && git push origin v{args.new_version}")
    print("The release workflow builds the site, the PDF, the offline copy and the open data and attaches them to the release.")
    return 0


def cmd_preview_worker(args) -> int:
    from .preview import worker

    return worker(args.root, args.build)


def cmd_site(args) -> int:
    """The steps of make site (generators/steps.py), each in its own process, stopping at the first that fails."""
    from .steps import run_steps

    done = run_steps(args.root, args.build, args.site_dir, echo=True)
    if done.returncode != 0:
        print(f"error: a step failed ({' '.join(map(str, done.args[1:]))}); the site was not made", file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generators", description="IIM evidence handbook generators")
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder (default: this checkout)")
    parser.add_argument("--build", type=Path, help="the folder the build writes and the later steps read (default: ROOT/build)")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check every record and the bibliography")
    v.add_argument("--github", action="store_true", help="also print GitHub Actions annotations")
    v.set_defaults(func=cmd_validate)
    n = sub.add_parser("new", help="write a commented template for a new record")
    n.add_argument("kind")
    n.add_argument("id")
    n.set_defaults(func=cmd_new)
    b = sub.add_parser("build", help="write the complete Markdown site and its MkDocs configuration into build/")
    b.add_argument("--out", type=Path, help="folder to write into (default: build/ in the project)")
    b.set_defaults(func=cmd_build)
    g = sub.add_parser("pages", help="write the generated Markdown pages to read (build/generated by default)")
    g.add_argument("--out", type=Path, help="folder to write into")
    g.add_argument("--no-write", action="store_true", help="render every page in memory and write nothing")
    g.set_defaults(func=cmd_pages)
    d = sub.add_parser("pdf", help="build the PDF alone")
    d.add_argument("out", type=Path)
    d.set_defaults(func=cmd_pdf)
    o = sub.add_parser("offline", help="build the offline copy alone, into SITE_DIR/handbook-offline.zip")
    o.add_argument("site_dir", type=Path)
    o.add_argument("--config", type=Path, help="the offline configuration (default: build/mkdocs-offline.yml)")
    o.set_defaults(func=cmd_offline)
    x = sub.add_parser("search-index", help="after mkdocs build: add synonyms and aliases to SITE_DIR's search index")
    x.add_argument("site_dir", type=Path)
    x.set_defaults(func=cmd_search_index)
    f = sub.add_parser("search-pagefind", help="after search-index: index SITE_DIR with Pagefind (SITE_DIR/pagefind) for the served site")
    f.add_argument("site_dir", type=Path)
    f.set_defaults(func=cmd_search_pagefind)
    s = sub.add_parser("serve", help="preview: regenerate build/ when an input changes, and mkdocs serve it")
    s.add_argument("-a", "--dev-addr", default="127.0.0.1:8000", help="address to serve on (default 127.0.0.1:8000)")
    s.set_defaults(func=cmd_serve)
    # The watch's and the diff's options come from their modules, imported only when that command is
    # asked for: the steps after the build must not load the record readers they import.
    words = set(sys.argv[1:] if argv is None else argv)
    w = sub.add_parser("watch", help="compare the records with the trial registries and PubMed; propose status edits")
    if "watch" in words:
        from .watch import add_arguments as watch_arguments

        watch_arguments(w)
    w.set_defaults(func=cmd_watch)
    c = sub.add_parser("diff", help="what a pull request changes: pages (rendered text), records, references, exports")
    if "diff" in words:
        from .prdiff import add_arguments as diff_arguments

        diff_arguments(c)
    c.set_defaults(func=cmd_diff)
    r = sub.add_parser("version", help="print the handbook's version (1.2.0 on a release tag; 1.2.0+3.gabc1234 after it)")
    r.set_defaults(func=cmd_version)
    p = sub.add_parser("release", help="prepare release X.Y.Z: its version and date in CITATION.cff, .zenodo.json, pyproject.toml")
    p.add_argument("new_version", metavar="X.Y.Z")
    p.set_defaults(func=cmd_release)
    k = sub.add_parser("preview-worker", help="make serve's builder (one JSON command per line on stdin; see generators/preview.py)")
    k.set_defaults(func=cmd_preview_worker)
    t = sub.add_parser("site", help="every step of make site in order into SITE_DIR: build, HTML, search, PDF, offline copy")
    t.add_argument("site_dir", type=Path)
    t.set_defaults(func=cmd_site)
    args = parser.parse_args(argv)
    args.build = args.build or args.root / "build"
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
