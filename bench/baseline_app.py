"""Baselines: the least a Flask IVR can do, one fixed TwiML document for every POST.

`create_app()` answers without reading the request; `create_app(signed=True)` first reads the form
and checks Twilio's signature the way Twilio's own docs show, the floor for any secure IVR.
"""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse


def create_app(signed: bool = False) -> Flask:
    """A Flask app answering every POST with the same question, built once at start-up."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf speech", language="fr-FR", num_digits=1, action="/voice/step",
                             method="POST")
    gather.say("Avez-vous un numéro de sécurité sociale ? Pour oui, tapez 1. Pour non, tapez 2.",
               voice="Polly.Lea-Neural", language="fr-FR")
    response.redirect("/voice/step?silence=1", method="POST")
    document = str(response)
    validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN", ""))
    base = os.environ.get("PUBLIC_BASE_URL", "")
    app = Flask(__name__)

    @app.post("/", defaults={"path": ""})
    @app.post("/<path:path>")
    def answer(path: str) -> Response:
        if signed:
            url = base + request.full_path.rstrip("?")
            if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
                abort(403)
        return Response(document, mimetype="text/xml")

    return app
