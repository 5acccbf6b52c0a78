"""The benchmark's synthetic evidence sets are valid handbooks of the size asked for."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from synthetic import check_set, make_set  # noqa: E402


def test_a_synthetic_set_has_the_size_asked_for_and_validates(tmp_path):
    project = make_set(300, tmp_path / "set")
    records = list((project / "evidence").rglob("*.yaml"))
    assert len(records) == 300
    assert check_set(project) == []
    # copies keep realistic citation counts: the bibliography grows with the records
    assert (project / "references.bib").read_text().count("@article{") > 100
