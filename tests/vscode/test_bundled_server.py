"""A new user's first start in a real VS Code: no ren-lsp anywhere, the extension brings its own.

The .vsix carries the project's wheel; with no `ren-lsp` on PATH and no `ren.server.*`
setting, the extension offers to install it into a private virtual environment (Python from
PATH, the wheel's dependencies from the machine's package index), shows the progress, and runs
the server from there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conftest import TEST_KEY
from tests.vscode.codeserver import Tools, path_without_ren_lsp
from tests.vscode.conftest import VSCode, start_vscode
from tests.vscode.test_scenarios import EMULATOR_HEADER

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(900)]

#: pip installs the wheel's dependencies (tree-sitter grammars, aiohttp, …): minutes when slow.
INSTALL_MS = 480_000


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def new_user(tools: Tools, vsix: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[VSCode]:
    root = tmp_path_factory.mktemp("new-user")
    async for running in start_vscode(tools, vsix, root, "bundled-server", settings={},
                                      env={"REN_API_KEY": TEST_KEY},
                                      path=path_without_ren_lsp()):
        yield running


async def test_first_start_installs_the_bundled_server(new_user: VSCode) -> None:
    vs, wb = new_user, new_user.workbench
    async with wb.step("open a Python file: the extension offers its server"):
        await wb.open_file("billing.py")
        offer = await wb.wait_notification("Install the server that comes with the extension")
        text = await wb.notification_text(offer)
        assert "not found on PATH" in text, text
    async with wb.step("Install: the progress shows, then the server is ready"):
        await wb.click_notification_button(offer, "Install")
        await wb.wait_notification("Ren: installing the server")
        await wb.wait_status("Ren: ready", wait_ms=INSTALL_MS)
    async with wb.step("it runs from the private environment, in the extension's storage"):
        venvs = list(vs.code_server.user_data.rglob("server-venv"))
        assert len(venvs) == 1, venvs
        executable = venvs[0] / "bin" / "ren-lsp"
        assert executable.exists()
        pids = vs.code_server.server_pids()
        assert len(pids) == 1, pids
        argv = vs.code_server.argv(pids[0])
        assert str(executable).encode() in argv, argv
    async with wb.step("and answers"):
        await wb.select_lines(8, 2)
        await wb.palette("Ren: Explain selection")
        await wb.wait_answer_text(EMULATOR_HEADER)
