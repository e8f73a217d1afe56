"""The features: code actions and the `ren.*` commands, each a small module over sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ren_lsp.server import RenLanguageServer


def register(server: RenLanguageServer) -> None:
    from ren_lsp.features import actions, commands

    actions.register(server)
    commands.register(server)
