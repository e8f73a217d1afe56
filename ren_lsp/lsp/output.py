"""Output documents (Markdown files the answer streams into) and the history on disk.

Output documents live in ``<user state dir>/ren-lsp/sessions/`` (``~/.local/state/ren-lsp`` on
Linux; ``$XDG_STATE_HOME`` moves it). Each is created with a heading, opened in the editor with
``window/showDocument`` where the client supports it, and filled by ``workspace/applyEdit``
appends, batched a few times a second. The history (``history.jsonl`` in the same directory)
keeps every session's request and full answer, so nothing is lost with a closed buffer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from lsprotocol import types

from ren_lsp.private import open_private, write_private
from ren_lsp.text import end_position

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server

log = logging.getLogger(__name__)

#: seconds between two appends: fast enough to read along, few enough not to flood the editor
FLUSH_INTERVAL = 0.1


def state_dir() -> Path:
    """The server's state folder (output documents, history, checkpoints): only the user's."""
    return platformdirs.user_state_path("ren-lsp")


def state_folder(*parts: str) -> Path:
    """A folder under the state dir, made to exist: it and the state dir 0700 (tightened when
    they exist with a wider mode), since what is in them holds code and answers."""
    from ren_lsp.private import private_folder

    folder = private_folder(state_dir())
    for part in parts:
        folder = private_folder(folder / part)
    return folder


class OutputDocument:
    """One Markdown document that an answer streams into."""

    def __init__(self, ls: Server, session_id: str, title: str,
                 redact: Callable[[str], str] | None = None) -> None:
        self._ls = ls
        #: what the server adds goes through it (a session's redaction): the document is a
        #: file on disk, and shows what a tool read or a command printed
        self._redact = redact or (lambda text: text)
        title = self._redact(title)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        directory = state_dir() / "sessions"
        self.path = directory / f"{stamp}-{session_id}.md"
        self.uri = self.path.as_uri()
        # No title: the document starts empty (a pull request preview's first line is its own).
        self._content = f"# {title}\n\n" if title else ""
        try:
            state_folder("sessions")
            write_private(self.path, self._content)
        except OSError as exc:
            from ren_lsp.lsp.sessions import SessionError

            raise SessionError(
                f"cannot write output documents to {directory} ({exc.strerror or exc}): check "
                "that the folder is writable, or set XDG_STATE_HOME to one that is") from None
        self._pending: list[str] = []
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._failed = False
        self._closing = False

    async def show(self) -> bool:
        """Open the document in the editor, where the client can be asked to; True if shown."""
        caps = self._ls.client_capabilities.window
        if not (caps and caps.show_document and caps.show_document.support):
            return False
        try:
            # Shielded: cancelling a session must not cancel a request the editor will still
            # answer (pygls then reports an "Error in server" on the late answer).
            result = await asyncio.shield(self._ls.window_show_document_async(
                types.ShowDocumentParams(uri=self.uri, take_focus=True)))
        except Exception as exc:  # a client that refuses is told of the file by message instead
            log.info("showDocument failed: %s", exc)
            return False
        return bool(result and result.success)

    def append(self, text: str, *, send: bool = True) -> None:
        """Queue text; a writer sends it in batches, the first as soon as it arrives.

        ``send=False`` queues it to go out with the next text (or at close): a note before
        the answer must not start the batching pause that would hold the answer's first
        words back.
        """
        if not text:
            return
        self._pending.append(self._redact(text))
        if not send:
            return
        self._wakeup.set()
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def _write_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await self._flush()
            if self._closing:
                return
            await asyncio.sleep(FLUSH_INTERVAL)  # batching: what arrives meanwhile goes together

    async def _flush(self) -> None:
        if not self._pending:
            return
        text, self._pending = "".join(self._pending), []
        if self._failed:  # the editor refused an append: the rest goes to the file at close
            self._content += text
            return
        line, character = end_position(self._content, self._ls.encoding)
        self._content += text
        where = types.Range(start=types.Position(line=line, character=character),
                            end=types.Position(line=line, character=character))
        try:
            result = await self._ls.edits.apply_text_edits(
                self.uri, None, [types.TextEdit(range=where, new_text=text)])
        except Exception as exc:
            log.warning("appending to %s failed: %s", self.path, exc)
            result = False
        if not result:
            # The editor would not take it: the file gets the whole answer at close.
            self._failed = True

    async def close(self) -> None:
        """Send what is still queued; after this the document holds the whole answer."""
        # The writer is its own task, so cancelling a session never cuts an append in half.
        self._closing = True
        self._wakeup.set()
        if self._writer is not None:
            await self._writer
            self._writer = None
        await self._flush()
        # The file holds the whole answer too, so "the answer is in <path>" is true even after
        # the editor's buffer is closed unsaved (the editor's copy has the same text).
        try:
            write_private(self.path, self._content)
        except OSError as exc:
            log.warning("could not write %s: %s", self.path, exc)

    async def replace_all(self, text: str) -> None:
        """Replace the whole document with ``text`` (one edit): an answer cleaned up once it
        is complete. Call it before ``close``."""
        if self._writer is not None:  # what is queued goes first, so the range is right
            self._wakeup.set()
        await self._flush()
        line, character = end_position(self._content, self._ls.encoding)
        whole = types.Range(start=types.Position(line=0, character=0),
                            end=types.Position(line=line, character=character))
        text = self._redact(text)
        self._content = text
        if self._failed:
            return
        try:
            result = await self._ls.edits.apply_text_edits(
                self.uri, None, [types.TextEdit(range=whole, new_text=text)])
        except Exception as exc:
            log.warning("replacing %s failed: %s", self.path, exc)
            result = False
        if not result:
            self._failed = True

    def adopt(self, text: str) -> None:
        """The user edited the document into ``text``: keep it (a later ``close`` writes it
        back, not what the server sent)."""
        self._pending = []
        self._content = text

    @property
    def content(self) -> str:
        return self._content + "".join(self._pending)


#: bytes of history.jsonl before it is moved to history.1.jsonl (one older file is kept)
HISTORY_LIMIT = 20_000_000


def record_history(entry: dict[str, Any], *, limit: int = HISTORY_LIMIT) -> None:
    """Append one session to ``history.jsonl`` (the request without the key, the answer)."""
    path = state_dir() / "history.jsonl"
    try:
        state_folder()
        if path.exists() and path.stat().st_size > limit:
            older = path.with_name("history.1.jsonl")
            path.replace(older)
            older.chmod(0o600)  # a history an older version wrote 0644
        with open_private(path, "a") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    except OSError as exc:
        log.warning("could not write the history to %s: %s", path, exc)
