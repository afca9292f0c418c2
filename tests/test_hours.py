"""The advisor's hours: key 0 dials only when someone answers; otherwise the caller hears when to
call back. Paris time, French public holidays closed; the clock is fixed in every test."""

from __future__ import annotations

from datetime import datetime

import pytest

from ivr.app import create_app
from ivr.engine.reply import line
from ivr.errors import ConfigError
from ivr.hours import PARIS, parse_hours
from ivr.phone import Phone, flask_transport
from tests.conftest import AUTH_TOKEN, spoken

HELPLINE = "+33187654321"
HOURS = "lun-ven 09:00-12:00,14:00-17:30; sam 09:00-12:00"
SATURDAY_AFTERNOON = datetime(2026, 11, 28, 15, 0, tzinfo=PARIS)
MONDAY_MORNING = datetime(2026, 11, 30, 10, 0, tzinfo=PARIS)
MONDAY_LUNCH = datetime(2026, 11, 30, 12, 30, tzinfo=PARIS)
MONDAY_EVENING = datetime(2026, 11, 30, 17, 45, tzinfo=PARIS)
CHRISTMAS = datetime(2026, 12, 25, 10, 0, tzinfo=PARIS)  # a Friday: closed, open the next morning


def phone_at(moment: datetime, hours: str = HOURS) -> tuple[Phone, object]:
    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HELPLINE_NUMBER": HELPLINE, "HELPLINE_HOURS": hours},
                     clock=lambda: moment)
    phone = Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN)
    phone.dial()
    phone.press("1")
    catalog = app.extensions["ivr"].renderer.catalog
    return phone, lambda key, **params: catalog.render(line(key, **params))


def test_within_the_hours_key_0_dials_the_advisor():
    phone, _say = phone_at(MONDAY_MORNING)
    phone.press("0")
    assert phone.dialled == [HELPLINE]


@pytest.mark.parametrize(
    ("moment", "day", "time"),
    [
        (SATURDAY_AFTERNOON, line("day.monday"), line("advisor.hours", hour=9)),
        (MONDAY_LUNCH, line("advisor.today"), line("advisor.hours", hour=14)),
        (CHRISTMAS, line("advisor.tomorrow"), line("advisor.hours", hour=9)),
        (MONDAY_EVENING, line("advisor.tomorrow"), line("advisor.hours", hour=9)),
    ],
    ids=["saturday afternoon", "monday lunch", "christmas", "monday evening"],
)
def test_outside_the_hours_key_0_says_when_to_call_back_and_does_not_dial(moment, day, time):
    phone, say = phone_at(moment)
    phone.press("0")
    heard = spoken(phone)
    assert heard.startswith(f"{say('advisor.closed')} {say('advisor.next', day=day, time=time)}")
    assert say("help.france_services") in heard
    assert not phone.dialled
    assert phone.waiting


def test_a_call_back_a_week_or_more_ahead_is_said_with_its_date():
    # Open on Saturdays only; Saturday 26 December 2026 is not a holiday, Christmas is a Friday:
    # from Saturday 19 December 12:00, the next opening is the 26th, a week ahead.
    phone, say = phone_at(datetime(2026, 12, 19, 12, 0, tzinfo=PARIS), "sam 09:00-12:00")
    phone.press("0")
    when = say("advisor.next", day=line("advisor.date", day=26, month=line("month.12")),
               time=line("advisor.hours", hour=9))
    assert when in spoken(phone)


def test_outside_the_hours_the_first_question_offers_help_not_an_advisor():
    phone, say = phone_at(SATURDAY_AFTERNOON)
    assert say("keys.help") in spoken(phone)
    assert say("keys.advisor") not in spoken(phone)


def test_outside_the_hours_three_failures_do_not_dial_and_say_when_to_call_back():
    phone, say = phone_at(SATURDAY_AFTERNOON)
    for _ in range(3):
        phone.press("9")
    heard = spoken(phone)
    assert say("ask.too_many") in heard
    assert say("advisor.next", day=line("day.monday"), time=line("advisor.hours", hour=9)) in heard
    assert not phone.dialled
    assert phone.ended


def test_within_the_hours_three_failures_dial_the_advisor():
    phone, _say = phone_at(MONDAY_MORNING)
    for _ in range(3):
        phone.press("9")
    assert phone.dialled == [HELPLINE]


def test_without_hours_the_advisor_is_always_reachable():
    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HELPLINE_NUMBER": HELPLINE},
                     clock=lambda: CHRISTMAS)
    phone = Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN)
    phone.dial()
    phone.press("1")
    phone.press("0")
    assert phone.dialled == [HELPLINE]


@pytest.mark.parametrize(
    "hours",
    ["lundi 9h-17h", "lun-ven 09:00", "ven-lun 09:00-17:00", "lun-ven 17:00-09:00", "lun-ven 09:00-25:00",
     "xyz 09:00-17:00", "lun-ven 09:00-17:00;"],
)
def test_unreadable_hours_stop_start_up_naming_the_variable(hours):
    with pytest.raises(ConfigError, match="^HELPLINE_HOURS: "):
        create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HELPLINE_NUMBER": HELPLINE, "HELPLINE_HOURS": hours})


def test_hours_without_an_advisor_number_stop_start_up():
    with pytest.raises(ConfigError, match="HELPLINE_HOURS needs HELPLINE_NUMBER"):
        create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HELPLINE_HOURS": HOURS})


def test_public_holidays_are_closed_and_ordinary_days_open():
    schedule = parse_hours("lun-dim 00:00-24:00")
    assert not schedule.is_open(datetime(2026, 7, 14, 12, 0, tzinfo=PARIS))
    assert not schedule.is_open(datetime(2026, 5, 1, 12, 0, tzinfo=PARIS))
    assert schedule.is_open(datetime(2026, 7, 15, 12, 0, tzinfo=PARIS))


def test_hours_are_read_in_paris_time_whatever_the_server_clock():
    schedule = parse_hours("lun-ven 09:00-17:00")
    # 08:30 UTC in winter is 09:30 in Paris.
    assert schedule.is_open(datetime.fromisoformat("2026-11-30T08:30:00+00:00"))
    assert not schedule.is_open(datetime.fromisoformat("2026-11-30T07:30:00+00:00"))
