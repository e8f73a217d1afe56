"""An editor simulated faithfully on pytest-lsp's client, to drive a real server over stdio.

    editor = await Editor.start("helix", env=env, tmp_path=tmp_path, workspace=ws)
    uri = editor.open(ws / "billing.py")
    await editor.command("ren.explain", {"uri": uri, "range": ...})
    token, values = await editor.wait_for_progress_end()
    edit = await editor.wait_for_edit(lambda e: e.applied)
    assert TEST_KEY not in editor.all_server_output()
    await editor.stop()

What it does as the real editors do (`shared/clients/README.md`):

- initializes with the profile's real capabilities and `clientInfo` (VS Code 1.65 and Neovim from
  pytest-lsp, Helix 25.07.1 from its source, "bare": no progress, no showDocument);
- keeps the documents it opened, with versions, and sends incremental `didChange` in the
  position encoding the server chose (UTF-16 unless `capabilities.positionEncoding` says
  otherwise), honouring the server's `textDocumentSync`;
- answers `workspace/applyEdit` like an editor: a versioned edit whose version is not the
  document's is refused with "document has changed"; an edit to a file not open loads it
  (from disk, or empty) and sends `didOpen`; after applying, it sends `didChange` *before*
  answering, as editors do. VS Code and "bare" apply `documentChanges` text transactionally;
  Neovim and Helix apply them in order and stop at the first failure (`failedChange`);
- answers `window/showDocument` by opening the document (for every profile, as Helix does
  even though it does not advertise it), `window/workDoneProgress/create`, `workspace/configuration`
  (Helix: from its `config`, i.e. `initializationOptions`), `client/registerCapability`;
  Helix answers `window/showMessageRequest` with "Method not found", the others pick the
  next of `editor.choices` (the test's user), or dismiss it;
- records what a real client of that profile would not accept in `editor.violations` (a
  request for a capability it does not advertise, progress on a token nobody created, output on
  stdout that is not LSP); the `start_editor` fixture fails the test at teardown if any.

Every byte the server sends is kept (`editor.wire`), with its stderr (a file in `tmp_path`) and
every file it writes under `tmp_path`, so `all_server_output()` / `leaks(secret)` can prove a
secret never left the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import shutil
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

from tests.e2e.documents import (
    Document,
    EditError,
    apply_text_edits,
    language_id_for,
    offset_at,
    position_at,
    range_of,
)
from tests.e2e.lsp_client import (
    PROFILES,
    TeeingClient,
    canonical_uri,
    fix_code_action_union,
    profile_capabilities,
    uri_to_path,
)

__all__ = ["PROFILES", "AppliedEdit", "Editor", "ServerExited", "profile_capabilities"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Edits a real editor refuses when the version differs (Helix's words, used for every profile).
DOCUMENT_CHANGED = "document has changed"
_MISSING: Any = object()


#: progress the server shows for work of its own (not a user's request): skipped by
#: `wait_for_progress_end` unless asked for by title
BACKGROUND_TITLES = ("Indexing workspace",)


class ServerExited(RuntimeError):
    """The server process ended while the editor was waiting for something."""


@dataclass
class AppliedEdit:
    """One `workspace/applyEdit` the server sent, and what the editor answered."""

    params: types.ApplyWorkspaceEditParams
    result: types.ApplyWorkspaceEditResult

    @property
    def applied(self) -> bool:
        return self.result.applied

    @property
    def label(self) -> str | None:
        return self.params.label

    @property
    def uris(self) -> list[str]:
        """The documents it touches, in order (canonical URIs)."""
        edit, found = self.params.edit, []
        for change in edit.document_changes or ():
            if isinstance(change, types.TextDocumentEdit):
                found.append(change.text_document.uri)
            elif isinstance(change, types.RenameFile):
                found += [change.old_uri, change.new_uri]
            else:
                found.append(change.uri)
        found += list(edit.changes or {})
        return [canonical_uri(u) for u in found]

    @property
    def new_texts(self) -> list[str]:
        """Every inserted text, in order (to search an edit for a string)."""
        texts = [e.new_text for edits in (self.params.edit.changes or {}).values() for e in edits]
        for change in self.params.edit.document_changes or ():
            if isinstance(change, types.TextDocumentEdit):
                texts += [getattr(e, "new_text", "") for e in change.edits]
        return texts


def _get(obj: Any, dotted: str) -> Any:
    """`obj.a.b.c`, or None when any step is missing."""
    for name in dotted.split("."):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def _matcher(predicate: Callable[[T], bool] | str | None,
             text: Callable[[T], str]) -> Callable[[T], bool]:
    if predicate is None:
        return lambda _: True
    if isinstance(predicate, str):
        return lambda item: predicate in text(item)
    return predicate


class Editor:
    """A text editor connected to one language server process. Build with `Editor.start`."""

    def __init__(self, profile: str, client: TeeingClient, capabilities: types.ClientCapabilities,
                 tmp_path: Path, workspace: Path | None, strict: bool) -> None:
        self.profile = profile
        self.client = client
        self.capabilities = capabilities
        self.tmp_path = tmp_path
        self.workspace = workspace
        #: Fail the `start_editor` fixture's teardown on violations or a non-zero exit.
        self.strict = strict
        self.documents: dict[str, Document] = {}
        self.applied_edits: list[AppliedEdit] = []
        self.shown_documents: list[types.ShowDocumentParams] = []
        self.message_requests: list[types.ShowMessageRequestParams] = []
        #: the actions the user picks, in order, for the next showMessageRequests (then dismiss)
        self.choices: list[str] = []
        self.registrations: list[types.Registration] = []
        #: What a real client of this profile would not have accepted from the server.
        self.violations: list[str] = []
        #: Lines Neovim echoes for a `workspace/applyEdit` with a label ("Workspace edit X").
        self.echoes: list[str] = []
        self.initialize_result: types.InitializeResult | None = None
        self.position_encoding = "utf-16"
        self.stderr_path = tmp_path / "editor.stderr"
        self.returncode: int | None = None
        self._opened_by_server: set[str] = set()
        self._refusals: list[str] = []
        self._created_tokens: set[types.ProgressToken] = set()
        self._supplied_tokens: set[types.ProgressToken] = set()
        self._ended_tokens: list[types.ProgressToken] = []
        self._returned: dict[str, set[Any]] = {"message": set(), "log": set(), "edit": set(),
                                                "progress": set()}
        self._changed = asyncio.Event()
        self._snapshot: dict[Path, str] = {}
        self._exit_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._sync_open_close = True
        self._sync_change = types.TextDocumentSyncKind.Incremental
        self._sync_save: bool | types.SaveOptions | None = None

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    async def start(
        cls,
        profile: str = "vscode",
        *,
        env: dict[str, str],
        tmp_path: Path,
        init_options: Any = None,
        workspace: Path | None = None,
        configuration: dict[str, Any] | None = None,
        command: Iterable[str] | None = None,
        server_args: Iterable[str] | None = None,
        strict: bool = True,
        echo_stderr: bool = True,
        timeout: float = 30,  # noqa: ASYNC109
    ) -> Editor:
        """Start the server (`python -m ren_lsp` unless `command`), initialize, `initialized`.

        `server_args` default to `-vv --log-file <tmp_path>/editor-N.server.log` for ren-lsp
        (most logging, so secret checks see the most) and to nothing for another `command`.
        `configuration` answers `workspace/configuration` (Helix: `init_options`).
        """
        client = TeeingClient()
        capabilities, client_info = profile_capabilities(profile, client.protocol._converter)
        editor = cls(profile, client, capabilities, tmp_path, workspace, strict)
        editor._register_handlers()
        client.on_stray = lambda line: editor._violation(
            f"the server wrote to stdout outside LSP framing: {line[:200]!r}")
        fix_code_action_union(client.protocol._converter)

        n = 1
        while (tmp_path / f"editor-{n}.stderr").exists():
            n += 1
        editor.stderr_path = tmp_path / f"editor-{n}.stderr"
        editor.stderr_path.touch()
        if command is None:
            command = [sys.executable, "-m", "ren_lsp"]
            if server_args is None:
                server_args = ["-vv", "--log-file", str(tmp_path / f"editor-{n}.server.log")]
        if configuration is None and profile == "helix":
            configuration = init_options if isinstance(init_options, dict) else None
        if configuration is not None:
            client.set_configuration(configuration)
        editor._snapshot = editor._hash_files()

        await client.start_io(*command, *(server_args or ()), env=env,
                              cwd=str(workspace or tmp_path), stderr_path=editor.stderr_path,
                              echo_stderr=echo_stderr)
        assert client._server is not None
        editor._exit_task = asyncio.create_task(editor._watch_exit(client._server))

        folders = None if workspace is None else [
            types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)]
        params = types.InitializeParams(
            capabilities=capabilities, client_info=client_info,
            root_uri=workspace.as_uri() if workspace else None,
            root_path=str(workspace) if workspace else None,
            workspace_folders=folders if folders or profile != "helix" else [],
            initialization_options=init_options)
        try:
            result = await asyncio.wait_for(client.initialize_session(params), timeout)
        except Exception as exc:
            await editor.stop()
            raise ServerExited(f"initialize failed: {exc!r}\n{editor._stderr_tail()}") from exc
        editor.initialize_result = result
        editor._read_server_capabilities(result.capabilities)
        if profile == "helix" and init_options is not None:
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=init_options))
        return editor

    async def stop(self, timeout: float = 10) -> int | None:  # noqa: ASYNC109
        """`shutdown`, `exit`, wait for the process (killed if it hangs); its exit code."""
        if self._stopped:
            return self.returncode
        self._stopped = True
        process = self.client._server
        if process is not None and process.returncode is None and self.client.error is None:
            try:
                await asyncio.wait_for(self.client.shutdown_session(), timeout)
            except Exception as exc:  # the server died or hung: reported via returncode
                self.violations.append(f"shutdown failed: {exc!r}")
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            self.violations.append("the server did not exit after shutdown/exit; killed")
        await asyncio.wait_for(self.client.stop(), timeout)
        if self.client.stderr_task is not None:
            await asyncio.wait_for(self.client.stderr_task, timeout)
        if self._exit_task is not None:
            await self._exit_task
        self.returncode = process.returncode if process is not None else None
        return self.returncode

    async def _watch_exit(self, process: asyncio.subprocess.Process) -> None:
        await process.wait()
        self._notify()

    def _read_server_capabilities(self, caps: types.ServerCapabilities) -> None:
        encoding = caps.position_encoding
        self.position_encoding = str(getattr(encoding, "value", encoding) or "utf-16")
        sync = caps.text_document_sync
        if sync is None:
            self._sync_open_close, self._sync_change = False, types.TextDocumentSyncKind.None_
        elif isinstance(sync, types.TextDocumentSyncOptions):
            self._sync_open_close = bool(sync.open_close)
            self._sync_change = sync.change or types.TextDocumentSyncKind.None_
            self._sync_save = sync.save
        else:
            self._sync_open_close, self._sync_change = True, sync

    @property
    def server_capabilities(self) -> types.ServerCapabilities:
        assert self.initialize_result is not None
        return self.initialize_result.capabilities

    @property
    def commands(self) -> list[str]:
        """The commands the server lists in `executeCommandProvider`."""
        provider = self.server_capabilities.execute_command_provider
        return list(provider.commands) if provider else []

    @property
    def messages(self) -> list[types.ShowMessageParams]:
        return self.client.messages

    @property
    def log_messages(self) -> list[types.LogMessageParams]:
        return self.client.log_messages

    @property
    def progress(self) -> dict[types.ProgressToken, list[Any]]:
        """Begin/Report/End values per token, in arrival order."""
        return self.client.progress_reports

    @property
    def wire(self) -> list[dict[str, Any]]:
        """Every JSON-RPC message the server sent, parsed, in order."""
        messages = []
        for body in self.client.wire:
            with contextlib.suppress(ValueError):
                messages.append(json.loads(body))
        return messages

    def received(self, method: str) -> list[Any]:
        """The raw params of every request/notification `method` the server sent."""
        return [m.get("params") for m in self.wire if m.get("method") == method]

    # ----------------------------------------------------------------- documents

    def open(self, path_or_uri: str | Path, text: str | None = None,
             language_id: str | None = None) -> str:
        """Open a document (`didOpen`, version 1); `text` defaults to the file's. Its URI."""
        uri = canonical_uri(path_or_uri)
        if uri in self.documents:
            return uri
        if text is None:
            text = self._read_disk(uri)
        doc = Document(uri, language_id or language_id_for(uri), 1, text)
        self.documents[uri] = doc
        self._send_open(doc.uri, doc.language_id, doc.version, doc.text)
        return uri

    def close(self, uri: str | Path) -> None:
        uri = canonical_uri(uri)
        del self.documents[uri]
        self._send_close(uri)

    def save(self, uri: str | Path) -> None:
        """Write the document to disk and send `didSave` if the server asked for it."""
        doc = self.documents[canonical_uri(uri)]
        path = uri_to_path(doc.uri)
        assert path is not None, "only file: documents can be saved"
        path.write_text(doc.text, encoding="utf-8")
        if self._sync_save:
            save = self._sync_save
            include = isinstance(save, types.SaveOptions) and save.include_text
            self.client.text_document_did_save(types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=doc.uri),
                text=doc.text if include else None))

    def type(self, uri: str | Path, where: types.Range | types.Position, new_text: str) -> int:
        """The user replaces `where` (positions in the negotiated encoding) with `new_text`.

        Applies it, bumps the version, sends an incremental `didChange`; the new version.
        """
        doc = self.documents[canonical_uri(uri)]
        rng = where if isinstance(where, types.Range) else types.Range(start=where, end=where)
        text, changes = apply_text_edits(
            doc.text, [types.TextEdit(range=rng, new_text=new_text)], self.position_encoding)
        doc.text, doc.version = text, doc.version + 1
        self._send_change(doc.uri, doc.version, changes, text)
        self._notify()
        return doc.version

    def text(self, uri: str | Path) -> str:
        return self.documents[canonical_uri(uri)].text

    def version(self, uri: str | Path) -> int:
        return self.documents[canonical_uri(uri)].version

    def range_of(self, uri: str | Path, needle: str, occurrence: int = 0) -> types.Range:
        """Where `needle` is in the document, in the negotiated encoding."""
        return range_of(self.text(uri), needle, self.position_encoding, occurrence)

    def offset_of(self, uri: str | Path, position: types.Position) -> int:
        """The code point offset of an LSP position in the document."""
        return offset_at(self.text(uri), position, self.position_encoding)

    def change_configuration(self, settings: Any) -> None:
        """`workspace/didChangeConfiguration`, and the new answer to `workspace/configuration`."""
        if isinstance(settings, dict):
            self.client.set_configuration(settings)
        self.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=settings))

    def _read_disk(self, uri: str) -> str:
        path = uri_to_path(uri)
        if path is not None and path.is_file():
            return path.read_text(encoding="utf-8")
        return ""

    def _send_open(self, uri: str, language_id: str, version: int, text: str) -> None:
        if self._sync_open_close:
            self.client.text_document_did_open(types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language_id, version=version, text=text)))

    def _send_change(self, uri: str, version: int,
                     changes: list[types.TextDocumentContentChangePartial], text: str) -> None:
        if self._sync_change == types.TextDocumentSyncKind.None_:
            return
        events: list[types.TextDocumentContentChangeEvent] = list(changes)
        if self._sync_change == types.TextDocumentSyncKind.Full:
            events = [types.TextDocumentContentChangeWholeDocument(text=text)]
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=events))

    def _send_close(self, uri: str) -> None:
        if self._sync_open_close:
            self.client.text_document_did_close(types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))

    # ----------------------------------------------------------------- requests to the server

    async def command(self, name: str, arg: Any = _MISSING, *,
                      work_done_token: types.ProgressToken | None = None,
                      timeout: float = 10) -> Any:  # noqa: ASYNC109
        """`workspace/executeCommand` with `arguments=[arg]` (`[]` without `arg`); the result.

        `timeout` is short on purpose: commands must answer at once (Helix drops late answers).
        """
        return await self._execute(name, [] if arg is _MISSING else [arg],
                                   work_done_token=work_done_token, timeout=timeout)

    async def _execute(self, name: str, arguments: list[Any] | None, *,
                       work_done_token: types.ProgressToken | None = None,
                       timeout: float = 10) -> Any:  # noqa: ASYNC109
        if work_done_token is not None:
            self._supplied_tokens.add(work_done_token)
            self.progress.setdefault(work_done_token, [])
        params = types.ExecuteCommandParams(command=name, arguments=arguments,
                                            work_done_token=work_done_token)
        return await self._request(self.client.workspace_execute_command_async(params),
                                   timeout, f"executeCommand {name}")

    async def code_actions(self, uri: str | Path, range: types.Range,
                           diagnostics: Iterable[types.Diagnostic] = (),
                           only: Iterable[str] | None = None, *,
                           timeout: float = 10,  # noqa: ASYNC109
                           ) -> list[types.CodeAction | types.Command]:
        """`textDocument/codeAction` as the editor asks when the user opens the menu."""
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=canonical_uri(uri)), range=range,
            context=types.CodeActionContext(
                diagnostics=list(diagnostics), only=list(only) if only is not None else None,
                trigger_kind=types.CodeActionTriggerKind.Invoked))
        result = await self._request(self.client.text_document_code_action_async(params),
                                     timeout, "codeAction")
        return list(result or [])

    async def run_action(self, action: types.CodeAction | types.Command,
                         timeout: float = 10) -> Any:  # noqa: ASYNC109
        """Pick an action from the menu: resolve it if needed, apply its edit, run its command."""
        if isinstance(action, types.Command):
            return await self._execute(action.command, action.arguments, timeout=timeout)
        if action.disabled is not None:
            raise AssertionError(f"the action is disabled: {action.disabled.reason}")
        provider = self.server_capabilities.code_action_provider
        resolvable = isinstance(provider, types.CodeActionOptions) and provider.resolve_provider
        if resolvable and action.edit is None and action.command is None:
            action = await self._request(self.client.code_action_resolve_async(action),
                                         timeout, "codeAction/resolve")
        if action.edit is not None:
            result = self._apply_workspace_edit(action.edit)
            if not result.applied:
                raise AssertionError(f"the action's edit failed: {result.failure_reason}")
        if action.command is not None:
            return await self._execute(action.command.command, action.command.arguments,
                                       timeout=timeout)
        return None

    async def cancel_progress(self, token: types.ProgressToken | None = None,
                              timeout: float = 10) -> types.ProgressToken:  # noqa: ASYNC109
        """Press the cancel button of progress `token` (default: the latest still running).

        Waits for its Begin first (there is no button before) and requires `cancellable`.
        """
        def running() -> types.ProgressToken | None:
            candidates = [token] if token is not None else list(self.progress)[::-1]
            for tok in candidates:
                values = self.progress.get(tok, [])
                if values and not isinstance(values[-1], types.WorkDoneProgressEnd):
                    return tok
            return None

        found = await self.wait_until(running, timeout, f"progress {token or ''} to begin")
        begin = self.progress[found][0]
        if not getattr(begin, "cancellable", False):
            raise AssertionError(f"progress {found!r} is not cancellable: no cancel button")
        self.client.window_work_done_progress_cancel(
            types.WorkDoneProgressCancelParams(token=found))
        return found

    async def _request(self, request: Awaitable[T], timeout: float, what: str) -> T:  # noqa: ASYNC109
        try:
            return await asyncio.wait_for(request, timeout)
        except TimeoutError:
            raise TimeoutError(f"{what}: no answer within {timeout} s\n{self._stderr_tail()}"
                               ) from None

    # ----------------------------------------------------------------- handlers (server -> us)

    def _register_handlers(self) -> None:
        mine: dict[str, Callable[..., Any]] = {
            types.WORKSPACE_APPLY_EDIT: self._on_apply_edit,
            types.WINDOW_SHOW_DOCUMENT: self._on_show_document,
            types.WINDOW_WORK_DONE_PROGRESS_CREATE: self._on_progress_create,
            types.PROGRESS: self._on_progress,
            types.WINDOW_SHOW_MESSAGE: self._on_show_message,
            types.WINDOW_LOG_MESSAGE: self._on_log_message,
            types.WINDOW_SHOW_MESSAGE_REQUEST: self._on_show_message_request,
            types.WORKSPACE_CONFIGURATION: self._on_configuration,
            types.CLIENT_REGISTER_CAPABILITY: self._on_register,
            types.CLIENT_UNREGISTER_CAPABILITY: lambda params: None,
            types.WORKSPACE_WORKSPACE_FOLDERS: self._on_workspace_folders,
        }
        for method, default in DEFAULT_CLIENT_FEATURES.items():
            if method not in mine:
                self.client.feature(method)(default)
        for method, handler in mine.items():
            self.client.feature(method)(self._guard(method, handler))

    def _guard(self, method: str, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """A bug in a handler here must fail the test, not just log an error response."""

        @functools.wraps(handler)
        def guarded(params: Any) -> Any:
            try:
                return handler(params)
            except JsonRpcMethodNotFound:
                raise
            except Exception:
                self._violation(f"the editor harness failed on {method}:\n"
                                f"{traceback.format_exc()}")
                raise

        return guarded

    def _default(self, method: str, params: Any) -> Any:
        return DEFAULT_CLIENT_FEATURES[method](self.client, params)

    def _violation(self, what: str) -> None:
        self.violations.append(what)
        logger.warning("violation: %s", what)

    def _require(self, capability: str, what: str) -> None:
        if not _get(self.capabilities, capability):
            self._violation(f"{what}, but {self.profile} does not advertise {capability}")

    def _on_show_message(self, params: types.ShowMessageParams) -> None:
        self._default(types.WINDOW_SHOW_MESSAGE, params)
        self._notify()

    def _on_log_message(self, params: types.LogMessageParams) -> None:
        self._default(types.WINDOW_LOG_MESSAGE, params)
        self._notify()

    def _on_show_message_request(
            self, params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        self.message_requests.append(params)
        self._notify()
        if self.profile == "helix":  # 25.07.1 has no handler for it
            raise JsonRpcMethodNotFound.of(types.WINDOW_SHOW_MESSAGE_REQUEST)
        if self.choices:
            title = self.choices.pop(0)
            offered = [a.title for a in params.actions or []]
            if title not in offered:
                self.violations.append(f"the test picks {title!r}, not offered in {offered}")
                return None
            return types.MessageActionItem(title=title)
        return None  # the user dismissed it

    def _on_configuration(self, params: types.ConfigurationParams) -> Any:
        self._require("workspace.configuration", "workspace/configuration")
        return self._default(types.WORKSPACE_CONFIGURATION, params)

    def _on_register(self, params: types.RegistrationParams) -> None:
        self.registrations += params.registrations

    def _on_workspace_folders(self, params: None) -> list[types.WorkspaceFolder] | None:
        if self.workspace is None:
            return None
        return [types.WorkspaceFolder(uri=self.workspace.as_uri(), name=self.workspace.name)]

    def _on_progress_create(self, params: types.WorkDoneProgressCreateParams) -> None:
        self._require("window.work_done_progress", "window/workDoneProgress/create")
        if params.token in self._created_tokens or params.token in self._supplied_tokens:
            self._violation(f"progress token {params.token!r} created twice")
        self._created_tokens.add(params.token)
        self._default(types.WINDOW_WORK_DONE_PROGRESS_CREATE, params)
        self._notify()

    def _on_progress(self, params: types.ProgressParams) -> None:
        token = params.token
        if token not in self._created_tokens and token not in self._supplied_tokens:
            self._violation(f"$/progress on token {token!r} that the editor never created")
        before = list(self.progress.get(token, []))
        self._default(types.PROGRESS, params)
        values = self.progress.get(token, [])
        if len(values) > len(before):
            value = values[-1]
            if before and isinstance(before[-1], types.WorkDoneProgressEnd):
                self._violation(f"$/progress {value.kind} on token {token!r} after its end")
            elif not before and not isinstance(value, types.WorkDoneProgressBegin):
                self._violation(f"$/progress {value.kind} on token {token!r} before its begin")
            elif before and isinstance(value, types.WorkDoneProgressBegin):
                self._violation(f"a second $/progress begin on token {token!r}")
            if isinstance(value, types.WorkDoneProgressEnd):
                self._ended_tokens.append(token)
        self._notify()

    def _on_show_document(self, params: types.ShowDocumentParams) -> types.ShowDocumentResult:
        self._require("window.show_document.support", "window/showDocument")
        self.shown_documents.append(params)
        if not params.external:
            pending: list[Callable[[], None]] = []
            self._ensure_open(params.uri, pending)
            for send in pending:
                send()
        self._notify()
        return types.ShowDocumentResult(success=True)

    def _on_apply_edit(
        self, params: types.ApplyWorkspaceEditParams,
    ) -> types.ApplyWorkspaceEditResult:
        self._require("workspace.apply_edit", "workspace/applyEdit")
        if self.profile == "neovim" and params.label:
            self.echoes.append(f"Workspace edit {params.label}")
        if self._refusals:
            result = types.ApplyWorkspaceEditResult(applied=False,
                                                    failure_reason=self._refusals.pop(0))
        else:
            result = self._apply_workspace_edit(params.edit)
        self.applied_edits.append(AppliedEdit(params, result))
        self._notify()
        return result

    def refuse_next_edit(self, reason: str = "refused by the test") -> None:
        """Answer the next `workspace/applyEdit` with applied=False and `reason` (queued)."""
        self._refusals.append(reason)

    # ----------------------------------------------------------------- applying workspace edits

    def _apply_workspace_edit(self, edit: types.WorkspaceEdit) -> types.ApplyWorkspaceEditResult:
        """Apply `edit` like the profile's editor; notifications go out before the answer."""
        ops: list[Any]
        if edit.document_changes is not None:
            self._require("workspace.workspace_edit.document_changes",
                          "a WorkspaceEdit with documentChanges")
            ops = list(edit.document_changes)
        else:
            ops = [types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri,
                                                                            version=None),
                edits=list(edits)) for uri, edits in (edit.changes or {}).items()]
        transactional = self.profile in ("vscode", "bare")
        before = {uri: replace(doc) for uri, doc in self.documents.items()}
        opened_before = set(self._opened_by_server)
        pending: list[Callable[[], None]] = []
        for index, op in enumerate(ops):
            try:
                self._apply_operation(op, pending)
            except (EditError, OSError) as exc:
                if transactional:  # text changes are rolled back; nothing was sent yet
                    self.documents, self._opened_by_server = before, opened_before
                    pending.clear()
                for send in pending:
                    send()
                return types.ApplyWorkspaceEditResult(
                    applied=False, failure_reason=str(exc),
                    failed_change=index if edit.document_changes is not None else None)
        for send in pending:
            send()
        return types.ApplyWorkspaceEditResult(applied=True)

    def _ensure_open(self, uri: str, pending: list[Callable[[], None]]) -> Document:
        uri = canonical_uri(uri)
        if uri not in self.documents:
            doc = Document(uri, language_id_for(uri), 1, self._read_disk(uri))
            self.documents[uri] = doc
            self._opened_by_server.add(uri)
            pending.append(functools.partial(self._send_open, uri, doc.language_id, 1, doc.text))
        return self.documents[uri]

    def _apply_operation(self, op: Any, pending: list[Callable[[], None]]) -> None:
        if isinstance(op, types.TextDocumentEdit):
            doc = self._ensure_open(op.text_document.uri, pending)
            version = op.text_document.version
            if version is not None and version != doc.version:
                raise EditError(DOCUMENT_CHANGED)
            if not op.edits:
                return
            edits = []
            for e in op.edits:
                if getattr(e, "new_text", None) is None:
                    raise EditError(f"{self.profile} cannot apply {type(e).__name__}")
                edits.append(types.TextEdit(range=e.range, new_text=e.new_text))
            text, changes = apply_text_edits(doc.text, edits, self.position_encoding)
            doc.text, doc.version = text, doc.version + 1
            pending.append(functools.partial(self._send_change, doc.uri, doc.version,
                                             changes, text))
        elif isinstance(op, types.CreateFile):
            self._require_resource("create")
            self._create_file(op, pending)
        elif isinstance(op, types.RenameFile):
            self._require_resource("rename")
            self._rename_file(op, pending)
        elif isinstance(op, types.DeleteFile):
            self._require_resource("delete")
            self._delete_file(op, pending)
        else:
            raise EditError(f"unknown document change {op!r}")

    def _require_resource(self, kind: str) -> None:
        kinds = _get(self.capabilities, "workspace.workspace_edit.resource_operations") or ()
        if kind not in [getattr(k, "value", k) for k in kinds]:
            self._violation(f"a {kind} resource operation, but {self.profile} does not "
                            "advertise it in workspaceEdit.resourceOperations")

    def _create_file(self, op: types.CreateFile, pending: list[Callable[[], None]]) -> None:
        path = uri_to_path(op.uri)
        if path is None:
            raise EditError(f"cannot create {op.uri}")
        exists = path.exists() or canonical_uri(op.uri) in self.documents
        options = op.options or types.CreateFileOptions()
        if exists and not options.overwrite:
            if options.ignore_if_exists:
                return
            raise EditError(f"{op.uri} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
        doc = self.documents.get(canonical_uri(op.uri))
        if doc is not None and doc.text:  # overwritten while open: the buffer empties too
            everything = types.Range(
                start=types.Position(line=0, character=0),
                end=position_at(doc.text, len(doc.text), self.position_encoding))
            text, changes = apply_text_edits(
                doc.text, [types.TextEdit(range=everything, new_text="")], self.position_encoding)
            doc.text, doc.version = text, doc.version + 1
            pending.append(functools.partial(self._send_change, doc.uri, doc.version, changes,
                                             text))

    def _rename_file(self, op: types.RenameFile, pending: list[Callable[[], None]]) -> None:
        old, new = uri_to_path(op.old_uri), uri_to_path(op.new_uri)
        if old is None or new is None:
            raise EditError(f"cannot rename {op.old_uri}")
        options = op.options or types.RenameFileOptions()
        if new.exists() and not options.overwrite:
            if options.ignore_if_exists:
                return
            raise EditError(f"{op.new_uri} already exists")
        if old.exists():
            new.parent.mkdir(parents=True, exist_ok=True)
            old.replace(new)
        doc = self.documents.pop(canonical_uri(op.old_uri), None)
        if doc is not None:
            pending.append(functools.partial(self._send_close, doc.uri))
            moved = Document(canonical_uri(op.new_uri), language_id_for(op.new_uri), 1, doc.text)
            self.documents[moved.uri] = moved
            pending.append(functools.partial(self._send_open, moved.uri, moved.language_id, 1,
                                             moved.text))

    def _delete_file(self, op: types.DeleteFile, pending: list[Callable[[], None]]) -> None:
        path = uri_to_path(op.uri)
        options = op.options or types.DeleteFileOptions()
        if path is None or not path.exists():
            if options.ignore_if_not_exists:
                return
            raise EditError(f"{op.uri} does not exist")
        if path.is_dir():
            if not options.recursive and any(path.iterdir()):
                    raise EditError(f"{op.uri} is a non-empty folder")
            shutil.rmtree(path)
        else:
            path.unlink()
        if self.documents.pop(canonical_uri(op.uri), None) is not None:
            pending.append(functools.partial(self._send_close, canonical_uri(op.uri)))

    # ----------------------------------------------------------------- waiting

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, find: Callable[[], T | None], timeout: float = 10,  # noqa: ASYNC109
                         what: str = "a condition") -> T:
        """Wait until `find()` returns something other than None (re-checked on every event)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = find()
            if found is not None:
                return found
            process = self.client._server
            if process is not None and process.returncode is not None:
                raise ServerExited(f"the server exited ({process.returncode}) while waiting for "
                                   f"{what}\n{self._stderr_tail()}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what}\n"
                                   f"{self._state_summary()}\n{self._stderr_tail()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def _first_new(self, kind: str, items: list[T], match: Callable[[T], bool]) -> T | None:
        returned = self._returned[kind]
        for index, item in enumerate(items):
            if index not in returned and match(item):
                returned.add(index)
                return item
        return None

    async def wait_for_message(
        self, predicate: Callable[[types.ShowMessageParams], bool] | str | None = None,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> types.ShowMessageParams:
        """The first `window/showMessage` matching `predicate` (a callable, or a substring of
        the message) that no earlier `wait_for_message` returned; waits for it if needed."""
        match = _matcher(predicate, lambda m: m.message)
        return await self.wait_until(lambda: self._first_new("message", self.messages, match),
                                     timeout, f"a showMessage matching {predicate!r}")

    async def wait_for_log(
        self, predicate: Callable[[types.LogMessageParams], bool] | str | None = None,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> types.LogMessageParams:
        """Like `wait_for_message`, for `window/logMessage`."""
        match = _matcher(predicate, lambda m: m.message)
        return await self.wait_until(lambda: self._first_new("log", self.log_messages, match),
                                     timeout, f"a logMessage matching {predicate!r}")

    async def wait_for_edit(
        self, predicate: Callable[[AppliedEdit], bool] | str | None = None,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> AppliedEdit:
        """The first `workspace/applyEdit` (with the editor's answer) matching `predicate`
        (a callable, or a substring of an inserted text) that no earlier `wait_for_edit`
        returned; waits for it if needed."""
        match = _matcher(predicate, lambda e: "\n".join(e.new_texts))
        return await self.wait_until(lambda: self._first_new("edit", self.applied_edits, match),
                                     timeout, "an applyEdit" + (" matching" if predicate else ""))

    async def wait_for_progress_end(
        self, token: types.ProgressToken | None = None, timeout: float = 10,  # noqa: ASYNC109
        *, title: str | None = None,
    ) -> tuple[types.ProgressToken, list[Any]]:
        """Once progress `token` ends: the token and its Begin/Report/End values. With no
        token: the first progress to end that no earlier call returned, whose Begin title is
        `title` (default: any but the server's background work, `BACKGROUND_TITLES`)."""
        returned = self._returned["progress"]

        def wanted(tok: types.ProgressToken) -> bool:
            values = self.progress.get(tok) or [None]
            begun = getattr(values[0], "title", None)
            return begun == title if title is not None else begun not in BACKGROUND_TITLES

        def ended() -> tuple[types.ProgressToken, list[Any]] | None:
            if token is not None:  # asked by name: returned even if returned before
                candidates = [token] if token in self._ended_tokens else []
            else:
                candidates = [t for t in self._ended_tokens
                              if t not in returned and wanted(t)]
            if not candidates:
                return None
            returned.add(candidates[0])
            return candidates[0], list(self.progress[candidates[0]])

        return await self.wait_until(ended, timeout, f"progress {token or ''} to end")

    async def wait_for_text(self, uri: str | Path, predicate: Callable[[str], bool] | str,
                            timeout: float = 10) -> str:  # noqa: ASYNC109
        """The document's text once it satisfies `predicate` (or contains that substring)."""
        uri = canonical_uri(uri)
        match = _matcher(predicate, lambda t: t)

        def check() -> str | None:
            doc = self.documents.get(uri)
            return doc.text if doc is not None and match(doc.text) else None

        return await self.wait_until(check, timeout, f"{uri} to match {predicate!r}")

    def _stderr_tail(self, chars: int = 3000) -> str:
        text = self.stderr_path.read_text(encoding="utf-8", errors="replace") \
            if self.stderr_path.exists() else ""
        return f"--- server stderr (last {chars} chars) ---\n{text[-chars:]}"

    def _state_summary(self) -> str:
        return (f"messages: {[m.message for m in self.messages][-5:]}\n"
                f"progress: { {t: [v.kind for v in vs] for t, vs in self.progress.items()} }\n"
                f"edits: {len(self.applied_edits)} "
                f"({sum(e.applied for e in self.applied_edits)} applied)\n"
                f"violations: {self.violations}")

    # ----------------------------------------------------------------- secrets

    def _hash_files(self) -> dict[Path, str]:
        return {path: hashlib.sha256(path.read_bytes()).hexdigest()
                for path in self.tmp_path.rglob("*") if path.is_file()}

    def output_sources(self) -> list[tuple[str, str]]:
        """(where, text) for everything the server produced, for secret checks:
        every message it sent (raw and JSON-decoded), stray stdout, its stderr, the buffers it
        opened in the editor, and every file under `tmp_path` created or changed since this
        editor started (files the test wrote before starting the editor are left out)."""
        sources = []
        for index, body in enumerate(self.client.wire):
            raw = body.decode("utf-8", "replace")
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            label = f"message {index} ({(parsed or {}).get('method', 'response')})"
            sources.append((label, raw))
            if parsed is not None:
                sources.append((label + " decoded", json.dumps(parsed, ensure_ascii=False)))
        if self.client.stray_stdout:
            sources.append(("stdout outside LSP",
                            b"".join(self.client.stray_stdout).decode("utf-8", "replace")))
        sources.append(("stderr", self.stderr_path.read_text(encoding="utf-8", errors="replace")))
        for uri in sorted(self._opened_by_server & set(self.documents)):
            sources.append((f"buffer {uri}", self.documents[uri].text))
        for path, digest in sorted(self._hash_files().items()):
            if path != self.stderr_path and self._snapshot.get(path) != digest:
                sources.append((f"file {path.relative_to(self.tmp_path)}",
                                path.read_bytes().decode("utf-8", "replace")))
        return sources

    def all_server_output(self) -> str:
        """Everything in `output_sources()`, as one string: `assert KEY not in ...`."""
        return "\n".join(text for _, text in self.output_sources())

    def leaks(self, secret: str) -> list[str]:
        """Where `secret` appears in the server's output (empty when nowhere)."""
        return [where for where, text in self.output_sources() if secret in text]

