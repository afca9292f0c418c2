"""What the line says about the places near a postcode, the SMS lines, and `ivr places`."""

from __future__ import annotations

import shutil

import pytest
import yaml

from ivr.app import create_app
from ivr.cli import main
from ivr.engine.reply import Line, PhoneNumber, line
from ivr.errors import ContentError
from ivr.places import say
from ivr.places.directory import Nearby
from ivr.places.geo import zone
from ivr.sms.message import compose
from ivr.sms.segments import measure
from tests.places_fixtures import PROMPTS, catalog, paris, places

CATALOG = catalog()
PLACES = places()
DIRECTORY = PLACES.directory
BY_ID = {p.id: p for p in DIRECTORY.places}
# Prompts stay under 25 words once filled in (issue 8).
MOST_WORDS = 25


def nearby(place_id: str, km: float = 5.0) -> Nearby:
    place = BY_ID[place_id]
    return Nearby(place, km, zone(place.insee))


def heard(lines) -> list[str]:
    return [CATALOG.render(item) for item in lines]


def time_of_day(hour: int, minute: int = 0, prefix: str = "places") -> Line:
    """« 13 heures 30 » spoken, « 13h30 » in the SMS."""
    if not minute:
        return line(f"{prefix}.time", hour=hour)
    return line(f"{prefix}.time_minutes", hour=hour, minutes=f"{minute:02d}" if "sms" in prefix else minute)


def slot(start: tuple[int, int], end: tuple[int, int], prefix: str = "places") -> Line:
    return line(f"{prefix}.slot", start=time_of_day(*start, prefix=prefix),
                end=time_of_day(*end, prefix=prefix))


# France services La Mallette de Sardent (id_fs 3050): Monday 14:30-16:30, Tuesday to Friday
# 09:00-12:00 / 14:30-16:30, closed on Saturday; no appointment.
SARDENT = "3050"
SARDENT_WEEKDAY = (slot((9, 0), (12, 0)), slot((14, 30), (16, 30)))


def said_about(place_id: str, moment: str) -> list[str]:
    return heard(say.describe(nearby(place_id), 1, paris(moment)))


def test_a_place_opening_later_today_gives_todays_hours():
    # 30 November 2026 is a Monday.
    expected = line("places.open_today", slots=(slot((14, 30), (16, 30)),))
    assert CATALOG.render(expected) in said_about(SARDENT, "2026-11-30 10:00")


def test_at_lunch_time_the_whole_day_is_said_with_its_break():
    expected = line("places.open_today", slots=SARDENT_WEEKDAY)
    assert CATALOG.render(expected) in said_about(SARDENT, "2026-12-01 12:30")


def test_after_closing_time_the_caller_hears_it_is_closed_and_opens_tomorrow():
    text = said_about(SARDENT, "2026-12-01 17:00")
    assert CATALOG.render(line("places.closed_today")) in text
    assert CATALOG.render(line("places.opens", day=line("places.tomorrow"), slots=SARDENT_WEEKDAY)) in text


def test_on_a_closed_saturday_the_next_opening_weekday_is_named():
    text = said_about(SARDENT, "2026-12-05 10:00")
    opens = line("places.opens", day=line("places.day.0"), slots=(slot((14, 30), (16, 30)),))
    assert CATALOG.render(line("places.closed_today")) in text
    assert CATALOG.render(opens) in text


def test_on_sunday_monday_is_tomorrow():
    opens = line("places.opens", day=line("places.tomorrow"), slots=(slot((14, 30), (16, 30)),))
    assert CATALOG.render(opens) in said_about(SARDENT, "2026-11-29 11:00")


def test_a_placeholder_day_is_unknown_not_open_all_day_and_the_caller_is_told_to_phone():
    # France services La Poste de Montataire (id_fs 2789): Monday is "00:00 - 00:00" only.
    text = said_about("2789", "2026-11-30 10:00")
    assert CATALOG.render(line("places.hours_unknown")) in text
    assert not any("0 heures" in sentence for sentence in text)
    assert CATALOG.render(line("places.appointment")) in text


def test_a_placeholder_beside_real_hours_is_dropped():
    # France services de Saint-Vaury (id_fs 3015): Monday "00:00 - 00:00 / 13:45 - 16:30".
    expected = line("places.open_today", slots=(slot((13, 45), (16, 30)),))
    assert CATALOG.render(expected) in said_about("3015", "2026-11-30 10:00")


def test_a_place_listed_without_any_hours_is_unknown_every_day():
    # France services Association Ségala Limargue (id_fs 263): every day empty in the list.
    for moment in ("2026-11-30 10:00", "2026-12-05 10:00", "2026-12-06 10:00"):
        text = said_about("263", moment)
        assert CATALOG.render(line("places.hours_unknown")) in text
        assert CATALOG.render(line("places.call_first")) in text


def test_an_overseas_place_is_open_or_closed_by_its_own_clock():
    # Le Brûlé, La Réunion (id_fs 2311), 08:00-12:00 / 13:00-16:00: 13:30 in Paris is 16:30 there.
    assert CATALOG.render(line("places.closed_today")) in said_about("2311", "2026-11-30 13:30")
    today = line("places.open_today", slots=(slot((8, 0), (12, 0)), slot((13, 0), (16, 0))))
    assert CATALOG.render(today) in said_about("2311", "2026-11-30 10:00")


def test_each_place_gives_its_phone_number_twice_in_pairs_of_digits():
    text = said_about(SARDENT, "2026-11-30 10:00")
    phone = PhoneNumber("0555648798")
    assert text[-2:] == heard((line("places.phone", phone=phone), line("places.phone_again", phone=phone)))


def test_a_place_without_a_phone_number_says_so():
    # One of the four rows without a phone: Pimms Médiation Paris (id_fs 942).
    assert CATALOG.render(line("places.no_phone")) in said_about("942", "2026-11-30 10:00")


@pytest.mark.parametrize(
    ("place_id", "key"),
    [("3", "places.bus"), ("75", "places.itinerant"), ("66", "places.multisite")],
    ids=["bus", "itinerant", "multi-site"],
)
def test_a_bus_itinerant_or_multi_site_place_says_so_and_asks_to_phone_first(place_id, key):
    text = said_about(place_id, "2026-11-30 10:00")
    assert CATALOG.render(line(key)) in text
    phone_first = {CATALOG.render(line("places.call_first")), CATALOG.render(line("places.appointment"))}
    assert phone_first & set(text)


def test_appointment_needed_walk_in_and_varying_hours_are_told_apart():
    assert CATALOG.render(line("places.appointment")) in said_about("3015", "2026-11-30 10:00")
    assert CATALOG.render(line("places.walk_in")) in said_about(SARDENT, "2026-11-30 10:00")
    # France services Le Montet (id_fs 11): « Ouvert le premier samedi du mois ».
    assert CATALOG.render(line("places.call_first")) in said_about("11", "2026-11-30 10:00")


@pytest.mark.parametrize(
    ("km", "expected"),
    [(0.4, line("places.distance_near")), (1.3, line("places.distance_one")),
     (10.7, line("places.distance", km=11))],
)
def test_the_distance_is_said_in_whole_kilometres(km, expected):
    assert CATALOG.render(expected) in heard(say.describe(nearby(SARDENT, km), 1, paris("2026-11-30 10:00")))


def test_the_name_is_followed_by_the_commune_unless_it_already_says_it():
    text = heard(say.describe(nearby("3205"), 2, paris("2026-11-30 10:00")))
    place = BY_ID["3205"]
    assert text[0] == CATALOG.render(line("places.place_named", rank=line("places.rank.2"), name=place.name))
    other = BY_ID["2689"]
    first = heard(say.describe(nearby("2689"), 1, paris("2026-11-30 10:00")))[0]
    assert first == CATALOG.render(line("places.place", rank=line("places.rank.1"), name=other.name,
                                         commune=other.commune))


def test_the_read_back_says_the_postcode_and_its_commune_then_the_keys():
    assert heard(say.readback(DIRECTORY.postcode("75011"))) == heard(
        (line("places.readback", postcode="75011", commune="Paris 11e"), line("places.confirm_keys"))
    )
    assert heard(say.readback(DIRECTORY.postcode("23000")))[0] == CATALOG.render(
        line("places.readback_many", postcode="23000", commune=DIRECTORY.postcode("23000").communes[0])
    )


def test_the_first_turn_names_the_two_nearest_and_says_where_the_list_comes_from():
    postcode = DIRECTORY.postcode("23000")
    lines = say.page(DIRECTORY, postcode, 0, paris("2026-11-30 10:00"))
    first, second = DIRECTORY.nearest(postcode, 2)
    assert lines[0] == line("places.intro")
    assert lines[1:] == (
        *say.describe(first, 1, paris("2026-11-30 10:00")),
        *say.describe(second, 2, paris("2026-11-30 10:00")),
        line("places.source", date=line("places.date_first", month=line("places.month.8"), year=2024)),
    )
    assert heard(say.keys(say.more(DIRECTORY, postcode, 0))) == heard(
        (line("places.keys.repeat"), line("places.keys.next"), line("places.keys.back"))
    )


def test_the_next_turns_name_the_next_two_then_there_are_no_more():
    postcode = DIRECTORY.postcode("23000")
    now = paris("2026-11-30 10:00")
    second = say.page(DIRECTORY, postcode, 1, now)
    third, fourth = DIRECTORY.nearest(postcode, 2, skip=2)
    assert second == (line("places.intro_next"), *say.describe(third, 3, now), *say.describe(fourth, 4, now))
    assert not say.more(DIRECTORY, postcode, 2)
    assert heard(say.keys(False)) == heard((line("places.keys.repeat"), line("places.keys.back")))
    assert say.page(DIRECTORY, postcode, 3, now) == (line("places.no_more"),)


def test_a_postcode_placed_at_its_department_centre_says_so_and_gives_no_distance():
    lines = say.page(DIRECTORY, DIRECTORY.postcode("76420"), 0, paris("2026-11-30 10:00"))
    assert lines[0] == line("places.intro_department")
    assert not [item for item in lines if item.key.startswith("places.distance")]


def test_a_postcode_the_data_lacks_gets_a_clear_sentence_naming_it():
    assert heard(say.not_found("98000")) == [CATALOG.render(line("places.not_found", postcode="98000"))]


@pytest.mark.parametrize("moment", ["2026-11-30 10:00", "2026-12-05 18:00"], ids=["Monday", "Saturday night"])
def test_every_sentence_about_every_place_stays_under_25_words(moment):
    now = paris(moment)
    for place in DIRECTORY.places:
        for sentence in heard(say.describe(nearby(place.id), 6, now)):
            assert len(sentence.split()) < MOST_WORDS, (place.id, sentence)
    for postcode in DIRECTORY.postcodes:
        for sentence in heard(say.readback(postcode)):
            assert len(sentence.split()) < MOST_WORDS, sentence


def test_every_places_prompt_stays_under_25_words():
    for key in say.PROMPTS:
        assert len(CATALOG.texts[key].split()) < MOST_WORDS, key


def test_the_sms_lines_give_name_address_phone_in_pairs_and_todays_hours():
    lines = say.sms(nearby(SARDENT), paris("2026-11-30 10:00"))
    place = BY_ID[SARDENT]
    assert heard(lines) == heard((
        line("places.sms.name", name=place.name),
        line("places.sms.address", address=place.address, postcode="23250", commune="Sardent"),
        line("places.sms.phone", phone="05 55 64 87 98"),
        line("places.sms.today", slots=(slot((14, 30), (16, 30), "places.sms"),)),
    ))


def test_the_sms_lines_of_a_closed_place_give_its_next_opening_and_the_appointment():
    lines = heard(say.sms(nearby("3015"), paris("2026-12-05 10:00")))
    monday = (slot((13, 45), (16, 30), "places.sms"),)
    opens = line("places.sms.opens", day=line("places.day.0"), slots=monday)
    assert CATALOG.render(opens) in lines
    assert lines[-1] == CATALOG.render(line("places.sms.appointment"))


def test_the_sms_lines_of_every_place_are_gsm7_and_fit_in_one_or_two_sms():
    now = paris("2026-11-30 10:00")
    for place in DIRECTORY.places:
        length = measure(compose(CATALOG, say.sms(nearby(place.id), now)))
        assert length.encoding == "GSM-7", place.id
        assert length.segments <= 2, place.id


@pytest.fixture
def prompts(tmp_path):
    folder = tmp_path / "fr"
    shutil.copytree(PROMPTS, folder)
    return folder


def edit_places(folder, change):
    path = folder / "places.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["places"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda d: d.pop("readback"), ["places.readback", "a prompt with this key"]),
        (lambda d: d.update(distance="À {kilometres} km."), ["places.distance", "{km}", "{kilometres}"]),
        (lambda d: d["sms"].update(phone="Tél. : {phone}, ça répond"), ["places.sms.phone", "GSM-7"]),
        (lambda d: d["day"].update({0: "lundi à l'aube, même"}), ["places.day.0", "GSM-7"]),
    ],
    ids=["missing prompt", "wrong placeholder", "sms line outside GSM-7", "day name outside GSM-7"],
)
def test_a_broken_places_prompt_stops_start_up(prompts, change, fragments):
    edit_places(prompts, change)
    with pytest.raises(ContentError) as error:
        create_app({"IVR_PROMPTS": str(prompts)})
    for fragment in fragments:
        assert fragment in str(error.value)


def test_ivr_places_prints_what_the_line_says_for_a_postcode(capsys, monkeypatch):
    # Helpline staff run it without any server setting.
    monkeypatch.delenv("IVR_LOCAL", raising=False)
    assert main(["places", "23000", "--at", "2026-11-30 10:00"]) == 0
    out = capsys.readouterr().out
    postcode = DIRECTORY.postcode("23000")
    now = paris("2026-11-30 10:00")
    for sentence in heard((*say.readback(postcode), *say.page(DIRECTORY, postcode, 0, now),
                           *say.page(DIRECTORY, postcode, 2, now))):
        assert f"line: {sentence}" in out
    assert "05 55 64 87 98" in out


def test_ivr_places_understands_words_and_says_when_nothing_is_found(capsys):
    assert main(["places", "vingt-trois mille", "--at", "2026-11-30 10:00"]) == 0
    assert CATALOG.render(say.readback(DIRECTORY.postcode("23000"))[0]) in capsys.readouterr().out
    assert main(["places", "98000"]) == 0
    out = capsys.readouterr().out
    assert CATALOG.render(line("places.not_found", postcode="98000")) in out
    assert CATALOG.render(line("places.mairie")) in out
    assert main(["places", "7501"]) == 0
    assert CATALOG.render(line("places.invalid")) in capsys.readouterr().out


def test_ivr_places_refuses_a_clock_it_cannot_read(capsys):
    assert main(["places", "23000", "--at", "lundi matin"]) == 2
    assert "--at" in capsys.readouterr().err


def test_ivr_places_build_rebuilds_the_data_and_ivr_check_reads_it(tmp_path, capsys, monkeypatch):
    from tests.places_fixtures import FRANCE_SERVICES_CSV, POSTCODES_CSV

    out = tmp_path / "data"
    assert main(["places", "build", "--france-services", str(FRANCE_SERVICES_CSV), "--postcodes",
                 str(POSTCODES_CSV), "--postcodes-date", "2020", "--out", str(out)]) == 0
    assert "76420" in capsys.readouterr().out
    monkeypatch.setenv("IVR_PLACES_DATA", str(out))
    assert main(["check"]) == 0
    assert "2845 France Services places, 6188 postcodes" in capsys.readouterr().out
    assert main(["places", "build", "--postcodes", str(POSTCODES_CSV)]) == 2
