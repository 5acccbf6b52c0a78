"""Figures as SVG, drawn from the model: the evidence map and the trial-pipeline timeline.

Plain SVG with text labels (not colour alone), no scripts, every text escaped; the site shows
them as images and the PDF embeds them.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from .model import Evidence, Handbook

# Cell colours match docs/assets/handbook.css; each cell also carries a short text label.
EVIDENCE_STYLE = {
    "rct-positive": ("#d7f0dd", "#114422", "RCT +"),
    "rct-negative": ("#f9dcdc", "#5c1111", "RCT −"),
    "rct-mixed": ("#fff1c9", "#4d3a00", "RCT ±"),
    "rct-no-difference": ("#e1edf2", "#16333d", "RCT ="),
    "rct-pending": ("#fff1c9", "#4d3a00", "RCT …"),
    "non-randomised-controlled": ("#dde8fb", "#12305e", "Ctrl"),
    "single-arm-trial": ("#e7e3f7", "#2b1f5c", "Uncontr."),
    "observational": ("#eeeeee", "#222222", "Obs."),
    "case-series": ("#eeeeee", "#222222", "Cases"),
    "none": ("#ffffff", "#595959", "—"),
}
LEGEND = [
    ("rct-positive", "Randomised, positive"),
    ("rct-negative", "Randomised, negative"),
    ("rct-mixed", "Randomised, mixed"),
    ("rct-no-difference", "Randomised head-to-head, no difference"),
    ("rct-pending", "Randomised, no result yet"),
    ("non-randomised-controlled", "Controlled, non-randomised"),
    ("single-arm-trial", "Uncontrolled trial"),
    ("observational", "Observational"),
    ("case-series", "Case series"),
    ("none", "No study records"),
]
FONT = "font-family='Helvetica, Arial, sans-serif'"
STATUS_COLOUR = {
    "recruiting": "#2e7d32",
    "not-yet-recruiting": "#6a1b9a",
    "active-not-recruiting": "#1565c0",
    "enrolling-by-invitation": "#00695c",
    "completed": "#555555",
    "terminated": "#c62828",
    "withdrawn": "#c62828",
    "suspended": "#a84300",
}


# Rows of the evidence map, grouped by the kind of treatment a therapy's drug_class names. The first
# group whose words appear in the drug_class wins; anything else is under "Other treatments".
THERAPY_GROUPS = [
    ("Glucocorticoids and corticotropin", ("corticosteroid", "corticotropin")),
    ("Conventional immunosuppressants", ("antimetabolite", "calcineurin", "purine synthesis", "cytotoxic", "mtor", "antimalarial")),
    ("Immunoglobulin and FcRn blockers", ("immunoglobulin (", "fcrn")),
    ("Complement inhibitors", ("complement",)),
    ("Cell therapies", ("chimeric antigen receptor",)),
    ("Small molecules", ("small molecule", "small-molecule")),
    ("Antibodies, fusion proteins and cytokines", ("monoclonal", "antibod", "fusion protein", "tnf", "cytokine")),
    ("Exercise and extracorporeal treatments", ("non-pharmacological", "extracorporeal", "apheresis")),
]
OTHER_GROUP = "Other treatments"


def therapy_group(therapy) -> str:
    drug_class = str(therapy.data.get("drug_class") or "").casefold()
    return next((name for name, words in THERAPY_GROUPS if any(w in drug_class for w in words)), OTHER_GROUP)


def therapy_groups(book: Handbook) -> list[tuple[str, list]]:
    """(group heading, therapies in the handbook's order), groups in THERAPY_GROUPS order, empty ones left out."""
    order = [name for name, _ in THERAPY_GROUPS] + [OTHER_GROUP]
    grouped: dict[str, list] = {name: [] for name in order}
    for therapy in book.kind("therapy"):
        grouped[therapy_group(therapy)].append(therapy)
    return [(name, therapies) for name, therapies in grouped.items() if therapies]


def study_name(book: Handbook, study) -> str:
    """A study as readers cite it: its acronym, else its first author and year (Aggarwal 2025), else its title."""
    from .bibliography import first_author_surname

    if study.data.get("acronym"):
        return study.data["acronym"]
    entries = book.bibliography.entries
    for key in study.data.get("citations") or []:
        if key in entries and study.data.get("year"):
            return f"{first_author_surname(entries[key])} {study.data['year']}"
    title = study.data.get("title") or study.id
    return title if len(title) <= 40 else title[:38].rsplit(" ", 1)[0] + "…"


def _text(x, y, content, size=11, anchor="start", weight="normal", fill="#222222", extra="") -> str:
    return (
        f"<text x='{x}' y='{y}' font-size='{size}' text-anchor='{anchor}' font-weight='{weight}' "
        f"fill='{fill}' {FONT}{extra}>{escape(str(content))}</text>"
    )


# Text is at least 11 px when a figure is shown at its own size (the site lets a wide figure scroll
# rather than shrink it); sizes below are set from the longest label, so none is cut off.
TEXT, SMALL = 13, 12


def _width(text: str, size: float) -> float:
    """A generous estimate of a label's width in Helvetica/Arial (average glyph about 0.56 em)."""
    return len(text) * size * 0.58


def _short(title: str, limit: int = 42) -> str:
    """A long therapy name shortened at a word, marked with an ellipsis (the cell's tooltip has it whole)."""
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,(/") + "…"


def _css(ev: Evidence) -> str:
    return ev.css if ev.design != "none" else "none"


def evidence_map_svg(book: Handbook) -> str:
    therapies, subtypes = book.kind("therapy"), book.kind("subtype")
    cell_w, cell_h = 88, 24
    label_w = int(max([_width(_short(t.data["title"]), TEXT) for t in therapies] + [100])) + 16
    longest = max([_width(s.data["title"], TEXT) for s in subtypes] + [50])
    head_h = int(longest * 0.65) + 20  # subtype names at 40 degrees
    width = int(max(label_w + cell_w * len(subtypes) + longest * 0.77, 3 * 300)) + 10
    legend_top = head_h + cell_h * len(therapies) + 24
    height = legend_top + 24 * ((len(LEGEND) + 2) // 3) + 10
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        f"role='img' aria-labelledby='em-title'>",
        "<title id='em-title'>Evidence map: best available evidence for each therapy in each subtype</title>",
        f"<rect width='{width}' height='{height}' fill='#ffffff'/>",
    ]
    for j, subtype in enumerate(subtypes):
        x = label_w + j * cell_w + cell_w / 2
        out.append(
            _text(x, head_h - 6, subtype.data["title"], size=TEXT, weight="bold", extra=f" transform='rotate(-40 {x} {head_h - 6})'")
        )
    for i, therapy in enumerate(therapies):
        y = head_h + i * cell_h
        out.append(_text(label_w - 8, y + 17, _short(therapy.data["title"]), size=TEXT, anchor="end"))
        for j, subtype in enumerate(subtypes):
            ev = book.evidence(therapy.id, subtype.id)
            fill, ink, short = EVIDENCE_STYLE[_css(ev)]
            x = label_w + j * cell_w
            names = ", ".join(study_name(book, s) for s in ev.studies)
            out.append(
                f"<rect x='{x + 1}' y='{y + 1}' width='{cell_w - 2}' height='{cell_h - 2}' fill='{fill}' stroke='#bbbbbb'>"
                f"<title>{escape(therapy.data['title'])} in {escape(subtype.data['title'])}: "
                f"{escape(ev.label if ev.design != 'none' else 'no study records')}{escape(': ' + names if names else '')}</title></rect>"
            )
            out.append(_text(x + cell_w / 2, y + 17, short, size=SMALL, anchor="middle", fill=ink))
    for k, (css, label) in enumerate(LEGEND):
        fill, ink, short = EVIDENCE_STYLE[css]
        x, y = 10 + (k % 3) * 300, legend_top + (k // 3) * 24
        out.append(f"<rect x='{x}' y='{y}' width='64' height='20' fill='{fill}' stroke='#bbbbbb'/>")
        out.append(_text(x + 32, y + 15, short, size=SMALL, anchor="middle", fill=ink))
        out.append(_text(x + 72, y + 15, label, size=SMALL))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _year_fraction(value) -> float | None:
    """'2026', '2026-05' or '2026-05-31' as a fractional year."""
    if not value:
        return None
    parts = [int(p) for p in str(value).split("-")]
    return parts[0] + ((parts[1] - 1) / 12 if len(parts) > 1 else 0)


def pipeline_timeline_svg(book: Handbook) -> str:
    trials = book.pipeline()
    rows = []
    for s in trials:
        d = s.data
        start = _year_fraction(d.get("year"))
        end = _year_fraction(d.get("expected_completion"))
        checked = _year_fraction(book.trial_status(s).as_of or d.get("status_checked"))
        rows.append((s, start, end, checked))
    years = [v for _, a, b, c in rows for v in (a, b, c) if v is not None] or [2020.0, 2027.0]
    first, last = int(min(years)), int(max(years)) + 1
    statuses = []
    for s, _start, end, _checked in rows:
        d = s.data
        current = book.trial_status(s)
        status = str(d.get("trial_status", "")).replace("-", " ")
        if end is not None:
            status += f", expected {d['expected_completion']}"
        if current.unconfirmed_since:
            status += f" (not confirmed since {current.unconfirmed_since})"
        elif current.as_of:
            status += f" (as of {current.as_of})"
        statuses.append(status)
    label_w = int(max([_width(s.data.get("acronym") or s.data["title"], TEXT) for s, *_ in rows] + [120])) + 16
    status_w = int(max([_width(text, SMALL) for text in statuses] + [120])) + 16
    row_h, top = 26, 40
    width = max(label_w + 420 + status_w, 900)
    span = width - label_w - status_w - 20
    height = top + row_h * max(len(rows), 1) + 60

    def x_of(year: float) -> float:
        return round(label_w + (year - first) / (last - first) * span, 1)

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        f"role='img' aria-labelledby='tl-title'>",
        "<title id='tl-title'>Trial pipeline: registered trials from start to expected completion, with status</title>",
        f"<rect width='{width}' height='{height}' fill='#ffffff'/>",
    ]
    for year in range(first, last + 1):
        x = x_of(year)
        out.append(f"<line x1='{x}' y1='{top - 10}' x2='{x}' y2='{height - 45}' stroke='#e0e0e0'/>")
        out.append(_text(x, top - 16, year, size=SMALL, anchor="middle", fill="#555555"))
    for i, (s, start, end, checked) in enumerate(rows):
        d = s.data
        y = top + i * row_h
        colour = STATUS_COLOUR.get(d.get("trial_status"), "#555555")
        name = d.get("acronym") or d["title"]
        out.append(_text(label_w - 8, y + 17, name, size=TEXT, anchor="end"))
        out.append(_text(width - status_w, y + 17, statuses[i], size=SMALL, fill=colour))
        begin = start if start is not None else checked
        if begin is None:
            continue
        finish = end if end is not None else checked if checked is not None else begin
        x1, x2 = x_of(begin), x_of(max(finish, begin))
        dash = "" if end is not None else " stroke-dasharray='4 3'"
        out.append(f"<line x1='{x1}' y1='{y + 13}' x2='{x2}' y2='{y + 13}' stroke='{colour}' stroke-width='7'{dash}/>")
    out.append(
        _text(10, height - 25, "Solid bar: start to expected completion. Dashed: start to the date the status refers to.", size=SMALL)
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def figure_files(book: Handbook) -> dict[str, str]:
    return {
        "views/evidence-map.svg": evidence_map_svg(book),
        "views/pipeline-timeline.svg": pipeline_timeline_svg(book),
    }
