"""Key-value secrets in config files, quoted or not, never go out: not with the file asked
about, not in the repository context."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ren_lsp.emulator import Emulator
from tests.e2e.conftest import StartEditor

#: (file, its text, the secret in it), one per config syntax
CONFIGS = [
    ("db.ini", "[db]\nhost = db.internal\npassword = ini-PWINI-123\n", "ini-PWINI-123"),
    ("deploy.yaml", "deploy:\n  region: eu\n  token: plain-TOKEN-xyz\n", "plain-TOKEN-xyz"),
    ("app.toml", '[api]\nurl = "https://api.example.com"\napi_key = "toml-KEY-7781"\n',
     "toml-KEY-7781"),
    ("app.properties", "db.user=app\ndb.password=prop-PW-9912\n", "prop-PW-9912"),
    ("settings.json", '{\n  "name": "shop",\n  "api_key": "json-KEY-4471"\n}\n', "json-KEY-4471"),
    ("docker-compose.yml", "services:\n  db:\n    environment:\n"
     "      - POSTGRES_PASSWORD=compose-PW-5150\n", "compose-PW-5150"),
    ("worker.cfg", "[worker]\nsecret_key = cfg-SECRET-6620 ; rotate yearly\n", "cfg-SECRET-6620"),
]
#: code that must go out as it is: it only looks like an assignment of a secret
CODE = '''def connect(settings):
    password = get_password()
    token = self.token
    api_key = settings.API_KEY
    secret = None
    return Client(password=password, token=token)
'''


@pytest.fixture
def configs(workspace: Path) -> Path:
    for name, text, _ in CONFIGS:
        (workspace / name).write_text(text)
    (workspace / "client.py").write_text(CODE)
    return workspace


@pytest.mark.parametrize(("name", "text", "secret"), CONFIGS, ids=[c[0] for c in CONFIGS])
async def test_asking_about_a_config_file_sends_its_secret_redacted(
        start_editor: StartEditor, emulator: Emulator, configs: Path, name: str, text: str,
        secret: str) -> None:
    editor = await start_editor()
    uri = editor.open(configs / name, text)
    await editor.command("ren.ask", {"question": "What does this configure?", "uri": uri})
    await editor.wait_for_progress_end()
    body = json.dumps(emulator.requests[0].body, ensure_ascii=False)
    assert secret not in body
    assert "<redacted:assignment:1>" in body
    assert text.splitlines()[0] in body  # the rest of the file went as it is


async def test_the_repository_context_holds_no_config_secret_and_keeps_the_code(
        start_editor: StartEditor, emulator: Emulator, configs: Path) -> None:
    editor = await start_editor()
    await editor.wait_for_progress_end(title="Indexing workspace")
    question = ("Where are the db password, the deploy token, the api key, POSTGRES_PASSWORD "
                "and the worker secret_key set, and how does connect use them?")
    await editor.command("ren.ask", {"question": question})
    await editor.wait_for_progress_end()
    body = emulator.requests[0].body["messages"][0]["content"]
    assert "<redacted:" in body
    for _, _, secret in CONFIGS:
        assert secret not in body
    assert "password = get_password()" in body and "token = self.token" in body
    assert "api_key = settings.API_KEY" in body
