"""A session's progress bar: a server-created, cancellable token, throttled reports."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ren_lsp.text import plural

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server

log = logging.getLogger(__name__)

#: seconds between two progress reports ("a few times a second at most")
REPORT_INTERVAL = 0.25


class Progress:
    """A session's progress bar: a server-created, cancellable token, throttled reports.

    Clients that do not support progress get a ``window/showMessage`` at start and end.
    """

    def __init__(self, ls: Server, title: str,
                 on_cancel: Callable[[], object] | None = None) -> None:
        self._ls = ls
        self.title = title
        self._on_cancel = on_cancel
        self.token: str | None = None
        self.begun = False
        self._last_report = 0.0
        self._reported_any = False

    async def begin(self, message: str) -> None:
        self.begun = True
        caps = self._ls.client_capabilities.window
        if not (caps and caps.work_done_progress):
            self._ls.show_message(f"{self.title}: {message}", types.MessageType.Info)
            return
        token = f"ren-{uuid.uuid4().hex[:12]}"
        create = asyncio.ensure_future(self._ls.work_done_progress.create_async(token))
        try:
            # Shielded: cancelling the session must not cancel a request the editor will
            # still answer (pygls reports an "Error in server" on the late answer).
            await asyncio.shield(create)
        except asyncio.CancelledError:
            # Finish the handshake, so the cancelled session can end its progress properly.
            if await _succeeded(create):
                self._open(token, message)
            raise
        except Exception as exc:  # the client refused: fall back to messages
            log.info("workDoneProgress/create failed: %s", exc)
            self._ls.show_message(f"{self.title}: {message}", types.MessageType.Info)
        else:
            self._open(token, message)

    def _open(self, token: str, message: str) -> None:
        self.token = token
        on_cancel = self._on_cancel
        if on_cancel is not None:
            self._ls.work_done_progress.tokens[token].add_done_callback(
                lambda future: on_cancel() if future.cancelled() else None)
        self._ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=self.title, cancellable=on_cancel is not None, message=message))

    def report_message(self, message: str) -> None:
        """A plain report (no throttling: the caller reports rarely)."""
        if self.token is not None:
            self._ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(
                message=message))

    def report(self, tokens: int, text: Callable[[], str]) -> None:
        """Report the stream's state, at most every REPORT_INTERVAL (the first at once).

        ``text`` gives the answer so far; it is only read when a report is due.
        """
        if self.token is None:
            return
        now = time.monotonic()
        if self._reported_any and now - self._last_report < REPORT_INTERVAL:
            return
        self._reported_any, self._last_report = True, now
        lines = [line for line in text()[-400:].splitlines() if line.strip()]
        line = lines[-1].strip() if lines else ""
        line = line if len(line) <= 80 else line[:79] + "…"
        message = plural(tokens, "token") + (f" · {line}" if line else "")
        self._ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(
            message=message))

    def end(self, message: str) -> None:
        if self.token is not None:
            self._ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(
                message=message))
            self._ls.work_done_progress.tokens.pop(self.token, None)
        else:
            self._ls.show_message(f"{self.title}: {message}", types.MessageType.Info)


async def _succeeded(future: asyncio.Future[Any]) -> bool:
    try:
        await future
    except (Exception, asyncio.CancelledError):
        return False
    return True
