"""What users run: code actions and the `ren.*` commands, one small module each, each
registering itself on the server it is given (as esbonio's features do)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server


def register(server: Server) -> None:
    from ren_lsp.lsp.features import (
        actions,
        agent,
        analyze,
        cancel,
        completion,
        explain,
        pullrequest,
        rewrite,
    )

    for feature in (actions, explain, rewrite, analyze, agent, pullrequest, cancel, completion):
        feature.register(server)
