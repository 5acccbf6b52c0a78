"""Command line: python -m generators validate | new KIND ID | pages DIR."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .model import build_model
from .problems import InputError

ROOT = Path(__file__).resolve().parent.parent


def cmd_validate(args) -> int:
    try:
        book = build_model(args.root)
    except InputError as error:
        print(error.report(), file=sys.stderr)
        if args.github:
            for p in error.problems:  # GitHub Actions shows these as annotations on the lines
                print(f"::error file={p.path},line={p.line},title={p.field or 'record'}::{p.message}"
                      + (f" ({p.hint})" if p.hint else ""))
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generators", description="IIM evidence handbook generators")
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder (default: this checkout)")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check every record and the bibliography")
    v.add_argument("--github", action="store_true", help="also print GitHub Actions annotations")
    v.set_defaults(func=cmd_validate)
    n = sub.add_parser("new", help="write a commented template for a new record")
    n.add_argument("kind")
    n.add_argument("id")
    n.set_defaults(func=cmd_new)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
