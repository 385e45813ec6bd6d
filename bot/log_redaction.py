"""Keeping secrets out of genrebot's logs, whatever LOG_LEVEL says.

At DEBUG, discord.py logs gateway payloads and HTTP routes (interaction tokens ride in
INTERACTION_CREATE and in every webhook URL), aiosqlite logs every SQL statement with its
parameters (encrypted tokens, OAuth states), spotipy logs request headers and bodies (the client
secret, bearer tokens). Those loggers are capped at INFO, and spotipy is silenced: its ERROR line
repeats, with the request's whole URL, a failure our Spotify client raises as a typed error and
reports in words (the expected 403 on /audio-features, say). The one handler genrebot installs
redacts whatever still looks like a secret: the configured secrets themselves, tokens in webhook
and interaction URLs, token-like JSON fields, and credentials after Bot/Bearer/Basic.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

CAPPED_LOGGERS = (
    "urllib3", "aiosqlite", "discord.gateway", "discord.http", "discord.webhook", "discord.state",
)
SILENCED_LOGGERS = ("spotipy",)
REDACTED = "[redacted]"
_PATTERNS = (
    (re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/\s?\"']+"), rf"\1{REDACTED}"),
    (re.compile(r"""(["']?(?:token|access_token|refresh_token|client_secret|code|state)["']?\s*[:=]\s*["']?)"""
                r"""[^"'\s,&}]+"""), rf"\1{REDACTED}"),
    (re.compile(r"((?:Bot|Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{REDACTED}"),
)
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Rewrites a record's message without the secrets it may carry."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install_log_handler(level: str, *, secrets: Iterable[str] = (), stream: TextIO | None = None) -> logging.Handler:
    """One redacting handler on the root logger at `level`, the chatty loggers capped at INFO, spotipy silenced."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    floor = max(logging.INFO, root.level)
    for name in CAPPED_LOGGERS:
        logging.getLogger(name).setLevel(floor)
    for name in SILENCED_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return handler
