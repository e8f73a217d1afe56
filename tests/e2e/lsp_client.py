"""The LSP side of the editor harness: the profiles' capabilities and a teeing client.

`TeeingClient` is pytest-lsp's `LanguageClient` started so that every byte of the server's stdout
is kept (bodies and stray lines) and its stderr goes to a file as well as to pytest's capture.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, Union
from urllib.parse import unquote, urlparse

import pytest_lsp
from lsprotocol import types
from packaging.version import parse as parse_version
from pygls.io_ import run_async
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient

__all__ = ["PROFILES", "TeeingClient", "canonical_uri", "fix_code_action_union",
           "profile_capabilities", "uri_to_path"]

logger = logging.getLogger(__name__)

PROFILES = ("vscode", "neovim", "helix", "bare")
HELIX_JSON = Path(__file__).parent / "clients" / "helix-25.07.1.json"


def profile_capabilities(
    profile: str, converter: Any = None,
) -> tuple[types.ClientCapabilities, types.ClientInfo]:
    """The capabilities and `clientInfo` a real editor of that profile sends."""
    if profile in ("vscode", "neovim"):
        spec = {"vscode": "visual-studio-code", "neovim": "neovim"}[profile]
        return pytest_lsp.client_capabilities(spec), _bundled_client_info(spec)
    if profile == "helix":
        converter = converter or default_converter()
        caps = converter.structure(json.loads(HELIX_JSON.read_text()), types.ClientCapabilities)
        return caps, types.ClientInfo(name="helix", version="25.07.1")
    if profile == "bare":
        caps = types.ClientCapabilities(
            workspace=types.WorkspaceClientCapabilities(
                apply_edit=True,
                workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)),
            text_document=types.TextDocumentClientCapabilities(
                code_action=types.CodeActionClientCapabilities(
                    code_action_literal_support=types.ClientCodeActionLiteralOptions(
                        code_action_kind=types.ClientCodeActionKindOptions(
                            value_set=[""])))))
        return caps, types.ClientInfo(name="bare-test-client", version="0")
    raise ValueError(f"unknown profile {profile!r}; one of {PROFILES}")


def _bundled_client_info(spec: str) -> types.ClientInfo:
    """The clientInfo of the file pytest_lsp.client_capabilities(spec) picks (the latest)."""
    name = spec.replace("-", "_")
    files = [f for f in resources.files("pytest_lsp.clients").iterdir()
             if f.name.startswith(name + "_v") and f.name.endswith(".json")]
    latest = max(files, key=lambda f: parse_version(f.name[len(name) + 2:-len(".json")]))
    info = json.loads(latest.read_text())["clientInfo"]
    return types.ClientInfo(name=info["name"], version=info.get("version"))


def canonical_uri(uri_or_path: str | Path) -> str:
    """One spelling per file (editors normalise URIs); other schemes are left alone."""
    if isinstance(uri_or_path, Path):
        return uri_or_path.absolute().as_uri()
    if uri_or_path.startswith("file:"):
        return Path(unquote(urlparse(uri_or_path).path)).as_uri()
    return uri_or_path


def uri_to_path(uri: str) -> Path | None:
    return Path(unquote(urlparse(uri).path)) if uri.startswith("file:") else None


class _TeeReader:
    """The server's stdout as pygls reads it, keeping every body and every stray line."""

    def __init__(self, inner: asyncio.StreamReader, client: TeeingClient) -> None:
        self._inner, self._client = inner, client

    async def readline(self) -> bytes:
        line = await self._inner.readline()
        if line and not (line.startswith((b"Content-Length:", b"Content-Type:"))
                         or line == b"\r\n"):
            self._client.stray_stdout.append(line)
            if self._client.on_stray is not None:
                self._client.on_stray(line)
        return line

    async def readexactly(self, n: int) -> bytes:
        body = await self._inner.readexactly(n)
        self._client.wire.append(body)
        return body


async def _tee_stderr(stream: asyncio.StreamReader, path: Path, echo: bool) -> None:
    with path.open("ab") as sink:
        while line := await stream.readline():
            sink.write(line)
            sink.flush()
            if echo:  # shown by pytest with the failing test's captured stderr
                sys.stderr.write(line.decode("utf-8", "replace"))


class TeeingClient(LanguageClient):
    """pytest-lsp's client, started so that stdout is teed and stderr goes to a file too.

    pygls' `start_io` hard-codes `stderr=PIPE` (passing `stderr=` again is a TypeError) and reads
    stdout itself, so this is its 15 lines again with the two taps.
    """

    def __init__(self) -> None:
        super().__init__(converter_factory=default_converter)
        self.wire: list[bytes] = []
        self.stray_stdout: list[bytes] = []
        self.on_stray: Callable[[bytes], None] | None = None
        self.stderr_task: asyncio.Task[None] | None = None

    async def start_io(self, cmd: str, *args: str, stderr_path: Path,  # type: ignore[override]
                       echo_stderr: bool = True, **kwargs: Any) -> None:
        server = await asyncio.create_subprocess_exec(
            cmd, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, **kwargs)
        assert server.stdin is not None and server.stdout is not None
        assert server.stderr is not None
        self.protocol.set_writer(server.stdin)
        self._server = server
        self._async_tasks += [
            asyncio.create_task(run_async(
                stop_event=self._stop_event, reader=_TeeReader(server.stdout, self),
                protocol=self.protocol, logger=logger, error_handler=self.report_server_error)),
            asyncio.create_task(self._server_exit()),
        ]
        self.stderr_task = asyncio.create_task(
            _tee_stderr(server.stderr, stderr_path, echo_stderr))


def fix_code_action_union(converter: Any) -> None:
    """lsprotocol 2025.0.0 parses a CodeAction that carries a `command` as a Command."""

    def structure(obj: Any, _: Any) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], structure)  # noqa: UP007
