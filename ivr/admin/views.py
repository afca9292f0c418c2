"""The team's pages: /admin/ (the dashboard) and /metrics, behind HTTP Basic auth.

Without IVR_ADMIN_PASSWORD the whole part answers 404, as if it did not exist.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, Response, abort, current_app, render_template, request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ivr.admin import charts, labels
from ivr.db import migrate
from ivr.engine.reply import line
from ivr.flow import Flow
from ivr.journal.events import ASK, now
from ivr.journal.report import Figures, day_start, figures, local_day
from ivr.observe.metrics import Metrics
from ivr.prompts import Catalog

log = logging.getLogger("ivr.admin")
admin = Blueprint(
    "admin", __name__, template_folder="templates", static_folder="static", static_url_path="/admin/static"
)
USER = "admin"
PERIODS = (7, 30, 90, 365)
# The longest period one page may ask for: a year of days, as the retention's default.
MAX_DAYS = 3660


@dataclass(frozen=True)
class Dashboard:
    """What the team's pages need, built once by the app factory."""

    password: str
    engine: Engine | None
    metrics: Metrics
    flow: Flow
    catalog: Catalog

    def question(self, cid: str) -> str:
        """A question as the caller hears it, when it belongs to the running flow."""
        try:
            return self.catalog.render(line(self.flow.criterion(cid).prompt))
        except KeyError:
            return cid

    def step(self, step: str) -> str:
        phase, _, cid = step.partition(":")
        if phase == ASK and cid:
            return self.question(cid)
        return labels.STEPS.get(phase, phase)


@admin.app_template_filter("num")
def number(value: int) -> str:
    """A count the French way: 12 345."""
    return f"{value:,}".replace(",", "\u202f")


@admin.app_template_filter("pct")
def percent(value: float) -> str:
    """A share the French way: 12,5 %."""
    return f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"


@admin.app_template_filter("duration")
def duration(seconds: float | None) -> str:
    """Seconds as minutes and seconds: 2 min 05 s."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def dashboard() -> Dashboard:
    return current_app.extensions["ivr.dashboard"]


@admin.before_request
def authenticate() -> Response | None:
    password = dashboard().password
    if not password:
        abort(404)
    given = request.authorization
    user_ok = hmac.compare_digest((given.username or "") if given else "", USER)
    password_ok = hmac.compare_digest((given.password or "") if given else "", password)
    if given is None or given.type != "basic" or not (user_ok and password_ok):
        return Response(
            "Identification requise.",
            401,
            {"WWW-Authenticate": 'Basic realm="ivr", charset="UTF-8"'},
            mimetype="text/plain",
        )
    return None


@admin.get("/metrics")
def metrics() -> Response:
    return Response(dashboard().metrics.exposition(), mimetype="text/plain; version=0.0.4")


@admin.get("/admin/")
def home() -> tuple[str, int]:
    board = dashboard()
    problems: list[str] = []
    first, last = _dates(local_day(now()), problems)
    flow = request.args.get("flow", board.flow.id)[:40]

    def page(status: int = 200, **shown: object) -> tuple[str, int]:
        html = render_template("admin/dashboard.html", board=board, first=first, last=last, flow=flow,
                               periods=PERIODS, problems=problems, labels=labels, **shown)
        return html, status

    if board.engine is None:
        return page(figures=None, off=True)
    try:
        # A journal nobody has called yet has no table: the page must still show zeros.
        migrate.ensure(board.engine)
        found = figures(board.engine, day_start(first), day_start(last + timedelta(days=1)), flow or None,
                        order=[c.id for c in board.flow.criteria])
    except SQLAlchemyError as error:
        log.warning("dashboard: database unreachable (%s)", type(error).__name__)
        return page(503, figures=None, down=True)
    return page(figures=found, charts=_charts(board, found))


def _dates(today: date, problems: list[str]) -> tuple[date, date]:
    """The period asked for (`du`, `au`, or `jours`), the last 7 days when absent or wrong."""
    last, first = today, today - timedelta(days=6)
    if "jours" in request.args:
        days = request.args.get("jours", "")
        if days.isdigit() and 1 <= int(days) <= MAX_DAYS:
            return today - timedelta(days=int(days) - 1), today
        problems.append(
            "La durée demandée n'est pas un nombre de jours entre 1 et 3660 : "
            "les 7 derniers jours sont affichés."
        )
        return first, last
    if "du" in request.args or "au" in request.args:
        try:
            first = date.fromisoformat(request.args.get("du", "")[:10])
            last = date.fromisoformat(request.args.get("au", "")[:10])
        except ValueError:
            problems.append(
                "Les dates doivent être de la forme AAAA-MM-JJ : les 7 derniers jours sont affichés."
            )
            return today - timedelta(days=6), today
        if first > last or (last - first).days >= MAX_DAYS:
            problems.append(
                "La date de début doit précéder la date de fin, sur au plus dix ans : "
                "les 7 derniers jours sont affichés."
            )
            return today - timedelta(days=6), today
    return first, last


def _charts(board: Dashboard, found: Figures) -> dict[str, object]:
    days = [charts.Bar(day.strftime("%d/%m"), (("calls", count),)) for day, count in found.per_day]
    outcomes = [charts.Bar(labels.OUTCOMES[o], (("other", n),)) for o, n in found.outcomes.items()]
    funnel = [
        charts.Bar(
            board.question(q.question),
            (
                ("yes", q.yes),
                ("no", q.no),
                ("unsure", q.unsure),
                ("hung_up", q.hung_up),
                ("other", max(q.reached - q.yes - q.no - q.unsure - q.hung_up, 0)),
            ),
        )
        for q in found.funnel
    ]
    return {
        "days": charts.columns(
            "chart-days",
            "Appels par jour",
            "Nombre d'appels commencés chaque jour de la période ; "
            "les chiffres sont dans le tableau qui suit.",
            days,
        ),
        "outcomes": charts.rows(
            "chart-outcomes",
            "Issue des appels",
            "Nombre d'appels par issue ; les chiffres sont dans le tableau qui suit.",
            outcomes,
            labels.ANSWERS,
        ),
        "funnel": charts.rows(
            "chart-funnel",
            "Entonnoir par question",
            "Pour chaque question, les appels qui l'ont entendue, répartis selon la réponse ; "
            "les chiffres sont dans le tableau qui suit.",
            funnel,
            labels.ANSWERS,
        ),
    }
