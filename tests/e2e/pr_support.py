"""What the pull request tests share: the local forge, the user's clone, the editor on it.

The server runs as the user would run it, with one difference: `git` on its PATH is a shim
that appends each argv to a file before running the real git, so a test can prove the token
never was on a command line.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from ren_lsp.emulator import Emulator
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.conftest import BILLING, StartEditor
from tests.e2e.editor import Editor
from tests.e2e.forge import LocalForge, git

#: the forge token; nothing in it looks like a known token format, so only our own care
#: (not the secret patterns' luck) keeps it out of logs and files
TOKEN = "forge-pat-7c1e9a2b5d3f"
COMMIT_ANSWER = ("Here is a commit message for your change:\n\n```\nAdd an invoice formatter\n\n"
                 "format_total renders a total with the shop's currency.\n```\n")
PR_ANSWER = ("Add an invoice formatter\n\n## What\n\nA `format_total` helper for invoices.\n\n"
             "## Checklist\n\n- [x] Tests added\n")
TEMPLATE = "## What\n\n<!-- what changes -->\n\n## Checklist\n\n- [ ] Tests added\n"
FORMATTER = "\n\ndef format_total(total):\n    return f\"{total:.2f} EUR\"\n"


@attrs.define
class Setup:
    forge: LocalForge
    repo: Path
    argv_log: Path
    tmp_path: Path

    def env(self, emulator: Emulator, **extra: str) -> dict[str, str]:
        env = clean_env(self.tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY,
                        GH_TOKEN=TOKEN, GIT_CONFIG_NOSYSTEM="1",
                        GIT_ARGV_LOG=str(self.argv_log))
        env["PATH"] = f"{self.argv_log.parent}:{env['PATH']}"
        env.update(extra)
        return env

    def change_files(self) -> dict[Path, str]:
        """What the user changed before asking: billing.py edited, a new file, a secret
        file; the digests of every working file."""
        billing = self.repo / "billing.py"
        billing.write_text(BILLING + FORMATTER, encoding="utf-8")
        (self.repo / "invoice_test.py").write_text("def test_total():\n    pass\n",
                                                   encoding="utf-8")
        (self.repo / ".env").write_text("SHOP_SECRET=hunter2-do-not-send\n", encoding="utf-8")
        return self.digests()

    def digests(self) -> dict[Path, str]:
        return {p: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in self.repo.rglob("*") if p.is_file() and ".git" not in p.parts}

    def branch(self) -> str:
        return git("symbolic-ref", "--short", "HEAD", cwd=self.repo).strip()

    def argv(self) -> str:
        return self.argv_log.read_text(encoding="utf-8") if self.argv_log.exists() else ""


def git_shim(tmp_path: Path) -> Path:
    """The argv log of a `git` shim in tmp_path/shim (put on the server's PATH by `env`)."""
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    real_git = shutil.which("git")
    assert real_git is not None
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "$GIT_ARGV_LOG"\nexec {real_git} "$@"\n',
                    encoding="utf-8")
    shim.chmod(0o755)
    return shim_dir / "argv.log"


def seed_shop(forge: LocalForge, tmp_path: Path) -> None:
    """acme/shop: billing.py and a pull request template on main, `release` and `develop`."""
    forge.seed(tmp_path / "seed", {"billing.py": BILLING, "README.md": "# Shop\n",
                                   ".github/pull_request_template.md": TEMPLATE},
               branches=("release", "develop"))


@pytest.fixture
async def forge_repo(tmp_path: Path) -> AsyncIterator[Setup]:
    """A forge with acme/shop (billing.py and a pull request template on main, a `release`
    branch), and the user's clone of it."""
    argv_log = git_shim(tmp_path)
    async with LocalForge(tmp_path, token=TOKEN) as forge:
        seed_shop(forge, tmp_path)
        repo = forge.clone(tmp_path / "shop")
        yield Setup(forge, repo, argv_log, tmp_path)


async def start(start_editor: StartEditor, setup: Setup, emulator: Emulator,
                profile: str = "vscode", **env: str) -> Editor:
    return await start_editor(profile, env=setup.env(emulator, **env), workspace=setup.repo)


async def run_pr(editor: Editor, arg: dict[str, object] | None = None,
                 timeout: float = 30) -> str:  # noqa: ASYNC109
    """Run the command; the session's last word (its progress end, or its last message on a
    client without progress)."""
    result = await editor.command("ren.createPullRequest", arg if arg is not None else {})
    assert set(result) == {"session"}
    if editor.profile == "bare":
        prefix = "Astra: Create pull request: "
        ends = tuple(prefix + word for word in ("Opened", "Already open", "Failed", "Cancelled",
                                                 "Preview ready"))
        message = await editor.wait_for_message(lambda m: m.message.startswith(ends), timeout)
        return message.message.removeprefix(prefix)
    _token, values = await editor.wait_for_progress_end(timeout=timeout)
    return str(values[-1].message)


def secrets_absent(editor: Editor, setup: Setup) -> None:
    """The token is nowhere: LSP traffic, logs, files under tmp_path (history, the server's
    log, the preview), the repository's config and git's argv."""
    assert editor.leaks(TOKEN) == []
    assert TOKEN not in (setup.repo / ".git" / "config").read_text(encoding="utf-8")
    assert TOKEN not in setup.argv()
    for path in (setup.tmp_path / "state").rglob("*"):
        if path.is_file():
            assert TOKEN not in path.read_text(encoding="utf-8", errors="replace"), path


@pytest.fixture
async def fork_forge(tmp_path: Path) -> AsyncIterator[LocalForge]:
    """acme/shop seeded, and dana/shop forked from it (no clone yet: each test makes the one
    its story needs)."""
    async with LocalForge(tmp_path, token=TOKEN) as forge:
        seed_shop(forge, tmp_path)
        forge.fork("dana")
        yield forge
