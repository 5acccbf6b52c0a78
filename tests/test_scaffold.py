"""`python -m generators new` writes a commented template that validation refuses until it is filled."""

import re

import pytest
import yaml
from conftest import FIXTURE, ROOT, run, validate

from generators.load import KINDS, parse_yaml
from generators.scaffold import ScaffoldError, template_text, write_template
from generators.validate import _resolve, schema_for

AUTOMATIC = {"id", "schema_version", "last_reviewed"}  # filled in by the template itself


def placeholder_lines(text: str) -> dict[str, int]:
    """field -> line number of each placeholder the template holds."""
    return {m.group(1): n for n, line in enumerate(text.split("\n"), start=1) if (m := re.match(r'^(\w+): "REPLACE:', line))}


@pytest.mark.parametrize("kind", KINDS)
def test_template_explains_every_field_with_an_example_of_its_kind(kind):
    text = template_text(kind, "new-record")
    data, _, problems = parse_yaml(text, "x.yaml")
    assert not problems
    schema = schema_for(kind)
    required = set(schema["required"])
    assert set(placeholder_lines(text)) == required - AUTOMATIC
    assert data["id"] == "new-record" and data["schema_version"] == 3
    lines = text.split("\n")
    for name, prop in schema["properties"].items():
        prop = _resolve(prop)
        field_line = next(i for i, line in enumerate(lines) if re.match(rf"^(# )?{name}:", line))
        # The comment block above the field: its title, and for a required field an example.
        block = "\n".join(lines[max(i for i in range(field_line) if lines[i] == "") : field_line])
        assert f"# {prop['title']}:" in block, (kind, name)
        if name in required - AUTOMATIC:
            assert "# Example:" in block, (kind, name)
        elif name not in required:
            assert lines[field_line].startswith(f"# {name}:"), (kind, name)  # optional: commented out
    # Examples of this kind, not another's: the title example comes from a record of the kind.
    title_example = _resolve(schema["properties"]["title"])["examples"][0]
    assert title_example in {r["title"] for r in load_records(ROOT, kind)}


def load_records(root, kind) -> list[dict]:
    return [parse_yaml(p.read_text(encoding="utf-8"), str(p))[0] for p in sorted((root / "evidence" / kind).glob("*.yaml"))]


@pytest.mark.parametrize("kind", KINDS)
def test_unfilled_template_is_refused_then_filled_it_validates(kind, project):
    path = write_template(project, kind, "new-record")
    text = path.read_text(encoding="utf-8")
    result = validate(project)
    assert result.returncode == 1, result.stdout
    mine = [line for line in result.stderr.splitlines() if line.startswith(f"evidence/{kind}/new-record.yaml:")]
    expected = {
        f"evidence/{kind}/new-record.yaml:{line}: {name}: replace the placeholder with the {_resolve(schema_for(kind)['properties'][name])['title'].lower()} of this record"
        for name, line in placeholder_lines(text).items()
    }
    assert expected <= {line.split(" (")[0] for line in mine}, result.stderr
    # One message per placeholder: nothing else about those fields (a rule may still ask for an
    # optional field, e.g. a recommendation's subtypes or therapies).
    for line in mine:
        field = line.split(": ")[1]
        if field in placeholder_lines(text):
            assert "replace the placeholder" in line and "the comment above it explains the field" in line, line

    # Filled with the values of the fixture record of the same kind, it validates. (The optional
    # fields it has too: rules ask for some, e.g. a completed study's results.)
    fixture = load_records(FIXTURE, kind)[0]
    filled = []
    for line in text.split("\n"):
        match = re.match(r'^(\w+): "REPLACE:', line)
        filled.append(yaml.safe_dump({match.group(1): fixture[match.group(1)]}, sort_keys=False).rstrip("\n") if match else line)
    optional = {k: v for k, v in fixture.items() if k not in schema_for(kind)["required"] and k != "no_studies_reason"}
    filled.append(yaml.safe_dump(optional, sort_keys=False) if optional else "")
    if kind == "therapy":  # a rule, not the schema: a therapy no study names says why
        filled.append(f"no_studies_reason: {_resolve(schema_for(kind)['properties']['no_studies_reason'])['examples'][0]!r}")
    path.write_text("\n".join(filled), encoding="utf-8")
    result = validate(project)
    assert result.returncode == 0, result.stderr


def test_unfilled_record_does_not_build(project):
    write_template(project, "therapy", "new-therapy")
    result = run(["-m", "generators", "--root", str(project), "build"], ROOT)
    assert result.returncode == 1
    assert "evidence/therapy/new-therapy.yaml:" in result.stderr and "replace the placeholder" in result.stderr
    assert not (project / "build").exists()


def test_refuses_existing_and_malformed_ids(tmp_path):
    (tmp_path / "evidence/therapy").mkdir(parents=True)
    (tmp_path / "evidence/therapy/ivig.yaml").write_text("id: ivig\n")
    with pytest.raises(ScaffoldError, match="taken by evidence/therapy/ivig.yaml"):
        write_template(tmp_path, "study", "ivig")
    with pytest.raises(ScaffoldError, match="not a valid id"):
        write_template(tmp_path, "study", "My Trial")
    with pytest.raises(ScaffoldError, match="unknown kind"):
        write_template(tmp_path, "trial", "x")


def test_command_line(tmp_path):
    (tmp_path / "evidence").mkdir()
    result = run(["-m", "generators", "--root", str(tmp_path), "new", "study", "my-trial"], ROOT)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "evidence/study/my-trial.yaml").exists()
    assert "make validate" in result.stdout
