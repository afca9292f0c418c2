"""The places data: rebuilt from the two CSV files, loaded and checked at start-up, and searched."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from ivr.app import create_app
from ivr.errors import ContentError
from ivr.places.build import build
from ivr.places.directory import load_directory
from ivr.places.geo import EARTH_RADIUS_KM, haversine_km, zone
from tests.places_fixtures import DATA, FRANCE_SERVICES_CSV, POSTCODES_CSV, places

DIRECTORY = places().directory


def test_the_shipped_data_is_exactly_what_the_build_makes_from_the_two_csv_files(tmp_path):
    report = build(FRANCE_SERVICES_CSV, POSTCODES_CSV, tmp_path, postcodes_date="2020")
    for name in ("france-services.json", "postcodes.json"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
    again = tmp_path / "again"
    build(FRANCE_SERVICES_CSV, POSTCODES_CSV, again, postcodes_date="2020")
    assert (again / "postcodes.json").read_bytes() == (tmp_path / "postcodes.json").read_bytes()
    # The one postcode whose only commune has no position anywhere (Bihorel) is reported.
    assert any("76420" in warning for warning in report.warnings)


def test_every_shipped_file_states_its_source_date_and_licence():
    for name, licence in (("france-services.json", "Licence Ouverte 2.0"), ("postcodes.json", "ODbL")):
        source = json.loads((DATA / name).read_text(encoding="utf-8"))["source"]
        assert licence in source["licence"]
        assert source["date"] and source["publisher"] and source["url"] and len(source["sha256"]) == 64


def test_every_postcode_in_the_data_resolves_to_two_places_of_its_own_side_of_the_sea():
    for postcode in DIRECTORY.postcodes:
        found = DIRECTORY.nearest(postcode, 2)
        assert len(found) == 2, postcode.code
        assert all(nearby.zone == postcode.zone for nearby in found)
        assert found[0].km <= found[1].km
        # A swapped or mistyped coordinate would put a postcode far from everything: on the mainland
        # and in Corsica every one has a place within 30 km (French Guiana's interior: up to 103 km).
        if postcode.zone in ("metropole", "corse"):
            assert found[0].km < 30, postcode.code


def test_a_postcode_without_any_located_commune_is_placed_at_its_department_centre():
    bihorel = DIRECTORY.postcode("76420")
    assert bihorel is not None and bihorel.approximate
    assert sum(p.approximate for p in DIRECTORY.postcodes) == 1


def test_the_nearest_places_are_those_a_full_scan_finds_in_the_same_order():
    postcodes = DIRECTORY.postcodes
    sample = [p for p in postcodes if p.zone != "metropole"] + list(postcodes[::25])
    for postcode in sample:
        # Ties (a bus parked at its home place) go to the place listed first.
        scan = sorted(
            (haversine_km(postcode.lat, postcode.lon, p.lat, p.lon), position, p.id)
            for position, p in enumerate(DIRECTORY.places)
            if zone(p.insee) == postcode.zone
        )
        found = DIRECTORY.nearest(postcode, 4)
        assert [p.place.id for p in found] == [pid for _, _, pid in scan[:4]], postcode.code
        assert [round(p.km, 6) for p in found] == [round(km, 6) for km, _, _ in scan[:4]]


def test_the_next_two_follow_the_first_two():
    postcode = DIRECTORY.postcode("23000")
    four = DIRECTORY.nearest(postcode, 4)
    assert DIRECTORY.nearest(postcode, 2, skip=2) == four[2:]


# Hand-checked from the CSV files (La Poste row, ANCT id_fs), distances worked out with the
# flat-earth approximation (Δlat × 111.195 km, Δlon × 111.195 × cos(lat) km), good to 0.05 km here.
HAND_CHECKED = [
    # Paris 11e: La Poste 75111 at 48.85942,2.37874; id_fs 3205 Paris 11ème - Belleville at
    # 48.87080,2.37795: 1.266 km north, 0.058 km west.
    ("75011", "3205", 1.27),
    # Guéret (rural Creuse, 15 communes): centre 46.14740,1.86498; id_fs 3050 La Mallette de
    # Sardent at 46.05155,1.85633: 10.66 km south, 0.67 km west.
    ("23000", "3050", 10.68),
    # Bastia (4 communes: 2B033, 2B305, 2B309, 2B353): centre 42.72150,9.42717; id_fs 2300
    # Bastia - Place d'Armes at 42.69249,9.44976: 3.23 km south, 1.85 km east.
    ("20200", "2300", 3.72),
    # Saint-Denis de La Réunion: La Poste 97411 at -20.93297,55.44687; id_fs 2311 Le Brûlé
    # at -20.90773,55.44306: 2.81 km north, 0.40 km west.
    ("97400", "2311", 2.83),
]


@pytest.mark.parametrize(("code", "place_id", "km"), HAND_CHECKED, ids=[c for c, _, _ in HAND_CHECKED])
def test_hand_checked_postcodes_name_the_place_found_by_hand_first(code, place_id, km):
    first = DIRECTORY.nearest(DIRECTORY.postcode(code), 1)[0]
    assert first.place.id == place_id
    assert first.km == pytest.approx(km, abs=0.05)


def test_a_postcode_of_several_communes_is_measured_from_their_centre():
    bastia = DIRECTORY.postcode("20200")
    assert bastia.communes[0] == "Bastia" and len(bastia.communes) == 4
    assert (bastia.lat, bastia.lon) == pytest.approx((42.721495, 9.427167), abs=1e-6)


def test_corsica_is_answered_with_corsican_places_and_mayotte_with_mayotte_places():
    for code, where in (("20000", "corse"), ("20167", "corse"), ("97600", "976"), ("97150", "978")):
        postcode = DIRECTORY.postcode(code)
        assert postcode.zone == where
        assert {n.zone for n in DIRECTORY.nearest(postcode, 4)} == {where}


@pytest.mark.parametrize("code", ["00000", "98000", "97133", "98714", "99999", "7501"],
                         ids=["00000", "Monaco", "Saint-Barthelemy", "Tahiti", "99999", "four digits"])
def test_a_postcode_the_data_does_not_have_is_not_found(code):
    assert DIRECTORY.postcode(code) is None


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        ((0, 0), (0, 1), 2 * math.pi * EARTH_RADIUS_KM / 360),
        ((0, 0), (90, 0), math.pi * EARTH_RADIUS_KM / 2),
        ((0, 0), (0, 180), math.pi * EARTH_RADIUS_KM),
        ((45, 7), (45, 7), 0.0),
        ((-20.9, 55.4), (-20.9, 55.4 + 360), 0.0),
    ],
    ids=["one degree of equator", "equator to pole", "antipodes", "same point", "longitude wraps"],
)
def test_the_great_circle_distance_matches_the_geometry_of_the_sphere(a, b, km):
    assert haversine_km(*a, *b) == pytest.approx(km, abs=1e-6)
    assert haversine_km(*b, *a) == pytest.approx(km, abs=1e-6)


def test_the_great_circle_distance_matches_the_aviation_formulary_example():
    # Ed Williams' Aviation Formulary: LAX (33°57'N 118°24'W) to JFK (40°38'N 73°47'W) is
    # 0.623585 radians, 2144 nautical miles.
    km = haversine_km(33 + 57 / 60, -(118 + 24 / 60), 40 + 38 / 60, -(73 + 47 / 60))
    assert km / EARTH_RADIUS_KM == pytest.approx(0.623585, abs=1e-6)


def test_paris_to_london_is_about_344_km():
    assert haversine_km(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(344, abs=1)


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    return folder


def edit(path, change):
    record = json.loads(path.read_text(encoding="utf-8"))
    change(record)
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


BREAKAGES = {
    "phone with letters": (
        "france-services.json", lambda d: d["places"][0].update(phone="04 50 AB"),
        ["france-services.json", "places.0.phone", "pattern"],
    ),
    "hours out of order": (
        "france-services.json", lambda d: d["places"][1]["hours"].__setitem__(1, "14:00-16:30 09:00-12:00"),
        ["france-services.json", "places.1.hours", "in order"],
    ),
    "hours not HH:MM": (
        "france-services.json", lambda d: d["places"][2]["hours"].__setitem__(0, "9h-12h"),
        ["france-services.json", "places.2.hours.0", "pattern"],
    ),
    "unknown format": (
        "france-services.json", lambda d: d["places"][3].update(format="Bateau"),
        ["france-services.json", "places.3.format", "Fixe"],
    ),
    "undated list": (
        "france-services.json", lambda d: d["source"].update(date="2024"),
        ["france-services.json", "source", "YYYY-MM-DD"],
    ),
    "latitude beyond the pole": (
        "postcodes.json", lambda d: d["postcodes"]["23000"].__setitem__(0, 123.0),
        ["postcodes.json", "postcodes.23000.0", "less than or equal to 90"],
    ),
    "postcode of four digits": (
        "postcodes.json", lambda d: d["postcodes"].update({"1000": d["postcodes"]["01000"]}),
        ["postcodes.json", "postcodes.1000", "pattern"],
    ),
    "postcode without communes": (
        "postcodes.json", lambda d: d["postcodes"]["23000"].__setitem__(3, []),
        ["postcodes.json", "postcodes.23000.3", "at least 1 item"],
    ),
    "zone without places": (
        "postcodes.json", lambda d: d["postcodes"]["23000"].__setitem__(2, "987"),
        ["postcodes.json", "postcodes.23000.2", "a zone with France Services places"],
    ),
    "approximate postcode not in the file": (
        "postcodes.json", lambda d: d["approximate"].append("98000"),
        ["postcodes.json", "approximate", "98000"],
    ),
    "unknown field": (
        "postcodes.json", lambda d: d.update(population=12),
        ["postcodes.json", "population", "Extra inputs"],
    ),
}


@pytest.mark.parametrize("case", BREAKAGES, ids=str)
def test_a_broken_data_file_stops_start_up_naming_file_field_and_expectation(data, case):
    name, change, fragments = BREAKAGES[case]
    edit(data / name, change)
    with pytest.raises(ContentError) as error:
        create_app({"IVR_PLACES_DATA": str(data)})
    for fragment in fragments:
        assert fragment in str(error.value)
    assert "ivr places build" in str(error.value)


def test_a_missing_data_file_stops_start_up_naming_it(data):
    (data / "postcodes.json").unlink()
    with pytest.raises(ContentError, match=r"postcodes\.json: file: a readable data file"):
        create_app({"IVR_PLACES_DATA": str(data)})


def test_a_data_file_that_is_not_json_stops_start_up(data):
    (data / "france-services.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(ContentError, match=r"france-services\.json: .*JSON"):
        load_directory(data)


def test_the_build_refuses_a_file_without_the_columns_it_needs(tmp_path):
    broken = tmp_path / "france-services-2025-01-01.csv"
    broken.write_text('"id_fs","lib_fs"\n"1","France services X"\n', encoding="utf-8")
    with pytest.raises(ContentError, match=r"france-services-2025-01-01\.csv: header: the columns adresse"):
        build(broken, POSTCODES_CSV, tmp_path / "out", postcodes_date="2020")


def test_the_build_takes_an_unreadable_hours_cell_as_unknown_and_says_so(tmp_path):
    lines = FRANCE_SERVICES_CSV.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace('"13:30 - 17:00"', '"de 13h30 à 17h"', 1)
    newer = tmp_path / "france-services-2025-01-01.csv"
    newer.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = build(newer, POSTCODES_CSV, tmp_path / "out", postcodes_date="2020")
    assert any("row 2 h_lundi" in warning for warning in report.warnings)
    first = json.loads((tmp_path / "out" / "france-services.json").read_text(encoding="utf-8"))
    assert first["source"]["date"] == "2025-01-01"
    assert first["places"][0]["hours"][0] is None


def test_the_build_needs_a_date_for_a_file_whose_name_has_none(tmp_path):
    with pytest.raises(ContentError, match="date"):
        build(FRANCE_SERVICES_CSV, POSTCODES_CSV, tmp_path)
