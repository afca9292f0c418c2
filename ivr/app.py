"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

from ivr.assistant import Assistant
from ivr.config import load_settings
from ivr.content import load_content
from ivr.engine.call import Call
from ivr.engine.intents import Understanding
from ivr.engine.planner import FewestQuestions
from ivr.places.service import load_places
from ivr.sms.sender import Sender, TwilioSender
from ivr.web.documents import Documents
from ivr.web.security import SignatureCheck
from ivr.web.twiml import Renderer
from ivr.web.views import Service, voice

log = logging.getLogger("ivr")


def create_app(config: Mapping[str, Any] | None = None, sms_sender: Sender | None = None) -> Flask:
    """Build the server: settings from defaults, environment, then `config`; content checked.

    `sms_sender` replaces Twilio's REST API for the result SMS (the terminal's local fake).
    """
    settings = load_settings(config)
    content = load_content(settings.flow, settings.prompts)
    # Loaded now so a broken data file stops start-up; the call offers it in phase 2 of issue 9.
    places = load_places(settings.places_data, content.catalog, settings.prompts)
    app = Flask(__name__)
    if not settings.auth_token:
        log.warning(
            "TWILIO_AUTH_TOKEN is not set: webhook signatures are NOT checked. Local use only."
        )
    signature = SignatureCheck(settings.auth_token, settings.public_base_url) if settings.auth_token else None
    renderer = Renderer(settings, content.catalog)
    # Rendered once: what a failed request answers, here or through Twilio's fallback URL.
    fallback = renderer.fallback()
    assistant = Assistant(
        call=Call(content.flow, FewestQuestions(content.flow), advisor=bool(settings.helpline_number)),
        catalog=content.catalog,
        understanding=Understanding(content.catalog.vocabulary, settings.min_confidence),
        sms=sms_sender or (TwilioSender(settings) if settings.sms_configured else None),
    )
    app.extensions["ivr"] = Service(
        assistant=assistant,
        renderer=renderer,
        signature=signature,
        documents=Documents(renderer),
        fallback=fallback,
    )
    app.extensions["ivr.places"] = places
    app.config["IVR_SETTINGS"] = settings
    app.register_blueprint(voice)

    @app.errorhandler(500)
    def apologise(error: Exception) -> Response:
        # The caller must never hear Twilio's generic error: apologise, then the advisor or in-person help.
        return Response(fallback, mimetype="text/xml")

    return app
