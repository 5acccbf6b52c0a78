"""`python -m generators new` writes a commented, schema-valid template."""

import pytest
from conftest import ROOT, run

from generators.load import KINDS, parse_yaml
from generators.scaffold import ScaffoldError, template_text, write_template
from generators.validate import validator_for


@pytest.mark.parametrize("kind", KINDS)
def test_template_is_schema_valid_and_commented(kind):
    text = template_text(kind, "new-record")
    data, _, problems = parse_yaml(text, "x.yaml")
    assert not problems
    assert list(validator_for(kind).iter_errors(data)) == []
    assert text.count("# ") > 10


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
