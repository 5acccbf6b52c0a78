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

The joined PDF is written as the parts are read, one part in memory at a time (`_Writer`): pikepdf
reads and unparses each part's objects, this module renumbers their references and writes them,
compressed in object streams, with a cross-reference stream. Holding the whole book in pikepdf
instead took 2.6 GB at 5,000 records, most of it the tagged structure's elements.

API: `outline_entries(part, first_page, offset)` while the parts are typeset, then
`join(front, parts, output, headings, metadata)`; `join_from_file` runs `join` from a JSON file of
arguments, for a child process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import struct
import zlib
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from .adapters import object_type

DEST_LINK = "handbook-dest:"  # a link to a label typeset in another part; made internal when joined
PAGE_LINK = "handbook-page:"  # a contents entry: the printed page number of the body
# A part that begins inside a section opens with an invisible level-1 heading of this title, so that
# Typst nests the part's first headings under it in the bookmarks and their level can be read back.
CONTINUED = "handbook-section-continued"
OBJECTS_PER_STREAM = 100  # objects other than streams, compressed together in the joined PDF
# In qpdf's unparsed objects: a string (skipped; qpdf escapes its parentheses) or a reference "12 0 R".
_REFERENCE = re.compile(rb"\((?:[^\\)]|\\.)*\)|<[0-9A-Fa-f\s]*>|(?<![\w.#/])(\d+) (\d+) R\b", re.S)


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


def _serial(value) -> bytes:
    """A direct PDF value as bytes; `value` holds no indirect references (the writer maps those)."""
    import pikepdf

    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f").encode() if value != 0 else b"0"
    if isinstance(value, str):
        return pikepdf.String(value).unparse()
    return value.unparse()


class _Writer:
    """Writes a PDF object by object as it goes, so that the joined book is never held in memory.

    Each part is opened on its own; the objects its pages and structure use are numbered in the
    order they are first reached and written out, and the part is closed before the next one is
    read. What spans the parts (the page tree, the structure tree's root and Document element, the
    ParentTree, IDTree, named destinations, bookmarks, metadata) is written at the end from small
    indexes. Object numbers are given in order of first use, so the same parts give the same bytes."""

    def __init__(self, out):
        self.out = out
        self.offsets: dict[int, int] = {}
        self.next_number = 1
        self.numbers: dict[tuple[int, int], int] = {}  # the current part's objects: (num, gen) -> number here
        self.queue: deque = deque()
        self.batch: list[tuple[int, bytes]] = []  # objects waiting for the next object stream
        self.in_stream: dict[int, tuple[int, int]] = {}  # object number -> (its object stream, index there)
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def reserve(self) -> int:
        self.next_number += 1
        return self.next_number - 1

    def start_part(self, source, seeded: dict[tuple[int, int], int]) -> None:
        """A new source: its page objects (and the page tree and structure root they point to) have numbers already."""
        self.source = source
        self.numbers = dict(seeded)
        self.queue.clear()

    def ref(self, obj) -> int:
        return self._number(obj.objgen)

    def _number(self, key: tuple[int, int]) -> int:
        number = self.numbers.get(key)
        if number is None:
            number = self.numbers[key] = self.reserve()
            self.queue.append((number, key))
        return number

    def _renumbered(self, match) -> bytes:
        if match.group(1) is None:  # a string: left as it is
            return match.group(0)
        return b"%d 0 R" % self._number((int(match.group(1)), int(match.group(2))))

    def value(self, value) -> bytes:
        """`value` as it is written where it is used: a reference if it is an indirect object.

        qpdf writes the object (unparse); its references are then renumbered for the joined PDF,
        far faster than walking the object in Python."""
        import pikepdf

        if not isinstance(value, pikepdf.Object):
            return _serial(value)
        return _REFERENCE.sub(self._renumbered, value.unparse())

    def contents(self, obj) -> bytes:
        """An indirect object's own contents, its references renumbered."""
        return _REFERENCE.sub(self._renumbered, obj.unparse(resolved=True))

    def put(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        """Write object `number`: a stream goes straight to the file, any other object into an
        object stream (compressed in batches, as pikepdf's `object_stream_mode=generate` does)."""
        if stream is None:
            self.batch.append((number, body))
            if len(self.batch) >= OBJECTS_PER_STREAM:
                self._flush_batch()
            return
        self.offsets[number] = self.out.tell()
        self.out.write(b"%d 0 obj\n" % number + body + b"\nstream\n" + stream + b"\nendstream\nendobj\n")

    def _flush_batch(self) -> None:
        if not self.batch:
            return
        number = self.reserve()
        header, bodies, position = [], [], 0
        for index, (member, body) in enumerate(self.batch):
            self.in_stream[member] = (number, index)
            header.append(b"%d %d" % (member, position))
            bodies.append(body)
            position += len(body) + 1
        first = b" ".join(header) + b"\n"
        data = zlib.compress(first + b"\n".join(bodies), 6)
        self.batch = []
        self.offsets[number] = self.out.tell()
        entries = b"<</Type/ObjStm/N %d/First %d/Filter/FlateDecode/Length %d>>" % (len(header), len(first), len(data))
        self.out.write(b"%d 0 obj\n" % number + entries + b"\nstream\n" + data + b"\nendstream\nendobj\n")

    def put_object(self, number: int, obj) -> None:
        import pikepdf

        if isinstance(obj, pikepdf.Stream):
            self.put(number, self.contents(obj.stream_dict), obj.read_raw_bytes())
        else:
            self.put(number, self.contents(obj))

    def drain(self) -> None:
        """Write every object reached so far (and what they reach) from the current part."""
        while self.queue:
            number, key = self.queue.popleft()
            self.put_object(number, self.source.get_object(key))

    def finish(self, root: int, info: int) -> None:
        """The cross-reference stream, which also finds the objects inside object streams, and the
        trailer; the file id is a hash of everything before it."""
        self._flush_batch()
        xref = self.reserve()
        start = self.out.tell()
        self.offsets[xref] = start
        rows = [struct.pack(">BIH", 0, 0, 65535)]
        for n in range(1, self.next_number):
            if n in self.in_stream:
                rows.append(struct.pack(">BIH", 2, *self.in_stream[n]))
            else:
                rows.append(struct.pack(">BIH", 1, self.offsets[n], 0))
        data = zlib.compress(b"".join(rows), 6)
        self.out.flush()
        self.out.seek(0)
        digest = hashlib.md5(usedforsecurity=False)
        while chunk := self.out.read(1 << 20):
            digest.update(chunk)
        file_id = digest.hexdigest().encode()
        entries = b"/Type/XRef/Size %d/W[1 4 2]/Root %d 0 R/Info %d 0 R/ID[<%s><%s>]/Filter/FlateDecode/Length %d" % (
            self.next_number,
            root,
            info,
            file_id,
            file_id,
            len(data),
        )
        self.out.write(b"%d 0 obj\n<<" % xref + entries + b">>\nstream\n" + data + b"\nendstream\nendobj\n")
        self.out.write(b"startxref\n%d\n%%%%EOF\n" % start)


def _name_tree(entries: dict[str, bytes]) -> bytes:
    """A one-level name tree, its keys in byte order as PDF asks."""
    import pikepdf

    items = sorted(entries.items(), key=lambda item: pikepdf.String(item[0]).unparse())
    return b"<</Names[" + b" ".join(pikepdf.String(name).unparse() + b" " + value for name, value in items) + b"]>>"


def _inherited(page, key: str):
    """A page attribute, looked up through the page tree as PDF inheritance does (MediaBox, Resources ...)."""
    node = page
    while node is not None:
        if key in node:
            return node[key]
        node = node.get("/Parent")
    return None


class _StructurePart:
    """One part's tagged structure, made ready to join (Typst writes tagged PDF).

    Its top element goes under the book's one Document element (a part's own Document becomes a
    Part), and the numbers that tie page content and annotations to the tree (StructParents,
    StructParent, the ParentTree) are shifted by `shift` so the parts' numbers do not collide.
    Element ids (table cells name their header cells by id) get the part's prefix, so they stay
    unique in the book. Two-column fact tables without a header row get row headers."""

    def __init__(self, source, prefix: str, shift: int):
        import pikepdf

        self.pikepdf = pikepdf
        self.root = source.Root.StructTreeRoot
        self.ids: dict[str, object] = {}
        self.count = 0
        self._ids_and_row_headers(self.root, prefix)
        kids = self.root.get("/K")
        self.kids = [
            k
            for k in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else [])
            if isinstance(k, pikepdf.Dictionary)
        ]
        for kid in self.kids:
            if kid.get("/S") == pikepdf.Name.Document:
                kid.S = pikepdf.Name.Part  # one Document for the book; each part's becomes a Part
        self.parent_tree = []
        if "/ParentTree" in self.root:
            self.parent_tree = [(key + shift, value) for key, value in pikepdf.NumberTree(self.root.ParentTree).items()]
        for page in source.pages:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + shift
            for annot in page.obj.get("/Annots", []):
                if "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + shift
        self.next_key = max((key + 1 for key, _ in self.parent_tree), default=shift)

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
                self.count += 1
                header.ID = pikepdf.String(f"{prefix}row{self.count}")
                self.ids[str(header.ID)] = header
                attributes = _table_attributes(header, create=True)[0]
                attributes.Scope = pikepdf.Name.Row
                attributes.Headers = pikepdf.Array()
                for cell in cells[1:]:
                    for attributes in _table_attributes(cell, create=True):
                        attributes.Headers = pikepdf.Array([*attributes.get("/Headers", []), header.ID])


def _child_elements(element) -> list:
    """The structure elements directly under `element` (not its marked content or object references)."""
    import pikepdf

    kids = element.get("/K")
    if kids is None or type(kids) is int:  # a marked-content id
        return []
    dictionary = pikepdf.ObjectType.dictionary
    if object_type(kids) != pikepdf.ObjectType.array:
        kids = [kids]
    # the type code, not isinstance: pikepdf's isinstance checks cost as much as the rest of the join (adapters.py)
    return [k for k in kids if type(k) is not int and object_type(k) == dictionary and "/S" in k]


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


def _resolve_links(source, page_numbers: list[int], placeholder_of, names_used: set) -> None:
    """Placeholder links (DEST_LINK, PAGE_LINK) in one part become links inside the joined PDF.

    A link to a printed page points at a stand-in object that the writer numbers as that page."""
    import pikepdf

    for page in source.pages:
        for annot in page.obj.get("/Annots", []):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(DEST_LINK):
                name = uri.removeprefix(DEST_LINK)
                names_used.add(name)
                annot.A = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.String(name))
            elif uri.startswith(PAGE_LINK):
                target = placeholder_of(page_numbers[int(uri.removeprefix(PAGE_LINK)) - 1])
                annot.A = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Array([target, pikepdf.Name.Fit]))


def _outline(writer: _Writer, items: list[tuple[str, int, list]], parent: int) -> tuple[list[int], int]:
    """Write bookmarks (title, page object number, children) under `parent`; returns their numbers
    and how many bookmarks they hold in all (every one open)."""
    import pikepdf

    numbers = [writer.reserve() for _ in items]
    total = len(items)
    for i, (title, page, children) in enumerate(items):
        entries = b"/Title " + pikepdf.String(title).unparse() + b"/Parent %d 0 R/Dest[%d 0 R/Fit]" % (parent, page)
        if i:
            entries += b"/Prev %d 0 R" % numbers[i - 1]
        if i + 1 < len(items):
            entries += b"/Next %d 0 R" % numbers[i + 1]
        if children:
            kids, count = _outline(writer, children, numbers[i])
            entries += b"/First %d 0 R/Last %d 0 R/Count %d" % (kids[0], kids[-1], count)
            total += count
        writer.put(numbers[i], b"<<" + entries + b">>")
    return numbers, total


def _xmp(metadata: Metadata) -> tuple[bytes, bytes]:
    """The XMP metadata stream (title, language), as pikepdf writes it: (dictionary, data)."""
    import pikepdf

    with pikepdf.new() as pdf:
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            meta["dc:title"] = metadata.title
            meta["dc:language"] = [metadata.language]
        stream = pdf.Root.Metadata
        data = stream.read_raw_bytes()
        stream.stream_dict.Length = len(data)
        return stream.stream_dict.unparse(resolved=True), data


class _Book:
    """The joined book while its parts are written: the numbers reserved for every page and for
    the objects that span the parts, and the indexes those are written from at the end."""

    def __init__(self, writer: _Writer, counts: list[int], tagged: bool):
        self.writer = writer
        self.front_pages = counts[0]
        self.catalog, self.info, self.pages_node = writer.reserve(), writer.reserve(), writer.reserve()
        self.page_numbers = [writer.reserve() for _ in range(sum(counts))]
        self.tagged = tagged
        self.struct_root, self.document = (writer.reserve(), writer.reserve()) if tagged else (0, 0)
        self.destinations: dict[str, bytes] = {}
        self.names_used: set[str] = set()
        self.parent_tree: list[tuple[int, bytes]] = []
        self.ids: dict[str, bytes] = {}
        self.role_map: dict[str, bytes] = {}
        self.document_kids: list[int] = []
        self.next_key = 0
        self.first_page = 0  # of the next part
        self.parts = 0

    def add(self, source) -> None:
        """Write one part: its pages, what they use, and (if the book is tagged) its structure."""
        import pikepdf

        writer, seeded = self.writer, {}
        numbers = self.page_numbers[self.first_page : self.first_page + len(source.pages)]
        for page, number in zip(source.pages, numbers, strict=True):
            seeded[page.objgen] = number
            node = page.obj.get("/Parent")
            while node is not None:  # the part's page tree becomes the book's
                seeded[node.objgen] = self.pages_node
                node = node.get("/Parent")
            for key in ("/MediaBox", "/CropBox", "/Resources", "/Rotate"):
                if key not in page.obj and (value := _inherited(page.obj, key)) is not None:
                    page.obj[key] = value
            page.obj.Tabs = pikepdf.Name.S  # keyboard order of links follows the structure (PDF/UA)

        def stand_in_for(page_number: int):
            stand_in = source.make_indirect(pikepdf.Dictionary())
            seeded[stand_in.objgen] = page_number
            return stand_in

        _resolve_links(source, self.page_numbers[self.front_pages :], stand_in_for, self.names_used)
        structure = None
        if self.tagged:
            structure = _StructurePart(source, f"part{self.parts}-", self.next_key)
            self.next_key = structure.next_key
            seeded[structure.root.objgen] = self.document
        writer.start_part(source, seeded)
        for page, number in zip(source.pages, numbers, strict=True):
            writer.put_object(number, page.obj)
        if structure is not None:
            self.document_kids += [writer.ref(kid) for kid in structure.kids]
            self.parent_tree += [(key, writer.value(value)) for key, value in structure.parent_tree]
            self.ids |= {name: writer.value(element) for name, element in structure.ids.items()}
            for name, value in (structure.root.get("/RoleMap") or {}).items():
                self.role_map[name] = writer.value(value)
        if "/Names" in source.Root and "/Dests" in source.Root.Names:
            for name, dest in pikepdf.NameTree(source.Root.Names.Dests).items():
                self.destinations[name] = writer.value(dest)
        writer.drain()
        self.first_page += len(source.pages)
        self.parts += 1

    def finish(self, headings: list[dict], metadata: Metadata, front_bookmarks) -> None:
        """Write what spans the parts: page tree, destinations, bookmarks, structure root, catalog, info."""
        import pikepdf

        missing = sorted(self.names_used - set(self.destinations))
        if missing:
            raise JoinError(f"links to {len(missing)} places that are not in the PDF, e.g. {missing[:3]}")
        writer, pages = self.writer, self.page_numbers
        writer.put(self.pages_node, b"<</Type/Pages/Count %d/Kids[%s]>>" % (len(pages), b" ".join(b"%d 0 R" % n for n in pages)))
        entries = b"/Type/Catalog/Pages %d 0 R/PageMode/UseOutlines" % self.pages_node
        entries += b"/PageLabels<</Nums[0<</S/r>>%d<</S/D/St 1>>]>>" % self.front_pages
        entries += b"/Lang " + pikepdf.String(metadata.language).unparse()
        entries += b"/ViewerPreferences<</DisplayDocTitle true>>"
        dests = writer.reserve()
        writer.put(dests, _name_tree(self.destinations))
        entries += b"/Names<</Dests %d 0 R>>" % dests
        tree: list = [(title, pages[index], []) for title, index in front_bookmarks]  # (title, page, children)
        siblings = [tree]  # the list each heading level appends to
        for entry in headings:
            item = (entry["title"], pages[self.front_pages + entry["index"]], [])
            del siblings[entry["level"] :]
            siblings[-1].append(item)
            siblings.append(item[2])
        if tree:
            outlines = writer.reserve()
            kids, count = _outline(writer, tree, outlines)
            writer.put(outlines, b"<</Type/Outlines/First %d 0 R/Last %d 0 R/Count %d>>" % (kids[0], kids[-1], count))
            entries += b"/Outlines %d 0 R" % outlines
        xmp = writer.reserve()
        writer.put(xmp, *_xmp(metadata))
        entries += b"/Metadata %d 0 R" % xmp
        if self.tagged:
            entries += self._structure_root()
        writer.put(self.catalog, b"<<" + entries + b">>")
        stamp = metadata.date.strftime("D:%Y%m%d%H%M%SZ")
        texts = (pikepdf.String(text).unparse() for text in (metadata.title, metadata.author, stamp, stamp))
        writer.put(self.info, b"<</Title %s/Author %s/CreationDate %s/ModDate %s>>" % tuple(texts))
        writer.finish(self.catalog, self.info)

    def _structure_root(self) -> bytes:
        """The StructTreeRoot and its one Document element; the catalog's entries for them."""
        import pikepdf

        writer = self.writer
        if not self.document_kids:  # tagged parts with no elements: no tree to claim
            writer.put(self.struct_root, b"null")
            writer.put(self.document, b"null")
            return b""
        numbers = writer.reserve()
        writer.put(numbers, b"<</Nums[" + b" ".join(b"%d %s" % item for item in sorted(self.parent_tree)) + b"]>>")
        root = b"/Type/StructTreeRoot/K %d 0 R/ParentTree %d 0 R/ParentTreeNextKey %d" % (self.document, numbers, self.next_key)
        if self.ids:
            id_tree = writer.reserve()
            writer.put(id_tree, _name_tree(self.ids))
            root += b"/IDTree %d 0 R" % id_tree
        if self.role_map:
            root += b"/RoleMap<<" + b"".join(pikepdf.Name(k).unparse() + b" " + v for k, v in sorted(self.role_map.items())) + b">>"
        writer.put(self.struct_root, b"<<" + root + b">>")
        kids = b" ".join(b"%d 0 R" % n for n in self.document_kids)
        writer.put(self.document, b"<</Type/StructElem/S/Document/P %d 0 R/K[%s]>>" % (self.struct_root, kids))
        return b"/StructTreeRoot %d 0 R/MarkInfo<</Marked true>>" % self.struct_root


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
    front matter, placed first. Page labels number the front matter i, ii, ... and the body from 1.
    If any part is untagged, the book is left untagged rather than claiming a structure that
    misses pages. A join that fails leaves no output."""
    import pikepdf

    sources = [front, *parts]
    counts, tagged = [], True
    for path in sources:  # a first look: page counts, so that every page has its number before any is written
        with pikepdf.open(path) as source:
            counts.append(len(source.pages))
            tagged = tagged and "/StructTreeRoot" in source.Root
    partial = output.with_name(output.name + ".part")
    try:
        with open(partial, "w+b") as out:
            book = _Book(_Writer(out), counts, tagged)
            for path in sources:
                with pikepdf.open(path) as source:
                    book.add(source)
            book.finish(headings, metadata, front_bookmarks)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)


def write_arguments(path: Path, front: Path, parts: list[Path], output: Path, headings: list[dict], metadata: Metadata) -> None:
    """The arguments of `join` as a JSON file, for `join_from_file` in a child process."""
    given = {"front": str(front), "parts": [str(p) for p in parts], "output": str(output), "headings": headings}
    given |= {"title": metadata.title, "author": metadata.author, "date": metadata.date.isoformat(), "language": metadata.language}
    path.write_text(json.dumps(given), encoding="utf-8")


def join_from_file(arguments: Path | str) -> None:
    given = json.loads(Path(arguments).read_text(encoding="utf-8"))
    metadata = Metadata(given["title"], given["author"], dt.datetime.fromisoformat(given["date"]), given["language"])
    join(Path(given["front"]), [Path(p) for p in given["parts"]], Path(given["output"]), given["headings"], metadata)
