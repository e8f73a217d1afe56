"""textDocument/inlineCompletion (LSP 3.18): Astra's ghost text as you type; and
``ren.complete``, the same completion as one edit, for editors without inline completion
(Helix: the code action "Astra: Complete here").

Completion is no session: no progress, no output document, no message per completion. An
invoked trigger (1) answers as soon as the model does; automatic ones (2) only when
``completion.enabled`` is on, after the debounce. A request that a newer one (or a new document
version) makes stale is answered empty at once, its model stream closed (``engine.py``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import attrs
from lsprotocol import types

from ren_lsp.lsp.commands import register_command
from ren_lsp.lsp.completion.engine import Completer
from ren_lsp.lsp.documents import document, invalid

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server
    from ren_lsp.lsp.sessions import Session

TITLE = "Astra: Complete here"


def _empty() -> types.InlineCompletionList:
    return types.InlineCompletionList(items=[])


def items(middle: str, position: types.Position,
          selected: types.SelectedCompletionInfo | None) -> types.InlineCompletionList:
    """The answer: the middle at the cursor, or the selected item extended by it (same
    range, as VS Code requires of a suggestion shown with the completion menu open)."""
    if not middle:
        return _empty()
    if selected is not None:
        text = selected.text + middle
        return types.InlineCompletionList(items=[types.InlineCompletionItem(
            insert_text=text, range=selected.range, filter_text=text)])
    return types.InlineCompletionList(items=[types.InlineCompletionItem(
        insert_text=middle, range=types.Range(start=position, end=position))])


async def inline_completion(ls: Server, completer: Completer,
                            params: types.InlineCompletionParams
                            ) -> types.InlineCompletionList:
    """Answer one textDocument/inlineCompletion."""
    uri, position = params.text_document.uri, params.position
    automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
    if automatic and not ls.settings.completion__enabled:
        return _empty()
    selected = params.context.selected_completion_info
    try:
        cursor = completer.cursor(uri, position, selected)
    except (OSError, ValueError):  # not open and not readable: nothing to complete
        return _empty()
    if cursor is None:
        return _empty()
    delay = completer.debounce(uri) if automatic else 0.0
    try:
        middle = await completer.complete(cursor, delay=delay)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # $/cancelRequest: the editor withdrew the request
        return _empty()  # a newer request or a new version made this one stale
    return items(middle, position, selected)


@attrs.define
class CompleteArgs:
    uri: str
    position: types.Position


def complete_here(ls: Server, completer: Completer, arg: CompleteArgs) -> dict[str, str]:
    """``ren.complete``: the completion at ``position`` inserted as one guarded edit."""
    lines = document(ls, arg.uri).source.split("\n")
    if arg.position.line >= len(lines):
        raise invalid(f"position: line {arg.position.line} is outside the document "
                      f"({len(lines)} lines, numbered from 0)")
    cursor = completer.cursor(arg.uri, arg.position)
    if cursor is None:
        raise invalid("uri: this is a secret file; its text is never sent to a model")
    here = types.Range(start=arg.position, end=arg.position)

    async def run(s: Session) -> str:
        tracked = ls.edits.track(arg.uri, here)
        try:
            reply = await s.ask(completer.request(cursor), role="completion")
            middle = completer.shape(cursor, reply.text)
            if not middle:
                return "Nothing to insert here"
            result = await ls.edits.replace(tracked, expected="", new_text=middle, label=TITLE)
        finally:
            ls.edits.untrack(tracked)
        if result.applied:
            return f"Inserted {len(middle.splitlines())} line(s) in {cursor.path}"
        return f"Not inserted: {cursor.path} changed meanwhile"

    return ls.sessions.run("ren.complete", TITLE, run, uri=arg.uri)


def register(server: Server) -> None:
    completer = Completer(server)
    server.document_listeners.append(completer.changed)

    async def on_inline_completion(ls: Server, params: types.InlineCompletionParams
                                   ) -> types.InlineCompletionList:
        return await inline_completion(ls, completer, params)

    server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION,
                   types.InlineCompletionOptions())(on_inline_completion)
    register_command(server, "ren.complete", CompleteArgs,
                     lambda ls, arg: complete_here(ls, completer, arg))
