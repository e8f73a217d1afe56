"""`ren.analyzeArchitecture {path?}`: a report computed locally from the index (packages, the
dependency graph with a Mermaid diagram, cycles, entry points, hubs, external dependencies),
written to an output document first, then Astra's commentary streamed below it. If Astra
cannot be reached, the local report stands on its own.
"""

from __future__ import annotations

import asyncio
import functools
import posixpath
from typing import TYPE_CHECKING, Any

from ren_lsp import prompts
from ren_lsp.architecture import report_of
from ren_lsp.astra import MessageRequest
from ren_lsp.features import targets
from ren_lsp.features.answers import OutputSink
from ren_lsp.sessions import SessionError

if TYPE_CHECKING:
    from ren_lsp.server import RenLanguageServer
    from ren_lsp.sessions import Session

def analyze(ls: RenLanguageServer, arg: dict[str, Any]) -> dict[str, str]:
    engine = ls.indexing.engine
    if engine is None or not engine.roots:
        raise targets.invalid("no workspace folder is open: open a folder to analyze")
    folder = posixpath.normpath(arg.get("path", "").strip() or ".").strip("/")
    if folder == ".." or folder.startswith("../"):
        raise targets.invalid("path: give a folder inside the workspace")
    prefix = "" if folder == "." else f"{folder}/"
    where = prefix.rstrip("/") or "the workspace"
    title = "Astra: Analyze architecture"
    sink = OutputSink(ls, f"{title} — {where}")

    async def local_report(session: Session) -> MessageRequest:
        await ls.indexing.ready()
        text = await asyncio.get_running_loop().run_in_executor(None, functools.partial(
            report_of, engine.index, prefix, title=f"Architecture of {where}"))
        if text is None:
            raise SessionError(f"there are no indexed source files under {where}: check the "
                               "path (relative to the workspace root)")
        assert sink.doc is not None
        sink.doc.append(text + "\n## Astra's commentary\n\n")
        return MessageRequest.ask(prompts.architecture(text, where), system=prompts.SYSTEM)

    session = ls.sessions.start("ren.analyzeArchitecture", title, local_report, sink,
                                path=where)
    return {"session": session.id}
