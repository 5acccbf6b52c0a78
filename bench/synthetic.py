"""Synthetic, schema-valid evidence sets of any size, for the benchmark.

A set is made of copies of the real handbook: copy g renames every record id and citation
key (suffix -s<g>), gives studies fresh registry numbers and references fresh DOIs/PMIDs, so
records keep realistic sizes, cross-references and citation counts. The subtypes are a closed
list in reality, so they are not copied: every copy's records point at the one set of subtypes
(otherwise the evidence map, therapies by subtypes, would grow with the square of the set). The
last copy is trimmed to the exact size by dropping records nothing else refers to.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generators.load import load  # noqa: E402
from generators.model import check  # noqa: E402
from generators.problems import InputError  # noqa: E402
from generators.scaffold import link_project_code  # noqa: E402

SHARED_KINDS = {"subtype"}  # in copy 1 only; the other copies refer to them

# Dropped first when trimming: records that other records seldom point at.
TRIM_ORDER = [
    "question",
    "drug-class",
    "source-review",
    "topic",
    "recommendation",
    "study",
    "guideline",
    "outcome-measure",
    "autoantibody",
    "therapy",
    "criteria",
    "subtype",
]


def _walk(value, change):
    if isinstance(value, dict):
        return {k: _walk(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, change) for v in value]
    if isinstance(value, str):
        return change(value)
    return value


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


class Copier:
    def __init__(self, source: Path):
        records, bib, problems = load(source)
        if problems:
            raise SystemExit(f"the source handbook has problems: {problems[0]}")
        self.records = records
        self.ids = {r.id for r in records}
        self.shared = {r.id for r in records if r.kind in SHARED_KINDS}
        self.per_copy = len(records) - len(self.shared)  # records in every copy after the first
        self.entries = bib.entries
        self.registry_counter = 0

    def _registry(self, value: str) -> str:
        self.registry_counter += 1
        count = len(re.findall(r"\d", value))
        digits = iter(f"{self.registry_counter:030d}"[30 - count :])
        return re.sub(r"\d", lambda m: next(digits), value)

    def copy(self, g: int) -> list[tuple[str, dict]]:
        suffix = f"-s{g}"

        def rename(text: str) -> str:
            return text + suffix if (text in self.ids and text not in self.shared) or text in self.entries else text

        out = []
        for record in self.records:
            if record.kind in SHARED_KINDS and g > 1:
                continue
            data = _walk(record.data, rename)
            data["title"] = f"{data['title']} [set {g}]"
            if record.kind == "study" and data.get("registry_ids"):
                data["registry_ids"] = [self._registry(v) for v in data["registry_ids"]]
            for finding in (data.get("results") or []) + (data.get("safety") or []) if record.kind == "study" else []:
                # a copy is a new record: its findings need the check date every new finding must have
                # (synthetic text, never shown to readers; the record's review date stands in for it)
                finding.setdefault("checked", str(data["last_reviewed"]))
            out.append((record.kind, data))
        return out

    def bib_entry(self, key: str, number: int) -> str:
        original, g = key.rsplit("-s", 1)
        e = self.entries[original]
        fields = {name: e.fields.get(name, "") for name in ("title", "journal", "year", "volume", "pages")}
        # Every copy is written as a journal article, whatever kind of source the original is.
        fields["journal"] = fields["journal"] or e.fields.get("booktitle") or e.fields.get("organization") or "Synthetic Journal"
        authors = " and ".join(str(p) for p in e.persons.get("author", [])) or "Synthetic, Author"
        lines = [f"@article{{{key},", f"    author = {{{authors}}},"]
        lines += [f"    {name} = {{{value}}}," for name, value in fields.items() if value]
        lines += [
            f"    doi = {{10.5555/bench.{number}}},",
            f"    pmid = {{{90000000 + number}}},",
            "    verified = {synthetic benchmark entry}",
            "}",
        ]
        return "\n".join(lines)


def trim(records: list[tuple[str, dict]], keep: int) -> list[tuple[str, dict]]:
    """Drop records nothing else points at, in TRIM_ORDER, until `keep` remain."""
    ids = {data["id"] for _, data in records}
    pointed_at: dict[str, int] = {}
    for _, data in records:
        for s in set(_strings(data)) - {data["id"]}:
            if s in ids:
                pointed_at[s] = pointed_at.get(s, 0) + 1
    alive = list(records)
    # Several passes: dropping a record (a recommendation) can free another (the topic it named).
    while len(alive) > keep:
        before = len(alive)
        for kind in TRIM_ORDER:
            for item in [r for r in alive if r[0] == kind]:
                if len(alive) <= keep:
                    return alive
                if pointed_at.get(item[1]["id"], 0) == 0:
                    alive.remove(item)
                    for s in set(_strings(item[1])) - {item[1]["id"]}:
                        if s in pointed_at:
                            pointed_at[s] -= 1
        if len(alive) == before:
            break
    return alive


def make_set(size: int, target: Path, source: Path = ROOT) -> Path:
    """Write a project with `size` records to `target` (evidence/, references.bib, site config)."""
    copier = Copier(source)
    copies = 1 + math.ceil(max(0, size - len(copier.records)) / copier.per_copy)
    records: list[tuple[str, dict]] = []
    for g in range(1, copies):
        records += copier.copy(g)
    records += trim(copier.copy(copies), size - len(records))
    if target.exists():
        shutil.rmtree(target)
    (target / "evidence").mkdir(parents=True)
    used_keys: set[str] = set()
    all_keys = {f"{k}-s{g}" for k in copier.entries for g in range(1, copies + 1)}
    for kind, data in records:
        _give_reason_if_studyless(kind, data, records)
        used_keys |= set(_strings(data)) & all_keys
        folder = target / "evidence" / kind
        folder.mkdir(exist_ok=True)
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
        (folder / f"{data['id']}.yaml").write_text(
            f"# yaml-language-server: $schema=../../schemas/{kind}.schema.json\n{text}", encoding="utf-8"
        )
    bib = [copier.bib_entry(key, n) for n, key in enumerate(sorted(used_keys), start=1)]
    (target / "references.bib").write_text("\n\n".join(bib) + "\n", encoding="utf-8")
    link_project_code(target, ROOT)
    return target


def _give_reason_if_studyless(kind: str, data: dict, records) -> None:
    # trimming can drop every study of a therapy; the schema's own escape hatch keeps it valid
    if kind != "therapy" or data.get("no_studies_reason"):
        return
    if not any(k == "study" and data["id"] in (d.get("therapies") or []) for k, d in records):
        data["no_studies_reason"] = "Synthetic benchmark record: its studies were trimmed from this set."


def check_set(project: Path) -> list:
    try:
        check(project)
    except InputError as error:
        return error.problems
    return []


if __name__ == "__main__":
    size, where = int(sys.argv[1]), Path(sys.argv[2])
    make_set(size, where)
    problems = check_set(where)
    print(f"{size} records in {where}: {len(problems)} problems")
    for p in problems[:20]:
        print(" ", p)
