"""Sessions: one run of a feature, as one straight-line coroutine.

A command checks its argument, then ``ls.sessions.run(command, title, body)`` starts ``body``
in the background and answers ``{"session": id}`` at once (editors time requests out). The body
gets a ``Session``: its repository context, model turns (``ask``, as many as it needs, tool
calls returned), confirmations, progress reports and its transcript (an output document and
the history). Local work between turns (a report, git, a command) is just code in the body.
Whatever goes wrong ends in one place: the user's message, the partial answer kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs
from lsprotocol import types

from ren_lsp.lsp.progress import Progress

if TYPE_CHECKING:
    from ren_lsp.lsp.output import OutputDocument
    from ren_lsp.lsp.protocol import Server
    from ren_lsp.models import Reply, Request
    from ren_lsp.models.types import Block

log = logging.getLogger(__name__)


class SessionError(Exception):
    """A session cannot go on, for a reason the user can act on (the message says it)."""


@attrs.frozen
class Context:
    """What the repository adds to a request: the rendered text and the files it came from."""

    text: str = ""
    files: tuple[str, ...] = ()
    #: while the workspace is still being indexed, how far it got ("indexed N of M files so
    #: far"); "" once it is complete
    coverage: str = ""

    def note(self) -> str:
        """A line for an output document, so the user sees what left their machine (and, while
        the index is being built, that it was chosen from part of the workspace)."""
        if not self.files:
            return ""
        shown = ", ".join(f"`{f}`" for f in self.files[:12])
        more = f" and {len(self.files) - 12} more" if len(self.files) > 12 else ""
        partial = f" ({self.coverage})" if self.coverage else ""
        return f"> Context sent to Astra: {shown}{more}{partial}\n\n"


Body = Callable[["Session"], Awaitable[str]]
#: the progress bar's first message, until the session says more
STARTING = "waiting for Astra…"


class Session:
    """One running feature: its id, progress, transcript, model turns and the history it leaves.

    ``answer`` is all text the model sent in this session (every turn), so none is lost.
    """

    def __init__(self, manager: SessionManager, command: str, title: str,
                 starting: str = STARTING) -> None:
        self.id = uuid.uuid4().hex[:8]
        self.command = command
        self.title = title
        self.manager = manager
        self.ls = manager.ls
        self.progress = Progress(manager.ls, title, on_cancel=self.cancel)
        self.task: asyncio.Task[None] | None = None
        self.history: dict[str, Any] = {"session": self.id, "command": command}
        self.transcript: OutputDocument | None = None
        #: the heading of the document a partial or unapplied answer is kept in
        self.keep_heading = title
        self._answer: list[str] = []
        self._tokens = 0
        #: False once the result is being applied: that is not interrupted half-way
        self.cancellable = True
        #: a cancel cut its wait for the editor short while it was held
        self.cut = False
        self.starting = starting
        from ren_lsp.context.secrets import Redactor

        known = manager.ls.redactor
        #: every text the session sends, shows in a file or keeps goes through this (``outgoing``)
        self.secrets = Redactor(manager.ls.settings.secret_patterns,
                                known.known if known is not None else tuple)

    @property
    def answer(self) -> str:
        return "".join(self._answer)

    def cancel(self) -> bool:
        if self.task is None or self.task.done():
            return False
        if not self.cancellable:
            # Held (applying its result): not interrupted half-way, but a wait for the
            # editor's answer to an edit ends now, and no further edit goes out.
            if self.cut or self.manager.ending(self) or not self.manager.abandon(self):
                return False
            self.cut = True
            return True
        self.cancellable = False  # once: a second cancel must not interrupt the cleanup
        self.task.cancel()
        return True

    def hold(self) -> None:
        """From here on the session finishes: cancelling would leave half-applied work."""
        self.cancellable = False

    # -- the toolkit ------------------------------------------------------------------------

    async def open_transcript(self, heading: str) -> OutputDocument:
        """The session's Markdown output document, opened beside the code where possible."""
        from ren_lsp.lsp.output import OutputDocument

        doc = OutputDocument(self.ls, self.id, heading, self.secrets.redact)
        self.transcript = doc
        self.history["output"] = str(doc.path)
        if not await doc.show():
            # The answer still streams into the document (editors load it in a buffer); tell
            # the user where it is, since we could not open it for them.
            self.ls.show_message(f"{self.title}: the answer streams into {doc.path}",
                                 types.MessageType.Info)
        return doc

    async def context(self, *, question: str = "", uri: str | None = None,
                      selection: str = "") -> Context:
        """The repository context for a request, from what is indexed so far; the transcript
        and the history say which files were sent."""
        if uri is not None:
            self.learn(uri)
        result = await self.ls.indexing.query(question=question, uri=uri, selection=selection)
        if result is None or not result.text.strip():
            context = Context()
        else:
            context = Context(result.text, tuple(f.path for f in result.files),
                              result.coverage_note())
        self.history["context_files"] = list(context.files)
        if context.coverage:
            self.history["context_coverage"] = context.coverage
        if context.files and self.transcript is not None:
            # Queued to go out with the answer's first words, not alone.
            self.transcript.append(context.note(), send=False)
        return context

    async def ask(self, request: Request, *, on_text: Callable[[str], object] | None = None,
                  role: str = "default") -> Reply:
        """One model turn: streams the reply (``on_text`` gets each piece), reports progress,
        and returns it whole (text, tool calls, stop reason). Call it as often as needed."""
        from ren_lsp.models import TextDelta

        sent = self.outgoing(request)
        self.history["request"] = sent.transcript()  # what was sent, not what was asked
        model = self.ls.model(role)
        async with model.stream(sent) as stream:
            try:
                async for event in stream:
                    if isinstance(event, TextDelta):
                        self._tokens += 1
                        self._answer.append(event.text)
                        if on_text is not None:
                            on_text(event.text)
                        self.progress.report(self._tokens, lambda: self.answer)
            finally:
                self.history["turns"] = self.history.get("turns", 0) + 1
            return stream.reply()

    def can_confirm(self) -> bool:
        """Whether the client can ask the user (``window/showMessageRequest``)."""
        caps = self.ls.client_capabilities.window
        return caps is not None and caps.show_message is not None

    async def confirm(self, message: str, actions: list[str]) -> str | None:
        """Ask the user (``window/showMessageRequest``); the action chosen, or None when the
        client cannot ask or the user dismissed it (the caller says what to do instead)."""
        if not self.can_confirm():
            return None
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Info, message=self.redact(message),
            actions=[types.MessageActionItem(title=a) for a in actions])
        from pygls.exceptions import JsonRpcException

        try:
            item = await self.ls.window_show_message_request_async(params)
        except JsonRpcException as exc:  # unanswered in time, refused, or the editor is gone
            log.info("the question was not answered: %s", exc.message)
            return None  # as if dismissed: the caller's safe default
        return item.title if item is not None else None

    def report(self, message: str) -> None:
        """A line on the progress bar ("step 3: edit_file calc.py")."""
        self.progress.report_message(self.redact(message))

    async def keep(self, text: str) -> str:
        """Keep text the user must not lose (an answer not applied) in an output document;
        returns its path."""
        from ren_lsp.lsp.output import OutputDocument

        doc = OutputDocument(self.ls, self.id, self.keep_heading, self.secrets.redact)
        self.history["output"] = str(doc.path)
        await doc.show()
        doc.append(text)
        await doc.close()
        return str(doc.path)

    async def done_in_transcript(self) -> str:
        """Close the transcript; the summary the user sees."""
        assert self.transcript is not None
        self.hold()
        await self.transcript.close()
        return (f"Done: {len(self.answer.splitlines())} lines in "
                f"{self.transcript.path.name}")

    def learn(self, uri: str) -> None:
        """Know the secrets of the document a request is about, so that a selection cutting
        one (or holding only some lines of a key block) is redacted too."""
        with contextlib.suppress(OSError, ValueError):  # unreadable: none of it is sent
            self.secrets.learn(self.ls.workspace.get_text_document(uri).source)

    def redact(self, text: str) -> str:
        """A message for the editor without the keys the server knows (the log's filter)."""
        redactor = self.ls.redactor
        return redactor.redact(text) if redactor is not None else text

    def outgoing(self, request: Request) -> Request:
        """The request as it leaves the machine: the one redaction step every model turn of
        every feature goes through (the selection, the code around it, the question, the
        repository context, tool results and calls), with the session's numbered marks."""
        from ren_lsp.models import Text, ToolCall, ToolResult, Turn

        def clean(block: Block) -> Block:
            if isinstance(block, Text):
                return Text(self.secrets.redact(block.text))
            if isinstance(block, ToolResult):
                return attrs.evolve(block, content=self.secrets.redact(block.content))
            assert isinstance(block, ToolCall)
            return attrs.evolve(block, input=self.scrub(block.input))

        turns = [Turn(turn.role, tuple(clean(b) for b in turn.content)) for turn in request.turns]
        system = self.secrets.redact(request.system) if request.system else request.system
        return attrs.evolve(request, turns=turns, system=system)

    def scrub(self, value: Any) -> Any:
        """``value`` (strings, lists, dicts) with every string redacted: for the history."""
        if isinstance(value, str):
            return self.secrets.redact(value)
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value


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


class SessionManager:
    """The live sessions of a server and the limit on how many run at once."""

    def __init__(self, ls: Server) -> None:
        self.ls = ls
        self.sessions: dict[str, Session] = {}
        self._slots = Slots(lambda: self.ls.settings.max_sessions)
        self._ending: set[str] = set()

    def run(self, command: str, title: str, body: Body, *, starting: str = STARTING,
            **history: Any) -> dict[str, str]:
        """Run ``body`` as a session in the background; the command's answer, at once.
        ``starting`` is the progress bar's first message."""
        session = Session(self, command, title, starting)
        session.history.update(history)
        self.sessions[session.id] = session
        session.task = asyncio.get_running_loop().create_task(
            self._run(session, body), name=f"ren-session-{session.id}")
        return {"session": session.id}

    def cancel(self, session_id: str | None = None) -> list[str]:
        targets = ([self.sessions[session_id]] if session_id in self.sessions
                   else [] if session_id else list(self.sessions.values()))
        return [s.id for s in targets if s.cancel()]

    def abandon(self, session: Session) -> bool:
        """Cut a held session's waits on the editor (its requests fail, its next ones at
        once); True if it was waiting on the editor or editing a document."""
        waited = self.ls.abandon_requests(session.id)
        if waited or self.ls.edits.editing(session.task):
            return True
        # Nothing to cut: the session goes on as it was (its next requests must not fail).
        self.ls.forget_requests(session.id)
        return False

    def ending(self, session: Session) -> bool:
        """Whether the session is past its body (keeping its answer, writing its history)."""
        return session.id in self._ending

    async def _run(self, session: Session, body: Body) -> None:
        from ren_lsp.lsp.rpc import REQUESTS_FOR
        from ren_lsp.models import ModelError

        REQUESTS_FOR.set(session.id)  # this task's (and its helpers') requests to the editor
        progress = session.progress
        session.history["started"] = time.time()
        try:
            if self._slots.locked():
                await progress.begin("waiting for another request to finish…")
            async with self._slots:
                if not progress.begun:
                    await progress.begin(session.starting)
                summary = await body(session)
            await self._end(session, "cancelled" if session.cut else "done", summary)
        except asyncio.CancelledError:
            await self._end(session, "cancelled", "Cancelled")
        except (ModelError, SessionError) as error:
            await self._end(session, "failed", f"Failed: {error}",
                            error=f"{session.title} failed: {error}")
        except Exception as error:
            log.exception("session %s failed", session.id)
            await self._end(session, "failed", "Failed: internal error (see the log)",
                            error=f"{session.title} failed with an internal error "
                            f"({type(error).__name__}); details are in the server log. "
                            "Please report it.")

    async def _end(self, session: Session, status: str, summary: str, *,
                   error: str | None = None) -> None:
        """Keep what arrived, end the progress, tell the user, write the history: always all
        four, even if keeping the answer fails or a second cancel arrives meanwhile."""
        session.cancellable = False
        self._ending.add(session.id)
        answer, where = session.answer, None
        try:
            if status != "done":
                # Shielded: a cancel arriving now must not cut the saving of the answer short.
                where = await asyncio.shield(self._keep_partial(session))
        except BaseException as exc:  # the answer is in the history regardless
            log.error("keeping the partial answer of session %s failed: %s", session.id,
                      type(exc).__name__)
            summary += "; the answer could not be saved to a document (it is in the history)"
        finally:
            if where and answer:
                summary += f"; what arrived is in {where}"
            if error is not None:
                session.history["error"] = session.redact(error)
            self.sessions.pop(session.id, None)
            self._ending.discard(session.id)
            self.ls.forget_requests(session.id)
            session.history.update(status=status, answer=answer, ended=time.time())
            from ren_lsp.lsp.output import record_history

            # What the history keeps is what was sent: the question, the task, the error and
            # the answer with the same marks as the request. Written before the end is told,
            # so a session said to be over is in the history.
            record_history(session.scrub(session.history))
            session.progress.end(session.redact(summary))
            if error is not None:
                kept = f" The partial answer is in {where}." if where and answer else ""
                self.ls.show_message(error + kept, types.MessageType.Error)

    async def _keep_partial(self, session: Session) -> str | None:
        """The transcript holds what arrived (close it); else what arrived gets a document."""
        if session.transcript is not None:
            await session.transcript.close()  # what arrived is already queued: it all lands
            return str(session.transcript.path)
        if not session.answer:
            return None
        return await session.keep(session.answer)
