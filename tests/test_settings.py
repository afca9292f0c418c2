"""Settings are checked whole at start-up: a server open to the internet refuses to start without its
auth token, public URL and secret (fail closed), and a value that would make every webhook fail
stops start-up naming its variable (issue 11, rows 5, 9 and 10)."""

from __future__ import annotations

import pytest

from ivr.app import create_app
from ivr.errors import ConfigError
from tests.conftest import AUTH_TOKEN, signature


@pytest.mark.parametrize("variable", ["TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "IVR_SECRET"])
def test_without_its_auth_token_public_url_or_secret_the_server_refuses_to_start(config, variable):
    config[variable] = ""
    with pytest.raises(ConfigError, match=f"{variable} is required.*IVR_LOCAL=1"):
        create_app(config)


def test_only_ivr_local_lets_the_server_start_without_an_auth_token_and_then_it_serves_unsigned_requests():
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN is required"):
        create_app({"IVR_LOCAL": "0", "TWILIO_AUTH_TOKEN": ""})
    local = create_app({"IVR_LOCAL": "1", "TWILIO_AUTH_TOKEN": ""})
    assert local.test_client().post("/voice", data={"CallSid": "CA1"}).status_code == 200


BAD_VALUES = [
    ("PUBLIC_BASE_URL", "https://"),
    ("PUBLIC_BASE_URL", "https://ivr.example.fr/voice"),
    ("PUBLIC_BASE_URL", "https://ivr.example.fr "),
    ("PUBLIC_BASE_URL", " https://ivr.example.fr"),
    ("PUBLIC_BASE_URL", "https://ivr.example.fr?x=1"),
    ("PUBLIC_BASE_URL", "https://ivr.example.fr#top"),
    ("PUBLIC_BASE_URL", "https://user@ivr.example.fr"),
    ("PUBLIC_BASE_URL", "https://ivr.example.fr:port"),
    ("PUBLIC_BASE_URL", "ftp://ivr.example.fr"),
    ("PUBLIC_BASE_URL", "ivr.example.fr"),
    ("TWILIO_AUTH_TOKEN", AUTH_TOKEN + "\n"),
    ("TWILIO_AUTH_TOKEN", " " + AUTH_TOKEN),
    ("TWILIO_AUTH_TOKEN", "not-a-token"),
    ("HELPLINE_NUMBER", "+33123456789\n"),
    ("HELPLINE_NUMBER", "06 12 34 56 78"),
    ("SMS_FROM", "+33700000001\n"),
    ("IVR_VOICE", "Polly.Joanna"),
    ("IVR_VOICE", "alice"),
    ("IVR_VOICE", "Google.en-US-Standard-A"),
    ("IVR_VOICE", "Polly.Lea-Neural\n"),
    ("IVR_SECRET", "short"),
    ("IVR_SECRET", "a secret with spaces in it, long enough though"),
    ("IVR_SECRET_PREVIOUS", "tab\tin-the-previous-secret-0123456789"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES, ids=[f"{v}={x!r}" for v, x in BAD_VALUES])
def test_a_setting_that_would_make_every_webhook_fail_stops_start_up_naming_its_variable(config, variable,
                                                                                         value):
    config.update({"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, variable: value})
    with pytest.raises(ConfigError, match=variable):
        create_app(config)


@pytest.mark.parametrize("voice", ["Polly.Lea", "Polly.Celine", "Polly.Mathieu", "Polly.Lea-Neural",
                                   "Polly.Remi-Neural", "Google.fr-FR-Neural2-A", "Google.fr-FR-Standard-E"])
def test_every_french_voice_is_accepted(config, voice):
    config["IVR_VOICE"] = voice
    assert f'voice="{voice}"' in create_app(config).test_client().post(
        "/voice", headers={"X-Twilio-Signature": signature("http://localhost/voice", {})}
    ).get_data(as_text=True)


@pytest.mark.parametrize("url", ["https://ivr.example.fr", "https://ivr.example.fr/", "http://127.0.0.1:8000"])
def test_a_public_base_url_of_scheme_and_host_is_accepted_without_its_trailing_slash(config, url):
    config["PUBLIC_BASE_URL"] = url
    assert create_app(config).config["IVR_SETTINGS"].public_base_url == url.rstrip("/")


def test_the_previous_secret_needs_a_current_one_that_differs(config):
    config["IVR_SECRET_PREVIOUS"] = config["IVR_SECRET"]
    with pytest.raises(ConfigError, match="IVR_SECRET_PREVIOUS must differ"):
        create_app(config)
    config["IVR_SECRET"] = ""
    config["IVR_LOCAL"] = "1"
    with pytest.raises(ConfigError, match="IVR_SECRET_PREVIOUS needs IVR_SECRET"):
        create_app(config)


def test_a_request_signed_for_the_url_of_a_forged_host_header_is_refused(config):
    # The review's row 10: without PUBLIC_BASE_URL the URL checked came from the Host header.
    client = create_app(config).test_client()
    form, host = {"CallSid": "CA1"}, "http://attacker.example"
    forged = {"X-Twilio-Signature": signature("http://attacker.example/voice", form)}
    assert client.post("/voice", data=form, headers=forged, base_url=host).status_code == 403
    good = {"X-Twilio-Signature": signature("http://localhost/voice", form)}
    assert client.post("/voice", data=form, headers=good, base_url=host).status_code == 200
