"""`ren-lsp demo`: ren-lsp end to end on the built-in emulator, with no key and no network.

Starts the emulator in-process, writes a small sample workspace into a temporary folder, then
streams an explanation of a function (printed as it arrives) and a refactor (printed as the
diff it makes).
"""

from __future__ import annotations

import difflib
import sys
import tempfile
from pathlib import Path

from ren_lsp import prompts

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


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


async def run_demo() -> int:
    from ren_lsp.astra import AstraClient, AstraError, MessageRequest, TextDelta
    from ren_lsp.edits import extract_code
    from ren_lsp.emulator import Emulator

    with tempfile.TemporaryDirectory(prefix="ren-lsp-demo-") as tmp:
        path = Path(tmp) / "billing.py"
        path.write_text(SAMPLE)
        async with Emulator() as emu, AstraClient(base_url=emu.base_url,
                                                  api_key="demo") as client:
            say(f"The Ren API emulator is serving {emu.base_url} (canned replies, not AI)")
            print(f"Sample workspace: {tmp}")

            say("Explain `paginate` (streamed as it arrives)")
            code = "".join(SAMPLE.splitlines(keepends=True)[3:10])
            request = MessageRequest.ask(
                prompts.ask("Explain this code.", path="billing.py", code=code, first_line=4),
                system=prompts.SYSTEM)
            try:
                async with client.stream(request) as stream:
                    async for event in stream:
                        if isinstance(event, TextDelta):
                            print(event.text, end="", flush=True)
                print()

                say("Refactor `paginate` (the diff it makes)")
                request = MessageRequest.ask(
                    prompts.ask("Refactor this code: improve clarity, keep behaviour.",
                                path="billing.py", code=code, first_line=4),
                    system=prompts.SYSTEM)
                message = await client.create(request)
            except AstraError as exc:
                print(f"\nren-lsp: {exc}", file=sys.stderr)
                return 1
            new_code = extract_code(message.text, original=code)
            after = SAMPLE.replace(code, new_code)
            path.write_text(after)
            sys.stdout.writelines(difflib.unified_diff(
                SAMPLE.splitlines(keepends=True), after.splitlines(keepends=True),
                "a/billing.py", "b/billing.py"))
    say("Done. Next: `ren-lsp doctor` with your REN_API_KEY, then set up your editor (README).")
    return 0
