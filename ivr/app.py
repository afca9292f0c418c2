"""The application factory."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request

from ivr.admin.views import Dashboard, admin
from ivr.assistant import Assistant, CallNames
from ivr.config import Settings, load_settings
from ivr.content import load_content
from ivr.db.engine import default_url, make_engine
from ivr.engine.call import Call
from ivr.engine.intents import Understanding
from ivr.engine.planner import FewestQuestions
from ivr.journal.recorder import Journal
from ivr.journal.writer import Writer
from ivr.observe import logs
from ivr.observe.metrics import Metrics
from ivr.sms.sender import Sender, TwilioSender
from ivr.web.documents import Documents
from ivr.web.security import SignatureCheck
from ivr.web.twiml import Renderer
from ivr.web.views import Service, voice

log = logging.getLogger("ivr")
requests_log = logging.getLogger("ivr.request")
# Keys the call references when IVR_SECRET is unset: fine on a laptop, never in production.
LOCAL_SECRET = "local use only: set IVR_SECRET"


def database_url(settings: Settings) -> str:
    """IVR_DATABASE_URL, or the SQLite file in the app's instance folder."""
    return settings.database_url or default_url(Path(Flask(__name__).instance_path))


def create_app(config: Mapping[str, Any] | None = None, sms_sender: Sender | None = None) -> Flask:
    """Build the server: settings from defaults, environment, then `config`; content checked.

    `sms_sender` replaces Twilio's REST API for the result SMS (the terminal's local fake).
    """
    settings = load_settings(config)
    logs.configure(settings.log_format)
    content = load_content(settings.flow, settings.prompts)
    app = Flask(__name__)
    if not settings.auth_token:
        log.warning("TWILIO_AUTH_TOKEN is not set: webhook signatures are NOT checked. Local use only.")
    if not settings.secret:
        log.warning("IVR_SECRET is not set: call references are keyed with a public default. Local use only.")
    signature = SignatureCheck(settings.auth_token, settings.public_base_url) if settings.auth_token else None
    renderer = Renderer(settings, content.catalog)
    # Rendered once: what a failed request answers, here or through Twilio's fallback URL.
    fallback = renderer.fallback()
    metrics = Metrics()
    engine = make_engine(database_url(settings)) if settings.journal else None
    writer = Writer(engine, settings.retention_days, metrics.journal_trouble) if engine is not None else None
    journal = Journal(content.flow, metrics, writer)
    assistant = Assistant(
        call=Call(content.flow, FewestQuestions(content.flow), advisor=bool(settings.helpline_number)),
        catalog=content.catalog,
        understanding=Understanding(content.catalog.vocabulary, settings.min_confidence),
        journal=journal,
        names=CallNames(settings.secret or LOCAL_SECRET),
        sms=sms_sender or (TwilioSender(settings) if settings.sms_configured else None),
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
    app.config["IVR_SETTINGS"] = settings
    app.register_blueprint(voice)
    app.register_blueprint(admin)
    _log_requests(app, metrics)

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
