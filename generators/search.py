"""Search built for clinical questions: ranking, synonyms and spelling variants.

Material's search (lunr, in the reader's browser) ranks with what the index holds. This module adds:

- ranking by kind of page (`front_matter`): a therapy, topic, subtype, autoantibody, criteria set
  or guideline page outranks a single study for the words of its title and aliases. A study still
  comes first for its own name, acronym or registry id, because those go into `keys`, an index
  field weighted like the title.
- synonyms and spelling variants from `search-synonyms.yaml` (`expand`): a page that says
  "glucocorticoid" is found by "prednisolone" and "steroid"; "esophagus" finds "oesophagus".

Both go into two extra fields of site/search/search_index.json only (`keys`, weighted like the
title; `syn`, weighted like the text), written after Material's search plugin: nothing extra is
shown to readers or read out by screen readers, and the words stay out of the page HTML.
`python -m generators search-index SITE_DIR` rewrites the index after `mkdocs build` (a step of
make site, like the PDF: no MkDocs hook, so any site generator that writes Material's index
format can be followed by it); render.py asks this module for each record page's front matter.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import yaml

from .urls import url_path

SYNONYMS_FILE = "search-synonyms.yaml"

# Page boost by record kind (Material: front matter `search: {boost: N}`; a study has 1).
# Abbreviations (IMNM, MDA5) mostly name a disease or an antibody, yet trial and therapy pages
# repeat them more often: rank the record the abbreviation belongs to first.
# A drug class is found first by its own name ("JAK inhibitor"); a member's name still finds the member
# (the class page does not take its members' names as its own). A clinical question counts like a study for a few words typed ("PJP prophylaxis" finds the topic),
# and first for a question typed as one (docs/assets/search.js, QUESTION_LIKE).
BOOST = {
    "drug-class": 4,
    "subtype": 4,
    "autoantibody": 4,
    "therapy": 3,
    "topic": 3,
    "guideline": 3,
    "criteria": 2,
    "outcome-measure": 2,
}
THERAPY_FIRST_LINE = 4
THERAPY_INVESTIGATIONAL = 2
# A criteria set or guideline that a newer one replaced (`superseded_by`) counts half: "IBM diagnostic
# criteria" finds the 2024 ENMC criteria before the 2011 ones they revised, as the pages say.
SUPERSEDED = 0.5

# Extra index fields and their weights; title, text and tags keep Material's defaults.
FIELDS = {"title": {"boost": 1000}, "text": {"boost": 1}, "tags": {"boost": 1000000}, "keys": {"boost": 1000}, "syn": {"boost": 1}}

_WORD = re.compile(r"[^\w]+")


def normal(text: str) -> str:
    """Lower case, words separated by single spaces (HTML tags removed)."""
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(_WORD.sub(" ", text.casefold()).split())


def record_terms(record) -> list[str]:
    """The words a reader may type to mean this record: aliases, acronym, registry ids."""
    data = record.data
    terms = [*(data.get("aliases") or []), data.get("acronym") or "", data.get("abbreviation") or ""]
    terms += data.get("registry_ids") or []
    return [t for t in dict.fromkeys(terms) if t]


def boost(record) -> float:
    """How much a record's page counts in search, beside a study's 1.

    Among therapies, the ones in use come before the ones only under investigation: a reader who
    types "steroid dose" means glucocorticoids, not low-dose interleukin-2. A superseded criteria set
    or guideline comes after the one that replaced it."""
    if record.kind == "therapy":
        places = set(record.data.get("place_in_treatment") or [])
        if "first-line" in places:
            return THERAPY_FIRST_LINE
        if places <= {"investigational", "not-recommended"}:
            return THERAPY_INVESTIGATIONAL
    if record.data.get("superseded_by"):
        return BOOST.get(record.kind, 1) * SUPERSEDED
    return BOOST.get(record.kind, 1)


def front_matter(record) -> str:
    """Front matter for a record page: its search boost and the terms for the `keys` field."""
    # As plain words (tags and punctuation removed): record text never reaches the page as markup,
    # even where a tool renders front matter; the index reads words only anyway.
    meta: dict = {"search_keys": [t for t in dict.fromkeys(map(normal, record_terms(record))) if t]}
    if boost(record) != 1:
        meta["search"] = {"boost": boost(record)}
    # JSON is YAML, and json.dumps is a tenth of yaml.safe_dump's time (0.7 s of 5,000 pages).
    return "---\n" + "".join(f"{name}: {json.dumps(value, ensure_ascii=False)}\n" for name, value in meta.items()) + "---\n\n"


# --- synonyms -------------------------------------------------------------------------------


class Synonyms:
    """Groups of words meaning the same thing, and spelling pairs (British, American)."""

    def __init__(self, groups: list[list[str]], spellings: list[list[str]], classes: list[dict] | None = None):
        self.groups = [[normal(t) for t in group] for group in groups]
        self.classes = [([normal(t) for t in c["class"]], [normal(t) for t in c["members"]]) for c in classes or []]
        self.spellings = [(normal(a), normal(b)) for a, b in spellings]

    def expand(self, text: str) -> list[str]:
        """The words to add so that `text` is found by any synonym or spelling of its words."""
        found = normal(text)
        padded = f" {found} "
        words = set(found.split())
        extra: dict[str, None] = {}
        for group in self.groups:
            if any(f" {term} " in padded for term in group):
                for term in group:
                    if f" {term} " not in padded:
                        extra[term] = None
        for names, members in self.classes:
            if any(f" {term} " in padded for term in members):
                for term in names:
                    if f" {term} " not in padded:
                        extra[term] = None
        # in a fixed order (a set's order changes between runs): the index must be byte-identical
        for word in dict.fromkeys([*found.split(), *(w for t in extra for w in t.split())]):
            for british, american in self.spellings:
                # British to American anywhere in a word (ischaemia, ischemia); back only at its start,
                # where "hem" means haem and not them or chemotherapy
                variant = word.replace(british, american) if british in word else None
                if variant is None and word.startswith(american) and not word.startswith(british):
                    variant = british + word[len(american) :]
                if variant and variant not in words:
                    extra[variant] = None
        return list(extra)


def problems(data) -> list[str]:
    """What is wrong with a synonyms file, as messages (empty when it is right)."""
    found = []
    if not isinstance(data, dict) or set(data) - {"groups", "classes", "spellings"}:
        return [f"{SYNONYMS_FILE}: expected a mapping with 'groups', 'classes' and 'spellings'"]
    seen: dict[str, int] = {}
    for i, group in enumerate(data.get("groups") or [], 1):
        if not isinstance(group, list) or len(group) < 2 or not all(isinstance(t, str) and normal(t) for t in group):
            found.append(f"{SYNONYMS_FILE}: group {i} must list at least two words or phrases")
            continue
        for term in group:
            if normal(term) in seen and seen[normal(term)] != i:
                found.append(f"{SYNONYMS_FILE}: {term!r} is in group {seen[normal(term)]} and group {i}")
            seen[normal(term)] = i
    for i, entry in enumerate(data.get("classes") or [], 1):
        if not (
            isinstance(entry, dict)
            and set(entry) == {"class", "members"}
            and all(isinstance(entry[k], list) and entry[k] and all(isinstance(t, str) and normal(t) for t in entry[k]) for k in entry)
        ):
            found.append(f"{SYNONYMS_FILE}: class {i} must list 'class' names and 'members'")
    for i, pair in enumerate(data.get("spellings") or [], 1):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(t, str) and len(normal(t)) >= 3 for t in pair)):
            found.append(f"{SYNONYMS_FILE}: spelling {i} must be [British, American], each at least 3 letters")
    return found


def synonyms_data(root: Path) -> dict:
    """search-synonyms.yaml, checked (ValueError lists what is wrong); the build puts it in its manifest."""
    path = root / SYNONYMS_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    errors = problems(data or {})
    if errors:
        raise ValueError("\n".join(errors))
    return data or {}


def synonyms_from(data: dict) -> Synonyms:
    return Synonyms(data.get("groups") or [], data.get("spellings") or [], data.get("classes") or [])


@lru_cache
def load_synonyms(root: Path) -> Synonyms:
    return synonyms_from(synonyms_data(root))


# --- the index ------------------------------------------------------------------------------

_ALSO_KNOWN = re.compile(r"^<p>Also known as: (.*?)</p>\s*", re.S)


def rewrite_index(index: dict, keys_by_page: dict[str, list[str]], synonyms: Synonyms) -> dict:
    """Add the `keys` and `syn` fields to Material's search index (in place; returned)."""
    index["config"]["fields"] = FIELDS
    for doc in index["docs"]:
        page = doc["location"].split("#")[0]
        is_article = "#" not in doc["location"]
        if is_article:
            # The result preview shows the start of the text: the summary and key points, not the aliases
            # (they are in `keys`, weighted like the title).
            doc["text"] = _ALSO_KNOWN.sub("", doc["text"], count=1)
            keys = list(keys_by_page.get(page, []))
            keys += synonyms.expand(" ".join([doc["title"], *keys]))
        else:
            keys = synonyms.expand(doc["title"])  # a section "Dosing as studied" is found by "dose"
        if keys:
            # each word once: a page counts by what it is called, not by how often its aliases repeat a word
            doc["keys"] = " ".join(dict.fromkeys(w for k in keys for w in normal(k).split()))
        extra = synonyms.expand(f"{doc['title']} {doc['text']}")
        if extra:
            doc["syn"] = " ".join(extra)
    return index


# --- the step after mkdocs build -----------------------------------------------------------


def keys_by_page(pages: dict) -> dict[str, list[str]]:
    """Each page's URL (as the index locates it) and the `search_keys` of its front matter: the
    terms readers may type for it (a record's aliases, acronym, registry ids; a view's own words)."""
    found = {}
    for rel, text in pages.items():
        if rel.endswith(".md") and isinstance(text, str) and text.startswith("---\n") and "\n---\n" in text:
            meta = yaml.safe_load(text[4 : text.index("\n---\n")]) or {}
            if meta.get("search_keys"):
                terms = [str(t) for t in meta["search_keys"]]
                found[url_path(rel)] = terms
                found[rel.removesuffix(".md") + ".html"] = terms  # the offline copy's URLs (no directory URLs)
    return found


def rewrite_site_index(site_dir: Path, build_dir: Path) -> bool:
    """Rewrite site_dir/search/search_index.json in place from the search data of build/manifest.json
    (each page's terms, the synonyms); False when the site has no index."""
    path = Path(site_dir) / "search" / "search_index.json"
    if not path.exists():
        return False
    search = json.loads((Path(build_dir) / "manifest.json").read_text(encoding="utf-8"))["search"]
    index = json.loads(path.read_text(encoding="utf-8"))
    rewrite_index(index, search["keys"], synonyms_from(search["synonyms"]))
    text = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text, encoding="utf-8")
    inlined = path.with_suffix(".js")
    if inlined.exists():  # the offline copy: Material's offline plugin inlined the index into a script
        inlined.write_text(f"var __index = {text}", encoding="utf-8")
    return True
