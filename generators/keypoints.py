"""Key points: the three to five cited lines at the top of a subtype, autoantibody or therapy page.

Derived from the records, never typed twice: the best evidence per subtype with its direction,
approvals, the guideline stance and the main safety warning. A record may add one written
`bottom_line`, which comes first. A line without a citation is never shown.
"""

from __future__ import annotations

import re

from .load import Record

MAX_POINTS = 5


def approval_date(approval: dict) -> str:
    """An approval's date as a source shows it, and never a label's revision date passed off as one."""
    if approval.get("date"):
        return str(approval["date"])
    if approval.get("label_date"):
        return f"on the label revised {approval['label_date']} (approval date not shown)"
    return "approval date not shown on the label read"


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.;])(\s|$)", text.strip())
    return match.group(1).rstrip(";") + ("" if match.group(1).endswith(".") else ".") if match else text


def _study_keys(studies: list[Record]) -> list[str]:
    keys = []
    for s in studies:
        cited = list(s.data.get("citations") or []) or [k for f in s.data.get("results") or [] for k in f.get("cite") or []]
        keys += cited[:1]
    return list(dict.fromkeys(keys))


def _name(study: Record) -> str:
    return study.data.get("acronym") or study.data["title"].split(":")[0]


def _guideline_points(book, record: Record, limit: int) -> list[dict]:
    points = []
    for rec in book.recommendations_about(record.id)[:limit]:
        strength = rec.data["strength"]
        points.append(
            {"text": f"{book.guideline_name(rec)} ({strength}): {rec.data['statement']}", "cite": list(rec.data.get("citations") or [])}
        )
    return points


def _therapy(book, record: Record) -> list[dict]:
    d = record.data
    points = []
    cells = []
    for subtype in book.subtypes_studied(record.id):
        ev = book.evidence(record.id, subtype.id)
        if ev.design != "none":
            cells.append((subtype, ev))
    cells.sort(key=lambda c: (c[1].design != "randomised-controlled", c[0].data["title"]))
    if cells:
        # Subtypes whose evidence is the same (same level, direction and studies) share one entry.
        grouped: dict = {}
        for subtype, ev in cells:
            deciding = [s for s in ev.studies if s.data["design"] == ev.design][:3]  # the best level's own studies
            key = (ev.label, tuple(ev.notes), tuple(s.id for s in deciding))
            grouped.setdefault(key, (ev, deciding, []))[2].append(subtype)
        parts, studies = [], []
        for ev, deciding, subtypes in list(grouped.values())[:4]:
            note = "; ".join(ev.notes)
            names = " and ".join(s.data["title"].lower() for s in subtypes)
            parts.append(f"{names}: {ev.label.lower()} ({', '.join(_name(s) for s in deciding)}{'; ' + note if note else ''})")
            studies += deciding
        points.append({"text": "Best evidence by subtype: " + "; ".join(parts) + ".", "cite": _study_keys(studies)})
    for a in d.get("approvals") or []:
        product = f" ({a['product']})" if a.get("product") else ""
        points.append({"text": f"Approved by the {a['agency']}{product}, {approval_date(a)}: {a['indication']}.", "cite": list(a["cite"])})
    points += _guideline_points(book, record, 1)
    safety = d.get("safety") or {}
    warning = next(iter(sorted(safety.get("warnings") or [], key=lambda w: not w.get("boxed"))), None)
    if warning:
        label = "Boxed warning" if warning.get("boxed") else "Label warning"
        points.append({"text": f"{label}: {warning['text']}", "cite": list(warning["cite"])})
    elif safety.get("adverse_events"):
        first = safety["adverse_events"][0]
        points.append({"text": f"Safety: {first['text']}", "cite": list(first["cite"])})
    return points


def _subtype(book, record: Record) -> list[dict]:
    points = _guideline_points(book, record, 2)
    positive, negative, no_difference = [], [], []
    for therapy in book.therapies_studied(record.id):
        ev = book.evidence(therapy.id, record.id)
        if ev.design == "randomised-controlled" and ev.rct_result in ("positive", "mixed"):
            positive.append((therapy, ev))
        elif ev.design == "randomised-controlled" and ev.rct_result == "negative":
            (no_difference if ev.head_to_head else negative).append((therapy, ev))
    for found, words in (
        (positive, "Randomised trials with benefit on their primary endpoint (all or some)"),
        (negative, "Randomised trials that missed their primary endpoint"),
        (no_difference, "Head-to-head randomised trials that found no difference between the treatments compared"),
    ):
        if found:
            text = "; ".join(f"{t.data['title']} ({', '.join(_name(s) for s in ev.studies[:3])})" for t, ev in found[:6])
            points.append({"text": f"{words}: {text}.", "cite": _study_keys([s for _, ev in found[:6] for s in ev.studies[:2]])})
    return points


def _autoantibody(book, record: Record) -> list[dict]:
    d = record.data
    points = []
    for name, words in (("ild_risk", "Interstitial lung disease risk"), ("cancer_association", "Cancer association")):
        item = d.get(name)
        if item and item.get("cite"):
            level = str(item["level"]).replace("-", " ")
            points.append({"text": f"{words}: {level}. {_first_sentence(item['text'])}", "cite": list(item["cite"])})
    points += _guideline_points(book, record, 2)
    # what the antibody means for treatment, after the guidelines: a reader asking what to do sees the
    # recommendation first, then the (usually observational) experience behind it
    treatment = next((t for t in d.get("treatment_implications") or [] if t.get("cite")), None)
    if treatment:
        points.append({"text": f"Treatment: {_first_sentence(treatment['text'])}", "cite": list(treatment["cite"])})
    return points


DERIVE = {"therapy": _therapy, "subtype": _subtype, "autoantibody": _autoantibody}


def key_points(book, record: Record) -> list[dict]:
    derive = DERIVE.get(record.kind)
    if derive is None:
        return []
    points = []
    if record.data.get("bottom_line"):
        points.append(dict(record.data["bottom_line"]))
    points += derive(book, record)
    return [p for p in points if p.get("cite")][:MAX_POINTS]
