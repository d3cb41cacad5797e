"""`flask nlu lookups` writes the NLU's tables from the units imported in the database and
the province's street lists: the same names as the generator reads from the dataset."""

from __future__ import annotations

import yaml

from nlu.tools import gen_lookups


def _synonyms(path):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {item["synonym"] for item in doc["nlu"] if "synonym" in item}


def test_lookups_from_the_imported_units(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["nlu", "lookups", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("94 wards, ")
    wards = _synonyms(tmp_path / "ward.yml")
    assert len(wards) == 94 and {"Hải Châu", "Sơn Trà", "Hội An Tây"} <= wards
    streets = _synonyms(tmp_path / "street.yml")
    assert streets == _synonyms(gen_lookups.LOOKUP_DIR / "street.yml")
    assert "imported units of province 48" in (tmp_path / "ward.yml").read_text("utf-8")


def test_no_units_is_a_clear_error(app, tmp_path):
    app.config["PROVINCE_CODE"] = "99"
    try:
        result = app.test_cli_runner().invoke(args=["nlu", "lookups", "--out", str(tmp_path)])
    finally:
        app.config["PROVINCE_CODE"] = "48"
    assert result.exit_code != 0
    assert "No communes/wards for province 99" in result.output
    assert not (tmp_path / "ward.yml").exists()
