"""Secrets (bot tokens) out of the logs: both messengers put the token in every API URL."""

from __future__ import annotations

import logging
from collections.abc import Iterable


class RedactSecret(logging.Filter):
    """Replaces ``secret`` in the records of the logger it is attached to."""

    def __init__(self, secret: str):
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg = message.replace(self.secret, "<token>")
            record.args = ()
        return True


def guard_secret(secret: str, loggers: Iterable[str]) -> None:
    """Attach a :class:`RedactSecret` for ``secret`` to each named logger, once."""
    if not secret:
        return
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecret) and f.secret == secret for f in logger.filters):
            logger.addFilter(RedactSecret(secret))


def redact(text: str, *secrets: str) -> str:
    """``text`` with every secret replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<token>")
    return text
