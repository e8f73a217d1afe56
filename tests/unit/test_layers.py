"""The layout's rules, checked on the source: imports only point down (README "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ren_lsp"
BACKENDS = {"ren_lsp.models." + m for m in
            ("ren", "anthropic", "openai", "ollama", "messages", "client", "rules", "framing",
             "backend")}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("lsp/features"), ids=lambda p: p.name)
def test_features_speak_to_models_through_the_neutral_interface(path: Path) -> None:
    found = imports(path)
    assert not {m for m in found if m == "httpx" or m.startswith("httpx.")}, path
    assert not found & BACKENDS, f"{path} imports a backend: {found & BACKENDS}"
    assert "ren_lsp.lsp.server" not in found and "ren_lsp.lsp.language_server" not in found


@pytest.mark.parametrize("folder", ["models", "context", "emulator"])
def test_lower_layers_know_nothing_of_lsp_or_the_command_line(folder: str) -> None:
    for path in modules(folder):
        found = imports(path)
        wrong = {m for m in found if m.startswith(("ren_lsp.lsp", "ren_lsp.cli", "pygls"))}
        assert not wrong, f"{path} imports {wrong}"


def test_only_the_command_line_builds_the_server() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.is_relative_to(PACKAGE / "cli") or path.name in ("server.py",
                                                                  "language_server.py"):
            continue
        assert "ren_lsp.lsp.server" not in imports(path), path
