"""The team's pages over HTTP: hidden without a password, behind HTTP Basic with one, in French;
/metrics for Prometheus; request logs in JSON."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from conftest import AUTH_TOKEN, SECRET

from bench.server import free_port
from ivr.app import create_app
from ivr.observe.logs import JsonFormatter
from ivr.phone import flask_transport
from tests.caller import FunnelCaller

PASSWORD = "admin-password-0123456789"
PAGES = ("/admin/", "/admin/static/dsfr/dsfr.main.min.css", "/metrics")


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def config(tmp_path) -> dict[str, str]:
    return {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_SECRET": SECRET,
        "IVR_ADMIN_PASSWORD": PASSWORD,
        "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'journal.sqlite3'}",
    }


@pytest.mark.parametrize("path", PAGES)
def test_without_an_admin_password_the_whole_admin_part_does_not_exist(config, path):
    del config["IVR_ADMIN_PASSWORD"]
    client = create_app(config).test_client()
    assert client.get(path, headers=basic("admin", PASSWORD)).status_code == 404


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("admin", "wrong-password-0123456"),
        basic("root", PASSWORD),
        {"Authorization": "Bearer " + PASSWORD},
    ],
    ids=["none", "wrong", "user", "bearer"],
)
def test_the_admin_part_asks_for_the_admin_password(client, path, headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("path", PAGES)
def test_the_admin_password_opens_the_admin_part(client, path):
    assert client.get(path, headers=basic("admin", PASSWORD)).status_code == 200


def test_the_dashboard_is_a_french_page_with_the_figures_of_the_calls(app, client):
    callers = FunnelCaller.crowd(app, flask_transport(app.test_client()), AUTH_TOKEN, count=12, seed=3)
    assert app.extensions["ivr"].assistant.journal.writer.flush(15)
    page = client.get("/admin/", headers=basic("admin", PASSWORD)).get_data(as_text=True)
    assert '<html lang="fr"' in page and "Journal des appels" in page and "Entonnoir par question" in page
    assert f"<strong>{len(callers)}</strong>" in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 3
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize(
    "query", ["du=2026-13-01&au=2026-01-02", "du=2026-02-01&au=2026-01-01", "jours=0", "jours=abc", "du=x"]
)
def test_a_wrong_period_shows_the_last_seven_days_with_a_warning(client, query):
    response = client.get(f"/admin/?{query}", headers=basic("admin", PASSWORD))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "fr-alert--warning" in page and "les 7 derniers jours sont affichés" in page


def test_with_the_journal_off_the_dashboard_says_so(config):
    client = create_app({**config, "IVR_JOURNAL": "off"}).test_client()
    page = client.get("/admin/", headers=basic("admin", PASSWORD)).get_data(as_text=True)
    assert "Le journal est désactivé" in page


def test_with_the_database_down_the_dashboard_says_so(config):
    down = f"postgresql://ivr@127.0.0.1:{free_port()}/nowhere"
    client = create_app({**config, "IVR_DATABASE_URL": down}).test_client()
    response = client.get("/admin/", headers=basic("admin", PASSWORD))
    assert response.status_code == 503
    assert "La base de données ne répond pas" in response.get_data(as_text=True)


def test_metrics_count_calls_outcomes_requests_and_sms(app, client):
    callers = FunnelCaller.crowd(app, flask_transport(app.test_client()), AUTH_TOKEN, count=6, seed=5)
    text = client.get("/metrics", headers=basic("admin", PASSWORD)).get_data(as_text=True)
    flow = app.extensions["ivr"].call.flow.id
    assert f'ivr_calls_total{{flow="{flow}"}} {len(callers)}.0' in text
    settled = sum(c.outcome() != "hung_up" for c in callers)
    outcomes = [line for line in text.splitlines() if line.startswith("ivr_outcomes_total{")]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in outcomes) == settled
    assert 'ivr_webhook_seconds_bucket{endpoint="voice.step",le="15.0"}' in text
    assert "ivr_journal_errors_total" in text and "ivr_sms_total" in text


def test_a_json_log_line_carries_its_fields():
    record = logging.LogRecord("ivr.request", logging.INFO, __file__, 1, "POST %s %d", ("/voice", 200), None)
    record.call, record.status = "0123456789abcdef", 200
    entry = json.loads(JsonFormatter().format(record))
    assert (
        entry["message"] == "POST /voice 200"
        and entry["level"] == "INFO"
        and entry["logger"] == "ivr.request"
    )
    assert entry["call"] == "0123456789abcdef" and entry["status"] == 200


def test_a_bad_log_format_or_a_short_secret_stops_start_up(config):
    from ivr.errors import ConfigError

    with pytest.raises(ConfigError, match="IVR_LOG_FORMAT"):
        create_app({**config, "IVR_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="IVR_ADMIN_PASSWORD: at least 16 characters") as caught:
        create_app({**config, "IVR_ADMIN_PASSWORD": "short"})
    assert "short" not in str(caught.value)
    with pytest.raises(ConfigError, match="IVR_DATABASE_URL"):
        create_app({**config, "IVR_DATABASE_URL": "mysql://x/y"})
