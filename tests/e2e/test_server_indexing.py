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

PARTIAL = re.compile(r"\((?:indexed \d+ of \d+ files so far|indexed \d+ files, the definitions "
                     r"of \d+ so far)\)")


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
