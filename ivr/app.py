"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

from ivr.config import load_settings
from ivr.content import load_content
from ivr.engine.call import Call
from ivr.engine.intents import Understanding
from ivr.engine.planner import FlowOrder
from ivr.engine.reply import Hangup, line
from ivr.web.documents import Documents
from ivr.web.security import SignatureCheck
from ivr.web.twiml import Renderer
from ivr.web.views import Service, voice

log = logging.getLogger("ivr")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the server: settings from defaults, environment, then `config`; content checked."""
    settings = load_settings(config)
    content = load_content(settings.flow, settings.prompts)
    app = Flask(__name__)
    if not settings.auth_token:
        log.warning(
            "TWILIO_AUTH_TOKEN is not set: webhook signatures are NOT checked. Local use only."
        )
    signature = SignatureCheck(settings.auth_token, settings.public_base_url) if settings.auth_token else None
    renderer = Renderer(settings, content.catalog)
    app.extensions["ivr"] = Service(
        call=Call(content.flow, FlowOrder(content.flow), advisor=bool(settings.helpline_number)),
        renderer=renderer,
        understanding=Understanding(content.catalog.vocabulary, settings.min_confidence),
        signature=signature,
        documents=Documents(renderer),
    )
    app.config["IVR_SETTINGS"] = settings
    app.register_blueprint(voice)

    @app.errorhandler(500)
    def apologise(error: Exception) -> Response:
        # The caller must never hear Twilio's generic error: apologise and point to help.
        lines = (line("error.technical"), line("help.in_person"), line("goodbye"))
        return Response(str(renderer.render(Hangup(lines), None)), mimetype="text/xml")

    return app
