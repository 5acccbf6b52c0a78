"""The real handbook: valid, complete and built."""

from conftest import ROOT, validate

from generators.model import build_model


def test_the_handbook_validates():
    result = validate(ROOT)
    assert result.returncode == 0, result.stderr


def test_every_record_has_a_page(handbook_site):
    book = build_model(ROOT)
    for record in book.records:
        if record.kind == "recommendation":
            continue
        page = book.page(record).removesuffix(".md")
        assert (handbook_site / page / "index.html").exists(), page
