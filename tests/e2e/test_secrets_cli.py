"""`ren-lsp ask` from a terminal keeps secrets as the server does: a file of secrets is refused,
and secrets in the file, its lines or the question go out redacted."""

from __future__ import annotations

import json
from pathlib import Path

from ren_lsp.emulator import Emulator
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.test_cli import run
from tests.e2e.test_secrets import GITHUB_TOKEN, PASSWORD, SOURCE, leaked


async def test_ask_about_a_file_sends_its_secrets_redacted(tmp_path: Path,
                                                          emulator: Emulator) -> None:
    (tmp_path / "billing.py").write_text(SOURCE)
    (tmp_path / "db.ini").write_text("[db]\npassword = ini-PWINI-123\n")
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    for args in (["--file", str(tmp_path / "billing.py")],
                 ["--file", str(tmp_path / "db.ini")]):
        code, _, err = await run("ask", f"why is {GITHUB_TOKEN} refused?", *args, env=env)
        assert code == 0, err
    sent = "\n".join(json.dumps(r.body) for r in emulator.requests)
    assert len(emulator.requests) == 2
    assert leaked(sent) == [] and "ini-PWINI-123" not in sent
    assert "def invoice_total" in sent and "<redacted:" in sent


async def test_ask_about_a_file_of_secrets_is_refused(tmp_path: Path,
                                                      emulator: Emulator) -> None:
    (tmp_path / ".env").write_text(f"DB_PASSWORD={PASSWORD}\n")
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    code, out, err = await run("ask", "what is this?", "--file", str(tmp_path / ".env"), env=env)
    assert code == 2 and out == ""
    assert ".env looks like a file of secrets" in err
    assert emulator.requests == []


KEY_LINES = [f"{'ABCDEFGHabcdefgh0123456789+/'[i % 28] * 8}{i:04d}Zq9Xw2Lm7Pk3Rt8Vn5Bc1Hd6Jf4Gs0"
             for i in range(12)]
KEY_FILE = ('KEY = """-----BEGIN RSA PRIVATE KEY-----\n' + "\n".join(KEY_LINES)
            + '\n-----END RSA PRIVATE KEY-----"""\n\n\ndef sign(data):\n    return data\n')


async def test_lines_that_cut_a_key_block_send_none_of_it(tmp_path: Path,
                                                          emulator: Emulator) -> None:
    (tmp_path / "signing.py").write_text(KEY_FILE)
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    # Lines 3-8 are inside the key: no BEGIN line for a pattern to recognise them by.
    code, _, err = await run("ask", "what is this?", "--file", str(tmp_path / "signing.py"),
                             "--lines", "3-8", env=env)
    assert code == 0, err
    sent = "\n".join(json.dumps(r.body) for r in emulator.requests)
    assert len(emulator.requests) == 1 and "<redacted:" in sent
    assert [line for line in KEY_LINES if line in sent] == []


async def test_ask_honours_the_secret_files_setting(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / "prod.secrets.yaml").write_text("db: main\n")
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                    REN_SECRET_FILES=json.dumps(["*.secrets.yaml"]))
    code, out, err = await run("ask", "what is this?", "--file",
                               str(tmp_path / "prod.secrets.yaml"), env=env)
    assert code == 2 and out == "" and "looks like a file of secrets" in err
    assert emulator.requests == []
