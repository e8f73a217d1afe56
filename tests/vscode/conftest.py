"""Fixtures for the real-VS-Code tests: the tools, the freshly built .vsix, and one VS Code
(code-server on loopback, a browser page on it) per test module, on the emulator.

Without the tools (`tests/vscode/setup.sh` installs them) the tests are skipped on a
developer's machine and fail in CI (`CI` set), so CI never passes without running them.
Screenshots go to `$REN_E2E_OUTPUT` (default `tests/vscode/output/`): one per failed step,
one per failed test, and the README's pictures.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.conftest import TEST_KEY
from tests.vscode.codeserver import ROOT, CodeServer, Tools, build_vsix, missing_tools

OUTPUT = Path(os.environ.get("REN_E2E_OUTPUT", ROOT / "tests" / "vscode" / "output"))

#: The sample file the scenarios work on.
BILLING = '''def total(items):
    s = 0
    for price, qty in items:
        s += price * qty
    return s


def apply_discount(amount, percent):
    return amount - amount * percent / 100
'''

# Every test here drives a browser: give each more time than the suite's default.
pytestmark = pytest.mark.timeout(600)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def tools() -> Tools:
    found, why = missing_tools()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real-VS-Code tests, but {why}", pytrace=False)
        pytest.skip(why)
    return found


@pytest.fixture(scope="session")
def vsix(tools: Tools, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension as `npm run package` builds it from this checkout (with the wheel)."""
    return build_vsix(tmp_path_factory.mktemp("vsix"))


async def until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Waits for a condition on the emulator's request log (it has no event to await)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        await asyncio.sleep(0.05)


@dataclass
class VSCode:
    """One running VS Code: its code-server, the emulator, the workspace and the page."""

    code_server: CodeServer
    emulator: Any
    workspace: Path
    workbench: Any
    shots: Path
    seen: int = field(default=0)

    @property
    def billing(self) -> Path:
        return self.workspace / "billing.py"

    def new_requests(self) -> list[Any]:
        """Requests to the emulator since the scenario began (`begin`)."""
        return list(self.emulator.requests[self.seen:])

    async def begin(self, test: str) -> None:
        """A scenario starts on billing.py as on disk, alone, no notification."""
        wb = self.workbench
        wb.shots = self.shots / test
        self.seen = len(self.emulator.requests)
        async with wb.step("start from billing.py alone"):
            await wb.page.keyboard.press("Escape")  # an input box a failed scenario left
            if await wb.page.locator(".tab").count():
                await wb.close_all_editors()
            if await wb.page.locator(".notifications-toasts .notification-toast").count():
                await wb.clear_notifications()
            self.billing.write_text(BILLING, encoding="utf-8")
            await wb.open_file("billing.py")
            await wb.wait_status("Ren: ready")


async def start_vscode(tools: Tools, vsix: Path, root: Path, name: str, *, settings: dict[str, Any],
                       env: dict[str, str], path: str | None = None) -> AsyncIterator[VSCode]:
    """A VS Code with the .vsix installed, on a workspace holding billing.py, in a browser."""
    from playwright.async_api import async_playwright

    from ren_lsp.emulator import Emulator
    from tests.vscode.workbench import Workbench

    workspace = root / "workspace"
    workspace.mkdir()
    (workspace / "billing.py").write_text(BILLING, encoding="utf-8")
    shots = OUTPUT / name
    shutil.rmtree(shots, ignore_errors=True)
    async with Emulator(api_key=TEST_KEY) as emulator:
        code_server = CodeServer(tools, root)
        code_server.install_extension(vsix)
        code_server.write_settings({"ren.baseUrl": emulator.base_url, **settings})
        try:
            url = await code_server.start(code_server.env(env, path=path))
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=str(tools.chromium), args=["--no-sandbox"])
                page = await browser.new_page(viewport={"width": 1400, "height": 850})
                workbench = Workbench(page, shots)
                await workbench.open(url, workspace)
                yield VSCode(code_server, emulator, workspace, workbench, shots)
                await browser.close()
        finally:
            await code_server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def vscode(tools: Tools, vsix: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[VSCode]:
    """VS Code running the server from this checkout (`python -m ren_lsp` of this venv)."""
    root = tmp_path_factory.mktemp("vscode")
    async for running in start_vscode(
            tools, vsix, root, "scenarios", settings={"ren.server.python": sys.executable},
            env={"REN_API_KEY": TEST_KEY}):
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def scene(vscode: VSCode, request: pytest.FixtureRequest) -> AsyncIterator[VSCode]:
    """The module's VS Code, reset for this test; a screenshot of the page if the test fails."""
    name = request.node.name
    await vscode.begin(name)
    yield vscode
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        await vscode.workbench.screenshot(vscode.shots / name / "failed.png")


_SPENT: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Adds up the time of the real-VS-Code tests (CI reports it: it has a budget)."""
    if report.nodeid.startswith("tests/vscode/"):
        _SPENT[report.nodeid] = _SPENT.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SPENT:
        terminalreporter.write_line(
            f"real VS Code tests: {len(_SPENT)} in {sum(_SPENT.values()):.0f} s "
            "(setup and teardown included)")
