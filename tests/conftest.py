from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ren_lsp.emulator import Emulator

#: A key the tests use; every test that checks secrets searches for it.
TEST_KEY = "sk-ren-test-5f0c1a9e7d"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A Ren API emulator on a loopback port that accepts only TEST_KEY."""
    from ren_lsp.emulator import Emulator

    async with Emulator(api_key=TEST_KEY) as emu:
        yield emu
