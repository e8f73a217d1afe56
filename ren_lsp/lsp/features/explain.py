"""Explain and Ask: the answer streams into a Markdown output document."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
from lsprotocol import types

from ren_lsp import prompts
from ren_lsp.lsp import documents
from ren_lsp.lsp.commands import register_command
from ren_lsp.lsp.documents import MAX_TEXT, invalid
from ren_lsp.models import Request

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server
    from ren_lsp.lsp.sessions import Session


@attrs.define
class ExplainArgs:
    uri: str
    range: types.Range


@attrs.define
class AskArgs:
    question: str
    uri: str | None = None
    range: types.Range | None = None


def explain(ls: Server, arg: ExplainArgs) -> dict[str, str]:
    target = documents.target(ls, arg.uri, arg.range)
    if not target.text.strip():
        raise invalid("range: the selection is empty; select the code to explain")
    title = "Astra: Explain"
    heading = f"{title} — {target.path}:{prompts.line_span(target.text, target.first_line)}"

    async def run(s: Session) -> str:
        doc = await s.open_transcript(heading)
        context = await s.context(uri=target.uri, selection=target.text)
        await s.ask(Request.ask(
            prompts.explain(path=target.path, code=target.text, first_line=target.first_line,
                            surrounding=target.surrounding, context=context.text),
            system=prompts.SYSTEM), on_text=doc.append)
        return await s.done_in_transcript()

    return ls.sessions.run("ren.explain", title, run, uri=target.uri)


def ask(ls: Server, arg: AskArgs) -> dict[str, str]:
    question = arg.question
    code, path, first = None, None, 1
    if arg.uri is not None:
        if arg.range is not None:
            target = documents.target(ls, arg.uri, arg.range)
            code, path, first = target.text, target.path, target.first_line
        else:
            code = documents.document(ls, arg.uri).source
            path = documents.display_path(ls, arg.uri)
            if len(code) > MAX_TEXT:
                raise invalid(f"uri: the file is too large to send whole "
                              f"({len(code) // 1000} KB); select the part to ask about")
    title = "Astra: Ask"
    short = question if len(question) <= 60 else question[:59] + "…"
    selection = code if arg.range is not None and code else ""

    async def run(s: Session) -> str:
        doc = await s.open_transcript(f"{title} — {short}")
        context = await s.context(question=question, uri=arg.uri, selection=selection)
        await s.ask(Request.ask(
            prompts.ask(question, path=path, code=code, first_line=first, context=context.text),
            system=prompts.SYSTEM), on_text=doc.append)
        return await s.done_in_transcript()

    return ls.sessions.run("ren.ask", title, run, question=question)


def register(server: Server) -> None:
    register_command(server, "ren.explain", ExplainArgs, explain)
    register_command(server, "ren.ask", AskArgs, ask)
