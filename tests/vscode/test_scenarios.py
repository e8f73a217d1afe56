"""The extension in a real VS Code, as a user works with it: keyboard, palette, light bulb.

One VS Code (code-server 1.100.3 in Chromium) for the module, with the .vsix built from this
checkout, the server from this checkout and the emulator as the model. Each scenario starts
on billing.py as on disk and asserts what the screen and the files show.
"""

from __future__ import annotations

import json
import os
import re
import signal

import pytest

from ren_lsp.emulator import Fault
from tests.conftest import TEST_KEY
from tests.vscode.conftest import BILLING, OUTPUT, VSCode, until
from tests.vscode.workbench import ANSWER_EDITOR

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(600)]

EMULATOR_HEADER = r"Ren emulator.*canned reply, not AI"
REFACTORED = "Refactored by the Ren emulator"


async def explain_from_light_bulb(vs: VSCode) -> None:
    wb = vs.workbench
    await wb.page.keyboard.press("Control+.")
    rows = wb.page.locator(".action-widget .monaco-list-row")
    await rows.first.wait_for(timeout=30_000)
    labels = [t.strip() for t in await rows.all_inner_texts()]
    assert "Astra: Explain" in labels, labels
    # A click on a row is caught by the widget's overlay: move with the keyboard, as users do.
    focused = wb.page.locator(".action-widget .monaco-list-row.focused")
    for _ in range(len(labels) + 1):
        if (await focused.inner_text()).strip() == "Astra: Explain":
            break
        await wb.page.keyboard.press("ArrowDown")
    await wb.page.keyboard.press("Enter")


async def test_activates_on_a_python_file(scene: VSCode) -> None:
    wb = scene.workbench
    async with wb.step("the status item says ready"):
        assert re.match(r"Ren: ready", await wb.status())
    async with wb.step("the palette offers the commands"):
        titles = await wb.palette_titles("Ren: ")
        for title in ("Ren: Explain selection", "Ren: Refactor selection…", "Ren: Set API key",
                      "Ren: Restart server"):
            assert any(t.startswith(title) for t in titles), titles


async def test_explain_streams_beside_the_code(scene: VSCode) -> None:
    wb = scene.workbench
    # Slow enough to see the answer arrive in pieces.
    scene.emulator.script(Fault(trickle=0.12))
    async with wb.step("select the function, Astra: Explain in the light bulb"):
        await wb.select_lines(1, 5)
        await explain_from_light_bulb(scene)
    async with wb.step("the answer's first words show while the model still writes"):
        await wb.wait_answer_text(EMULATOR_HEADER)
        request = scene.new_requests()[-1]
        assert not request.completed, "the answer came in one piece, not streamed"
        assert await wb.editor_groups() == 2, "the answer is not beside the code"
        assert (await wb.active_tab()).startswith("billing.py"), "the focus left the code"
        await wb.screenshot(OUTPUT / "explain-streaming.png")
    async with wb.step("the whole answer arrives"):
        await until(lambda: request.completed, "the answer to end")
        await wb.wait_answer_text(r"It defines `total`")
        await wb.page.locator(".notification-toast", has_text="Astra: Explain").wait_for(
            state="detached", timeout=60_000)
    async with wb.step("the answer is saved: closing it asks nothing; the code is untouched"):
        answer_tab = wb.page.locator(".tab[aria-label*='.md']")
        await answer_tab.and_(wb.page.locator(".tab:not(.dirty)")).wait_for(timeout=30_000)
        name = (await answer_tab.get_attribute("aria-label") or "").split(",")[0]
        saved = next(scene.code_server.home.rglob(name)).read_text()
        assert "It defines `total`" in saved
        assert scene.billing.read_text() == BILLING


async def test_refactor_is_one_edit_and_one_undo(scene: VSCode) -> None:
    wb = scene.workbench
    async with wb.step("select apply_discount, Ren: Refactor selection… from the palette"):
        await wb.select_lines(8, 2)
        await wb.palette("Ren: Refactor selection…")
        box = await wb.input_box()
        await box.press("Enter")  # empty: improve clarity, keep behaviour
    async with wb.step("the file changes in one edit"):
        text = await wb.wait_editor_text(REFACTORED)
        assert "def apply_discount(amount, percent):" in text
        assert "def total(items):" in text
        assert await wb.page.locator(".tab.active.dirty").count() == 1
    async with wb.step("one Ctrl+Z restores it"):
        await wb.focus_editor()
        await wb.page.keyboard.press("Control+Z")
        await wb.page.wait_for_function(
            "s => !document.querySelector(s).textContent.includes('Refactored')",
            arg=".editor-group-container.active .monaco-editor .view-lines")
        await wb.page.keyboard.press("Control+S")
        await wb.page.locator(".tab.active.dirty").wait_for(state="detached", timeout=30_000)
        assert scene.billing.read_text() == BILLING


async def test_typing_during_refactor_survives(scene: VSCode) -> None:
    wb = scene.workbench
    scene.emulator.script(Fault(trickle=0.25))
    async with wb.step("Refactor the first function"):
        await wb.select_lines(1, 5)
        await wb.palette("Ren: Refactor selection…")
        await (await wb.input_box()).press("Enter")
        await until(lambda: any(r.events_sent >= 4 for r in scene.new_requests()),
                    "the answer to start streaming")
    async with wb.step("type inside the selection while the answer streams"):
        await wb.focus_editor()
        await wb.page.keyboard.press("Control+Home")
        await wb.page.keyboard.press("End")
        await wb.page.keyboard.type("  # mine")
        assert not scene.new_requests()[-1].completed
    async with wb.step("the notification says the answer went to a document"):
        toast = await wb.wait_notification("you edited billing.py there while Astra was working")
        message = await wb.notification_text(toast)
        assert "was not applied" in message and ".md" in message, message
        await wb.expand_notification(toast)
        await wb.screenshot(OUTPUT / "refactor-conflict.png")
    async with wb.step("the typing survives, the answer is in an output document beside"):
        assert (await wb.active_tab()).startswith("billing.py")
        text = await wb.wait_editor_text("# mine")
        assert REFACTORED not in text
        assert REFACTORED in await wb.wait_answer_text(REFACTORED)


async def test_cancel_ends_the_request_and_keeps_the_partial_answer(scene: VSCode) -> None:
    wb = scene.workbench
    scene.emulator.script(Fault(trickle=0.4))
    async with wb.step("Ren: Explain selection from the palette"):
        await wb.select_lines(8, 2)
        await wb.palette("Ren: Explain selection")
    async with wb.step("the progress notification has a Cancel button; press it mid-answer"):
        toast = await wb.wait_notification("Astra: Explain")
        await wb.wait_answer_text(EMULATOR_HEADER)
        request = scene.new_requests()[-1]
        assert not request.completed
        await wb.click_notification_button(toast, "Cancel")
    async with wb.step("the request ends at once, the partial answer stays"):
        await until(lambda: request.hung_up, "the server to hang up on the emulator", 15)
        assert not request.completed
        await toast.wait_for(state="detached", timeout=30_000)
        text = await wb.editor_text(ANSWER_EDITOR)
        assert re.search(EMULATOR_HEADER, text), text
        await wb.wait_status("Ren: ready")


async def test_set_api_key_keeps_it_secret_and_a_wrong_key_says_so(scene: VSCode) -> None:
    wb = scene.workbench
    wrong = "sk-ren-wrong-0000"
    pids = scene.code_server.server_pids()
    async with wb.step("Ren: Set API key asks in a password box"):
        await wb.palette("Ren: Set API key")
        box = await wb.input_box()
        assert await box.get_attribute("type") == "password"
        await box.fill(wrong)
        await box.press("Enter")
        await wb.wait_notification("the API key is stored")
        await wb.clear_notifications()
    async with wb.step("the server restarts with it; a request says the key is wrong"):
        await until(lambda: bool(scene.code_server.server_pids())
                    and not set(scene.code_server.server_pids()) & set(pids),
                    "a new server process")
        await wb.wait_status("Ren: ready")
        await wb.select_lines(8, 2)
        await wb.palette("Ren: Explain selection")
        toast = await wb.wait_notification(r"did not accept the API key")
        message = await wb.notification_text(toast)
        assert wrong not in message
        assert scene.new_requests()[-1].status == 401
    async with wb.step("the key is in no settings file, nor anywhere in the user's folders"):
        settings = scene.code_server.settings_file.read_text()
        assert wrong not in settings and "apiKey" not in json.loads(settings)
        for folder in (scene.code_server.user_data, scene.code_server.home, scene.workspace):
            for file in folder.rglob("*"):
                if file.is_file() and file.stat().st_size < 5_000_000:
                    assert wrong.encode() not in file.read_bytes(), file
    async with wb.step("the right key works"):
        await wb.palette("Ren: Set API key")
        box = await wb.input_box()
        await box.fill(TEST_KEY)
        await box.press("Enter")
        await wb.wait_notification("the API key is stored")
        before = len(scene.emulator.requests)
        await until(lambda: bool(scene.code_server.server_pids()), "the server")
        await wb.wait_status("Ren: ready")
        await wb.close_all_editors()
        await wb.open_file("billing.py")
        await wb.select_lines(8, 2)
        await wb.palette("Ren: Explain selection")
        await wb.wait_answer_text(EMULATOR_HEADER)
        assert scene.emulator.requests[before:][-1].status == 200


async def test_a_model_change_reaches_the_server_without_restart(scene: VSCode) -> None:
    wb = scene.workbench
    pids = scene.code_server.server_pids()
    async with wb.step("set Ren: Model in the Settings editor"):
        await wb.palette("Preferences: Open User Settings")
        search = wb.page.locator(".settings-editor .suggest-input-container textarea, "
                                 ".settings-editor .settings-header input").first
        await search.wait_for(timeout=30_000)
        await search.fill("ren.model")
        field = wb.page.locator(".setting-item-contents", has_text="Ren: Model").locator(
            "input").first
        await field.wait_for(timeout=30_000)
        await field.fill("astra-e2e")  # the Settings editor writes it as it is typed
        await until(lambda: "astra-e2e" in scene.code_server.settings_file.read_text(),
                    "settings.json to hold the new model")
    async with wb.step("the extension passes it on, and the next request uses it"):
        await wb.palette("Ren: Show log")
        await wb.page.locator(".output-view .view-lines",
                              has_text='"model":"astra-e2e"').wait_for(timeout=60_000)
        await wb.open_file("billing.py")
        await wb.select_lines(8, 2)
        await wb.palette("Ren: Explain selection")
        await until(lambda: bool(scene.new_requests()), "a request")
        assert scene.new_requests()[-1].body["model"] == "astra-e2e"
        assert scene.code_server.server_pids() == pids, "the server was restarted"
    async with wb.step("reset the model"):
        await wb.page.locator(".tab", has_text="Settings").click()
        field = wb.page.locator(".setting-item-contents", has_text="Ren: Model").locator(
            "input").first
        await field.fill("astra")
        await until(lambda: "astra-e2e" not in scene.code_server.settings_file.read_text(),
                    "settings.json to hold the model again")


async def test_a_killed_server_is_reported_and_restart_brings_it_back(scene: VSCode) -> None:
    wb = scene.workbench
    # A server killed before it is ready is "exited before it was ready", not restarted: wait
    # for the one running to be ready, and for it alone (a start may still be ending).
    await wb.wait_status("Ren: ready")
    await until(lambda: len(scene.code_server.server_pids()) == 1, "one server")
    pids = scene.code_server.server_pids()
    assert len(pids) == 1, pids
    async with wb.step("kill the server"):
        os.kill(pids[0], signal.SIGKILL)
        toast = await wb.wait_notification("the server stopped unexpectedly")
        assert "Show log" in await toast.inner_text()
    async with wb.step("Ren: Restart server brings it back"):
        await wb.palette("Ren: Restart server")
        await until(lambda: len(scene.code_server.server_pids()) == 1
                    and scene.code_server.server_pids()[0] != pids[0], "a new server")
        await wb.wait_status("Ren: ready")
        await wb.select_lines(8, 2)
        await wb.palette("Ren: Explain selection")
        await wb.wait_answer_text(EMULATOR_HEADER)
