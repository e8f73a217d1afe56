"""create_server(): builds the language server and wires its features. Wiring only."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from ren_lsp import __version__
from ren_lsp.config import Resolved, Settings, load_settings
from ren_lsp.lsp.edits import EditService
from ren_lsp.lsp.indexing import Indexing
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
        super().__init__("ren-lsp", __version__)
        self.resolved = resolved
        self.redactor = redactor
        self.sessions = SessionManager(self)
        self.edits = EditService(self)
        self.indexing = Indexing(self)
        self._editor_layers: dict[str, Mapping[str, Any]] = {}
        self._models: dict[str, ModelClient] = {}
        self._model_factory = model_factory
        self._shown_problems: set[str] = set()
        self._background: set[asyncio.Task[None]] = set()
        #: called with a document's URI on each didChange (inline completion drops stale work)
        self.document_listeners: list[Callable[[str], None]] = []

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
        self.resolved = load_settings(editor_layers=list(self._editor_layers.items()))
        if self.redactor is not None:
            self.redactor.add(self.settings.api_key)
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

                client = client_from_settings(self.settings, role=role,
                                              api_key=self._key_source())
            self._models[role] = client
        return client

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


async def _watch_files(ls: RenLanguageServer) -> None:
    """Ask the editor to tell us of files changed outside it (git checkout, a formatter)."""
    registration = types.Registration(
        id="ren-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern="**/*")]))
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration]))
    except Exception as exc:  # the index then follows open documents only
        log.info("registering for watched files failed: %s", exc)


def create_server(*, resolved: Resolved | None = None, redactor: RedactingFilter | None = None,
                  model_factory: ModelFactory | None = None) -> RenLanguageServer:
    """A new server; ``resolved`` defaults to settings from the config file and environment;
    ``model_factory(settings, role)`` builds its model clients (default: from the settings)."""
    server = RenLanguageServer(resolved or load_settings(), redactor, model_factory)
    if redactor is not None:
        redactor.add(server.settings.api_key)

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: RenLanguageServer, params: types.InitializeParams) -> None:
        ls.update_settings("initializationOptions", params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: RenLanguageServer, params: types.InitializedParams) -> None:
        ls.indexing.start()
        caps = ls.client_capabilities.workspace
        watched = caps and caps.did_change_watched_files
        if watched and watched.dynamic_registration:
            await _watch_files(ls)
        if caps and caps.configuration:
            try:
                values = await ls.workspace_configuration_async(types.ConfigurationParams(
                    items=[types.ConfigurationItem(section="ren")]))
            except Exception as exc:
                log.info("workspace/configuration failed: %s", exc)
                return
            if values and isinstance(values[0], Mapping):
                ls.update_settings("workspace/configuration", values[0])

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_configuration(ls: RenLanguageServer,
                         params: types.DidChangeConfigurationParams) -> None:
        ls.update_settings("workspace/didChangeConfiguration", params.settings)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls: RenLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.edits.on_did_change(params)
        for listener in ls.document_listeners:
            listener(params.text_document.uri)
        ls.indexing.changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_open(ls: RenLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.indexing.changed(params.text_document.uri, delay=0)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def on_save(ls: RenLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.indexing.changed(params.text_document.uri, delay=0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls: RenLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        # The buffer is gone: what counts now is the file on disk.
        ls.indexing.changed(params.text_document.uri, from_buffer=False, delay=0)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def on_watched(ls: RenLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.indexing.watched(params)

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(ls: RenLanguageServer, params: None) -> None:
        ls.sessions.cancel()
        for client in ls._models.values():
            await client.aclose()

    from ren_lsp.lsp.features import register

    register(server)
    return server
