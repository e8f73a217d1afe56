"""The language server as an editor uses it: the real process over stdio, the emulator over a
real loopback socket, editors with VS Code's, Neovim's, Helix's and a bare client's
capabilities. Each test reads as what the user does and what they see."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from ren_lsp.emulator import Emulator, Fault
from tests.e2e.conftest import BILLING, StartEditor
from tests.e2e.editor import Editor

ANSWER = "First line of the answer.\nIt explains `invoice_total`, step by step.\n" * 4
REWRITE = (
    "Here it is:\n\n```python\ndef invoice_total(lines, tax_rate=0.2):\n"
    '    """The total of an invoice, tax included."""\n'
    "    subtotal = sum(p * q for p, q in lines)\n"
    "    return round(subtotal * (1 + tax_rate), 2)\n```\n\nShorter names.\n"
)
NEW_FUNCTION = REWRITE.split("```python\n")[1].split("```")[0]


def function_range(editor: Editor, uri: str) -> types.Range:
    """The whole `invoice_total` function, lines 5-9 (0-based), as a user would select it."""
    start = editor.range_of(uri, "def invoice_total").start
    end = editor.range_of(uri, "def paginate").start
    return types.Range(start=start, end=types.Position(line=end.line - 2, character=0))


def arg(uri: str, rng: types.Range, **extra: object) -> dict[str, object]:
    return {"uri": uri, "range": {"start": {"line": rng.start.line,
                                            "character": rng.start.character},
                                  "end": {"line": rng.end.line, "character": rng.end.character}},
            **extra}


def output_text(editor: Editor) -> tuple[str, str]:
    """The output document the server showed or edited: (uri, its text in the editor)."""
    uris = [d.uri for d in editor.shown_documents] or [
        u for e in editor.applied_edits for u in e.uris if u.endswith(".md")]
    assert uris, "no output document was opened or written"
    return uris[-1], editor.text(uris[-1])


def body_of(output: str) -> str:
    """An output document's text after its heading (and the note of the context sent)."""
    heading, _, body = output.partition("\n\n")
    assert heading.startswith("# Astra: ")
    if body.startswith("> Context sent to Astra:"):
        body = body.partition("\n\n")[2]
    return body


async def first_report(editor: Editor) -> types.WorkDoneProgressReport:
    """Wait for the first `$/progress` report: the answer has started to stream."""
    def found() -> types.WorkDoneProgressReport | None:
        reports = [v for values in editor.progress.values() for v in values
                   if isinstance(v, types.WorkDoneProgressReport)]
        return reports[0] if reports else None

    return await editor.wait_until(found, what="the first progress report")


async def open_billing(editor: Editor, workspace: Path) -> str:
    return editor.open(workspace / "billing.py", BILLING, "python")


# -- Explain -----------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["vscode", "neovim", "helix"])
async def test_explain_streams_into_an_output_document(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, profile: str) -> None:
    editor = await start_editor(profile)
    uri = await open_billing(editor, workspace)
    rng = function_range(editor, uri)
    actions = await editor.code_actions(uri, rng)
    titles = [a.title for a in actions]
    assert titles == ["Astra: Explain", "Astra: Refactor"]
    assert emulator.requests == [], "listing code actions never calls the network"

    emulator.script(Fault(text=ANSWER, trickle=0.01))
    explain = actions[0]
    assert isinstance(explain, types.CodeAction) and explain.command is not None
    result = await editor.command(explain.command.command, explain.command.arguments[0])
    assert set(result) == {"session"}

    _token, values = await editor.wait_for_progress_end()
    begin, *reports, end = values
    assert isinstance(begin, types.WorkDoneProgressBegin)
    assert begin.title == "Astra: Explain" and begin.cancellable
    assert reports and all(isinstance(r, types.WorkDoneProgressReport) for r in reports)
    assert reports[0].message.startswith("1 token ·")  # the first report comes with the first text
    assert reports[0].message.endswith("First line of")  # the latest line so far
    assert isinstance(end, types.WorkDoneProgressEnd) and end.message.startswith("Done")

    out_uri, output = output_text(editor)
    assert body_of(output) == ANSWER  # exactly what the emulator streamed
    appends = [e for e in editor.applied_edits if out_uri in e.uris]
    assert 1 < len(appends) < ANSWER.count(" "), "streamed in batches, not per token"
    assert all(e.label is None for e in appends), "no label: Neovim would echo each one"
    if profile == "helix":  # no showDocument advertised: told where the answer is instead
        assert editor.shown_documents == []
        await editor.wait_for_message(lambda m: "the answer streams into" in m.message)
    else:
        assert [d.uri for d in editor.shown_documents] == [out_uri]
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert "def invoice_total" in sent and "billing.py, lines 6-9" in sent


async def test_a_client_without_progress_gets_messages(start_editor: StartEditor,
                                                       emulator: Emulator,
                                                       workspace: Path) -> None:
    editor = await start_editor("bare")
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=ANSWER))
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    await editor.wait_for_message("Astra: Explain: waiting for Astra")
    done = await editor.wait_for_message("Astra: Explain: Done")
    assert done.type == types.MessageType.Info
    assert editor.progress == {}


# -- Refactor, Fix, Generate -----------------------------------------------------------------


@pytest.mark.parametrize("profile", ["vscode", "neovim", "helix"])
async def test_refactor_applies_one_versioned_edit(start_editor: StartEditor,
                                                   emulator: Emulator, workspace: Path,
                                                   profile: str) -> None:
    editor = await start_editor(profile)
    uri = await open_billing(editor, workspace)
    rng = function_range(editor, uri)
    emulator.script(Fault(text=REWRITE))
    version = editor.version(uri)
    await editor.command("ren.refactor", arg(uri, rng))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message == "Applied to billing.py"

    (edit,) = [e for e in editor.applied_edits if uri in e.uris]
    assert edit.applied and edit.label == "Astra: Refactor"
    changes = edit.params.edit.document_changes
    if profile == "neovim":  # no documentChanges advertised: plain changes
        assert changes is None and edit.params.edit.changes
    else:
        assert changes[0].text_document.version == version
    old_function = BILLING.split("def invoice_total")[1].split("\n\n\n")[0]
    expected = BILLING.replace("def invoice_total" + old_function + "\n", NEW_FUNCTION)
    assert editor.text(uri) == expected
    assert 'SHOP_NAME = "Café ☕"' in editor.text(uri)  # non-ASCII before the edit: untouched


async def test_refactor_with_an_instruction(start_editor: StartEditor, emulator: Emulator,
                                            workspace: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    await editor.command("ren.refactor", arg(uri, function_range(editor, uri),
                                             instruction="use a generator"))
    await editor.wait_for_progress_end()
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert sent.startswith("Refactor this code: use a generator")
    assert editor.text(uri).count("# Refactored by the Ren emulator") == 1


async def refactor_streaming(start_editor: StartEditor, emulator: Emulator,
                             workspace: Path) -> tuple[Editor, str]:
    """An editor whose refactor of `invoice_total` has started to stream (slowly)."""
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=REWRITE, trickle=0.05))
    await editor.command("ren.refactor", arg(uri, function_range(editor, uri)))
    await first_report(editor)
    return editor, uri


async def test_a_user_edit_during_the_stream_is_never_overwritten(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor, uri = await refactor_streaming(start_editor, emulator, workspace)
    # The user keeps typing inside the function while Astra writes.
    inside = editor.range_of(uri, "tax included").end
    editor.type(uri, inside, " (rounded)")
    typed = editor.text(uri)

    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Not applied")
    assert editor.text(uri) == typed, "nothing the user typed is overwritten"
    warning = await editor.wait_for_message(lambda m: "you edited billing.py" in m.message)
    assert warning.type == types.MessageType.Warning
    _, output = output_text(editor)
    assert NEW_FUNCTION in output  # the answer is not lost


async def test_a_user_edit_above_the_range_moves_the_edit_with_it(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor, uri = await refactor_streaming(start_editor, emulator, workspace)
    editor.type(uri, types.Position(line=0, character=0), "# a new first line\n\n")
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message == "Applied to billing.py"
    text = editor.text(uri)
    assert text.startswith("# a new first line\n\n")
    assert NEW_FUNCTION in text and "for price, quantity in lines" not in text


async def test_an_edit_the_editor_refuses_goes_to_an_output_document(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=REWRITE))
    editor.refuse_next_edit("document has changed")
    await editor.command("ren.refactor", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Not applied")
    assert editor.text(uri) == BILLING
    await editor.wait_for_message(lambda m: "did not apply the change" in m.message)
    assert NEW_FUNCTION in output_text(editor)[1]


async def test_fix_is_offered_for_diagnostics_and_sends_them(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    rng = function_range(editor, uri)
    diagnostic = types.Diagnostic(range=rng, message="'lines' shadows a builtin",
                                  severity=types.DiagnosticSeverity.Warning, source="lint")
    actions = await editor.code_actions(uri, rng, diagnostics=[diagnostic])
    fix = actions[0]
    assert fix.title == "Astra: Fix" and fix.kind == "quickfix.ren"
    await editor.run_action(fix)
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message == "Applied to billing.py"
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert "'lines' shadows a builtin (lint)" in sent


async def test_generate_from_a_todo_comment_inserts_after_it(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor("helix")
    uri = await open_billing(editor, workspace)
    todo = editor.range_of(uri, "# TODO")
    actions = await editor.code_actions(uri, types.Range(start=todo.start, end=todo.start))
    generate = [a for a in actions if a.title == "Astra: Generate from this comment"]
    assert generate, [a.title for a in actions]
    await editor.run_action(generate[0])
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message == "Applied to billing.py"
    text = editor.text(uri)
    comment = "# TODO: write a function that formats an invoice total\n"
    assert text.startswith(BILLING)  # only added to
    added = text[len(BILLING):]
    assert text.index(comment) < text.index(added)
    assert "def write_a_function_that():" in added
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert sent.startswith("Generate code: write a function that formats an invoice total")


# -- Ask ------------------------------------------------------------------------------------


async def test_ask_a_question_about_a_file(start_editor: StartEditor, emulator: Emulator,
                                           workspace: Path) -> None:
    editor = await start_editor("helix")
    uri = await open_billing(editor, workspace)
    # Helix: `:lsp-workspace-command ren.ask {"question": "…", "uri": "…"}`
    await editor.command("ren.ask", {"question": "Where is pagination?", "uri": uri})
    _, values = await editor.wait_for_progress_end()
    assert values[0].title == "Astra: Ask" and values[-1].message.startswith("Done")
    output = body_of(output_text(editor)[1])
    assert "Where is pagination?" in output and "paginate" in output


# -- cancellation ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["progress", "ren.cancel"])
async def test_cancel_closes_the_stream_and_keeps_the_text(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, how: str) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=ANSWER * 5, trickle=0.05))
    session = (await editor.command("ren.explain", arg(uri, function_range(editor, uri))))[
        "session"]
    out_uri = await editor.wait_until(
        lambda: editor.shown_documents[0].uri if editor.shown_documents else None,
        what="the output document")
    await editor.wait_for_text(out_uri, "First line of the answer.")  # text is streaming
    if how == "progress":
        await editor.cancel_progress()
    else:
        assert await editor.command("ren.cancel", {"session": session}) == {
            "cancelled": [session]}
    recorded = await emulator.wait_for_hangup(0)
    assert not recorded.completed
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Cancelled")
    kept = body_of(output_text(editor)[1])
    assert kept and (ANSWER * 5).startswith(kept) and kept != ANSWER * 5


async def test_cancel_before_the_answer_starts(start_editor: StartEditor, emulator: Emulator,
                                               workspace: Path) -> None:
    editor = await start_editor()
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(delay=2))
    session = (await editor.command("ren.explain", arg(uri, function_range(editor, uri))))[
        "session"]
    assert (await editor.command("ren.cancel", {}))["cancelled"] == [session]
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Cancelled")
    # The next request works, and nothing went wrong on the way.
    emulator.script(Fault(text=ANSWER))
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Done")
    assert not [m for m in editor.messages if m.type == types.MessageType.Error]
