"""`ren.analyzeArchitecture {path?}`: a report computed locally from the index (packages, the
dependency graph with a Mermaid diagram, cycles, entry points, hubs, external dependencies),
written to an output document first, then Astra's commentary streamed below it. If Astra
cannot be reached, the local report stands on its own.
"""

from __future__ import annotations

import asyncio
import functools
import posixpath
from typing import TYPE_CHECKING

import attrs

from ren_lsp import prompts
from ren_lsp.architecture import report_of
from ren_lsp.lsp.commands import register_command
from ren_lsp.lsp.documents import invalid
from ren_lsp.lsp.sessions import SessionError
from ren_lsp.models import Request

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server
    from ren_lsp.lsp.sessions import Session

@attrs.define
class AnalyzeArgs:
    path: str = ""


def analyze(ls: Server, arg: AnalyzeArgs) -> dict[str, str]:
    engine = ls.indexing.engine
    if engine is None or not engine.roots:
        raise invalid("no workspace folder is open: open a folder to analyze")
    folder = posixpath.normpath(arg.path.strip() or ".").strip("/")
    if folder == ".." or folder.startswith("../"):
        raise invalid("path: give a folder inside the workspace")
    prefix = "" if folder == "." else f"{folder}/"
    where = prefix.rstrip("/") or "the workspace"
    title = "Astra: Analyze architecture"

    async def run(s: Session) -> str:
        doc = await s.open_transcript(f"{title} — {where}")
        # Local work first: the report stands on its own if the model cannot be reached.
        await ls.indexing.ready()
        text = await asyncio.get_running_loop().run_in_executor(None, functools.partial(
            report_of, engine.index, prefix, title=f"Architecture of {where}"))
        if text is None:
            raise SessionError(f"there are no indexed source files under {where}: check the "
                               "path (relative to the workspace root)")
        doc.append(text + "\n## Astra's commentary\n\n")
        await s.ask(Request.ask(prompts.architecture(text, where), system=prompts.SYSTEM),
                    on_text=doc.append)
        return await s.done_in_transcript()

    return ls.sessions.run("ren.analyzeArchitecture", title, run, path=where)


def register(server: Server) -> None:
    register_command(server, "ren.analyzeArchitecture", AnalyzeArgs, analyze)
