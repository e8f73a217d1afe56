"""Explain and Ask: the answer streams into a Markdown output document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ren_lsp import prompts
from ren_lsp.features import targets
from ren_lsp.models import Request
from ren_lsp.output import OutputDocument

if TYPE_CHECKING:
    from ren_lsp.server import RenLanguageServer
    from ren_lsp.sessions import Session


class OutputSink:
    """Streams the answer into an output document, opened in the editor where possible."""

    def __init__(self, ls: RenLanguageServer, heading: str) -> None:
        self._ls = ls
        self._heading = heading
        self.doc: OutputDocument | None = None

    async def start(self, session: Session) -> None:
        self.doc = OutputDocument(self._ls, session.id, self._heading)
        session.history["output"] = str(self.doc.path)
        if not await self.doc.show():
            # The answer still streams into the document (editors load it in a buffer);
            # tell the user where it is, since we could not open it for them.
            self._ls.show_message(f"{session.title}: the answer streams into {self.doc.path}",
                                  types.MessageType.Info)

    def note(self, text: str) -> None:
        assert self.doc is not None
        self.doc.append(text, send=False)  # goes out with the answer's first words

    def on_text(self, text: str) -> None:
        assert self.doc is not None
        self.doc.append(text)

    async def finish(self, answer: str) -> str:
        assert self.doc is not None
        await self.doc.close()
        return f"Done: {len(answer.splitlines())} lines in {self.doc.path.name}"

    async def keep_partial(self, partial: str, reason: str) -> str | None:
        if self.doc is None:
            return None
        await self.doc.close()  # what arrived is already queued: it all lands
        return str(self.doc.path)


def explain(ls: RenLanguageServer, arg: dict[str, Any]) -> dict[str, str]:
    target = targets.target(ls, arg["uri"], arg["range"])
    if not target.text.strip():
        raise targets.invalid("range: the selection is empty; select the code to explain")
    title = "Astra: Explain"
    sink = OutputSink(ls, f"{title} — {target.path}:"
                          f"{prompts.line_span(target.text, target.first_line)}")
    make = targets.with_context(
        ls, sink, lambda context: Request.ask(
            prompts.explain(path=target.path, code=target.text, first_line=target.first_line,
                            surrounding=target.surrounding, context=context),
            system=prompts.SYSTEM),
        uri=target.uri, selection=target.text)
    session = ls.sessions.start("ren.explain", title, make, sink, uri=target.uri)
    return {"session": session.id}


def ask(ls: RenLanguageServer, arg: dict[str, Any]) -> dict[str, str]:
    question: str = arg["question"]
    code, path, first = None, None, 1
    if "uri" in arg:
        if "range" in arg:
            target = targets.target(ls, arg["uri"], arg["range"])
            code, path, first = target.text, target.path, target.first_line
        else:
            doc = targets.document(ls, arg["uri"])
            code, path = doc.source, targets.display_path(ls, arg["uri"])
            if len(code) > targets.MAX_TEXT:
                raise targets.invalid(f"uri: the file is too large to send whole "
                                      f"({len(code) // 1000} KB); select the part to ask about")
    title = "Astra: Ask"
    short = question if len(question) <= 60 else question[:59] + "…"
    sink = OutputSink(ls, f"{title} — {short}")
    make = targets.with_context(
        ls, sink, lambda context: Request.ask(
            prompts.ask(question, path=path, code=code, first_line=first, context=context),
            system=prompts.SYSTEM),
        question=question, uri=arg.get("uri"),
        selection=code if "range" in arg and code else "")
    session = ls.sessions.start("ren.ask", title, make, sink, question=question)
    return {"session": session.id}
