"""editors/helix: the languages.toml a Helix user copies, and the server started exactly as it
says, with Helix 25.07.1's capabilities and its `config` table as initializationOptions (Helix
cannot be installed here; the editor harness behaves as it does, see shared/clients/README.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tomllib
from pathlib import Path
from typing import Any

from lsprotocol import types

from ren_lsp.emulator import Emulator
from ren_lsp.emulator.replies import EXPLAIN_HEADER
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.conftest import BILLING, StartEditor
from tests.e2e.editor import Editor
from tests.e2e.lsp_client import canonical_uri

ROOT = Path(__file__).resolve().parents[2]
HELIX = ROOT / "editors" / "helix"
VENV_BIN = Path(sys.executable).parent

#: Helix 25.07.1's default servers (its languages.toml) for the languages the file covers.
#: Python's changed in 25.07 (from ["pylsp"]); the others are the same from 24.07 to master.
HELIX_DEFAULTS = {
    "python": ["ty", "ruff", "jedi", "pylsp"],
    "rust": ["rust-analyzer"],
    "go": ["gopls", "golangci-lint-lsp"],
    "javascript": ["typescript-language-server"],
    "jsx": ["typescript-language-server"],
    "typescript": ["typescript-language-server"],
    "tsx": ["typescript-language-server"],
    "c": ["clangd"],
    "cpp": ["clangd"],
    "java": ["jdtls"],
    "lua": ["lua-language-server"],
    "bash": ["bash-language-server"],
}


def languages_toml() -> dict[str, Any]:
    return tomllib.loads((HELIX / "languages.toml").read_text(encoding="utf-8"))


def server_entry() -> dict[str, Any]:
    return languages_toml()["language-server"]["ren"]


def documented_commands() -> list[str]:
    """The `:lsp-workspace-command …` lines the Helix README tells users to type."""
    readme = (HELIX / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- helix-commands -->\n```\n(.*?)```", readme, re.S)
    assert block, "editors/helix/README.md lost its <!-- helix-commands --> block"
    return block[1].splitlines()


def parse_workspace_command(line: str) -> tuple[str, list[Any] | None]:
    """What Helix 25.07 sends for a typed `:lsp-workspace-command NAME REST`: the command, and
    REST read as whitespace-separated JSON values (serde_json's stream deserializer); no values
    means no `arguments` at all."""
    prefix = ":lsp-workspace-command "
    assert line.startswith(prefix), line
    name, _, rest = line[len(prefix):].strip().partition(" ")
    decoder, values, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(rest) and rest[at].isspace():
            at += 1
        if at == len(rest):
            break
        value, at = decoder.raw_decode(rest, at)
        values.append(value)
    return name, values or None


def resolved_command(entry: dict[str, Any]) -> list[str]:
    """`command` + `args` as Helix runs them: the command looked up on PATH (the venv's bin
    first, where `pip install` put the console script)."""
    path = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])
    found = shutil.which(entry["command"], path=path)
    assert found, f"{entry['command']} is not on PATH ({path})"
    return [found, *entry.get("args", [])]


# -- the file --------------------------------------------------------------------------------


def test_each_language_keeps_helix_defaults_and_adds_ren() -> None:
    languages = languages_toml()["language"]
    servers = {entry["name"]: entry["language-servers"] for entry in languages}
    assert len(servers) == len(languages), "a language is listed twice"
    assert servers == {name: [*defaults, "ren"] for name, defaults in HELIX_DEFAULTS.items()}
    # only the server list is overridden: Helix keeps every other default of the language
    assert all(set(entry) == {"name", "language-servers"} for entry in languages)


def test_the_server_entry_names_the_real_command_and_keeps_the_key_out() -> None:
    from ren_lsp import jsonschemas

    data = languages_toml()
    assert list(data["language-server"]) == ["ren"], "only our server is (re)defined"
    entry = server_entry()
    assert entry["command"] == "ren-lsp"  # the console script pyproject.toml installs
    assert "args" not in entry  # `ren-lsp` alone serves LSP on stdio
    assert isinstance(entry["timeout"], int) and 20 < entry["timeout"] <= 120
    config = entry["config"]
    assert config and not {"apiKey", "apiKeyCommand"} & set(config)
    jsonschemas.validator("settings.schema.json").validate(config)
    assert Path(resolved_command(entry)[0]).parent == VENV_BIN


def test_the_documented_workspace_commands_parse_as_helix_does() -> None:
    ask, cancel, pull_request = documented_commands()
    name, arguments = parse_workspace_command(ask)
    assert name == "ren.ask" and arguments == [
        {"question": "where is billing pagination handled?"}]
    assert parse_workspace_command(cancel) == ("ren.cancel", None)
    assert parse_workspace_command(pull_request) == ("ren.createPullRequest", [{"yes": True}])


def test_the_helix_config_toml_shows_progress_text() -> None:
    config = tomllib.loads((HELIX / "config.toml").read_text(encoding="utf-8"))
    assert config == {"editor": {"lsp": {"display-progress-messages": True,
                                         "display-messages": True}}}


# -- the server, started as the file says ----------------------------------------------------


async def helix(start_editor: StartEditor, emulator: Emulator, tmp_path: Path) -> Editor:
    entry = server_entry()
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                    PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]))
    return await start_editor("helix", command=resolved_command(entry),
                              init_options=entry["config"], env=env)


async def test_helix_code_actions_and_a_typed_workspace_command(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    editor = await helix(start_editor, emulator, tmp_path)
    assert editor.position_encoding == "utf-8"  # what Helix prefers
    uri = editor.open(workspace / "billing.py", BILLING, "python")

    # space a, on the selected invoice_total function, then picking Explain
    start = editor.range_of(uri, "def invoice_total").start
    end = editor.range_of(uri, "def paginate").start
    selection = types.Range(start=start, end=types.Position(line=end.line - 2, character=0))
    actions = await editor.code_actions(uri, selection)
    assert [a.title for a in actions] == ["Astra: Explain", "Astra: Refactor"]
    assert emulator.requests == []
    assert set(await editor.run_action(actions[0])) == {"session"}
    _, values = await editor.wait_for_progress_end()
    assert values[0].title == "Astra: Explain" and values[-1].message.startswith("Done")
    where = await editor.wait_for_message("Astra: Explain: the answer streams into")
    out = canonical_uri(Path(where.message.partition("streams into ")[2]).as_uri())
    assert EXPLAIN_HEADER in editor.text(out)  # Helix loaded it, filled by the appends

    # `:lsp-workspace-command ren.ask {"question": …}`, as the README says
    name, arguments = parse_workspace_command(documented_commands()[0])
    assert arguments is not None and len(arguments) == 1
    assert set(await editor.command(name, arguments[0])) == {"session"}
    _, values = await editor.wait_for_progress_end()
    assert values[0].title == "Astra: Ask" and values[-1].message.startswith("Done")
    where = await editor.wait_for_message("Astra: Ask: the answer streams into")
    out = canonical_uri(Path(where.message.partition("streams into ")[2]).as_uri())
    answer = await editor.wait_for_text(out, 'You asked: "where is billing pagination handled?"')
    assert answer.startswith("# Astra: Ask — where is billing pagination handled?")
    assert any(out in e.uris and e.applied for e in editor.applied_edits)

    assert editor.shown_documents == []  # not advertised by Helix 25.07.1: never asked
    # the config table arrived as initializationOptions (maxTokens) and nothing complained
    assert [r.body["max_tokens"] for r in emulator.requests] == [
        server_entry()["config"]["maxTokens"]] * 2
    assert not [m for m in editor.messages if "settings" in m.message]
    assert editor.leaks(TEST_KEY) == []


async def test_the_documented_cancel_with_nothing_running(
        start_editor: StartEditor, emulator: Emulator, tmp_path: Path) -> None:
    editor = await helix(start_editor, emulator, tmp_path)
    name, arguments = parse_workspace_command(documented_commands()[1])
    assert name == "ren.cancel" and arguments is None
    # exactly what Helix sends: no `arguments` at all (Editor.command would send [])
    assert await editor._execute(name, arguments) == {"cancelled": []}
