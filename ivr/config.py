"""Settings: defaults, then the environment, then an explicit mapping (tests)."""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ivr.errors import ConfigError
from ivr.hours import Schedule, parse_hours

ROOT = Path(__file__).resolve().parents[1]

# Environment variable → setting. One README table documents them all.
ENVIRONMENT = {
    "IVR_LOCAL": "local",
    "TWILIO_AUTH_TOKEN": "auth_token",
    "PUBLIC_BASE_URL": "public_base_url",
    "IVR_SECRET": "secret",
    "IVR_SECRET_PREVIOUS": "secret_previous",
    "IVR_FLOW": "flow",
    "IVR_PROMPTS": "prompts",
    "IVR_PLACES_DATA": "places_data",
    "IVR_VOICE": "voice",
    "IVR_SPEECH_RATE": "speech_rate",
    "IVR_SPEECH_MIN_CONFIDENCE": "min_confidence",
    "IVR_INPUT_TIMEOUT": "input_timeout",
    "HELPLINE_NUMBER": "helpline_number",
    "HELPLINE_HOURS": "helpline_hours",
    "IVR_DIAL_TIME_LIMIT": "dial_time_limit",
    "TWILIO_ACCOUNT_SID": "account_sid",
    "SMS_FROM": "sms_from",
    "TWILIO_MESSAGING_SERVICE_SID": "messaging_service_sid",
    "IVR_JOURNAL": "journal",
    "IVR_DATABASE_URL": "database_url",
    "IVR_RETENTION_DAYS": "retention_days",
    "IVR_ADMIN_PASSWORD": "admin_password",
    "IVR_LOG_FORMAT": "log_format",
    "IVR_SMS_DAILY_CAP": "sms_daily_cap",
}

# Settings whose values never appear in a message: keys, passwords, URLs that may hold a password.
SECRETS = frozenset({"auth_token", "secret", "secret_previous", "admin_password", "database_url"})

# Twilio's French voices (DOMAIN.md): Amazon Polly's, and Google's fr-FR voices by model and letter.
POLLY_VOICES = frozenset(
    {"Polly.Lea", "Polly.Celine", "Polly.Mathieu", "Polly.Lea-Neural", "Polly.Remi-Neural"}
)
GOOGLE_VOICE = re.compile(r"Google\.fr-FR-[A-Za-z0-9]+(-[A-Za-z0-9]+)*")

# Every pattern is matched whole (fullmatch): "$" would let a trailing newline through.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# An alphanumeric sender ID: 1 to 11 letters, digits or spaces, at least one letter.
SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
AUTH_TOKEN = re.compile(r"[0-9a-f]{32}")
# Printable ASCII without spaces, long enough to be guessed by nobody.
SECRET = re.compile(r"[!-~]{32,256}")


class Settings(BaseModel):
    """Everything the server reads from its environment, checked once at start-up."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    local: bool = False
    auth_token: str = ""
    public_base_url: str = ""
    flow: Path = Path("flows/franceconnect-2026.yaml")
    # Seals the state tokens and keys the call references in logs and journal (never Twilio's CallSid).
    secret: str = Field(default="", repr=False)
    secret_previous: str = Field(default="", repr=False)
    prompts: Path = Path("prompts/fr")
    places_data: Path = Path("data")
    voice: str = "Polly.Lea-Neural"
    speech_rate: str = ""
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    input_timeout: int = Field(default=6, ge=1, le=60)
    helpline_number: str = ""
    helpline_hours: str = ""
    dial_time_limit: int = Field(default=1800, ge=60, le=14400)
    account_sid: str = ""
    sms_from: str = ""
    messaging_service_sid: str = ""
    journal: bool = True
    # Empty: a SQLite file in the instance folder, chosen by the app factory.
    database_url: str = Field(default="", repr=False)
    retention_days: int = Field(default=365, ge=1, le=3650)
    admin_password: str = Field(default="", repr=False)
    log_format: Literal["text", "json"] = "text"
    # Result SMS one destination may receive per day (Paris time), whatever the calls.
    sms_daily_cap: int = Field(default=1, ge=1, le=10)

    @field_validator("account_sid", "messaging_service_sid")
    @classmethod
    def _sid(cls, sid: str, info: ValidationInfo) -> str:
        prefix = "AC" if info.field_name == "account_sid" else "MG"
        if sid and not re.fullmatch(rf"{prefix}[0-9a-f]{{32}}", sid):
            raise ValueError(f"{prefix} followed by 32 hexadecimal digits, as shown in the Twilio console")
        return sid

    @field_validator("admin_password")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < 16:
            raise ValueError("at least 16 characters: a random string, such as `openssl rand -hex 32` prints")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, url: str) -> str:
        if url and not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("a sqlite:///path or postgresql://user:password@host/database URL")
        return url

    @field_validator("auth_token")
    @classmethod
    def _auth_token(cls, token: str) -> str:
        if token and not AUTH_TOKEN.fullmatch(token):
            raise ValueError("32 hexadecimal digits (lower case), as shown in the Twilio console")
        return token

    @field_validator("secret", "secret_previous")
    @classmethod
    def _secret(cls, secret: str) -> str:
        if secret and not SECRET.fullmatch(secret):
            raise ValueError(
                "32 to 256 printable characters without spaces, such as the output of "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return secret

    @field_validator("voice")
    @classmethod
    def _french_voice(cls, voice: str) -> str:
        if voice not in POLLY_VOICES and not GOOGLE_VOICE.fullmatch(voice):
            raise ValueError(f"a French voice: {', '.join(sorted(POLLY_VOICES))} or Google.fr-FR-…")
        return voice

    @field_validator("helpline_number")
    @classmethod
    def _e164(cls, number: str) -> str:
        if number and not E164.fullmatch(number):
            raise ValueError(
                "a phone number in international E.164 form: +, country code, number, "
                "no spaces or dots, such as +33123456789"
            )
        return number

    @field_validator("sms_from")
    @classmethod
    def _sender(cls, sender: str) -> str:
        if sender and not (E164.fullmatch(sender) or SENDER_ID.fullmatch(sender)):
            raise ValueError(
                "a phone number in E.164 form such as +33612345678, "
                "or an alphanumeric sender ID of at most 11 letters and digits"
            )
        return sender

    @field_validator("helpline_hours")
    @classmethod
    def _hours(cls, hours: str) -> str:
        if hours:
            parse_hours(hours)
        return hours.strip()

    @property
    def schedule(self) -> Schedule | None:
        """When the advisor answers; None means whenever the line is called."""
        return parse_hours(self.helpline_hours) if self.helpline_hours else None

    @model_validator(mode="after")
    def _hours_need_a_number(self) -> Settings:
        if self.helpline_hours and not self.helpline_number:
            raise ValueError("HELPLINE_HOURS needs HELPLINE_NUMBER: hours of an advisor who has no number")
        return self

    @model_validator(mode="after")
    def _sms_complete(self) -> Settings:
        # Half an SMS set-up is a mistake to report at start-up, not a silent "no SMS" at the result.
        if (self.sms_from or self.messaging_service_sid) and not (self.account_sid and self.auth_token):
            raise ValueError(
                "SMS_FROM or TWILIO_MESSAGING_SERVICE_SID needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
        return self

    @model_validator(mode="after")
    def _fail_closed(self) -> Settings:
        # Open to the internet, a server without these would serve anyone (no token), trust the Host
        # header (no base URL) or carry state anyone can forge (no secret): refuse to start.
        if not self.local:
            required = {"TWILIO_AUTH_TOKEN": self.auth_token, "PUBLIC_BASE_URL": self.public_base_url,
                        "IVR_SECRET": self.secret}
            for name, value in required.items():
                if not value:
                    raise ValueError(f"{name} is required (IVR_LOCAL=1 runs without it, for local use only)")
        if self.secret_previous and not self.secret:
            raise ValueError("IVR_SECRET_PREVIOUS needs IVR_SECRET, the secret that replaces it")
        if self.secret_previous and self.secret_previous == self.secret:
            raise ValueError("IVR_SECRET_PREVIOUS must differ from IVR_SECRET")
        return self

    @property
    def secrets(self) -> tuple[str, ...]:
        """The state-token secrets to accept, the current one (used to seal) first."""
        return tuple(s for s in (self.secret, self.secret_previous) if s)

    @property
    def sms_configured(self) -> bool:
        """Whether results can be sent by SMS through Twilio's REST API."""
        return bool(self.account_sid and self.auth_token and (self.sms_from or self.messaging_service_sid))

    @field_validator("flow", "prompts", "places_data")
    @classmethod
    def _from_root(cls, path: Path) -> Path:
        # A relative path means the working directory when it exists there, else the project's.
        if path.is_absolute():
            return path
        return path.resolve() if path.exists() else ROOT / path

    @field_validator("public_base_url")
    @classmethod
    def _scheme_and_host(cls, url: str) -> str:
        if not url:
            return url
        expected = "a scheme and a host only, such as https://ivr.example.fr (no path, query or spaces)"
        if not url.isprintable() or any(ch.isspace() for ch in url):
            raise ValueError(expected)
        parts = urllib.parse.urlsplit(url)
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise ValueError(expected) from exc
        if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/")
                or parts.query or parts.fragment or "@" in parts.netloc or url.endswith(("?", "#"))):
            raise ValueError(expected)
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("speech_rate")
    @classmethod
    def _percent(cls, rate: str) -> str:
        if rate and not (rate.endswith("%") and rate[:-1].isdigit() and 20 <= int(rate[:-1]) <= 200):
            raise ValueError("a percentage between 20% and 200%, such as 90%")
        return rate


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings from the environment, then `overrides` keyed by setting or variable name."""
    values: dict[str, Any] = {
        field: os.environ[name] for name, field in ENVIRONMENT.items() if os.environ.get(name)
    }
    for key, value in (overrides or {}).items():
        values[ENVIRONMENT.get(key, key)] = value
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:
            raise ConfigError(message) from exc
        field = str(first["loc"][0])
        names = {v: k for k, v in ENVIRONMENT.items()}
        # A secret is never repeated, not even in an error message.
        got = "" if field in SECRETS else f" (got {first.get('input')!r})"
        raise ConfigError(f"{names.get(field, field)}: {message}{got}") from exc
