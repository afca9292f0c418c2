"""The one exception family of the phone assistant."""

from __future__ import annotations


class IvrError(Exception):
    """Base of every error the assistant raises on purpose."""


class ContentError(IvrError):
    """A flow or prompt file is wrong; the message names the file, the field and what was expected."""

    def __init__(self, path: object, field: str, expected: str) -> None:
        self.path = str(path)
        self.field = field
        self.expected = expected
        super().__init__(f"{self.path}: {field}: {expected}")


class ConfigError(IvrError):
    """An environment variable holds a value the assistant cannot use."""


class TokenError(IvrError):
    """A state token is malformed, tampered with, or from another flow version."""


class GraphError(IvrError):
    """A flow's plan cannot be drawn (too large), or its drawing cannot be rendered."""
