"""Logging: to stderr or a file, never stdout (stdout is the LSP transport), and never a secret."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO,
          "debug": logging.DEBUG}


_KEY_PATTERNS = re.compile(
    r"""((?:["']?api_?key["']?\s*[:=]\s*["']?)|(?:Bearer\s+))(?!\*\*\*)[^\s"',)}]+""",
    re.IGNORECASE)


class RedactingFilter(logging.Filter):
    """Masks known secret values in every record, as a last line of defence.

    The code never logs the key on purpose; this catches the accident (an exception that
    quotes a header, a third-party debug line).
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def known(self) -> tuple[str, ...]:
        """The secret values this filter has been told of (the API key, a forge token)."""
        return tuple(self._secrets)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        # Keys we have not been told of yet: pygls logs the initialize request (whose
        # initializationOptions may hold an apiKey) before the server has read it.
        return _KEY_PATTERNS.sub(r"\1***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def setup_logging(*, level: str = "info", log_file: Path | None = None) -> RedactingFilter:
    """Send ren-lsp's logs to stderr (and a file when asked); returns the redacting filter."""
    redactor = RedactingFilter()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        from ren_lsp.private import open_private, private_folder

        # The log holds code and answers when debugging: 0600 before the first line, in a
        # folder made 0700 when it had to be made (the user's own folder is left as it is).
        private_folder(log_file.parent, tighten=False)
        open_private(log_file, "a").close()
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(redactor)
        root.addHandler(handler)
    root.setLevel(LEVELS.get(level, logging.INFO))
    # httpx logs every request at INFO; keep it quiet unless debugging.
    logging.getLogger("httpx").setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.INFO if level == "debug" else logging.WARNING)
    # pygls logs every message it sends and receives at INFO: only when debugging.
    logging.getLogger("pygls").setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
    # ...but its lifecycle lines ("Serving on 127.0.0.1:2087") are worth having.
    logging.getLogger("pygls.server").setLevel(
        logging.DEBUG if level == "debug" else LEVELS.get(level, logging.INFO))
    return redactor
