"""Reading records: every unreadable file is named with its line and a fix."""

from conftest import edit, validate


def write(project, rel, content):
    path = project / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)


def problems_of(project):
    result = validate(project)
    assert result.returncode == 1, result.stdout
    return result.stderr


def test_duplicate_key_in_a_mapping_is_reported_with_both_lines(project):
    write(project, "evidence/therapy/dup.yaml", "schema_version: 3\nid: dup\ntitle: A\ntitle: B\n")
    out = problems_of(project)
    assert "evidence/therapy/dup.yaml:4: title: this field appears twice in the same block (first on line 3)" in out


def test_tab_indentation_is_explained(project):
    write(project, "evidence/therapy/tabs.yaml", "schema_version: 3\nid: tabs\naliases:\n\t- x\n")
    assert "evidence/therapy/tabs.yaml:4: a tab character is used for indentation" in problems_of(project)


def test_yaml_syntax_error_names_the_line(project):
    write(project, "evidence/therapy/broken.yaml", "schema_version: 3\nid: broken\ntitle: [unclosed\nsummary: x\n")
    out = problems_of(project)
    assert "evidence/therapy/broken.yaml:" in out and "this is not valid YAML" in out


def test_aliases_are_refused_before_they_expand(project):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    write(project, "evidence/therapy/bomb.yaml", bomb)
    assert "evidence/therapy/bomb.yaml:1: YAML anchors and aliases" in problems_of(project)


def test_empty_binary_and_non_utf8_files(project):
    write(project, "evidence/therapy/empty.yaml", "")
    write(project, "evidence/therapy/binary.yaml", b"id: x\n\x00\x01")
    write(project, "evidence/therapy/latin1.yaml", "id: caf\xe9\n".encode("latin-1"))
    out = problems_of(project)
    assert "evidence/therapy/empty.yaml:1: the file is empty" in out
    assert "evidence/therapy/binary.yaml:2: the file is binary" in out
    assert "evidence/therapy/latin1.yaml:1: the file is not UTF-8 text" in out


def test_very_large_file_is_refused(project):
    write(project, "evidence/therapy/huge.yaml", "summary: " + "x" * 300_000 + "\n")
    assert "evidence/therapy/huge.yaml:1: the file is 300,010 bytes" in problems_of(project)


def test_misplaced_files_are_reported(project):
    write(project, "evidence/therapies/ivig2.yaml", "id: ivig2\n")
    write(project, "evidence/therapy/notes.yml", "id: notes\n")
    out = problems_of(project)
    assert "evidence/therapies/ivig2.yaml:1: records belong in evidence/<kind>/<id>.yaml" in out
    assert "evidence/therapy/notes.yml:1: a record file must end in .yaml" in out


def test_bibliography_duplicate_key_and_syntax_error(project):
    bib = (project / "references.bib").read_text()
    (project / "references.bib").write_text(bib + "\n@article{fixture2020,\n  title = {Again}, year = {2020}\n}\n")
    assert "references.bib:22: fixture2020: this key is used twice (first on line 1)" in problems_of(project)
    (project / "references.bib").write_text(bib + "\n@article{broken2020,\n  title = {Unclosed,\n")
    assert "references.bib:" in problems_of(project) and "BibTeX syntax error" in problems_of(project)


def test_a_large_bibliography_is_parsed_apart_to_the_same_result_and_the_same_problems(project):
    """references.bib above APART_BYTES is parsed in a child process while the records are read."""
    from conftest import ROOT, run

    from generators.load import APART_BYTES

    path = project / "references.bib"
    bib = path.read_text()
    padding = "@comment{" + "padding " * (APART_BYTES // 8 + 1) + "}\n"
    path.write_text(padding + bib)
    code = (
        "import sys; from pathlib import Path; from generators import load; text = Path(sys.argv[1]).read_text();"
        "apart = load.bibliography_started(Path(sys.argv[1]), Path(sys.argv[1]).parent)();"
        "here = load.parse_bibliography(text, 'references.bib');"
        "print(load._plain(apart) == load._plain(here), len(here[0].entries), apart[1] == here[1] == [])"
    )
    result = run(["-c", code, str(path)], ROOT)
    assert result.returncode == 0 and result.stdout.split() == ["True", str(bib.count("@")), "True"], result.stdout + result.stderr
    path.write_text(padding + bib + "\n@article{fixture2020,\n  title = {Again}, year = {2020}\n}\n")
    assert "references.bib:23: fixture2020: this key is used twice (first on line 2)" in problems_of(project)


# --- the parse cache (.cache/parsed.marshal) ------------------------------------------------


def pages(project):
    from conftest import run

    result = run(["-m", "generators", "--root", str(project), "build"], project)
    assert result.returncode == 0, result.stderr
    return (project / "build" / "docs" / "studies" / "fixture-trial.md").read_text(encoding="utf-8")


def built_files(project) -> dict[str, bytes]:
    out = project / "build"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_build_that_passes_leaves_a_parse_cache_and_a_rebuild_reads_the_same_pages(project):
    first = pages(project)
    cache = project / ".cache" / "parsed.marshal"
    assert cache.is_file()
    saved = cache.stat().st_mtime_ns
    assert pages(project) == first
    assert cache.stat().st_mtime_ns == saved  # nothing new parsed: the file is not rewritten


def test_a_build_from_the_cache_writes_what_parsing_wrote_author_names_and_cite_files_included(project):
    pages(project)  # parses everything, leaves the cache
    parsed = built_files(project)
    assert "Fixture A, Example B" in parsed["docs/references/f.md"].decode()  # names split into surname and initials
    pages(project)  # reads the cache
    assert built_files(project) == parsed


def test_an_edited_record_and_bibliography_are_read_anew_not_from_the_cache(project):
    assert "Fixture randomised trial of IVIG" in pages(project)
    edit(project, "evidence/study/fixture-trial.yaml", "title: Fixture randomised trial of IVIG", "title: Edited trial title")
    edit(project, "references.bib", "title = {A fixture randomised trial}", "title = {An edited reference title}")
    page = pages(project)
    assert "Edited trial title" in page and "Fixture randomised trial of IVIG" not in page
    references = "".join(p.read_text(encoding="utf-8") for p in (project / "build" / "docs" / "references").glob("*.md"))
    assert "An edited reference title" in references and "A fixture randomised trial" not in references


def test_a_record_broken_after_a_cached_build_is_reported_with_its_line(project):
    pages(project)
    edit(project, "evidence/study/fixture-trial.yaml", "title: Fixture randomised trial of IVIG", "title: [unclosed")
    out = problems_of(project)
    assert "evidence/study/fixture-trial.yaml:" in out and "this is not valid YAML" in out, out


def test_an_unreadable_cache_is_ignored(project):
    first = pages(project)
    (project / ".cache" / "parsed.marshal").write_bytes(b"not the cache")
    assert pages(project) == first
    assert (project / ".cache" / "parsed.marshal").read_bytes() != b"not the cache"  # written anew
