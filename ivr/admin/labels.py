"""French words of the dashboard for the journal's vocabulary (web-page text, never spoken)."""

from __future__ import annotations

from ivr.journal.events import Outcome

OUTCOMES = {
    Outcome.ADVISOR_REACHED: "Conseiller joint",
    Outcome.ELIGIBLE: "Au moins un compte possible",
    Outcome.NONE: "Aucun compte possible",
    Outcome.PREREQUISITE: "Prérequis non rempli",
    Outcome.TOO_MANY_TRIES: "Fin après trois essais",
    Outcome.ADVISOR_MISSED: "Conseiller non joint",
    Outcome.FALLBACK: "Erreur du serveur",
    Outcome.HUNG_UP: "Raccroché avant le résultat",
}
ANSWERS = {
    "yes": "Oui",
    "no": "Non",
    "unsure": "Je ne sais pas",
    "hung_up": "Raccroché ici",
    "other": "Autre réponse",
}
# Steps other than questions; a phase added to the engine shows under its own name until named here.
STEPS = {"greet": "Accueil", "result": "Résultat", "transfer": "Transfert au conseiller", "ask": "Question"}
