"""First use of the `ren-lsp` command, as a new user types it (issue 14, points 9 to 15): real
processes, the emulator over loopback, real git, real pipes and a real terminal."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from ren_lsp.emulator import Emulator, Fault
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.conftest import StartEditor
from tests.e2e.test_cli import SAMPLE, run

TAX = '''"""Tax rules."""

TAX_RATE = 0.2


def with_tax(amount):
    """The amount with the sales tax rate applied."""
    return round(amount * (1 + TAX_RATE), 2)
'''
CONTEXT = "Relevant context from the repository:"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository: billing.py and tax.py, committed."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "billing.py").write_text(SAMPLE, encoding="utf-8")
    (root / "tax.py").write_text(TAX, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


async def run_in(cwd: Path, *args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ren_lsp", *args, env=env, cwd=str(cwd),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def sent_context(emulator: Emulator, index: int = 0) -> str:
    content = emulator.requests[index].body["messages"][0]["content"]
    assert isinstance(content, str)
    _, found, context = content.partition(CONTEXT)
    assert found, "no repository context in the request"
    return context


# -- 11: ask carries the repository context, the same as ren.ask ---------------------------------


async def test_ask_from_a_workspace_carries_the_same_context_as_ren_ask(
        repo: Path, tmp_path: Path, emulator: Emulator, start_editor: StartEditor) -> None:
    question = "how is the sales tax rate applied to an amount?"
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    code, _, err = await run_in(repo, "ask", question, env=env)
    assert code == 0, err
    from_cli = sent_context(emulator, 0)
    assert "def with_tax" in from_cli  # the file the question is about came along
    editor = await start_editor(workspace=repo, env=env)
    await editor.wait_for_progress_end(title="Indexing workspace", timeout=60)
    await editor.command("ren.ask", {"question": question})
    await editor.wait_for_progress_end()
    assert sent_context(emulator, 1) == from_cli


async def test_ask_about_lines_adds_the_context_to_them(repo: Path, tmp_path: Path,
                                                       emulator: Emulator) -> None:
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    code, _, err = await run_in(repo, "ask", "does this include tax?", "--file", "billing.py",
                                "--lines", "9-11", env=env)
    assert code == 0, err
    content = emulator.requests[0].body["messages"][0]["content"]
    question, _, _ = content.partition(CONTEXT)
    assert "class Invoice" in question and "lines 9-11" in question
    assert "paginate" not in question  # the selection is still only those lines
    assert "TAX_RATE" in sent_context(emulator)


# -- 12: a bad base URL or provider is an error, never a fallback ---------------------------------


@pytest.mark.parametrize(("variable", "value", "setting"), [
    ("REN_BASE_URL", "garbage", "baseUrl"),
    ("REN_BASE_URL", "https://exa mple.com", "baseUrl"),
    ("REN_PROVIDER", "opneai", "provider"),
])
async def test_a_bad_destination_stops_ask_with_what_to_fix(
        tmp_path: Path, emulator: Emulator, variable: str, value: str, setting: str) -> None:
    # The config file names the emulator: a fallback would send the request there.
    config = tmp_path / "config.toml"
    config.write_text(f'baseUrl = "{emulator.base_url}"\n', encoding="utf-8")
    env = clean_env(tmp_path, REN_CONFIG=str(config), REN_API_KEY=TEST_KEY,
                    **{variable: value})
    code, out, err = await run("ask", "hello", env=env)
    assert code == 1 and out == ""
    assert f"The {setting} setting in env {variable} is not valid" in err and "fix it" in err
    assert emulator.requests == []


# -- 13: closed pipes and bad arguments ----------------------------------------------------------


async def read_one_line_then_close(args: list[str], env: dict[str, str],
                                   before_close: asyncio.Future[None] | None = None
                                   ) -> tuple[int, str]:
    """Run ``ren-lsp ARGS | head -1``: read one line, close the pipe; (exit status, stderr)."""
    read_end, write_end = os.pipe()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ren_lsp", *args, env=env, stdout=write_end,
        stderr=asyncio.subprocess.PIPE)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        line = await asyncio.to_thread(reader.readline)
        assert line, "nothing was printed"
        if before_close is not None:
            await before_close
    assert proc.stderr is not None
    err = await asyncio.wait_for(proc.stderr.read(), 120)
    return await asyncio.wait_for(proc.wait(), 120), err.decode()


def quiet(code: int, err: str) -> None:
    assert code in (0, 141), (code, err)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


async def test_ask_into_a_closed_pipe_ends_quietly(tmp_path: Path, emulator: Emulator) -> None:
    # Many lines, an event every 20 ms: most are written after the pipe is closed.
    emulator.script(Fault(text="a line of the answer\n" * 200, trickle=0.02))
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    quiet(*await read_one_line_then_close(["ask", "explain everything"], env))


async def test_doctor_into_a_closed_pipe_ends_quietly(tmp_path: Path, emulator: Emulator) -> None:
    # Unbuffered, as on a terminal: the model check answers after the pipe is closed.
    emulator.script(Fault(delay=1.0))
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                    PYTHONUNBUFFERED="1")
    asked = asyncio.ensure_future(emulator.wait_for_requests(1, timeout=60))
    quiet(*await read_one_line_then_close(["doctor"], env, asked))


async def test_demo_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    env = clean_env(tmp_path, PYTHONUNBUFFERED="1")
    quiet(*await read_one_line_then_close(["demo"], env))


@pytest.mark.parametrize(("args", "says"), [
    (["emulator", "--port", "99999"], "argument --port: 99999 is not a port"),
    (["emulator", "--port", "eighty"], "argument --port: not a port number"),
    (["serve", "--tcp", "127.0.0.1:99999"], "--tcp takes HOST:PORT"),
    (["ask", "   ", "--emulator"], "the question is empty"),
])
async def test_bad_arguments_get_a_usage_error(tmp_path: Path, args: list[str],
                                               says: str) -> None:
    code, out, err = await run(*args, env=clean_env(tmp_path))
    assert code == 2 and out == "", err
    assert says in err and "Traceback" not in err


# -- 14: doctor -----------------------------------------------------------------------------------


async def test_doctor_shows_every_check_whatever_fails_first(tmp_path: Path) -> None:
    env = clean_env(tmp_path, REN_BASE_URL="http://127.0.0.1:9")
    code, out, _ = await run("doctor", env=env)
    assert code == 1
    assert "FAIL  the Ren API at http://127.0.0.1:9 is not reachable" in out
    assert "FAIL  API key is not set" in out  # shown although the URL failed first
    assert "skip  model 'astra' answers" in out


async def test_doctor_with_the_emulator_never_contradicts_itself(tmp_path: Path) -> None:
    code, out, err = await run("doctor", "--emulator", env=clean_env(tmp_path))
    assert code == 0, out + err
    [key_line] = [line for line in out.splitlines() if line.strip().startswith("apiKey ")]
    assert "(not set)" not in key_line and "--emulator" in key_line
    assert "ok    API key is set" in out


async def test_doctor_s_key_advice_does_not_send_the_user_to_doctor(
        tmp_path: Path, emulator: Emulator) -> None:
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY="sk-wrong-key-000")
    code, out, _ = await run("doctor", env=env)
    assert code == 1 and "did not accept the API key" in out
    assert "ren-lsp doctor`" not in out.split("Checks:")[1]


async def test_doctor_fails_when_settings_have_problems(tmp_path: Path,
                                                       emulator: Emulator) -> None:
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                    REN_MAX_TOKENS="lots")
    code, out, _ = await run("doctor", env=env)
    assert code == 1
    assert "FAIL  settings: 1 problem" in out and "maxTokens in env REN_MAX_TOKENS" in out


# -- 15: the smaller things -----------------------------------------------------------------------


async def test_reversed_lines_are_named_as_such(tmp_path: Path) -> None:
    sample = tmp_path / "billing.py"
    sample.write_text(SAMPLE, encoding="utf-8")
    code, _, err = await run("ask", "q", "--emulator", "--file", str(sample), "--lines",
                             "11-9", env=clean_env(tmp_path))
    assert code == 2 and "--lines 11-9 is reversed" in err and "9-11" in err


async def test_an_unknown_command_lists_the_commands(tmp_path: Path) -> None:
    code, _, err = await run("frobnicate", env=clean_env(tmp_path))
    assert code == 2 and "unknown command 'frobnicate'" in err
    assert all(name in err for name in ("ask", "context", "doctor", "demo", "emulator"))


async def test_plurals_are_right(tmp_path: Path, start_editor: StartEditor) -> None:
    one = tmp_path / "one"
    one.mkdir()
    (one / "tax.py").write_text(TAX, encoding="utf-8")
    editor = await start_editor(workspace=one)
    _, values = await editor.wait_for_progress_end(title="Indexing workspace", timeout=60)
    assert values[-1].message.startswith("1 file indexed"), values[-1].message
    code, _, err = await run("context", "tax", "--workspace", str(one), env=clean_env(tmp_path))
    assert code == 0 and "1 file ranked" in err
    code, out, _ = await run("demo", env=clean_env(tmp_path))
    assert code == 0 and "report(s)" not in out and "after 1 reports" not in out


def test_context_shows_its_progress_on_a_terminal_only(tmp_path: Path, repo: Path) -> None:
    env = clean_env(tmp_path)
    command = [sys.executable, "-m", "ren_lsp", "context", "tax", "--workspace", str(repo),
               "--no-cache"]
    leader, follower = pty.openpty()
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=follower) as proc:
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        assert proc.stdout is not None
        proc.stdout.read()
    os.close(leader)
    assert proc.returncode == 0
    assert b"indexing 2/2 files" in seen, seen
    piped = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "indexing" not in piped.stderr and "ranked" in piped.stderr
