"""`ren.undo {session}`: put back every file an agent run changed, from its checkpoint (files it
created are removed), except files the user changed since, which it names and leaves."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ren_lsp.lsp.documents import invalid
from ren_lsp.lsp.features.agent.checkpoints import Checkpoint
from ren_lsp.lsp.sessions import SessionError

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server
    from ren_lsp.lsp.sessions import Session


def _current(ls: Server, path: Path) -> str | None:
    """The file's text as the user sees it: its buffer when open, else the disk."""
    doc = ls.workspace.text_documents.get(path.as_uri())
    return doc.source if doc is not None else _disk(path)


def undo(ls: Server, session: str) -> dict[str, str]:
    if session in ls.sessions.sessions:
        raise invalid(f"session: {session} is still running; cancel it first")
    checkpoint = Checkpoint.load(session)
    if checkpoint is None:
        raise invalid(f"session: no agent run {session} changed files (nothing to undo)")

    async def run(s: Session) -> str:
        s.hold()  # half an undo would be worse than none
        restored, left = [], []
        for relative, entry in sorted(checkpoint.entries.items()):
            if entry.after is None:
                continue
            path = Path(entry.path)
            now = await asyncio.to_thread(_current, ls, path)
            if now != entry.after:
                left.append(relative)  # the user changed it since: theirs now
                continue
            if entry.before is None:
                doc = ls.workspace.text_documents.get(path.as_uri())
                if doc is not None and doc.source != await asyncio.to_thread(
                        _disk, path):
                    left.append(relative)
                    continue
                await asyncio.to_thread(path.unlink, missing_ok=True)
                restored.append(f"{relative} (removed)")
                continue
            result = await ls.edits.write_file(path, entry.before, read_as=entry.after,
                                               label="Astra: Undo")
            (restored if result.applied else left).append(relative)
        if not restored and not left:
            raise SessionError("that run changed no files")
        s.history.update(restored=restored, left=left, undone=session)
        summary = f"Restored {len(restored)} file{'s' if len(restored) != 1 else ''}"
        if restored:
            summary += f": {', '.join(restored)}"
        if left:
            summary += f"; left {', '.join(left)}: changed since the run (yours now)"
            ls.show_message(f"Astra: Undo left {', '.join(left)}, which changed after the agent "
                            "run; nothing of yours was overwritten.", types.MessageType.Warning)
        return summary

    return ls.sessions.run("ren.undo", "Astra: Undo", run, starting="restoring files…",
                           undone=session)


def _disk(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
