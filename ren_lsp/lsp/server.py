"""create_server(): builds the language server and wires its features. Wiring only."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from lsprotocol import types

from ren_lsp.config import Resolved, load_settings
from ren_lsp.lsp.language_server import RenLanguageServer

if TYPE_CHECKING:
    from ren_lsp.logs import RedactingFilter
    from ren_lsp.models import ModelFactory

log = logging.getLogger(__name__)


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
        await ls.close_models()

    from ren_lsp.lsp.features import register

    register(server)
    return server
