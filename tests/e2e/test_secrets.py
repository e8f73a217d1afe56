"""Secrets never leave the machine: the code around a selection, Generate's before and after,
the selection itself and the question go out redacted, the history keeps what was sent, an
edit never gets a redaction mark, and a secret file is never sent at all."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from ren_lsp.emulator import Emulator, Fault
from tests.e2e.conftest import BILLING, StartEditor
from tests.e2e.editor import Editor
from tests.e2e.test_server import ANSWER, arg, output_text
from tests.e2e.test_server_faults import history_lines

PASSWORD = "hunter2-PW-5521"
AWS_KEY_ID = "AKIAZDOC9IS0J8HT9LGM"
GITHUB_TOKEN = "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"
SECRETS = (PASSWORD, AWS_KEY_ID, GITHUB_TOKEN)
#: three secrets a few lines above the code the user selects
PRELUDE = (f'DB_PASSWORD = "{PASSWORD}"\nAWS_KEY_ID = "{AWS_KEY_ID}"\n'
           f'DEPLOY_TOKEN = "{GITHUB_TOKEN}"\n\n')
SOURCE = PRELUDE + BILLING


def sent(emulator: Emulator) -> str:
    """Every request body the emulator received, as one text."""
    return "\n".join(json.dumps(r.body, ensure_ascii=False) for r in emulator.requests)


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def whole_lines(first: int, last: int) -> types.Range:
    return types.Range(start=types.Position(line=first, character=0),
                       end=types.Position(line=last + 1, character=0))


async def history(editor: Editor, tmp_path: Path, count: int = 1) -> list[dict[str, Any]]:
    path = tmp_path / "state" / "ren-lsp" / "history.jsonl"
    lines = await editor.wait_until(lambda: history_lines(path, count),
                                    what=f"{count} session(s) in the history")
    return [json.loads(line) for line in lines]


def state_text(tmp_path: Path) -> str:
    """Every file the server wrote under its state and cache folders."""
    return "\n".join(p.read_text(errors="replace") for folder in ("state", "cache")
                     for p in sorted((tmp_path / folder).rglob("*")) if p.is_file())


async def test_explain_sends_the_code_around_the_selection_redacted(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    editor = await start_editor()
    uri = editor.open(workspace / "billing.py", SOURCE, "python")
    function = editor.range_of(uri, "def invoice_total").start.line
    emulator.script(Fault(text=ANSWER))
    await editor.command("ren.explain", arg(uri, whole_lines(function, function + 3)))
    await editor.wait_for_progress_end()
    body = sent(emulator)
    assert "def invoice_total" in body and "SHOP_NAME" in body  # the code around it went
    assert leaked(body) == []  # ... but not the secrets in it
    prompt = emulator.requests[0].body["messages"][0]["content"]
    assert 'DB_PASSWORD = "<redacted:assignment:' in prompt
    assert "<redacted:aws-access-key-id:" in prompt and "<redacted:github-token:" in prompt
    # The history keeps what was sent, not what was asked.
    [entry] = await history(editor, tmp_path)
    assert entry["request"]["messages"][0]["content"] == prompt
    assert leaked(state_text(tmp_path)) == []


async def test_generate_sends_before_and_after_redacted(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    editor = await start_editor()
    # Secrets before the line and after it: both parts go out.
    uri = editor.open(workspace / "billing.py", SOURCE + "\n" + PRELUDE, "python")
    todo = editor.range_of(uri, "# TODO").start
    await editor.command("ren.generate", {"uri": uri, "instruction": "format a total",
                                          "position": {"line": todo.line, "character": 0}})
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Applied")
    assert leaked(sent(emulator)) == []
    prompt = emulator.requests[0].body["messages"][0]["content"]
    marks = re.findall(r"<redacted:github-token:\d+>", prompt)
    assert len(marks) == 2 and len(set(marks)) == 1  # one secret, one mark, on both sides
    text = editor.text(uri)
    assert "def format_a_total" in text and "<redacted:" not in text
    assert text.count(GITHUB_TOKEN) == 2  # the user's own lines are as they were
    await history(editor, tmp_path)
    assert leaked(state_text(tmp_path)) == []


async def test_refactor_puts_the_secrets_of_the_selection_back(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    editor = await start_editor()
    uri = editor.open(workspace / "billing.py", SOURCE, "python")
    # The selection itself holds the secrets: they go out as marks, the emulator echoes the
    # marks in its rewrite, and the edit has the user's secrets where they were.
    await editor.command("ren.refactor", arg(uri, whole_lines(0, 2)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Applied")
    assert leaked(sent(emulator)) == []
    text = editor.text(uri)
    assert "Refactored by the Ren emulator" in text and "<redacted:" not in text
    assert PRELUDE.strip() in text
    await history(editor, tmp_path)
    assert leaked(state_text(tmp_path)) == []


async def test_an_answer_with_a_mark_it_cannot_put_back_is_not_applied(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor()
    uri = editor.open(workspace / "billing.py", SOURCE, "python")
    # A mark the session never made (from the repository context, or made up).
    emulator.script(Fault(text='```python\nDB_PASSWORD = "<redacted:assignment>"\n```\n'))
    await editor.command("ren.fix", arg(uri, whole_lines(0, 0)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Not applied (the answer holds a redacted secret)")
    warning = await editor.wait_for_message(lambda m: m.type == types.MessageType.Warning)
    assert "your file keeps its text" in warning.message
    assert editor.text(uri) == SOURCE
    assert '"<redacted:assignment>"' in output_text(editor)[1]  # the answer is kept


async def test_a_question_with_a_secret_in_it_goes_out_redacted(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    editor = await start_editor()
    await editor.command("ren.ask", {"question": f"Why is {GITHUB_TOKEN} refused?"})
    await editor.wait_for_progress_end()
    assert leaked(sent(emulator)) == []
    [entry] = await history(editor, tmp_path)
    assert entry["question"] == "Why is <redacted:github-token:1> refused?"
    assert leaked(state_text(tmp_path)) == []  # the output document's heading too


async def test_a_completion_that_repeats_a_mark_is_not_offered(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    editor = await start_editor()
    uri = editor.open(workspace / "billing.py", SOURCE + "TOKEN_COPY = \n", "python")
    end = editor.range_of(uri, "TOKEN_COPY = ").end
    emulator.script(Fault(text='"<redacted:github-token>"'))
    await editor.command("ren.complete", {"uri": uri, "position": {
        "line": end.line, "character": end.character}})
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message == "Nothing to insert here"
    assert leaked(sent(emulator)) == [] and "<redacted:" in sent(emulator)
    assert "<redacted:" not in editor.text(uri)


async def test_an_agent_transcript_on_disk_holds_no_secret(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    (workspace / "settings.py").write_text(PRELUDE)
    editor = await start_editor()
    emulator.converse([{"tool": "read_file", "input": {"path": "settings.py"}},
                       {"text": "Read it."}])
    await editor.command("ren.agent", {"task": f"check that {GITHUB_TOKEN} is not used"})
    await editor.wait_for_progress_end(title="Astra: Agent", timeout=30)
    await history(editor, tmp_path)
    assert leaked(sent(emulator)) == []
    transcript = next((tmp_path / "state" / "ren-lsp" / "sessions").glob("*.md")).read_text()
    assert "settings.py" in transcript and "<redacted:" in transcript
    assert leaked(state_text(tmp_path)) == []


SECRET_FILES = {".env": f"DATABASE_URL=postgres://app:{PASSWORD}@db/app\nGH={GITHUB_TOKEN}\n",
                "deploy.pem": f"-----BEGIN RSA PRIVATE KEY-----\n{AWS_KEY_ID}\n"}
EVERYTHING = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}
ON_A_SECRET_FILE = [
    ("ren.explain", {"range": EVERYTHING}),
    ("ren.refactor", {"range": EVERYTHING}),
    ("ren.fix", {"range": EVERYTHING}),
    ("ren.generate", {"instruction": "add a key", "position": {"line": 0, "character": 0}}),
    ("ren.ask", {"question": "what is this?", "range": EVERYTHING}),
    ("ren.ask", {"question": "what is this?"}),
    ("ren.agent", {"task": "rotate it", "range": EVERYTHING}),
    ("ren.complete", {"position": {"line": 1, "character": 0}}),
]


@pytest.mark.parametrize("name", sorted(SECRET_FILES))
async def test_a_selection_in_a_secret_file_is_refused(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, name: str) -> None:
    editor = await start_editor()
    uri = editor.open(workspace / name, SECRET_FILES[name], "plaintext")
    for command, argument in ON_A_SECRET_FILE:
        with pytest.raises(JsonRpcException) as caught:
            await editor.command(command, {"uri": uri, **argument})
        assert caught.value.code == -32602, command
        assert f"{name} looks like a file of secrets" in caught.value.message, command
        assert "secretFiles" in caught.value.message  # what to do if it holds none
    assert emulator.requests == []


async def test_the_agent_writes_the_secrets_it_saw_as_marks_back_as_they_were(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    from ren_lsp.context.secrets import Redactor

    line = f'DEPLOY_TOKEN = "{GITHUB_TOKEN}"\n'
    (workspace / "deploy.py").write_text(line)
    # The only secret of the run, so the first mark the session makes stands for it.
    mark = Redactor().redact(GITHUB_TOKEN)
    assert mark.startswith("<redacted:") and mark.endswith(":1>")
    emulator.converse([
        {"tool": "read_file", "input": {"path": "deploy.py"}},
        {"tool": "edit_file", "input": {"path": "deploy.py", "old_text": f'"{mark}"\n',
                                        "new_text": f'"{mark}"  # rotated yearly\n'}},
        {"tool": "create_file", "input": {"path": "copy.py", "content": f"T = '{mark}'\n"}},
        {"tool": "create_file", "input": {"path": "made_up.py",
                                          "content": "T = '<redacted:github-token:7>'\n"}},
        {"text": "Done."}])
    editor = await start_editor()
    await editor.command("ren.agent", {"task": "note that the deploy token rotates"})
    await editor.wait_for_progress_end(title="Astra: Agent", timeout=30)
    [read] = [b for b in emulator.requests[1].body["messages"][-1]["content"]  # type: ignore[index]
              if b.get("type") == "tool_result"]
    assert read["content"] == f'DEPLOY_TOKEN = "{mark}"\n'  # what the agent saw
    assert leaked(sent(emulator)) == []
    # The marks it saw are put back: the user's token is intact, the new file has the value.
    assert (workspace / "deploy.py").read_text() == (
        f'DEPLOY_TOKEN = "{GITHUB_TOKEN}"  # rotated yearly\n')
    assert (workspace / "copy.py").read_text() == f"T = '{GITHUB_TOKEN}'\n"
    # A mark that stands for nothing the run saw is never written into a file.
    assert not (workspace / "made_up.py").exists()
    refused = emulator.requests[4].body
    assert refused is not None and "stands for no secret" in json.dumps(refused)


async def test_a_completion_window_that_cuts_a_key_block_sends_none_of_it(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    from tests.e2e.test_secrets_cli import KEY_LINES

    key = "\n".join(KEY_LINES * 3)  # 36 lines of key
    code = "".join(f"def step_{n}(x):\n    return x + {n}\n" for n in range(55))
    # The window is the 120 lines before the cursor: it starts inside the key, after BEGIN.
    text = f'KEY = """-----BEGIN RSA PRIVATE KEY-----\n{key}\n-----END RSA PRIVATE KEY-----"""\n'
    editor = await start_editor()
    uri = editor.open(workspace / "signing.py", text + code + "total = ", "python")
    end = editor.range_of(uri, "total = ").end
    emulator.script(Fault(text="step_1(2)"))
    await editor.command("ren.complete", {"uri": uri, "position": {
        "line": end.line, "character": end.character}})
    await editor.wait_for_progress_end()
    body = sent(emulator)
    assert "def step_54" in body and "BEGIN RSA" not in body  # the window did cut the key
    assert [line for line in KEY_LINES if line in body] == []
