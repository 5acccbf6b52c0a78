"""Schema problems are explained in plain words at their line, all in one run."""

from pathlib import Path

from conftest import edit, validate


def test_wrong_type_names_field_line_and_value(project):
    edit(project, "evidence/study/fixture-trial.yaml", "n: 95", 'n: "ninety-five"')
    out = validate(project).stderr
    assert 'evidence/study/fixture-trial.yaml:13: n: expected a whole number (participants), got "ninety-five"' in out


def test_missing_required_field_and_unknown_field_with_hint(project):
    edit(project, "evidence/therapy/ivig.yaml", "drug_class: Immunoglobulin\n", "drug_clas: Immunoglobulin\n")
    out = validate(project).stderr
    assert "evidence/therapy/ivig.yaml:1: drug_class: this required field is missing" in out
    assert "evidence/therapy/ivig.yaml:8: drug_clas: this field is not part of the record format (did you mean drug_class?)" in out


def test_enum_value_suggests_the_close_one(project):
    edit(project, "evidence/study/fixture-trial.yaml", "design: randomised-controlled", "design: randomized-controlled")
    out = validate(project).stderr
    assert 'design: "randomized-controlled" is not one of the allowed values' in out
    assert "did you mean randomised-controlled?" in out


def test_every_problem_reported_at_once_sorted_by_file_and_line(project):
    edit(project, "evidence/study/fixture-trial.yaml", "n: 95", "n: many")
    edit(project, "evidence/therapy/ivig.yaml", "place_in_treatment: [refractory]", "place_in_treatment: [sometimes]")
    edit(project, "evidence/subtype/dermatomyositis.yaml", "last_reviewed: 2026-01-15", "last_reviewed: 15/01/2026")
    result = validate(project)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("evidence/")]
    assert [line.split(":")[0] for line in lines] == sorted(line.split(":")[0] for line in lines)
    assert len(lines) == 3
    assert result.stderr.startswith("The handbook was not built: 3 problems")


def test_valid_fixture_passes(project):
    result = validate(project)
    assert result.returncode == 0, result.stderr
    assert "All records are valid" in result.stdout


def test_a_record_with_a_type_error_still_gets_its_citations_and_links_checked(project):
    """The contributor's three typical mistakes come back in one run, sorted by line."""
    edit(project, "evidence/study/fixture-trial.yaml", "n: 95", "n: ninety-five")
    edit(project, "evidence/study/fixture-trial.yaml", "citations: [trialist2021]", "citations: [trialist2012]")
    edit(project, "evidence/study/fixture-trial.yaml", "therapies: [ivig]", "therapies: [ivg]")
    result = validate(project)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("evidence/")]
    assert lines == [
        'evidence/study/fixture-trial.yaml:6: citations[0]: cites "trialist2012", which is not in references.bib '
        "(did you mean trialist2021?)",
        'evidence/study/fixture-trial.yaml:13: n: expected a whole number (participants), got "ninety-five"',
        'evidence/study/fixture-trial.yaml:20: therapies[0]: there is no therapy record with id "ivg" (did you mean ivig?)',
    ]


def test_the_fast_schema_check_agrees_with_the_explaining_one():
    """jsonschema-rs decides whether a record is valid; only when it says no does Python's
    jsonschema explain why. A record it passes that the other rejects would slip through."""
    import itertools
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from generators.load import load_records
    from generators.validate import fast_validator_for, validator_for

    records, _ = load_records(Path(__file__).resolve().parent.parent)
    samples = [r for _, group in itertools.groupby(sorted(records, key=lambda r: r.kind), key=lambda r: r.kind) for r in list(group)[:3]]
    wrong_values = [None, "text", 12, 1.5, True, [], ["text"], {}, {"unknown": 1}, "2026-13-45", "Not An Id"]
    checked = 0
    for record in samples:
        variants = [record.data] + [{**record.data, field: value} for field in record.data for value in wrong_values]
        variants += [{k: v for k, v in record.data.items() if k != field} for field in record.data]
        for data in variants:
            explained_valid = not any(True for _ in validator_for(record.kind).iter_errors(data))
            assert fast_validator_for(record.kind).is_valid(data) == explained_valid, (record.path, data)
            checked += 1
    assert checked > 2000
