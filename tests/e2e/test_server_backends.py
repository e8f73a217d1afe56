"""Every model backend through the real server and the real `ren-lsp ask`: chosen by the
provider setting, spoken to in its own dialect over loopback, with the same answer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ren_lsp.emulator import Emulator, Fault
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.conftest import StartEditor
from tests.e2e.test_cli import run
from tests.e2e.test_server import ANSWER, arg, body_of, function_range, open_billing, output_text

#: provider -> the environment a user of it sets (the Ren key is set too: it must not be sent)
USERS = {
    "ren": {"REN_API_KEY": TEST_KEY},
    "anthropic": {"ANTHROPIC_API_KEY": TEST_KEY, "REN_API_KEY": "sk-ren-never-sent"},
    "openai": {"OPENAI_API_KEY": TEST_KEY, "REN_API_KEY": "sk-ren-never-sent"},
    "ollama": {"REN_API_KEY": "sk-ren-never-sent"},
}


def user_env(tmp_path: Path, emulator: Emulator, provider: str) -> dict[str, str]:
    return clean_env(tmp_path, REN_PROVIDER=provider, REN_BASE_URL=emulator.base_url,
                     REN_MODEL="astra", **USERS[provider])


@pytest.mark.parametrize("provider", list(USERS))
async def test_explain_streams_the_same_answer_from_every_backend(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path,
        provider: str) -> None:
    editor = await start_editor(env=user_env(tmp_path, emulator, provider))
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=ANSWER))
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Done")
    assert body_of(output_text(editor)[1]) == ANSWER
    (request,) = emulator.requests
    assert request.dialect == provider and request.completed
    assert editor.leaks(TEST_KEY) == [] and editor.leaks("sk-ren-never-sent") == []
    # The emulator accepts only TEST_KEY: a completed request carried the provider's own key,
    # never the Ren key beside it (and Ollama none at all).
    auth = {k for k in request.headers if k in ("authorization", "x-api-key")}
    assert auth == {"ren": {"authorization"}, "anthropic": {"x-api-key"},
                    "openai": {"authorization"}, "ollama": set()}[provider]


@pytest.mark.parametrize("provider", list(USERS))
async def test_a_backend_failure_names_the_backend(start_editor: StartEditor,
                                                   emulator: Emulator, workspace: Path,
                                                   tmp_path: Path, provider: str) -> None:
    editor = await start_editor(env=user_env(tmp_path, emulator, provider),
                                init_options={"maxRetries": 0})
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(status=500))
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    error = await editor.wait_for_message(lambda m: "failed" in m.message)
    service = {"ren": "Ren API", "anthropic": "Anthropic", "openai": "OpenAI-compatible",
               "ollama": "Ollama"}[provider]
    assert service in error.message and "internal error" in error.message


@pytest.mark.parametrize("provider", list(USERS))
async def test_ren_lsp_ask_streams_the_same_answer_from_every_backend(
        tmp_path: Path, emulator: Emulator, provider: str) -> None:
    emulator.script(Fault(text=ANSWER))
    code, out, err = await run("ask", "what does billing do?",
                               env=user_env(tmp_path, emulator, provider))
    assert (code, err) == (0, "")
    assert out == ANSWER
    assert emulator.requests[0].dialect == provider


async def test_a_server_built_with_a_model_factory_uses_it(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    # The settings point at the Ren API with no key; the factory's client is what answers.
    env = clean_env(tmp_path, FACTORY_KEY=TEST_KEY)
    script = Path(__file__).with_name("factory_server.py")
    editor = await start_editor(env=env, command=[sys.executable, str(script),
                                                  emulator.base_url])
    uri = await open_billing(editor, workspace)
    emulator.script(Fault(text=ANSWER))
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Done")
    assert body_of(output_text(editor)[1]) == ANSWER
    assert [r.dialect for r in emulator.requests] == ["openai"]
