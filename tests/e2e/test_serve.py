"""`ren-lsp` serves LSP on stdio: the real process, driven by pytest-lsp."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from ren_lsp import __version__


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "ren_lsp"]))
async def client(lsp_client: LanguageClient):
    yield


async def test_initialize_and_shutdown(client: LanguageClient) -> None:
    result = await client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        client_info=types.ClientInfo(name="pytest-lsp")))
    assert result.server_info is not None
    assert result.server_info.name == "ren-lsp"
    assert result.server_info.version == __version__
    await client.shutdown_session()


async def test_serves_over_tcp_too(tmp_path: Path) -> None:
    import asyncio
    import os
    import socket

    from pygls.lsp.client import LanguageClient

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ren_lsp", "--tcp", f"127.0.0.1:{port}",
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path)},
        stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stderr is not None
        client = LanguageClient("tcp-test", "1")
        # The server logs when it listens; connecting before that is refused, so wait for it.
        while b"Serving on" not in (line := await asyncio.wait_for(proc.stderr.readline(), 30)):
            assert line, "the server exited before listening"
        await client.start_tcp("127.0.0.1", port)
        result = await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities()))
        assert result.server_info is not None and result.server_info.name == "ren-lsp"
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
