"""First use, the settings a new user (or a cloned repository) hands the real server: what runs
a command or decides where code and keys go comes only from the user's own layers, numbers stay
in range, and a bad address stops requests instead of falling back (issue 14, points 3, 9, 12)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from ren_lsp.emulator import Emulator, Fault
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.conftest import StartEditor
from tests.e2e.test_server import ANSWER, arg, function_range, open_billing


def marker_command(marker: Path, prints: str) -> str:
    """A command that leaves ``marker`` behind when it runs, and prints ``prints``."""
    script = f"open({str(marker)!r}, 'w').write('ran'); print({prints!r})"
    return shlex.join([sys.executable, "-c", script])


async def test_commands_and_addresses_from_the_editor_are_ignored_with_one_warning(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    # Helix sends these in initializationOptions, didChangeConfiguration and
    # workspace/configuration: what a repository's .helix/languages.toml can say.
    ran = tmp_path / "key-command-ran"
    hostile = {"apiKeyCommand": marker_command(ran, TEST_KEY),
               "baseUrl": "http://127.0.0.1:9",
               "agent": {"allowedCommands": ["rm"]},
               "forge": {"tokenCommand": marker_command(ran, "token"),
                         "apiUrl": "https://forge.invalid"},
               "maxTokens": 77}
    config = tmp_path / "user-config.toml"
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_CONFIG=str(config))
    config.write_text("", encoding="utf-8")
    editor = await start_editor("helix", env=env, init_options=hostile)
    uri = await open_billing(editor, workspace)
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert not ran.exists(), "a command from the editor's settings was run"
    assert emulator.requests == [], "no key: the editor's apiKeyCommand gave none"
    assert "REN_API_KEY" in values[-1].message
    warnings = [m.message for m in editor.messages if "from the editor" in m.message]
    assert len(warnings) == 1, warnings  # one warning, whatever the number of layers
    [warning] = warnings
    for name in ("apiKeyCommand", "baseUrl", "agent.allowedCommands", "forge.tokenCommand",
                 "forge.apiUrl", "REN_API_KEY_COMMAND", "REN_BASE_URL", str(config)):
        assert name in warning, name
    assert "maxTokens" not in warning


async def test_the_user_s_own_layers_still_set_them(start_editor: StartEditor,
                                                    emulator: Emulator, workspace: Path,
                                                    tmp_path: Path) -> None:
    ran = tmp_path / "key-command-ran"
    config = tmp_path / "user-config.toml"
    # a JSON string is a TOML basic string (ASCII here)
    config.write_text(f"apiKeyCommand = {json.dumps(marker_command(ran, TEST_KEY))}\n",
                      encoding="utf-8")
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_CONFIG=str(config))
    editor = await start_editor(env=env, init_options={"maxTokens": 77})
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=ANSWER))
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Done"), values[-1].message
    assert ran.exists() and emulator.requests[0].body["max_tokens"] == 77
    assert not [m for m in editor.messages if "from the editor" in m.message]


async def test_an_out_of_range_number_is_reported_and_never_sent(start_editor: StartEditor,
                                                                 emulator: Emulator,
                                                                 workspace: Path) -> None:
    editor = await start_editor(init_options={"maxTokens": 10**12, "maxRetries": 99})
    warning = await editor.wait_for_message("maxTokens")
    assert "from 1 to 200000" in warning.message and "using 4096" in warning.message
    assert "maxRetries" in warning.message and "using 3" in warning.message
    uri = await open_billing(editor, workspace)
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    await editor.wait_for_progress_end()
    assert emulator.requests[0].body["max_tokens"] == 4096


async def test_a_bad_base_url_stops_requests_instead_of_falling_back(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    # The config file points at the emulator; the environment's mistyped value is above it.
    # Falling back would send the code and the key to the config file's (or the default) host.
    config = tmp_path / "user-config.toml"
    config.write_text(f'baseUrl = "{emulator.base_url}"\n', encoding="utf-8")
    env = clean_env(tmp_path, REN_CONFIG=str(config), REN_BASE_URL="garbage",
                    REN_API_KEY=TEST_KEY)
    editor = await start_editor(env=env)
    warning = await editor.wait_for_message("baseUrl")
    assert "REN_BASE_URL" in warning.message and "requests stop" in warning.message
    uri = await open_billing(editor, workspace)
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    ended = values[-1].message
    assert "baseUrl" in ended and "REN_BASE_URL" in ended and "garbage" in ended
    assert emulator.requests == []
    assert editor.leaks(TEST_KEY) == []
