"""`ren.agent` and `ren.undo` as a user runs them: the real server over stdio, the emulator
playing the model over a socket (a scripted tool-use conversation), real files and commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from ren_lsp.emulator import Emulator, Fault
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.conftest import StartEditor
from tests.e2e.editor import Editor

CALC = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
CHECK = "from calc import add\nassert add(2, 3) == 5, f'add(2, 3) is {add(2, 3)}'\nprint('ok')\n"
VERIFY = f"{sys.executable} check.py"
FIX_EDIT = {"tool": "edit_file", "input": {"path": "calc.py", "old_text": "a - b",
                                           "new_text": "a + b"}}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "calc.py").write_text(CALC)
    (root / "check.py").write_text(CHECK)
    return root


async def agent(editor: Editor, **arg: Any) -> tuple[str, str, list[Any]]:
    """Run ren.agent; (session id, the summary it ends with, its progress values)."""
    session = (await editor.command("ren.agent", arg))["session"]
    _, values = await editor.wait_for_progress_end(title="Astra: Agent", timeout=30)
    return session, values[-1].message, values


def allowing(tmp_path: Path, emulator: Emulator, *commands: str) -> dict[str, str]:
    """The editor's usual environment, with agent.allowedCommands set the user's way."""
    return clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                     REN_AGENT_ALLOWED_COMMANDS=json.dumps(list(commands)))


def tool_results(emulator: Emulator, index: int) -> list[dict[str, Any]]:
    """The tool results in the last user turn of request ``index``."""
    body = emulator.requests[index].body
    assert body is not None
    content = body["messages"][-1]["content"]
    return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


def transcript(editor: Editor) -> str:
    uris = [d.uri for d in editor.shown_documents if d.uri.endswith(".md")]
    return editor.text(uris[-1])


async def test_a_failing_check_is_fixed_and_verified(start_editor: StartEditor,
                                                     emulator: Emulator, project: Path,
                                                     tmp_path: Path) -> None:
    editor = await start_editor(workspace=project)
    uri = editor.open(project / "calc.py", CALC, "python")
    emulator.converse([{"tool": "read_file", "input": {"path": "calc.py"}}, FIX_EDIT,
                       {"text": "Fixed the sign in add."}])
    session, summary, values = await agent(editor, task="make check.py pass", verify=VERIFY)
    assert summary.startswith(f"Verified: `{VERIFY}` passed; 2 steps, 1 file changed")
    reports = [v.message for v in values if isinstance(v, types.WorkDoneProgressReport)]
    assert "step 1/25: read_file calc.py" in reports and "step 2/25: edit_file calc.py" in reports
    assert (project / "calc.py").read_text() == FIXED  # on disk, for the command
    assert editor.text(uri) == FIXED  # and in the buffer: the same versioned edit
    [read] = tool_results(emulator, 1)
    assert read["content"] == CALC and not read.get("is_error")
    text = transcript(editor)
    assert "**Task:** make check.py pass" in text and "-    return a - b" in text
    assert "Fixed the sign in add." in text and "## Verified" in text
    message = await editor.wait_for_message(lambda m: "Verified" in m.message)
    assert message.type == types.MessageType.Info and session in message.message
    history = tmp_path / "state" / "ren-lsp" / "history.jsonl"
    # The session writes its history as it ends, just after the message and the progress end.
    line = await editor.wait_until(
        lambda: (history.exists() and history.read_text().splitlines()[-1:]) or None,
        what="the run in the history")
    entry = json.loads(line[0])
    assert entry["command"] == "ren.agent" and entry["changed"] == ["calc.py"]
    assert editor.leaks(TEST_KEY) == []


async def test_a_failing_verification_goes_back_to_the_model(start_editor: StartEditor,
                                                             emulator: Emulator,
                                                             project: Path) -> None:
    editor = await start_editor(workspace=project)
    wrong = {"tool": "edit_file", "input": {"path": "calc.py", "old_text": "a - b",
                                            "new_text": "a * b"}}
    again = {"tool": "edit_file", "input": {"path": "calc.py", "old_text": "a * b",
                                            "new_text": "a + b"}}
    emulator.converse([wrong, {"text": "Done."}, again, {"text": "Done now."}])
    _, summary, _ = await agent(editor, task="make check.py pass", verify=VERIFY)
    assert summary.startswith("Verified")
    handed_back = emulator.requests[2].body["messages"][-1]["content"]
    assert f"`{VERIFY}` exited with status 1" in handed_back
    assert "add(2, 3) is 6" in handed_back  # the command's own output
    assert (project / "calc.py").read_text() == FIXED


async def test_not_verified_after_the_fix_attempts(start_editor: StartEditor,
                                                   emulator: Emulator, project: Path) -> None:
    editor = await start_editor(workspace=project, init_options={"agent": {"maxFixAttempts": 1}})
    emulator.converse([{"text": "I think it is fine."}])
    _, summary, _ = await agent(editor, task="make check.py pass", verify=VERIFY)
    assert summary.startswith(f"Not verified: `{VERIFY}` still fails after 1 fix attempt")
    assert len(emulator.requests) == 2
    assert (project / "calc.py").read_text() == CALC


async def test_commands_are_skipped_run_or_stopped_as_the_user_chooses(
        start_editor: StartEditor, emulator: Emulator, project: Path) -> None:
    editor = await start_editor(workspace=project)
    emulator.converse([{"tool": "run_command", "input": {"command": "echo first"}},
                       {"tool": "run_command", "input": {"command": "echo second"}},
                       {"tool": "run_command", "input": {"command": "echo third"}},
                       {"text": "never reached"}])
    editor.message_answers = ["Skip", "Run", "Stop"]
    _, summary, _ = await agent(editor, task="say hello")
    assert summary.startswith("Stopped: stopped by the user at `echo third`")
    asked = [m.message for m in editor.message_requests]
    assert [a.split(": ", 1)[1] for a in asked] == ["echo first", "echo second", "echo third"]
    assert [a.title for a in editor.message_requests[0].actions or []][:3] == [
        "Run", "Skip", "Stop"]
    [skipped] = tool_results(emulator, 1)
    assert skipped["is_error"] and "skipped" in skipped["content"]
    [ran] = tool_results(emulator, 2)
    assert "exited with status 0" in ran["content"] and "second" in ran["content"]
    assert len(emulator.requests) == 3, "Stop ends the run: no further model turn"


async def test_commands_never_see_the_model_key(start_editor: StartEditor, emulator: Emulator,
                                                project: Path, tmp_path: Path) -> None:
    # agent.allowedCommands is user-only: the config file or the environment, never the editor
    editor = await start_editor(workspace=project, env=allowing(tmp_path, emulator, "env"))
    emulator.converse([{"tool": "run_command", "input": {"command": "env"}}, {"text": "ok"}])
    await agent(editor, task="show the environment")
    [result] = tool_results(emulator, 1)
    assert "status 0" in result["content"] and "PATH=" in result["content"]
    assert TEST_KEY not in result["content"] and "REN_API_KEY" not in result["content"]


async def test_run_all_of_a_program_asks_once(start_editor: StartEditor, emulator: Emulator,
                                              project: Path) -> None:
    editor = await start_editor(workspace=project)
    emulator.converse([{"tool": "run_command", "input": {"command": "echo one"}},
                       {"tool": "run_command", "input": {"command": "echo two"}},
                       {"text": "done"}])
    editor.message_answers = ["Run all `echo` commands in this session"]
    await agent(editor, task="say hello")
    assert len(editor.message_requests) == 1
    [second] = tool_results(emulator, 2)
    assert "two" in second["content"] and not second.get("is_error")


async def test_destructive_commands_always_ask(start_editor: StartEditor, emulator: Emulator,
                                               project: Path, tmp_path: Path) -> None:
    (project / "keep").mkdir()
    editor = await start_editor(workspace=project, env=allowing(tmp_path, emulator, "rm"),
                                init_options={"agent": {"maxFixAttempts": 0}})
    emulator.converse([{"tool": "run_command", "input": {"command": "rm -rf keep"}},
                       {"text": "done"}])
    _, summary, _ = await agent(editor, task="clean up", verify="rm -rf keep")
    # Asked as a tool call although "rm" is allowed, and as the verify command: both dismissed.
    asked = [m.message for m in editor.message_requests]
    assert len(asked) == 2 and all(
        a.endswith("rm -rf keep It can destroy work that undo cannot bring back.") for a in asked)
    assert summary.startswith("Not verified")
    assert (project / "keep").is_dir(), "dismissed: never run"


async def test_helix_runs_only_pre_approved_commands(start_editor: StartEditor,
                                                     emulator: Emulator, project: Path,
                                                     tmp_path: Path) -> None:
    editor = await start_editor("helix", workspace=project,
                                env=allowing(tmp_path, emulator, "echo"))
    emulator.converse([{"tool": "run_command", "input": {"command": "printf asked"}},
                       {"tool": "run_command", "input": {"command": "echo allowed"}},
                       {"text": "done"}])
    await editor.command("ren.agent", {"task": "say hello", "verify": VERIFY})
    await editor.wait_for_message(lambda m: "file" in m.message and "steps" in m.message,
                                  timeout=30)
    assert editor.message_requests == [], "Helix cannot be asked: it never is"
    [refused] = tool_results(emulator, 1)
    assert refused["is_error"] and "could not be asked" in refused["content"]
    [allowed] = tool_results(emulator, 2)
    assert "allowed" in allowed["content"] and "status 0" in allowed["content"]


async def test_the_step_bound_ends_the_run(start_editor: StartEditor, emulator: Emulator,
                                           project: Path) -> None:
    editor = await start_editor(workspace=project)
    emulator.converse([{"tool": "read_file", "input": {"path": "calc.py"}},
                       {"tool": "read_file", "input": {"path": "check.py"}},
                       {"tool": "list_files", "input": {}}, {"text": "never"}])
    _, summary, _ = await agent(editor, task="look around", maxSteps=2)
    assert summary.startswith("Stopped: the step bound was reached (maxSteps 2); 2 steps")
    assert len(emulator.requests) == 3


async def test_the_loop_guard_ends_a_run_that_repeats_itself(start_editor: StartEditor,
                                                             emulator: Emulator,
                                                             project: Path) -> None:
    editor = await start_editor(workspace=project)
    read = {"tool": "read_file", "input": {"path": "calc.py"}}
    emulator.converse([read] * 10)
    _, summary, _ = await agent(editor, task="look around")
    assert summary.startswith("Stopped: the same read_file call gave the same result 3 times")
    assert len(emulator.requests) == 3


async def test_cancel_kills_the_running_command_and_its_children(
        start_editor: StartEditor, emulator: Emulator, project: Path) -> None:
    editor = await start_editor(workspace=project)
    command = "sleep 300 & echo $! > child.pid; sleep 300"
    emulator.converse([{"tool": "run_command", "input": {"command": command}},
                       {"text": "never"}])
    editor.message_answers = ["Run"]
    session = (await editor.command("ren.agent", {"task": "wait"}))["session"]
    pid_file = project / "child.pid"
    await editor.wait_until(lambda: (pid_file.exists() and pid_file.read_text().strip()) or None,
                            what="the command's child to start")
    child = int(pid_file.read_text())
    assert (await editor.command("ren.cancel", {"session": session}))["cancelled"] == [session]
    _, values = await editor.wait_for_progress_end(title="Astra: Agent")
    assert values[-1].message.startswith("Cancelled")

    def gone() -> bool | None:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        return None

    await editor.wait_until(gone, what="the command's whole process group to be killed")


async def test_paths_outside_symlinks_out_and_secrets_are_refused(start_editor: StartEditor,
                                                                  emulator: Emulator,
                                                                  project: Path,
                                                                  tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("OUTSIDE-TEXT-42")
    (project / "link").symlink_to(outside)
    (project / ".env").write_text("TOKEN=DOTENV-SECRET-7\n")
    (project / "settings.py").write_text('PASSWORD = "hunter2-in-settings"\n')
    editor = await start_editor(workspace=project)
    emulator.converse([{"tool": "read_file", "input": {"path": "../outside/notes.txt"}},
                       {"tool": "read_file", "input": {"path": "link/notes.txt"}},
                       {"tool": "read_file", "input": {"path": ".env"}},
                       {"tool": "read_file", "input": {"path": str(outside / "notes.txt")}},
                       {"tool": "create_file", "input": {"path": "link/new.txt",
                                                         "content": "x"}},
                       {"tool": "read_file", "input": {"path": "settings.py"}},
                       {"text": "done"}])
    await agent(editor, task="read everything")
    [settings] = tool_results(emulator, 6)
    assert "<redacted:" in settings["content"], "a secret inside a file is redacted"
    results = [tool_results(emulator, i)[0] for i in range(1, 6)]
    assert all(r["is_error"] and r["content"].startswith("refused") for r in results), results
    sent = json.dumps([r.body for r in emulator.requests])
    assert "OUTSIDE-TEXT-42" not in sent and "DOTENV-SECRET-7" not in sent
    assert "hunter2-in-settings" not in sent
    assert not (outside / "new.txt").exists()


async def test_a_user_edit_during_the_run_is_never_overwritten(start_editor: StartEditor,
                                                               emulator: Emulator,
                                                               project: Path) -> None:
    editor = await start_editor(workspace=project)
    uri = editor.open(project / "calc.py", CALC, "python")
    emulator.converse([{"tool": "read_file", "input": {"path": "calc.py"}}, FIX_EDIT,
                       {"text": "done"}])
    # The reply that asks for the edit comes a moment late; the user types meanwhile.
    emulator.script(Fault(), Fault(delay=1.5))
    session = (await editor.command("ren.agent", {"task": "fix add"}))["session"]
    await emulator.wait_for_requests(2, timeout=10)
    editor.type(uri, types.Position(line=0, character=0), "# mine\n")
    _, values = await editor.wait_for_progress_end(title="Astra: Agent", timeout=30)
    [refused] = tool_results(emulator, 2)
    assert refused["is_error"] and "changed since you read it" in refused["content"]
    assert editor.text(uri) == "# mine\n" + CALC
    assert (project / "calc.py").read_text() == CALC
    assert session in values[-1].message or "0 files changed" in values[-1].message


async def test_a_buffer_with_unsaved_changes_is_not_edited(start_editor: StartEditor,
                                                            emulator: Emulator,
                                                            project: Path) -> None:
    editor = await start_editor(workspace=project)
    unsaved = "# not saved yet\n" + CALC
    uri = editor.open(project / "calc.py", unsaved, "python")  # differs from the disk
    emulator.converse([{"tool": "read_file", "input": {"path": "calc.py"}}, FIX_EDIT,
                       {"text": "done"}])
    await agent(editor, task="fix add")
    [read] = tool_results(emulator, 1)
    assert read["content"] == unsaved, "the agent reads the editor's buffer"
    [refused] = tool_results(emulator, 2)
    assert refused["is_error"] and "unsaved changes" in refused["content"]
    assert editor.text(uri) == unsaved and (project / "calc.py").read_text() == CALC


async def test_undo_restores_the_agents_files_and_leaves_the_users(
        start_editor: StartEditor, emulator: Emulator, project: Path) -> None:
    (project / "other.py").write_text("x = 1\n")
    editor = await start_editor(workspace=project)
    emulator.converse([
        FIX_EDIT,
        {"tool": "create_file", "input": {"path": "notes/new.py", "content": "y = 2\n"}},
        {"tool": "edit_file", "input": {"path": "other.py", "old_text": "x = 1",
                                        "new_text": "x = 10"}},
        {"text": "done"}])
    session, summary, _ = await agent(editor, task="change three files")
    assert "3 files changed" in summary
    assert (project / "notes" / "new.py").exists()
    (project / "other.py").write_text("x = 10  # the user's own line\n")  # the user edits one
    await editor.command("ren.undo", {"session": session})
    _, values = await editor.wait_for_progress_end(title="Astra: Undo")
    assert values[-1].message == ("Restored 2 files: calc.py, notes/new.py (removed); left "
                                  "other.py: changed since the run (yours now)")
    assert (project / "calc.py").read_text() == CALC
    assert not (project / "notes" / "new.py").exists()
    assert (project / "other.py").read_text() == "x = 10  # the user's own line\n"
    warning = await editor.wait_for_message(lambda m: "Undo left" in m.message)
    assert "other.py" in warning.message


async def test_bad_arguments_are_refused_at_once(start_editor: StartEditor,
                                                 emulator: Emulator, project: Path) -> None:
    from pygls.exceptions import JsonRpcException

    editor = await start_editor(workspace=project)
    for arg, says in (({}, "task"), ({"task": "x", "maxSteps": 0}, "maxSteps"),
                      ({"task": "  "}, "task"), ({"session": "nope"}, "task")):
        with pytest.raises(JsonRpcException) as caught:
            await editor.command("ren.agent", arg)
        assert says in caught.value.message
    with pytest.raises(JsonRpcException, match="nothing to undo"):
        await editor.command("ren.undo", {"session": "nope"})
    assert emulator.requests == []



async def test_ren_lsp_agent_in_a_terminal(emulator: Emulator, project: Path,
                                           tmp_path: Path) -> None:
    from tests.conftest import clean_env
    from tests.e2e.test_cli import run

    emulator.converse([{"tool": "read_file", "input": {"path": "calc.py"}}, FIX_EDIT,
                       {"tool": "run_command", "input": {"command": "echo not-allowed"}},
                       {"text": "Fixed the sign."}])
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    code, out, err = await run("agent", "fix add", "--verify", VERIFY, "--yes",
                               "--workspace", str(project), env=env)
    assert code == 0, err
    assert "### Step 2 · `edit_file calc.py`" in out and "+    return a + b" in out
    assert "Fixed the sign." in out
    assert err.strip().startswith(f"Verified: `{VERIFY}` passed; 3 steps, 1 file changed")
    [refused] = tool_results(emulator, 3)
    assert "could not be asked" in refused["content"], "--yes asks nothing"
    assert (project / "calc.py").read_text() == FIXED
    session = err.split('"session": "')[1].split('"')[0]
    code, _, err = await run("agent", "--undo", session, "--workspace", str(project), env=env)
    assert code == 0 and err.strip() == "Restored 1 file: calc.py", err
    assert (project / "calc.py").read_text() == CALC
    code, _, err = await run("agent", "", env=env)
    assert code == 2 and "say what to do" in err


@pytest.mark.parametrize("provider", ["anthropic", "openai", "ollama"])
async def test_the_agent_runs_on_every_backend(start_editor: StartEditor, emulator: Emulator,
                                              project: Path, tmp_path: Path,
                                              provider: str) -> None:
    from tests.e2e.test_server_backends import user_env

    editor = await start_editor(workspace=project, env=user_env(tmp_path, emulator, provider))
    emulator.converse([{"tool": "read_file", "input": {"path": "calc.py"}}, FIX_EDIT,
                       {"text": "Fixed."}])
    _, summary, _ = await agent(editor, task="make check.py pass", verify=VERIFY)
    assert summary.startswith("Verified"), summary
    assert {r.dialect for r in emulator.requests} == {provider}
    assert (project / "calc.py").read_text() == FIXED


async def test_binary_files_are_refused_and_long_results_are_cut(start_editor: StartEditor,
                                                                 emulator: Emulator,
                                                                 project: Path) -> None:
    (project / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0" * 10)
    (project / "big.py").write_text("".join(f"LINE_{n} = {n}\n" for n in range(5000)))
    editor = await start_editor(workspace=project)
    emulator.converse([{"tool": "read_file", "input": {"path": "logo.png"}},
                       {"tool": "read_file", "input": {"path": "big.py"}},
                       {"tool": "read_file", "input": {"path": "big.py", "start_line": 4999}},
                       {"tool": "edit_file", "input": {"path": "big.py", "old_text": "= 1",
                                                       "new_text": "= one"}},
                       {"text": "done"}])
    await agent(editor, task="look")
    [binary] = tool_results(emulator, 1)
    assert binary["is_error"] and "binary" in binary["content"]
    [long] = tool_results(emulator, 2)
    assert len(long["content"]) < 21_000 and "read on with start_line" in long["content"]
    [tail] = tool_results(emulator, 3)
    assert tail["content"] == "LINE_4998 = 4998\nLINE_4999 = 4999\n"
    [ambiguous] = tool_results(emulator, 4)
    assert ambiguous["is_error"] and "occurs" in ambiguous["content"]


async def test_the_emulator_plays_a_default_agent(start_editor: StartEditor,
                                                  emulator: Emulator, project: Path) -> None:
    # No conversation scripted: the emulator reads the file the task names, marks its first
    # line, and finishes (what the demo and a first try on the emulator get).
    editor = await start_editor(workspace=project)
    _, summary, _ = await agent(editor, task="tidy calc.py")
    assert summary.startswith("Done (no verification command); 2 steps, 1 file changed")
    assert (project / "calc.py").read_text() == (
        "def add(a, b):  # edited by the Ren emulator (canned, not AI)\n    return a - b\n")
    assert "I read `calc.py` and edited it." in transcript(editor)
    emulator.reset()
    _, summary, _ = await agent(editor, task="tidy something")
    assert summary.startswith("Done (no verification command); 0 steps")


async def test_a_link_to_a_secret_file_and_the_secret_files_setting_are_refused(
        start_editor: StartEditor, emulator: Emulator, project: Path, tmp_path: Path) -> None:
    (project / ".env").write_text("TOKEN=DOTENV-SECRET-7\n")
    (project / "notes.txt").symlink_to(project / ".env")
    (project / "prod.vault").write_text("VAULT-TEXT-99\n")
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                    REN_SECRET_FILES=json.dumps(["*.vault"]))
    editor = await start_editor(workspace=project, env=env)
    emulator.converse([{"tool": "read_file", "input": {"path": "notes.txt"}},
                       {"tool": "read_file", "input": {"path": "prod.vault"}},
                       {"text": "done"}])
    await agent(editor, task="read the notes")
    results = [tool_results(emulator, i)[0] for i in (1, 2)]
    assert all(r["is_error"] and r["content"].startswith("refused") for r in results), results
    sent = json.dumps([r.body for r in emulator.requests])
    assert "DOTENV-SECRET-7" not in sent and "VAULT-TEXT-99" not in sent
