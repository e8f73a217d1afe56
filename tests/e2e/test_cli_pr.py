"""`ren-lsp pr` in a terminal: the real console script in the user's repository, the server
it starts, the local forge and the emulator; the preview printed and confirmed on stdin."""

from __future__ import annotations

import asyncio
import sys

from ren_lsp.emulator import Emulator, Fault
from tests.e2e.pr_support import COMMIT_ANSWER, PR_ANSWER, TOKEN, Setup


async def ren_lsp_pr(setup: Setup, emulator: Emulator, *args: str,
                     stdin: str = "") -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ren_lsp", "pr", *args, cwd=setup.repo, env=setup.env(emulator),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 90)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_preview_is_printed_and_confirmed(emulator: Emulator,
                                                    forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    emulator.script(Fault(text=COMMIT_ANSWER), Fault(text=PR_ANSWER))
    code, out, err = await ren_lsp_pr(setup, emulator, "--ready", stdin="y\n")
    assert code == 0, err
    assert "# " + PR_ANSWER.rstrip() in out
    assert "Create a pull request “Add an invoice formatter” from ren/add-an-invoice-formatter " \
           "into main on acme/shop?" in out
    url = setup.forge.pulls[0]["html_url"]
    assert f"Opened the pull request from ren/add-an-invoice-formatter into main on acme/shop: " \
           f"{url}" in out
    assert setup.forge.pulls[0]["draft"] is False
    assert TOKEN not in out + err


async def test_no_answer_cancels_and_failures_exit_1(emulator: Emulator,
                                                     forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    code, out, _ = await ren_lsp_pr(setup, emulator, "--title", "Format totals", "--body", "")
    assert code == 0 and "Pull request cancelled: nothing was pushed" in out
    assert setup.forge.pulls == []
    code, out, err = await ren_lsp_pr(setup, emulator, "--yes", "--base", "nope")
    assert code == 1
    assert "ren-lsp pr: the base branch 'nope' is not known here" in err
