"""A tiny pygls 2 server used ONLY to test the editor harness (`tests/e2e/editor.py`).

It echoes every didOpen/didChange as a JSON logMessage carrying its own view of the document
(pygls applies the editor's incremental changes in the negotiated encoding), so a test can check
that what the editor shows and what the server believes agree. Commands (one object argument):

- `textDocument/codeAction`: one CodeAction whose command is `fake.progress {cancellable}`.
- `fake.edit {uri, output}`: progress (when advertised), a versioned edit on `uri` with several
  non-ASCII positions, the same edit again with the old version (must be refused), a
  `showDocument` of `output`, an edit with `changes` appending to it, a showMessage, the end.
- `fake.apply {edit, label?}`: sends that WorkspaceEdit; answers the editor's result.
- `fake.show {uri}`: `window/showDocument`; answers its result.
- `fake.progress {cancellable, hold?}`: creates progress and begins it; it ends when cancelled,
  or at once when not cancellable (never with `hold`).
- `fake.leak {secret}`: puts `secret` on stderr, in a file in the state dir and on stdout.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer


def create_server() -> LanguageServer:
    server = LanguageServer("fake-server", "0.0.1")
    tokens = itertools.count(1)
    session: dict[str, Any] = {}

    def log(ls: LanguageServer, payload: dict[str, Any]) -> None:
        ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info,
                                                     message=json.dumps(payload)))

    def echo(ls: LanguageServer, event: str, uri: str) -> None:
        doc = ls.workspace.get_text_document(uri)
        log(ls, {"event": event, "uri": uri, "version": doc.version, "text": doc.source})

    @server.feature(types.INITIALIZE)
    def initialize(ls: LanguageServer, params: types.InitializeParams) -> None:
        session["client"] = params.client_info.name if params.client_info else None
        session["options"] = params.initialization_options

    @server.feature(types.INITIALIZED)
    def initialized(ls: LanguageServer, params: types.InitializedParams) -> None:
        encoding = ls.workspace.position_encoding
        log(ls, {"event": "initialized", "client": session["client"],
                 "options": session["options"],
                 "encoding": str(getattr(encoding, "value", encoding))})

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        echo(ls, "didOpen", params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        echo(ls, "didChange", params.text_document.uri)

    def client_range(ls: LanguageServer, uri: str, needle: str) -> types.Range:
        """Where `needle` is, in the client's units (pygls' codec, not the harness's)."""
        doc = ls.workspace.get_text_document(uri)
        offset = doc.source.index(needle)
        line = doc.source.count("\n", 0, offset)
        column = offset - (doc.source.rfind("\n", 0, offset) + 1)
        start = doc.position_codec.position_to_client_units(
            doc.lines, types.Position(line=line, character=column))
        end = doc.position_codec.position_to_client_units(
            doc.lines, types.Position(line=line, character=column + len(needle)))
        return types.Range(start=start, end=end)

    def progress_allowed(ls: LanguageServer) -> bool:
        caps = ls.client_capabilities
        return bool(caps.window and caps.window.work_done_progress)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION)
    def code_actions(ls: LanguageServer, params: types.CodeActionParams) -> Any:
        # A CodeAction carrying a command: lsprotocol's client parses it as a Command unless
        # the harness's structure hook is in place.
        return [types.CodeAction(
            title="Fake: wait", kind=types.CodeActionKind.RefactorRewrite,
            command=types.Command(title="Fake: wait", command="fake.progress",
                                  arguments=[{"cancellable": True}]))]

    @server.command("fake.edit")
    async def fake_edit(ls: LanguageServer, arg: Any) -> Any:
        uri, output = arg["uri"], arg["output"]
        token = f"fake-{next(tokens)}"
        if progress_allowed(ls):
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title="Fake: edit"))
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(message="editing"))
        else:
            ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info,
                                                           message="Fake: edit started"))
        doc = ls.workspace.get_text_document(uri)
        version = doc.version
        edits = [  # given out of order on purpose; the second and third touch the same line
            types.TextEdit(range=client_range(ls, uri, "☕"), new_text="🍵"),
            types.TextEdit(range=types.Range(start=types.Position(line=0, character=0),
                                             end=types.Position(line=0, character=0)),
                           new_text="# edited ✓\n"),
            types.TextEdit(range=client_range(ls, uri, "Café"), new_text="Caffè"),
        ]
        versioned = types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=edits)])
        first = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=versioned, label="Fake edit"))
        stale = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=versioned))
        shown = await ls.window_show_document_async(types.ShowDocumentParams(uri=output))
        out = ls.workspace.get_text_document(output)
        end = types.Position(line=len(out.lines), character=0)
        appended = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            edit=types.WorkspaceEdit(changes={output: [types.TextEdit(
                range=types.Range(start=end, end=end), new_text="## Fake answer 🧾\n")]})))
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info,
                                                       message="Fake: done"))
        if progress_allowed(ls):
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
        return {"applied": [first.applied, stale.applied, appended.applied],
                "reasons": [first.failure_reason, stale.failure_reason],
                "shown": shown.success}

    @server.command("fake.apply")
    async def fake_apply(ls: LanguageServer, arg: Any) -> Any:
        edit = ls.protocol._converter.structure(arg["edit"], types.WorkspaceEdit)
        result = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=arg.get("label")))
        return ls.protocol._converter.unstructure(result)

    @server.command("fake.show")
    async def fake_show(ls: LanguageServer, arg: Any) -> Any:
        result = await ls.window_show_document_async(types.ShowDocumentParams(uri=arg["uri"]))
        return result.success

    @server.command("fake.progress")
    async def fake_progress(ls: LanguageServer, arg: Any) -> Any:
        token = f"fake-{next(tokens)}"
        await ls.work_done_progress.create_async(token)
        cancellable = bool(arg.get("cancellable"))
        ls.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title="Fake: wait", cancellable=cancellable))
        if cancellable:  # ends when the editor cancels: pygls cancels the token's future
            ls.work_done_progress.tokens[token].add_done_callback(
                lambda _: ls.work_done_progress.end(
                    token, types.WorkDoneProgressEnd(message="cancelled")))
        elif not arg.get("hold"):
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
        return {"token": token}

    @server.command("fake.leak")
    def fake_leak(ls: LanguageServer, arg: Any) -> Any:
        secret = arg["secret"]
        sys.stderr.write(f"leaking {secret} on stderr\n")
        sys.stderr.flush()
        state = Path(os.environ["XDG_STATE_HOME"]) / "fake"
        state.mkdir(parents=True, exist_ok=True)
        (state / "transcript.txt").write_text(f"leaking {secret} in a file\n")
        sys.stdout.buffer.write(f"leaking {secret} on stdout\n".encode())
        sys.stdout.buffer.flush()
        return None

    return server


if __name__ == "__main__":
    create_server().start_io()
