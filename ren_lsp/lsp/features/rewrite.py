"""Refactor, Fix and Generate: one versioned edit of the user's document when the answer is in.

The edit is a single undo step. If the user changed the text in or around the target while
Astra worked, or the editor refuses the edit, nothing is forced: the answer goes to an output
document and the user is told. Nothing the user typed is ever overwritten (the edit service's
guarded ``replace``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
from lsprotocol import types

from ren_lsp import prompts
from ren_lsp.lsp import documents
from ren_lsp.lsp.commands import register_command
from ren_lsp.lsp.documents import Target, invalid, line_range
from ren_lsp.lsp.edits import Outcome
from ren_lsp.models import Request
from ren_lsp.text import extract_code, line_indent, split_lines

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server
    from ren_lsp.lsp.sessions import Session

DEFAULT_INSTRUCTION = "Refactor this code: improve its clarity and keep its behaviour."


@attrs.define
class RefactorArgs:
    uri: str
    range: types.Range
    instruction: str | None = None


@attrs.define
class FixArgs:
    uri: str
    range: types.Range
    diagnostics: list[types.Diagnostic] = attrs.Factory(list)


@attrs.define
class GenerateArgs:
    uri: str
    instruction: str
    position: types.Position | None = None
    range: types.Range | None = None


def edit_session(ls: Server, command: str, title: str, target: Target,
                 prompt: Callable[[str], str], *,
                 question: str, insert: bool = False, indent: str | None = None
                 ) -> dict[str, str]:
    """A session that asks for code and puts it in place of (or after) ``target``, guarded.

    ``target`` is the text that must be unchanged when the answer is in: the selection for
    Refactor and Fix (which the code replaces), the line new code goes after for Generate.
    ``prompt`` makes the request's text from the repository context.
    """

    async def run(s: Session) -> str:
        s.keep_heading = f"{title} — {target.path}"
        tracked = ls.edits.track(target.uri, target.range)
        try:
            context = await s.context(question=question, uri=target.uri,
                                      selection=target.text)
            reply = await s.ask(Request.ask(prompt(context.text), system=prompts.SYSTEM))
            s.hold()
            if insert:
                code = extract_code(reply.text, original="", indent=indent)
                code = code if code.endswith("\n") else code + "\n"
            else:
                code = extract_code(reply.text, original=target.text)
            # Secrets went out as marks: put back the ones this session made, and never write
            # a mark it cannot put back into the user's file.
            unknown = s.secrets.unknown(code, allowed=ls.workspace.get_text_document(
                target.uri).source)
            if unknown:
                return await _refuse_marks(s, title, target.path, unknown, reply.text)
            code = s.secrets.restore(code)
            result = await ls.edits.replace(tracked, expected=target.text, new_text=code,
                                            insert=insert, label=title)
        finally:
            ls.edits.untrack(tracked)
        if result.applied:
            return f"Applied to {target.path}"
        if result.outcome is Outcome.CONFLICT:
            why = (f"you edited {target.path} there while Astra was working, so the change "
                   "was not applied")
            short = f"{target.path} changed meanwhile"
        else:
            why = f"the editor did not apply the change to {target.path}: {result.reason}"
            short = result.reason
        where = await s.keep(reply.text)
        ls.show_message(f"{title}: {why}. The answer is in {where}.", types.MessageType.Warning)
        return f"Not applied ({short}); the answer is in {where}"

    return ls.sessions.run(command, title, run, uri=target.uri)


async def _refuse_marks(s: Session, title: str, path: str, marks: list[str], answer: str) -> str:
    """The answer holds redaction marks of secrets it could not know (from the repository
    context, or made up): not applied, kept in a document, the user told why."""
    where = await s.keep(answer)
    shown = ", ".join(f"`{m}`" for m in marks[:3])
    s.ls.show_message(
        f"{title}: the answer has {shown} in place of a secret that was redacted before it was "
        f"sent, so it was not applied to {path} (your file keeps its text). The answer is in "
        f"{where}.", types.MessageType.Warning)
    return f"Not applied (the answer holds a redacted secret); the answer is in {where}"


def _rewrite(ls: Server, command: str, title: str, uri: str, rng: types.Range,
             instruction: str, diagnostics: list[str] | None = None) -> dict[str, str]:
    target = documents.target(ls, uri, rng)
    if not target.text.strip():
        raise invalid(f"range: the selection is empty; select the code to "
                      f"{command.removeprefix('ren.')}")

    def prompt(context: str) -> str:
        return prompts.rewrite(path=target.path, code=target.text, first_line=target.first_line,
                               instruction=instruction, surrounding=target.surrounding,
                               diagnostics=diagnostics, context=context)

    return edit_session(ls, command, title, target, prompt, question=instruction)


def refactor(ls: Server, arg: RefactorArgs) -> dict[str, str]:
    instruction = (f"Refactor this code: {arg.instruction}" if arg.instruction is not None
                   else DEFAULT_INSTRUCTION)
    return _rewrite(ls, "ren.refactor", "Astra: Refactor", arg.uri, arg.range, instruction)


def fix(ls: Server, arg: FixArgs) -> dict[str, str]:
    found = [f"line {d.range.start.line + 1}: {d.message}"
             + (f" ({d.source})" if d.source else "") for d in arg.diagnostics]
    instruction = ("Fix this code." if found else
                   "Fix the bugs in this code; if there are none, return it unchanged.")
    return _rewrite(ls, "ren.fix", "Astra: Fix", arg.uri, arg.range, instruction, found)


def generate(ls: Server, arg: GenerateArgs) -> dict[str, str]:
    """New code goes after the line of ``position``, or after the last line of ``range``."""
    if arg.range is not None:
        start, end = arg.range.start, arg.range.end
        line = end.line - 1 if end.character == 0 and end.line > start.line else end.line
    else:
        assert arg.position is not None  # the schema asks for one of the two
        line = arg.position.line
    lines = split_lines(documents.document(ls, arg.uri).source)
    if line >= len(lines):
        raise invalid(f"position: line {line} is outside the document "
                      f"({len(lines)} lines, numbered from 0)")
    if not lines[line].endswith("\n"):
        raise invalid("position: the last line has no newline after it; add one first")
    target = documents.target(ls, arg.uri, line_range(line, line))
    indent = line_indent(lines[line])
    if not lines[line].strip():
        following = [x for x in lines[line + 1:] if x.strip()]
        indent = line_indent(following[0]) if following else ""

    def prompt(context: str) -> str:
        return prompts.generate(path=target.path, instruction=arg.instruction,
                                before="".join(lines[max(0, line - 40):line + 1]),
                                after="".join(lines[line + 1:line + 21]), context=context)

    return edit_session(ls, "ren.generate", "Astra: Generate", target, prompt,
                        question=arg.instruction, insert=True, indent=indent)


def register(server: Server) -> None:
    register_command(server, "ren.refactor", RefactorArgs, refactor)
    register_command(server, "ren.fix", FixArgs, fix)
    register_command(server, "ren.generate", GenerateArgs, generate)
