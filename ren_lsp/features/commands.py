"""The `ren.*` workspace commands: check the argument, start a session, answer at once.

Editors time requests out (Helix after 20 s) and drop late answers, so every command returns
``{"session": id}`` as soon as its argument is checked; the result arrives through progress,
edits and messages. A bad argument is a JSON-RPC InvalidParams error naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ren_lsp.features import analyze, answers, rewrite, targets

if TYPE_CHECKING:
    from ren_lsp.server import RenLanguageServer

Handler = Callable[["RenLanguageServer", dict[str, Any]], dict[str, Any]]


def cancel(ls: RenLanguageServer, arg: dict[str, Any]) -> dict[str, Any]:
    session = arg.get("session")
    if session is not None and session not in ls.sessions.sessions:
        return {"cancelled": [], "message": f"no running session {session}"}
    return {"cancelled": ls.sessions.cancel(session)}


COMMANDS: dict[str, Handler] = {
    "ren.explain": answers.explain,
    "ren.ask": answers.ask,
    "ren.refactor": rewrite.refactor,
    "ren.fix": rewrite.fix,
    "ren.generate": rewrite.generate,
    "ren.analyzeArchitecture": analyze.analyze,
    "ren.cancel": cancel,
}


def register(server: RenLanguageServer) -> None:
    for name, handler in COMMANDS.items():
        server.command(name)(_entry(name, handler))


def _entry(name: str, handler: Handler) -> Callable[..., dict[str, Any]]:
    # pygls 2 passes the command's arguments positionally; we take them raw and check them
    # against the schema ourselves, so errors name the field the user got wrong.
    # No annotations on `run`: pygls resolves them at call time, and the server's type is
    # imported only for type checking here.
    def run(ls, *args):
        return handler(ls, targets.check_argument(name, args))

    run.__name__ = name.replace(".", "_")
    return run
