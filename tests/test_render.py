"""Text from records is inert: it can neither inject HTML nor Markdown nor citations."""

from generators.render import md_escape

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "![x](http://evil.example/x.png)",
    "**bold** _em_ `code`",
    "[@fixture2020] \\bibliography",
    "{: onclick=alert(1) }",
    "# heading",
    "1. list",
    "- item",
    "| a | b |",
]


def test_escaped_text_has_no_markup_characters_left():
    for attack in ATTACKS:
        escaped = md_escape(attack)
        for char in "<>[]`*_|\\@{}#":
            assert char not in escaped.replace("&#", ""), (attack, escaped)


def test_escaping_keeps_ordinary_clinical_text_readable():
    text = "IVIG 2.0 g/kg (every 4 weeks) improved TIS ≥20: 79% vs 44%, P<0.001."
    assert md_escape(text) == "IVIG 2.0 g/kg (every 4 weeks) improved TIS ≥20: 79% vs 44%, P&#60;0.001."


def test_line_breaks_cannot_start_blocks():
    assert "\n" not in md_escape("first\n\n# second\n    code")


def test_every_kind_of_whitespace_is_seen():
    """md_escape's quick check names the whitespace characters itself; none may pass through unchanged
    (each becomes a space between words, or is dropped as a control character)."""
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace() and c != 0x20]
    assert len(spaces) > 20
    for space in spaces:
        for text in (f"dose{space}10 mg", f"dose{space}{space}10 mg", f"{space}dose"):
            escaped = md_escape(text)
            assert space not in escaped and escaped in ("dose 10 mg", "dose10 mg", "dose"), repr(space)
