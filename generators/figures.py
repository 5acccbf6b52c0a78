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
    "rct-pending": ("#fff1c9", "#4d3a00", "RCT …"),
    "non-randomised-controlled": ("#dde8fb", "#12305e", "Ctrl"),
    "single-arm-trial": ("#e7e3f7", "#2b1f5c", "Uncontr."),
    "observational": ("#eeeeee", "#222222", "Obs."),
    "case-series": ("#eeeeee", "#222222", "Cases"),
    "none": ("#ffffff", "#777777", "—"),
}
LEGEND = [
    ("rct-positive", "Randomised, positive"),
    ("rct-negative", "Randomised, negative"),
    ("rct-mixed", "Randomised, mixed"),
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
    "enrolling-by-invitation": "#00838f",
    "completed": "#555555",
    "terminated": "#c62828",
    "withdrawn": "#c62828",
    "suspended": "#ef6c00",
}


def _text(x, y, content, size=11, anchor="start", weight="normal", fill="#222222", extra="") -> str:
    return (
        f"<text x='{x}' y='{y}' font-size='{size}' text-anchor='{anchor}' font-weight='{weight}' "
        f"fill='{fill}' {FONT}{extra}>{escape(str(content))}</text>"
    )


def _css(ev: Evidence) -> str:
    return ev.css if ev.design != "none" else "none"


def evidence_map_svg(book: Handbook) -> str:
    therapies, subtypes = book.kind("therapy"), book.kind("subtype")
    label_w, cell_w, cell_h, head_h = 230, 78, 20, 175
    width = label_w + cell_w * len(subtypes) + 10
    legend_top = head_h + cell_h * len(therapies) + 20
    height = legend_top + 20 * ((len(LEGEND) + 2) // 3) + 10
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        f"role='img' aria-labelledby='em-title'>",
        "<title id='em-title'>Evidence map: best available evidence for each therapy in each subtype</title>",
        f"<rect width='{width}' height='{height}' fill='#ffffff'/>",
    ]
    for j, subtype in enumerate(subtypes):
        x = label_w + j * cell_w + cell_w / 2
        out.append(_text(x, head_h - 6, subtype.data["title"], size=10, weight="bold", extra=f" transform='rotate(-40 {x} {head_h - 6})'"))
    for i, therapy in enumerate(therapies):
        y = head_h + i * cell_h
        out.append(_text(label_w - 6, y + 14, therapy.data["title"][:40], size=10, anchor="end"))
        for j, subtype in enumerate(subtypes):
            ev = book.evidence(therapy.id, subtype.id)
            fill, ink, short = EVIDENCE_STYLE[_css(ev)]
            x = label_w + j * cell_w
            names = ", ".join(s.data.get("acronym") or s.id for s in ev.studies)
            out.append(
                f"<rect x='{x + 1}' y='{y + 1}' width='{cell_w - 2}' height='{cell_h - 2}' fill='{fill}' stroke='#bbbbbb'>"
                f"<title>{escape(therapy.data['title'])} in {escape(subtype.data['title'])}: "
                f"{escape(ev.label if ev.design != 'none' else 'no study records')}{escape(': ' + names if names else '')}</title></rect>"
            )
            out.append(_text(x + cell_w / 2, y + 14, short, size=9.5, anchor="middle", fill=ink))
    for k, (css, label) in enumerate(LEGEND):
        fill, ink, short = EVIDENCE_STYLE[css]
        x, y = 10 + (k % 3) * 250, legend_top + (k // 3) * 20
        out.append(f"<rect x='{x}' y='{y}' width='52' height='16' fill='{fill}' stroke='#bbbbbb'/>")
        out.append(_text(x + 26, y + 12, short, size=9.5, anchor="middle", fill=ink))
        out.append(_text(x + 58, y + 12, label, size=10))
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
        checked = _year_fraction(d.get("status_checked"))
        rows.append((s, start, end, checked))
    years = [v for _, a, b, c in rows for v in (a, b, c) if v is not None] or [2020.0, 2027.0]
    first, last = int(min(years)), int(max(years)) + 1
    label_w, row_h, top, width, status_w = 250, 22, 40, 1000, 230
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
        out.append(_text(x, top - 16, year, size=10, anchor="middle", fill="#555555"))
    for i, (s, start, end, checked) in enumerate(rows):
        d = s.data
        y = top + i * row_h
        colour = STATUS_COLOUR.get(d.get("trial_status"), "#555555")
        name = d.get("acronym") or d["title"]
        out.append(_text(label_w - 8, y + 14, name[:38], size=10, anchor="end"))
        status = str(d.get("trial_status", "")).replace("-", " ")
        if end is not None:
            status += f", expected {d['expected_completion']}"
        if d.get("status_checked"):
            status += f" (checked {d['status_checked']})"
        out.append(_text(width - status_w, y + 14, status, size=9, fill=colour))
        begin = start if start is not None else checked
        if begin is None:
            continue
        finish = end if end is not None else checked if checked is not None else begin
        x1, x2 = x_of(begin), x_of(max(finish, begin))
        dash = "" if end is not None else " stroke-dasharray='4 3'"
        out.append(f"<line x1='{x1}' y1='{y + 10}' x2='{x2}' y2='{y + 10}' stroke='{colour}' stroke-width='6'{dash}/>")
    out.append(
        _text(10, height - 25, "Solid bar: start to expected completion. Dashed: start to the date the status was checked.", size=10)
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def figure_files(book: Handbook) -> dict[str, str]:
    return {
        "views/evidence-map.svg": evidence_map_svg(book),
        "views/pipeline-timeline.svg": pipeline_timeline_svg(book),
    }
