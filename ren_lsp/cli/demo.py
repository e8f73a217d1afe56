"""`ren-lsp demo`: ren-lsp end to end on the built-in emulator, with no key and no network.

Starts the emulator in-process and the language server as a subprocess, then drives the server
as an editor would over a sample workspace in a temporary folder: lists the code actions, runs
Explain (printing the progress and the answer as it streams in), runs Refactor (printing the
diff it applied), lets the agent fix a failing check (verified by running it) and undoes that,
and stops.
"""

from __future__ import annotations

import difflib
import sys
import tempfile
from pathlib import Path
from typing import Any

from ren_lsp.text import plural

SAMPLE = '''"""Invoices and their pagination."""


def paginate(items, cursor=None, size=50):
    start = 0 if cursor is None else cursor
    page = items[start:start + size]{trailing}
    next_cursor = start + size if start + size < len(items) else None


    return page, next_cursor


class Invoice:
    def __init__(self, lines):
        self.lines = lines

    def total(self):
        return sum(line.amount for line in self.lines)
'''.format(trailing="   ")  # trailing blanks and a double blank line: something to tidy


TAX = '''"""Tax rules, which the repository context brings along with billing.py."""

TAX_RATE = 0.2


def with_tax(amount):
    return round(amount * (1 + TAX_RATE), 2)
'''
# The agent's task: a failing check of tax.py (the rate must be 0.25), which it fixes.
CHECK = '''from tax import with_tax

assert with_tax(100) == 125, f"with_tax(100) is {with_tax(100)}, not 125"
print("check_tax: ok")
'''
AGENT_STEPS: list[dict[str, Any]] = [
    {"tool": "read_file", "input": {"path": "tax.py"}},
    {"tool": "edit_file", "input": {"path": "tax.py", "old_text": "TAX_RATE = 0.2",
                                    "new_text": "TAX_RATE = 0.25"}},
    {"text": "The rate was 0.2; the check wants 25% tax, so TAX_RATE is now 0.25."},
]
# A secret the context engine must never send: the demo shows it stays home.
ENV = "REN_API_KEY=sk-never-sent-0000\n"


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


class ProgressPrinter:
    """Prints a session's progress begin and end; counts the reports between them."""

    def __init__(self) -> None:
        self.reports = 0

    def __call__(self, token: str, value: dict[str, Any]) -> None:
        kind = value.get("kind")
        if kind == "begin":
            self.reports = 0
            print(f"  [progress] {value.get('title')}: {value.get('message', '')}", flush=True)
        elif kind == "report":
            self.reports += 1
        else:
            print(f"\n  [progress] {value.get('message')} (after {plural(self.reports, 'report')})",
                  flush=True)


async def run_demo() -> int:
    from lsprotocol import types

    from ren_lsp.cli.driver import Driver
    from ren_lsp.emulator import Emulator

    with tempfile.TemporaryDirectory(prefix="ren-lsp-demo-") as tmp:
        root = Path(tmp)
        path = root / "billing.py"
        path.write_text(SAMPLE)
        (root / "tax.py").write_text(TAX)
        (root / ".env").write_text(ENV)
        uri = path.as_uri()
        async with Emulator() as emu:
            say(f"The Ren API emulator is serving {emu.base_url} (canned replies, not AI)")
            editor = Driver()
            editor.on_progress = ProgressPrinter()
            # Output documents and history go to the temporary folder, not your state dir.
            await editor.start(root.as_uri(), env={
                "REN_BASE_URL": emu.base_url, "REN_API_KEY": "demo",
                "XDG_STATE_HOME": str(root / "state"), "XDG_CACHE_HOME": str(root / "cache"),
                "REN_CONFIG": str(root / "none.toml")})
            try:
                print(f"Language server started on the sample workspace {tmp}")
                await editor.indexed()
                editor.open(uri, SAMPLE, "python")
                selection = types.Range(start=types.Position(line=3, character=0),
                                        end=types.Position(line=10, character=0))
                actions = await editor.code_actions(uri, selection)
                say("Code actions on lines 4-10 of billing.py")
                for action in actions:
                    print(f"  - {action.title}  [{action.kind}]")
                by_title = {a.title: a.command for a in actions if a.command}

                say("Astra: Explain (the answer streams into an output document)")
                editor.on_append = lambda doc_uri, text: (
                    print(text, end="", flush=True) if doc_uri != uri else None)
                await editor.run(by_title["Astra: Explain"])
                print()

                say("Astra: Refactor (one edit of billing.py when the answer is complete)")
                editor.on_append = lambda doc_uri, text: None
                await editor.run(by_title["Astra: Refactor"])
                after = editor.documents[uri].source
                sys.stdout.writelines(difflib.unified_diff(
                    SAMPLE.splitlines(keepends=True), after.splitlines(keepends=True),
                    "a/billing.py", "b/billing.py"))

                say("Astra: Agent (a multi-step change, verified by running check_tax.py)")
                (root / "check_tax.py").write_text(CHECK)  # fails: the rate is 0.2
                emu.converse(AGENT_STEPS)  # the emulator plays an agent: read, edit, done
                editor.on_append = lambda doc_uri, text: (
                    print(text, end="", flush=True) if doc_uri.endswith(".md") else None)
                verify = f"{sys.executable} check_tax.py"
                ran = await editor.run(types.Command(
                    title="agent", command="ren.agent",
                    arguments=[{"task": "make check_tax.py pass", "verify": verify}]))
                verified = str(ran["ended"]).startswith("Verified")
                fixed = (root / "tax.py").read_text()

                say("ren.undo (puts back every file the agent changed)")
                editor.on_append = lambda doc_uri, text: None
                undone = await editor.run(types.Command(
                    title="undo", command="ren.undo", arguments=[{"session": ran["session"]}]))
                print(f"  {undone['ended']}")
                restored = (root / "tax.py").read_text() == TAX and fixed != TAX
                failed = [m.message for m in editor.messages
                          if m.type == types.MessageType.Error]
                if not (verified and restored):
                    failed.append(f"the agent run ended '{ran['ended']}', undo '{undone['ended']}'")
            finally:
                await editor.stop()
    if failed or after == SAMPLE:
        print("ren-lsp demo: " + ("; ".join(failed) or "the refactor changed nothing"),
              file=sys.stderr)
        return 1
    say("Done. Next: `ren-lsp doctor` with your REN_API_KEY, then set up your editor (README).")
    return 0
