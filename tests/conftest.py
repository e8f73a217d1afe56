from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ren_lsp.emulator import Emulator

#: fixtures shared beyond one folder: the local forge of the pull request tests
pytest_plugins = ["tests.e2e.pr_support"]

#: A key the tests use; every test that checks secrets searches for it.
TEST_KEY = "sk-ren-test-5f0c1a9e7d"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A Ren API emulator on a loopback port that accepts only TEST_KEY."""
    from ren_lsp.emulator import Emulator

    async with Emulator(api_key=TEST_KEY) as emu:
        yield emu


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a user with no key, no config file and no proxy, plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("REN_") and "PROXY" not in k.upper()}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.update(extra)
    return env
