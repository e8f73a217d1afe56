"""Inline completion as the user sees it: the real server over stdio, the emulator over a
loopback socket. Staleness and flooding are proven by the emulator's request log (requests
made, streams hung up), never by sleeps."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from ren_lsp.emulator import Emulator, Fault
from ren_lsp.emulator.replies import infill, infill_parts
from tests.e2e.conftest import BILLING, StartEditor
from tests.e2e.editor import Editor

INVOKED = types.InlineCompletionTriggerKind.Invoked
AUTOMATIC = types.InlineCompletionTriggerKind.Automatic
_IDS = itertools.count(1)
#: the blank line inside `paginate`, after its first statement: a block may go there
SPOT = "    start = 0 if cursor is None else cursor\n"


def send(editor: Editor, uri: str, position: types.Position, trigger: Any = INVOKED,
         selected: types.SelectedCompletionInfo | None = None) -> tuple[str, asyncio.Future]:
    """Send textDocument/inlineCompletion now (not awaited): its id and its answer's future."""
    msg_id = f"inline-{next(_IDS)}"
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position,
        context=types.InlineCompletionContext(trigger_kind=trigger,
                                              selected_completion_info=selected))
    # Written at once (send_request_async would wait for the loop): keystrokes and requests
    # reach the server interleaved, as an editor sends them.
    future = asyncio.wrap_future(editor.client.protocol.send_request(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id))
    return msg_id, future


async def complete(editor: Editor, uri: str, position: types.Position,
                   trigger: Any = INVOKED) -> list[types.InlineCompletionItem]:
    _, future = send(editor, uri, position, trigger)
    result = await asyncio.wait_for(future, 10)
    return list(result.items) if result is not None else []


def user_text(emulator: Emulator, index: int = -1) -> str:
    body = emulator.requests[index].body
    assert body is not None
    return str(body["messages"][-1]["content"])


async def open_at_blank_line(editor: Editor, workspace: Path) -> tuple[str, types.Position]:
    """billing.py with a new blank line in `paginate`, the cursor on it (indented)."""
    text = BILLING.replace(SPOT, SPOT + "    \n")
    uri = editor.open(workspace / "billing.py", text, "python")
    line = editor.range_of(uri, SPOT).start.line + 1
    return uri, types.Position(line=line, character=4)


async def no_popups_or_progress(editor: Editor) -> None:
    """Nothing but the index's own progress: no bar, message or edit for a completion."""
    # Every progress created has ended (the index's), so none can still be on its way.
    await editor.wait_until(lambda: set(editor._ended_tokens) >= editor._created_tokens or None,
                            what="the index's progress to end")
    methods = [m.get("method") for m in editor.wire]
    assert not set(methods) & {"window/showMessage", "window/showMessageRequest",
                               "workspace/applyEdit", "window/showDocument"}
    begins = [v for values in editor.progress.values() for v in values
              if isinstance(v, types.WorkDoneProgressBegin)]
    assert [b.title for b in begins] == ["Indexing workspace"] * len(begins)


async def test_an_invoked_completion_is_the_models_infill(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("vscode")
    assert editor.server_capabilities.inline_completion_provider is not None
    uri, here = await open_at_blank_line(editor, workspace)
    [item] = await complete(editor, uri, here)

    assert len(emulator.requests) == 1
    parts = infill_parts(user_text(emulator))
    assert parts is not None, "the request is not a fill-in-the-middle prompt"
    prefix, suffix = parts
    text = editor.text(uri)
    offset = editor.offset_of(uri, here)
    assert text[:offset].endswith(prefix) and prefix.startswith('"""Billing helpers')
    assert text[offset:].startswith(suffix) and "return items[start:start + size]" in suffix
    assert "billing.py (python)" in user_text(emulator)
    assert item.insert_text == infill(prefix, suffix)
    assert "\n    return result" in str(item.insert_text)  # a block, at the file's indentation
    assert item.range == types.Range(start=here, end=here)
    await no_popups_or_progress(editor)


async def test_mid_line_completes_the_line_only(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("neovim")
    uri = editor.open(workspace / "billing.py", BILLING, "python")
    at = editor.range_of(uri, "size=50").end
    # The model answers with a fence, chatter and a second line: the line's rest is shown.
    emulator.script(Fault(text="Here is the completion:\n```python\n, page=1\nextra()\n```\n"))
    [item] = await complete(editor, uri, at)
    assert item.insert_text == ", page=1"


async def test_automatic_triggers_are_off_until_enabled(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("vscode")
    uri, here = await open_at_blank_line(editor, workspace)
    assert await complete(editor, uri, here, AUTOMATIC) == []
    assert emulator.requests == []
    editor.change_configuration({"ren": {"completion": {"enabled": True}}})
    assert len(await complete(editor, uri, here, AUTOMATIC)) == 1
    assert len(emulator.requests) == 1


async def test_a_burst_of_typing_asks_the_model_once_and_answers_the_last(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("vscode", init_options={
        "completion": {"enabled": True, "debounceMs": 400}})
    uri, here = await open_at_blank_line(editor, workspace)
    futures = []
    for n, char in enumerate("total"):  # five keystrokes, an automatic request after each
        editor.type(uri, types.Position(line=here.line, character=4 + n), char)
        futures.append(send(editor, uri, types.Position(line=here.line, character=5 + n),
                            AUTOMATIC)[1])
    # The four stale requests are answered (empty) before the last one's model request is.
    earlier = await asyncio.wait_for(asyncio.gather(*futures[:4]), 10)
    assert all(not result.items for result in earlier)
    last = await asyncio.wait_for(futures[4], 10)
    assert len(emulator.requests) <= 2
    assert emulator.requests[-1].completed and not emulator.requests[-1].hung_up
    assert all(r.hung_up for r in emulator.requests[:-1])  # an earlier stream: closed
    prefix, suffix = infill_parts(user_text(emulator)) or ("", "")
    assert prefix.endswith("    total") and [i.insert_text for i in last.items] == [
        infill(prefix, suffix)]
    await no_popups_or_progress(editor)


async def test_a_newer_request_ends_the_streaming_one_at_once(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("vscode")
    uri, here = await open_at_blank_line(editor, workspace)
    emulator.script(Fault(delay=30))  # the first answer would take 30 s
    _, first = send(editor, uri, here)
    await emulator.wait_for_requests(1)
    _, second = send(editor, uri, here)
    assert not (await asyncio.wait_for(first, 10)).items
    await emulator.wait_for_hangup(0)
    assert len((await asyncio.wait_for(second, 10)).items) == 1


async def test_a_new_version_ends_the_completion_for_the_old_one(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("vscode")
    uri, here = await open_at_blank_line(editor, workspace)
    emulator.script(Fault(delay=30))
    _, pending = send(editor, uri, here)
    await emulator.wait_for_requests(1)
    editor.type(uri, here, "x")
    assert not (await asyncio.wait_for(pending, 10)).items
    await emulator.wait_for_hangup(0)


async def test_cancel_request_closes_the_model_stream(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("vscode")
    uri, here = await open_at_blank_line(editor, workspace)
    emulator.script(Fault(trickle=5))  # a slow stream: one event every 5 s
    msg_id, pending = send(editor, uri, here)
    await emulator.wait_for_requests(1)
    editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    await emulator.wait_for_hangup(0)
    with pytest.raises(Exception, match=r"(?i)cancel"):
        await asyncio.wait_for(pending, 10)


async def test_the_same_place_and_typing_ahead_ask_the_model_nothing(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("vscode")
    uri, here = await open_at_blank_line(editor, workspace)
    [shown] = await complete(editor, uri, here)
    [again] = await complete(editor, uri, here)
    assert again.insert_text == shown.insert_text and len(emulator.requests) == 1
    typed = str(shown.insert_text)[:6]  # the user types the suggestion's first characters
    editor.type(uri, here, typed)
    [rest] = await complete(editor, uri, types.Position(line=here.line, character=4 + 6))
    assert typed + str(rest.insert_text) == shown.insert_text
    assert len(emulator.requests) == 1


async def test_the_selected_completion_item_is_extended(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("vscode")
    uri = editor.open(workspace / "billing.py", BILLING, "python")
    at = editor.range_of(uri, "size=50").end
    word = types.Range(start=types.Position(line=at.line, character=at.character - 2), end=at)
    selected = types.SelectedCompletionInfo(range=word, text="500")
    _, future = send(editor, uri, at, INVOKED, selected)
    [item] = (await asyncio.wait_for(future, 10)).items
    prefix, _ = infill_parts(user_text(emulator)) or ("", "")
    assert prefix.endswith("size=500")  # the model saw the item as inserted
    assert item.range == word and str(item.insert_text).startswith("500")


async def test_a_failing_backend_is_reported_once(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    editor = await start_editor("vscode")
    uri, here = await open_at_blank_line(editor, workspace)
    emulator.script(Fault(status=401), Fault(status=401), Fault(status=401))
    for column in (4, 4, 4):
        editor.type(uri, types.Position(line=here.line, character=column), "")
        assert await complete(editor, uri, here) == []
    shown = [m.message for m in editor.messages if "Inline completion" in m.message]
    assert len(shown) == 1 and "did not accept the API key" in shown[0]
    assert len(emulator.requests) == 3
    # What `ren-lsp doctor` shows: the failure, in the user's state directory.
    state = json.loads((tmp_path / "state" / "ren-lsp" / "completion.json").read_text())
    assert state["failures"] == 3 and "did not accept the API key" in state["failing"]
    # It works again once the backend does.
    editor.type(uri, here, " ")
    assert len(await complete(editor, uri, types.Position(line=here.line, character=5))) == 1
    assert json.loads((tmp_path / "state" / "ren-lsp" / "completion.json").read_text()
                      )["failing"] is None


async def test_helix_completes_here_with_a_code_action(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("helix")
    uri, here = await open_at_blank_line(editor, workspace)
    actions = await editor.code_actions(uri, types.Range(start=here, end=here))
    [action] = [a for a in actions if a.title == "Astra: Complete here"]
    await editor.run_action(action)
    [edit] = await editor.wait_until(lambda: editor.applied_edits or None,
                                     what="the completion's edit")
    assert edit.applied
    prefix, suffix = infill_parts(user_text(emulator)) or ("", "")
    offset = editor.offset_of(uri, here)
    assert editor.text(uri)[offset:].startswith(infill(prefix, suffix))
