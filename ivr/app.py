"""The application factory."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import Flask, Response

from ivr.assistant import Assistant
from ivr.config import Settings, load_settings
from ivr.content import load_content
from ivr.engine.call import Advisor, Call
from ivr.engine.intents import Understanding
from ivr.engine.planner import FewestSeconds
from ivr.engine.spoken import question_seconds
from ivr.engine.token import Tokens
from ivr.places.service import load_places
from ivr.sms.postbox import Postbox, SendNow
from ivr.sms.sender import Sender, TwilioSender
from ivr.web.documents import Documents
from ivr.web.limits import Limits
from ivr.web.security import SignatureCheck
from ivr.web.twiml import Renderer
from ivr.web.views import Service, voice

log = logging.getLogger("ivr")


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
    advisor = Advisor(configured=bool(settings.helpline_number))
    # What each question costs the caller in seconds, from its prompt: the planner minimises their sum.
    planner = FewestSeconds(content.flow, question_seconds(content.flow, content.catalog.render))
    assistant = Assistant(
        call=Call(content.flow, planner, advisor=advisor, places=places),
        catalog=content.catalog,
        understanding=Understanding(content.catalog.vocabulary, settings.min_confidence),
        # Local use without IVR_SECRET: a secret of this process's own (gunicorn.conf.py gives one
        # to all the workers of a local server), so tokens do not outlive it.
        tokens=Tokens(content.flow, settings.secrets or (secrets.token_urlsafe(32),)),
        sms=_postbox(settings, sms_sender),
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
    app.config["IVR_SETTINGS"] = settings
    app.register_blueprint(voice)
    # Outermost, so that every route, today's and tomorrow's, is bounded before Flask reads a byte.
    app.wsgi_app = Limits(app.wsgi_app)

    @app.errorhandler(500)
    def apologise(error: Exception) -> Response:
        # The caller must never hear Twilio's generic error: apologise, then the advisor or in-person help.
        return Response(fallback, mimetype="text/xml")

    return app


def _postbox(settings: Settings, sender: Sender | None) -> Postbox | None:
    """Where the result SMS goes: the sender given (the terminal's fake), or Twilio's REST API."""
    if sender is not None:
        return SendNow(sender)
    return SendNow(TwilioSender(settings)) if settings.sms_configured else None
