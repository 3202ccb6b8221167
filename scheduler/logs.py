"""Logging set-up: human-readable or JSON lines, with secrets redacted whatever logs them."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from sync.redact import Redactor

__all__ = ["LEVELS", "RedactingFilter", "configure_logging"]

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class RedactingFilter(logging.Filter):
    """Masks secrets in every record, including third-party libraries' ones."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str)


def configure_logging(fmt: str, level: str, redactor: Redactor) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(redactor))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # urllib3 logs full request lines at DEBUG; keep it quieter than our own debug output.
    logging.getLogger("urllib3").setLevel(max(logging.INFO, root.level))
