"""The `ren-lsp` command as a user runs it: real processes, the emulator over loopback."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pytest

from ren_lsp.emulator import Emulator
from tests.conftest import TEST_KEY, clean_env

SAMPLE = '''"""Billing."""


def paginate(items, cursor=None, size=50):
    start = 0 if cursor is None else cursor
    return items[start:start + size], start + size


class Invoice:
    def total(self):
        return sum(self.lines)
'''


async def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run `python -m ren_lsp ARGS` without blocking the loop (the emulator shares it)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ren_lsp", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "billing.py"
    path.write_text(SAMPLE)
    return path


async def test_ask_with_the_emulator_needs_no_key(tmp_path: Path, sample: Path) -> None:
    code, out, err = await run("ask", "--emulator", "what does this do?", "--file", str(sample),
                               env=clean_env(tmp_path))
    assert code == 0, err
    assert out.startswith("**Ren emulator**")
    assert "paginate" in out and "Invoice" in out  # it saw the file
    assert err == ""


async def test_ask_lines_sends_only_those_lines(tmp_path: Path, sample: Path,
                                                emulator: Emulator) -> None:
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    code, out, _ = await run("ask", "explain", "--file", str(sample), "--lines", "9-11", env=env)
    assert code == 0
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert "class Invoice" in sent and "paginate" not in sent
    assert "lines 9-11" in sent
    assert "Invoice" in out and "paginate" not in out


async def test_ask_streams_partial_text_then_a_clear_error(tmp_path: Path, sample: Path,
                                                           emulator: Emulator) -> None:
    from ren_lsp.emulator import Fault

    emulator.script(Fault(drop_after=10))
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    code, out, err = await run("ask", "explain", "--file", str(sample), env=env)
    assert code == 1
    assert out.startswith("**Ren emulator**")  # what arrived was printed
    assert "cut off" in err and "kept" in err
    assert TEST_KEY not in out + err


@pytest.mark.parametrize(("args", "message"), [
    (["ask", "q", "--lines", "1-2"], "--lines needs --file"),
    (["ask", "q", "--file", "/nonexistent/x.py"], "cannot read"),
    (["ask", "q", "--file", "{sample}", "--lines", "5-900"], "outside the file"),
])
async def test_ask_bad_arguments(tmp_path: Path, sample: Path, args: list[str],
                                 message: str) -> None:
    args = [a.replace("{sample}", str(sample)) for a in args]
    code, _, err = await run(*args, "--emulator", env=clean_env(tmp_path))
    assert code == 2 and message in err


async def test_ask_without_a_key_says_where_to_set_it(tmp_path: Path) -> None:
    code, out, err = await run("ask", "hello", env=clean_env(tmp_path))
    assert code == 1 and out == ""
    assert "REN_API_KEY" in err and "doctor" in err


async def test_doctor_against_the_emulator_is_all_green(tmp_path: Path,
                                                        emulator: Emulator) -> None:
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    code, out, err = await run("doctor", env=env)
    assert code == 0, out + err
    assert "FAIL" not in out
    assert out.count("  ok  ") == 4
    assert "env REN_BASE_URL" in out and "env REN_API_KEY" in out
    assert "All checks passed." in out
    assert TEST_KEY not in out + err and "'***'" in out


async def test_doctor_with_a_wrong_key_reports_the_fix(tmp_path: Path,
                                                       emulator: Emulator) -> None:
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY="sk-wrong-key-000")
    code, out, err = await run("doctor", env=env)
    assert code == 1
    assert "FAIL  the Ren API did not accept the API key" in out
    assert "fix:" in out and "REN_API_KEY" in out
    assert "sk-wrong-key-000" not in out + err


async def test_doctor_unreachable_base_url(tmp_path: Path) -> None:
    env = clean_env(tmp_path, REN_BASE_URL="http://127.0.0.1:9", REN_API_KEY=TEST_KEY)
    code, out, _ = await run("doctor", env=env)
    assert code == 1 and "not reachable" in out and "baseUrl" in out


async def test_doctor_insecure_base_url(tmp_path: Path) -> None:
    env = clean_env(tmp_path, REN_BASE_URL="http://api.ren.invalid", REN_API_KEY=TEST_KEY)
    code, out, _ = await run("doctor", env=env)
    assert code == 1 and "plain http" in out


async def test_emulator_command_prints_its_url_first(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ren_lsp", "emulator", "--key", TEST_KEY,
        env=clean_env(tmp_path), stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
        assert line.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient() as http:
            reply = await http.post(line + "/v1/messages",
                                    headers={"Authorization": f"Bearer {TEST_KEY}"},
                                    json={"model": "astra", "messages": [
                                        {"role": "user", "content": "hi"}]})
        assert reply.status_code == 200
        assert "Ren emulator" in reply.json()["content"][0]["text"]
    finally:
        proc.terminate()
        await proc.wait()


@pytest.mark.parametrize("sub", ["serve", "emulator", "ask", "doctor", "demo"])
async def test_every_subcommand_has_help(tmp_path: Path, sub: str) -> None:
    code, out, _ = await run(sub, "--help", env=clean_env(tmp_path))
    assert code == 0 and out.startswith("usage: ren-lsp " + sub)


async def test_version(tmp_path: Path) -> None:
    from ren_lsp import __version__

    code, out, _ = await run("--version", env=clean_env(tmp_path))
    assert code == 0 and out.strip() == f"ren-lsp {__version__}"


async def test_demo_runs_on_a_fresh_machine(tmp_path: Path) -> None:
    code, out, err = await run("demo", env=clean_env(tmp_path))
    assert code == 0, err
    assert "Ren emulator" in out
    assert "It defines `paginate`" in out  # the explanation streamed
    assert "+++ b/billing.py" in out and "+# Refactored by the Ren emulator" in out  # the diff
    assert "Context sent to Astra: `billing.py`, `tax.py`" in out
