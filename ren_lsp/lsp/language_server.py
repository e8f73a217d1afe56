"""The language server object: everything a session needs hangs off it (no module-level
state): its settings and their layers, its model clients, sessions, edits and index."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from ren_lsp import __version__
from ren_lsp.config import Resolved, Settings, load_settings, refused_message
from ren_lsp.lsp.edits import EditService
from ren_lsp.lsp.indexing import Indexing
from ren_lsp.lsp.rpc import RenProtocol
from ren_lsp.lsp.sessions import SessionManager

if TYPE_CHECKING:
    from ren_lsp.logs import RedactingFilter
    from ren_lsp.models import ModelFactory
    from ren_lsp.models.client import ModelClient

log = logging.getLogger(__name__)


class RenLanguageServer(LanguageServer):
    """The server, holding everything a session needs (no module-level state)."""

    def __init__(self, resolved: Resolved, redactor: RedactingFilter | None,
                 model_factory: ModelFactory | None = None) -> None:
        super().__init__("ren-lsp", __version__, protocol_cls=RenProtocol)
        self.resolved = resolved
        self.redactor = redactor
        self.sessions = SessionManager(self)
        self.edits = EditService(self)
        self.indexing = Indexing(self)
        self._editor_layers: dict[str, Mapping[str, Any]] = {}
        self._models: dict[str, ModelClient] = {}
        self._model_factory = model_factory
        self._shown_problems: set[str] = set()
        self._refused_shown: set[str] = set()
        self._background: set[asyncio.Task[None]] = set()
        #: called with a document's URI on each didChange (inline completion drops stale work)
        self.document_listeners: list[Callable[[str], None]] = []

    protocol: RenProtocol

    def serve_stdio(self) -> int:
        """Serve LSP on stdin/stdout until ``exit`` or the stream ends; the exit code (non-zero
        when the stream broke: the editor then restarts the server)."""
        from ren_lsp.lsp.stdio import serve_stdio

        return serve_stdio(self)

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """pygls's entry point, served by ``serve_stdio`` (its framing and exit)."""
        from ren_lsp.lsp.stdio import serve_stdio

        raise SystemExit(serve_stdio(self, stdin, stdout))

    def abandon_requests(self, owner: str) -> bool:
        """Fail the requests to the editor a session (``owner``) waits on, and its next ones;
        True if some were waiting."""
        return self.protocol.abandon(owner)

    def forget_requests(self, owner: str) -> None:
        self.protocol.forget(owner)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls shows a failed notification handler as "Error in server: <exception>"; the
        user gets one short line, the details stay in the log (pygls logged them)."""
        from pygls.exceptions import FeatureRequestError

        if source is FeatureRequestError:
            return
        self.show_message("ren-lsp: an internal error; the details are in the server's log",
                          types.MessageType.Error)

    @property
    def settings(self) -> Settings:
        return self.resolved.settings

    @property
    def encoding(self) -> str:
        """The negotiated position encoding ("utf-16" unless the client offered better)."""
        return str(self.workspace.position_encoding or "utf-16")

    # -- settings ---------------------------------------------------------------------------

    def update_settings(self, layer: str, values: Any) -> None:
        """Add or replace an editor layer, re-resolve, and tell the user of invalid values."""
        if isinstance(values, Mapping):
            self._editor_layers[layer] = values
        # Settings that run commands, choose secret files or decide where code and keys go
        # come only from the user's config file and environment: a client may forward a
        # repository's own settings (Helix reads .helix/languages.toml).
        self.resolved = load_settings(editor_layers=list(self._editor_layers.items()),
                                      refuse_user_only=True)
        if self.redactor is not None:
            self.redactor.add(self.settings.api_key)
        refused = [n for n in self.resolved.refused if n not in self._refused_shown]
        if refused:
            self._refused_shown.update(refused)
            self.show_message(refused_message(refused), types.MessageType.Warning)
        fresh = [p for p in self.resolved.problems if p not in self._shown_problems]
        if fresh:
            self._shown_problems.update(fresh)
            self.show_message("ren-lsp settings: " + "; ".join(fresh), types.MessageType.Warning)
        if self._models:
            # The next session builds clients from the new settings; the old ones close
            # once the sessions streaming through them are done.
            running = [s.task for s in self.sessions.sessions.values() if s.task is not None]
            old, self._models = list(self._models.values()), {}
            task = asyncio.get_running_loop().create_task(_close_after(old, running))
            self._background.add(task)  # the loop holds tasks weakly
            task.add_done_callback(self._background.discard)
        self.indexing.configure()

    def model(self, role: str = "default") -> ModelClient:
        """The model client of a role (``default``, ``completion``, ``agent``) for the current
        settings, built when first needed."""
        client = self._models.get(role)
        if client is None:
            if self._model_factory is not None:
                client = self._model_factory(self.settings, role)
            else:
                from ren_lsp.models import client_from_settings

                # An invalid provider or baseUrl fails every request, never falls back.
                client = client_from_settings(
                    self.settings, role=role, api_key=self._key_source(),
                    refused=self.resolved.blocking_error("provider", "base_url"))
            self._models[role] = client
        return client

    async def close_models(self) -> None:
        """Close every model client (at shutdown)."""
        clients, self._models = list(self._models.values()), {}
        for client in clients:
            await client.aclose()

    def _key_source(self) -> Callable[[], str | None]:
        """The key, resolved once per settings (an apiKeyCommand runs once, not per request)
        and known to the log redactor as soon as it is."""
        from ren_lsp.keys import resolve_api_key

        settings = self.settings
        found: list[str] = []

        def key() -> str | None:
            if not found:
                value = resolve_api_key(settings)
                if value is None:
                    return None
                if self.redactor is not None:
                    self.redactor.add(value)
                found.append(value)
            return found[0]

        return key

    # -- talking to the editor --------------------------------------------------------------

    def show_message(self, message: str, kind: types.MessageType) -> None:
        if self.redactor is not None:
            message = self.redactor.redact(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))
        self.window_log_message(types.LogMessageParams(type=kind, message=message))


async def _close_after(clients: list[ModelClient], running: list[asyncio.Task[None]]) -> None:
    await asyncio.gather(*running, return_exceptions=True)
    for client in clients:
        await client.aclose()
