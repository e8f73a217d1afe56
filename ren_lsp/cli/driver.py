"""A minimal editor that drives ren-lsp over stdio: for the demo and the benchmarks.

It speaks LSP as VS Code does where it matters here: advertises progress, showDocument and
versioned workspace edits, applies edits to its own copies of the documents (in UTF-16
positions) and reports them back with didChange. Tests use a fuller editor of their own.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Union

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.workspace import TextDocument


class Driver:
    """An editor-like LSP client, with hooks to watch what the server does."""

    def __init__(self) -> None:
        self.client = LanguageClient("ren-lsp-driver", "1")
        self.documents: dict[str, TextDocument] = {}
        self.progress: dict[str, list[Any]] = {}
        self.messages: list[types.ShowMessageParams] = []
        self.on_progress: Callable[[str, Any], object] = lambda token, value: None
        self.on_append: Callable[[str, str], object] = lambda uri, text: None
        #: answers window/showMessageRequest (an action's title, None to dismiss); the
        #: capability is advertised only when ``start(ask=True)``
        self.on_request: Callable[[types.ShowMessageRequestParams],
                                  Awaitable[str | None]] | None = None
        self._ended: dict[str, asyncio.Event] = {}
        #: tokens of progress as it begins: the server's own work, and the user's sessions
        self._indexing: asyncio.Queue[str] = asyncio.Queue()
        self._sessions: asyncio.Queue[str] = asyncio.Queue()
        self.stderr = ""  # the server's last 64 KiB of stderr
        _fix_code_action_parsing(self.client)
        self._register()

    def _register(self) -> None:
        client = self.client

        @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create(_: LanguageClient, params: types.WorkDoneProgressCreateParams) -> None:
            self.progress[str(params.token)] = []
            self._ended.setdefault(str(params.token), asyncio.Event())

        @client.feature(types.PROGRESS)
        def progress(_: LanguageClient, params: types.ProgressParams) -> None:
            token = str(params.token)
            value = params.value if isinstance(params.value, dict) else \
                client.protocol._converter.unstructure(params.value)
            self.progress.setdefault(token, []).append(value)
            if value.get("kind") == "begin":
                title = value.get("title", "")
                queue = self._indexing if title == "Indexing workspace" else self._sessions
                queue.put_nowait(token)
            self.on_progress(token, value)
            if value.get("kind") == "end":
                self._ended.setdefault(token, asyncio.Event()).set()

        @client.feature(types.WINDOW_SHOW_MESSAGE)
        def show_message(_: LanguageClient, params: types.ShowMessageParams) -> None:
            self.messages.append(params)

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        async def show_message_request(
                _: LanguageClient, params: types.ShowMessageRequestParams
        ) -> types.MessageActionItem | None:
            if self.on_request is None:
                return None
            title = await self.on_request(params)
            return types.MessageActionItem(title=title) if title is not None else None

        @client.feature(types.WINDOW_LOG_MESSAGE)
        def log_message(_: LanguageClient, params: types.LogMessageParams) -> None:
            pass

        @client.feature(types.WINDOW_SHOW_DOCUMENT)
        def show_document(_: LanguageClient,
                          params: types.ShowDocumentParams) -> types.ShowDocumentResult:
            self._load(params.uri)
            return types.ShowDocumentResult(success=True)

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(_: LanguageClient, params: types.ApplyWorkspaceEditParams
                       ) -> types.ApplyWorkspaceEditResult:
            for change in params.edit.document_changes or []:
                if not isinstance(change, types.TextDocumentEdit):
                    continue
                uri = change.text_document.uri
                doc = self._load(uri)
                version = change.text_document.version
                if version is not None and version != doc.version:
                    return types.ApplyWorkspaceEditResult(applied=False,
                                                          failure_reason="document has changed")
                self._edit(uri, [e for e in change.edits if isinstance(e, types.TextEdit)])
            for uri, edits in (params.edit.changes or {}).items():
                self._load(uri)
                self._edit(uri, list(edits))
            return types.ApplyWorkspaceEditResult(applied=True)

    def _load(self, uri: str) -> TextDocument:
        if uri not in self.documents:
            doc = TextDocument(uri, version=0)
            try:
                text = doc.source
            except OSError:
                text = ""
            self.open(uri, text, "markdown")
        return self.documents[uri]

    def _edit(self, uri: str, edits: list[types.TextEdit]) -> None:
        doc = self.documents[uri]
        # Later edits first, so earlier positions stay valid.
        changes = []
        for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                           reverse=True):
            change = types.TextDocumentContentChangePartial(range=edit.range,
                                                            text=edit.new_text)
            doc.apply_change(change)
            changes.append(change)
            self.on_append(uri, edit.new_text)
        doc.version = (doc.version or 0) + 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
            content_changes=changes))

    # -- what an editor does ------------------------------------------------------------

    async def start(self, root: str, *, env: dict[str, str] | None = None,
                    ask: bool = False) -> None:
        await self.client.start_io(sys.executable, "-m", "ren_lsp",
                                   env={**os.environ, **(env or {})})
        # pygls pipes the server's stderr; drain it, or a chatty server blocks on a full pipe.
        self._stderr_task = asyncio.get_running_loop().create_task(self._drain_stderr())
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(
                    work_done_progress=True,
                    show_document=types.ShowDocumentClientCapabilities(support=True),
                    show_message=types.ShowMessageRequestClientCapabilities() if ask else None),
                workspace=types.WorkspaceClientCapabilities(
                    apply_edit=True,
                    workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True))),
            root_uri=root, process_id=os.getpid()))
        self.client.initialized(types.InitializedParams())

    @property
    def server_pid(self) -> int:
        return int(self.client._server.pid)  # type: ignore[union-attr]

    async def _drain_stderr(self) -> None:
        stream = self.client._server.stderr  # type: ignore[union-attr]
        while stream is not None and (chunk := await stream.read(65536)):
            self.stderr = (self.stderr + chunk.decode("utf-8", "replace"))[-65536:]

    def open(self, uri: str, text: str, language: str) -> None:
        self.documents[uri] = TextDocument(uri, text, version=1)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                                 text=text)))

    async def code_actions(self, uri: str, rng: types.Range) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=rng,
            context=types.CodeActionContext(diagnostics=[])))
        return [a for a in result or [] if isinstance(a, types.CodeAction)]

    async def run(self, command: types.Command, *, timeout: float | None = 120  # noqa: ASYNC109
                  ) -> dict[str, Any]:
        """Run a command and wait until its session's progress ends; returns its result and
        the progress's last message as ``"ended"``."""
        result = await self.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=command.command, arguments=command.arguments))
        # The session's progress begins right after the answer (one run at a time).
        token = await asyncio.wait_for(self._sessions.get(), 30)
        await asyncio.wait_for(self._ended[token].wait(), timeout)
        return {**dict(result or {}), "ended": self.progress[token][-1].get("message", "")}

    async def indexed(self) -> None:
        """Wait until the server's first "Indexing workspace" progress ends."""
        token = await asyncio.wait_for(self._indexing.get(), 30)
        await asyncio.wait_for(self._ended[token].wait(), 120)

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def _fix_code_action_parsing(client: LanguageClient) -> None:
    # lsprotocol 2025.0.0 parses a CodeAction that carries a `command` as a Command; real
    # editors are not affected, Python clients are. See shared/reference/README.md.
    converter = client.protocol._converter

    def structure(obj: Any, _: Any) -> Any:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction],  # noqa: UP007
                                      structure)
