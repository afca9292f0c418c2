"""Settings: defaults, then the environment, then an explicit mapping (tests)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ivr.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

# Environment variable → setting. One README table documents them all.
ENVIRONMENT = {
    "TWILIO_AUTH_TOKEN": "auth_token",
    "PUBLIC_BASE_URL": "public_base_url",
    "IVR_FLOW": "flow",
    "IVR_PROMPTS": "prompts",
    "IVR_VOICE": "voice",
    "IVR_SPEECH_RATE": "speech_rate",
    "IVR_SPEECH_MIN_CONFIDENCE": "min_confidence",
    "IVR_INPUT_TIMEOUT": "input_timeout",
    "HELPLINE_NUMBER": "helpline_number",
    "IVR_DIAL_TIME_LIMIT": "dial_time_limit",
}

BASIC_VOICES = {"man", "woman", "alice"}


class Settings(BaseModel):
    """Everything the server reads from its environment, checked once at start-up."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    auth_token: str = ""
    public_base_url: str = ""
    flow: Path = Path("flows/franceconnect-seed.yaml")
    prompts: Path = Path("prompts/fr")
    voice: str = "Polly.Lea-Neural"
    speech_rate: str = ""
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    input_timeout: int = Field(default=6, ge=1, le=60)
    helpline_number: str = Field(default="", pattern=r"^(\+[1-9][0-9]{6,14})?$")
    dial_time_limit: int = Field(default=1800, ge=60, le=14400)

    @field_validator("flow", "prompts")
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
        field = str(first["loc"][0]) if first["loc"] else "settings"
        names = {v: k for k, v in ENVIRONMENT.items()}
        raise ConfigError(f"{names.get(field, field)}: {first['msg']} (got {first.get('input')!r})") from exc
