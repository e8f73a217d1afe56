"""create_server(): builds the language server and wires its features. Wiring only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pygls.lsp.server import LanguageServer

from ren_lsp import __version__

if TYPE_CHECKING:
    from ren_lsp.config import Resolved
    from ren_lsp.logs import RedactingFilter


class RenLanguageServer(LanguageServer):
    """The server, holding everything a session needs (no module-level state)."""

    def __init__(self, resolved: Resolved, redactor: RedactingFilter | None) -> None:
        super().__init__("ren-lsp", __version__)
        self.resolved = resolved
        self.redactor = redactor


def create_server(*, resolved: Resolved | None = None,
                  redactor: RedactingFilter | None = None) -> RenLanguageServer:
    """A new server; ``resolved`` defaults to settings from the config file and environment."""
    if resolved is None:
        from ren_lsp.config import load_settings

        resolved = load_settings()
    return RenLanguageServer(resolved, redactor)
