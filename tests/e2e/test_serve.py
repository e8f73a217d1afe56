"""`ren-lsp` serves LSP on stdio: the real process, driven by pytest-lsp."""

from __future__ import annotations

import sys

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
