"""Citations on the site: `[@key]` and `[@a; @b]` become numbered footnotes, page by page.

Python-Markdown's `footnotes` extension numbers them in order of first citation and lists the
references at the foot of the page, each as our formatter writes it (reference_markdown: the
same text as the reference pages and the PDF). Any site generator that reads Markdown footnotes
shows them; no plugin is involved. The PDF numbers citations across the whole book itself
(generators/pdf.py) and reads the pages before this step.
"""

from __future__ import annotations

import re

from .problems import Problem

KEY = r"[\w:.+/-]+"
CITATION = re.compile(rf"\[(@{KEY}(?:\s*;\s*@{KEY})*)\]")
# Code is shown as written: fenced blocks and inline code spans are left alone.
_CODE = re.compile(r"^(```|~~~).*?^\1[ \t]*$|`[^`\n]+`", re.S | re.M)
# Adjacent footnote marks would read as one number (1 and 2 as "12"): a superscript comma between.
SEPARATOR = '<sup class="cite-sep">,</sup>'


def footnote_citations(text: str, reference, known=None, where: str = "") -> tuple[str, list[Problem]]:
    """The page with its citations as footnotes and their references at its end.

    `reference(key)` gives a reference's Markdown; `known` (a set of keys), when given, is checked
    and each unknown key is a problem at `where`, line by line."""
    if "[@" not in text:
        return text, []
    code = [(m.start(), m.end()) for m in _CODE.finditer(text)]
    cited: list[str] = []
    problems: list[Problem] = []
    out: list[str] = []
    position = 0
    for match in CITATION.finditer(text):
        if any(start <= match.start() < end for start, end in code):
            continue
        keys = [k.strip().lstrip("@") for k in match.group(1).split(";")]
        unknown = [k for k in keys if known is not None and k not in known]
        if unknown:
            line = text.count("\n", 0, match.start()) + 1
            problems += [Problem(where, line, "", f'cites "{k}", which is not in references.bib') for k in unknown]
            continue
        cited += [key for key in dict.fromkeys(keys) if key not in cited]
        out += [text[position : match.start()], SEPARATOR.join(f"[^{key}]" for key in keys)]
        position = match.end()
    if not cited:
        return text, problems
    out.append(text[position:])
    notes = "\n".join(f"[^{key}]: {reference(key)}" for key in cited)
    return "".join(out).rstrip("\n") + "\n\n" + notes + "\n", problems
