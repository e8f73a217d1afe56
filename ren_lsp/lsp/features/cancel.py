"""`ren.cancel {session?}`: cancel the session a command returned, or all running ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from ren_lsp.lsp.commands import register_command

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server


@attrs.define
class CancelArgs:
    session: str | None = None


def cancel(ls: Server, arg: CancelArgs) -> dict[str, Any]:
    if arg.session is not None and arg.session not in ls.sessions.sessions:
        return {"cancelled": [], "message": f"no running session {arg.session}"}
    return {"cancelled": ls.sessions.cancel(arg.session)}


def register(server: Server) -> None:
    register_command(server, "ren.cancel", CancelArgs, cancel)
