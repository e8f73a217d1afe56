"""The editor harness (`editor.py`) tested against a tiny pygls server (`fake_server.py`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from tests.conftest import TEST_KEY
from tests.e2e.conftest import StartEditor
from tests.e2e.documents import (
    ENCODINGS,
    EditError,
    apply_text_edits,
    length_in,
    offset_at,
    position_at,
)
from tests.e2e.editor import DOCUMENT_CHANGED, Editor

FAKE = [sys.executable, str(Path(__file__).with_name("fake_server.py"))]


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def rng(a: tuple[int, int], b: tuple[int, int]) -> types.Range:
    return types.Range(start=pos(*a), end=pos(*b))


def events(editor: Editor, event: str) -> list[dict[str, Any]]:
    """The fake server's echoes of `event` (it logs JSON)."""
    found = []
    for message in editor.log_messages:
        if message.message.startswith("{"):
            payload = json.loads(message.message)
            if payload.get("event") == event:
                found.append(payload)
    return found


async def server_sees(editor: Editor, uri: str) -> dict[str, Any]:
    """Wait until the server's echoed view of `uri` is the editor's current version."""
    def echoed(m: types.LogMessageParams) -> bool:
        payload = json.loads(m.message) if m.message.startswith("{") else {}
        return payload.get("uri") == uri and payload.get("version") == editor.version(uri)

    return json.loads((await editor.wait_for_log(echoed)).message)


@pytest.mark.parametrize(("profile", "encoding", "show_document"), [
    ("vscode", "utf-16", True), ("neovim", "utf-8", True), ("helix", "utf-8", False),
    ("bare", "utf-16", False),
])
async def test_profiles_initialize(start_editor: StartEditor, profile: str, encoding: str,
                                   show_document: bool) -> None:
    editor = await start_editor(profile, command=FAKE, init_options={"x": 1})
    hello = json.loads((await editor.wait_for_log('"initialized"')).message)
    assert hello["client"] == {"vscode": "Visual Studio Code", "neovim": "Neovim",
                               "helix": "helix", "bare": "bare-test-client"}[profile]
    assert hello["options"] == {"x": 1}
    assert editor.position_encoding == hello["encoding"] == encoding
    caps = editor.capabilities
    assert bool(caps.window and caps.window.show_document) is show_document
    assert bool(caps.window and caps.window.work_done_progress) is (profile != "bare")
    documents_changes = bool(caps.workspace.workspace_edit.document_changes)
    assert documents_changes is (profile != "neovim")
    assert "fake.edit" in editor.commands


@pytest.mark.parametrize("profile", ["vscode", "helix"])
async def test_fake_edit_story(start_editor: StartEditor, workspace: Path, tmp_path: Path,
                               profile: str) -> None:
    editor = await start_editor(profile, command=FAKE, strict=profile == "vscode")
    uri = editor.open(workspace / "billing.py")
    output = (tmp_path / "state" / "answer.md").as_uri()

    result = await editor.command("fake.edit", {"uri": uri, "output": output})

    assert result == {"applied": [True, False, True], "reasons": [None, DOCUMENT_CHANGED],
                      "shown": True}
    first, stale, appended = editor.applied_edits
    assert first.applied and first.label == "Fake edit" and first.uris == [uri]
    assert not stale.applied and stale.result.failure_reason == "document has changed"
    assert appended.applied and appended.uris == [output]
    text = editor.text(uri)
    assert text.startswith('# edited ✓\n"""Billing helpers for the café 🧾."""\n')
    assert 'SHOP_NAME = "Caffè 🍵"\n' in text
    assert editor.version(uri) == 2  # one edit, one version; the refused one changed nothing
    # The server applied the editor's didChange in its own encoding and got the same text.
    assert (await server_sees(editor, uri))["text"] == text
    # showDocument opened the output (not on disk: empty), then the append landed there.
    assert [d.uri for d in editor.shown_documents] == [output]
    assert editor.text(output) == "## Fake answer 🧾\n"
    assert (await server_sees(editor, output))["text"] == editor.text(output)
    assert (await editor.wait_for_message("done")).message == "Fake: done"
    token, values = await editor.wait_for_progress_end()
    assert token.startswith("fake-")
    assert [v.kind for v in values] == ["begin", "report", "end"]
    assert values[0].title == "Fake: edit"
    assert await editor.wait_for_edit(lambda e: not e.applied) is stale
    assert await editor.wait_for_edit("Fake answer") is appended
    expected = {"vscode": [], "helix": [  # Helix does not advertise it (handles it anyway)
        "window/showDocument, but helix does not advertise window.show_document.support"]}
    assert editor.violations == expected[profile]


async def test_bare_client_gets_messages_instead_of_progress(start_editor: StartEditor,
                                                             workspace: Path,
                                                             tmp_path: Path) -> None:
    editor = await start_editor("bare", command=FAKE, strict=False)
    uri = editor.open(workspace / "billing.py")
    await editor.command("fake.edit", {"uri": uri, "output": (tmp_path / "o.md").as_uri()})
    assert (await editor.wait_for_message("started")).message == "Fake: edit started"
    assert (await editor.wait_for_message()).message == "Fake: done"
    assert editor.progress == {}
    assert editor.received("window/workDoneProgress/create") == []
    assert editor.violations == [
        "window/showDocument, but bare does not advertise window.show_document.support"]


@pytest.mark.parametrize("profile", ["vscode", "neovim"])
async def test_edits_in_the_negotiated_encoding(start_editor: StartEditor, workspace: Path,
                                                profile: str) -> None:
    """Positions after é, ☕ and 🧾 differ between UTF-16 and UTF-8: both land right."""
    editor = await start_editor(profile, command=FAKE, strict=False)
    uri = editor.open(workspace / "billing.py")
    emoji = editor.range_of(uri, "🧾")
    assert emoji.end.character - emoji.start.character == (2 if profile == "vscode" else 4)
    quote = editor.range_of(uri, '"\n', 1)  # the closing quote after ☕
    editor.type(uri, quote.start, " et thé")
    editor.type(uri, emoji.end, "!")
    assert (await server_sees(editor, uri))["text"] == editor.text(uri)
    assert '"Café ☕ et thé"' in editor.text(uri) and "🧾!." in editor.text(uri)

    doc = {"uri": uri, "version": editor.version(uri)}
    top = {"line": 0, "character": 0}
    after_emoji = {"line": emoji.end.line, "character": emoji.end.character}
    both = [{"range": {"start": after_emoji, "end": after_emoji}, "newText": "B"},
            {"range": {"start": top, "end": top}, "newText": "A"}]
    result = await editor.command("fake.apply", {"edit": {
        "documentChanges": [{"textDocument": doc, "edits": both}]}})
    assert result == {"applied": True}
    assert editor.text(uri).startswith('A"""Billing helpers for the café 🧾B!.')
    assert (await server_sees(editor, uri))["text"] == editor.text(uri)
    if profile == "neovim":  # Neovim does not advertise documentChanges
        assert editor.violations == [
            "a WorkspaceEdit with documentChanges, but neovim does not advertise "
            "workspace.workspace_edit.document_changes"]

    emoji = editor.range_of(uri, "🧾")
    inside = {"line": emoji.start.line, "character": emoji.start.character + 1}  # mid-emoji
    bad = await editor.command("fake.apply", {"edit": {"changes": {uri: [
        {"range": {"start": inside, "end": inside}, "newText": "x"}]}}})
    assert bad["applied"] is False and "inside the character" in bad["failureReason"]


async def test_edit_to_a_file_not_open_loads_it(start_editor: StartEditor,
                                                workspace: Path) -> None:
    editor = await start_editor("helix", command=FAKE)
    other = workspace / "notes.txt"
    other.write_text("line one\nline two\n")
    uri = other.as_uri()
    result = await editor.command("fake.apply", {"edit": {"changes": {uri: [
        {"range": {"start": {"line": 1, "character": 5}, "end": {"line": 1, "character": 8}},
         "newText": "2"}]}}})
    assert result == {"applied": True}
    assert editor.text(uri) == "line one\nline 2\n" and editor.version(uri) == 2
    assert other.read_text() == "line one\nline two\n"  # an unsaved buffer, as in Helix
    opened, changed = events(editor, "didOpen"), events(editor, "didChange")
    assert [(e["uri"], e["version"]) for e in opened] == [(uri, 1)]
    assert [(e["uri"], e["version"], e["text"]) for e in changed] == [(uri, 2, editor.text(uri))]


async def test_refuse_next_edit_and_stale_versions(start_editor: StartEditor,
                                                   workspace: Path) -> None:
    editor = await start_editor("vscode", command=FAKE)
    uri = editor.open(workspace / "billing.py")
    edit = {"documentChanges": [
        {"textDocument": {"uri": uri, "version": 1},
         "edits": [{"range": {"start": {"line": 0, "character": 0},
                              "end": {"line": 0, "character": 3}}, "newText": "'''"}]}]}
    editor.refuse_next_edit("the user said no")
    assert await editor.command("fake.apply", {"edit": edit}) == {
        "applied": False, "failureReason": "the user said no"}
    editor.type(uri, pos(2, 0), "# the user typed this\n")  # now version 2: the edit is stale
    assert await editor.command("fake.apply", {"edit": edit}) == {
        "applied": False, "failureReason": "document has changed", "failedChange": 0}
    assert editor.text(uri).startswith('"""Billing')
    assert [e.applied for e in editor.applied_edits] == [False, False]


async def test_code_action_then_cancel_its_progress(start_editor: StartEditor,
                                                     workspace: Path) -> None:
    editor = await start_editor("vscode", command=FAKE)
    uri = editor.open(workspace / "billing.py")
    (action,) = await editor.code_actions(uri, editor.range_of(uri, "def paginate"))
    assert isinstance(action, types.CodeAction) and action.command is not None
    started = await editor.run_action(action)
    assert await editor.cancel_progress() == started["token"]
    token, values = await editor.wait_for_progress_end()
    assert token == started["token"] and values[-1].message == "cancelled"
    fixed = await editor.command("fake.progress", {"cancellable": False})
    assert (await editor.wait_for_progress_end(fixed["token"]))[1][-1].message == "done"
    held = await editor.command("fake.progress", {"cancellable": False, "hold": True})
    with pytest.raises(AssertionError, match="not cancellable"):
        await editor.cancel_progress(held["token"])
    with pytest.raises(TimeoutError, match="to end"):
        await editor.wait_for_progress_end(held["token"], timeout=0.05)


async def test_leaks_are_found_wherever_they_go(start_editor: StartEditor) -> None:
    editor = await start_editor("vscode", command=FAKE, strict=False)
    secret = "sk-ren-fake-leak-0000"
    assert editor.leaks(secret) == []
    await editor.command("fake.leak", {"secret": secret})
    await editor.stop()  # stderr is complete once the process has exited
    where = editor.leaks(secret)
    assert "stderr" in where and "stdout outside LSP" in where
    assert "file state/fake/transcript.txt" in where
    assert secret in editor.all_server_output()
    assert any("stdout outside LSP" in v for v in editor.violations)


# ------------------------------------------------------------------ positions, without a server

TEXT = 'a = "Café ☕"\r\n🧾 b\rc\n'


@pytest.mark.parametrize(("encoding", "after_emoji"), [("utf-16", 2), ("utf-8", 4),
                                                       ("utf-32", 1)])
def test_positions_per_encoding(encoding: str, after_emoji: int) -> None:
    assert offset_at(TEXT, pos(1, after_emoji), encoding) == TEXT.index(" b")
    assert position_at(TEXT, TEXT.index("b"), encoding) == pos(1, after_emoji + 1)
    assert offset_at(TEXT, pos(2, 0), encoding) == TEXT.index("c")  # a lone \r ends a line
    assert offset_at(TEXT, pos(0, 99), encoding) == TEXT.index("\r\n")  # clamped to the line
    assert offset_at(TEXT, pos(9, 0), encoding) == len(TEXT)  # past the end: the end
    if after_emoji > 1:
        with pytest.raises(EditError, match="inside"):
            offset_at(TEXT, pos(1, 1), encoding)


def test_overlapping_edits_are_refused() -> None:
    edits = [types.TextEdit(range=rng((0, 0), (0, 3)), new_text="x"),
             types.TextEdit(range=rng((0, 2), (0, 4)), new_text="y")]
    with pytest.raises(EditError, match="overlap"):
        apply_text_edits("abcdef", edits, "utf-16")


@given(st.text(alphabet="ab\n\r é☕🧾", max_size=30), st.sampled_from(ENCODINGS),
       st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3), st.text("xé🍵\n", max_size=3)),
                max_size=4))
def test_edits_match_sequential_changes(text: str, encoding: str,
                                        raw: list[tuple[int, int, str]]) -> None:
    """Applying all edits at once equals replaying the didChange events one by one."""
    spans, taken = [], -1
    for start, length, new in sorted(raw):
        if start > taken and start + length <= len(text):
            if text[start - 1:start + 1] == "\r\n":  # not between \r and \n
                continue
            end = start + length
            if text[end - 1:end + 1] == "\r\n":
                continue
            spans.append((start, end, new))
            taken = end
    edits = [types.TextEdit(range=types.Range(start=position_at(text, s, encoding),
                                              end=position_at(text, e, encoding)), new_text=n)
             for s, e, n in reversed(spans)]
    result, changes = apply_text_edits(text, edits, encoding)
    expected = text
    for s, e, n in reversed(spans):
        expected = expected[:s] + n + expected[e:]
    assert result == expected
    replayed = text
    for change in changes:
        start = offset_at(replayed, change.range.start, encoding)
        end = offset_at(replayed, change.range.end, encoding)
        replayed = replayed[:start] + change.text + replayed[end:]
    assert replayed == expected
    assert length_in("🧾", encoding) == {"utf-8": 4, "utf-16": 2, "utf-32": 1}[encoding]


# ------------------------------------------------------------------ the real server, smoke only

@pytest.mark.parametrize("profile", ["vscode", "helix"])
async def test_ren_lsp_starts_and_stops_cleanly(start_editor: StartEditor, workspace: Path,
                                                profile: str) -> None:
    editor = await start_editor(profile)
    assert editor.initialize_result is not None
    assert editor.initialize_result.server_info.name == "ren-lsp"
    editor.open(workspace / "billing.py")
    assert await editor.stop() == 0
    assert editor.stderr_path.read_text() != ""  # -vv logs to stderr: the tee works
    assert editor.leaks(TEST_KEY) == []
