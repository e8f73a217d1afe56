"""Every way a request can fail ends in one clear message, the partial answer kept, and the
next request working; bad arguments are JSON-RPC errors naming the field; the key never shows."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from ren_lsp.emulator import Emulator, Fault
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.conftest import StartEditor
from tests.e2e.test_server import (
    ANSWER,
    REWRITE,
    arg,
    body_of,
    function_range,
    open_billing,
    output_text,
)


def history_lines(history: Path, count: int) -> list[str] | None:
    """The history's lines once there are ``count`` (sessions write it as they end)."""
    lines = history.read_text().splitlines() if history.exists() else []
    return lines if len(lines) == count else None


FAST_FAILING = {"maxRetries": 0, "firstByteTimeout": 0.5, "eventTimeout": 0.5}

FAULTS = [
    pytest.param(Fault(status=401), "did not accept the API key", False, id="401"),
    pytest.param(Fault(status=403), "permissions", False, id="403"),
    pytest.param(Fault(status=404), "baseUrl", False, id="404"),
    pytest.param(Fault(status=413), "select less code", False, id="413"),
    pytest.param(Fault(status=429, retry_after=0), "rate limiting", False, id="429"),
    pytest.param(Fault(status=500), "internal error", False, id="500"),
    pytest.param(Fault(status=529), "overloaded", False, id="529"),
    pytest.param(Fault(delay=3), "did not start answering", False, id="first-byte-timeout"),
    pytest.param(Fault(text=ANSWER, trickle=3), "stopped sending", False, id="gap-timeout"),
    pytest.param(Fault(text=ANSWER, drop_after=8), "cut off", True, id="dropped"),
    pytest.param(Fault(text=ANSWER, error_event_after=8), "error mid-answer", True,
                 id="error-event"),
    pytest.param(Fault(text=ANSWER, malformed_after=8), "malformed", True, id="malformed"),
]


@pytest.mark.parametrize(("fault", "says", "partial"), FAULTS)
async def test_a_fault_ends_in_one_clear_message_then_the_next_request_works(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, fault: Fault,
        says: str, partial: bool) -> None:
    editor = await start_editor(init_options=FAST_FAILING)
    uri = await open_billing(editor, workspace)
    emulator.script(fault)
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Failed:") and says in values[-1].message
    error = await editor.wait_for_message(lambda m: m.type == types.MessageType.Error)
    assert error.message.startswith("Astra: Explain failed:") and says in error.message
    kept = body_of(output_text(editor)[1])
    if partial:
        assert kept and ANSWER.startswith(kept) and kept != ANSWER
        assert "partial answer is in" in error.message
    else:
        assert kept == ""

    emulator.script(Fault(text=ANSWER))
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Done")
    assert body_of(output_text(editor)[1]) == ANSWER
    errors = [m for m in editor.messages if m.type == types.MessageType.Error]
    assert errors == [error], "one message per failure"
    assert editor.leaks(TEST_KEY) == []


async def test_a_refactor_that_fails_midway_leaves_the_file_alone(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    before = editor.text(uri)
    emulator.script(Fault(text=REWRITE, drop_after=10))
    await editor.command("ren.refactor", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Failed:")
    assert editor.text(uri) == before
    kept = body_of(output_text(editor)[1])
    assert kept and REWRITE.startswith(kept)


async def test_no_key_says_where_to_set_it(start_editor: StartEditor, tmp_path: Path,
                                           emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor(env=clean_env(tmp_path, REN_BASE_URL=emulator.base_url))
    uri = await open_billing(editor, workspace)
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    message = await editor.wait_for_message(lambda m: m.type == types.MessageType.Error)
    assert "REN_API_KEY" in message.message and "apiKeyCommand" in message.message
    assert emulator.requests == []


BAD_ARGUMENTS = [
    ("ren.explain", {"uri": "{uri}"}, "'range' is a required property"),
    ("ren.explain", {"uri": "{uri}", "range": "all"}, "range: 'all' is not of type 'object'"),
    ("ren.explain", {"uri": "{uri}", "range": {"start": {"line": 900, "character": 0},
                                               "end": {"line": 901, "character": 0}}},
     "range.start: line 900 is outside the document"),
    ("ren.refactor", {"uri": "{uri}", "range": {"start": {"line": 5, "character": 0},
                                                "end": {"line": 2, "character": 0}}},
     "end comes before start"),
    ("ren.explain", {"uri": "file:///nonexistent/x.py",
                     "range": {"start": {"line": 0, "character": 0},
                               "end": {"line": 1, "character": 0}}},
     "uri: file:///nonexistent/x.py is not an open document nor a readable file"),
    ("ren.ask", None, "ren.ask takes one argument, an object {question, uri?, range?}"),
    ("ren.ask", {"question": ""}, "question: '' should be non-empty"),
    ("ren.generate", {"uri": "{uri}", "instruction": "x"}, "ren.generate:"),
    ("ren.refactor", {"uri": "{uri}", "range": {"start": {"line": 3, "character": 0},
                                                "end": {"line": 4, "character": 0}}},
     "the selection is empty"),
    ("ren.cancel", {"session": 7}, "session: 7 is not of type 'string'"),
    ("ren.unknown", {}, "Command name 'ren.unknown' is not defined"),
]


@pytest.mark.parametrize(("command", "argument", "says"), BAD_ARGUMENTS)
async def test_bad_arguments_are_errors_that_name_the_field(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, command: str,
        argument: dict | None, says: str) -> None:
    editor = await start_editor("helix")
    uri = await open_billing(editor, workspace)
    if argument is None:  # Helix's picker sends `arguments: []`
        call = editor.command(command)
    else:
        call = editor.command(command, json.loads(json.dumps(argument).replace("{uri}", uri)))
    with pytest.raises(JsonRpcException) as caught:
        await call
    assert says in caught.value.message
    assert caught.value.code == -32602  # InvalidParams
    assert emulator.requests == []
    # The server is still up and serving.
    actions = await editor.code_actions(uri, function_range(editor, uri))
    assert actions


async def test_the_key_never_leaves_the_server(start_editor: StartEditor, emulator: Emulator,
                                               workspace: Path, tmp_path: Path) -> None:
    # The key arrives the way editors send it: in initializationOptions.
    editor = await start_editor("helix", env=clean_env(tmp_path, REN_BASE_URL=emulator.base_url),
                                init_options={"apiKey": TEST_KEY, "maxRetries": 1})
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(status=401), Fault(status=429, retry_after=0), Fault(status=429),
                    Fault(text=ANSWER, drop_after=6))
    for _ in range(4):
        await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
        await editor.wait_for_progress_end()
    await editor.command("ren.refactor", arg(uri, function_range(editor, uri)))
    await editor.wait_for_progress_end()
    assert len(emulator.requests) == 6
    assert all(r.headers["authorization"] == "Bearer ***" for r in emulator.requests)
    history = tmp_path / "state" / "ren-lsp" / "history.jsonl"
    await editor.wait_until(lambda: history_lines(history, 5),
                            what="five sessions in the history")
    assert editor.leaks(TEST_KEY) == []
    assert TEST_KEY not in history.read_text()


async def test_history_keeps_every_answer(start_editor: StartEditor, emulator: Emulator,
                                          workspace: Path, tmp_path: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=ANSWER), Fault(text=ANSWER, drop_after=9))
    for _ in range(2):
        await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
        await editor.wait_for_progress_end()
    history = tmp_path / "state" / "ren-lsp" / "history.jsonl"
    lines = await editor.wait_until(lambda: history_lines(history, 2),
                                    what="two sessions in the history")
    done, failed = (json.loads(line) for line in lines)
    assert done["status"] == "done" and done["answer"] == ANSWER
    assert done["command"] == "ren.explain" and done["uri"] == uri
    assert "def invoice_total" in done["request"]["messages"][0]["content"]
    assert done["output"].endswith(".md")
    assert failed["status"] == "failed" and ANSWER.startswith(failed["answer"])
    assert "cut off" in failed["error"]


async def test_a_huge_selection_is_refused_with_what_to_do(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor()
    big = "".join(f"value_{i} = {i} * 2  # a long generated line to fill the file\n"
                  for i in range(5000))
    uri = editor.open(workspace / "generated.py", big, "python")
    everything = {"start": {"line": 0, "character": 0}, "end": {"line": 5000, "character": 0}}
    with pytest.raises(JsonRpcException, match=r"too large .* select a smaller part"):
        await editor.command("ren.explain", {"uri": uri, "range": everything})
    with pytest.raises(JsonRpcException, match="too large to send whole"):
        await editor.command("ren.ask", {"question": "what is this?", "uri": uri})
    assert emulator.requests == []
    # A part of it is fine.
    part = {"start": {"line": 10, "character": 0}, "end": {"line": 20, "character": 0}}
    await editor.command("ren.explain", {"uri": uri, "range": part})
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Done")


async def test_cancelling_twice_still_ends_cleanly(start_editor: StartEditor,
                                                   emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=REWRITE * 20, trickle=0.05))
    session = (await editor.command("ren.refactor", arg(uri, function_range(editor, uri))))[
        "session"]
    await editor.wait_until(
        lambda: (bool(emulator.requests) and emulator.requests[0].events_sent > 5) or None,
        what="the answer to stream")
    first = await editor.command("ren.cancel", {"session": session})
    second = await editor.command("ren.cancel", {"session": session})
    assert first == {"cancelled": [session]}
    assert second["cancelled"] == []
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Cancelled; what arrived is in ")
    kept = body_of(output_text(editor)[1])
    assert kept and (REWRITE * 20).startswith(kept)
    assert "Refactored" not in editor.text(uri)  # and the user's file is untouched


async def test_an_unwritable_state_folder_is_said_clearly(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                    XDG_STATE_HOME=str(blocker))
    editor = await start_editor(env=env)
    uri = await open_billing(editor, workspace)
    editor.refuse_next_edit()  # the answer must go to an output document, which cannot be
    emulator.script(Fault(text=REWRITE))
    await editor.command("ren.refactor", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Failed:")
    error = await editor.wait_for_message(lambda m: m.type == types.MessageType.Error)
    assert "cannot write output documents to" in error.message and "XDG_STATE_HOME" in error.message
    # The server goes on.
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Failed:")  # same folder, same clear failure


async def test_a_key_with_an_invisible_character_is_refused_without_showing_it(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    pasted = TEST_KEY + "\u200b"  # a zero-width space, pasted along with the key
    editor = await start_editor(env=clean_env(tmp_path, REN_BASE_URL=emulator.base_url,
                                              REN_API_KEY=pasted))
    uri = await open_billing(editor, workspace)
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    error = await editor.wait_for_message(lambda m: m.type == types.MessageType.Error)
    assert "cannot be sent (position 23 of 23" in error.message
    assert "copy the key again" in error.message
    await editor.wait_for_progress_end()
    assert emulator.requests == []
    assert editor.leaks(TEST_KEY) == []


async def test_a_slow_key_command_does_not_hold_up_the_editor(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    import os
    import shlex
    import sys

    # A password manager that waits for the user: it answers when the test writes the key.
    fifo = tmp_path / "key.fifo"
    os.mkfifo(fifo)
    command = shlex.join([sys.executable, "-c", f"print(open({str(fifo)!r}).read())"])
    editor = await start_editor(env=clean_env(tmp_path, REN_BASE_URL=emulator.base_url,
                                              REN_API_KEY_COMMAND=command))
    uri = await open_billing(editor, workspace)
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    # While the key command waits, the server still answers the editor at once.
    actions = await editor.code_actions(uri, function_range(editor, uri), timeout=5)
    assert [a.title for a in actions] == ["Astra: Explain", "Astra: Refactor"]
    assert emulator.requests == []
    await asyncio.to_thread(fifo.write_text, TEST_KEY)  # opens once the command reads
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Done")
    assert editor.leaks(TEST_KEY) == []


async def test_the_output_document_on_disk_holds_the_whole_answer(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=ANSWER))
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    await editor.wait_for_progress_end()
    out_uri, text = output_text(editor)
    on_disk = await asyncio.to_thread(Path(out_uri.removeprefix("file://")).read_text)
    assert on_disk == text and on_disk.endswith(ANSWER)
