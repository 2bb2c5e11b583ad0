"""Keep secrets out of messages and logs.

:func:`redact` masks the value of anything that looks like a credential in a piece of text
(``api_key=...``, ``"api-key": "..."``, ``password: ...``, ``token=...``, ``Authorization:
Bearer ...``, the password in a ``scheme://user:password@host`` URL) and every value
registered with :func:`register_secret` (the configured NCBI key and Neo4j password),
wherever it appears. Error messages built from a remote answer go through it before they
are raised; :func:`install_log_redaction` makes every log record go through it too.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "***"

_KEYS = r"(?:api[_-]?key|apikey|password|passwd|pwd|secret|token|access[_-]?token|auth)"
# key = value, key: value, "key": "value", key=value&... (query strings and JSON bodies).
_PAIR = re.compile(
    rf"""(?ix)
    (?P<key>["']?\b{_KEYS}\b["']?\s*[:=]\s*)
    (?P<quote>["']?)
    (?P<value>[^\s"'&,;}}<]+)
    """
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)")

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears from now on (values under 4 characters are
    ignored: masking them would garble ordinary text)."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every credential-looking value and registered secret masked."""
    if not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _PAIR.sub(lambda m: f"{m['key']}{m['quote']}{MASK}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)


_installed = False


def install_log_redaction() -> None:
    """Make every log record of this process pass through :func:`redact` (idempotent).

    A record factory rather than a filter: filters on the root logger do not see records
    that child loggers hand to the root's handlers, and third-party handlers vary.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to logging to report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
