"""Refactor, Fix and Generate: one versioned edit of the user's document when the answer is in.

The edit is a single undo step. If the user changed the text in or around the target while
Astra worked, or the editor refuses the edit, nothing is forced: the answer goes to an output
document and the user is told. Nothing the user typed is ever overwritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ren_lsp import prompts
from ren_lsp.edits import TrackedRange, extract_code, line_indent, split_lines
from ren_lsp.features import targets
from ren_lsp.models import Request
from ren_lsp.output import OutputDocument

if TYPE_CHECKING:
    from ren_lsp.server import RenLanguageServer
    from ren_lsp.sessions import Session

DEFAULT_INSTRUCTION = "Refactor this code: improve its clarity and keep its behaviour."


class EditSink:
    """Collects the answer, then edits the document, or writes an output document instead.

    ``anchor`` is the text that must be unchanged when the answer is in: the selection for
    Refactor and Fix (which it replaces), the line new code goes after for Generate.
    """

    def __init__(self, ls: RenLanguageServer, target: targets.Target, *, insert: bool,
                 indent: str | None = None) -> None:
        self._ls = ls
        self._target = target
        self._insert = insert
        self._indent = indent
        r = target.range
        self._tracked = TrackedRange((r.start.line, r.start.character),
                                     (r.end.line, r.end.character))
        self._session: Session | None = None

    async def start(self, session: Session) -> None:
        self._session = session
        self._ls.sessions.track(self._target.uri, self._tracked)

    def note(self, text: str) -> None:
        pass  # the history records what was sent; the user's file gets no notes

    def on_text(self, text: str) -> None:
        pass  # nothing touches the user's document until the answer is complete

    async def finish(self, answer: str) -> str:
        uri, tracked = self._target.uri, self._tracked
        path = self._target.path
        self._ls.sessions.untrack(uri, tracked)
        if self._insert:
            code = extract_code(answer, original="", indent=self._indent)
            code = code if code.endswith("\n") else code + "\n"
        else:
            code = extract_code(answer, original=self._target.text)
        async with self._ls.sessions.doc_lock(uri):
            unchanged = not tracked.conflict and targets.current_text(
                self._ls, uri, tracked.start, tracked.end) == self._target.text
            if not unchanged:
                return await self._not_applied(
                    answer, f"you edited {path} there while Astra was working, so the change "
                    "was not applied", f"{path} changed meanwhile")
            if self._insert:  # at the anchor's end: the start of the line after it
                at = types.Position(line=tracked.end_line, character=tracked.end_char)
                edit_range = types.Range(start=at, end=at)
            else:
                edit_range = types.Range(
                    start=types.Position(line=tracked.start_line, character=tracked.start_char),
                    end=types.Position(line=tracked.end_line, character=tracked.end_char))
            version = self._ls.workspace.get_text_document(uri).version
            start, end = edit_range.start, edit_range.end
            self._ls.sessions.own_edit(uri, (start.line, start.character),
                                       (end.line, end.character), code)
            applied = await self._ls.apply_edit(
                uri, version, [types.TextEdit(range=edit_range, new_text=code)],
                label=self._title)
            if applied:  # hold the document until the editor tells us what it now holds
                await self._ls.sessions.settled(uri, version)
            else:
                self._ls.sessions.own_edit_refused(uri)
        if not applied:
            return await self._not_applied(
                answer, f"the editor did not apply the change to {path} (it may have changed)",
                "the editor refused it")
        return f"Applied to {path}"

    async def _not_applied(self, answer: str, why: str, short: str) -> str:
        """Nothing forced: the answer goes to an output document and the user is told."""
        where = await self._to_output(answer)
        self._ls.show_message(f"{self._title}: {why}. The answer is in {where}.",
                              types.MessageType.Warning)
        return f"Not applied ({short}); the answer is in {where}"

    async def keep_partial(self, partial: str, reason: str) -> str | None:
        self._ls.sessions.untrack(self._target.uri, self._tracked)
        if not partial:
            return None
        return await self._to_output(partial)

    @property
    def _title(self) -> str:
        return self._session.title if self._session else "Astra"

    async def _to_output(self, text: str) -> str:
        session_id = self._session.id if self._session else "answer"
        doc = OutputDocument(self._ls, session_id, f"{self._title} — {self._target.path}")
        if self._session is not None:
            self._session.history["output"] = str(doc.path)
        await doc.show()
        doc.append(text)
        await doc.close()
        return str(doc.path)


def _rewrite(ls: RenLanguageServer, command: str, title: str, arg: dict[str, Any],
             instruction: str, diagnostics: list[str] | None = None) -> dict[str, str]:
    target = targets.target(ls, arg["uri"], arg["range"])
    if not target.text.strip():
        raise targets.invalid(f"range: the selection is empty; select the code to "
                              f"{command.removeprefix('ren.')}")
    sink = EditSink(ls, target, insert=False)
    make = targets.with_context(
        ls, sink, lambda context: Request.ask(
            prompts.rewrite(path=target.path, code=target.text, first_line=target.first_line,
                            instruction=instruction, surrounding=target.surrounding,
                            diagnostics=diagnostics, context=context),
            system=prompts.SYSTEM),
        question=instruction, uri=target.uri, selection=target.text)
    session = ls.sessions.start(command, title, make, sink, uri=target.uri)
    return {"session": session.id}


def refactor(ls: RenLanguageServer, arg: dict[str, Any]) -> dict[str, str]:
    instruction = arg.get("instruction") or DEFAULT_INSTRUCTION
    if "instruction" in arg:
        instruction = f"Refactor this code: {instruction}"
    return _rewrite(ls, "ren.refactor", "Astra: Refactor", arg, instruction)


def fix(ls: RenLanguageServer, arg: dict[str, Any]) -> dict[str, str]:
    found = [f"line {d['range']['start']['line'] + 1}: {d['message']}"
             + (f" ({d['source']})" if d.get("source") else "")
             for d in arg.get("diagnostics", [])]
    instruction = ("Fix this code." if found else
                   "Fix the bugs in this code; if there are none, return it unchanged.")
    return _rewrite(ls, "ren.fix", "Astra: Fix", arg, instruction, found)


def generate(ls: RenLanguageServer, arg: dict[str, Any]) -> dict[str, str]:
    """New code goes after the line of ``position``, or after the last line of ``range``."""
    if "range" in arg:
        raw = arg["range"]
        end = raw["end"]
        line = end["line"] - 1 if end["character"] == 0 and end["line"] > raw["start"]["line"] \
            else end["line"]
    else:
        line = arg["position"]["line"]
    lines = split_lines(targets.document(ls, arg["uri"]).source)
    if line >= len(lines):
        raise targets.invalid(f"position: line {line} is outside the document "
                              f"({len(lines)} lines, numbered from 0)")
    if not lines[line].endswith("\n"):
        raise targets.invalid("position: the last line has no newline after it; add one first")
    anchor = {"start": {"line": line, "character": 0}, "end": {"line": line + 1, "character": 0}}
    target = targets.target(ls, arg["uri"], anchor)
    indent = line_indent(lines[line])
    if not lines[line].strip():
        following = [x for x in lines[line + 1:] if x.strip()]
        indent = line_indent(following[0]) if following else ""
    sink = EditSink(ls, target, insert=True, indent=indent)
    make = targets.with_context(
        ls, sink, lambda context: Request.ask(
            prompts.generate(path=target.path, instruction=arg["instruction"],
                             before="".join(lines[max(0, line - 40):line + 1]),
                             after="".join(lines[line + 1:line + 21]), context=context),
            system=prompts.SYSTEM),
        question=arg["instruction"], uri=target.uri, selection=target.text)
    session = ls.sessions.start("ren.generate", "Astra: Generate", make, sink, uri=target.uri)
    return {"session": session.id}
