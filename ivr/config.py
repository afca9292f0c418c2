"""Settings: defaults, then the environment, then an explicit mapping (tests)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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

ROOT = Path(__file__).resolve().parents[1]

# Environment variable → setting. One README table documents them all.
ENVIRONMENT = {
    "TWILIO_AUTH_TOKEN": "auth_token",
    "PUBLIC_BASE_URL": "public_base_url",
    "IVR_FLOW": "flow",
    "IVR_PROMPTS": "prompts",
    "IVR_PLACES_DATA": "places_data",
    "IVR_VOICE": "voice",
    "IVR_SPEECH_RATE": "speech_rate",
    "IVR_SPEECH_MIN_CONFIDENCE": "min_confidence",
    "IVR_INPUT_TIMEOUT": "input_timeout",
    "HELPLINE_NUMBER": "helpline_number",
    "IVR_DIAL_TIME_LIMIT": "dial_time_limit",
    "TWILIO_ACCOUNT_SID": "account_sid",
    "SMS_FROM": "sms_from",
    "TWILIO_MESSAGING_SERVICE_SID": "messaging_service_sid",
}

BASIC_VOICES = {"man", "woman", "alice"}

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# An alphanumeric sender ID: 1 to 11 letters, digits or spaces, at least one letter.
SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")


class Settings(BaseModel):
    """Everything the server reads from its environment, checked once at start-up."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    auth_token: str = ""
    public_base_url: str = ""
    flow: Path = Path("flows/franceconnect-seed.yaml")
    prompts: Path = Path("prompts/fr")
    places_data: Path = Path("data")
    voice: str = "Polly.Lea-Neural"
    speech_rate: str = ""
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    input_timeout: int = Field(default=6, ge=1, le=60)
    helpline_number: str = ""
    dial_time_limit: int = Field(default=1800, ge=60, le=14400)
    account_sid: str = ""
    sms_from: str = ""
    messaging_service_sid: str = ""

    @field_validator("account_sid", "messaging_service_sid")
    @classmethod
    def _sid(cls, sid: str, info: ValidationInfo) -> str:
        prefix = "AC" if info.field_name == "account_sid" else "MG"
        if sid and not re.fullmatch(rf"{prefix}[0-9a-f]{{32}}", sid):
            raise ValueError(f"{prefix} followed by 32 hexadecimal digits, as shown in the Twilio console")
        return sid

    @field_validator("helpline_number")
    @classmethod
    def _e164(cls, number: str) -> str:
        if number and not E164.match(number):
            raise ValueError(
                "a phone number in international E.164 form: +, country code, number, "
                "no spaces or dots, such as +33123456789"
            )
        return number

    @field_validator("sms_from")
    @classmethod
    def _sender(cls, sender: str) -> str:
        if sender and not (E164.match(sender) or SENDER_ID.match(sender)):
            raise ValueError(
                "a phone number in E.164 form such as +33612345678, "
                "or an alphanumeric sender ID of at most 11 letters and digits"
            )
        return sender

    @model_validator(mode="after")
    def _sms_complete(self) -> Settings:
        # Half an SMS set-up is a mistake to report at start-up, not a silent "no SMS" at the result.
        if (self.sms_from or self.messaging_service_sid) and not (self.account_sid and self.auth_token):
            raise ValueError(
                "SMS_FROM or TWILIO_MESSAGING_SERVICE_SID needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
        return self

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
    def _no_trailing_slash(cls, url: str) -> str:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL")
        return url.rstrip("/")

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
        raise ConfigError(f"{names.get(field, field)}: {message} (got {first.get('input')!r})") from exc
