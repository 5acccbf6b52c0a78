"""Every place the handbook relies on another project's internals, because it offers no public
interface for what we need: one module, each use with its reason, for the versions pinned in
requirements.txt (ADAPTED_FOR). tests/test_adapters.py fails loudly when an installed version differs
or an internal changes shape, and no other module may reach into these projects (the same test).

- Jinja 3.1: `CodeGenerator._output_child_pre`, so a printed value passes our finalize alone, not
  finalize and then escape (a tenth of rendering time at 5,000 records; bench/profile.md).
- pybtex 0.26: `Writer._write_field`, to write DOIs, PMIDs and URLs verbatim (pybtex LaTeX-encodes
  every field, which breaks a DOI such as 10.4103/injr.injr_124_20 for reference managers); and
  `Person.__new__`, to restore a cached name without pybtex splitting it again (load.py's parse cache).
- pikepdf 9: `Object._type_code`, to tell arrays and dictionaries apart while walking the structure
  tree of the joined PDF (isinstance checks cost as much as the rest of the join).
- Pagefind 1.5: its page fragments (`fragment/*.pf_fragment`: gzip, then the signature
  `pagefind_dcd`, then JSON), read to write the result cards (search_pagefind.py) and by the tests.
- Material's search-worker messages (mkdocs-ng-material 9.7.7, as Material 9.8) are relied on by docs/assets/search.js, which is
  JavaScript; its tests are the search question bank (tests/test_search.py) and the browser tests.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from jinja2.compiler import CodeGenerator
from pybtex.database.output.bibtex import Writer

ADAPTED_FOR = {"jinja2": "3.1.6", "pybtex": "0.26.1", "pikepdf": "9.11.0", "pagefind": "1.5.2"}


# --- Jinja ------------------------------------------------------------------------------------


class FinalizedCodeGenerator(CodeGenerator):
    """Jinja with autoescape prints escape(finalize(value)): the HTML escape of a value our finalize
    has already made inert only wraps it in Markup a second time. Here a printed value goes through
    finalize alone. Autoescape stays on, so macros and {% set %} blocks still give Markup and `~`
    still escapes what it joins."""

    def _output_child_pre(self, node, frame, finalize) -> None:
        if finalize.src is None or frame.eval_ctx.volatile:
            super()._output_child_pre(node, frame, finalize)
        else:
            self.write("(" + finalize.src)


# --- pybtex -----------------------------------------------------------------------------------


class VerbatimFieldsWriter(Writer):
    """pybtex's BibTeX writer, leaving the fields named in `verbatim` as they are."""

    verbatim: frozenset[str] = frozenset()

    def _write_field(self, stream, type, value):
        if type.lower() in self.verbatim:
            stream.write(f",\n    {type} = {self.quote(value)}")
        else:
            super()._write_field(stream, type, value)


def restored_person(Person, parts: dict[str, list[str]]):
    """A pybtex Person from its stored name parts, as unpickling makes it: the name is not split again."""
    person = Person.__new__(Person)
    for part, names in parts.items():
        setattr(person, part, list(names))
    return person


# --- pikepdf ----------------------------------------------------------------------------------


def object_type(obj):
    """A pikepdf object's type code (pikepdf.ObjectType)."""
    return obj._type_code


# --- Pagefind ---------------------------------------------------------------------------------

FRAGMENT_SIGNATURE = b"pagefind_dcd"


class FragmentError(ValueError):
    pass


COMPRESSED_SUFFIXES = (".pf_fragment", ".pf_index", ".pf_meta", ".pagefind")  # gzip files of an index


def fragment_paths(index_dir: Path) -> list[Path]:
    """The page fragments of a Pagefind index: one per page, named by the page's hash."""
    return sorted((Path(index_dir) / "fragment").glob("*.pf_fragment"))


def pagefind_fragments(index_dir: Path) -> Iterator[tuple[Path, dict]]:
    """Each page fragment of a Pagefind index (url, content, meta...), in file-name order."""
    for path in fragment_paths(index_dir):
        data = gzip.decompress(path.read_bytes())
        if not data.startswith(FRAGMENT_SIGNATURE):
            raise FragmentError(f"{path.name}: not a Pagefind fragment (no signature)")
        yield path, json.loads(data[len(FRAGMENT_SIGNATURE) :])
