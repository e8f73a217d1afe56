"""Settings from the editor, several sessions at once, and text that is not ASCII."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from ren_lsp.emulator import Emulator, Fault
from tests.e2e.conftest import BILLING, StartEditor
from tests.e2e.test_server import ANSWER, arg, function_range, open_billing


async def test_initialization_options_are_used(start_editor: StartEditor, emulator: Emulator,
                                               workspace: Path) -> None:
    editor = await start_editor(init_options={"maxTokens": 77, "temperature": 0.1})
    uri = await open_billing(editor, workspace)
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    await editor.wait_for_progress_end()
    body = emulator.requests[0].body
    assert body["max_tokens"] == 77 and body["temperature"] == 0.1


async def test_did_change_configuration_takes_effect(start_editor: StartEditor,
                                                     emulator: Emulator,
                                                     workspace: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    editor.change_configuration({"ren": {"maxTokens": 99}})
    # The change is a notification: the next request is what shows it landed.
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    await editor.wait_for_progress_end()
    assert emulator.requests[0].body["max_tokens"] == 99


async def test_an_invalid_setting_is_reported_and_ignored(start_editor: StartEditor,
                                                          emulator: Emulator,
                                                          workspace: Path) -> None:
    editor = await start_editor(init_options={"maxTokens": "lots", "colour": "blue"})
    warning = await editor.wait_for_message(lambda m: m.type == types.MessageType.Warning)
    assert "maxTokens" in warning.message and "colour" in warning.message
    uri = await open_billing(editor, workspace)
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Done")
    assert emulator.requests[0].body["max_tokens"] == 4096  # the default stayed


async def test_sessions_beyond_the_limit_wait_their_turn(start_editor: StartEditor,
                                                         emulator: Emulator,
                                                         workspace: Path) -> None:
    editor = await start_editor(init_options={"maxSessions": 1})
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=ANSWER, trickle=0.02), Fault(text=ANSWER))
    for _ in range(2):
        await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    ended = [await editor.wait_for_progress_end() for _ in range(2)]
    begins = [values[0].message for _, values in ended]
    assert sorted(begins) == ["waiting for Astra…", "waiting for another request to finish…"]
    assert all(values[-1].message.startswith("Done") for _, values in ended)


async def test_two_refactors_of_one_file_both_land(start_editor: StartEditor,
                                                   emulator: Emulator,
                                                   workspace: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    first = function_range(editor, uri)
    second_start = editor.range_of(uri, "def paginate").start
    second = types.Range(start=second_start,
                         end=types.Position(line=second_start.line + 3, character=0))
    # The first answer is slow: the second (below it) lands first, and the first still fits.
    emulator.script(Fault(trickle=0.03), Fault())
    await editor.command("ren.refactor", arg(uri, first))
    await editor.command("ren.refactor", arg(uri, second))
    ends = [values[-1].message for _, values in
            [await editor.wait_for_progress_end() for _ in range(2)]]
    assert ends == ["Applied to billing.py", "Applied to billing.py"]
    text = editor.text(uri)
    assert text.count("# Refactored by the Ren emulator") == 2
    assert text.index("def invoice_total") < text.index("def paginate")


@pytest.mark.parametrize("profile", ["vscode", "helix"])  # UTF-16 and UTF-8 positions
async def test_non_ascii_text_lands_in_the_right_place(start_editor: StartEditor,
                                                       emulator: Emulator, workspace: Path,
                                                       profile: str) -> None:
    editor = await start_editor(profile)
    uri = await open_billing(editor, workspace)
    # Select from inside the docstring's emoji line to the end of the café constant.
    start = editor.range_of(uri, "café 🧾").end
    end = editor.range_of(uri, '"Café ☕"').end
    emulator.script(Fault(text='```python\n."""\n\nSHOP_NAME = "Café ☕ & thé 🍵"\n```\n'))
    await editor.command("ren.refactor", arg(uri, types.Range(start=start, end=end)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message == "Applied to billing.py"
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert '."""\n\nSHOP_NAME = "Café ☕"\n```' in sent  # exactly the selection was sent
    assert editor.text(uri) == BILLING.replace('SHOP_NAME = "Café ☕"',
                                               'SHOP_NAME = "Café ☕ & thé 🍵"')


async def test_shutdown_cancels_running_sessions(start_editor: StartEditor,
                                                 emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=ANSWER * 10, trickle=0.05))
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    await editor.wait_until(
        lambda: (bool(emulator.requests) and emulator.requests[0].events_sent > 3) or None,
        what="the stream to start")
    code = await editor.stop()
    assert code == 0
    recorded = await emulator.wait_for_hangup(0)
    assert not recorded.completed
