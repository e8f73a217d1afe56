"""What the server writes (history, output documents, checkpoints, state, the log, the index
cache) holds code and answers: only its user can read it, 0600 files in 0700 folders, even
where an older version left them open to everyone."""

from __future__ import annotations

import stat
from pathlib import Path

from ren_lsp.emulator import Emulator
from tests.conftest import TEST_KEY, clean_env
from tests.e2e.conftest import StartEditor
from tests.e2e.editor import Editor
from tests.e2e.test_agent import FIX_EDIT
from tests.e2e.test_secrets import history
from tests.e2e.test_server import arg, function_range, open_billing


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def a_day_of_work(editor: Editor, emulator: Emulator, workspace: Path,
                        tmp_path: Path, sessions: int = 3) -> None:
    """Explain, Refactor and an agent run that edits a file: every kind of file gets written."""
    await editor.wait_for_progress_end(title="Indexing workspace")
    uri = await open_billing(editor, workspace)
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    await editor.wait_for_progress_end()
    await editor.command("ren.refactor", arg(uri, function_range(editor, uri)))
    await editor.wait_for_progress_end()
    (workspace / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    emulator.converse([FIX_EDIT, {"text": "Fixed."}])
    await editor.command("ren.agent", {"task": "fix add"})
    await editor.wait_for_progress_end(title="Astra: Agent", timeout=30)
    await history(editor, tmp_path, sessions)


def written(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    """The server's files under its state and cache folders, and the folders that matter:
    every one under the state folder, and each holding a file."""
    state = [tmp_path / "state/ren-lsp", *(tmp_path / "state/ren-lsp").rglob("*")]
    files = [p for p in (*state, *(tmp_path / "cache/ren-lsp").rglob("*")) if p.is_file()]
    return files, sorted({p for p in state if p.is_dir()} | {p.parent for p in files})


def open_to_others(paths: list[Path]) -> list[str]:
    return [f"{p} {oct(mode(p))}" for p in paths if mode(p) & 0o077]


async def test_everything_the_server_writes_is_its_users_only(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    editor = await start_editor()
    await a_day_of_work(editor, emulator, workspace, tmp_path)
    await editor.stop()
    files, folders = written(tmp_path)
    kinds = {p.name if p.name == "history.jsonl" else f"{p.parent.name}/*{p.suffix}"
             for p in files}
    assert {"history.jsonl", "sessions/*.md", "checkpoints/*.json", "context/*.index"} <= kinds
    assert open_to_others(files) == [] and all(mode(p) == 0o600 for p in files)
    assert open_to_others(folders) == [] and all(mode(p) == 0o700 for p in folders)
    assert mode(tmp_path / "editor-1.server.log") == 0o600
    assert mode(tmp_path / "cache/ren-lsp") == 0o700  # created by the index's cache


async def test_folders_and_files_an_older_version_left_open_are_tightened(
        start_editor: StartEditor, emulator: Emulator, workspace: Path, tmp_path: Path) -> None:
    state = tmp_path / "state" / "ren-lsp"
    (state / "sessions").mkdir(parents=True)
    (state / "checkpoints").mkdir()
    for folder in (state, state / "sessions", state / "checkpoints"):
        folder.chmod(0o755)
    old_history = state / "history.jsonl"
    old_history.write_text('{"session": "old"}\n')
    old_history.chmod(0o644)
    logs = tmp_path / "logs"  # a folder the user named keeps its mode; the file does not
    logs.mkdir(mode=0o755)
    logs.chmod(0o755)
    log = logs / "ren.log"
    log.write_text("an older log\n")
    log.chmod(0o644)
    env = clean_env(tmp_path, REN_BASE_URL=emulator.base_url, REN_API_KEY=TEST_KEY)
    editor = await start_editor(env=env, server_args=["--log-file", str(log)])
    await a_day_of_work(editor, emulator, workspace, tmp_path, sessions=4)
    files, folders = written(tmp_path)
    assert old_history.read_text().startswith('{"session": "old"}\n')  # kept, and closed
    assert open_to_others(files) == []
    assert open_to_others(folders) == []
    assert mode(log) == 0o600 and log.read_text().startswith("an older log\n")
    assert mode(logs) == 0o755
