"""The generated ward/street lookup tables are current and well-formed."""

from __future__ import annotations

from pathlib import Path

import yaml

from nlu.tools import gen_lookups

LOOKUP_DIR = Path(gen_lookups.__file__).resolve().parents[1] / "data" / "lookups"


def test_variants():
    assert gen_lookups.variants("Hòa Khánh") == ["hòa khánh", "hoa khanh"]
    assert gen_lookups.variants("Pasteur") == ["pasteur"]


def test_da_nang_has_94_wards():
    wards = gen_lookups.load_wards()
    assert len(wards) == 94
    assert {"Hải Châu", "Hòa Khánh", "Sơn Trà", "Hội An"} <= set(wards)


def test_committed_files_match_the_generator(tmp_path):
    assert gen_lookups.main(["--out", str(tmp_path)]) == 0
    for name in ("ward.yml", "street.yml"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (LOOKUP_DIR / name).read_text(
            encoding="utf-8"
        ), f"nlu/data/lookups/{name} is stale: run python -m nlu.tools.gen_lookups"


def test_lookup_structure():
    doc = yaml.safe_load((LOOKUP_DIR / "ward.yml").read_text(encoding="utf-8"))
    lookup = next(item for item in doc["nlu"] if item.get("lookup") == "ward")
    elements = [line[2:] for line in lookup["examples"].splitlines() if line.startswith("- ")]
    # Longest first, so that "hội an tây" is matched before "hội an".
    assert elements.index("hội an tây") < elements.index("hội an")
    synonyms = {item["synonym"] for item in doc["nlu"] if "synonym" in item}
    assert len(synonyms) == 94

    streets = yaml.safe_load((LOOKUP_DIR / "street.yml").read_text(encoding="utf-8"))
    street_names = {item["synonym"] for item in streets["nlu"] if "synonym" in item}
    assert len(street_names) >= 95
    assert "Nguyễn Văn Linh" in street_names
    assert not street_names & synonyms  # a name is a ward or a street, never both
