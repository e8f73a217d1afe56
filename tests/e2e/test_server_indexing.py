"""A large workspace through the real server: requests made while it is being indexed use what
is indexed so far, and say so in the output document."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ren_lsp.emulator import Emulator, Fault
from tests.e2e.conftest import StartEditor
from tests.e2e.test_server import ANSWER, output_text

#: enough files that the build takes seconds, in worker processes, on any machine
FILES = 12000

PARTIAL = re.compile(r"\(indexed \d+ of \d+ files so far\)")


def write_many(root: Path, count: int) -> None:
    for number in range(count):
        folder = root / "pkg" / f"part{number % 60}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"module{number}.py").write_text(
            f'"""Module {number}: ledgers and invoices."""\n\nimport os\n\n\n'
            f"class Ledger{number}:\n    def post_entry_{number}(self, amount):\n"
            f"        return os.fspath(str(amount)) * {number % 7}\n\n\n"
            f"def invoice_total_{number}(lines):\n    return sum(lines) + {number}\n",
            encoding="utf-8")


def indexing_reported(values: list[Any]) -> bool:
    return bool(values) and getattr(values[0], "title", None) == "Indexing workspace" and any(
        getattr(v, "kind", None) == "report" for v in values[1:])


async def test_a_request_during_a_large_build_says_how_much_was_indexed(
        start_editor: StartEditor, emulator: Emulator, workspace: Path) -> None:
    write_many(workspace, FILES)
    editor = await start_editor()
    # The build has begun and reported its first batch: the index is partial now.
    await editor.wait_until(lambda: next((t for t, v in editor.progress.items()
                                          if indexing_reported(v)), None), 60,
                            "the indexing progress to report")
    uri = editor.open(workspace / "billing.py", None, "python")
    emulator.script(Fault(text=ANSWER))
    await editor.command("ren.ask", {"question": "Where are invoice totals computed?",
                                     "uri": uri})
    await editor.wait_for_progress_end(timeout=60)
    _, output = output_text(editor)
    note = output.partition("> Context sent to Astra: ")[2].partition("\n")[0]
    assert PARTIAL.search(note), output[:600]
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert "invoice_total" in sent  # what was indexed so far is used
    # The build goes on to the end, in worker processes.
    _, values = await editor.wait_for_progress_end(title="Indexing workspace", timeout=110)
    assert re.match(r"\d+ files indexed, 0 from the cache \(\d worker process", values[-1].message)
    assert f"{FILES + 1}/{FILES + 1} files" in [getattr(v, "message", "") for v in values]


def test_an_exit_during_a_build_ends_its_worker_processes(workspace: Path,
                                                          tmp_path: Path) -> None:
    """The editor's ``exit`` ends the server at once: the build's worker processes, which no
    pool shutdown reaches then, end with it instead of living on as orphans (holding the
    server's stdout open, so the editor would never see it end)."""
    import contextlib
    import os
    import select
    import signal

    from tests.conftest import clean_env
    from tests.e2e.raw_stdio import DEADLINE, RawServer

    write_many(workspace, 3000)
    server = RawServer(clean_env(tmp_path), workspace, tmp_path / "stderr.txt")
    try:
        server.initialize(workspace)
        # The build reports its progress from the worker processes' results: they exist now.
        server.wait_for(lambda m: m.get("method") == "$/progress"
                        and m["params"]["value"].get("kind") == "report"
                        and "/" in m["params"]["value"].get("message", ""), "a build report")
        children = [int(pid) for task in Path(f"/proc/{server.proc.pid}/task").iterdir()
                    for pid in (task / "children").read_text().split()]
        assert children, "the build runs in worker processes"
        watched = [os.pidfd_open(pid) for pid in children]
        assert server.shutdown_and_exit() == 0
        try:
            # A pidfd becomes readable when its process ends: wait on that, for all of them.
            pending = set(watched)
            while pending:
                ready, _, _ = select.select(list(pending), [], [], DEADLINE)
                assert ready, f"worker processes still alive after exit: {children}"
                pending -= set(ready)
        finally:
            for fd in watched:
                os.close(fd)
            for pid in children:  # a failing run leaves none behind (they hold its stdout)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    finally:
        server.stop()
