"""The baseline: the least a Flask IVR can do, one fixed TwiML document for every POST."""

from __future__ import annotations

from flask import Flask, Response
from twilio.twiml.voice_response import VoiceResponse


def create_app() -> Flask:
    """A Flask app answering every POST with the same question, built once at start-up."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf speech", language="fr-FR", num_digits=1, action="/voice/step",
                             method="POST")
    gather.say("Avez-vous un numéro de sécurité sociale ? Pour oui, tapez 1. Pour non, tapez 2.",
               voice="Polly.Lea-Neural", language="fr-FR")
    response.redirect("/voice/step?silence=1", method="POST")
    document = str(response)
    app = Flask(__name__)

    @app.post("/", defaults={"path": ""})
    @app.post("/<path:path>")
    def answer(path: str) -> Response:
        return Response(document, mimetype="text/xml")

    return app
