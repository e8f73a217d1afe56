"""Inline completion's engine: never stale, never a flood.

One completion runs at a time per document. A newer request for the document, a new version
of it, or the editor's ``$/cancelRequest`` ends the one before at once: it is answered empty and
its model stream closed (which stops generation). Automatic triggers wait for a pause in typing
(the debounce, longer for a slow typist); a small cache answers the same place again, and the
rest of a shown suggestion while the user types into it, without asking the model. A failing
backend is reported once, then only logged, until it works again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING

from lsprotocol import types

from ren_lsp.lsp.completion import shaping, syntax
from ren_lsp.lsp.completion.cursor import AnswerCache, Cursor, window
from ren_lsp.models import ModelError, Request, TextDelta
from ren_lsp.prompts import completion as prompt
from ren_lsp.text import offset_at

if TYPE_CHECKING:
    from ren_lsp.context.secrets import Redactor
    from ren_lsp.lsp.protocol import Server

log = logging.getLogger(__name__)

#: a keystroke this long after the one before starts a new burst of typing
_BURST_GAP = 2.0
#: how far the debounce may stretch for a slow typist, as a multiple of ``debounceMs``
_STRETCH = 3.0
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
#: definitions from the repository one request carries at most
_DEFINITIONS = 8


class Health:
    """Whether the completion backend works: what ``ren-lsp doctor`` and the log show."""

    def __init__(self) -> None:
        self.failing: str | None = None
        self.reported = False
        self.failures = 0


class Completer:
    """The server's inline completion: one per server."""

    def __init__(self, ls: Server) -> None:
        self.ls = ls
        self.cache = AnswerCache()
        self.health = Health()
        #: model requests made (the benchmark reads it)
        self.model_requests = 0
        self._running: dict[str, asyncio.Task[str]] = {}
        self._last_request: dict[str, float] = {}
        self._rhythm: dict[str, float] = {}
        #: the secrets of the last document completed in, learned once per version (learning
        #: a whole document costs ~10 ms per 100 KB: too much for every keystroke)
        self._secrets: tuple[tuple[str, int | None, tuple[str, ...]], Redactor] | None = None

    # -- staleness -----------------------------------------------------------------------------

    def changed(self, uri: str) -> None:
        """A new version of ``uri``: the completion computed for the old one is stale."""
        work = self._running.pop(uri, None)
        if work is not None:
            work.cancel()

    def debounce(self, uri: str) -> float:
        """Seconds to wait before asking, learning the typist's rhythm: keystrokes that come
        slower than ``debounceMs`` would each ask the model, so the wait grows to a little
        more than their usual gap (up to three times the setting)."""
        base = self.ls.settings.completion__debounce_ms / 1000
        now = time.monotonic()
        last, self._last_request[uri] = self._last_request.get(uri), now
        if last is not None and now - last < _BURST_GAP:
            gap = now - last
            rhythm = self._rhythm.get(uri, gap)
            self._rhythm[uri] = 0.7 * rhythm + 0.3 * gap
        learned = self._rhythm.get(uri)
        if learned is None:
            return base
        return min(max(base, 1.25 * learned), _STRETCH * base)

    # -- one request ---------------------------------------------------------------------------

    def cursor(self, uri: str, position: types.Position,
               selected: types.SelectedCompletionInfo | None = None) -> Cursor | None:
        """The place to complete, None for a document that must not be sent (a secret file)."""
        from ren_lsp.context.symbols import language_of
        from ren_lsp.lsp.documents import display_path, secret_file

        if secret_file(self.ls, uri) is not None:
            return None
        doc = self.ls.workspace.get_text_document(uri)
        source, encoding = doc.source, self.ls.encoding
        offset = offset_at(source, position.line, position.character, encoding)
        if selected is not None:  # complete as if the selected item were already inserted
            start = offset_at(source, selected.range.start.line, selected.range.start.character,
                              encoding)
            end = offset_at(source, selected.range.end.line, selected.range.end.character,
                            encoding)
            source = source[:start] + selected.text + source[end:]
            offset = start + len(selected.text)
        settings = self.ls.settings
        prefix, suffix = window(source, offset, settings.completion__context_lines)
        # The whole document's secrets are known first: a window that starts or ends inside
        # one (the lines of a key block without its BEGIN line) sends none of it.
        redactor = self._redactor(uri, doc.version, doc.source, tuple(settings.secret_patterns))
        prefix, suffix = redactor.redact(prefix), redactor.redact(suffix)
        shown = display_path(self.ls, uri)
        language = language_of(shown)
        block = settings.completion__max_lines > 1 and syntax.wants_block(language, prefix,
                                                                          suffix)
        return Cursor(uri=uri, path=shown, language=language, version=doc.version,
                      prefix=prefix, suffix=suffix, block=block)

    def _redactor(self, uri: str, version: int | None, source: str,
                  patterns: tuple[str, ...]) -> Redactor:
        """A redactor that knows the secrets of this version of the document."""
        from ren_lsp.context.secrets import Redactor

        key = (uri, version, patterns)
        if version is None or self._secrets is None or self._secrets[0] != key:
            redactor = Redactor(patterns)
            redactor.learn(source)
            self._secrets = (key, redactor)
        return self._secrets[1]

    async def complete(self, cursor: Cursor, *, delay: float = 0.0) -> str:
        """The text to insert at ``cursor`` ("" for none). Ends the document's completion
        before it; raises CancelledError when a newer one (or a new version) ends this one."""
        previous = self._running.pop(cursor.uri, None)
        if previous is not None:
            previous.cancel()
        cached = self.cache.get(cursor)
        if cached is not None:
            return cached
        work = asyncio.get_running_loop().create_task(self._ask(cursor, delay))
        self._running[cursor.uri] = work
        try:
            return await work
        finally:
            if self._running.get(cursor.uri) is work:
                del self._running[cursor.uri]

    def request(self, cursor: Cursor) -> Request:
        """The model request of a place: fill in the middle, with the definitions of the names
        near the cursor (signatures only, never from secret files: those are never indexed)."""
        near = "\n".join(cursor.prefix.split("\n")[-4:]) + cursor.suffix.split("\n", 1)[0]
        names = list(dict.fromkeys(_IDENTIFIER.findall(near)))
        definitions = self.ls.indexing.definitions(names, uri=cursor.uri, limit=_DEFINITIONS)
        text = prompt.infill(path=cursor.path, language=cursor.language, prefix=cursor.prefix,
                             suffix=cursor.suffix, block=cursor.block, definitions=definitions)
        max_lines = self.ls.settings.completion__max_lines if cursor.block else 1
        return Request.ask(text, system=prompt.SYSTEM, max_tokens=min(48 * max_lines, 1024))

    async def _ask(self, cursor: Cursor, delay: float) -> str:
        if delay > 0:
            await asyncio.sleep(delay)  # a newer keystroke cancels this: no request at all
        request = self.request(cursor)
        model = self.ls.model("completion")
        self.model_requests += 1
        try:
            async with model.stream(request) as stream:
                async for event in stream:
                    if isinstance(event, TextDelta) and not cursor.block and _line_done(
                            stream.text):
                        break  # the line is complete: closing the stream stops generation
                answer = stream.text
        except ModelError as error:
            self._failed(str(error))
            return ""
        self._worked()
        middle = self.shape(cursor, answer)
        self.cache.put(cursor, middle)
        return middle

    def shape(self, cursor: Cursor, answer: str) -> str:
        """The answer as inserted text: shaped, then cut back (a line at a time) until it adds
        no syntax error to the file; nothing rather than something wrong."""
        max_lines = self.ls.settings.completion__max_lines
        middle = shaping.shape(answer, prefix=cursor.prefix, suffix=cursor.suffix,
                               block=cursor.block, max_lines=max_lines)
        from ren_lsp.context.secrets import PLACEHOLDER

        if PLACEHOLDER.search(middle):  # a redacted secret repeated: never into the file
            return ""
        lines = middle.split("\n")
        while lines and any(s.strip() for s in lines):
            candidate = "\n".join(lines)
            if syntax.no_new_errors(cursor.language, cursor.prefix, candidate, cursor.suffix):
                return candidate
            lines.pop()
        return ""

    # -- health ----------------------------------------------------------------------------------

    def _failed(self, message: str) -> None:
        health = self.health
        health.failing, health.failures = message, health.failures + 1
        log.warning("inline completion failed: %s", message)
        if not health.reported:
            health.reported = True
            self.ls.show_message(
                f"Inline completion is not working: {message} Completions stay quiet until it "
                "works again; `ren-lsp doctor` checks the connection.", types.MessageType.Warning)
        _write_state(self.health)

    def _worked(self) -> None:
        if self.health.failing is not None:
            log.info("inline completion works again")
            self.health.failing, self.health.reported = None, False
            _write_state(self.health)


def _line_done(text: str) -> bool:
    """Whether a streamed answer already holds a whole line of code (past fences, chatter)."""
    code = shaping.strip_wrapping(text).lstrip("\n")
    return "\n" in code and bool(code.split("\n", 1)[0].strip())


def state_file() -> str:
    """Where the server leaves the state of inline completion for ``ren-lsp doctor``."""
    from ren_lsp.lsp.output import state_dir

    return str(state_dir() / "completion.json")


def _write_state(health: Health) -> None:
    import json
    from pathlib import Path

    state = {"failing": health.failing, "failures": health.failures,
             "at": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        from ren_lsp.lsp.output import state_folder
        from ren_lsp.private import write_private

        path = Path(state_file())
        state_folder()
        write_private(path, json.dumps(state) + "\n")
    except OSError as exc:  # the state is a help for doctor, never a reason to fail
        log.info("could not write %s: %s", state_file(), exc)
