"""One tagged PDF from separately typeset parts (pikepdf).

The handbook is typeset in parts (generators/pdf.py) so that memory stays flat as it grows. This
module puts the parts back together as if they had been typeset at once:

- the pages, in order: the front matter (numbered i, ii, ...), then the body parts (1, 2, ...);
- named destinations, and links between parts: a part links to a label typeset in another part
  as `handbook-dest:LABEL`, and to a printed body page as `handbook-page:N`; both become internal
  links here, and a link to a label no part defines is an error;
- the bookmarks: given as headings (read from each part with `outline_entries`) and rebuilt as one
  tree under the front matter's own bookmarks;
- the tagged structure: one StructTreeRoot whose Document element holds each part's elements;
- the metadata: title, author, language, dates (Info dictionary and XMP).

API: `outline_entries(part, first_page, offset)` while the parts are typeset, then
`join(front, parts, output, headings, metadata)`; `join_from_file` runs `join` from a JSON file of
arguments, for a child process (the join holds every object of the book at once).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

DEST_LINK = "handbook-dest:"  # a link to a label typeset in another part; made internal when joined
PAGE_LINK = "handbook-page:"  # a contents entry: the printed page number of the body
# A part that begins inside a section opens with an invisible level-1 heading of this title, so that
# Typst nests the part's first headings under it in the bookmarks and their level can be read back.
CONTINUED = "handbook-section-continued"


class JoinError(Exception):
    pass


@dataclass(frozen=True)
class Metadata:
    """What the joined PDF says about itself (document properties, XMP, the tagged PDF's language)."""

    title: str
    author: str
    date: dt.datetime  # creation and modification date, fixed so that rebuilds are byte-identical
    language: str = "en"


def outline_entries(pdf, first_page: int, offset: int) -> list[dict]:
    """Headings of one typeset part, from its bookmarks: level, title, printed page (`page`, the
    part starting at printed page `first_page`) and page index in the body (`index`, the part
    starting at index `offset`). A CONTINUED heading is left out and its children move up a level."""
    import pikepdf

    index = {page.objgen: i for i, page in enumerate(pdf.pages)}
    entries: list[dict] = []

    def walk(items, level):
        for item in items:
            if item.title == CONTINUED:
                walk(item.children, level + 1)
                continue
            dest = item.destination if item.destination is not None else item.action.get("/D")
            page = index.get(dest[0].objgen, 0) if isinstance(dest, pikepdf.Array) else 0
            entries.append({"level": level, "title": item.title, "page": first_page + page, "index": offset + page})
            walk(item.children, level + 1)

    with pdf.open_outline() as outline:
        walk(outline.root, 1)
    return entries


def _take_stream_data(pdf, number: int) -> int:
    """Give the streams copied from another PDF their own data, from object `number` on (copies
    are numbered one after the other), so that the source can be closed; returns the next number.

    Copied streams otherwise read their data from the source when the joined PDF is saved, so
    every source stays open with all its parsed objects: 1.5 GB for 5,000 records, not 0.7 GB."""
    import pikepdf

    while (obj := pdf.get_object((number, 0))) is not None:
        if isinstance(obj, pikepdf.Stream):
            obj.write(obj.read_raw_bytes(), filter=obj.get("/Filter"), decode_parms=obj.get("/DecodeParms"))
        number += 1
    return number


def _plain_copy(value):
    """A destination's coordinates as new objects (the source they came from is closed next)."""
    import pikepdf

    return pikepdf.Name(str(value)) if isinstance(value, pikepdf.Name) else value


class _StructureJoiner:
    """The tagged structure of the parts (Typst writes tagged PDF) as one structure tree.

    Each part's structure elements are copied with its pages (so they point at the joined pages),
    its top element goes under one Document element, and the numbers that tie page content and
    annotations to the tree (StructParents, StructParent, the ParentTree) are shifted so the parts'
    numbers do not collide. Element ids (table cells name their header cells by id) get the part's
    prefix, so they stay unique in the book, and are listed in one IDTree. If any part is untagged,
    the joined PDF is left untagged rather than claiming a structure that misses pages."""

    def __init__(self, joined):
        import pikepdf

        self.pikepdf = pikepdf
        self.joined = joined
        self.document = joined.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Document, K=pikepdf.Array()))
        self.parent_tree: dict[int, object] = {}
        self.role_map = pikepdf.Dictionary()
        self.next_key = 0
        self.complete = True
        self.ids: dict[str, object] = {}
        self.parts = 0

    def add(self, source, first_page: int) -> None:
        pikepdf = self.pikepdf
        root = source.Root.get("/StructTreeRoot")
        if root is None:
            self.complete = False
            return
        shift = self.next_key
        copied = self.joined.copy_foreign(root)
        self.parts += 1
        self._ids_and_row_headers(copied, f"part{self.parts}-")
        kids = copied.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
            if isinstance(kid, pikepdf.Dictionary):
                if kid.get("/S") == pikepdf.Name.Document:
                    kid.S = pikepdf.Name.Part  # one Document for the book; each part's becomes a Part
                kid.P = self.document
                self.document.K.append(kid)
        for name, value in (copied.get("/RoleMap") or {}).items():
            self.role_map[name] = value
        if "/ParentTree" in root:
            for key, value in pikepdf.NumberTree(root.ParentTree).items():
                if isinstance(value, pikepdf.Array) and not value.is_indirect:
                    value = pikepdf.Array([self.joined.copy_foreign(v) if v.is_indirect else v for v in value])
                else:
                    value = self.joined.copy_foreign(value)
                self.parent_tree[key + shift] = value
                self.next_key = max(self.next_key, key + shift + 1)
        for page in self.joined.pages[first_page : first_page + len(source.pages)]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + shift
            for annot in page.obj.get("/Annots", []):
                if "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + shift

    def _ids_and_row_headers(self, root, prefix: str) -> None:
        """Prefix the part's element ids (and the header ids its cells name); give tables without
        a header row row headers. Those are the two-column fact tables (Type, Year, Issued by ...),
        whose first column names each row; Typst tags header cells only in a header row."""
        pikepdf = self.pikepdf
        headerless = []
        stack = [root]
        while stack:
            element = stack.pop()
            if "/ID" in element:
                element.ID = pikepdf.String(prefix + str(element.ID))
                self.ids[str(element.ID)] = element
            for attributes in _table_attributes(element):
                if "/Headers" in attributes:
                    attributes.Headers = pikepdf.Array([pikepdf.String(prefix + str(h)) for h in attributes.Headers])
            if element.get("/S") == pikepdf.Name.Table and not _descendants(element, pikepdf.Name.TH):
                headerless.append(element)
            stack.extend(_child_elements(element))
        for table in headerless:
            for row in _descendants(table, pikepdf.Name.TR):
                cells = [c for c in _child_elements(row) if c.get("/S") == pikepdf.Name.TD]
                if len(cells) < 2:
                    continue
                header = cells[0]
                header.S = pikepdf.Name.TH
                header.ID = pikepdf.String(f"{prefix}row{len(self.ids) + 1}")
                self.ids[str(header.ID)] = header
                attributes = _table_attributes(header, create=True)[0]
                attributes.Scope = pikepdf.Name.Row
                attributes.Headers = pikepdf.Array()
                for cell in cells[1:]:
                    for attributes in _table_attributes(cell, create=True):
                        attributes.Headers = pikepdf.Array([*attributes.get("/Headers", []), header.ID])

    def finish(self, metadata: Metadata) -> None:
        pikepdf = self.pikepdf
        if not self.complete or not len(self.document.K):
            return
        tree = pikepdf.NumberTree.new(self.joined)
        for key in sorted(self.parent_tree):
            tree[key] = self.parent_tree[key]
        root = pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot, K=self.document, ParentTree=tree.obj, ParentTreeNextKey=self.next_key)
        if self.ids:
            ids = pikepdf.NameTree.new(self.joined)
            for name in sorted(self.ids):
                ids[name] = self.ids[name]
            root.IDTree = ids.obj
        if len(self.role_map):
            root.RoleMap = self.role_map
        self.joined.Root.StructTreeRoot = self.joined.make_indirect(root)
        self.document.P = self.joined.Root.StructTreeRoot
        self.joined.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
        self.joined.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
        with self.joined.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = metadata.title
            meta["dc:language"] = [metadata.language]


def _child_elements(element) -> list:
    """The structure elements directly under `element` (not its marked content or object references)."""
    import pikepdf

    kids = element.get("/K")
    kids = kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
    return [k for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k]


def _descendants(element, kind) -> list:
    found, stack = [], _child_elements(element)
    while stack:
        child = stack.pop(0)
        if child.get("/S") == kind:
            found.append(child)
        stack.extend(_child_elements(child))
    return found


def _table_attributes(element, create: bool = False) -> list:
    """The element's attribute dictionaries owned by /Table (Scope, Headers); one is added if asked."""
    import pikepdf

    given = element.get("/A")
    given = list(given) if isinstance(given, pikepdf.Array) else [given] if given is not None else []
    owned = [a for a in given if isinstance(a, pikepdf.Dictionary) and a.get("/O") == pikepdf.Name.Table]
    if owned or not create:
        return owned
    attributes = pikepdf.Dictionary(O=pikepdf.Name.Table)
    element.A = pikepdf.Array([attributes, *given])
    return [element.A[0]]


def _resolve_links(joined, destinations: dict, front_pages: int) -> None:
    """Placeholder links (DEST_LINK, PAGE_LINK) become links inside the joined PDF."""
    import pikepdf

    unresolved = []
    for page in joined.pages:
        for annot in page.get("/Annots", []):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(DEST_LINK):
                name = uri.removeprefix(DEST_LINK)
                if name not in destinations:
                    unresolved.append(name)
                annot.A = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.String(name))
            elif uri.startswith(PAGE_LINK):
                target = joined.pages[front_pages + int(uri.removeprefix(PAGE_LINK)) - 1].obj
                annot.A = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Array([target, pikepdf.Name.Fit]))
    if unresolved:
        raise JoinError(f"links to {len(unresolved)} places that are not in the PDF, e.g. {sorted(set(unresolved))[:3]}")


def join(
    front: Path,
    parts: list[Path],
    output: Path,
    headings: list[dict],
    metadata: Metadata,
    front_bookmarks: tuple[tuple[str, int], ...] = (("Contents", 1),),
) -> None:
    """Write one PDF to `output`: the pages of `front`, then those of each part in order.

    `headings` are the body's bookmarks, as `outline_entries` reads them (level, title, and `index`,
    the page counted from the first body page); `front_bookmarks` are (title, page index) in the
    front matter, placed first. Page labels number the front matter i, ii, ... and the body from 1."""
    import pikepdf

    joined = pikepdf.new()
    next_object = _take_stream_data(joined, 1)
    destinations: dict[str, pikepdf.Array] = {}
    structure = _StructureJoiner(joined)
    with pikepdf.open(front) as source:
        front_pages = len(source.pages)
    for path in [front, *parts]:
        with pikepdf.open(path) as source:
            offset = len(joined.pages)
            joined.pages.extend(source.pages)
            moved = {page.objgen: joined.pages[offset + i].obj for i, page in enumerate(source.pages)}
            structure.add(source, offset)
            if "/Names" in source.Root and "/Dests" in source.Root.Names:
                for name, dest in pikepdf.NameTree(source.Root.Names.Dests).items():
                    destinations[name] = pikepdf.Array([moved[dest[0].objgen], *(_plain_copy(v) for v in list(dest)[1:])])
            next_object = _take_stream_data(joined, next_object)
    if len(joined.objects) != next_object - 1:  # a gap in the numbering would leave a stream without data
        raise JoinError("objects were not copied in order")
    tree = pikepdf.NameTree.new(joined)
    for name in sorted(destinations):
        tree[name] = destinations[name]
    joined.Root.Names = pikepdf.Dictionary(Dests=tree.obj)
    _resolve_links(joined, destinations, front_pages)
    with joined.open_outline() as outline:
        for title, page in front_bookmarks:
            outline.root.append(pikepdf.OutlineItem(title, page))
        siblings: list[list] = [outline.root]  # the list each heading level appends to
        for entry in headings:
            item = pikepdf.OutlineItem(entry["title"], front_pages + entry["index"])
            del siblings[entry["level"] :]
            siblings[-1].append(item)
            siblings.append(item.children)
    joined.Root.PageLabels = pikepdf.Dictionary(
        Nums=pikepdf.Array([0, pikepdf.Dictionary(S=pikepdf.Name.r), front_pages, pikepdf.Dictionary(S=pikepdf.Name.D, St=1)])
    )
    joined.Root.Lang = pikepdf.String(metadata.language)
    for page in joined.pages:  # keyboard order of links follows the structure (PDF/UA), on every page
        page.obj.Tabs = pikepdf.Name.S
    structure.finish(metadata)
    joined.Root.PageMode = pikepdf.Name.UseOutlines
    stamp_text = metadata.date.strftime("D:%Y%m%d%H%M%SZ")
    joined.docinfo = joined.make_indirect(
        pikepdf.Dictionary(
            Title=pikepdf.String(metadata.title),
            Author=pikepdf.String(metadata.author),
            CreationDate=pikepdf.String(stamp_text),
            ModDate=pikepdf.String(stamp_text),
        )
    )
    joined.save(output, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def write_arguments(path: Path, front: Path, parts: list[Path], output: Path, headings: list[dict], metadata: Metadata) -> None:
    """The arguments of `join` as a JSON file, for `join_from_file` in a child process."""
    given = {"front": str(front), "parts": [str(p) for p in parts], "output": str(output), "headings": headings}
    given |= {"title": metadata.title, "author": metadata.author, "date": metadata.date.isoformat(), "language": metadata.language}
    path.write_text(json.dumps(given), encoding="utf-8")


def join_from_file(arguments: Path | str) -> None:
    given = json.loads(Path(arguments).read_text(encoding="utf-8"))
    metadata = Metadata(given["title"], given["author"], dt.datetime.fromisoformat(given["date"]), given["language"])
    join(Path(given["front"]), [Path(p) for p in given["parts"]], Path(given["output"]), given["headings"], metadata)
