"""The application factory."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import Engine

from ivr.admin.views import Dashboard, admin
from ivr.assistant import Assistant, CallNames
from ivr.config import Settings, load_settings
from ivr.content import load_content
from ivr.db.engine import default_url, make_engine
from ivr.engine.call import Advisor, Call
from ivr.engine.intents import Understanding
from ivr.engine.planner import FewestSeconds
from ivr.engine.spoken import question_seconds
from ivr.engine.token import Tokens
from ivr.journal.recorder import Journal
from ivr.journal.writer import Writer
from ivr.observe import logs
from ivr.observe.metrics import Metrics
from ivr.places.service import load_places
from ivr.sms.outbox import Outbox
from ivr.sms.postbox import Postbox, SendNow
from ivr.sms.sender import Sender, TwilioSender
from ivr.web.documents import Documents
from ivr.web.limits import Limits
from ivr.web.security import SignatureCheck
from ivr.web.twiml import Renderer
from ivr.web.views import Service, voice

log = logging.getLogger("ivr")
requests_log = logging.getLogger("ivr.request")


def database_url(settings: Settings) -> str:
    """IVR_DATABASE_URL, or the SQLite file in the app's instance folder."""
    return settings.database_url or default_url(Path(Flask(__name__).instance_path))


def create_app(
    config: Mapping[str, Any] | None = None,
    sms_sender: Sender | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    """Build the server: settings from defaults, environment, then `config`; content checked.

    `sms_sender` replaces Twilio's REST API for the result SMS (the terminal's local fake);
    `clock` gives the time the advisor's hours are checked against (`ivr call --at`).
    """
    settings = load_settings(config)
    logs.configure(settings.log_format)
    content = load_content(settings.flow, settings.prompts)
    # Loaded once per worker; a broken data file stops start-up.
    places = load_places(settings.places_data, content.catalog, settings.prompts)
    app = Flask(__name__)
    if not settings.auth_token:
        log.warning("IVR_LOCAL=1 without TWILIO_AUTH_TOKEN: webhook signatures are NOT checked (local use)")
    signature = SignatureCheck(settings.auth_token, settings.public_base_url) if settings.auth_token else None
    renderer = Renderer(settings, content.catalog)
    # Rendered once: what a failed request answers, here or through Twilio's fallback URL.
    fallback = renderer.fallback()
    metrics = Metrics()
    # The journal's database holds the SMS outbox too: its limits must hold across workers.
    engine = make_engine(database_url(settings)) if settings.journal or settings.sms_configured else None
    writer = Writer(engine, settings.retention_days, metrics.journal_trouble) if settings.journal else None
    journal = Journal(content.flow, metrics, writer)
    advisor = Advisor(configured=bool(settings.helpline_number))
    # What each question costs the caller in seconds, from its prompt: the planner minimises their sum.
    planner = FewestSeconds(content.flow, question_seconds(content.flow, content.catalog.render))
    # Local use without IVR_SECRET: a secret of this process's own (gunicorn.conf.py gives one to all
    # the workers of a local server), so tokens and call references do not outlive it.
    keys = settings.secrets or (secrets.token_urlsafe(32),)
    assistant = Assistant(
        call=Call(content.flow, planner, advisor=advisor, places=places),
        catalog=content.catalog,
        understanding=Understanding(content.catalog.vocabulary, settings.min_confidence),
        tokens=Tokens(content.flow, keys),
        journal=journal,
        names=CallNames(keys[0]),
        sms=_postbox(settings, sms_sender, engine, keys, metrics),
        schedule=settings.schedule,
        **({"clock": clock} if clock else {}),
    )
    app.extensions["ivr"] = Service(
        assistant=assistant,
        renderer=renderer,
        signature=signature,
        documents=Documents(renderer),
        fallback=fallback,
    )
    app.extensions["ivr.dashboard"] = Dashboard(
        password=settings.admin_password,
        engine=engine,
        metrics=metrics,
        flow=content.flow,
        catalog=content.catalog,
    )
    # What gunicorn's worker_exit hook closes: events still in memory are written before the worker goes.
    app.extensions["ivr.journal"] = journal
    app.config["IVR_SETTINGS"] = settings
    app.register_blueprint(voice)
    app.register_blueprint(admin)
    _log_requests(app, metrics)
    # Outermost, so that every route, today's and tomorrow's, is bounded before Flask reads a byte.
    app.wsgi_app = Limits(app.wsgi_app)

    @app.errorhandler(500)
    def apologise(error: Exception) -> Response:
        # The caller must never hear Twilio's generic error: apologise, then the advisor or in-person help.
        return Response(fallback, mimetype="text/xml")

    return app


def _log_requests(app: Flask, metrics: Metrics) -> None:
    """One line per request at INFO, naming the call by its reference; its time in the histogram."""

    @app.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.endpoint or "unknown"
        metrics.latency.labels(endpoint).observe(seconds)
        call = g.get("call_ref", "-")
        # The path only: the query string carries the call's state, answers included.
        requests_log.info(
            "%s %s %d %.1f ms call %s",
            request.method,
            request.path,
            response.status_code,
            seconds * 1000,
            call,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round(seconds * 1000, 2),
                "call": call,
            },
        )
        return response


def _postbox(
    settings: Settings, sender: Sender | None, engine: Engine | None, keys: tuple[str, ...], metrics: Metrics
) -> Postbox | None:
    """Where the result SMS goes: the sender given (the terminal's fake), or the outbox to Twilio."""
    if sender is not None:
        return SendNow(sender)
    if not settings.sms_configured or engine is None:
        return None
    return Outbox(engine, TwilioSender(settings).attempt, keys, settings.sms_daily_cap, metrics.delivery)
