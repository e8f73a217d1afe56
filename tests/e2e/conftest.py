"""Fixtures for end-to-end tests: a sample workspace and editors driving the real server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import TEST_KEY, clean_env
from tests.e2e.editor import Editor

if TYPE_CHECKING:
    from ren_lsp.emulator import Emulator

#: The sample file: two functions, a non-ASCII string literal (é is one UTF-16 unit and two
#: UTF-8 bytes, ☕ one unit and three bytes), an astral emoji in the docstring (two UTF-16
#: units, four bytes) and a TODO for Generate.
BILLING = '''"""Billing helpers for the café 🧾."""

SHOP_NAME = "Café ☕"


def invoice_total(lines, tax_rate=0.2):
    """The total of an invoice: (price, quantity) pairs, tax included."""
    subtotal = sum(price * quantity for price, quantity in lines)
    return round(subtotal * (1 + tax_rate), 2)


def paginate(items, cursor=None, size=50):
    start = 0 if cursor is None else cursor
    return items[start:start + size], start + size


# TODO: write a function that formats an invoice total
'''

StartEditor = Callable[..., Awaitable[Editor]]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace folder holding `billing.py` (`BILLING`)."""
    root = tmp_path / "workspace"
    root.mkdir()
    (root / "billing.py").write_text(BILLING, encoding="utf-8")
    return root


@pytest.fixture
async def start_editor(emulator: Emulator, workspace: Path,
                       tmp_path: Path) -> AsyncIterator[StartEditor]:
    """`await start_editor(profile="vscode", **kw)`: an `Editor` on `python -m ren_lsp`.

    Defaults: the `workspace` fixture, `tmp_path`, and a clean environment pointing at the
    emulator with TEST_KEY; any `Editor.start` keyword overrides them. Every editor started is
    stopped at teardown, which then fails if a strict editor saw violations or a non-zero exit.
    """
    editors: list[Editor] = []

    async def start(profile: str = "vscode", **kw: Any) -> Editor:
        if "env" not in kw:
            kw["env"] = clean_env(tmp_path, REN_BASE_URL=emulator.base_url,
                                  REN_API_KEY=TEST_KEY)
        kw.setdefault("tmp_path", tmp_path)
        kw.setdefault("workspace", workspace)
        editor = await Editor.start(profile, **kw)
        editors.append(editor)
        return editor

    yield start

    problems = []
    for editor in editors:
        code = await editor.stop()
        if editor.strict and (editor.violations or code != 0):
            problems.append(f"{editor.profile} editor: exit code {code}, violations:\n"
                            + "\n".join(f"  - {v}" for v in editor.violations))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
