"""Generate the `ward` and `street` lookup tables (and their synonyms) under nlu/data/lookups/.

One province at a time (`--province CODE`, default 48, Đà Nẵng):

- wards: the `name` of every commune/ward in the province's boundary file (`--boundaries
  FILE`, GeoJSON or .gz, the file `flask geo import` reads); without a file, the short
  names of the `vietnamadminunits` package's sqlite dataset (a bare machine has no
  boundary file, and the committed tables of 48 come from it);
- streets: the names of `config/provinces/<code>/streets.csv` (the gazetteer's streets)
  and of `config/provinces/<code>/street_names.txt` (one official name per line, `#`
  comments: streets to recognise whose point is not known).

Each name is written in its normalised form and without diacritics, longest first so that
"Hội An Tây" wins over "Hội An", with a synonym entry mapping every form back to the
official name. A street named like a ward of the province is left out (kept a ward).
`write_lookups` is the same writer for callers that already have the names (the Flask
side, from the database's imported units).

Run from the repository root with the app's virtualenv:
    python -m nlu.tools.gen_lookups [--province CODE] [--boundaries FILE] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from nlu.normalize import normalize, strip_diacritics

PROVINCE_CODE = "48"  # Thành phố Đà Nẵng, the demo province
ROOT = Path(__file__).resolve().parents[2]
PROVINCES_DIR = ROOT / "config" / "provinces"
LOOKUP_DIR = ROOT / "nlu" / "data" / "lookups"
STREETS_CSV = "streets.csv"
STREET_NAMES_TXT = "street_names.txt"


# --------------------------------------------------------------------------- wards


def dataset_path() -> Path:
    """Path of the sqlite file shipped inside the vietnamadminunits package."""
    import vietnamadminunits

    return Path(vietnamadminunits.__file__).resolve().parent / "data" / "dataset.db"


def load_wards(province_code: str = PROVINCE_CODE) -> list[str]:
    """Short names of the communes and wards of a province in the package's dataset, by code."""
    with sqlite3.connect(dataset_path()) as conn:
        rows = conn.execute(
            "SELECT wardShort FROM admin_units WHERE provinceCode = ? ORDER BY wardCode",
            (province_code,),
        ).fetchall()
    return [row[0] for row in rows]


def wards_from_boundaries(path: str | Path, province_code: str = PROVINCE_CODE) -> list[str]:
    """Names of the province's communes and wards in a boundary file, by code.

    The app's own streaming reader: it parses only the province's features (~2 s for one
    province of the national file). Raises `webapp.errors.ValidationError` on a bad file.
    """
    from webapp.services.geography.geojson_reader import read_units_geojson

    units = read_units_geojson(path, province_code=province_code)
    return [unit.name for unit in sorted(units, key=lambda u: u.code)]


# --------------------------------------------------------------------------- streets


def province_dir(province_code: str, provinces_dir: Path = PROVINCES_DIR) -> Path:
    """The folder of what a province edits: config/provinces/<code>/."""
    return provinces_dir / province_code


def load_street_names(province_code: str, provinces_dir: Path = PROVINCES_DIR) -> list[str]:
    """Street names of a province: streets.csv's `name` column, then street_names.txt.

    Either file may be missing. Duplicates (a street on several rows of the CSV, or in
    both files) are kept once, at their first place.
    """
    folder = province_dir(province_code, provinces_dir)
    names: list[str] = []
    csv_path = folder / STREETS_CSV
    if csv_path.is_file():
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            names += [(row.get("name") or "").strip() for row in csv.DictReader(handle)]
    txt_path = folder / STREET_NAMES_TXT
    if txt_path.is_file():
        for line in txt_path.read_text(encoding="utf-8-sig").splitlines():
            names.append(line.split("#", 1)[0].strip())
    return unique_names(names)


def street_source(province_code: str, provinces_dir: Path = PROVINCES_DIR) -> str:
    """The files the street names of a province come from, for the generated header."""
    folder = province_dir(province_code, provinces_dir)
    files = [f for f in (STREETS_CSV, STREET_NAMES_TXT) if (folder / f).is_file()]
    return f"config/provinces/{province_code}/" + (" + ".join(files) or "(no street file)")


# --------------------------------------------------------------------------- rendering


def variants(name: str) -> list[str]:
    """The forms a resident may type: normalised (accented) and without diacritics."""
    norm = normalize(name)
    forms = [norm, strip_diacritics(norm)]
    return list(dict.fromkeys(forms))


def unique_names(names: Iterable[str]) -> list[str]:
    """The names without blanks and repeats; "Hoà X" repeats "Hòa X" (same normalised form)."""
    seen: set[str] = set()
    out = []
    for name in names:
        name = " ".join(name.split())
        key = normalize(name)
        if name and key not in seen:
            seen.add(key)
            out.append(name)
    return out


def alphabetical(name: str) -> tuple[str, str]:
    """Sort key: Vietnamese letters without tone or vowel marks, with đ after d."""
    return (strip_diacritics(normalize(name).replace("đ", "d\x7f")), name)


def render(entity: str, names: list[str], source: str) -> str:
    """Rasa YAML with one lookup table for `entity` and one synonym entry per name."""
    elements = sorted({v for name in names for v in variants(name)}, key=lambda s: (-len(s), s))
    lines = [
        f"# Generated by nlu/tools/gen_lookups.py from {source}; do not edit by hand.",
        'version: "3.1"',
        "nlu:",
        f"- lookup: {entity}",
        "  examples: |",
    ]
    lines += [f"    - {element}" for element in elements]
    for name in names:
        lines += [f"- synonym: {name}", "  examples: |"]
        lines += [f"    - {form}" for form in variants(name)]
    return "\n".join(lines) + "\n"


def lookup_names(
    ward_names: Iterable[str], street_names: Iterable[str]
) -> tuple[list[str], list[str]]:
    """The wards (in the order given) and streets (alphabetical) the tables list.

    A street named like a ward (Núi Thành in Đà Nẵng, Hai Bà Trưng in Hà Nội) would be
    tagged twice: it stays a ward, as the gazetteer reads a bare unit name.
    """
    wards = unique_names(ward_names)
    ward_forms = {v for ward in wards for v in variants(ward)}
    streets = [s for s in unique_names(street_names) if not set(variants(s)) & ward_forms]
    return wards, sorted(streets, key=alphabetical)


def write_lookups(
    out_dir: str | Path,
    ward_names: Iterable[str],
    street_names: Iterable[str],
    source_label: str,
    street_label: str = "a list of streets",
) -> tuple[list[str], list[str]]:
    """Write ward.yml and street.yml into out_dir; returns the wards and streets written.

    `source_label` and `street_label` say where the names came from (the header comment).
    Raises ValueError when there is no ward: an empty table means a wrong province code.
    """
    wards, streets = lookup_names(ward_names, street_names)
    if not wards:
        raise ValueError(f"no commune/ward names from {source_label}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ward.yml").write_text(render("ward", wards, source_label), encoding="utf-8")
    (out / "street.yml").write_text(render("street", streets, street_label), encoding="utf-8")
    return wards, streets


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """Write ward.yml and street.yml for one province."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", default=PROVINCE_CODE, help="2-digit code (default 48)")
    parser.add_argument(
        "--boundaries",
        type=Path,
        default=None,
        help="GeoJSON (.geojson or .gz) with the wards; default: the vietnamadminunits dataset",
    )
    parser.add_argument("--out", type=Path, default=LOOKUP_DIR)
    args = parser.parse_args(argv)
    code = args.province.strip().zfill(2)
    if not code.isdigit() or len(code) != 2:
        parser.error(f"--province must be a 2-digit code, not {args.province!r}")
    if args.boundaries is not None:
        from webapp.errors import ValidationError

        try:
            wards = wards_from_boundaries(args.boundaries, code)
        except ValidationError as exc:  # a missing or malformed file: say which
            parser.error(str(exc))
        ward_source = f"{args.boundaries.name} (province_code {code})"
    else:
        wards = load_wards(code)
        ward_source = f"vietnamadminunits (admin_units, provinceCode {code})"
    if not wards:
        parser.error(f"no commune/ward of province {code} in {ward_source}")
    streets = load_street_names(code)
    wards, streets = write_lookups(args.out, wards, streets, ward_source, street_source(code))
    print(f"{len(wards)} wards, {len(streets)} streets -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
