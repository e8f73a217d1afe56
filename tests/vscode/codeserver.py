"""The real VS Code for the tests: code-server (VS Code 1.100.3 in a browser) on loopback.

`tests/vscode/setup.sh` installs it (with Debian's chromium and Playwright); `tools()` finds
what it installed, and `CodeServer.start` runs one with its own user-data, extensions, home and
XDG folders, so nothing of the machine's user leaks in and nothing the test does leaks out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
CS_VERSION = "4.100.3"
CHROMIUM = Path("/usr/bin/chromium")
#: How long code-server may take to listen: the machine is shared, a first start is slow.
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Tools:
    code_server: Path
    chromium: Path


def missing_tools() -> tuple[Tools | None, str]:
    """The installed tools, or None and what is missing (with the command that installs it)."""
    tools_dir = Path(os.environ.get("REN_E2E_TOOLS", Path.home() / ".cache" / "ren-lsp-e2e"))
    code_server = tools_dir / f"code-server-{CS_VERSION}" / "node_modules" / ".bin" / "code-server"
    problems = []
    if not code_server.exists():
        problems.append(f"code-server {CS_VERSION} (looked for {code_server})")
    if not CHROMIUM.exists():
        problems.append(f"chromium ({CHROMIUM})")
    try:
        import playwright  # noqa: F401
    except ImportError:
        problems.append("playwright (Python)")
    if not (EXTENSION / "node_modules").is_dir():
        problems.append("the extension's node_modules (npm ci in editors/vscode)")
    if problems:
        return None, ("the real-VS-Code tests need " + ", ".join(problems)
                      + ": run tests/vscode/setup.sh (and npm ci in editors/vscode)")
    return Tools(code_server, CHROMIUM), ""


def build_vsix(out: Path) -> Path:
    """The extension packaged from this checkout (bundle, the server's wheel, `.vsix`)."""
    vsix = out / "ren-lsp.vsix"
    result = subprocess.run(
        ["npm", "run", "package", "--", "--out", str(vsix)], cwd=EXTENSION,
        capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0 or not vsix.exists():
        raise RuntimeError(
            f"npm run package failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return vsix


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class CodeServer:
    """One code-server process group (extension hosts and the language server included)."""

    def __init__(self, tools: Tools, root: Path) -> None:
        self.tools = tools
        self.root = root
        self.user_data = root / "user-data"
        self.extensions = root / "extensions"
        self.home = root / "home"
        self.log = root / "code-server.log"
        self.process: asyncio.subprocess.Process | None = None
        self.url = ""
        self._reader: asyncio.Task[None] | None = None
        for folder in (self.user_data / "User", self.extensions, self.home):
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def settings_file(self) -> Path:
        return self.user_data / "User" / "settings.json"

    def write_settings(self, settings: dict[str, Any]) -> None:
        """The user's settings.json (code-server watches it: a change applies at once)."""
        base = {
            "workbench.startupEditor": "none",
            "security.workspace.trust.enabled": False,
            "telemetry.telemetryLevel": "off",
            "workbench.tips.enabled": False,
            "extensions.ignoreRecommendations": True,
            "update.mode": "none",
            "editor.minimap.enabled": False,
            "editor.accessibilitySupport": "off",
            "files.autoSave": "off",
            "window.restoreWindows": "none",
            "chat.commandCenter.enabled": False,
            "workbench.secondarySideBar.defaultVisibility": "hidden",
        }
        # Machine-scoped settings (ren.server.*) count only in the machine's settings file in
        # code-server, as in any remote window: VS Code ignores them in the user's.
        machine = {k: v for k, v in settings.items() if k.startswith("ren.server.")}
        user = {k: v for k, v in settings.items() if k not in machine}
        self.settings_file.write_text(json.dumps({**base, **user}, indent=2), encoding="utf-8")
        machine_file = self.user_data / "Machine" / "settings.json"
        machine_file.parent.mkdir(parents=True, exist_ok=True)
        machine_file.write_text(json.dumps(machine, indent=2), encoding="utf-8")

    def env(self, extra: dict[str, str], path: str | None = None) -> dict[str, str]:
        """A user with this home, no REN_* variable and no proxy, plus `extra`."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("REN_", "VSCODE_")) and "PROXY" not in k.upper()}
        env.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"),
                   XDG_DATA_HOME=str(self.home / ".local/share"),
                   XDG_STATE_HOME=str(self.home / ".local/state"),
                   XDG_CACHE_HOME=str(self.home / ".cache"))
        if path is not None:
            env["PATH"] = path
        env.update(extra)
        return env

    def install_extension(self, vsix: Path) -> None:
        result = subprocess.run(
            [str(self.tools.code_server), "--user-data-dir", str(self.user_data),
             "--extensions-dir", str(self.extensions), "--install-extension", str(vsix)],
            capture_output=True, text=True, timeout=300, env=self.env({}), check=False)
        if result.returncode != 0:
            raise RuntimeError(f"installing {vsix.name} failed:\n{result.stdout}\n{result.stderr}")

    async def start(self, env: dict[str, str]) -> str:
        """Start listening on a free loopback port; returns its URL once it says it listens."""
        port = free_port()
        self.process = await asyncio.create_subprocess_exec(
            str(self.tools.code_server), "--bind-addr", f"127.0.0.1:{port}", "--auth", "none",
            "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
            "--disable-getting-started-override",
            "--user-data-dir", str(self.user_data), "--extensions-dir", str(self.extensions),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            # Its own process group: extension hosts and the language server outlive the
            # main process otherwise, so stop() kills the group.
            start_new_session=True)
        listening = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._copy_output(
            f"HTTP server listening on http://127.0.0.1:{port}/", listening))
        try:
            await asyncio.wait_for(listening, START_TIMEOUT)
        except TimeoutError:
            raise TimeoutError(f"code-server did not listen within {START_TIMEOUT:.0f} s:\n"
                               + self.log.read_text(errors="replace")[-3000:]) from None
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def _copy_output(self, needle: str, seen: asyncio.Future[None]) -> None:
        """code-server's output into its log file; `seen` resolves at the line with `needle`."""
        assert self.process is not None and self.process.stdout is not None
        with self.log.open("ab") as log:
            async for line in self.process.stdout:
                log.write(line)
                log.flush()
                if not seen.done() and needle in line.decode(errors="replace"):
                    seen.set_result(None)
        if not seen.done():
            seen.set_exception(RuntimeError(
                f"code-server exited before listening:\n{self.log.read_text()[-3000:]}"))

    def server_pids(self) -> list[int]:
        """The ren-lsp servers this code-server runs (its process group)."""
        if self.process is None:
            return []
        pids = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if os.getpgid(int(proc.name)) != self.process.pid:
                    continue
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except (OSError, ProcessLookupError):
                continue
            if any(part.endswith((b"ren-lsp", b"ren_lsp")) for part in argv):
                pids.append(int(proc.name))
        return pids

    @staticmethod
    def argv(pid: int) -> list[bytes]:
        """A process's command line."""
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        # Whatever of the group is left (an extension host that ignored SIGTERM).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if self._reader is not None:
            await self._reader


def path_without_ren_lsp() -> str:
    """PATH without any folder holding a `ren-lsp` (a user who never installed it)."""
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "ren-lsp").exists()]
    assert shutil.which("ren-lsp", path=os.pathsep.join(keep)) is None
    return os.pathsep.join(keep)
