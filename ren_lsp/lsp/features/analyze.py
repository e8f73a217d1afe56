"""`ren.analyzeArchitecture {path?}`: a report computed locally from the index (packages, the
dependency graph with a Mermaid diagram, cycles, entry points, hubs, external dependencies),
written to an output document first, then Astra's commentary streamed below it. If Astra
cannot be reached, the local report stands on its own.
"""

from __future__ import annotations

import asyncio
import posixpath
import re
from typing import TYPE_CHECKING

import attrs

from ren_lsp import prompts
from ren_lsp.architecture import Module, report
from ren_lsp.lsp.commands import register_command
from ren_lsp.lsp.documents import invalid
from ren_lsp.lsp.sessions import SessionError
from ren_lsp.models import Request

if TYPE_CHECKING:
    from ren_lsp.context.index import FileRecord, Index
    from ren_lsp.lsp.protocol import Server
    from ren_lsp.lsp.sessions import Session

_LOCAL = re.compile(r"^(?:\.|crate\b|self\b|super\b)")


def external_name(spec: str, language: str) -> str | None:
    """The outside package an unresolved import names, or None for a relative one."""
    spec = spec.strip("\"'<> ")
    if not spec or _LOCAL.match(spec) or spec.startswith("/"):
        return None
    if language in ("javascript", "typescript", "tsx"):
        parts = spec.split("/")
        return "/".join(parts[:2]) if spec.startswith("@") else parts[0]
    if language == "rust":
        return spec.split("::")[0]
    if language in ("go", "c", "cpp"):
        return spec
    return re.split(r"[./:]", spec)[0] or None


def modules_of(index: Index, prefix: str = "") -> list[Module]:
    """The indexed files under ``prefix`` as report modules (reads each file for its size)."""
    with index.lock:
        # Files outside every workspace folder (opened from elsewhere) are not part of it.
        records: list[FileRecord] = [r for r in index.records.values() if r.root >= 0 and
                                     (not prefix or r.key.startswith(prefix))]
    keys = {r.key for r in records}
    modules = []
    for record in records:
        resolved = index.graph.imports_of(record.key)
        external = set()
        for spec in record.imports:
            if not index.graph.resolve(record, spec):
                name = external_name(spec, record.language)
                if name:
                    external.add(name)
        text = index.text_of(record.key) or ""
        modules.append(Module(
            path=record.key, lines=text.count("\n") + (not text.endswith("\n") and bool(text)),
            imports=frozenset(resolved & keys), external=frozenset(external),
            definitions=len(record.definitions),
            entry="__name__ == \"__main__\"" in text or "__name__ == '__main__'" in text))
    return modules


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
        modules = await asyncio.get_running_loop().run_in_executor(
            None, modules_of, engine.index, prefix)
        if not modules:
            raise SessionError(f"there are no indexed source files under {where}: check the "
                               "path (relative to the workspace root)")
        text = report(modules, title=f"Architecture of {where}")
        doc.append(text + "\n## Astra's commentary\n\n")
        await s.ask(Request.ask(prompts.architecture(text, where), system=prompts.SYSTEM),
                    on_text=doc.append)
        return await s.done_in_transcript()

    return ls.sessions.run("ren.analyzeArchitecture", title, run, path=where)


def register(server: Server) -> None:
    register_command(server, "ren.analyzeArchitecture", AnalyzeArgs, analyze)
