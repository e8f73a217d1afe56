"""Sessions: one run of a feature, with its progress, cancellation, output and history.

Features build a request and a sink (where the text goes); ``SessionManager.start`` runs it in
the background and returns the session id at once, so the editor's request never times out.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from lsprotocol import types

from ren_lsp.edits import TrackedRange

if TYPE_CHECKING:
    from ren_lsp.models import Request
    from ren_lsp.server import RenLanguageServer

log = logging.getLogger(__name__)

#: seconds to wait for the didChange an applied edit causes (Neovim sends it 150 ms late)
SETTLE_TIMEOUT = 1.0
#: seconds between two progress reports ("a few times a second at most")
REPORT_INTERVAL = 0.25


class Progress:
    """A session's progress bar: a server-created, cancellable token, throttled reports.

    Clients that do not support progress get a ``window/showMessage`` at start and end.
    """

    def __init__(self, ls: RenLanguageServer, title: str,
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
        message = f"{tokens} tokens" + (f" · {line}" if line else "")
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


class SessionError(Exception):
    """A session cannot go on, for a reason the user can act on (the message says it)."""


RequestMaker = Callable[["Session"], Awaitable["Request"]]


class Sink(Protocol):
    """Where a session's text goes. Each feature brings one."""

    async def start(self, session: Session) -> None:
        """Before the request is sent (e.g. open the output document)."""

    def note(self, text: str) -> None:
        """A line for the user before the answer (e.g. which files were sent)."""

    def on_text(self, text: str) -> None:
        """A piece of the answer arrived."""

    async def finish(self, answer: str) -> str:
        """The answer is complete: use it; returns the summary the user sees."""

    async def keep_partial(self, partial: str, reason: str) -> str | None:
        """The session failed or was cancelled: keep what arrived; returns where it is."""


class Slots:
    """At most ``limit()`` sessions at once, the limit read anew each time (a settings change
    takes effect for waiting sessions without letting more run than it allows)."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit
        self._running = 0
        self._freed: asyncio.Event | None = None

    def locked(self) -> bool:
        return self._running >= self._limit()

    async def __aenter__(self) -> None:
        while self.locked():
            if self._freed is None:
                self._freed = asyncio.Event()
            await self._freed.wait()
        self._running += 1

    async def __aexit__(self, *exc: object) -> None:
        # Nothing awaited here: a slot is given back even while a cancel propagates.
        self._running -= 1
        freed, self._freed = self._freed, None
        if freed is not None:
            freed.set()


class Session:
    """One running request: its id, progress, task and the history it leaves."""

    def __init__(self, manager: SessionManager, command: str, title: str) -> None:
        self.id = uuid.uuid4().hex[:8]
        self.command = command
        self.title = title
        self.manager = manager
        self.progress = Progress(manager.ls, title, on_cancel=self.cancel)
        self.task: asyncio.Task[None] | None = None
        self.history: dict[str, Any] = {"session": self.id, "command": command}
        #: False once the answer is complete: applying it is not interrupted half-way
        self.cancellable = True

    def cancel(self) -> bool:
        if self.task is None or self.task.done() or not self.cancellable:
            return False
        self.cancellable = False  # once: a second cancel must not interrupt the cleanup
        self.task.cancel()
        return True


class SessionManager:
    """The live sessions of a server, the limit on how many run at once, tracked ranges."""

    def __init__(self, ls: RenLanguageServer) -> None:
        self.ls = ls
        self.sessions: dict[str, Session] = {}
        self._slots = Slots(lambda: self.ls.settings.max_sessions)
        self._doc_locks: dict[str, asyncio.Lock] = {}
        self._tracked: dict[str, list[TrackedRange]] = {}
        self._change_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._own_edits: set[str] = set()

    def slots(self) -> Slots:
        return self._slots

    def start(self, command: str, title: str, request: Request | RequestMaker, sink: Sink,
              **history: Any) -> Session:
        """Run a session in the background; ``request`` may be made once the sink started
        (for work that must come first, like a locally computed report)."""
        session = Session(self, command, title)
        session.history.update(history)
        self.sessions[session.id] = session
        session.task = asyncio.get_running_loop().create_task(
            self._run(session, request, sink), name=f"ren-session-{session.id}")
        return session

    def cancel(self, session_id: str | None = None) -> list[str]:
        targets = ([self.sessions[session_id]] if session_id in self.sessions
                   else [] if session_id else list(self.sessions.values()))
        return [s.id for s in targets if s.cancel()]

    # -- ranges the user may edit while a session works on them ---------------------------

    def track(self, uri: str, tracked: TrackedRange) -> None:
        self._tracked.setdefault(uri, []).append(tracked)

    def untrack(self, uri: str, tracked: TrackedRange) -> None:
        ranges = self._tracked.get(uri, [])
        if tracked in ranges:
            ranges.remove(tracked)

    def own_edit(self, uri: str, start: tuple[int, int], end: tuple[int, int],
                 new_text: str) -> None:
        """We are about to edit ``uri``: the other ranges tracked there follow our edit exactly,
        and the editor's next report of a change (our edit, as it diffed it: often coarser,
        which would put ranges near ours in conflict for nothing) is not applied to them."""
        for tracked in self._tracked.get(uri, []):
            tracked.on_change((start, end), new_text)
        self._own_edits.add(uri)

    def own_edit_refused(self, uri: str) -> None:
        self._own_edits.discard(uri)

    def on_did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        for waiter in self._change_waiters.pop(uri, []):
            if not waiter.done():
                waiter.set_result(None)
        if uri in self._own_edits:
            self._own_edits.discard(uri)
            return
        for tracked in self._tracked.get(uri, []):
            for change in params.content_changes:
                if isinstance(change, types.TextDocumentContentChangePartial):
                    r = change.range
                    tracked.on_change(((r.start.line, r.start.character),
                                       (r.end.line, r.end.character)), change.text)
                else:
                    tracked.on_change(None, change.text)

    async def settled(self, uri: str, version: int | None) -> None:
        """Wait until the editor reports a change to ``uri`` after ``version`` (our own edit).

        Editors answer applyEdit before they send the didChange it causes (Neovim holds it
        back 150 ms): until it arrives, our view of the document is stale, and another
        session's edit would be placed by stale positions.
        """
        doc = self.ls.workspace.text_documents.get(uri)
        if doc is None or version is None or doc.version != version:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._change_waiters.setdefault(uri, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, SETTLE_TIMEOUT)
        except TimeoutError:
            log.info("no didChange for %s within %.1f s of an applied edit", uri,
                     SETTLE_TIMEOUT)

    def doc_lock(self, uri: str) -> asyncio.Lock:
        """Held while editing a document, so two sessions never interleave edits on it."""
        return self._doc_locks.setdefault(uri, asyncio.Lock())

    # -- running one session ------------------------------------------------------------

    async def _run(self, session: Session, make: Request | RequestMaker,
                   sink: Sink) -> None:
        from ren_lsp.models import ModelError, TextDelta

        progress = session.progress
        session.history["started"] = time.time()
        stream = None
        try:
            slots = self.slots()
            if slots.locked():
                await progress.begin("waiting for another request to finish…")
            async with slots:
                if not progress.begun:
                    await progress.begin("waiting for Astra…")
                await sink.start(session)
                request = make if not callable(make) else await make(session)
                session.history["request"] = request.transcript()
                tokens = 0
                async with self.ls.model().stream(request) as stream:
                    async for event in stream:
                        if isinstance(event, TextDelta):
                            tokens += 1
                            sink.on_text(event.text)
                            progress.report(tokens, lambda: stream.text)
                session.cancellable = False
                summary = await sink.finish(stream.text)
            await self._end(session, sink, "done", stream.text, summary)
        except asyncio.CancelledError:
            answer = stream.text if stream is not None else ""
            await self._end(session, sink, "cancelled", answer, "Cancelled")
        except (ModelError, SessionError) as error:
            answer = getattr(error, "partial_text", "") or (stream.text if stream else "")
            await self._end(session, sink, "failed", answer, f"Failed: {error}",
                            error=f"{session.title} failed: {error}")
        except Exception as error:
            log.exception("session %s failed", session.id)
            answer = stream.text if stream is not None else ""
            await self._end(session, sink, "failed", answer,
                            "Failed: internal error (see the log)",
                            error=f"{session.title} failed with an internal error "
                            f"({type(error).__name__}); details are in the server log. "
                            "Please report it.")

    async def _end(self, session: Session, sink: Sink, status: str, answer: str,
                   summary: str, *, error: str | None = None) -> None:
        """Keep what arrived, end the progress, tell the user, write the history: always all
        four, even if keeping the answer fails or a second cancel arrives meanwhile."""
        session.cancellable = False
        where = None
        try:
            if status != "done":
                # Shielded: a cancel arriving now must not cut the saving of the answer short.
                where = await asyncio.shield(sink.keep_partial(answer, status))
        except BaseException as exc:  # the answer is in the history regardless
            log.error("keeping the partial answer of session %s failed: %s", session.id,
                      type(exc).__name__)
            summary += "; the answer could not be saved to a document (it is in the history)"
        finally:
            if where and answer:
                summary += f"; what arrived is in {where}"
            redact = self.ls.redactor.redact if self.ls.redactor else (lambda text: text)
            session.progress.end(redact(summary))
            if error is not None:
                kept = f" The partial answer is in {where}." if where and answer else ""
                self.ls.show_message(error + kept, types.MessageType.Error)
                session.history["error"] = redact(error)
            self.sessions.pop(session.id, None)
            session.history.update(status=status, answer=answer, ended=time.time())
            from ren_lsp.output import record_history

            record_history(session.history)
